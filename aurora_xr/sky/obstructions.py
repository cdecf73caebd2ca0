"""Obstruction masks: the pixels where masts, buildings, trees or the horizon hide the sky.

Made from the frames themselves (:func:`obstruction_mask`) or drawn
(:func:`mask_from_polygons`), stored in the calibration JSON as a run-length
encoding (:func:`save_obstruction`, :func:`load_obstruction`) and given to a cube
with ``with_calibration(ds, calibration, obstruction=mask)``, after which the
obstructed pixels belong to no sky cell and never count in detections or occurrence.

The method
----------
Obstructions are dark, steady silhouettes against a brighter, changing sky.

1. Each pixel's low percentile over the frames (``percentile``) removes stars,
   aurora, cosmic rays and noise (a single frame is median-filtered over 3x3
   pixels instead); frames larger than ``max_size`` are binned for the work.
2. The field of view is given (a mask, a circle, a calibration) or estimated: the
   circle that most rim pixels of the bright disc lie on (RANSAC), which ignores
   the bites that silhouettes take out of the disc.
3. Two tests, relative to the dark level outside the field of view:

   * *local*: darker than ``local_threshold`` of the local sky level, a grey
     closing over ``feature_size`` pixels (which fills narrow dark valleys such as
     masts and wires, but follows smooth vignetting and the rim of the disc);
   * *ground*: darker than ``ground_threshold`` of the sky level at the same
     distance from the centre (a high percentile per ring), which finds horizon
     silhouettes too wide for the closing.

4. Only dark regions connected to the outside of the field of view (or the frame's
   border) are kept: things on the ground rise from the horizon, while dark gaps
   in the sky and noise float free. Holes are filled and the mask grows by
   ``grow`` pixels to cover the silhouettes' blurred edges.

Storing the mask
----------------
:func:`save_obstruction` writes it into the calibration JSON (a run-length
encoding under ``"obstruction"``, see :mod:`aurora_xr.sky.obstruction_files`);
:func:`load_obstruction` reads it back for ``with_calibration``. Drawn masks come
from :func:`mask_from_polygons`. All three are importable from here too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage

from ..errors import CalibrationError, FrameSizeError
from .lens_circles import sky_disc
from .obstruction_files import (
    OBSTRUCTION_KEY,
    load_obstruction,
    mask_from_polygons,
    mask_from_rle,
    mask_to_rle,
    save_obstruction,
)

__all__ = [
    "OBSTRUCTION_KEY",
    "load_obstruction",
    "mask_from_polygons",
    "mask_from_rle",
    "mask_to_rle",
    "obstruction_mask",
    "save_obstruction",
    "sky_disc",
    "stack_percentile",
]

_BLOCK_BYTES = 64 * 2**20  # working memory of one block of rows in the percentile stack
_MARGIN = 0.03  # of the radius, added to an estimated field of view
_GAP = 0.015  # of the radius: half the gap across which dark regions still connect
_REC601 = np.array([0.299, 0.587, 0.114], dtype=np.float32)


# -- the frames -----------------------------------------------------------------------------
def _plane(frames: NDArray[Any]) -> NDArray[np.float32]:
    """(n, H, W) float32 luminance of (n, H, W) or (n, H, W, C) frames."""
    if frames.ndim == 3:
        return frames.astype(np.float32)
    if frames.shape[-1] == 1:
        return frames[..., 0].astype(np.float32)
    if frames.shape[-1] in (3, 4):
        return np.tensordot(frames[..., :3].astype(np.float32), _REC601, 1)
    return frames.astype(np.float32).mean(axis=-1)


def stack_percentile(frames: ArrayLike, percentile: float = 20.0) -> NDArray[np.float32]:
    """Each pixel's percentile over the frames, on the frames' luminance.

    Parameters
    ----------
    frames : (H, W), (n, H, W) or (n, H, W, C) array_like
        One single-channel frame, or a stack of frames (single- or multi-channel,
        8- or 16-bit or float). A 3-D array is always ``(n, H, W)``: pass one colour
        frame as ``frame[None]``.
    percentile : float
        Percentile over the frames, 0 to 100 (one frame is returned as it is).

    Returns
    -------
    (H, W) ndarray of float32

    Raises
    ------
    CalibrationError
        For arrays of another shape or a percentile outside 0..100.
    """
    arr = np.asarray(frames)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim not in (3, 4) or arr.shape[0] < 1 or min(arr.shape[1:3]) < 8:
        raise CalibrationError(
            "expected frames of shape (H, W), (n, H, W) or (n, H, W, C) with H, W >= 8 "
            f"(one colour frame as frame[None]); found shape {np.asarray(frames).shape}"
        )
    if not 0.0 <= percentile <= 100.0:
        raise CalibrationError(f"percentile must lie in 0..100; found {percentile}")
    n, height = arr.shape[0], arr.shape[1]
    if n == 1:
        return _plane(arr)[0]
    per_row = n * int(np.prod(arr.shape[2:])) * 8
    rows = max(1, _BLOCK_BYTES // max(per_row, 1))
    out = np.empty(arr.shape[1:3], dtype=np.float32)
    for top in range(0, height, rows):
        block = _plane(arr[:, top : top + rows])
        out[top : top + rows] = np.percentile(block, percentile, axis=0)
    return out


# -- the field of view ----------------------------------------------------------------------
def _field_of_view(
    shape: tuple[int, int], field_of_view: Any
) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """The field-of-view mask and each pixel's distance from its centre (in radii)."""
    h, w = shape
    yy = np.arange(h, dtype=np.float64)[:, None]
    xx = np.arange(w, dtype=np.float64)[None, :]
    if hasattr(field_of_view, "sky_grids"):
        field_of_view = np.isfinite(field_of_view.sky_grids()[0])
    if hasattr(field_of_view, "radius"):  # a LensCircle
        c = field_of_view
        field_of_view = (c.x, c.y, c.radius, getattr(c, "aspect", 1.0))
    arr = np.asarray(field_of_view)
    if arr.dtype == bool or arr.ndim == 2:
        fov = np.asarray(arr, dtype=bool)
        if fov.shape != (h, w):
            raise FrameSizeError(
                f"expected a field-of-view mask of {h}x{w} (rows x columns); found {fov.shape}"
            )
        if not fov.any():
            raise CalibrationError("the field-of-view mask holds no pixel")
        ys, xs = np.nonzero(fov)
        cx, cy = xs.mean(), ys.mean()
        sx, sy = np.sqrt(xs.var() + 1 / 12), np.sqrt(ys.var() + 1 / 12)
        return fov, np.hypot((xx - cx) / (2 * sx), (yy - cy) / (2 * sy))
    values = [float(v) for v in np.ravel(arr)] if arr.dtype != object else []
    if len(values) not in (3, 4) or not values[2] > 0:
        raise CalibrationError(
            "expected field_of_view as a (H, W) bool mask, a calibration, a LensCircle or "
            f"(x, y, radius[, aspect]); found {field_of_view!r}"
        )
    cx, cy, radius = values[:3]
    aspect = values[3] if len(values) == 4 else 1.0
    rho = np.hypot(xx - cx, (yy - cy) / aspect) / radius
    return rho <= 1.0, rho


def _binned(a: NDArray[Any], k: int, *, median: bool = False) -> NDArray[np.float64]:
    """Mean (or median) over k x k blocks; the last blocks are padded with edge values."""
    if k == 1:
        return np.asarray(a, dtype=np.float64)
    h, w = a.shape
    ny, nx = -(-h // k), -(-w // k)
    padded = np.pad(a.astype(np.float32), ((0, ny * k - h), (0, nx * k - w)), mode="edge")
    tiles = padded.reshape(ny, k, nx, k).transpose(0, 2, 1, 3).reshape(ny, nx, k * k)
    return np.asarray(np.median(tiles, axis=2) if median else tiles.mean(axis=2), np.float64)


def _ring_level(
    stat: NDArray[np.float32], fov: NDArray[np.bool_], rho: NDArray[np.float64], q: float
) -> NDArray[np.float32]:
    """The sky level at each pixel's distance from the centre: a percentile per ring."""
    inside = rho[fov]
    n_rings = int(np.clip(np.sqrt(inside.size) / 4.0, 8, 200))
    edges = np.linspace(0.0, float(inside.max()) + 1e-9, n_rings + 1)
    ring = np.clip(np.digitize(inside, edges) - 1, 0, n_rings - 1)
    values = stat[fov]
    order = np.argsort(ring, kind="stable")
    bounds = np.searchsorted(ring[order], np.arange(n_rings + 1))
    level = np.full(n_rings, np.nan)
    for i in range(n_rings):
        part = values[order[bounds[i] : bounds[i + 1]]]
        if part.size:
            level[i] = np.percentile(part, q)
    good = np.isfinite(level)
    centres = 0.5 * (edges[:-1] + edges[1:])
    level = np.interp(centres, centres[good], level[good])
    level = ndimage.median_filter(level, size=3, mode="nearest")
    return np.interp(rho, centres, level).astype(np.float32)


# -- the mask -------------------------------------------------------------------------------
def obstruction_mask(
    frames: ArrayLike,
    *,
    field_of_view: Any = None,
    percentile: float = 20.0,
    feature_size: int | None = None,
    local_threshold: float = 0.7,
    ground_threshold: float = 0.35,
    connect_to_edge: bool = True,
    grow: int = 1,
    smooth: bool | None = None,
    max_size: int = 512,
) -> NDArray[np.bool_]:
    """The pixels where something on the ground hides the sky.

    Parameters
    ----------
    frames : (H, W), (n, H, W) or (n, H, W, C) array_like
        A clear frame, or many frames of a sequence (better: the sky changes, the
        silhouettes do not); 8- or 16-bit, single- or multi-channel. A 3-D array is
        ``(n, H, W)``; pass one colour frame as ``frame[None]``.
    field_of_view : optional
        Where the lens sees: a ``(H, W)`` bool mask, a calibration (its pixels of
        finite elevation), a :class:`~aurora_xr.sky.starcal.LensCircle` or
        ``(x, y, radius[, aspect])``. Default: estimated with :func:`sky_disc`.
    percentile : float
        Percentile of each pixel over the frames (see :func:`stack_percentile`).
    feature_size : int, optional
        Widest mast, in pixels, that the local test finds (default: a tenth of the
        field-of-view radius).
    local_threshold : float
        A pixel darker than this fraction of its local sky level (above the dark
        surround) is a candidate.
    ground_threshold : float
        A pixel darker than this fraction of the sky at its distance from the
        centre is a candidate (wide silhouettes).
    connect_to_edge : bool
        Keep only candidates connected to the outside of the field of view or the
        frame's border (things that rise from the horizon).
    grow : int
        Pixels the mask grows by (the blurred edges of the silhouettes).
    smooth : bool, optional
        Median-filter the percentile image over 3x3 pixels against noise (default:
        only for a single frame; a stack is quiet already, and the filter would erase
        wires and twigs one pixel wide).
    max_size : int
        Larger frames are binned (block medians) to at most this many pixels on a
        side for the work, and the mask is drawn back at full size.

    Returns
    -------
    (H, W) ndarray of bool
        True where the sky is hidden; False outside the field of view.

    Raises
    ------
    CalibrationError
        For frames of another shape or options out of range.
    FrameSizeError
        If a field-of-view mask has another size.

    Examples
    --------
    >>> sky = np.full((64, 64), 1000.0)
    >>> yy, xx = np.mgrid[0:64, 0:64]
    >>> sky[np.hypot(xx - 31.5, yy - 31.5) > 28] = 100.0  # the dark surround
    >>> sky[4:30, 30:33] = 150.0  # a mast rising from the horizon
    >>> mask = obstruction_mask(sky, field_of_view=(31.5, 31.5, 28.0), grow=0)
    >>> bool(mask[10:30, 31].all()), int(mask.sum()) < 90
    (True, True)
    """
    for name, value in (
        ("local_threshold", local_threshold),
        ("ground_threshold", ground_threshold),
    ):
        if not 0.0 <= value <= 1.0:
            raise CalibrationError(f"{name} must lie in 0..1; found {value}")
    if grow < 0 or max_size < 16:
        raise CalibrationError(
            f"grow must be >= 0 and max_size >= 16 pixels; found {grow} and {max_size}"
        )
    arr = np.asarray(frames)
    full = stack_percentile(arr, percentile)
    shape = (int(full.shape[0]), int(full.shape[1]))
    k = max(1, -(-max(shape) // int(max_size)))
    stat = _binned(full, k, median=True).astype(np.float32)
    if smooth or (smooth is None and (arr.ndim == 2 or arr.shape[0] == 1)):
        stat = ndimage.median_filter(stat, size=3, mode="nearest")
    if field_of_view is None:  # the disc's circle, a little generous: the rim is dark anyway
        cx, cy, radius = sky_disc(stat)
        radius += max(2.0, _MARGIN * radius)
        field_of_view = ((cx + 0.5) * k - 0.5, (cy + 0.5) * k - 0.5, radius * k)
    fov_full, rho_full = _field_of_view(shape, field_of_view)
    fov = _binned(fov_full, k) > 0.5
    rho = _binned(rho_full, k)
    mask = _silhouettes(
        stat,
        fov,
        rho,
        feature_size=None if feature_size is None else max(1, round(feature_size / k)),
        local_threshold=local_threshold,
        ground_threshold=ground_threshold,
        connect_to_edge=connect_to_edge,
        grow=grow,
    )
    if k > 1:
        mask = np.repeat(np.repeat(mask, k, axis=0), k, axis=1)[: shape[0], : shape[1]]
    return np.asarray(mask & fov_full, dtype=bool)


def _silhouettes(
    stat: NDArray[np.float32],
    fov: NDArray[np.bool_],
    rho: NDArray[np.float64],
    *,
    feature_size: int | None,
    local_threshold: float,
    ground_threshold: float,
    connect_to_edge: bool,
    grow: int,
) -> NDArray[np.bool_]:
    """The mask on the (binned) percentile image (see the module docstring)."""
    outside = ~fov
    dark = float(
        np.median(stat[outside]) if outside.mean() > 0.01 else np.percentile(stat[fov], 0.5)
    )
    radius_px = np.sqrt(fov.sum() / np.pi)
    size = int(feature_size) if feature_size is not None else max(3, round(0.1 * radius_px))
    size += 1 - size % 2
    local_sky = ndimage.grey_closing(stat, size=(size, size), mode="nearest")
    ring_sky = _ring_level(stat, fov, rho, 75.0)
    above = stat - dark
    candidates = (above < local_threshold * np.maximum(local_sky - dark, 0.0)) | (
        above < ground_threshold * np.maximum(ring_sky - dark, 0.0)
    )
    candidates &= fov
    if connect_to_edge:  # across the blurred rim: a gap of a few pixels still connects
        seeds = outside.copy()
        seeds[0], seeds[-1], seeds[:, 0], seeds[:, -1] = True, True, True, True
        gap = max(1, round(_GAP * radius_px))
        grown = ndimage.binary_dilation(candidates | seeds, iterations=gap)
        labels, _ = ndimage.label(grown, structure=np.ones((3, 3)))
        connected = np.unique(labels[seeds])
        candidates &= np.isin(labels, connected[connected > 0])
    mask = ndimage.binary_closing(candidates, structure=np.ones((3, 3)), border_value=0)
    mask = ndimage.binary_fill_holes(mask) & fov
    if grow:
        mask = ndimage.binary_dilation(mask, iterations=int(grow)) & fov
    return np.asarray(mask, dtype=bool)
