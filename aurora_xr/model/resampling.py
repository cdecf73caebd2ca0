"""Resizing frames, probabilities and masks (numpy only, no torch).

One filter everywhere: an antialiased linear (triangle) filter with pixel
centres on the half-pixel convention, widened by the reduction factor when
shrinking and renormalised at the edges. Pillow's ``BILINEAR`` resampling is
that filter and does the work here; torch's ``interpolate(mode="bilinear",
antialias=True)`` is it too, on a device (:mod:`aurora_xr.model.device_prep`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import FrameSizeError, OptionError

__all__ = ["as_size", "resize_mask", "resize_stack", "resize_weights"]


def as_size(size: Any) -> tuple[int, int]:
    """``(height, width)`` from an int or a pair of ints."""
    if isinstance(size, int | np.integer):
        size = (int(size), int(size))
    try:
        height, width = (int(v) for v in size)
    except (TypeError, ValueError) as exc:
        raise OptionError(f"a size must be an int or (height, width), found {size!r}") from exc
    if height < 1 or width < 1:
        raise OptionError(f"a size must be positive, found {(height, width)}")
    return height, width


def resize_weights(n_in: int, n_out: int) -> NDArray[np.float32]:
    """(n_out, n_in) matrix of the resampling filter :func:`resize_stack` applies.

    This is the reference definition of the filter (the tests check that
    Pillow, which does the work, and torch apply it).
    """
    scale = n_in / n_out
    support = max(scale, 1.0)
    centres = (np.arange(n_out) + 0.5) * scale - 0.5
    taps = np.arange(n_in, dtype=np.float64)
    weights = np.maximum(0.0, 1.0 - np.abs(taps[None, :] - centres[:, None]) / support)
    weights /= weights.sum(axis=1, keepdims=True)
    return weights.astype(np.float32)


def resize_stack(images: np.ndarray, size: tuple[int, int] | int) -> NDArray[np.float32]:
    """Resize a stack of images ``(n, H, W[, C])`` to ``size`` = (height, width).

    The antialiased linear filter (see :func:`resize_weights`), in float32,
    run by Pillow one plane at a time (fast, and it releases the GIL). The
    identity when the size already matches.
    """
    from PIL import Image

    out_h, out_w = as_size(size)
    arr = np.asarray(images, dtype=np.float32)
    if arr.ndim not in (3, 4):
        raise FrameSizeError(f"expected images (n, H, W) or (n, H, W, C), found {arr.shape}")
    n, height, width = arr.shape[:3]
    if (height, width) == (out_h, out_w):
        return arr
    tail = arr.shape[3:]
    channels = int(np.prod(tail)) if tail else 1
    planes = arr.reshape(n, height, width, channels)
    out = np.empty((n, out_h, out_w, channels), dtype=np.float32)
    for i in range(n):
        for c in range(channels):
            plane = Image.fromarray(np.ascontiguousarray(planes[i, :, :, c]))
            out[i, :, :, c] = np.asarray(
                plane.resize((out_w, out_h), Image.Resampling.BILINEAR), dtype=np.float32
            )
    return out.reshape((n, out_h, out_w, *tail))


def resize_mask(mask: np.ndarray, size: tuple[int, int] | int) -> NDArray[np.bool_]:
    """Resize boolean masks ``(H, W)`` or ``(n, H, W)``: linear filter, then >= 0.5."""
    arr = np.asarray(mask, dtype=bool)
    single = arr.ndim == 2
    stack = arr[None] if single else arr
    if stack.shape[1:3] == as_size(size):
        return arr.copy()
    out = resize_stack(stack.astype(np.float32), size) >= 0.5
    return out[0] if single else out
