"""MLT bins, year and season groups, and fast grouped sums over time.

The occurrence map is a grouped sum: for every group ``g`` (an MLT bin, or an
MLT bin within a year or a season) and every cell, the number of frames of
that group in which the cell shows aurora. :func:`group_sum_kernel` does it
without ``np.add.at``: each block of 8192 frames is sorted by group (frames
in time order already are) and summed run by run with one ``np.add.reduceat``.
On dask arrays each time chunk is reduced to a ``(groups, cells)`` block and
the blocks are summed, so memory stays bounded by the chunk size.
"""

from __future__ import annotations

from typing import Any

import dask.array as da
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ..errors import OptionError

__all__ = [
    "SEASONS",
    "group_count_kernel",
    "group_sum_kernel",
    "grouped_count",
    "grouped_sum",
    "mlt_bin_edges",
    "mlt_bin_index",
    "season_index",
]

SEASONS = ("DJF", "MAM", "JJA", "SON")
"""Meteorological seasons by calendar month (December counts with the following
January and February only by month: years are not shifted)."""

# season of each calendar month, January first
_SEASON_OF_MONTH = np.array([0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 0], dtype=np.int64)


def mlt_bin_edges(mlt_bins: int) -> NDArray[np.float64]:
    """``mlt_bins + 1`` equally spaced edges from 0 to 24 hours."""
    if isinstance(mlt_bins, bool) or not isinstance(mlt_bins, int | np.integer) or mlt_bins < 1:
        raise OptionError(f"expected mlt_bins as a positive integer; found {mlt_bins!r}")
    return np.linspace(0.0, 24.0, int(mlt_bins) + 1)


def mlt_bin_index(mlt: ArrayLike, mlt_bins: int) -> NDArray[np.int64]:
    """The MLT bin of each value: bin ``k`` holds ``[k, k + 1) * 24 / mlt_bins`` hours.

    Values are wrapped into [0, 24) first (24 h falls in bin 0, -1 h in the
    last bin); NaN gives -1.
    """
    values = np.asarray(mlt, dtype=np.float64)
    wrapped = np.mod(values, 24.0)
    width = 24.0 / int(mlt_bins)
    with np.errstate(invalid="ignore"):
        index = np.floor(wrapped / width)
    index = np.where(np.isfinite(index), index, -1.0).astype(np.int64)
    # guard against rounding at the top edge (e.g. 23.999999999999996 / 1.0)
    index[index >= mlt_bins] = 0
    return index


def season_index(times: ArrayLike) -> NDArray[np.int64]:
    """Index into :data:`SEASONS` of each time (by calendar month)."""
    months = pd.DatetimeIndex(np.asarray(times, dtype="datetime64[ns]")).month.to_numpy()
    return np.asarray(_SEASON_OF_MONTH[months - 1], dtype=np.int64)


_BLOCK_ROWS = 8192


def group_sum_kernel(values: NDArray[Any], group: NDArray[Any], n_groups: int) -> NDArray[np.int64]:
    """Sum the rows of ``values`` by group.

    Parameters
    ----------
    values : (T, C) ndarray of bool or integers
        E.g. detections per frame and cell.
    group : (T,) ndarray of int
        Group of each row, ``0 .. n_groups - 1``; negative rows are skipped.
    n_groups : int
        Number of groups.

    Returns
    -------
    (n_groups, C) ndarray of int64

    Notes
    -----
    Rows are taken 8192 at a time: a stable sort of the block by group (a
    no-op for frames in time order, whose MLT bin changes once an hour), then
    one ``np.add.reduceat`` over the runs of equal groups, accumulating bools
    as uint8 into int32 (exact: a block has fewer than 2**31 / 255 rows). No
    BLAS call (whose threads compete badly with dask's), no ``np.add.at``
    (about 20 times slower).
    """
    values = np.asarray(values)
    group = np.asarray(group, dtype=np.int64).reshape(-1)
    if values.shape[:1] != group.shape:
        raise OptionError(
            f"expected one group per row: {values.shape[0]} rows, {group.size} groups"
        )
    small = values.dtype == np.bool_ or values.dtype.itemsize == 1
    if values.dtype == np.bool_:
        values = values.view(np.uint8)
    accumulate = np.int32 if small else np.int64
    out = np.zeros((n_groups, *values.shape[1:]), dtype=np.int64)
    for start in range(0, group.size, _BLOCK_ROWS):
        part = group[start : start + _BLOCK_ROWS]
        block = values[start : start + _BLOCK_ROWS]
        if part.size > 1 and np.any(part[1:] < part[:-1]):
            order = np.argsort(part, kind="stable")
            part, block = part[order], block[order]
        first = np.flatnonzero(part >= 0)
        if first.size == 0:
            continue
        part, block = part[first[0] :], block[first[0] :]  # sorted: negatives lead
        starts = np.concatenate([[0], np.flatnonzero(part[1:] != part[:-1]) + 1])
        out[part[starts]] += np.add.reduceat(block, starts, axis=0, dtype=accumulate)
    return out


def group_count_kernel(group: NDArray[Any], n_groups: int) -> NDArray[np.int64]:
    """Number of rows in each group (negative groups skipped)."""
    group = np.asarray(group, dtype=np.int64).reshape(-1)
    return np.bincount(group[group >= 0], minlength=n_groups).astype(np.int64)[:n_groups]


def _block_sum(values: NDArray[Any], group: NDArray[Any], n_groups: int) -> NDArray[np.int64]:
    return group_sum_kernel(values, group, n_groups)[None]


def _block_count(group: NDArray[Any], n_groups: int) -> NDArray[np.int64]:
    return group_count_kernel(group, n_groups)[None]


def _aligned_group(group: Any, time_chunks: tuple[int, ...]) -> da.Array:
    if isinstance(group, da.Array):
        return group.rechunk((time_chunks,)) if group.chunks[0] != time_chunks else group
    return da.from_array(np.asarray(group), chunks=(time_chunks,))


def grouped_sum(values: Any, group: Any, n_groups: int) -> Any:
    """:func:`group_sum_kernel` on numpy or dask arrays (dask: reduced per time chunk).

    ``values`` is ``(T, C)``; ``group`` is ``(T,)``. Returns ``(n_groups, C)``
    int64, a dask array if either input is one.
    """
    if not isinstance(values, da.Array) and not isinstance(group, da.Array):
        return group_sum_kernel(values, group, n_groups)
    if not isinstance(values, da.Array):
        values = da.from_array(np.asarray(values), chunks=(group.chunks[0], -1))
    groups = _aligned_group(group, values.chunks[0])
    blocks = da.blockwise(
        _block_sum,
        "tgc",
        values,
        "tc",
        groups,
        "t",
        new_axes={"g": n_groups},
        adjust_chunks={"t": 1},
        dtype=np.int64,
        n_groups=n_groups,
        meta=np.empty((0, 0, 0), dtype=np.int64),
    )
    return blocks.sum(axis=0, dtype=np.int64)


def grouped_count(group: Any, n_groups: int, *, time_chunks: tuple[int, ...] | None = None) -> Any:
    """:func:`group_count_kernel` on numpy or dask arrays; ``(n_groups,)`` int64."""
    if not isinstance(group, da.Array) and time_chunks is None:
        return group_count_kernel(group, n_groups)
    if not isinstance(group, da.Array):
        group = da.from_array(np.asarray(group), chunks=(time_chunks,))
    blocks = da.blockwise(
        _block_count,
        "tg",
        group,
        "t",
        new_axes={"g": n_groups},
        adjust_chunks={"t": 1},
        dtype=np.int64,
        n_groups=n_groups,
        meta=np.empty((0, 0), dtype=np.int64),
    )
    return blocks.sum(axis=0, dtype=np.int64)
