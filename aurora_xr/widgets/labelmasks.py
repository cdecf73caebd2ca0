"""The labels of one frame while it is drawn: the mask, its polygons, and undo.

The mask (``(H, W)`` bool, True = aurora) is what is saved; every edit changes it at once:

* a **polygon** is rasterised with :func:`aurora_xr.labels.polygon_mask` and
  ``pixel_origin="corner"`` (integer coordinates are pixel corners; a pixel is inside when its
  centre is), the convention :func:`aurora_xr.labels.read_labels` uses for every format, so a
  saved polygon and the mask read back from any export agree pixel for pixel. Vertices are
  clipped to the frame ``[0, W] x [0, H]`` first;
* a **brush** stroke paints (or, with the eraser, clears) every pixel whose centre lies within
  ``radius`` pixels of the stroke's path (a polyline through the pointer positions);
* **accepting the pre-label** adds the pixels where the model's probability reaches the
  threshold.

The polygons drawn are kept beside the mask, so that an export can write them as polygons: a
polygon whose pixels are all still in the mask is exported as drawn, and the rest of the mask
(brush strokes, the accepted pre-label, polygons cut by the eraser) as one run-length mask
(:func:`coco_segments`). The union of the two is the mask, exactly.

Undo keeps the mask (bit-packed) and the polygons before each edit, up to ``undo_depth`` edits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import OptionError
from ..labels import polygon_mask

__all__ = ["FrameLabels", "coco_segments", "stroke_mask"]


def stroke_mask(points: ArrayLike, radius: float, height: int, width: int) -> NDArray[np.bool_]:
    """Pixels whose centre lies within ``radius`` of a polyline (``"corner"`` coordinates).

    Parameters
    ----------
    points : (n, 2) array_like of float
        ``(x, y)`` positions of the stroke, in pixels (pixel ``(i, j)`` covers
        ``[j, j + 1) x [i, i + 1)``); one point paints a disc.
    radius : float
        Brush radius in pixels (> 0). A pixel is painted when the distance from its centre to
        the path is at most ``radius``.
    height : int
        Rows of the mask.
    width : int
        Columns of the mask.

    Returns
    -------
    (height, width) ndarray of bool

    Examples
    --------
    >>> stroke_mask([(2.5, 2.5)], 1.0, 5, 5).astype(int)
    array([[0, 0, 0, 0, 0],
           [0, 0, 1, 0, 0],
           [0, 1, 1, 1, 0],
           [0, 0, 1, 0, 0],
           [0, 0, 0, 0, 0]])
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if not radius > 0:
        raise OptionError(f"expected a brush radius > 0; found {radius}")
    out = np.zeros((height, width), dtype=bool)
    if pts.shape[0] == 0:
        return out
    segments = np.concatenate([pts[:-1], pts[1:]], axis=1) if pts.shape[0] > 1 else None
    if segments is None:
        segments = np.concatenate([pts, pts], axis=1)
    r2 = float(radius) ** 2
    for x0, y0, x1, y1 in segments:
        left = int(np.clip(np.floor(min(x0, x1) - radius - 0.5), 0, width))
        right = int(np.clip(np.ceil(max(x0, x1) + radius + 0.5), 0, width))
        top = int(np.clip(np.floor(min(y0, y1) - radius - 0.5), 0, height))
        bottom = int(np.clip(np.ceil(max(y0, y1) + radius + 0.5), 0, height))
        if right <= left or bottom <= top:
            continue
        cx = np.arange(left, right, dtype=np.float64)[None, :] + 0.5
        cy = np.arange(top, bottom, dtype=np.float64)[:, None] + 0.5
        dx, dy = x1 - x0, y1 - y0
        length2 = dx * dx + dy * dy
        if length2 > 0:
            t = np.clip(((cx - x0) * dx + (cy - y0) * dy) / length2, 0.0, 1.0)
        else:
            t = np.zeros((1, 1))
        d2 = (cx - (x0 + t * dx)) ** 2 + (cy - (y0 + t * dy)) ** 2
        out[top:bottom, left:right] |= d2 <= r2
    return out


def _clip_polygon(xy: ArrayLike, height: int, width: int) -> NDArray[np.float64]:
    points = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    if points.shape[0] < 3 or not np.isfinite(points).all():
        raise OptionError(f"a polygon needs at least 3 finite vertices; found {points.tolist()}")
    points[:, 0] = np.clip(points[:, 0], 0.0, float(width))
    points[:, 1] = np.clip(points[:, 1], 0.0, float(height))
    return points


@dataclass
class FrameLabels:
    """The mask being drawn on one frame, its polygons and its undo history.

    Parameters
    ----------
    height : int
        Rows of the frame.
    width : int
        Columns of the frame.
    mask : (H, W) ndarray of bool, optional
        Starting mask (a saved or source label); all False by default.
    polygons : list of (n, 2) ndarray, optional
        Polygons drawn earlier (restored from an export), in ``"corner"`` coordinates.
    undo_depth : int
        Edits that can be undone.

    Attributes
    ----------
    mask : (H, W) ndarray of bool
    polygons : list of (n, 2) ndarray of float64
    dirty : bool
        Changed since it was last saved.
    """

    height: int
    width: int
    mask: NDArray[np.bool_] = field(default=None)  # type: ignore[arg-type]
    polygons: list[NDArray[np.float64]] = field(default_factory=list)
    undo_depth: int = 50
    dirty: bool = False
    _history: list[tuple[NDArray[np.uint8], list[NDArray[np.float64]]]] = field(
        default_factory=list, repr=False
    )

    def __post_init__(self) -> None:
        if self.mask is None:
            self.mask = np.zeros((self.height, self.width), dtype=bool)
        self.mask = np.array(self.mask, dtype=bool)
        if self.mask.shape != (self.height, self.width):
            raise OptionError(
                f"mask shape {self.mask.shape} differs from the frame ({self.height}, {self.width})"
            )
        self.polygons = [np.asarray(p, dtype=np.float64).reshape(-1, 2) for p in self.polygons]

    # -- history ---------------------------------------------------------------------------
    def _remember(self) -> None:
        self._history.append((np.packbits(self.mask), list(self.polygons)))
        del self._history[: max(0, len(self._history) - self.undo_depth)]
        self.dirty = True

    @property
    def can_undo(self) -> bool:
        """Whether there is an edit to undo."""
        return bool(self._history)

    def undo(self) -> bool:
        """Undo the last edit; False when there is none."""
        if not self._history:
            return False
        packed, polygons = self._history.pop()
        size = self.height * self.width
        self.mask = np.unpackbits(packed, count=size).astype(bool).reshape(self.mask.shape)
        self.polygons = polygons
        self.dirty = True
        return True

    # -- edits -----------------------------------------------------------------------------
    def add_polygon(self, xy: ArrayLike, *, erase: bool = False) -> NDArray[np.bool_]:
        """Fill (or, with ``erase``, clear) a closed polygon; returns its pixels.

        ``xy`` is ``(n, 2)`` vertices ``(x, y)`` in ``"corner"`` pixel coordinates, clipped
        to the frame.
        """
        points = _clip_polygon(xy, self.height, self.width)
        pixels = polygon_mask(points, self.height, self.width, pixel_origin="corner")
        self._remember()
        if erase:
            self.mask &= ~pixels
        else:
            self.mask |= pixels
            self.polygons.append(points)
        return pixels

    def paint(self, points: ArrayLike, radius: float, *, erase: bool = False) -> None:
        """A brush stroke along ``points`` (see :func:`stroke_mask`); ``erase`` clears."""
        pixels = stroke_mask(points, radius, self.height, self.width)
        self._remember()
        if erase:
            self.mask &= ~pixels
        else:
            self.mask |= pixels

    def accept(self, probability: ArrayLike, threshold: float = 0.5) -> int:
        """Add the pixels where ``probability >= threshold``; returns how many were added."""
        p = np.asarray(probability, dtype=np.float32)
        if p.shape != self.mask.shape:
            raise OptionError(
                f"probability shape {p.shape} differs from the mask {self.mask.shape}"
            )
        new = (p >= threshold) & ~self.mask
        self._remember()
        self.mask |= new
        return int(new.sum())

    def replace(self, mask: ArrayLike) -> None:
        """Set the whole mask (the polygons are forgotten)."""
        m = np.asarray(mask, dtype=bool)
        if m.shape != self.mask.shape:
            raise OptionError(f"mask shape {m.shape} differs from the frame {self.mask.shape}")
        self._remember()
        self.mask = m.copy()
        self.polygons = []

    def clear(self) -> None:
        """Clear the mask (undoable)."""
        self.replace(np.zeros_like(self.mask))


def coco_segments(
    mask: NDArray[np.bool_], polygons: list[NDArray[np.float64]]
) -> tuple[list[tuple[NDArray[np.float64], int]], NDArray[np.bool_]]:
    """Split a mask into the polygons that still hold and a remainder.

    Returns
    -------
    kept : list of ((n, 2) ndarray, int)
        Each polygon whose pixels all lie in ``mask``, with its pixel count (polygons with no
        pixel are dropped).
    remainder : (H, W) ndarray of bool
        The pixels of ``mask`` outside every kept polygon (for a run-length annotation).

    Notes
    -----
    The kept polygons, rasterised with ``pixel_origin="corner"``, together with the
    remainder give back ``mask`` exactly, so a reader that paints them all as aurora reads
    the saved mask.
    """
    height, width = mask.shape
    covered = np.zeros_like(mask)
    kept: list[tuple[NDArray[np.float64], int]] = []
    for points in polygons:
        pixels = polygon_mask(points, height, width, pixel_origin="corner")
        n = int(pixels.sum())
        if n and not (pixels & ~mask).any():
            kept.append((points, n))
            covered |= pixels
    return kept, mask & ~covered
