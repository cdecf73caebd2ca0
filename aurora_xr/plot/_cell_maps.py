"""A polar map of values per cell: cells coloured in the geomagnetic frame, with its grid.

Shared by the occurrence map of one MLT bin, the grid of MLT maps and the comparison of
the two detectors; cells without observations (NaN) are grey and hatched.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import Colormap, Normalize

from ._cells import add_cells
from ._polar import draw_sky_grid
from ._style import SIZE_LABEL, SIZE_SMALL

__all__ = ["draw_cell_map", "linear_norm", "ratio_ticks"]


def linear_norm(
    values: np.ndarray, norm: Normalize | None, vmin: float | None, vmax: float | None
) -> Normalize:
    """``norm`` if given, else a linear colour range (defaults: the finite values' extremes)."""
    if norm is not None:
        return norm
    finite = values[np.isfinite(values)]
    if vmax is None:
        vmax = float(finite.max()) if finite.size else 1.0
    if vmin is None:
        vmin = float(finite.min()) if finite.size else 0.0
    if vmax <= vmin:
        vmax = vmin + 1.0 if vmin == 0 else vmin * 1.001 + 1e-12
    return Normalize(vmin=vmin, vmax=vmax)


def draw_cell_map(
    ax: Axes,
    polys: list[np.ndarray],
    values: np.ndarray,
    *,
    cmap: str | Colormap,
    norm: Normalize,
    north: float | None,
    elevations: Iterable[float],
    compact: bool,
    blank: np.ndarray | None = None,
) -> Any:
    """Draw cells coloured by ``values`` and the polar grid; return the cells' collection.

    ``compact`` draws the small panels of a grid of maps: thin edges, no labels,
    compass or spokes. ``north`` (geographic azimuth of magnetic north) marks
    geographic north on the horizon of full-size maps.
    """
    import matplotlib as mpl

    cm = mpl.colormaps[cmap] if isinstance(cmap, str) else cmap
    coll, _ = add_cells(
        ax,
        polys,
        values,
        cmap=cm,
        norm=norm,
        edgecolor=(1.0, 1.0, 1.0, 0.45) if compact else "white",
        linewidth=0.12 if compact else 0.3,
        blank=blank,
    )
    draw_sky_grid(
        ax,
        elevations=elevations,
        dark=False,
        label_rings=not compact,
        compass=not compact,
        spokes=not compact,
        geo_north_azimuth_mag=None if (north is None or compact) else (-north) % 360.0,
        fontsize=SIZE_SMALL if compact else SIZE_LABEL,
    )
    return coll


def ratio_ticks(cb: Any, norm: Normalize) -> None:
    """Plain-number ticks (0.5, 1, 2, 5 ...) on a logarithmic ratio colour bar."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    steps = [m * 10.0**e for e in range(-3, 4) for m in (1.0, 2.0, 5.0)]
    lo, hi = float(norm.vmin or 0.0), float(norm.vmax or 0.0)
    ticks = [t for t in steps if lo * 0.999 <= t <= hi * 1.001]
    cb.ax.yaxis.set_major_locator(FixedLocator(ticks))
    cb.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    cb.ax.yaxis.set_minor_locator(NullLocator())
