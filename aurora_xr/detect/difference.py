"""The difference method of Jee et al. (2021, J. Astron. Space Sci. 38(4) 203-215).

Two frames taken ``lag`` apart (1 or 2 minutes) are subtracted; in the R and
G channels a statistic of the pixel differences is evaluated in each
equal-area sky cell, and a cell is auroral in a frame when the statistic of
either channel exceeds its threshold. The static background (stars, the
Milky Way, station lights) cancels; so does aurora that neither moves nor
changes brightness between the two frames, which the method therefore misses.

The kernels (frame partners, per-cell statistics) are in
:mod:`aurora_xr.detect.difference_kernels`, their lazy assembly over the cube's time
chunks in :mod:`aurora_xr.detect.difference_chunks`. A single-channel camera is
differenced in its one channel (with the green channel's default threshold).

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

import numpy as np
import pandas as pd
import xarray as xr

from ..cube.context import CubeContext, context_of
from ..cube.grid import cell_coords, context_cells
from ..errors import DtypeError, OptionError
from .difference_chunks import blocked_statistic, lazy_statistic
from .difference_kernels import STATISTICS, partner_indices

__all__ = ["DEFAULT_THRESHOLDS", "STATISTICS", "difference_detect"]

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


def difference_detect(
    ds: xr.Dataset,
    *,
    lag: Any = "2min",
    channels: Sequence[str] | None = None,
    threshold: float | Mapping[str, float] | Sequence[float] | None = None,
    statistic: str = "mean_abs",
    tolerance: Any = None,
    cells: xr.Dataset | xr.DataArray | None = None,
    n_cells: int = 400,
    min_elevation: float = 10.0,
    altitude_km: float = 110.0,
    context: CubeContext | None = None,
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
        Image cube with ``image`` (time, y, x, channel), colour or single-channel.
    lag : str, timedelta or numpy.timedelta64
        Time between a frame and its partner; default 2 minutes.
    channels : sequence of str, optional
        Channels to difference; a cell is auroral when any of them exceeds its
        threshold. Default R and G of a colour cube, or the one channel of a
        single-channel cube.
    threshold : float, mapping channel -> float or sequence, optional
        Thresholds of the statistic, in counts; default :data:`DEFAULT_THRESHOLDS`
        (a single band takes the green channel's).
    statistic : {"mean_abs", "abs_mean", "rms"}
        Per-cell statistic of the differences (:data:`STATISTICS`).
    tolerance : str or timedelta, optional
        Accept the nearest earlier frame within this of ``t - lag`` (default: exact).
    cells : xarray.Dataset or xarray.DataArray, optional
        Cell grid (with ``cell_index``) or bare ``cell_index``; default the
        context's cells, the cube's ``cell_index`` or
        :func:`aurora_xr.cube.grid.cell_grid` with ``n_cells``, ``min_elevation``
        and ``altitude_km``.
    n_cells, min_elevation, altitude_km : optional
        Options of the cell grid when it is built here.
    context : CubeContext, optional
        The cube's context when the caller has resolved it already.
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

        with the cell coordinates of the grid and the detector, lag, statistic and
        thresholds in the attributes.
    """
    ctx = context_of(
        ds,
        context,
        image_var=image_var,
        time_dim=time_dim,
        y_dim=y_dim,
        x_dim=x_dim,
        channel_dim=channel_dim,
        require_image=True,
    )
    if statistic not in STATISTICS:
        raise OptionError(f"expected statistic one of {STATISTICS}; found {statistic!r}")
    image = ds[image_var]
    if image.dtype.kind != "u":
        raise DtypeError(f"expected unsigned integer frames; found {image.dtype}")
    names, channel_idx = _channels(channels, ctx.channels)
    thresholds = _thresholds(threshold, names, statistic, image.dtype)
    ctx = context_cells(
        ds,
        ctx,
        cells,
        n_cells=n_cells,
        min_elevation=min_elevation,
        altitude_km=altitude_km,
        cell_dim=cell_dim,
    )
    labels, count, grid = ctx.require_cells()
    partner_idx, observed_np = partner_indices(ds[time_dim].values, lag, tolerance=tolerance)
    observed = xr.DataArray(observed_np, dims=(time_dim,), coords={time_dim: ds[time_dim]})
    kwargs: dict[str, Any] = {"channel_idx": channel_idx, "statistic": statistic, "n_cells": count}
    data: Any
    if image.chunks is not None:
        image = image.chunk({y_dim: -1, x_dim: -1, channel_dim: -1})
        data = lazy_statistic(image.data, partner_idx, observed_np, labels.values, kwargs)
        observed = observed.chunk({time_dim: image.chunksizes[time_dim]})
    else:
        data = blocked_statistic(image.values, partner_idx, observed_np, labels.values, kwargs)
    stat_dim = "__difference_channel"
    stat = xr.DataArray(data, dims=(time_dim, cell_dim, stat_dim), coords={time_dim: ds[time_dim]})
    stat = stat.rename({stat_dim: channel_dim}).assign_coords({channel_dim: names})
    limit = xr.DataArray(
        np.asarray(thresholds, np.float32), dims=(channel_dim,), coords={channel_dim: names}
    )
    detection = (stat > limit).any([channel_dim]) & observed
    attrs = _attrs(lag, tolerance, statistic, names, thresholds, count)
    out = _result(detection, observed, stat, attrs)
    extra = cell_coords(
        grid, cell_dim=cell_dim, exclude_dims=(time_dim, y_dim, x_dim), cell_only=True
    )
    return out.assign_coords(extra) if extra else out


def _channels(
    wanted: Sequence[str] | str | None, present: Sequence[str]
) -> tuple[list[str], list[int]]:
    """The channel names to difference and their positions in the frames."""
    names = list(present) or ["R", "G", "B"]
    if wanted is None:
        wanted = ["R", "G"] if len(names) == 3 else names
    chosen = [str(ch) for ch in ([wanted] if isinstance(wanted, str) else wanted)]
    if not chosen:
        raise OptionError("expected at least one channel to difference; found none")
    unknown = [ch for ch in chosen if ch not in names]
    if unknown:
        raise OptionError(f"expected channels among {names}; found {unknown}")
    return chosen, [names.index(ch) for ch in chosen]


def _thresholds(
    threshold: float | Mapping[str, float] | Sequence[float] | None,
    channels: Sequence[str],
    statistic: str,
    dtype: np.dtype[Any],
) -> list[float]:
    if threshold is None:
        scale = 1.0 if dtype.itemsize == 1 else 65535.0 / 255.0
        table = DEFAULT_THRESHOLDS[statistic]
        return [table.get(ch, table["G"]) * scale for ch in channels]
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


def _attrs(
    lag: Any,
    tolerance: Any,
    statistic: str,
    channels: list[str],
    thresholds: list[float],
    n_cells: int,
) -> dict[str, Any]:
    return {
        "detector": "difference",
        "difference_lag": _lag_text(lag),
        "difference_lag_seconds": pd.Timedelta(lag).total_seconds(),
        "difference_tolerance_seconds": (
            0.0 if tolerance is None else pd.Timedelta(tolerance).total_seconds()
        ),
        "difference_statistic": statistic,
        "difference_channels": ",".join(channels),
        **{f"difference_threshold_{ch}": thr for ch, thr in zip(channels, thresholds, strict=True)},
        "n_cells": n_cells,
    }


def _result(
    detection: xr.DataArray, observed: xr.DataArray, stat: xr.DataArray, attrs: dict[str, Any]
) -> xr.Dataset:
    statistic = attrs["difference_statistic"]
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
    return xr.Dataset(
        {
            "difference_detection": detection,
            "difference_observed": observed,
            "difference_statistic": stat,
        },
        attrs=attrs,
    )


def _lag_text(lag: Any) -> str:
    delta = pd.Timedelta(lag)
    seconds = delta.total_seconds()
    if seconds % 60 == 0:
        return f"{int(seconds // 60)}min"
    return f"{seconds:g}s"
