"""The circle of the sky disc on a frame, robust to the silhouettes cut into it (numpy, scipy).

Used by :func:`aurora_xr.sky.obstructions.obstruction_mask` when no field of view is
given. The rim of the bright disc is found at a brightness level between the dark
surround and the sky; of the circles through three rim pixels (RANSAC, seeded), the
one with the most rim pixels on it less those outside it wins, because masts, trees,
the horizon and the camera's housing only ever cut *into* the disc.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage

__all__ = ["sky_disc"]


def sky_disc(
    image: ArrayLike, *, level: float | None = None, tolerance: float = 1.5, tries: int = 1500
) -> tuple[float, float, float]:
    """The circle of the bright sky disc on a frame, robust to silhouettes cut into it.

    The rim of the largest bright region (brighter than ``level`` of the way from
    the dark surround to the median sky) is collected, pixels on the frame's border
    left out; of the circles through three rim pixels (RANSAC, seeded), the one with
    the most rim pixels on it (within ``tolerance``) less those outside it wins, as
    silhouettes and housings only cut into the disc; it is refined by least squares
    on the rim pixels on it.

    Parameters
    ----------
    image : (H, W) array_like
        A frame or a percentile stack (:func:`stack_percentile`).
    level : float, optional
        Fraction of the way from dark to sky that separates them. Default: 0.25, or
        0.5 where that fits a circle far better (a surround that is not dark).
    tolerance : float
        Pixels from the circle that count as on it.
    tries : int
        Random triples tried.

    Returns
    -------
    (x, y, radius) : tuple of float
        Centre (column, row) and radius in pixels. A frame whose sky fills it (no
        rim) gives its centre and the half diagonal.

    Notes
    -----
    A camera with non-square pixels (an elliptical sky disc) or a surround as bright
    as the sky needs its field of view given, e.g. from a calibration.
    """
    plane = np.asarray(image, dtype=np.float32)
    if level is not None:
        return _rim_circle(plane, level, tolerance, tries)[0]
    low, score_low = _rim_circle(plane, 0.25, tolerance, tries)
    high, score_high = _rim_circle(plane, 0.5, tolerance, tries)
    return high if score_high > 2.0 * score_low + 0.02 else low


def _rim_circle(
    plane: NDArray[np.float32], level: float, tolerance: float, tries: int
) -> tuple[tuple[float, float, float], float]:
    """The best circle on the rim at one level, and its score per rim pixel."""
    h, w = plane.shape
    whole = ((w - 1) / 2.0, (h - 1) / 2.0, float(np.hypot(w, h) / 2.0))
    dark = float(np.percentile(plane, 2.0))
    sky = float(np.median(plane[plane > np.percentile(plane, 50.0)]))
    bright = plane > dark + level * (sky - dark)
    labels, n = ndimage.label(bright)
    if n == 0:
        return whole, 0.0
    sizes = ndimage.sum(bright, labels, index=np.arange(1, n + 1))
    region = ndimage.binary_fill_holes(labels == 1 + int(np.argmax(sizes)))
    rim = region & ~ndimage.binary_erosion(region)
    rim[0], rim[-1], rim[:, 0], rim[:, -1] = False, False, False, False
    ys, xs = np.nonzero(rim)
    if xs.size < 20:
        return whole, 0.0
    pts = np.stack([xs, ys], axis=1).astype(float)
    rng = np.random.default_rng(0)
    best: tuple[int, tuple[float, float, float]] = (0, whole)
    for triple in rng.integers(0, len(pts), size=(tries, 3)):
        circle = _circle_of_three(pts[triple])
        if circle is None or circle[2] < 0.2 * min(h, w) or circle[2] > 2.0 * max(h, w):
            continue
        off = np.hypot(pts[:, 0] - circle[0], pts[:, 1] - circle[1]) - circle[2]
        # silhouettes only cut into the disc: rim pixels outside the circle count against it
        count = int(np.count_nonzero(np.abs(off) < tolerance) - np.count_nonzero(off > tolerance))
        if count > best[0]:
            best = (count, circle)
    if best[0] < 10:
        return whole, 0.0
    cx, cy, r = best[1]
    on = np.abs(np.hypot(pts[:, 0] - cx, pts[:, 1] - cy) - r) < tolerance
    # least squares x^2 + y^2 + D x + E y + F = 0 on the rim pixels of the best circle
    x, y = pts[on, 0], pts[on, 1]
    (d, e, f), *_ = np.linalg.lstsq(np.stack([x, y, np.ones_like(x)], 1), -(x**2 + y**2))
    cx, cy = -d / 2.0, -e / 2.0
    circle = (float(cx), float(cy), float(np.sqrt(max(cx**2 + cy**2 - f, 1.0))))
    return circle, best[0] / len(pts)


def _circle_of_three(p: NDArray[np.float64]) -> tuple[float, float, float] | None:
    (x1, y1), (x2, y2), (x3, y3) = p
    a = 2.0 * np.array([[x2 - x1, y2 - y1], [x3 - x1, y3 - y1]])
    if abs(np.linalg.det(a)) < 1e-9:
        return None
    b = np.array([x2**2 - x1**2 + y2**2 - y1**2, x3**2 - x1**2 + y3**2 - y1**2])
    cx, cy = np.linalg.solve(a, b)
    return float(cx), float(cy), float(np.hypot(x1 - cx, y1 - cy))
