"""The two detectors compared: their rates and their ratio, for one MLT bin or all of them.

On the ratio maps a cell where only the numerator's rate is positive gets the colour
beyond the top of the colour bar, one where only the denominator's is positive the colour
below its bottom, and one where both rates are 0 is white ("no aurora in either method");
grey hatching is kept for cells that either detector did not observe.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.colors import Colormap, LogNorm
from matplotlib.figure import Figure

from ..errors import OptionError
from ._cell_maps import draw_cell_map, linear_norm, ratio_ticks
from ._cells import nan_patch, none_patch
from ._loading import compute_together, require_cell_dims
from ._products import LABELS, hour_text, mlt_bin, product_cells, select_variable
from ._style import DEFAULT_ELEVATIONS, SIZE_LABEL, SIZE_SMALL, SIZE_TITLE, detector_label
from .mlt_grid import plot_occurrence_grid

__all__ = ["plot_comparison"]


def _ratio_norm(values: np.ndarray, limit: float = 100.0) -> LogNorm:
    """A logarithmic colour range centred on 1, spanning the ratios (2x to ``limit``x)."""
    finite = values[np.isfinite(values) & (values > 0)]
    span = float(np.max(np.abs(np.log10(finite)))) if finite.size else 1.0
    span = min(max(span, np.log10(2.0)), np.log10(limit))
    return LogNorm(vmin=10.0**-span, vmax=10.0**span)


def _ratio_display(
    ratio: np.ndarray, num: np.ndarray, den: np.ndarray, norm: LogNorm
) -> tuple[np.ndarray, np.ndarray]:
    """Ratio values to colour, and the cells where both rates are 0.

    A ratio with a zero denominator is NaN in the product; where the
    numerator is positive it is drawn beyond the top of the colour bar (its
    "over" colour), a zero ratio below the bottom, and 0/0 as "no aurora in
    either method". NaN stays "not observed" where either rate is NaN.
    """
    top, bottom = float(norm.vmax or 1.0), float(norm.vmin or 1.0)
    shown = np.array(ratio, dtype=float, copy=True)
    shown[(num > 0) & (den == 0)] = top * 10.0
    shown[(num == 0) & (den > 0)] = bottom / 10.0
    return shown, (num == 0) & (den == 0)


def plot_comparison(
    cmp: xr.Dataset,
    *,
    mlt: float | None = None,
    detectors: Sequence[str] = ("fcn", "difference"),
    ratio_var: Hashable = "rate_ratio",
    variable: Hashable = "occurrence_rate",
    sel: Mapping[Hashable, Any] | None = None,
    cells: xr.Dataset | None = None,
    vmax: float | None = None,
    cmap: str | Colormap = "viridis",
    ratio_cmap: str | Colormap = "RdBu_r",
    mlt_dim: Hashable = "mlt",
    detector_dim: Hashable = "detector",
    cell_dim: Hashable = "cell",
) -> Figure:
    """The two methods compared (output of ``compare_methods``).

    With ``mlt``: three maps of that bin, the FCN rate, the difference-method
    rate (one colour bar) and their ratio (logarithmic, centred on 1). Without:
    the grid of ratio maps over all MLT bins.

    On the ratio maps a cell where only the numerator's rate is positive gets
    the colour beyond the top of the bar, one where only the denominator's is
    positive the colour below its bottom, and one where both rates are 0 is
    white ("no aurora in either method"); grey hatching is kept for cells
    that either method did not observe.

    Parameters
    ----------
    cmp : xarray.Dataset
        ``occurrence_rate`` on (detector, mlt, cell) and ``rate_ratio`` on (mlt, cell).
    mlt : float, optional
        Hour inside the bin to show.
    detectors : (str, str)
        The two detectors, numerator first.
    ratio_var, variable : hashable
        Names of the ratio and of the rates.
    sel, cells
        As in :func:`plot_occurrence`.
    vmax : float, optional
        Upper end of the rate colour range (default the largest rate shown).
    cmap, ratio_cmap : str or Colormap
        Colour maps of the rates and of the ratio.
    mlt_dim, detector_dim, cell_dim : hashable
        Dimension names.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    if not isinstance(cmp, xr.Dataset) or ratio_var not in cmp.data_vars:
        select_variable(cmp, variable=ratio_var, detector=None, sel=None, detector_dim=detector_dim)
    ratio = cmp[ratio_var]
    if len(detectors) != 2:
        raise OptionError(f"detectors must name two detectors; found {detectors}")
    if mlt is None:
        ratio_all = ratio.sel(dict(sel)) if sel else ratio
        pair = [
            select_variable(cmp, variable=variable, detector=m, sel=sel, detector_dim=detector_dim)[
                0
            ]
            for m in detectors
        ]
        ratio_all, num, den = compute_together(ratio_all, *pair)
        norm = _ratio_norm(np.asarray(ratio_all.values, dtype=float))
        shown, blank = _ratio_display(
            np.asarray(ratio_all.values, dtype=float),
            np.asarray(num.transpose(*ratio_all.dims).values, dtype=float),
            np.asarray(den.transpose(*ratio_all.dims).values, dtype=float),
            norm,
        )
        sub = cmp.assign({ratio_var: ratio_all.copy(data=shown)})
        return plot_occurrence_grid(
            sub,
            variable=ratio_var,
            cells=cells,
            norm=norm,
            cmap=ratio_cmap,
            mlt_dim=mlt_dim,
            detector_dim=detector_dim,
            cell_dim=cell_dim,
            title="Occurrence-rate ratio, FCN / difference method",
            blank=ratio_all.copy(data=blank),
        )
    rates = []
    for m in detectors:
        da, _ = select_variable(
            cmp, variable=variable, detector=m, sel=sel, detector_dim=detector_dim
        )
        rates.append(da)
    i, lo, hi = mlt_bin(cmp[mlt_dim].values, mlt)
    one = [r.isel({mlt_dim: i}) for r in rates]
    rsel = ratio.sel(dict(sel)) if sel else ratio
    one.append(rsel.isel({mlt_dim: i}))
    for da in one:
        require_cell_dims(da, cell_dim, "the compared variables")
    loaded = compute_together(*one)
    vals = [np.asarray(v.values, dtype=float) for v in loaded]
    polys, north = product_cells(cmp, cells, cell_dim)
    rate_norm = linear_norm(np.concatenate(vals[:2]), None, 0.0, vmax)
    fig = plt.figure(figsize=(11.0, 3.9), layout="constrained")
    axes = fig.subplots(1, 3)
    for k, ax in enumerate(axes[:2]):
        coll = draw_cell_map(
            ax,
            polys,
            vals[k],
            cmap=cmap,
            norm=rate_norm,
            north=north,
            elevations=DEFAULT_ELEVATIONS,
            compact=False,
        )
        ax.set_title(f"({'ab'[k]}) {detector_label(detectors[k])}", fontsize=SIZE_TITLE)
    cb = fig.colorbar(coll, ax=list(axes[:2]), shrink=0.78, pad=0.02)
    cb.set_label(LABELS["occurrence_rate"], fontsize=SIZE_LABEL)
    cb.ax.tick_params(labelsize=SIZE_SMALL)
    rnorm = _ratio_norm(vals[2])
    shown, blank = _ratio_display(vals[2], vals[0], vals[1], rnorm)
    coll = draw_cell_map(
        axes[2],
        polys,
        shown,
        cmap=ratio_cmap,
        norm=rnorm,
        north=north,
        elevations=DEFAULT_ELEVATIONS,
        compact=False,
        blank=blank,
    )
    axes[2].set_title(
        f"(c) {detector_label(detectors[0])} / {detector_label(detectors[1])}", fontsize=SIZE_TITLE
    )
    cb = fig.colorbar(coll, ax=axes[2], shrink=0.78, pad=0.02, extend="both")
    cb.set_label("rate ratio", fontsize=SIZE_LABEL)
    ratio_ticks(cb, rnorm)
    cb.ax.tick_params(labelsize=SIZE_SMALL)
    handles = [nan_patch()] if any(np.isnan(v).any() for v in (*vals[:2], shown)) else []
    if blank.any():
        handles.append(none_patch())
    if handles:
        fig.legend(
            handles=handles,
            loc="lower right",
            fontsize=SIZE_SMALL,
            frameon=False,
            handlelength=1.2,
        )
    fig.suptitle(f"MLT {hour_text(lo)}–{hour_text(hi)}", fontsize=SIZE_TITLE + 1)
    return fig
