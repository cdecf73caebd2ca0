"""The lens circle as a boolean mask (numpy only, no torch).

An all-sky lens images the sky inside a circle; outside it the frame is
black. The circle is known from the ``elevation`` coordinate of a cube (NaN
outside), from a camera :class:`~aurora_xr.sky.lens.Calibration`, or as a
circle in fractions of the frame (the ``lens_circle`` of
:class:`~aurora_xr.model.Preprocessing`, which training records in every
checkpoint). These functions turn each into a ``(H, W)`` mask, True inside,
and a mask back into such a circle.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..errors import FrameSizeError
from ..sky.lens import Calibration, sky_grids

__all__ = [
    "check_lens_mask",
    "lens_circle_from_mask",
    "lens_mask_for_frames",
    "lens_mask_from_calibration",
    "lens_mask_from_circle",
    "lens_mask_from_elevation",
]


def lens_mask_from_elevation(elevation: np.ndarray) -> NDArray[np.bool_]:
    """True inside the lens circle: where the elevation coordinate is finite."""
    el = np.asarray(elevation, dtype=float)
    if el.ndim != 2:
        raise FrameSizeError(f"expected a (y, x) elevation image, found shape {el.shape}")
    return np.isfinite(el)


def lens_mask_from_calibration(
    calibration: Calibration, height: int | None = None, width: int | None = None
) -> NDArray[np.bool_]:
    """True inside the lens circle of ``calibration`` (scaled to ``height`` x ``width``)."""
    cal = calibration
    if height is not None and width is not None and (height, width) != (cal.height, cal.width):
        cal = cal.scaled(int(width), int(height))
    elevation, _ = sky_grids(cal)
    return np.isfinite(elevation)


def lens_mask_from_circle(
    circle: tuple[float, float, float], height: int, width: int
) -> NDArray[np.bool_]:
    """True inside a lens circle given as fractions (see :class:`.Preprocessing`)."""
    fx, fy, fr = circle
    zx = fx * width - 0.5
    zy = fy * height - 0.5
    radius = fr * min(height, width)
    yy, xx = np.mgrid[0:height, 0:width]
    return np.hypot(xx - zx, yy - zy) <= radius


def lens_circle_from_mask(mask: np.ndarray) -> tuple[float, float, float] | None:
    """The circle of a lens mask as fractions: centroid, and the radius of equal area.

    Returns None when the mask is empty or covers the whole frame (no lens edge).
    """
    arr = np.asarray(mask, dtype=bool)
    count = int(arr.sum())
    if count == 0 or count == arr.size:
        return None
    height, width = arr.shape
    yy, xx = np.nonzero(arr)
    zx = (float(xx.mean()) + 0.5) / width
    zy = (float(yy.mean()) + 0.5) / height
    radius = float(np.sqrt(count / np.pi)) / min(height, width)
    return zx, zy, radius


def lens_mask_for_frames(
    height: int,
    width: int,
    *,
    calibration: Calibration | None = None,
    circle: tuple[float, float, float] | None = None,
) -> NDArray[np.bool_] | None:
    """The lens mask of ``height`` x ``width`` frames: from ``calibration``, else ``circle``.

    None when neither is given (nothing is masked).
    """
    if calibration is not None:
        return lens_mask_from_calibration(calibration, height, width)
    if circle is not None:
        return lens_mask_from_circle(circle, height, width)
    return None


def check_lens_mask(
    mask: np.ndarray, frame_size: tuple[int, int], *, name: str = "the lens mask"
) -> NDArray[np.bool_]:
    """``mask`` as a bool array, after checking that it is ``frame_size`` = (H, W).

    Raises
    ------
    FrameSizeError
        If its shape is another; the message names it ``name``.
    """
    lens = np.asarray(mask, dtype=bool)
    if lens.shape != tuple(frame_size):
        raise FrameSizeError(f"{name} has shape {lens.shape}, the frames are {tuple(frame_size)}")
    return lens
