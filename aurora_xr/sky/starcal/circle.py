"""The lens circle of an all-sky frame: the bright disc of sky inside the dark surround.

The frame is reduced to a coarse grid of block medians; pixels brighter than a
level between the dark surround and the sky form the disc; its centre is the
centroid of the largest connected region, its radius follows from the region's
second moments (a uniform disc of radius ``a`` has variance ``a**2 / 4`` along
each axis), and the ratio of the vertical to the horizontal moment gives the
aspect of an elliptical disc (non-square pixels). Frames with no dark surround
(the circle fills or exceeds the frame) give the frame's centre and half its
smaller side.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import ndimage

from .sources import luminance

__all__ = ["LensCircle", "find_lens_circle"]


@dataclass(frozen=True)
class LensCircle:
    """The sky disc on a frame.

    Attributes
    ----------
    x, y : float
        Centre (column, row) in pixels.
    radius : float
        Horizontal semi-axis in pixels.
    aspect : float
        Vertical over horizontal semi-axis (1 for a circle).
    found : bool
        False when no dark surround was seen and the frame's extent was used.
    """

    x: float
    y: float
    radius: float
    aspect: float = 1.0
    found: bool = True


def find_lens_circle(image: ArrayLike, *, grid: int = 160) -> LensCircle:
    """Estimate the lens circle from the bright disc of a frame.

    Parameters
    ----------
    image : (H, W), (H, W, 1) or (H, W, 3) array_like
        The frame.
    grid : int
        Size of the coarse grid of block medians the disc is found on.

    Returns
    -------
    LensCircle
    """
    plane = luminance(image)
    h, w = plane.shape
    block = max(1, int(np.ceil(max(h, w) / grid)))
    ny, nx = h // block, w // block
    tiles = plane[: ny * block, : nx * block].reshape(ny, block, nx, block)
    coarse = np.median(tiles.transpose(0, 2, 1, 3).reshape(ny, nx, -1), axis=2)
    fallback = LensCircle((w - 1) / 2.0, (h - 1) / 2.0, min(h, w) / 2.0, 1.0, found=False)
    dark = float(np.percentile(coarse, 2.0))
    cy0, cx0 = ny // 2, nx // 2
    centre = coarse[cy0 - ny // 6 : cy0 + ny // 6 + 1, cx0 - nx // 6 : cx0 + nx // 6 + 1]
    sky = float(np.median(centre))
    if not sky - dark > 0.05 * max(abs(sky), 1e-6):
        return fallback
    disc = ndimage.binary_fill_holes(coarse > dark + 0.3 * (sky - dark))
    labels, n = ndimage.label(disc)
    if n == 0:
        return fallback
    sizes = ndimage.sum(np.ones_like(coarse), labels, index=np.arange(1, n + 1))
    region = labels == (1 + int(np.argmax(sizes)))
    if region.mean() > 0.97:  # no surround: the disc fills the frame
        return fallback
    yy, xx = np.nonzero(region)
    xc, yc = xx.mean(), yy.mean()
    var_x, var_y = xx.var() + 1 / 12.0, yy.var() + 1 / 12.0
    radius = 2.0 * np.sqrt(var_x) * block
    aspect = float(np.sqrt(var_y / var_x))
    return LensCircle(
        x=float((xc + 0.5) * block - 0.5),
        y=float((yc + 0.5) * block - 0.5),
        radius=float(radius),
        aspect=aspect,
        found=True,
    )
