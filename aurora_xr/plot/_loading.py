"""Selecting and loading what a figure shows: a frame by time, lazy values in one pass.

Figures compute only what they draw: :func:`compute_together` computes every lazy
object of one figure in a single dask pass.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Hashable
from typing import Any, TypeAlias

import dask
import numpy as np
import pandas as pd
import xarray as xr

from ..errors import MissingDimensionError, MissingVariableError, OptionError

__all__ = ["TimeLike", "compute_together", "frame_index", "require_cell_dims", "time_label"]

TimeLike: TypeAlias = int | str | np.datetime64 | _dt.datetime | pd.Timestamp | None


def frame_index(ds: xr.Dataset | xr.DataArray, time: TimeLike, time_dim: Hashable) -> int:
    """Position along ``time_dim`` of ``time`` (None: 0; int: position; else nearest time)."""
    n = ds.sizes[time_dim]
    if time is None:
        return 0
    if isinstance(time, int | np.integer) and not isinstance(time, bool):
        i = int(time)
        if not -n <= i < n:
            raise OptionError(f"time index {i} is out of range for {n} frames")
        return i % n
    if time_dim not in ds.indexes:
        raise MissingVariableError(
            f"expected a {time_dim!r} coordinate to select time={time!r}; found none"
        )
    index = ds.indexes[time_dim]
    try:
        stamp = pd.Timestamp(time)
    except (TypeError, ValueError) as exc:
        raise OptionError(
            f"time must be None, an integer position or a timestamp; found {time!r}"
        ) from exc
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    pos = index.get_indexer([stamp], method="nearest")
    return int(pos[0])


def compute_together(*objs: Any) -> tuple[Any, ...]:
    """Compute lazy xarray objects in one dask pass (numpy-backed ones pass through)."""
    return tuple(dask.compute(*objs))


def time_label(value: Any) -> str:
    """``2020-07-02 07:02:00 UT`` from a datetime64 (or '' when there is none)."""
    if value is None:
        return ""
    try:
        stamp = pd.Timestamp(np.asarray(value).item() if np.ndim(value) == 0 else value)
    except (TypeError, ValueError):
        return str(value)
    if pd.isna(stamp):
        return ""
    return stamp.strftime("%Y-%m-%d %H:%M:%S") + " UT"


def require_cell_dims(da: xr.DataArray, cell_dim: Hashable, what: str) -> None:
    """Raise unless ``da`` is one-dimensional along ``cell_dim``."""
    if tuple(da.dims) != (cell_dim,):
        raise MissingDimensionError(
            f"expected {what} on the single dim ({cell_dim!r},) after selection; found dims "
            f"{tuple(da.dims)} (select the others, e.g. sel={{'year': 2020}})"
        )
