"""Point sources on an all-sky frame: background, noise, local maxima, centroids, flux.

The frame is reduced to one luminance plane (colour frames: Rec. 601 weights).
The sky background is a percentile over blocks of the frame (a large, cheap
percentile filter), smoothed over neighbouring blocks and interpolated back to
full size; the noise is the median absolute deviation of the residual over the
blocks twice as large. Sources are local maxima of the lightly smoothed residual above
``threshold`` times the local noise, with a compact core: the peak must stand
above the median of a ring around it. Centroids are intensity-weighted over a
small box after subtracting that ring's median; the flux is the box's sum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage

from ...errors import CalibrationError

__all__ = ["PointSources", "find_point_sources", "luminance"]

_REC601 = np.array([0.299, 0.587, 0.114])


@dataclass(frozen=True)
class PointSources:
    """Point sources found on a frame, brightest first.

    Attributes
    ----------
    x, y : (n,) ndarray of float
        Centroids (column, row) in pixels.
    flux : (n,) ndarray of float
        Background-subtracted sum over the centroid box, in the frame's units.
    peak_snr : (n,) ndarray of float
        Peak of the smoothed residual over the local noise.
    noise : float
        Median noise of the smoothed residual over the frame.
    """

    x: NDArray[np.float64]
    y: NDArray[np.float64]
    flux: NDArray[np.float64]
    peak_snr: NDArray[np.float64]
    noise: float

    def __len__(self) -> int:
        return int(self.x.size)

    def select(self, keep: NDArray[np.bool_] | NDArray[np.intp]) -> PointSources:
        """The sources picked by a boolean mask or an index array."""
        return PointSources(
            self.x[keep], self.y[keep], self.flux[keep], self.peak_snr[keep], self.noise
        )


def luminance(image: ArrayLike) -> NDArray[np.float32]:
    """One float32 plane ``(H, W)`` from a ``(H, W)``, ``(H, W, 1)`` or ``(H, W, 3)`` frame.

    Raises
    ------
    CalibrationError
        If the frame has another shape or is too small.
    """
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim == 3 and arr.shape[2] in (3, 4):
        plane = np.tensordot(arr[..., :3].astype(np.float32), _REC601.astype(np.float32), 1)
    elif arr.ndim == 2:
        plane = arr.astype(np.float32)
    else:
        raise CalibrationError(
            f"expected a frame of shape (H, W), (H, W, 1) or (H, W, 3); found shape {arr.shape}"
        )
    if min(plane.shape) < 32:
        raise CalibrationError(f"expected a frame of at least 32x32 pixels; found {arr.shape}")
    return np.asarray(plane, dtype=np.float32)


def _block_size(shape: tuple[int, ...]) -> int:
    return int(max(8, round(min(shape) / 64)))


def _blockwise(
    plane: NDArray[np.float32], block: int, stat: str, percentile: float = 50.0
) -> NDArray[np.float32]:
    """A statistic over ``block`` x ``block`` tiles, interpolated back to full size."""
    h, w = plane.shape
    ny, nx = -(-h // block), -(-w // block)
    padded = np.pad(plane, ((0, ny * block - h), (0, nx * block - w)), mode="edge")
    tiles = padded.reshape(ny, block, nx, block).transpose(0, 2, 1, 3).reshape(ny, nx, -1)
    if stat == "mad":
        centre = np.median(tiles, axis=2, keepdims=True)
        grid = 1.4826 * np.median(np.abs(tiles - centre), axis=2)
    else:
        grid = np.percentile(tiles, percentile, axis=2)
    grid = ndimage.median_filter(grid, size=3, mode="nearest")
    # tile centres sit at (i + 0.5) * block - 0.5; map every pixel onto the tile grid
    yy = (np.arange(h) + 0.5) / block - 0.5
    xx = (np.arange(w) + 0.5) / block - 0.5
    rows = ndimage.map_coordinates(
        grid, np.meshgrid(np.clip(yy, 0, ny - 1), np.clip(xx, 0, nx - 1), indexing="ij"), order=1
    )
    return np.asarray(rows, dtype=np.float32)


def find_point_sources(
    image: ArrayLike,
    *,
    threshold: float = 5.0,
    max_sources: int = 400,
    mask: NDArray[np.bool_] | None = None,
    smoothing: float | None = None,
    box: int | None = None,
) -> PointSources:
    """Detect stars and planets on a clear frame.

    Parameters
    ----------
    image : (H, W), (H, W, 1) or (H, W, 3) array_like
        The frame, 8- or 16-bit or float; colour frames are reduced to luminance.
    threshold : float
        Detection threshold in units of the local noise of the smoothed residual.
    max_sources : int
        Keep at most this many sources (the brightest).
    mask : (H, W) ndarray of bool, optional
        Pixels where sources may lie (e.g. inside the lens circle).
    smoothing : float, optional
        Gaussian sigma in pixels applied before finding maxima (default: 0.7 for
        frames up to 1024 px, growing with the frame size).
    box : int, optional
        Half-width in pixels of the centroid box (default from the frame size).

    Returns
    -------
    PointSources
        Sources sorted by decreasing flux.

    Examples
    --------
    >>> frame = np.zeros((64, 64)); frame[20, 30] = 100.0
    >>> found = find_point_sources(frame + np.random.default_rng(0).normal(0, 1, (64, 64)))
    >>> round(float(found.x[0])), round(float(found.y[0]))
    (30, 20)
    """
    plane = luminance(image)
    size = min(plane.shape)
    sigma = float(smoothing) if smoothing is not None else max(0.7, size / 1400.0)
    half = int(box) if box is not None else max(2, round(2.5 * sigma))
    block = _block_size(plane.shape)
    background = _blockwise(plane, block, "percentile", 40.0)
    smoothed = ndimage.gaussian_filter(plane - background, sigma)
    noise_map = np.maximum(_blockwise(smoothed, 2 * block, "mad"), 1e-6)
    footprint = 2 * half + 1
    peaks = (smoothed == ndimage.maximum_filter(smoothed, size=footprint)) & (
        smoothed > threshold * noise_map
    )
    edge = half + 3
    peaks[:edge] = peaks[-edge:] = False
    peaks[:, :edge] = peaks[:, -edge:] = False
    if mask is not None:
        peaks &= np.asarray(mask, dtype=bool)
    py, px = np.nonzero(peaks)
    noise = float(np.median(noise_map))
    if py.size == 0:
        empty = np.zeros(0)
        return PointSources(empty, empty.copy(), empty.copy(), empty.copy(), noise)
    snr = smoothed[py, px] / noise_map[py, px]
    order = np.argsort(-snr)[: 8 * max_sources]  # bound the work on crowded frames
    py, px, snr = py[order], px[order], snr[order]
    resid = plane - background
    x, y, flux, compact = _measure(resid, px, py, half)
    ring_ok = compact > 0.5 * threshold * noise_map[py, px]
    keep = np.nonzero(ring_ok & (flux > 0))[0]
    keep = keep[np.argsort(-flux[keep], kind="stable")][:max_sources]
    return PointSources(x[keep], y[keep], flux[keep], snr[keep], noise)


def _measure(
    resid: NDArray[np.float32], px: NDArray[np.intp], py: NDArray[np.intp], half: int
) -> tuple[NDArray[np.float64], ...]:
    """Centroid, flux and peak-above-ring of each maximum, vectorised over sources."""
    ring_r = half + 2
    oy, ox = np.mgrid[-ring_r : ring_r + 1, -ring_r : ring_r + 1]
    dist = np.hypot(ox, oy)
    core = (np.abs(ox) <= half) & (np.abs(oy) <= half)
    ring = dist >= ring_r - 0.5
    cut = resid[py[:, None, None] + oy[None], px[:, None, None] + ox[None]].astype(float)
    level = np.median(cut[:, ring], axis=1)
    box = np.clip(cut[:, core] - level[:, None], 0.0, None)
    total = box.sum(axis=1)
    safe = np.where(total > 0, total, 1.0)
    x = px + (box * ox[core]).sum(axis=1) / safe
    y = py + (box * oy[core]).sum(axis=1) / safe
    peak = cut[:, ring_r, ring_r] - level
    flux = (cut[:, core] - level[:, None]).sum(axis=1)
    return x.astype(float), y.astype(float), flux, peak
