"""The one image-level rule of aurora_xr, on numpy arrays (no torch).

**The rule.** A frame shows aurora when at least ``min_fraction`` of its sky
(the pixels inside the lens circle, or any sky mask given) has an aurora
probability of at least ``threshold``::

    count(p >= threshold on the sky) / count(sky) >= min_fraction

with the defaults :data:`MIN_FRACTION` = 0.01 (1 % of the sky) and
:data:`THRESHOLD` = 0.5. A frame with no sky pixel shows none; a boolean mask
(already thresholded, or a truth mask) counts its True pixels.

:func:`has_aurora` is the kernel; it lives here, beside the scores, so that
:func:`aurora_xr.model.evaluate` uses it as well as the xarray form
:func:`aurora_xr.detect.image_level.frame_flags` and the products built on it.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..errors import FrameSizeError, OptionError

__all__ = ["MIN_FRACTION", "THRESHOLD", "check_rule", "has_aurora", "present", "sky_fraction"]

MIN_FRACTION = 0.01
"""Default share of the sky that must be aurora for a frame to show aurora (1 %)."""

THRESHOLD = 0.5
"""Default probability at or above which a pixel is aurora."""


def check_rule(min_fraction: float, threshold: float) -> tuple[float, float]:
    frac, thr = float(min_fraction), float(threshold)
    if not 0.0 < frac <= 1.0:
        raise OptionError(f"min_fraction must lie in (0, 1], found {min_fraction}")
    if not 0.0 <= thr <= 1.0:
        raise OptionError(f"threshold must lie in [0, 1], found {threshold}")
    return frac, thr


def sky_fraction(
    probabilities: np.ndarray,
    lens_mask: np.ndarray | None = None,
    *,
    threshold: float = THRESHOLD,
) -> NDArray[np.float64]:
    """Share of the sky at aurora probability ``>= threshold``, per frame.

    Parameters
    ----------
    probabilities : (n, H, W) or (H, W) ndarray
        Aurora probabilities in [0, 1] (NaN counts as no aurora), or a bool mask.
    lens_mask : (H, W) bool ndarray, optional
        True on the sky (inside the lens circle); None: the whole frame.
    threshold : float
        Probability at or above which a pixel is aurora (ignored for a bool mask).

    Returns
    -------
    (n,) float64 ndarray, or a 0-d one for a single frame
        In [0, 1]; NaN for a frame without sky pixels.

    Examples
    --------
    >>> p = np.zeros((2, 10, 10), np.float32)
    >>> p[1, :2, :5] = 0.9
    >>> sky_fraction(p).tolist()
    [0.0, 0.1]
    """
    arr = np.asarray(probabilities)
    single = arr.ndim == 2
    frames = arr[None] if single else arr
    if frames.ndim != 3:
        raise FrameSizeError(f"expected probabilities (n, H, W) or (H, W), found {arr.shape}")
    check_rule(MIN_FRACTION, threshold)
    hits = frames if frames.dtype == bool else frames >= np.float32(threshold)
    if lens_mask is None:
        sky = np.ones(frames.shape[1:], dtype=bool)
    else:
        sky = np.asarray(lens_mask, dtype=bool)
        if sky.shape != frames.shape[1:]:
            raise FrameSizeError(
                f"the lens mask has shape {sky.shape}, the frames are {frames.shape[1:]}"
            )
    n_sky = int(np.count_nonzero(sky))
    counts = np.count_nonzero(hits & sky, axis=(1, 2)).astype(np.float64)
    out = counts / n_sky if n_sky else np.full(frames.shape[0], np.nan)
    return out[0] if single else out


def has_aurora(
    probabilities: np.ndarray,
    lens_mask: np.ndarray | None = None,
    *,
    min_fraction: float = MIN_FRACTION,
    threshold: float = THRESHOLD,
) -> NDArray[np.bool_]:
    """Whether each frame shows aurora: at least ``min_fraction`` of its sky at ``p >= threshold``.

    The one image-level rule of aurora_xr (see the module text).

    Parameters
    ----------
    probabilities : (n, H, W) or (H, W) ndarray
        Aurora probabilities in [0, 1], or a bool mask (used as it is).
    lens_mask : (H, W) bool ndarray, optional
        True on the sky; None: the whole frame.
    min_fraction : float in (0, 1]
        Share of the sky (default 0.01: 1 %).
    threshold : float in [0, 1]
        Probability at or above which a pixel is aurora (default 0.5).

    Returns
    -------
    (n,) bool ndarray, or a 0-d one for a single frame
        False for a frame without sky pixels.

    Examples
    --------
    >>> p = np.zeros((3, 10, 10), np.float32)
    >>> p[1, 0, 0] = 0.5       # 1 pixel of 100: 1 % of the sky
    >>> p[2, 0, 0] = 0.49
    >>> has_aurora(p).tolist()
    [False, True, False]
    """
    frac, thr = check_rule(min_fraction, threshold)
    fractions = sky_fraction(probabilities, lens_mask, threshold=thr)
    return present(fractions, frac)


def present(fractions: NDArray[np.float64], min_fraction: float) -> NDArray[np.bool_]:
    """The rule's comparison of sky fractions (NaN, a frame without sky, is no aurora)."""
    with np.errstate(invalid="ignore"):
        return np.asarray(np.nan_to_num(fractions, nan=-1.0) >= min_fraction)
