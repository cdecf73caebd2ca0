"""The polar display frame of every sky view and polar map, and its grid.

Display frame (the geomagnetic view, looking up): magnetic north at the top and
magnetic east on the LEFT; a direction at magnetic azimuth ``a`` (degrees from
magnetic north through east) and display radius ``r`` sits at ``x = -r sin(a)``,
``y = r cos(a)``. The display radius is the zenith angle (90° - elevation) on maps
and the view's lens radius scaled to 90 on camera images (the two agree for an
equidistant lens, the projection of a per-pixel skymap's view).

Nothing here computes science; these functions only place what they are given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeAlias

import matplotlib.patheffects as pe
import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Circle

from ._style import GRID_DARK, GRID_LIGHT, SIZE_LABEL, SIZE_SMALL

__all__ = ["RIM", "RadiusFn", "corner_text", "draw_sky_grid", "sky_xy", "zenith_radius"]

RIM = 90.0
"""Display radius of the horizon."""

RadiusFn: TypeAlias = Callable[[np.ndarray], np.ndarray]


def zenith_radius(elevation: np.ndarray) -> np.ndarray:
    """Display radius of the maps: the zenith angle ``90 - elevation``."""
    return RIM - np.asarray(elevation, dtype=float)


def sky_xy(radius: Any, azimuth_mag: Any) -> tuple[np.ndarray, np.ndarray]:
    """Display coordinates of (radius, magnetic azimuth in degrees); east to the left."""
    a = np.radians(np.asarray(azimuth_mag, dtype=float))
    r = np.asarray(radius, dtype=float)
    return -r * np.sin(a), r * np.cos(a)


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
