"""Resampled views of the sky: a camera's frames seen through another lens, numpy only.

:func:`view_calibration` describes a square view turned so that a chosen azimuth
(magnetic north, for the geomagnetic view) points up; :func:`view_indices` finds,
once, the camera pixel that each view pixel sees; :func:`apply_view` applies those
indices to any number of frames, masks or label images (nearest neighbour).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import CalibrationError
from .lens import Calibration, pixel_to_sky, sky_to_pixel

__all__ = ["apply_view", "magnetic_view_indices", "view_calibration", "view_indices"]


def view_calibration(
    cal: Calibration, up_azimuth_deg: float, size: int | None = None
) -> Calibration:
    """Calibration of a square view of the sky turned so that an azimuth points up.

    The view keeps the lens model and (by default) the scale of ``cal``: the
    zenith lies at the centre of a ``size`` x ``size`` frame and the horizon
    touches its border. Looking up, east is counter-clockwise from north
    (to the *left* of the zenith when north is up), whatever ``cal`` does.

    Parameters
    ----------
    cal : Calibration
        The camera whose frames are resampled.
    up_azimuth_deg : float
        Geographic azimuth (degrees from north through east) shown at the top,
        e.g. the azimuth of magnetic north.
    size : int, optional
        Side of the view in pixels; default ``2 * ceil(lens_radius) + 1`` (the
        camera's own scale).

    Returns
    -------
    Calibration
        The calibration of the view (a valid calibration of the resampled frames).
    """
    if size is None:
        size = 2 * int(np.ceil(cal.lens_radius)) + 1
    size = int(size)
    if size < 3:
        raise CalibrationError(f"a view needs at least 3x3 pixels; found size {size}")
    centre = (size - 1) / 2.0
    return Calibration(
        width=size,
        height=size,
        zenith_x=centre,
        zenith_y=centre,
        lens_radius=centre,
        rotation_deg=float(np.mod(-float(up_azimuth_deg), 360.0)),
        projection=cal.projection,
        poly_coeffs=cal.poly_coeffs,
        east_clockwise=False,
    )


def view_indices(source: Calibration, target: Calibration) -> NDArray[np.int64]:
    """Nearest source pixel seen by each pixel of a target view.

    Parameters
    ----------
    source, target : Calibration
        Calibrations of the camera frames and of the view.

    Returns
    -------
    (target.height, target.width) ndarray of int64
        Flat index ``y * source.width + x`` into a source frame, ``-1`` where the
        target pixel sees no sky or a point outside the source frame.
    """
    yy, xx = np.mgrid[0 : target.height, 0 : target.width]
    el, az = pixel_to_sky(xx, yy, target)
    x, y = sky_to_pixel(el, az, source)
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
    flat = np.where(ok, np.where(ok, yi, 0) * source.width + np.where(ok, xi, 0), -1)
    return flat.astype(np.int64)


def magnetic_view_indices(
    cal: Calibration, north_azimuth_deg: float, size: int | None = None
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
