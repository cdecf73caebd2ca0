"""The group of every frame in an occurrence map: its MLT bin within a year or season.

A frame counts in group ``mlt_bin + mlt_bins * by_index`` (``by_index`` the year or
season, 0 without grouping) when it is usable and observed, else in no group (-1).
On dask the groups follow the time chunks of the detections, so that the grouped sums
of :mod:`aurora_xr.geo.binning` reduce each chunk to one ``(groups, cells)`` block.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr
from numpy.typing import NDArray

from ..cube.context import time_chunks
from ..errors import DtypeError, MissingDimensionError, MissingVariableError, OptionError
from ..geo.binning import SEASONS, mlt_bin_edges, mlt_bin_index, season_index

__all__ = ["BY", "FrameGroups", "frame_groups"]

BY = (None, "year", "season")
"""The extra groupings of an occurrence map besides MLT."""

_SEASON_ATTRS = {
    "long_name": "season by calendar month (UTC)",
    "comment": "DJF: Dec, Jan, Feb; MAM: Mar-May; JJA: Jun-Aug; SON: Sep-Nov; "
    "months of different years are pooled",
}


@dataclass
class FrameGroups:
    """Every frame's group (MLT bin within year/season; -1: not counted), and its labels."""

    group: Any  # (T,) int64, numpy or dask
    n_groups: int
    mlt_bins: int
    n_by: int
    by_dim: str | None
    by_labels: NDArray[Any] | None
    by_attrs: dict[str, Any]
    per_cell_observed: Any  # (T, C) bool or None
    lazy: bool
    filters: str
    times: NDArray[Any] | None


def frame_groups(
    det: xr.DataArray,
    mlt: Any,
    usable: Any,
    observed: Any,
    mlt_bins: int,
    by: str | None,
    time_dim: Hashable,
    cell_dim: Hashable,
) -> FrameGroups:
    """The group of every frame of ``(time, cell)`` detections (see the module docstring)."""
    mlt_bin_edges(mlt_bins)  # checks the option
    n_time = det.shape[0]
    mlt_data = _as_time_array(mlt, name="mlt", n=n_time, time_dim=time_dim, dtype=np.float64)
    valid: Any = np.ones(n_time, dtype=bool)
    filters = "none"
    if usable is not None:
        valid = _as_time_array(usable, name="usable", n=n_time, time_dim=time_dim, dtype=np.bool_)
        filters = str(getattr(usable, "attrs", {}).get("filters", "given"))
    per_cell_observed = None
    if isinstance(observed, xr.DataArray) and set(observed.dims) == {time_dim, cell_dim}:
        if observed.dtype != np.bool_:
            raise DtypeError(f"expected bool observed flags; found dtype {observed.dtype}")
        per_cell_observed = observed.transpose(time_dim, cell_dim).data
    elif observed is not None:
        seen = _as_time_array(
            observed, name="observed", n=n_time, time_dim=time_dim, dtype=np.bool_
        )
        valid = valid & seen
    times = det[time_dim].values if time_dim in det.coords else None
    by_index, by_dim, by_labels, by_attrs = _by_groups(times, by, n_time)
    chunks = time_chunks(det, time_dim=time_dim)
    lazy = chunks is not None or any(isinstance(a, da.Array) for a in (mlt_data, valid))
    if lazy:
        chunks = chunks or next(a.chunks[0] for a in (mlt_data, valid) if isinstance(a, da.Array))
        parts = [_on_chunks(a, chunks) for a in (mlt_data, valid, by_index)]
        group = da.map_blocks(
            _group_index, *parts, mlt_bins=mlt_bins, dtype=np.int64, meta=np.array((), np.int64)
        )
    else:
        group = _group_index(mlt_data, valid, by_index, mlt_bins=mlt_bins)
    n_by = 1 if by_labels is None else len(by_labels)
    return FrameGroups(
        group=group,
        n_groups=n_by * mlt_bins,
        mlt_bins=mlt_bins,
        n_by=n_by,
        by_dim=by_dim,
        by_labels=by_labels,
        by_attrs=by_attrs,
        per_cell_observed=per_cell_observed,
        lazy=lazy,
        filters=filters,
        times=times,
    )


def _on_chunks(values: Any, chunks: tuple[int, ...]) -> da.Array:
    if isinstance(values, da.Array):
        return values.rechunk((chunks,))
    return da.from_array(np.asarray(values), chunks=(chunks,))


def _as_time_array(value: Any, *, name: str, n: int, time_dim: Hashable, dtype: Any = None) -> Any:
    """numpy or dask 1-D data of a DataArray/array on time, checked for length."""
    if isinstance(value, xr.DataArray):
        if tuple(value.dims) != (time_dim,):
            raise MissingDimensionError(
                f"expected {name} on dims ({time_dim!r},); found {tuple(value.dims)}"
            )
        data = value.data
    else:
        data = value if isinstance(value, da.Array) else np.asarray(value)
    if data.ndim != 1 or data.shape[0] != n:
        raise MissingDimensionError(
            f"expected {name} with one value per frame ({n}); found shape {data.shape}"
        )
    if dtype is not None and data.dtype != dtype:
        if dtype == np.bool_ and data.dtype != np.bool_:
            raise DtypeError(f"expected {name} of dtype bool; found {data.dtype}")
        data = data.astype(dtype)
    return data


def _group_index(
    mlt: NDArray[Any], valid: NDArray[Any], by_index: NDArray[Any], *, mlt_bins: int
) -> NDArray[np.int64]:
    bins = mlt_bin_index(mlt, mlt_bins)
    group = bins + mlt_bins * np.asarray(by_index, dtype=np.int64)
    group[(bins < 0) | ~np.asarray(valid, dtype=bool)] = -1
    return group


def _by_groups(
    times: NDArray[np.datetime64] | None, by: str | None, n: int
) -> tuple[NDArray[np.int64], str | None, NDArray[Any] | None, dict[str, Any]]:
    if by is None:
        return np.zeros(n, dtype=np.int64), None, None, {}
    if by not in BY:
        raise OptionError(f"expected by one of {BY}; found {by!r}")
    if times is None:
        raise MissingVariableError(f"by={by!r} needs a time coordinate on the detections")
    if by == "season":
        return season_index(times), "season", np.array(SEASONS), dict(_SEASON_ATTRS)
    years = pd.DatetimeIndex(np.asarray(times, dtype="datetime64[ns]")).year.to_numpy()
    labels = np.unique(years)
    index = np.searchsorted(labels, years).astype(np.int64)
    return index, "year", labels.astype(np.int64), {"long_name": "calendar year (UTC)"}
