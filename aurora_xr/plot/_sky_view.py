"""Drawing a frame in the geomagnetic view: the resampled image, its overlays, its grid.

The frame is resampled into the geomagnetic view (magnetic north up, magnetic east on
the left, looking up) with the library's nearest-pixel kernel
(:func:`aurora_xr.sky.resample.view_calibration`, :func:`~aurora_xr.sky.resample.view_indices`
and :func:`~aurora_xr.sky.resample.apply_view`), so every pixel shown is a camera pixel,
whichever kind of calibration the camera has. The view is an analytic lens (the camera's
own projection, equidistant for a per-pixel skymap) with the horizon at display radius 90;
elevation circles and cells are placed with that lens, so they fall where the image shows
those elevations.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgba
from matplotlib.patches import Circle, Patch

from ..errors import SchemaError
from ..sky.camera import Camera
from ..sky.lens import Calibration
from ..sky.resample import apply_view, view_calibration, view_indices
from ._cells import cell_vertices, sky_polygons
from ._loading import time_label
from ._polar import RIM, RadiusFn, corner_text, draw_sky_grid
from ._sky_frame import SkyFrame
from ._style import DIFFERENCE_COLOR, FCN_COLOR, NAN_EDGE, NAN_HATCH, SIZE_SMALL, SIZE_TITLE

__all__ = ["cell_polygons", "draw_sky_frame", "geomagnetic_view", "view_extent", "view_radius"]

_VIEW_CACHE_SIZE = 8
_views: OrderedDict[Hashable, tuple[Calibration, np.ndarray]] = OrderedDict()


def _camera_key(camera: Camera) -> Hashable:
    """A key equal for equal calibrations: the lens itself, or a digest of a skymap's grids."""
    if isinstance(camera, Calibration):
        return camera
    el, az = camera.sky_grids()
    digest = hashlib.blake2b(digest_size=16)
    for grid in (el, az):
        digest.update(np.ascontiguousarray(grid, dtype=np.float32).tobytes())
    return (camera.kind, camera.width, camera.height, digest.hexdigest())


def geomagnetic_view(camera: Camera, north_azimuth: float) -> tuple[Calibration, np.ndarray]:
    """The view's calibration and its source pixel indices (cached for browsing).

    A skymap's inverse lookup costs a fraction of a second; the last few views are kept,
    keyed by the calibration's content, so that stepping through frames reuses them.
    """
    key = (_camera_key(camera), float(north_azimuth))
    if key in _views:
        _views.move_to_end(key)
        return _views[key]
    view = view_calibration(camera, north_azimuth)
    found = (view, view_indices(camera, view))
    _views[key] = found
    while len(_views) > _VIEW_CACHE_SIZE:
        _views.popitem(last=False)
    return found


def view_extent(size: int) -> tuple[float, float, float, float]:
    """Display extent (left, right, bottom, top) of a square geomagnetic view.

    The view of :func:`aurora_xr.sky.resample.view_calibration` has its zenith at the
    centre pixel and the horizon ``(size - 1) / 2`` pixels away; the display puts the
    horizon at radius 90.
    """
    centre = (size - 1) / 2.0
    half = (centre + 0.5) * RIM / centre
    return (-half, half, -half, half)


def view_radius(view: Calibration) -> RadiusFn:
    """Display radius of an elevation in a view: its lens law, the horizon at 90."""

    def radius(elevation: np.ndarray) -> np.ndarray:
        return RIM * view.rho_of_theta(90.0 - np.asarray(elevation, dtype=float))

    return radius


def cell_polygons(
    cells: xr.Dataset, camera: Camera, north_azimuth: float, cell_dim: Hashable
) -> list[np.ndarray]:
    """The cells as polygons in the display frame of the camera's geomagnetic view."""
    el_v, az_v = cell_vertices(cells, cell_dim)
    view = view_calibration(camera, north_azimuth, size=3)  # only its lens law matters
    return sky_polygons(el_v, az_v, view_radius(view))


def _draw_image(ax: Axes, rgb: np.ndarray, index: np.ndarray) -> tuple[Any, np.ndarray]:
    """The frame resampled into the view on a black disc; returns the clip and the seen pixels."""
    size = index.shape[0]
    seen = index >= 0
    rgba = np.zeros((size, size, 4), dtype=np.float32)
    rgba[..., :3] = apply_view(rgb, index, fill_value=0.0)
    rgba[..., 3] = seen
    ax.add_patch(Circle((0.0, 0.0), RIM, facecolor="black", edgecolor="none", zorder=0.5))
    clip = Circle((0.0, 0.0), RIM, transform=ax.transData)
    im = ax.imshow(
        rgba, extent=view_extent(size), origin="upper", interpolation="antialiased", zorder=1
    )
    im.set_gid("sky_image")
    im.set_clip_path(clip)
    return clip, seen


def _draw_mask(ax: Axes, mask: np.ndarray, index: np.ndarray, clip: Any) -> Patch:
    """The FCN mask in the view: a translucent fill and its outline; returns its legend."""
    size = index.shape[0]
    extent = view_extent(size)
    shown = apply_view(mask, index, fill_value=False) & (index >= 0)
    over = np.zeros((size, size, 4), dtype=np.float32)
    over[shown] = to_rgba(FCN_COLOR, 0.42)
    ov = ax.imshow(over, extent=extent, origin="upper", interpolation="nearest", zorder=2)
    ov.set_gid("fcn_mask")
    ov.set_clip_path(clip)
    if shown.any() and not shown.all():
        centres = np.linspace(extent[0], extent[1], size + 1)
        centres = (centres[1:] + centres[:-1]) / 2.0
        cs = ax.contour(
            centres,
            centres[::-1],
            shown.astype(np.float32),
            levels=[0.5],
            colors=[FCN_COLOR],
            linewidths=0.9,
            zorder=2.5,
        )
        cs.set_clip_path(clip)
    return Patch(facecolor=to_rgba(FCN_COLOR, 0.42), edgecolor=FCN_COLOR, label="FCN mask")


def _draw_difference(ax: Axes, fr: SkyFrame, polys: list[np.ndarray]) -> list[Patch]:
    """The cells the difference method found auroral (and those not observed); legends."""
    assert fr.detected is not None
    if fr.detected.shape != (len(polys),):
        raise SchemaError(
            f"the difference detections have {fr.detected.size} cells; the cell grid "
            f"has {len(polys)}"
        )
    hit = [p for p, d in zip(polys, fr.detected, strict=True) if d]
    coll = PolyCollection(
        hit,
        facecolors=[to_rgba(DIFFERENCE_COLOR, 0.28)],
        edgecolors=[DIFFERENCE_COLOR],
        linewidths=0.9,
        zorder=3.5,
    )
    coll.set_gid("difference_cells")
    ax.add_collection(coll)
    handles: list[Patch] = []
    if fr.observed is not None and fr.observed.ndim == 0 and not fr.observed:
        corner_text(ax, "frame not observed\n(no partner frame)", loc="lower right", color="0.35")
    elif fr.observed is not None and fr.observed.ndim == 1 and not fr.observed.all():
        off = [p for p, o in zip(polys, fr.observed, strict=True) if not o]
        unobs = PolyCollection(
            off,
            facecolors="none",
            edgecolors=[NAN_EDGE],
            hatch=NAN_HATCH,
            linewidths=0.3,
            zorder=3.2,
        )
        unobs.set_gid("cells_not_observed")
        ax.add_collection(unobs)
        handles.append(
            Patch(facecolor="none", edgecolor=NAN_EDGE, hatch=NAN_HATCH, label="not observed")
        )
    handles.append(
        Patch(
            facecolor=to_rgba(DIFFERENCE_COLOR, 0.28),
            edgecolor=DIFFERENCE_COLOR,
            label="difference cells",
        )
    )
    return handles


def draw_sky_frame(
    ax: Axes,
    fr: SkyFrame,
    *,
    show_mask: bool,
    polys: list[np.ndarray] | None,
    show_difference: bool,
    elevation_circles: Iterable[float],
    legend: bool,
    title: str | None,
) -> Axes:
    """Draw a frame in the geomagnetic view with its overlays and grid into ``ax``.

    ``polys`` are the cells in display coordinates (:func:`cell_polygons`), or None.
    """
    view, index = geomagnetic_view(fr.camera, fr.north)
    clip, _ = _draw_image(ax, fr.rgb, index)
    handles: list[Patch] = []
    if show_mask and fr.mask is not None:
        handles.append(_draw_mask(ax, fr.mask, index, clip))
    if polys is not None:
        grid = PolyCollection(
            polys, facecolors="none", edgecolors=(1, 1, 1, 0.22), linewidths=0.3, zorder=3
        )
        grid.set_gid("cell_grid")
        ax.add_collection(grid)
        if show_difference and fr.detected is not None:
            handles += _draw_difference(ax, fr, polys)
    if show_difference and fr.detected is None:
        corner_text(
            ax,
            "no difference detection\nfor this frame"
            if fr.difference_given
            else "no difference detections given",
            loc="lower right",
            color="0.35",
        )
    draw_sky_grid(
        ax,
        radius_of_elevation=view_radius(view),
        elevations=elevation_circles,
        dark=True,
        geo_north_azimuth_mag=(-fr.north) % 360.0,
    )
    if legend and handles:
        ax.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.5, 0.02),
            ncol=len(handles),
            frameon=False,
            fontsize=SIZE_SMALL,
            handlelength=1.2,
            columnspacing=1.0,
        )
    if title is None:
        title = "  ".join(s for s in (fr.station, time_label(fr.time)) if s)
    if title:
        ax.set_title(title, fontsize=SIZE_TITLE)
    return ax
