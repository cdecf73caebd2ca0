"""Black and white levels: the first step of the preprocessing (numpy only, no torch).

Cameras write 8-bit colour JPEGs, 12- to 16-bit single-channel frames with a
bias of thousands of counts, 8-bit data in 16-bit containers. Before anything
else, every frame is brought to [0, 1] by one rule, so that a network sees
the same kind of input from all of them. Two rules exist
(:data:`LEVELS`, the ``levels`` field of
:class:`~aurora_xr.model.Preprocessing`):

``"robust"`` (the default of new checkpoints)
    A per-frame robust stretch. On a regular subsample of the pixels inside
    the lens circle (every ``s``-th row and column, at most
    :data:`MAX_LEVEL_SAMPLES` pixels; all channels pooled, so the colour
    balance is kept), the black level is the ``black_percentile`` (1 %) and
    the white level the ``white_percentile`` (99.5 %). Then::

        span = max(white - black, min_span * full_scale)
        unit = clip((x - black) / span, 0, 1)

    ``full_scale`` is 255 for uint8 frames, 1 for float frames, and for
    uint16 frames ``2**b - 1`` for the smallest sensor depth ``b`` of 8, 10,
    12, 14 and 16 bits that holds the white level, so that 8-bit data in a
    16-bit container and the same data as uint8 give the same input.
    ``min_span`` (0.1) caps the gain at 10 x: a dark, empty sky is not
    stretched into bright noise.
``"dtype"`` (checkpoints written before the levels existed)
    ``uint8 / 255``, ``uint16 / 65535``; floats taken as already scaled.

Both backends compute the same numbers: this module is the reference, and
:mod:`aurora_xr.model.device_prep` computes the same on a torch device.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import DtypeError, OptionError

__all__ = [
    "LEVELS",
    "MAX_LEVEL_SAMPLES",
    "SENSOR_BITS",
    "check_levels",
    "frame_levels",
    "full_scale_of",
    "level_sample_index",
    "scale_to_unit",
]

LEVELS = ("robust", "dtype")
"""The rules that bring raw frames to [0, 1] (see the module text)."""

MAX_LEVEL_SAMPLES = 16384
"""Pixels sampled per frame (at most) to estimate its black and white levels."""

SENSOR_BITS = (8, 10, 12, 14, 16)
"""Sensor depths a uint16 frame's full scale is chosen from."""


def check_levels(levels: str) -> str:
    """``levels`` if it is one of :data:`LEVELS`, else an OptionError."""
    if levels not in LEVELS:
        raise OptionError(f"levels must be one of {LEVELS}, found {levels!r}")
    return levels


def _check_dtype(dtype: np.dtype[Any]) -> None:
    if dtype not in (np.uint8, np.uint16) and not np.issubdtype(dtype, np.floating):
        raise DtypeError(f"expected frames of dtype uint8, uint16 or float, found {dtype}")


def scale_to_unit(frames: np.ndarray) -> NDArray[np.float32]:
    """Frames scaled to [0, 1] by their dtype (the ``"dtype"`` levels) as float32.

    Parameters
    ----------
    frames : ndarray
        ``uint8`` (divided by 255), ``uint16`` (divided by 65535) or floating
        point (taken as already in [0, 1] and clipped).

    Raises
    ------
    DtypeError
        For any other dtype.

    Examples
    --------
    >>> scale_to_unit(np.array([0, 51, 255], dtype=np.uint8)).tolist()
    [0.0, 0.20000000298023224, 1.0]
    """
    arr = np.asarray(frames)
    _check_dtype(arr.dtype)
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / np.float32(255.0)
    if arr.dtype == np.uint16:
        return arr.astype(np.float32) / np.float32(65535.0)
    return np.clip(np.nan_to_num(arr.astype(np.float32)), 0.0, 1.0)


def level_sample_index(
    height: int, width: int, lens: np.ndarray | None = None
) -> NDArray[np.int64]:
    """Flat (row-major) indices of the pixels sampled for the levels.

    Every ``s``-th row and column from ``s // 2``, with the smallest ``s``
    that keeps at most :data:`MAX_LEVEL_SAMPLES` pixels, restricted to the
    lens circle when ``lens`` is given and has a sampled pixel inside.

    Examples
    --------
    >>> level_sample_index(4, 4).tolist()[:5]
    [0, 1, 2, 3, 4]
    >>> len(level_sample_index(512, 512))
    16384
    """
    step = max(1, math.ceil(math.sqrt(height * width / MAX_LEVEL_SAMPLES)))
    while math.ceil((height - step // 2) / step) * math.ceil((width - step // 2) / step) > (
        MAX_LEVEL_SAMPLES
    ):
        step += 1
    rows = np.arange(step // 2, height, step)
    cols = np.arange(step // 2, width, step)
    index = (rows[:, None] * width + cols[None, :]).ravel()
    if lens is not None:
        inside = np.asarray(lens, dtype=bool).ravel()[index]
        if inside.any():
            index = index[inside]
    return index.astype(np.int64)


def full_scale_of(white: np.ndarray, dtype: np.dtype[Any]) -> NDArray[np.float64]:
    """The full scale of frames of ``dtype`` with white levels ``white`` (see the module)."""
    w = np.asarray(white, dtype=np.float64)
    if dtype == np.uint8:
        return np.full_like(w, 255.0)
    if dtype != np.uint16:
        return np.ones_like(w)
    out = np.full_like(w, 65535.0)
    for bits in reversed(SENSOR_BITS):
        top = float(2**bits - 1)
        out = np.where(w <= top, top, out)
    return out


def frame_levels(
    frames: np.ndarray,
    *,
    lens: np.ndarray | None = None,
    black_percentile: float = 1.0,
    white_percentile: float = 99.5,
    min_span: float = 0.1,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Black level and span of every frame (the ``"robust"`` levels).

    Parameters
    ----------
    frames : (n, H, W, C) ndarray
        uint8, uint16 or float frames.
    lens : (H, W) bool ndarray, optional
        True inside the lens circle: only those pixels are sampled.
    black_percentile, white_percentile, min_span : float
        See the module text.

    Returns
    -------
    black, span : (n,) float64 ndarrays
        ``unit = clip((x - black) / span, 0, 1)``.
    """
    arr = np.asarray(frames)
    _check_dtype(arr.dtype)
    n, height, width, channels = arr.shape
    index = level_sample_index(height, width, lens)
    values = arr.reshape(n, height * width, channels)[:, index, :].reshape(n, -1)
    if np.issubdtype(arr.dtype, np.floating):
        values = np.clip(np.nan_to_num(values.astype(np.float64)), 0.0, 1.0)
    black, white = np.percentile(
        values.astype(np.float64), [black_percentile, white_percentile], axis=1
    )
    span = np.maximum(white - black, min_span * full_scale_of(white, arr.dtype))
    return black, span
