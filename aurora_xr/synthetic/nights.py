"""Many synthetic nights in one cube: training and test sets for the segmentation network.

:func:`synthetic_nights` spreads ``n_frames`` frames over ``n_nights`` nights,
each made by :func:`~aurora_xr.synthetic.builder.synthetic_cube` with its own
seed. Every night is sampled across a whole day, so that every magnetic local
time occurs and with it both stationary and dynamic forms; every other night
has the moon forced up; the cloud cover cycles through 0.10, 0.25, 0.40 and
0.55. Nights are ``spacing_days`` apart from ``first_day``; after
``nights_per_winter`` nights the dates start again a year later, so that a
large set stays inside the polar night instead of running into spring.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import xarray as xr

from ..errors import OptionError
from ..sky.stations import Station
from .builder import synthetic_cube

__all__ = ["night_dates", "synthetic_nights"]


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
