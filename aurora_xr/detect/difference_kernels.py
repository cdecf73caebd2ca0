"""Kernels of the difference method: frame partners and per-cell statistics (numpy only).

:func:`partner_indices` finds the partner of every frame ``lag`` earlier on the time
axis (gaps allowed); :func:`chunk_statistic_kernel` evaluates, for a chunk of frames,
a statistic of the integer pixel differences with the partners in every equal-area
cell with one gather and one ``np.add.reduceat`` (int16 for 8-bit frames, int32 for
16-bit ones; :class:`aurora_xr.geo.cellpixels.CellPixels`). The lazy assembly over a
cube's time chunks is :mod:`aurora_xr.detect.difference_chunks`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .._times import duration_ns
from ..errors import OptionError
from ..geo.cellpixels import cell_pixels

__all__ = [
    "STATISTICS",
    "chunk_statistic_kernel",
    "difference_statistic_kernel",
    "partner_indices",
]

STATISTICS = ("mean_abs", "abs_mean", "rms")
"""Per-cell statistics of the pixel differences ``d = frame(t) - frame(t - lag)``:

* ``mean_abs``: mean of ``|d|`` over the cell's pixels (the default);
* ``abs_mean``: ``|mean of d|`` (noise and moving stars largely cancel);
* ``rms``: root mean square of ``d``.
"""


def partner_indices(
    times: NDArray[np.datetime64] | pd.DatetimeIndex,
    lag: Any,
    *,
    tolerance: Any = None,
) -> tuple[NDArray[np.intp], NDArray[np.bool_]]:
    """The index of each frame's partner taken ``lag`` earlier.

    Parameters
    ----------
    times : (T,) datetime64 array
        Frame times, sorted ascending.
    lag : str, timedelta or numpy.timedelta64
        Time between a frame and its partner (e.g. ``"2min"``).
    tolerance : str, timedelta or numpy.timedelta64, optional
        Accept the nearest earlier frame within this distance of ``t - lag``;
        default: only a frame exactly ``lag`` earlier.

    Returns
    -------
    index : (T,) ndarray of intp
        Position of the partner (the frame itself where there is none).
    observed : (T,) ndarray of bool
        Whether the frame has a partner.
    """
    lag_ns = duration_ns(lag, "lag")
    values = np.asarray(times, dtype="datetime64[ns]").astype(np.int64)
    n = values.size
    target = values - lag_ns
    own = np.arange(n, dtype=np.intp)
    if tolerance is None:
        pos = np.searchsorted(values, target, side="left").astype(np.intp)
        found = pos < n
        found[found] &= values[pos[found]] == target[found]
        index = np.where(found, pos, own)
        return index.astype(np.intp), found & (index < own)
    tol_ns = duration_ns(tolerance, "tolerance", allow_zero=True)
    right = np.searchsorted(values, target, side="left").astype(np.intp)
    left = right - 1
    best = np.full(n, -1, dtype=np.intp)
    best_dist = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    for cand in (left, right):
        ok = (cand >= 0) & (cand < own)
        dist = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        dist[ok] = np.abs(values[cand[ok]] - target[ok])
        better = ok & (dist < best_dist)
        best[better] = cand[better]
        best_dist[better] = dist[better]
    found = (best >= 0) & (best_dist <= tol_ns)
    return np.where(found, best, own).astype(np.intp), found


def _statistic_of(
    diff: NDArray[Any], layout: Any, statistic: str, narrow: bool
) -> NDArray[np.float64]:
    if statistic == "mean_abs":
        np.abs(diff, out=diff)
        return np.asarray(layout.means(diff, dtype=np.int32 if narrow else np.int64))
    if statistic == "abs_mean":
        return np.abs(layout.means(diff, dtype=np.int32 if narrow else np.int64))
    if statistic == "rms":
        squared = diff.astype(np.int32 if narrow else np.int64)
        np.multiply(squared, squared, out=squared)
        return np.sqrt(layout.means(squared, dtype=np.int64))
    raise OptionError(f"expected statistic one of {STATISTICS}; found {statistic!r}")


def chunk_statistic_kernel(
    frames: NDArray[Any],
    prefix: NDArray[Any],
    partner: NDArray[Any],
    observed: NDArray[np.bool_],
    cell_index: NDArray[Any],
    *,
    channel_idx: Sequence[int],
    statistic: str,
    n_cells: int,
) -> NDArray[np.float32]:
    """Per-cell statistic of the difference of each frame with its partner.

    The partners of a chunk of frames lie in the chunk itself or in the
    ``prefix`` of frames just before it; every frame's cell pixels are gathered
    once, and the partner rows are picked from the gathered pixels.

    Parameters
    ----------
    frames : (T, H, W, C) ndarray of uint8 or uint16
        The frames of the chunk.
    prefix : (D, H, W, C) ndarray
        The ``D`` frames just before the chunk (``D`` may be 0).
    partner : (T,) ndarray of int
        Position of each frame's partner in ``concatenate([prefix, frames])``.
    observed : (T,) ndarray of bool
        Frames that have a partner; the others give NaN.
    cell_index : (H, W) ndarray of int
        Cell labels, ``-1`` outside the grid.
    channel_idx : sequence of int
        Positions of the channels to use on the last axis.
    statistic : {"mean_abs", "abs_mean", "rms"}
        See :data:`STATISTICS`.
    n_cells : int
        Number of cells.

    Returns
    -------
    (T, n_cells, len(channel_idx)) ndarray of float32
        NaN for frames without a partner and for empty cells.
    """
    t, h, w, c = frames.shape
    layout = cell_pixels(cell_index, n_cells)
    narrow = frames.dtype.itemsize == 1
    own = layout.gather(frames.reshape(t, h * w, c), channel_idx)
    if prefix.shape[0]:
        before = layout.gather(prefix.reshape(prefix.shape[0], h * w, c), channel_idx)
        pool = np.concatenate([before, own], axis=0)
    else:
        pool = own
    diff: NDArray[Any] = own.astype(np.int16 if narrow else np.int32)
    np.subtract(diff, pool[np.asarray(partner, dtype=np.intp)], out=diff)
    out = _statistic_of(diff, layout, statistic, narrow).astype(np.float32)
    out[~np.asarray(observed, dtype=bool)] = np.nan
    return out


def difference_statistic_kernel(
    frames: NDArray[Any],
    partner: NDArray[Any],
    observed: NDArray[np.bool_],
    cell_index: NDArray[Any],
    *,
    channel_idx: Sequence[int],
    statistic: str,
    n_cells: int,
) -> NDArray[np.float32]:
    """Per-cell statistic of ``frames - partner`` for explicit pairs of frames.

    Parameters are those of :func:`chunk_statistic_kernel`, with ``partner``
    the ``(T, H, W, C)`` partner frames themselves.
    """
    t = frames.shape[0]
    return chunk_statistic_kernel(
        frames,
        partner,
        np.arange(t),
        observed,
        cell_index,
        channel_idx=channel_idx,
        statistic=statistic,
        n_cells=n_cells,
    )
