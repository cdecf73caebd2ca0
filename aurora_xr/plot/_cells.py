"""Cells as polygons in the polar display frame: their vertices, outlines and colours.

A cell's edges follow circles of elevation between its vertices (elevation and magnetic
azimuth from :func:`aurora_xr.cube.grid.cell_grid`); cells without observations are
grey and hatched, observed cells with nothing to colour (a ratio 0/0) white.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.colors import Colormap, Normalize
from matplotlib.patches import Patch

from ..errors import MissingDimensionError, MissingVariableError
from ._loading import compute_together
from ._polar import RadiusFn, sky_xy, zenith_radius
from ._style import NAN_EDGE, NAN_FACE, NAN_HATCH, NAN_LABEL, NONE_EDGE, NONE_FACE, NONE_LABEL

__all__ = ["add_cells", "cell_vertices", "densify", "nan_patch", "none_patch", "sky_polygons"]


def cell_vertices(source: xr.Dataset, cell_dim: Hashable) -> tuple[np.ndarray, np.ndarray]:
    """(n_cells, n_vertices) elevation and magnetic azimuth of the cell corners."""
    names = ("cell_vertices_elevation", "cell_vertices_azimuth_mag")
    missing = [n for n in names if n not in source.variables]
    if missing:
        raise MissingVariableError(
            f"expected cell vertices {', '.join(names)} (from aurora_xr.cube.grid.cell_grid); "
            f"missing {', '.join(missing)}; pass cells=<cell grid>"
        )
    el = source[names[0]]
    az = source[names[1]]
    if cell_dim not in el.dims or el.ndim != 2:
        raise MissingDimensionError(
            f"expected {names[0]} on ({cell_dim!r}, vertex); found dims {tuple(el.dims)}"
        )
    vdim = next(d for d in el.dims if d != cell_dim)
    el_v, az_v = compute_together(el.transpose(cell_dim, vdim), az.transpose(cell_dim, vdim))
    return np.asarray(el_v.values, dtype=float), np.asarray(az_v.values, dtype=float)


def densify(
    a: np.ndarray, b: np.ndarray, steps: int, *, periodic_b: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Points along the closed polygon (a, b) with ``steps`` points per edge.

    ``b`` is an angle in degrees when ``periodic_b`` (edges take the short way round).
    """
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    if a.size == 0:
        return a, b
    a2, b2 = np.roll(a, -1), np.roll(b, -1)
    db = b2 - b
    if periodic_b:
        db = (db + 180.0) % 360.0 - 180.0
    t = np.linspace(0.0, 1.0, steps, endpoint=False)
    aa = a[:, None] + (a2 - a)[:, None] * t
    bb = b[:, None] + db[:, None] * t
    return aa.ravel(), bb.ravel()


def sky_polygons(
    el_vertices: np.ndarray,
    azmag_vertices: np.ndarray,
    radius_of_elevation: RadiusFn = zenith_radius,
    *,
    steps: int | None = None,
) -> list[np.ndarray]:
    """Display polygons of the cells; edges follow circles of elevation.

    ``steps`` points per edge (default: enough for about 24 points per cell).
    """
    if steps is None:
        steps = max(1, -(-24 // max(1, el_vertices.shape[-1])))
    polys: list[np.ndarray] = []
    for el, az in zip(el_vertices, azmag_vertices, strict=True):
        de, da = densify(el, az, steps, periodic_b=True)
        x, y = sky_xy(radius_of_elevation(de), da)
        polys.append(np.column_stack([x, y]))
    return polys


def add_cells(
    ax: Axes,
    polys: Sequence[np.ndarray],
    values: np.ndarray | None,
    *,
    cmap: Colormap | None = None,
    norm: Normalize | None = None,
    edgecolor: Any = "white",
    linewidth: float = 0.25,
    zorder: float = 2.0,
    blank: np.ndarray | None = None,
    **kwargs: Any,
) -> tuple[PolyCollection, PolyCollection | None]:
    """Draw cells coloured by ``values``; NaN cells grey and hatched.

    Returns the collection of observed cells (gid ``"cells"``, its ``array``
    holds their values in cell order) and that of the NaN cells (gid
    ``"cells_not_observed"``) or None. Cells where the boolean ``blank`` is
    True are drawn white with a grey edge instead (gid ``"cells_no_aurora"``,
    legend :func:`none_patch`): observed, but with no value to colour, such
    as a ratio of two zero rates.
    """
    if values is None:
        coll = PolyCollection(
            list(polys),
            facecolors="none",
            edgecolors=edgecolor,
            linewidths=linewidth,
            zorder=zorder,
            **kwargs,
        )
        coll.set_gid("cells")
        ax.add_collection(coll)
        return coll, None
    values = np.asarray(values, dtype=float)
    blanked = np.zeros(values.shape, bool) if blank is None else np.asarray(blank, bool)
    if blanked.any():
        _add_styled(ax, polys, blanked, "cells_no_aurora", linewidth, zorder, NONE_FACE, NONE_EDGE)
        polys = [p for p, b in zip(polys, blanked, strict=True) if not b]
        values = values[~blanked]
    bad = ~np.isfinite(values)
    good_polys = [p for p, b in zip(polys, bad, strict=True) if not b]
    coll = PolyCollection(
        good_polys,
        array=values[~bad],
        cmap=cmap,
        norm=norm,
        edgecolors=edgecolor,
        linewidths=linewidth,
        zorder=zorder,
        **kwargs,
    )
    coll.set_gid("cells")
    ax.add_collection(coll)
    nan_coll: PolyCollection | None = None
    if bad.any():
        nan_coll = _add_styled(
            ax, polys, bad, "cells_not_observed", linewidth, zorder, NAN_FACE, NAN_EDGE, NAN_HATCH
        )
    return coll, nan_coll


def _add_styled(
    ax: Axes,
    polys: Sequence[np.ndarray],
    chosen: np.ndarray,
    gid: str,
    linewidth: float,
    zorder: float,
    face: str,
    edge: str,
    hatch: str | None = None,
) -> PolyCollection:
    """The ``chosen`` cells in one fixed style (no colour map), added to ``ax``."""
    coll = PolyCollection(
        [p for p, b in zip(polys, chosen, strict=True) if b],
        facecolors=face,
        edgecolors=edge,
        hatch=hatch,
        linewidths=linewidth,
        zorder=zorder,
    )
    coll.set_gid(gid)
    ax.add_collection(coll)
    return coll


def nan_patch() -> Patch:
    """Legend handle for cells without observations."""
    return Patch(facecolor=NAN_FACE, edgecolor=NAN_EDGE, hatch=NAN_HATCH, label=NAN_LABEL)


def none_patch() -> Patch:
    """Legend handle for observed cells with no aurora in either method (ratio 0/0)."""
    return Patch(facecolor=NONE_FACE, edgecolor=NONE_EDGE, label=NONE_LABEL)
