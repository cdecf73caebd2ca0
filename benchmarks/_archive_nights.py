"""The six-year synthetic archive of ``bench_archive.py``: real night lengths, as image files.

A *night* of a UT date is every time of that date, on the camera's cadence, at which the
Sun's centre is lower than ``max_sun_elevation`` (-10 degrees, the threshold of
:func:`aurora_xr.usable_frames`) at the station, computed with :func:`aurora_xr.sun_elevation`
(astropy). At Jang Bogo (74.62 S) that gives no frame from early November to early February,
about 24 hours less the midday twilight in June, and everything between: the station's real
dark hours, date by date.

The archive samples ``nights_per_month`` dates of every month (evenly spaced days) from
``first_year`` to ``last_year`` and writes each night with
:func:`aurora_xr.write_synthetic_archive` (one call per unbroken run of dark times, the night's
own seed) into its own folder ``DEST/YYYY/YYYY-MM-DD/``, so that nights are written in
parallel without sharing a file, and subsets of the archive (a year, the first nights) are
folders.
"""

from __future__ import annotations

import calendar
import itertools
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

import aurora_xr

STATION = "JBS"
MAX_SUN_ELEVATION = -10.0
PLAN_FILE = "archive_plan.json"


@dataclass(frozen=True)
class Night:
    """One sampled night: its UT date, seed and frame times (datetime64[ns], sorted)."""

    day: np.datetime64
    seed: int
    times: NDArray[np.datetime64]

    @property
    def folder(self) -> str:
        """Folder of the night, relative to the archive root (``YYYY/YYYY-MM-DD``)."""
        text = str(self.day)
        return f"{text[:4]}/{text}"


def sample_days(first_year: int, last_year: int, nights_per_month: int) -> list[np.datetime64]:
    """``nights_per_month`` evenly spaced UT dates in every month of the years.

    Night ``k`` of a month of ``n`` days falls on day ``1 + floor((k + 0.5) * n / nights)``.
    """
    if nights_per_month < 1 or last_year < first_year:
        raise ValueError(f"bad sampling: {first_year}-{last_year}, {nights_per_month} per month")
    days = []
    for year in range(first_year, last_year + 1):
        for month in range(1, 13):
            n = calendar.monthrange(year, month)[1]
            for k in range(nights_per_month):
                day = 1 + int((k + 0.5) * n / nights_per_month)
                days.append(np.datetime64(f"{year:04d}-{month:02d}-{day:02d}"))
    return days


def dark_times(
    day: Any,
    *,
    cadence_s: int = 60,
    station: str = STATION,
    max_sun_elevation: float = MAX_SUN_ELEVATION,
) -> NDArray[np.datetime64]:
    """Times of a UT date, every ``cadence_s`` seconds from 00:00, with the Sun below the limit.

    Returns datetime64[ns], sorted; empty when the Sun never sets that far (polar day).
    """
    stn = aurora_xr.get_station(station)
    start = np.datetime64(day, "D").astype("datetime64[ns]")
    steps = np.arange(0, 86400, int(cadence_s), dtype=np.int64)
    grid = start + steps.astype("timedelta64[s]").astype("timedelta64[ns]")
    sun = aurora_xr.sun_elevation(grid, stn.latitude, stn.longitude, altitude_m=stn.altitude_m)
    return grid[sun < max_sun_elevation]


def plan_archive(
    first_year: int = 2018,
    last_year: int = 2023,
    *,
    nights_per_month: int = 4,
    cadence_s: int = 60,
    station: str = STATION,
    first_seed: int = 10_000,
) -> list[Night]:
    """The nights of the archive that have frames (polar-day dates are left out)."""
    nights = []
    for k, day in enumerate(sample_days(first_year, last_year, nights_per_month)):
        times = dark_times(day, cadence_s=cadence_s, station=station)
        if times.size:
            nights.append(Night(day, first_seed + k, times))
    return nights


def spells(times: NDArray[np.datetime64], cadence_s: int) -> list[tuple[np.datetime64, int]]:
    """Unbroken runs of ``times`` one cadence apart: (first time, number of frames) each."""
    if times.size == 0:
        return []
    step = np.timedelta64(int(cadence_s), "s")
    breaks = np.flatnonzero(np.diff(times) != step) + 1
    edges = [0, *breaks.tolist(), int(times.size)]
    return [(times[a], b - a) for a, b in itertools.pairwise(edges)]


def write_night(dest: str, night: Night, size: int, cadence_s: int) -> int:
    """Write one night's frames (PNG, no masks) under ``dest/night.folder``; return the count."""
    root = Path(dest) / night.folder
    written = 0
    for start, count in spells(night.times, cadence_s):
        written += len(
            aurora_xr.write_synthetic_archive(
                root,
                start=start,
                n_frames=count,
                cadence=f"{cadence_s}s",
                size=size,
                seed=night.seed,
                station=STATION,
                masks=False,
            )
        )
    (root / "done").write_text(f"{written}\n")
    return written


def _plan_record(nights: Sequence[Night], size: int, cadence_s: int) -> dict[str, Any]:
    return {
        "station": STATION,
        "size": size,
        "cadence_s": cadence_s,
        "nights": [[str(n.day), n.seed, int(n.times.size)] for n in nights],
    }


def write_archive(
    dest: Path,
    nights: Sequence[Night],
    *,
    size: int,
    cadence_s: int,
    processes: int = 2,
    log: Callable[[str], Any] = print,
) -> dict[str, Any]:
    """Write (or complete) the archive at ``dest``; reuse it when its plan is the same.

    Returns the figures of the writing: frames, nights, seconds, reused or not.
    """
    record = _plan_record(nights, size, cadence_s)
    plan_path = dest / PLAN_FILE
    if plan_path.exists() and json.loads(plan_path.read_text()) != record:
        log(f"archive at {dest} was made with another plan: written again")
        shutil.rmtree(dest)
    dest.mkdir(parents=True, exist_ok=True)
    plan_path.write_text(json.dumps(record))
    todo = [n for n in nights if not (dest / n.folder / "done").exists()]
    for night in todo:  # a night interrupted half-way is written again from scratch
        shutil.rmtree(dest / night.folder, ignore_errors=True)
    start = time.perf_counter()
    if todo:
        log(f"writing {len(todo)} of {len(nights)} nights ({processes} processes) ...")
        with ProcessPoolExecutor(processes, mp_context=get_context("spawn")) as pool:
            jobs = [pool.submit(write_night, str(dest), n, size, cadence_s) for n in todo]
            for job in jobs:
                job.result()
    frames = int(sum(n.times.size for n in nights))
    return {
        "frames": frames,
        "nights": len(nights),
        "nights_written": len(todo),
        "write_s": round(time.perf_counter() - start, 1),
    }


def link_subset(src: Path, dest: Path, nights: Iterable[Night]) -> int:
    """Hard-link the nights' files from archive ``src`` into ``dest`` (a sub-archive)."""
    shutil.rmtree(dest, ignore_errors=True)
    frames = 0
    for night in nights:
        for path in sorted((src / night.folder).rglob("*")):
            target = dest / path.relative_to(src)
            if path.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(path, target)
            except OSError:
                shutil.copy2(path, target)
        frames += int(night.times.size)
    return frames


def first_share(nights: Sequence[Night], share: float) -> list[Night]:
    """The first nights (in date order) that hold at least ``share`` of the frames."""
    total = sum(n.times.size for n in nights)
    chosen, count = [], 0
    for night in nights:
        if count >= share * total:
            break
        chosen.append(night)
        count += night.times.size
    return chosen
