"""Many synthetic nights: training and test sets for the segmentation network.

:func:`synthetic_nights` spreads ``n_frames`` frames over ``n_nights`` nights,
each made by :func:`~aurora_xr.synthetic.builder.synthetic_cube` with its own
seed. Every night is sampled across a whole day, so that every magnetic local
time occurs and with it both stationary and dynamic forms; every other night
has the moon forced up; the cloud cover cycles through 0.10, 0.25, 0.40 and
0.55. Nights are ``spacing_days`` apart from ``first_day``; after
``nights_per_winter`` nights the dates start again a year later, so that a
large set stays inside the polar night instead of running into spring.

:func:`randomised_nights` makes the training mix of the randomised sky: one
cube per night, each night a new camera (colour or single-channel, 8 or 16
bit, its own lens) on a new night of confounders, on dates from March to
October so that twilight and every phase of the Moon occur.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import xarray as xr

from ..errors import OptionError
from ..sky.stations import Station, get_station
from ._common import TAG_SCENE, rng_for
from .builder import synthetic_cube
from .cameras import DEFAULT_SINGLE_CHANNEL_FRACTION
from .ephemeris import sun_altaz

__all__ = ["night_dates", "randomised_nights", "synthetic_nights"]


def night_dates(
    n_nights: int,
    first_day: Any = "2020-05-20",
    *,
    spacing_days: int = 9,
    nights_per_winter: int = 8,
) -> list[np.datetime64]:
    """The dates of :func:`synthetic_nights`.

    Night ``k`` falls ``spacing_days * (k % nights_per_winter)`` days after
    ``first_day``, plus 365 days for every ``nights_per_winter`` nights before it.
    """
    if n_nights < 1 or spacing_days < 1 or nights_per_winter < 1:
        raise OptionError(
            "n_nights, spacing_days and nights_per_winter must be >= 1, found "
            f"{n_nights}, {spacing_days}, {nights_per_winter}"
        )
    first = np.datetime64(first_day, "D")
    return [
        first
        + np.timedelta64(
            spacing_days * (k % nights_per_winter) + 365 * (k // nights_per_winter), "D"
        )
        for k in range(n_nights)
    ]


def synthetic_nights(
    n_frames: int,
    n_nights: int,
    *,
    first_seed: int = 0,
    first_day: Any = "2020-05-20",
    size: int | tuple[int, int] = 256,
    activity: float = 1.0,
    station: str | Station = "JBS",
    stationary_fraction: float = 0.5,
    spacing_days: int = 9,
    nights_per_winter: int = 8,
    log: Callable[[str], Any] | None = None,
) -> xr.Dataset:
    """``n_frames`` synthetic frames from ``n_nights`` nights, in one image cube.

    Parameters
    ----------
    n_frames, n_nights : int
        Frames in all, shared out as evenly as possible, and nights.
    first_seed : int
        Seed of the first night; night ``k`` has seed ``first_seed + k``. Keep
        the seeds of training and test sets apart.
    first_day : date-like
        Date of the first night. The default suits a station in the southern
        polar night (Jang Bogo); pick a December date for a northern one.
    size : int or (int, int)
        Frame size in pixels.
    activity : float
        Aurora occurrence multiplier (a training set may take 2 for more
        auroral frames; a test set keeps the natural 1).
    station : str or Station
        The camera's station.
    stationary_fraction : float
        Share of the aurora that is stationary (see ``synthetic_cube``).
    spacing_days, nights_per_winter : int
        Days between nights; nights before the dates start a year later.
    log : callable, optional
        Called with one line per night.

    Returns
    -------
    xarray.Dataset
        The nights in time order along ``time``, with ``aurora_truth``,
        ``aurora_kind``, ``moon_up`` and ``cloud_fraction``; the attributes of
        the first night.
    """
    if n_frames < n_nights:
        raise OptionError(f"n_frames ({n_frames}) must be >= n_nights ({n_nights})")
    dates = night_dates(
        n_nights, first_day, spacing_days=spacing_days, nights_per_winter=nights_per_winter
    )
    per_night = np.full(n_nights, n_frames // n_nights)
    per_night[: n_frames % n_nights] += 1
    nights = []
    for k, (day, count) in enumerate(zip(dates, per_night, strict=True)):
        cadence_min = max(1, 24 * 60 // int(count))  # a whole day: every MLT
        nights.append(
            synthetic_cube(
                start=f"{day}T00:00",
                n_frames=int(count),
                cadence=f"{cadence_min}min",
                size=size,
                seed=first_seed + k,
                station=station,
                moon=True if k % 2 else "auto",
                clouds=0.1 + 0.15 * (k % 4),
                stationary_fraction=stationary_fraction,
                activity=activity,
            )
        )
        if log is not None:
            log(f"  night seed={first_seed + k} {day}: {count} frames every {cadence_min} min")
    return xr.concat(
        nights,
        dim="time",
        data_vars="minimal",
        coords="minimal",
        compat="override",
        combine_attrs="override",
    )


_SEASON_DAYS = (60, 290)  # day of the year: March to mid-October (JBS has nights)
_MAX_SUN_DEG = -8.0  # frames are taken while the sun is lower than this


def _night_window(
    day: np.datetime64, count: int, station: Station, rng: np.random.Generator
) -> tuple[np.datetime64, int]:
    """Start and cadence (minutes) of ``count`` frames over the longest dark spell of a day.

    Dark: the sun lower than :data:`_MAX_SUN_DEG`; a whole day when it never rises.
    """
    step = 4
    grid = (day + np.arange(0, 48 * 60, step).astype("timedelta64[m]")).astype("datetime64[ns]")
    sun_el, _ = sun_altaz(grid.astype(np.int64), station.latitude, station.longitude)
    dark = sun_el < _MAX_SUN_DEG
    best, best_len, run_start = 0, 0, None
    for i, d in enumerate(dark):
        if d and run_start is None:
            run_start = i
        if (not d or i == dark.size - 1) and run_start is not None:
            length = i - run_start + (1 if d else 0)
            if run_start < dark.size // 2 and length > best_len:
                best, best_len = run_start, length
            run_start = None
    span_min = min(max(best_len, 1) * step, 24 * 60)
    cadence = max(1, span_min // max(count, 1))
    offset = int(rng.integers(0, cadence))
    return grid[best] + np.timedelta64(offset, "m"), cadence


def randomised_nights(
    n_frames: int,
    n_nights: int,
    *,
    first_seed: int = 0,
    size: int | tuple[int, int] = 256,
    single_channel_fraction: float = DEFAULT_SINGLE_CHANNEL_FRACTION,
    activity: float = 3.0,
    station: str | Station = "JBS",
    year: int = 2020,
    log: Callable[[str], Any] | None = None,
) -> list[xr.Dataset]:
    """A training mix of the randomised sky: one cube per night, each a new camera.

    Night ``k`` has seed ``first_seed + k``, which draws its camera, its
    confounders and its date (a random day from March to mid-October of
    ``year``, so that twilight and every phase of the Moon occur); its frames
    are spread over the hours when the sun is more than 8° below the horizon.
    A share ``single_channel_fraction`` of the nights (exactly, rounded; which
    ones is seeded) have single-channel cameras (white light, 557.7, 630.0 or
    427.8 nm), the others colour cameras.

    Parameters
    ----------
    n_frames, n_nights : int
        Frames in all, shared out as evenly as possible, and nights.
    first_seed : int
        Seed of the first night; keep the seeds of training and test sets apart.
    size : int or (int, int)
        Frame size in pixels (every camera's lens is drawn on frames of this size).
    single_channel_fraction : float in [0, 1]
        Share of single-channel cameras (default 0.4).
    activity : float
        Aurora occurrence multiplier, on top of each night's own activity
        (the default 3 puts visible aurora in about half of the frames).
    station : str or Station
        The site (sky, Sun, Moon and magnetic geometry).
    year : int
        Year of the dates.
    log : callable, optional
        Called with one line per night.

    Returns
    -------
    list of xarray.Dataset
        One cube per night (``realism="randomised"``): each has its own
        channels (R, G, B or one band), dtype (uint8 or uint16), lens
        (``elevation``/``azimuth``, ``calibration_*``), ``aurora_truth``,
        ``aurora_kind`` and ``conditions``. Cubes of different cameras do not
        share a frame layout, so they are not concatenated.
    """
    if n_frames < n_nights or n_nights < 1:
        raise OptionError(f"n_frames ({n_frames}) must be >= n_nights ({n_nights}) >= 1")
    if not 0.0 <= float(single_channel_fraction) <= 1.0:
        raise OptionError(
            f"expected single_channel_fraction in [0, 1]; found {single_channel_fraction!r}"
        )
    stn = get_station(station)
    order = rng_for(first_seed, TAG_SCENE, n_nights).permutation(n_nights)
    n_single = round(float(single_channel_fraction) * n_nights)
    single = np.zeros(n_nights, bool)
    single[order[:n_single]] = True
    per_night = np.full(n_nights, n_frames // n_nights)
    per_night[: n_frames % n_nights] += 1
    cubes = []
    for k in range(n_nights):
        seed = first_seed + k
        rng = rng_for(seed, TAG_SCENE, 1)
        day = np.datetime64(f"{year}-01-01") + np.timedelta64(int(rng.integers(*_SEASON_DAYS)), "D")
        begin, cadence = _night_window(day, int(per_night[k]), stn, rng)
        cube = synthetic_cube(
            start=begin,
            n_frames=int(per_night[k]),
            cadence=f"{cadence}min",
            size=size,
            seed=seed,
            station=stn,
            activity=activity,
            realism="randomised",
            camera="single" if single[k] else "colour",
        )
        cubes.append(cube)
        if log is not None:
            kind = "/".join(str(c) for c in cube.channel.values)
            log(f"  night seed={seed} {day}: {per_night[k]} frames every {cadence} min, {kind}")
    return cubes
