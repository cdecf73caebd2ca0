"""Resampled views of the sky: a camera's frames seen through another lens, numpy only.

:func:`view_calibration` describes a square view turned so that a chosen azimuth
(magnetic north, for the geomagnetic view) points up; :func:`view_indices` finds,
once, the camera pixel that each view pixel sees; :func:`apply_view` applies those
indices to any number of frames, masks or label images (nearest neighbour).

The source camera is any :class:`~aurora_xr.sky.camera.Camera`: the analytic lens
(:class:`~aurora_xr.sky.lens.Calibration`) or an operator's per-pixel
:class:`~aurora_xr.sky.skymap.Skymap`. Only its ``horizon_radius`` (the scale of the
view), its frame size and its ``sky_to_pixel`` are used. The view itself is always an
analytic lens: with the source lens's projection, or equidistant for a skymap (so that a
skymap's view puts elevation rings at equal steps, as an equidistant fisheye does).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import CalibrationError
from .camera import Camera
from .lens import Calibration

__all__ = ["apply_view", "magnetic_view_indices", "view_calibration", "view_indices"]


def view_calibration(cal: Camera, up_azimuth_deg: float, size: int | None = None) -> Calibration:
    """Calibration of a square view of the sky turned so that an azimuth points up.

    The view keeps the scale of ``cal`` (its ``horizon_radius``) by default, and the lens
    model of an analytic lens (equidistant for a per-pixel skymap): the zenith lies at the
    centre of a ``size`` x ``size`` frame and the horizon touches its border. Looking up,
    east is counter-clockwise from north (to the *left* of the zenith when north is up),
    whatever ``cal`` does.

    Parameters
    ----------
    cal : Camera
        The camera whose frames are resampled (a lens :class:`Calibration` or a
        :class:`~aurora_xr.sky.skymap.Skymap`).
    up_azimuth_deg : float
        Geographic azimuth (degrees from north through east) shown at the top,
        e.g. the azimuth of magnetic north.
    size : int, optional
        Side of the view in pixels; default ``2 * ceil(horizon_radius) + 1`` (the
        camera's own scale).

    Returns
    -------
    Calibration
        The calibration of the view (a valid calibration of the resampled frames).

    Examples
    --------
    >>> cal = Calibration(width=64, height=48, zenith_x=31.5, zenith_y=23.5, lens_radius=20)
    >>> view = view_calibration(cal, 90.0)  # east up
    >>> view.width, view.lens_radius, view.rotation_deg
    (41, 20.0, 270.0)
    """
    if size is None:
        size = 2 * int(np.ceil(cal.horizon_radius)) + 1
    size = int(size)
    if size < 3:
        raise CalibrationError(f"a view needs at least 3x3 pixels; found size {size}")
    centre = (size - 1) / 2.0
    lens = cal if isinstance(cal, Calibration) else None
    return Calibration(
        width=size,
        height=size,
        zenith_x=centre,
        zenith_y=centre,
        lens_radius=centre,
        rotation_deg=float(np.mod(-float(up_azimuth_deg), 360.0)),
        projection="equidistant" if lens is None else lens.projection,
        poly_coeffs=() if lens is None else lens.poly_coeffs,
        east_clockwise=False,
    )


def view_indices(source: Camera, target: Camera) -> NDArray[np.int64]:
    """Nearest source pixel seen by each pixel of a target view.

    Parameters
    ----------
    source : Camera
        Calibration of the camera frames (a lens or a per-pixel skymap).
    target : Camera
        Calibration of the view (usually from :func:`view_calibration`).

    Returns
    -------
    (target.height, target.width) ndarray of int64
        Flat index ``y * source.width + x`` into a source frame, ``-1`` where the
        target pixel sees no sky, a direction outside the source's field of view or a
        point outside the source frame. The nearest pixel of a per-pixel skymap is
        always one the skymap calibrates (finite elevation): a direction just inside
        the edge of its field of view may round to an uncalibrated neighbour, which
        is left out.
    """
    yy, xx = np.mgrid[0 : target.height, 0 : target.width]
    el, az = target.pixel_to_sky(xx, yy)
    x, y = source.sky_to_pixel(el, az)
    with np.errstate(invalid="ignore"):
        xi = np.rint(x)
        yi = np.rint(y)
        ok = (
            np.isfinite(xi)
            & np.isfinite(yi)
            & (xi >= 0)
            & (xi <= source.width - 1)
            & (yi >= 0)
            & (yi <= source.height - 1)
        )
    rows = np.where(ok, yi, 0).astype(np.intp)
    cols = np.where(ok, xi, 0).astype(np.intp)
    if not isinstance(source, Calibration):  # a skymap's uncalibrated pixels see nothing
        ok &= np.isfinite(source.sky_grids()[0][rows, cols])
    flat = np.where(ok, rows * source.width + cols, -1)
    return flat.astype(np.int64)


def magnetic_view_indices(
    cal: Camera, north_azimuth_deg: float, size: int | None = None
) -> NDArray[np.int64]:
    """Source pixel indices of the geomagnetic view (magnetic north up, east left).

    A shortcut for ``view_indices(cal, view_calibration(cal, north_azimuth_deg, size))``;
    compute it once and apply it to any number of frames with :func:`apply_view`.

    Examples
    --------
    >>> cal = Calibration(width=5, height=5, zenith_x=2, zenith_y=2, lens_radius=2)
    >>> idx = magnetic_view_indices(cal, 180.0, size=5)  # south up: the image turned 180°
    >>> int(idx[0, 2]), int(idx[4, 2]), int(idx[2, 0])
    (22, 2, 14)
    """
    return view_indices(cal, view_calibration(cal, north_azimuth_deg, size))


def apply_view(
    data: ArrayLike,
    flat_index: NDArray[np.integer[Any]],
    *,
    yx_axes: tuple[int, int] = (0, 1),
    fill_value: Any = 0,
) -> NDArray[Any]:
    """Resample frames with indices from :func:`view_indices` (nearest neighbour).

    Parameters
    ----------
    data : ndarray
        Frames with the image rows and columns on ``yx_axes``, e.g. a frame
        ``(H, W, C)``, a mask ``(H, W)`` or a stack ``(n, H, W, C)`` with
        ``yx_axes=(1, 2)``.
    flat_index : (h, w) ndarray of int
        Flat source indices, ``-1`` where the output has no source pixel.
    yx_axes : (int, int)
        Axes of ``data`` holding the rows and columns.
    fill_value : scalar
        Value written where ``flat_index`` is ``-1``.

    Returns
    -------
    ndarray
        ``data`` with the axes ``yx_axes`` replaced by ``(h, w)``, same dtype.
    """
    arr = np.asarray(data)
    index = np.asarray(flat_index)
    moved = np.moveaxis(arr, yx_axes, (-2, -1))
    n_src = moved.shape[-2] * moved.shape[-1]
    if index.size and int(index.max()) >= n_src:
        raise CalibrationError(
            f"the view indices address {int(index.max()) + 1} pixels; "
            f"found frames of only {n_src} pixels"
        )
    flat = moved.reshape(*moved.shape[:-2], n_src)
    valid = index >= 0
    out = flat[..., np.where(valid, index, 0)]
    out[..., ~valid] = fill_value
    return np.moveaxis(out, (-2, -1), yx_axes)
