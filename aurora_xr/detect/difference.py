"""The difference method of Jee et al. (2021, J. Astron. Space Sci. 38(4) 203-215).

Two frames taken ``lag`` apart (1 or 2 minutes) are subtracted; in the R and
G channels a statistic of the pixel differences is evaluated in each
equal-area sky cell, and a cell is auroral in a frame when the statistic of
either channel exceeds its threshold. The static background (stars, the
Milky Way, station lights) cancels; so does aurora that neither moves nor
changes brightness between the two frames, which the method therefore misses.

The kernel works on integer differences (int16 for 8-bit frames, int32 for
16-bit ones) and sums them per cell with one gather and one
``np.add.reduceat`` per chunk (:class:`aurora_xr.geo.cellpixels.CellPixels`).

The partner of frame ``t`` is the frame taken exactly ``lag`` earlier (or the
nearest one within ``tolerance``), found on the time coordinate, so gaps in
the archive are handled; a frame without a partner is *not observed*. On a
chunked cube the partner frames are gathered lazily and rechunked to the
cube's time chunks, so a partner in the previous chunk is read from it.

Default thresholds
------------------
The defaults in :data:`DEFAULT_THRESHOLDS` (counts of an 8-bit frame; scaled
by 65535/255 for 16-bit frames) were chosen with ``scripts/tune_difference.py``
on the synthetic sky (128-px frames, 2-minute cadence) by maximising the
cell-level F1 score on dynamic forms; see :data:`DEFAULT_THRESHOLDS` for the
figures and the procedure.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr
from numpy.typing import NDArray

from .._times import duration_ns
from ..cube.schema import validate_cube
from ..errors import DtypeError, OptionError
from ..geo.cellpixels import cell_coords, cell_pixels, resolve_cells

__all__ = [
    "DEFAULT_THRESHOLDS",
    "STATISTICS",
    "chunk_statistic_kernel",
    "difference_detect",
    "difference_statistic_kernel",
    "partner_indices",
]

STATISTICS = ("mean_abs", "abs_mean", "rms")
"""Per-cell statistics of the pixel differences ``d = frame(t) - frame(t - lag)``:

* ``mean_abs``: mean of ``|d|`` over the cell's pixels (the default);
* ``abs_mean``: ``|mean of d|`` (noise and moving stars largely cancel);
* ``rms``: root mean square of ``d``.
"""

DEFAULT_THRESHOLDS: dict[str, dict[str, float]] = {
    "mean_abs": {"R": 10.75, "G": 8.5},
    "abs_mean": {"R": 9.0, "G": 6.5},
    "rms": {"R": 13.5, "G": 10.25},
}
"""Default thresholds per statistic and channel, in counts of an 8-bit frame.

Chosen with ``scripts/tune_difference.py`` (its defaults)
on the synthetic sky (:func:`aurora_xr.datasets.synthetic_cube`, mid-winter
at JBS, 128x128 frames every 2 minutes, 2-minute lag, the 400-cell grid):
tuning seeds 0-2 and held-out seed 3, each three 8-hour runs starting at 00,
08 and 16 UT (1788 usable frames with a partner for tuning, 28433 dynamic and
27950 stationary truth cells). Scored at cell level against the truth (a
truth cell holds at least 10 % truth pixels) on cells whose truth is dynamic
aurora or no aurora (stationary aurora is invisible to the method by design);
the R and G thresholds were swept independently in 0.25-count steps and the
pair with the best F1 on the tuning seeds kept, the method's own best
operating point:

============  =======  =====  ==========  =========================================
statistic     R        G      tuning F1   held-out precision / recall / F1
============  =======  =====  ==========  =========================================
mean_abs      10.75    8.5    0.615       0.642 / 0.686 / 0.663
abs_mean      9.0      6.5    0.629       0.669 / 0.683 / 0.676
rms           13.5     10.25  0.578       0.561 / 0.690 / 0.619
============  =======  =====  ==========  =========================================

Recall on stationary truth cells at these thresholds: 0.056, 0.069, 0.053.
No pair reaches a precision of 0.9: drifting clouds lit by the station and
the moon change as much as faint aurora does. The cell statistic is an
average over a cell's pixels, so larger frames (more pixels per cell) make
it less noisy and allow lower thresholds; re-run the script with ``--size``
and ``--cadence`` of your archive to tune for it.
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


def _thresholds(
    threshold: float | Mapping[str, float] | Sequence[float] | None,
    channels: Sequence[str],
    statistic: str,
    dtype: np.dtype[Any],
) -> list[float]:
    if threshold is None:
        scale = 1.0 if dtype.itemsize == 1 else 65535.0 / 255.0
        return [DEFAULT_THRESHOLDS[statistic][ch] * scale for ch in channels]
    if isinstance(threshold, Mapping):
        missing = [ch for ch in channels if ch not in threshold]
        if missing:
            raise OptionError(
                f"expected a threshold for each channel {tuple(channels)}; missing {missing}"
            )
        return [float(threshold[ch]) for ch in channels]
    if np.ndim(threshold) == 0:
        return [float(threshold)] * len(channels)  # type: ignore[arg-type]
    values = [float(v) for v in threshold]  # type: ignore[union-attr]
    if len(values) != len(channels):
        raise OptionError(
            f"expected {len(channels)} thresholds for channels {tuple(channels)}; "
            f"found {len(values)}"
        )
    return values


def difference_detect(
    ds: xr.Dataset,
    *,
    lag: Any = "2min",
    channels: Sequence[str] = ("R", "G"),
    threshold: float | Mapping[str, float] | Sequence[float] | None = None,
    statistic: str = "mean_abs",
    tolerance: Any = None,
    cells: xr.Dataset | xr.DataArray | None = None,
    n_cells: int = 400,
    min_elevation: float = 10.0,
    altitude_km: float = 110.0,
    image_var: Hashable = "image",
    time_dim: Hashable = "time",
    y_dim: Hashable = "y",
    x_dim: Hashable = "x",
    channel_dim: Hashable = "channel",
    cell_dim: Hashable = "cell",
) -> xr.Dataset:
    """Detect aurora per sky cell by the difference method (Jee et al. 2021), lazily.

    Parameters
    ----------
    ds : xarray.Dataset
        Image cube with ``image`` (time, y, x, channel).
    lag : str, timedelta or numpy.timedelta64
        Time between a frame and its partner; default 2 minutes.
    channels : sequence of str
        Channels to difference; a cell is auroral when any of them exceeds its threshold.
    threshold : float, mapping channel -> float or sequence, optional
        Thresholds of the statistic, in counts; default :data:`DEFAULT_THRESHOLDS`.
    statistic : {"mean_abs", "abs_mean", "rms"}
        Per-cell statistic of the differences (:data:`STATISTICS`).
    tolerance : str or timedelta, optional
        Accept the nearest earlier frame within this of ``t - lag`` (default: exact).
    cells : xarray.Dataset or xarray.DataArray, optional
        Cell grid (with ``cell_index``) or bare ``cell_index``; default the
        cube's ``cell_index`` or :func:`aurora_xr.geo.cells.cell_grid` with
        ``n_cells``, ``min_elevation`` and ``altitude_km``.
    n_cells, min_elevation, altitude_km : optional
        Options of the cell grid when it is built here.
    image_var, time_dim, y_dim, x_dim, channel_dim, cell_dim : str
        Names in the cube and of the cell dimension.

    Returns
    -------
    xarray.Dataset
        On (time, cell[, channel]), chunked like the cube along time:

        * ``difference_detection`` (time, cell) bool: the cell is auroral;
        * ``difference_observed`` (time,) bool: the frame has a partner
          ``lag`` earlier (frames without one are not observed and never detect);
        * ``difference_statistic`` (time, cell, channel) float32: the statistic,
          NaN where not observed;

        with the cell coordinates of the grid and the method, lag, statistic and
        thresholds in the attributes.
    """
    validate_cube(
        ds,
        image_var=image_var,
        time_dim=time_dim,
        y_dim=y_dim,
        x_dim=x_dim,
        channel_dim=channel_dim,
        check_calibration=False,
    )
    if statistic not in STATISTICS:
        raise OptionError(f"expected statistic one of {STATISTICS}; found {statistic!r}")
    image = ds[image_var]
    channels = [str(ch) for ch in ([channels] if isinstance(channels, str) else channels)]
    if not channels:
        raise OptionError("expected at least one channel to difference; found none")
    names = (
        [str(c) for c in image[channel_dim].values]
        if channel_dim in image.coords
        else ["R", "G", "B"]
    )
    unknown = [ch for ch in channels if ch not in names]
    if unknown:
        raise OptionError(f"expected channels among {names}; found {unknown}")
    channel_idx = [names.index(ch) for ch in channels]
    thresholds = _thresholds(threshold, channels, statistic, image.dtype)
    if image.dtype.kind != "u":
        raise DtypeError(f"expected unsigned integer frames; found {image.dtype}")
    index, count, grid = resolve_cells(
        ds,
        cells,
        n_cells=n_cells,
        min_elevation=min_elevation,
        altitude_km=altitude_km,
        time_dim=time_dim,
        y_dim=y_dim,
        x_dim=x_dim,
        cell_dim=cell_dim,
    )
    times = ds[time_dim].values
    partner_idx, observed_np = partner_indices(times, lag, tolerance=tolerance)
    observed = xr.DataArray(observed_np, dims=(time_dim,), coords={time_dim: ds[time_dim]})
    stat_dim = "__difference_channel"
    kwargs: dict[str, Any] = {"channel_idx": channel_idx, "statistic": statistic, "n_cells": count}
    data: Any
    if image.chunks is not None:
        image = image.chunk({y_dim: -1, x_dim: -1, channel_dim: -1})
        data = _lazy_statistic(image.data, partner_idx, observed_np, index.values, kwargs)
        observed = observed.chunk({time_dim: image.chunksizes[time_dim]})
    else:
        data = _blocked_statistic(image.values, partner_idx, observed_np, index.values, kwargs)
    stat = xr.DataArray(data, dims=(time_dim, cell_dim, stat_dim), coords={time_dim: ds[time_dim]})
    stat = stat.rename({stat_dim: channel_dim}).assign_coords({channel_dim: channels})
    limit = xr.DataArray(
        np.asarray(thresholds, np.float32), dims=(channel_dim,), coords={channel_dim: channels}
    )
    detection = (stat > limit).any([channel_dim]) & observed
    attrs: dict[str, Any] = {
        "method": "difference",
        "difference_lag": _lag_text(lag),
        "difference_lag_seconds": pd.Timedelta(lag).total_seconds(),
        "difference_tolerance_seconds": (
            0.0 if tolerance is None else pd.Timedelta(tolerance).total_seconds()
        ),
        "difference_statistic": statistic,
        "difference_channels": ",".join(channels),
        **{f"difference_threshold_{ch}": thr for ch, thr in zip(channels, thresholds, strict=True)},
        "n_cells": count,
    }
    stat.attrs = {
        "long_name": f"{statistic} of frame differences per cell",
        "units": "1",
        "comment": "image counts; NaN where the frame has no partner",
        **attrs,
    }
    detection.attrs = {
        "long_name": "aurora detected by the difference method",
        "units": "1",
        **attrs,
    }
    observed.attrs = {
        "long_name": "frame has a partner at the lag",
        "units": "1",
        "difference_lag": attrs["difference_lag"],
    }
    out = xr.Dataset(
        {
            "difference_detection": detection,
            "difference_observed": observed,
            "difference_statistic": stat,
        },
        attrs=attrs,
    )
    extra = cell_coords(
        grid, cell_dim=cell_dim, exclude_dims=(time_dim, y_dim, x_dim), cell_only=True
    )
    return out.assign_coords(extra) if extra else out


def _lag_text(lag: Any) -> str:
    delta = pd.Timedelta(lag)
    seconds = delta.total_seconds()
    if seconds % 60 == 0:
        return f"{int(seconds // 60)}min"
    return f"{seconds:g}s"


def _pieces(
    starts: Sequence[int] | NDArray[Any],
    stops: Sequence[int] | NDArray[Any],
    partner_idx: NDArray[np.intp],
) -> list[tuple[int, int, int, NDArray[np.intp]]]:
    """For each block: its start, stop, prefix start and local partner positions."""
    out = []
    for start, stop in zip(starts, stops, strict=True):
        first = int(min(start, partner_idx[start:stop].min())) if stop > start else start
        local = (partner_idx[start:stop] - first).astype(np.intp)
        out.append((int(start), int(stop), first, local))
    return out


def _merge_short_chunks(chunks: Sequence[int], depth: int) -> tuple[int, ...]:
    """Chunks along time merged so that every chunk but the last has ``depth`` frames or more."""
    out: list[int] = []
    run = 0
    for size in chunks:
        run += size
        if run >= depth:
            out.append(run)
            run = 0
    if run:
        if out:
            out[-1] += run
        else:
            out.append(run)
    return tuple(out)


def _tail(block: NDArray[Any], size: NDArray[Any]) -> NDArray[Any]:
    n = int(np.asarray(size).reshape(-1)[0])
    return block[block.shape[0] - n :] if n else block[:0]


def _lazy_statistic(
    image: da.Array,
    partner_idx: NDArray[np.intp],
    observed: NDArray[np.bool_],
    cell_index: NDArray[Any],
    kwargs: dict[str, Any],
) -> da.Array:
    """The kernel on every time chunk with the tail of the chunk before it.

    The partners of chunk ``k`` lie in chunk ``k`` or in the last few frames
    of chunk ``k - 1`` (chunks shorter than the largest partner distance are
    merged first). Each task reads its own chunk and that tail only, so the
    dask scheduler streams through the cube with a couple of chunks in memory,
    and the graph keeps one layer per step whatever the number of chunks.
    """
    n = int(image.shape[0])
    own = np.arange(n)
    depth = int(np.max(own - partner_idx)) if n else 0
    chunks = image.chunks[0]
    if depth and min(chunks[:-1], default=depth) < depth:
        image = image.rechunk({0: _merge_short_chunks(chunks, depth)})
        chunks = image.chunks[0]
    bounds = np.cumsum((0, *chunks))
    pieces = _pieces(bounds[:-1], bounds[1:], partner_idx)
    need = [start - first for start, _, first, _ in pieces]  # frames wanted from the previous chunk
    tail_sizes = (*need[1:], 0)  # what each chunk must hand on to the next
    tails = da.blockwise(
        _tail,
        "tyxk",
        image,
        "tyxk",
        da.from_array(np.asarray(tail_sizes, dtype=np.int64), chunks=1),
        "t",
        align_arrays=False,
        concatenate=True,
        adjust_chunks={"t": tail_sizes},
        dtype=image.dtype,
        meta=np.empty((0, 0, 0, 0), dtype=image.dtype),
    )
    empty = da.zeros((0, *image.shape[1:]), dtype=image.dtype, chunks=-1)
    local = da.from_array(np.concatenate([p[3] for p in pieces]), chunks=(chunks,))
    seen = da.from_array(np.asarray(observed, dtype=bool), chunks=(chunks,))
    labels = da.from_array(np.asarray(cell_index), chunks=-1)
    n_cells, n_channels = kwargs["n_cells"], len(kwargs["channel_idx"])

    def apply(frames: da.Array, prefix: da.Array, where: da.Array, ok: da.Array) -> da.Array:
        return da.blockwise(
            chunk_statistic_kernel,
            "tcs",
            frames,
            "tyxk",
            prefix,
            "tyxk",
            where,
            "t",
            ok,
            "t",
            labels,
            "yx",
            new_axes={"c": n_cells, "s": n_channels},
            align_arrays=False,
            concatenate=True,
            dtype=np.float32,
            meta=np.empty((0, 0, 0), dtype=np.float32),
            **kwargs,
        )

    # chunk 0 has no earlier frames; chunk k >= 1 pairs with the tail of chunk k - 1
    first = apply(image.blocks[:1], empty, local.blocks[:1], seen.blocks[:1])
    if len(chunks) == 1:
        return first
    rest = apply(image.blocks[1:], tails.blocks[:-1], local.blocks[1:], seen.blocks[1:])
    return da.concatenate([first, rest], axis=0)


def _blocked_statistic(
    image: NDArray[Any],
    partner_idx: NDArray[np.intp],
    observed: NDArray[np.bool_],
    cell_index: NDArray[Any],
    kwargs: dict[str, Any],
    block: int = 64,
) -> NDArray[np.float32]:
    """The kernel over an in-memory cube, ``block`` frames at a time (bounded memory)."""
    n = image.shape[0]
    starts = list(range(0, n, block))
    stops = [min(s + block, n) for s in starts]
    parts = [
        chunk_statistic_kernel(
            image[start:stop],
            image[first:start],
            local,
            observed[start:stop],
            cell_index,
            **kwargs,
        )
        for start, stop, first, local in _pieces(starts, stops, partner_idx)
    ]
    if not parts:
        return np.zeros((0, kwargs["n_cells"], len(kwargs["channel_idx"])), dtype=np.float32)
    return np.concatenate(parts, axis=0)
