"""Display helpers shared by the sky views and the polar maps.

Display frame of every polar figure (the geomagnetic view, looking up):
magnetic north at the top and magnetic east on the LEFT; a direction at
magnetic azimuth ``a`` (degrees from magnetic north through east) and display
radius ``r`` sits at ``x = -r sin(a)``, ``y = r cos(a)``. The display radius is
the zenith angle (90° - elevation) on maps and the lens radius scaled to 90 on
camera images (the two agree for an equidistant lens).

Nothing here computes science; these functions only place what they are given.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, TypeAlias

import dask
import matplotlib.patheffects as pe
import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.colors import Colormap, Normalize
from matplotlib.patches import Circle, Patch

from ..errors import MissingDimensionError, MissingVariableError, OptionError
from ._style import (
    GRID_DARK,
    GRID_LIGHT,
    NAN_EDGE,
    NAN_FACE,
    NAN_HATCH,
    NAN_LABEL,
    NONE_EDGE,
    NONE_FACE,
    NONE_LABEL,
    SIZE_LABEL,
    SIZE_SMALL,
)

RIM = 90.0
"""Display radius of the horizon."""

RadiusFn: TypeAlias = Callable[[np.ndarray], np.ndarray]

TimeLike: TypeAlias = int | str | np.datetime64 | _dt.datetime | pd.Timestamp | None


def zenith_radius(elevation: np.ndarray) -> np.ndarray:
    """Display radius of the maps: the zenith angle ``90 - elevation``."""
    return RIM - np.asarray(elevation, dtype=float)


def sky_xy(radius: Any, azimuth_mag: Any) -> tuple[np.ndarray, np.ndarray]:
    """Display coordinates of (radius, magnetic azimuth in degrees); east to the left."""
    a = np.radians(np.asarray(azimuth_mag, dtype=float))
    r = np.asarray(radius, dtype=float)
    return -r * np.sin(a), r * np.cos(a)


# -- selecting and loading -----------------------------------------------------------
def frame_index(ds: xr.Dataset | xr.DataArray, time: TimeLike, time_dim: Hashable) -> int:
    """Position along ``time_dim`` of ``time`` (None: 0; int: position; else nearest time)."""
    n = ds.sizes[time_dim]
    if time is None:
        return 0
    if isinstance(time, int | np.integer) and not isinstance(time, bool):
        i = int(time)
        if not -n <= i < n:
            raise OptionError(f"time index {i} is out of range for {n} frames")
        return i % n
    if time_dim not in ds.indexes:
        raise MissingVariableError(
            f"expected a {time_dim!r} coordinate to select time={time!r}; found none"
        )
    index = ds.indexes[time_dim]
    try:
        stamp = pd.Timestamp(time)
    except (TypeError, ValueError) as exc:
        raise OptionError(
            f"time must be None, an integer position or a timestamp; found {time!r}"
        ) from exc
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    pos = index.get_indexer([stamp], method="nearest")
    return int(pos[0])


def compute_together(*objs: Any) -> tuple[Any, ...]:
    """Compute lazy xarray objects in one dask pass (numpy-backed ones pass through)."""
    return tuple(dask.compute(*objs))


def time_label(value: Any) -> str:
    """``2020-07-02 07:02:00 UT`` from a datetime64 (or '' when there is none)."""
    if value is None:
        return ""
    try:
        stamp = pd.Timestamp(np.asarray(value).item() if np.ndim(value) == 0 else value)
    except (TypeError, ValueError):
        return str(value)
    if pd.isna(stamp):
        return ""
    return stamp.strftime("%Y-%m-%d %H:%M:%S") + " UT"


def display_rgb(frame: np.ndarray, contrast: float = 1.0) -> np.ndarray:
    """Float RGB in [0, 1] from a raw (..., 3) frame, multiplied by ``contrast``."""
    if not contrast > 0:
        raise OptionError(f"contrast must be > 0; found {contrast}")
    arr = np.asarray(frame)
    scale = float(np.iinfo(arr.dtype).max) if np.issubdtype(arr.dtype, np.integer) else 1.0
    out = arr.astype(np.float32) * np.float32(contrast / scale)
    return np.clip(np.nan_to_num(out, nan=0.0), 0.0, 1.0)


def require_cell_dims(da: xr.DataArray, cell_dim: Hashable, what: str) -> None:
    """Raise unless ``da`` is one-dimensional along ``cell_dim``."""
    if tuple(da.dims) != (cell_dim,):
        raise MissingDimensionError(
            f"expected {what} on the single dim ({cell_dim!r},) after selection; found dims "
            f"{tuple(da.dims)} (select the others, e.g. sel={{'year': 2020}})"
        )


# -- the polar frame -------------------------------------------------------------------
def _halo(color: str) -> list[pe.AbstractPathEffect]:
    return [pe.withStroke(linewidth=2.0, foreground=color)]


def draw_sky_grid(
    ax: Axes,
    *,
    radius_of_elevation: RadiusFn = zenith_radius,
    elevations: Iterable[float] = (),
    dark: bool = False,
    label_rings: bool = True,
    ring_label_azimuth: float = 202.5,
    label_every: int = 2,
    compass: bool = True,
    geo_north_azimuth_mag: float | None = None,
    spokes: bool = True,
    fontsize: float = SIZE_LABEL,
    zorder: float = 5.0,
) -> None:
    """Elevation circles, azimuth spokes, horizon, magnetic N/E/S/W and geographic north.

    Parameters
    ----------
    ax : Axes
        Cartesian axes in display coordinates (see the module docstring).
    radius_of_elevation : callable
        Display radius of an elevation (degrees).
    elevations : iterable of float
        Circles to draw (degrees of elevation).
    dark : bool
        Light lines for a sky image, dark lines for a white map.
    ring_label_azimuth : float
        Magnetic azimuth along which the circles are labelled.
    label_every : int
        Label every n-th circle (the first one always).
    geo_north_azimuth_mag : float, optional
        Magnetic azimuth of geographic north, marked on the horizon.
    """
    color = GRID_DARK if dark else GRID_LIGHT
    halo = "black" if dark else "white"
    elevations = [float(e) for e in elevations]
    radii = np.asarray(radius_of_elevation(np.asarray(elevations, dtype=float)), dtype=float)
    for k, (el, r) in enumerate(zip(elevations, radii, strict=True)):
        ax.add_patch(
            Circle(
                (0.0, 0.0),
                float(r),
                fill=False,
                edgecolor=color,
                linewidth=0.5,
                linestyle=(0, (2.0, 2.0)),
                alpha=0.75,
                zorder=zorder,
                gid=f"elevation_{el:g}",
            )
        )
        if label_rings and k % max(1, label_every) == 0:
            tx, ty = sky_xy(r, ring_label_azimuth)
            ax.text(
                float(tx),
                float(ty),
                f"{el:g}°",
                fontsize=fontsize - 1.5,
                color=color,
                ha="center",
                va="center",
                zorder=zorder + 1,
                path_effects=_halo(halo),
            )
    if spokes:
        inner = float(radius_of_elevation(np.asarray([80.0]))[0]) if elevations else 0.0
        for az in range(0, 360, 45):
            x0, y0 = sky_xy(inner, az)
            x1, y1 = sky_xy(RIM, az)
            ax.plot(
                [x0, x1],
                [y0, y1],
                color=color,
                linewidth=0.4,
                alpha=0.5,
                linestyle=(0, (1.0, 2.5)),
                zorder=zorder,
            )
    ax.add_patch(
        Circle(
            (0.0, 0.0),
            RIM,
            fill=False,
            edgecolor=GRID_LIGHT,
            linewidth=0.9,
            zorder=zorder + 0.5,
            gid="horizon",
        )
    )
    if compass:
        for label, caz in (("N", 0.0), ("E", 90.0), ("S", 180.0), ("W", 270.0)):
            tx, ty = sky_xy(RIM + 8.0, caz)
            ax.text(
                float(tx),
                float(ty),
                label,
                fontsize=fontsize + 1,
                fontweight="bold",
                ha="center",
                va="center",
                color="black",
                gid=f"compass_{label}",
            )
    if geo_north_azimuth_mag is not None:
        a = float(geo_north_azimuth_mag)
        mx, my = sky_xy(RIM + 2.5, a)
        ax.plot(
            [float(mx)],
            [float(my)],
            marker=(3, 0, a),
            markersize=4.5,
            color="0.35",
            linestyle="none",
            zorder=zorder + 1,
            gid="geographic_north",
        )
        tx, ty = sky_xy(RIM + 9.0, a)
        # keep clear of the compass letters
        if min(abs(((a - c + 180.0) % 360.0) - 180.0) for c in (0, 90, 180, 270)) > 12.0:
            ax.text(
                float(tx),
                float(ty),
                "geo N",
                fontsize=fontsize - 1.5,
                color="0.35",
                ha="center",
                va="center",
                rotation=0.0,
            )
    lim = RIM + (14.0 if compass else 2.0)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_axis_off()


# -- cells -----------------------------------------------------------------------------
def cell_vertices(source: xr.Dataset, cell_dim: Hashable) -> tuple[np.ndarray, np.ndarray]:
    """(n_cells, n_vertices) elevation and magnetic azimuth of the cell corners."""
    names = ("cell_vertices_elevation", "cell_vertices_azimuth_mag")
    missing = [n for n in names if n not in source.variables]
    if missing:
        raise MissingVariableError(
            f"expected cell vertices {', '.join(names)} (from aurora_xr.geo.cells.cell_grid); "
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


def corner_text(ax: Axes, text: str, *, loc: str = "upper left", **kwargs: Any) -> None:
    """Small label in a corner of the axes."""
    x = 0.02 if "left" in loc else 0.98
    y = 0.98 if "upper" in loc else 0.02
    ax.text(
        x,
        y,
        text,
        transform=ax.transAxes,
        fontsize=kwargs.pop("fontsize", SIZE_SMALL),
        ha="left" if "left" in loc else "right",
        va="top" if "upper" in loc else "bottom",
        **kwargs,
    )
