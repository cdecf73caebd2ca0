"""The grid of MLT maps: every MLT bin of a product, one block per detector, one colour bar."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Colormap, LogNorm, Normalize
from matplotlib.figure import Figure

from ..errors import MissingDimensionError, OptionError
from ._cell_maps import draw_cell_map, linear_norm, ratio_ticks
from ._cells import nan_patch, none_patch
from ._loading import compute_together
from ._polar import corner_text
from ._products import (
    hour_text,
    mlt_bin,
    pick_detectors,
    product_cells,
    select_variable,
    value_label,
)
from ._style import SIZE_LABEL, SIZE_SMALL, SIZE_TITLE

__all__ = ["plot_occurrence_grid"]


def plot_occurrence_grid(
    occ: xr.Dataset,
    *,
    detectors: Sequence[Any] | Any | None = None,
    variable: Hashable = "occurrence_rate",
    sel: Mapping[Hashable, Any] | None = None,
    cells: xr.Dataset | None = None,
    vmin: float | None = 0.0,
    vmax: float | None = None,
    cmap: str | Colormap = "viridis",
    norm: Normalize | None = None,
    ncols: int = 6,
    panel_size: float = 1.25,
    elevation_circles: Iterable[float] = (30, 60),
    title: str | None = None,
    mlt_dim: Hashable = "mlt",
    detector_dim: Hashable = "detector",
    cell_dim: Hashable = "cell",
    blank: xr.DataArray | None = None,
) -> Figure:
    """The maps of every MLT bin, one block per detector side by side, one colour bar.

    Parameters
    ----------
    occ : xarray.Dataset
        Occurrence product (see :func:`plot_occurrence`).
    detectors : str or sequence, optional
        Detectors to show (default all in the ``detector`` dim, or the single one).
    variable, sel, cells, vmin, vmax, cmap, norm
        As in :func:`plot_occurrence`; the colour range is shared by all panels.
    ncols : int
        Panels per row in each detector's block (24 bins: 6 gives 4 rows).
    panel_size : float
        Size of one panel in inches.
    elevation_circles : iterable of float
        Faint elevation circles drawn in each panel.
    title : str, optional
        Figure title.
    mlt_dim, detector_dim, cell_dim : hashable
        Dimension names.
    blank : xarray.DataArray, optional
        Booleans on the MLT and cell dims: observed cells with nothing to
        colour, drawn white and listed in the
        legend as "no aurora in either method" (:func:`plot_comparison` uses
        it for ratios of two zero rates).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    if not isinstance(occ, xr.Dataset) or variable not in occ.data_vars:
        select_variable(occ, variable=variable, detector=None, sel=None, detector_dim=detector_dim)
    chosen = pick_detectors(occ[variable], detectors, detector_dim)
    blocks: list[tuple[str, xr.DataArray]] = []
    for m in chosen:
        da, label = select_variable(
            occ, variable=variable, detector=m, sel=sel, detector_dim=detector_dim
        )
        if mlt_dim not in da.dims:
            raise MissingDimensionError(
                f"expected {variable!r} with a {mlt_dim!r} dim; found dims {tuple(da.dims)}"
            )
        extra = [d for d in da.dims if d not in (mlt_dim, cell_dim)]
        if extra:
            raise MissingDimensionError(
                f"expected {variable!r} on ({mlt_dim!r}, {cell_dim!r}) after selection; "
                f"found extra dims {extra} (select them with sel=)"
            )
        blocks.append((label, da.transpose(mlt_dim, cell_dim)))
    polys, _ = product_cells(occ, cells, cell_dim)
    arrays = compute_together(*(b[1] for b in blocks))
    values = [np.asarray(a.values, dtype=float) for a in arrays]
    blanks: np.ndarray | None = None
    if blank is not None:
        blanks = np.asarray(blank.transpose(mlt_dim, cell_dim).values, dtype=bool)
        if blanks.shape != values[0].shape:
            raise OptionError(
                f"blank must have the shape of the maps {values[0].shape}; found {blanks.shape}"
            )
    nrm = linear_norm(np.concatenate([v.ravel() for v in values]), norm, vmin, vmax)
    nbins = values[0].shape[0]
    ncols = max(1, min(int(ncols), nbins))
    nrows = -(-nbins // ncols)
    nblocks = len(blocks)
    gap, cbar = 0.22, 0.10
    ratios: list[float] = []
    for k in range(nblocks):
        ratios += [1.0] * ncols + ([gap] if k < nblocks - 1 else [])
    ratios += [0.06, cbar]
    width = panel_size * sum(ratios) + 0.9
    height = panel_size * nrows + 1.0
    fig = plt.figure(figsize=(width, height))
    gs = fig.add_gridspec(
        nrows,
        len(ratios),
        width_ratios=ratios,
        left=0.01,
        right=0.94,
        bottom=0.3 / height,
        top=1 - 0.62 / height,
        wspace=0.03,
        hspace=0.06,
    )
    rings = ", ".join(f"{float(e):g}°" for e in elevation_circles)
    fig.text(
        0.01,
        0.08 / height,
        "MLT bin in each panel's corner · magnetic north up, magnetic east left"
        + (f" · circles at {rings} elevation" if rings else ""),
        ha="left",
        va="bottom",
        fontsize=SIZE_SMALL,
        color="0.3",
    )
    centres = arrays[0][mlt_dim].values
    mappable = None
    any_nan = False
    for k, ((label, _), vals) in enumerate(zip(blocks, values, strict=True)):
        col0 = k * (ncols + 1)
        for b in range(nbins):
            ax = fig.add_subplot(gs[b // ncols, col0 + b % ncols])
            mappable = draw_cell_map(
                ax,
                polys,
                vals[b],
                cmap=cmap,
                norm=nrm,
                north=None,
                elevations=elevation_circles,
                compact=True,
                blank=None if blanks is None else blanks[b],
            )
            ax.set_gid(f"mlt_{k}_{b}")
            shown = vals[b] if blanks is None else vals[b][~blanks[b]]
            any_nan = any_nan or bool(np.isnan(shown).any())
            _, lo, hi = mlt_bin(centres, float(centres[b]))
            corner_text(
                ax,
                f"{hour_text(lo)}–{hour_text(hi)}",
                loc="upper left",
                fontsize=SIZE_SMALL - 0.5,
                color="0.2",
            )
        left = gs[0, col0].get_position(fig).x0
        right = gs[0, col0 + ncols - 1].get_position(fig).x1
        fig.text(
            (left + right) / 2.0,
            1 - 0.18 / height,
            label or str(variable),
            ha="center",
            va="top",
            fontsize=SIZE_TITLE,
            fontweight="bold",
        )
    cax = fig.add_subplot(gs[max(0, nrows // 2 - 1) : max(1, nrows // 2 + 1), -1])
    sm = ScalarMappable(norm=nrm, cmap=mappable.get_cmap() if mappable is not None else cmap)
    cb = fig.colorbar(sm, cax=cax)
    cb.set_label(value_label(occ[variable], variable), fontsize=SIZE_LABEL)
    if isinstance(nrm, LogNorm):
        ratio_ticks(cb, nrm)
    cb.ax.tick_params(labelsize=SIZE_SMALL)
    handles = [nan_patch()] if any_nan else []
    if blanks is not None and blanks.any():
        handles.append(none_patch())
    if handles:
        fig.legend(
            handles=handles,
            loc="lower right",
            fontsize=SIZE_SMALL,
            frameon=False,
            handlelength=1.2,
            bbox_to_anchor=(1.0, 0.0),
        )
    if title:
        fig.suptitle(title, fontsize=SIZE_TITLE + 1, y=1.0)
    return fig
