"""Polar occurrence map of one MLT bin.

The cells are drawn as polygons from their vertices in the geomagnetic view
(magnetic north up, magnetic east left, zenith angle as radius), coloured by
the value of the product; cells without observations (NaN) are grey and
hatched. The grid of every MLT bin is in :mod:`aurora_xr.plot.mlt_grid`, the
two detectors compared in :mod:`aurora_xr.plot.comparison`.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.colors import Colormap, Normalize

from ..errors import MissingDimensionError, SchemaError
from ._cell_maps import draw_cell_map, linear_norm
from ._cells import nan_patch
from ._loading import compute_together, require_cell_dims
from ._products import hour_text, mlt_bin, product_cells, select_variable, value_label
from ._style import DEFAULT_ELEVATIONS, SIZE_LABEL, SIZE_SMALL, SIZE_TITLE

__all__ = ["mlt_bin", "plot_occurrence"]


def plot_occurrence(
    occ: xr.Dataset,
    *,
    mlt: float,
    detector: Any = None,
    variable: Hashable = "occurrence_rate",
    sel: Mapping[Hashable, Any] | None = None,
    cells: xr.Dataset | None = None,
    ax: Axes | None = None,
    vmin: float | None = 0.0,
    vmax: float | None = None,
    cmap: str | Colormap = "viridis",
    norm: Normalize | None = None,
    colorbar: bool = True,
    title: str | None = None,
    elevation_circles: Iterable[float] = DEFAULT_ELEVATIONS,
    mlt_dim: Hashable = "mlt",
    detector_dim: Hashable = "detector",
    cell_dim: Hashable = "cell",
) -> Axes:
    """Polar occurrence map of one MLT bin.

    Parameters
    ----------
    occ : xarray.Dataset
        Occurrence product on (``mlt``, ``cell``) (optionally ``detector``,
        ``year``, ``season``) with the cell vertex coordinates.
    mlt : float
        Any hour inside the wanted bin (``7`` and ``7.5`` both give 07-08 MLT).
    detector : str, optional
        ``"fcn"`` or ``"difference"`` when the product has a ``detector`` dim
        (needed when it holds more than one).
    variable : hashable
        Variable to colour by (``occurrence_rate``, ``rate_ratio``, ``n_aurora``...).
    sel : mapping, optional
        Further selection, e.g. ``{"year": 2020}`` or ``{"season": "winter"}``.
    cells : xarray.Dataset, optional
        Cell grid with the vertices when ``occ`` does not carry them.
    ax : matplotlib.axes.Axes, optional
        Cartesian axes to draw into; a new figure otherwise.
    vmin, vmax : float, optional
        Colour range; ``vmax`` defaults to the largest value shown.
    cmap : str or Colormap
        Colour map.
    norm : matplotlib.colors.Normalize, optional
        Overrides ``vmin``/``vmax`` (e.g. a ``LogNorm`` for ratios).
    colorbar : bool
        Add a colour bar.
    title : str, optional
        Default ``"<detector> · MLT hh–hh"``.
    elevation_circles : iterable of float
        Elevations (degrees) of the labelled circles.
    mlt_dim, detector_dim, cell_dim : hashable
        Dimension names.

    Returns
    -------
    matplotlib.axes.Axes
    """
    da, label = select_variable(
        occ, variable=variable, detector=detector, sel=sel, detector_dim=detector_dim
    )
    if mlt_dim not in da.dims:
        raise MissingDimensionError(
            f"expected {variable!r} with a {mlt_dim!r} dim; found dims {tuple(da.dims)}"
        )
    i, lo, hi = mlt_bin(da[mlt_dim].values, mlt)
    one = da.isel({mlt_dim: i})
    require_cell_dims(one, cell_dim, repr(variable))
    polys, north = product_cells(occ, cells, cell_dim)
    (one,) = compute_together(one)
    values = np.asarray(one.values, dtype=float)
    if values.shape != (len(polys),):
        raise SchemaError(f"{values.size} values for {len(polys)} cells")
    if ax is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(4.6, 4.0), layout="constrained")
        ax = fig.add_subplot()
    nrm = linear_norm(values, norm, vmin, vmax)
    coll = draw_cell_map(
        ax,
        polys,
        values,
        cmap=cmap,
        norm=nrm,
        north=north,
        elevations=elevation_circles,
        compact=False,
    )
    if colorbar:
        cb = ax.get_figure().colorbar(coll, ax=ax, shrink=0.78, pad=0.02)  # type: ignore[union-attr]
        cb.set_label(value_label(da, variable), fontsize=SIZE_LABEL)
        cb.ax.tick_params(labelsize=SIZE_SMALL)
    if np.isnan(values).any():
        ax.legend(
            handles=[nan_patch()],
            loc="lower right",
            fontsize=SIZE_SMALL,
            frameon=False,
            handlelength=1.2,
            borderaxespad=0.0,
        )
    if title is None:
        title = " · ".join(s for s in (label, f"MLT {hour_text(lo)}–{hour_text(hi)}") if s)
    if title:
        ax.set_title(title, fontsize=SIZE_TITLE)
    return ax
