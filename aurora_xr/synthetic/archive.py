"""``write_synthetic_archive``: the synthetic sky as image files, like a camera archive.

Layout (UT in every name; ``CODE`` is the station code)::

    dest/synthetic_archive.json                       station, calibration, naming, options
    dest/frame_conditions.csv                         time, cloud_fraction, moon_up per frame
    dest/CODE/YYYY/MM/DD/CODE_YYYYmmdd_HHMMSS_rgb.png frame (or _rgb.jpg)
    dest/CODE/YYYY/MM/DD/CODE_YYYYmmdd_HHMMSS_mask.png truth: one channel, 0 or 255
    dest/CODE/YYYY/MM/DD/CODE_YYYYmmdd_HHMMSS_kind.png form: one channel, 0/1/2

The time stamp follows :data:`DEFAULT_TIME_PATTERN` (``"%Y%m%d_%H%M%S"``),
which is the ``time_pattern`` to give to ingest.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..cube.build import package_version
from ..cube.conditions import CONDITIONS_FILE, read_conditions
from ..errors import OptionError
from ..sky.stations import Station
from .options import prepare_sky
from .render import render_frames
from .static import default_lens
from .truth import TRUTH_OUTLINE_DEG, TRUTH_THRESHOLD_DN

__all__ = [
    "ARCHIVE_SIDECAR",
    "DEFAULT_TIME_PATTERN",
    "FOLDER_PATTERN",
    "FRAME_SUFFIX",
    "KIND_SUFFIX",
    "MASK_SUFFIX",
    "archive_path",
    "write_synthetic_archive",
]

DEFAULT_TIME_PATTERN = "%Y%m%d_%H%M%S"
"""strftime pattern of the UT time stamp in every file name of the archive."""
FOLDER_PATTERN = "%Y/%m/%d"
"""Folders below ``dest/CODE`` (one per UT day)."""
FRAME_SUFFIX = "_rgb"
"""Frames end with ``_rgb.png`` or ``_rgb.jpg``."""
MASK_SUFFIX = "_mask.png"
KIND_SUFFIX = "_kind.png"
ARCHIVE_SIDECAR = "synthetic_archive.json"
"""JSON file at the archive root: station, calibration, naming and generator options."""

_FORMATS = {"png": ("PNG", ".png"), "jpeg": ("JPEG", ".jpg"), "jpg": ("JPEG", ".jpg")}


def archive_path(
    dest: str | os.PathLike[str],
    station: str,
    time: Any,
    *,
    role: str = "frame",
    fmt: str = "png",
) -> Path:
    """Path of a file of the archive at ``dest`` for a UT ``time``.

    ``role`` is ``"frame"``, ``"mask"`` or ``"kind"``.

    Examples
    --------
    >>> archive_path("arch", "JBS", "2020-06-21T00:01").as_posix()
    'arch/JBS/2020/06/21/JBS_20200621_000100_rgb.png'
    """
    when = np.datetime64(time, "us").astype(object)
    stamp = when.strftime(DEFAULT_TIME_PATTERN)
    if role == "frame":
        suffix = FRAME_SUFFIX + _formats(fmt)[1]
    elif role == "mask":
        suffix = MASK_SUFFIX
    elif role == "kind":
        suffix = KIND_SUFFIX
    else:
        raise OptionError(f"expected role 'frame', 'mask' or 'kind'; found {role!r}")
    code = station.upper()
    return Path(dest) / code / when.strftime(FOLDER_PATTERN) / f"{code}_{stamp}{suffix}"


def _formats(fmt: str) -> tuple[str, str]:
    try:
        return _FORMATS[str(fmt).lower()]
    except KeyError:
        raise OptionError(f"expected fmt 'png' or 'jpeg'; found {fmt!r}") from None


def _save(array: NDArray[Any], path: Path, fmt: str, **kwargs: Any) -> None:
    """Write an image atomically (temporary file in the same folder, then rename)."""
    from PIL import Image

    tmp = path.with_name(f".{path.name}.tmp")
    Image.fromarray(array).save(tmp, format=fmt, **kwargs)
    os.replace(tmp, path)


def write_synthetic_archive(
    dest: str | os.PathLike[str],
    *,
    start: Any = "2020-06-21T00:00",
    n_frames: int | None = None,
    duration: Any = None,
    cadence: Any = "1min",
    size: int | tuple[int, int] = 256,
    seed: int = 0,
    station: str | Station = "JBS",
    fmt: str = "png",
    quality: int = 90,
    masks: bool = True,
    moon: bool | str = "auto",
    clouds: float = 0.25,
    stationary_fraction: float = 0.5,
    mlt_occurrence: bool = True,
    activity: float = 1.0,
    truth_threshold: float = TRUTH_THRESHOLD_DN,
    truth_outline_deg: float = TRUTH_OUTLINE_DEG,
    batch_size: int = 64,
) -> list[Path]:
    """Write the synthetic sky as image files named and foldered like a camera archive.

    The frames are those of :func:`~aurora_xr.datasets.synthetic_cube` with
    the same arguments (pixel for pixel for PNG; JPEG adds its compression).
    They are rendered ``batch_size`` at a time, so memory stays small for any
    length of run. Each file is written atomically. The sidecar
    :data:`ARCHIVE_SIDECAR` at ``dest`` records the station, its calibration
    for the frame size, the naming (``time_pattern``) and the options of the
    latest run written there.

    Parameters
    ----------
    dest : path
        Root folder of the archive (created if needed).
    start, n_frames, duration, cadence, size, seed, station, moon, clouds, \
stationary_fraction, mlt_occurrence, activity, truth_threshold, truth_outline_deg
        As for :func:`~aurora_xr.datasets.synthetic_cube`.
    fmt : {"png", "jpeg"}
        Frame file format (masks are always PNG).
    quality : int
        JPEG quality (1-95).
    masks : bool
        Also write the truth ``_mask.png`` (0/255) and ``_kind.png`` (0/1/2).
    batch_size : int
        Frames rendered per batch.

    Returns
    -------
    list of pathlib.Path
        The frame files (``_rgb``), in time order.

    Raises
    ------
    OptionError, StationError, DateRangeError
        As for :func:`~aurora_xr.datasets.synthetic_cube`, and for a bad
        ``fmt``, ``quality`` or ``batch_size``.
    """
    pil_format, _ = _formats(fmt)
    if isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 95:
        raise OptionError(f"expected quality as an int in 1..95; found {quality!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise OptionError(f"expected batch_size as a positive int; found {batch_size!r}")
    stn, height, width, options, times = prepare_sky(
        station=station,
        size=size,
        start=start,
        n_frames=n_frames,
        duration=duration,
        cadence=cadence,
        seed=seed,
        moon=moon,
        clouds=clouds,
        stationary_fraction=stationary_fraction,
        mlt_occurrence=mlt_occurrence,
        activity=activity,
        truth_threshold=truth_threshold,
        truth_outline_deg=truth_outline_deg,
    )
    root = Path(dest)
    root.mkdir(parents=True, exist_ok=True)
    save_kw: dict[str, Any] = {"quality": quality} if pil_format == "JPEG" else {}

    written: list[Path] = []
    moon_up = np.zeros(times.size, bool)
    cloud_fraction = np.zeros(times.size, np.float32)
    for begin in range(0, times.size, batch_size):
        chunk = times[begin : begin + batch_size]
        batch = render_frames(stn, height, width, chunk.astype(np.int64), options)
        moon_up[begin : begin + chunk.size] = batch.moon_up
        cloud_fraction[begin : begin + chunk.size] = batch.cloud_fraction
        for i, t in enumerate(chunk):
            frame_path = archive_path(root, stn.code, t, fmt=fmt)
            frame_path.parent.mkdir(parents=True, exist_ok=True)
            _save(batch.image[i], frame_path, pil_format, **save_kw)
            if masks:
                truth = batch.truth[i].astype(np.uint8) * np.uint8(255)
                _save(truth, archive_path(root, stn.code, t, role="mask"), "PNG")
                _save(batch.kind[i], archive_path(root, stn.code, t, role="kind"), "PNG")
            written.append(frame_path)

    sidecar: Mapping[str, Any] = {
        "generator": "aurora_xr.datasets.write_synthetic_archive",
        "aurora_xr_version": package_version(),
        "station": stn.to_attrs(),
        "calibration": default_lens(width, height).to_attrs(),
        "time_pattern": DEFAULT_TIME_PATTERN,
        "folder_pattern": f"{stn.code}/{FOLDER_PATTERN}",
        "frame_name": f"{stn.code}_{{time}}{FRAME_SUFFIX}{_formats(fmt)[1]}",
        "mask_name": f"{stn.code}_{{time}}{MASK_SUFFIX}" if masks else None,
        "kind_name": f"{stn.code}_{{time}}{KIND_SUFFIX}" if masks else None,
        "kind_values": {"0": "none", "1": "dynamic", "2": "stationary"},
        "first_time": str(times[0]),
        "last_time": str(times[-1]),
        "n_frames": int(times.size),
        "options": {
            "seed": options.seed,
            "moon": options.moon,
            "clouds": options.clouds,
            "stationary_fraction": options.aurora.stationary_fraction,
            "mlt_occurrence": options.aurora.mlt_occurrence,
            "activity": options.aurora.activity,
            "truth_threshold": options.truth_threshold,
            "truth_outline_deg": options.truth_outline_deg,
            "cadence": str(np.timedelta64(int(times[1] - times[0]), "ns"))
            if times.size > 1
            else None,
        },
    }
    tmp = root / f".{ARCHIVE_SIDECAR}.tmp"
    tmp.write_text(json.dumps(sidecar, indent=2))
    os.replace(tmp, root / ARCHIVE_SIDECAR)
    _write_conditions(root / CONDITIONS_FILE, times, cloud_fraction, moon_up)
    return written


def _write_conditions(
    path: Path,
    times: NDArray[np.datetime64],
    cloud_fraction: NDArray[np.float32],
    moon_up: NDArray[np.bool_],
) -> None:
    """Write (or extend) the per-frame conditions table; rows of this run replace old ones."""
    table = pd.DataFrame(
        {"cloud_fraction": np.round(cloud_fraction.astype(float), 4), "moon_up": moon_up},
        index=pd.DatetimeIndex(times, name="time"),
    )
    if path.exists():
        old = read_conditions(path)
        table = pd.concat([old[~old.index.isin(table.index)], table]).sort_index()
    tmp = path.with_name(f".{path.name}.tmp")
    table.to_csv(tmp, date_format="%Y-%m-%dT%H:%M:%S")
    os.replace(tmp, path)
