"""Rasterising drawn shapes into pixel masks: small numpy kernels, one convention.

Coordinates are continuous image coordinates as label tools store them: ``x`` to the right
along a row, ``y`` down along a column, in pixels. Where a pixel lies in that plane is the
*pixel origin*:

* ``"corner"`` (the default, as in COCO and CVAT): integer coordinates are pixel corners;
  pixel ``(row i, column j)`` covers ``[j, j + 1) x [i, i + 1)`` and its centre is at
  ``(j + 0.5, i + 0.5)``; the image spans ``[0, W] x [0, H]``.
* ``"centre"`` (as PIL's ``ImageDraw`` and LabelMe's own mask export read coordinates):
  integer coordinates are pixel centres; the centre of pixel ``(i, j)`` is ``(j, i)``; the
  image spans ``[-0.5, W - 0.5] x [-0.5, H - 0.5]``.

A pixel belongs to a shape when its **centre** is inside the shape. A centre exactly on a
polygon edge follows the half-open (top-left) rule of scan-line fills: on a left or top edge
it is inside, on a right or bottom edge outside, so that two polygons sharing an edge never
share a pixel. Polygons use the even-odd rule (a self-intersecting polygon alternates inside
and outside). A centre exactly on an ellipse is inside.

With ``"corner"`` this is the rule of pycocotools (``frPyObjects`` + ``decode``), which first
rounds vertices to 1/5 pixel: the two differ only at pixels whose centre lies within 0.2 pixel
of an edge (see ``docs/labels.md`` for the measured figures).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import OptionError

__all__ = [
    "PIXEL_ORIGINS",
    "PixelOrigin",
    "centre_offset",
    "ellipse_block",
    "ellipse_mask",
    "image_extent",
    "polygon_block",
    "polygon_mask",
    "rectangle_corners",
]

PixelOrigin = Literal["corner", "centre"]
PIXEL_ORIGINS: tuple[PixelOrigin, ...] = ("corner", "centre")


def centre_offset(pixel_origin: str) -> float:
    """The coordinate of the centre of pixel 0: 0.5 for ``"corner"``, 0.0 for ``"centre"``."""
    if pixel_origin == "corner":
        return 0.5
    if pixel_origin == "centre":
        return 0.0
    raise OptionError(f"pixel_origin must be one of {PIXEL_ORIGINS}; found {pixel_origin!r}")


def image_extent(height: int, width: int, pixel_origin: str) -> tuple[float, float, float, float]:
    """``(x_min, x_max, y_min, y_max)`` of the image's pixels in label coordinates."""
    low = centre_offset(pixel_origin) - 0.5
    return low, low + width, low, low + height


def polygon_mask(
    xy: ArrayLike, height: int, width: int, *, pixel_origin: str = "corner"
) -> NDArray[np.bool_]:
    """The pixels whose centres lie inside a polygon.

    Parameters
    ----------
    xy : (n, 2) array_like of float
        Vertices ``(x, y)`` in label coordinates, in drawing order; the polygon closes itself.
    height, width : int
        Size of the mask.
    pixel_origin : {"corner", "centre"}
        Where integer coordinates lie on a pixel (see the module notes).

    Returns
    -------
    (height, width) ndarray of bool

    Notes
    -----
    A scan line through each row of pixel centres crosses the edges; a pixel is inside when
    the number of crossings at or left of its centre is odd (even-odd rule, half-open at
    right and bottom edges). Every edge crossing is found at once with numpy, so the cost is
    that of the polygon's outline plus one cumulative sum over the mask.

    Examples
    --------
    >>> polygon_mask([(1, 1), (4, 1), (4, 3), (1, 3)], 5, 6).astype(int)
    array([[0, 0, 0, 0, 0, 0],
           [0, 1, 1, 1, 0, 0],
           [0, 1, 1, 1, 0, 0],
           [0, 0, 0, 0, 0, 0],
           [0, 0, 0, 0, 0, 0]])
    """
    top, left, block = polygon_block(xy, height, width, pixel_origin=pixel_origin)
    mask = np.zeros((max(height, 0), max(width, 0)), dtype=bool)
    mask[top : top + block.shape[0], left : left + block.shape[1]] = block
    return mask


def polygon_block(
    xy: ArrayLike, height: int, width: int, *, pixel_origin: str = "corner"
) -> tuple[int, int, NDArray[np.bool_]]:
    """:func:`polygon_mask` cut to the polygon's bounding box: ``(top, left, block)``.

    ``block`` is the part of the mask from row ``top`` and column ``left`` on; everything
    outside it is False. Cheaper than the whole mask for shapes much smaller than the frame.
    """
    points = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    offset = centre_offset(pixel_origin)
    empty = (0, 0, np.zeros((0, 0), dtype=bool))
    if points.shape[0] < 3 or height <= 0 or width <= 0:
        return empty
    # shift so that pixel centres sit at integer (column, row)
    x0 = points[:, 0] - offset
    y0 = points[:, 1] - offset
    x1 = np.roll(x0, -1)
    y1 = np.roll(y0, -1)
    # rows r with min(y0, y1) <= r < max(y0, y1), clipped to the image
    first = np.clip(np.ceil(np.minimum(y0, y1)), 0, height).astype(np.int64)
    stop = np.clip(np.ceil(np.maximum(y0, y1)), 0, height).astype(np.int64)
    count = stop - first
    keep = count > 0  # horizontal edges and edges between two rows cross no scan line
    if not keep.any():
        return empty
    x0, y0, x1, y1, first, count = x0[keep], y0[keep], x1[keep], y1[keep], first[keep], count[keep]
    edge = np.repeat(np.arange(count.size), count)
    starts = np.cumsum(count) - count
    rows = first[edge] + (np.arange(edge.size) - starts[edge])
    ya, xa = y0[edge], x0[edge]
    crossing = xa + (rows - ya) * ((x1[edge] - xa) / (y1[edge] - ya))
    # a crossing at x toggles every pixel whose centre column is >= x
    cols = np.clip(np.ceil(crossing), 0, width).astype(np.int64)
    top, left = int(rows.min()), int(cols.min())
    n_rows, n_cols = int(rows.max()) + 1 - top, int(cols.max()) - left
    if n_cols <= 0:
        return empty
    index = (rows - top) * (n_cols + 1) + (cols - left)
    toggles = np.bincount(index, minlength=n_rows * (n_cols + 1)).reshape(n_rows, n_cols + 1)
    parity = np.cumsum(toggles[:, :n_cols], axis=1) & 1
    return top, left, parity.astype(bool)


def ellipse_mask(
    cx: float,
    cy: float,
    rx: float,
    ry: float,
    height: int,
    width: int,
    *,
    angle_deg: float = 0.0,
    pixel_origin: str = "corner",
) -> NDArray[np.bool_]:
    """The pixels whose centres lie inside (or on) an ellipse; a circle when ``rx == ry``.

    Parameters
    ----------
    cx, cy : float
        Centre in label coordinates.
    rx, ry : float
        Semi-axes in pixels (along x and y before rotation); non-negative.
    height, width : int
        Size of the mask.
    angle_deg : float
        Rotation of the ``rx`` axis from +x towards +y (clockwise on the screen, as CVAT
        stores it), in degrees.
    pixel_origin : {"corner", "centre"}

    Returns
    -------
    (height, width) ndarray of bool

    Examples
    --------
    >>> ellipse_mask(2.5, 2.5, 1.5, 1.5, 5, 5).astype(int)
    array([[0, 0, 0, 0, 0],
           [0, 1, 1, 1, 0],
           [0, 1, 1, 1, 0],
           [0, 1, 1, 1, 0],
           [0, 0, 0, 0, 0]])
    """
    top, left, block = ellipse_block(
        cx, cy, rx, ry, height, width, angle_deg=angle_deg, pixel_origin=pixel_origin
    )
    mask = np.zeros((max(height, 0), max(width, 0)), dtype=bool)
    mask[top : top + block.shape[0], left : left + block.shape[1]] = block
    return mask


def ellipse_block(
    cx: float,
    cy: float,
    rx: float,
    ry: float,
    height: int,
    width: int,
    *,
    angle_deg: float = 0.0,
    pixel_origin: str = "corner",
) -> tuple[int, int, NDArray[np.bool_]]:
    """:func:`ellipse_mask` cut to the ellipse's bounding square: ``(top, left, block)``."""
    offset = centre_offset(pixel_origin)
    empty = (0, 0, np.zeros((0, 0), dtype=bool))
    if not (rx > 0 and ry > 0) or height <= 0 or width <= 0:
        return empty
    reach = max(rx, ry)  # bounding square, enough for any rotation
    r0 = int(np.clip(np.floor(cy - offset - reach), 0, height))
    r1 = int(np.clip(np.ceil(cy - offset + reach) + 1, 0, height))
    c0 = int(np.clip(np.floor(cx - offset - reach), 0, width))
    c1 = int(np.clip(np.ceil(cx - offset + reach) + 1, 0, width))
    if r0 >= r1 or c0 >= c1:
        return empty
    dy = (np.arange(r0, r1, dtype=np.float64) + offset - cy)[:, None]
    dx = (np.arange(c0, c1, dtype=np.float64) + offset - cx)[None, :]
    theta = np.deg2rad(angle_deg)
    cos, sin = np.cos(theta), np.sin(theta)
    u = (dx * cos + dy * sin) / rx
    v = (-dx * sin + dy * cos) / ry
    return r0, c0, u * u + v * v <= 1.0


def rectangle_corners(
    x0: float, y0: float, x1: float, y1: float, *, angle_deg: float = 0.0
) -> NDArray[np.float64]:
    """The four corners ``(4, 2)`` of a box given by two opposite corners.

    ``angle_deg`` turns the box about its centre from +x towards +y (CVAT's ``rotation``).
    Rasterise the result with :func:`polygon_mask`.
    """
    xa, xb = sorted((float(x0), float(x1)))
    ya, yb = sorted((float(y0), float(y1)))
    corners = np.array([[xa, ya], [xb, ya], [xb, yb], [xa, yb]], dtype=np.float64)
    if angle_deg:
        centre = corners.mean(axis=0)
        theta = np.deg2rad(angle_deg)
        turn = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
        corners = (corners - centre) @ turn.T + centre
    return corners
