"""The truth of the synthetic sky: where the aurora is visible, outlined like a hand-drawn label.

``aurora_truth`` is the region an expert would outline where the aurora is
*visible in the frame*. A pixel is visible aurora where the aurora raises its
noise-free green value, after clouds, vignetting, the horizon silhouette and
8-bit saturation, by at least ``truth_threshold`` DN (8 by default); thick
cloud, buildings and a sky already saturated by the moon therefore hide it.
Like a hand-drawn label, the truth is that pixel set outlined at the scale of
``truth_outline_deg`` degrees of zenith angle (3.75 by default): the visible
pixels are smoothed with a triangle kernel of that standard deviation and the
truth is where at least 40 % of the neighbourhood is visible, so gaps between
cloudlets are closed and isolated specks dropped, while the covered area stays
that of the visible pixels. ``truth_outline_deg=0`` gives the raw pixel set.
``aurora_kind`` is the kind (1 dynamic, 2 stationary) of the forms that give
most of the visible pixels around a truth pixel, 0 elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from .auroral_forms import DYNAMIC, STATIONARY

__all__ = [
    "RANDOMISED_TRUTH_DEFINITION",
    "TRUTH_CONTRAST",
    "TRUTH_DEFINITION",
    "TRUTH_NOISE_SIGMAS",
    "TRUTH_OUTLINE_DEG",
    "TRUTH_THRESHOLD_DN",
    "draw_camera_truth",
    "draw_truth",
    "outline_visible",
]

F32 = NDArray[np.float32]

TRUTH_THRESHOLD_DN = 8.0
TRUTH_OUTLINE_DEG = 3.75
_OUTLINE_LEVEL = np.float32(0.4)

TRUTH_DEFINITION = (
    "The region an expert would outline where the aurora is visible in the frame. Visible: the "
    "aurora raises the noise-free green value of the pixel, after clouds, vignetting, the horizon "
    "silhouette and 8-bit saturation, by at least the threshold (attribute threshold_dn), so it is "
    "hidden by thick cloud, buildings and a sky saturated by the moon. Outlined: the visible "
    "pixels smoothed at the scale of attribute outline_deg degrees and kept where at least 40 % "
    "of the neighbourhood is visible"
)


def draw_truth(
    green: F32,
    aurora_green: F32,
    form_kind: NDArray[np.uint8],
    sky: NDArray[np.bool_],
    *,
    threshold_dn: float,
    outline_px: float,
    out_truth: NDArray[np.bool_],
    out_kind: NDArray[np.uint8],
) -> None:
    """Write the truth and the kind of one frame into ``out_truth`` and ``out_kind`` (H, W).

    Parameters
    ----------
    green : (H, W) float32
        Noise-free green signal of the frame (DN, before 8-bit clipping).
    aurora_green : (H, W) float32
        The aurora's share of ``green``.
    form_kind : (H, W) uint8
        Kind of the brightest form on each pixel (1 dynamic, 2 stationary).
    sky : (H, W) bool
        Pixels that see the sky.
    threshold_dn : float
        Minimum rise of the 8-bit green value of a visible pixel.
    outline_px : float
        Scale of the outline in pixels; 0 keeps the visible pixels themselves.
    """
    added = np.minimum(green, np.float32(255.0)) - np.minimum(
        green - aurora_green, np.float32(255.0)
    )
    visible = added >= np.float32(threshold_dn)
    if outline_px > 0.0 and visible.any():
        outline_visible(visible, form_kind, sky, outline_px, out_truth, out_kind)
    else:
        out_truth[...] = visible
        np.copyto(out_kind, form_kind, where=visible)


def outline_visible(
    visible: NDArray[np.bool_],
    kind: NDArray[np.uint8],
    sky: NDArray[np.bool_],
    sigma_px: float,
    out_truth: NDArray[np.bool_],
    out_kind: NDArray[np.uint8],
) -> None:
    """Outline the visible aurora like a hand-drawn label (see the module docstring).

    Two passes of a box filter of width ``w`` make a triangle kernel of
    variance ``(w**2 - 1) / 6``; the cost does not grow with ``sigma_px``.
    """
    width = max(1, round(float(np.sqrt(6.0 * sigma_px * sigma_px + 1.0))))
    parts = []
    for k in (DYNAMIC, STATIONARY):
        part = (visible & (kind == k)).astype(np.float32)
        for _ in range(2):
            part = ndimage.uniform_filter(part, size=width, mode="constant")
        parts.append(part)
    dynamic, stationary = parts
    np.logical_and(dynamic + stationary >= _OUTLINE_LEVEL, sky, out=out_truth)
    out_kind[...] = np.where(stationary >= dynamic, np.uint8(STATIONARY), np.uint8(DYNAMIC))
    out_kind[~out_truth] = 0


TRUTH_NOISE_SIGMAS = 3.0
"""In the randomised sky, the rise of a visible pixel is at least this many noise sigmas."""
TRUTH_CONTRAST = 0.15
"""In the randomised sky, the rise of a visible pixel is at least this share of the sky
(without the aurora) that it sits on."""

RANDOMISED_TRUTH_DEFINITION = (
    TRUTH_DEFINITION
    + ". In the randomised sky (realism='randomised') the same rule holds for the camera's own "
    "channels: the aurora raises the noise-free value the camera writes (after haze, clouds, "
    "snow and frost on the dome, vignetting, blur and resolution, the camera's spectral "
    "response, exposure, gamma curve and saturation) in at least one channel by at least the "
    "largest of threshold_dn/255 of the frame's display range (the 1st to 99.5th percentile of "
    "the sky), noise_sigmas times the pixel's noise and contrast times the value of the sky "
    "without the aurora; text burnt into the frame hides it"
)


def draw_camera_truth(
    tone: Callable[[F32], F32],
    inverse: Callable[[float], float],
    noise: Callable[[F32], F32],
    signal: F32,
    aurora: F32,
    form_kind: NDArray[np.uint8],
    sky: NDArray[np.bool_],
    sample: NDArray[np.int64],
    *,
    threshold_dn: float,
    noise_sigmas: float,
    outline_px: float,
    out_truth: NDArray[np.bool_],
    out_kind: NDArray[np.uint8],
) -> None:
    """The truth of one frame of a randomised camera (see :data:`RANDOMISED_TRUTH_DEFINITION`).

    Parameters
    ----------
    tone : callable
        Noise-free output DN (above the bias) of linear DN, clipped to the range.
    inverse : callable
        Linear DN that ``tone`` turns into a given output DN.
    noise : callable
        Noise (linear DN, one sigma) at linear DN.
    signal, aurora : (C, H, W) float32
        Noise-free linear signal of the frame and the aurora's share of it.
    form_kind : (H, W) uint8
        Kind of the brightest form on each pixel.
    sky : (H, W) bool
        Pixels that see the sky (not the landscape, not under an overlay).
    sample : (N,) int64
        Flat indices of sky pixels for the frame's display range.
    """
    visible = np.zeros(sky.shape, bool)
    for c in range(signal.shape[0]):
        top = tone(signal[c].reshape(-1)[sample])
        lo, hi = np.percentile(top, [1.0, 99.5]) if top.size else (0.0, 0.0)
        floor = float(threshold_dn) / 255.0 * max(float(hi - lo), 1e-6)
        # rise <= tone(aurora) for a concave tone curve: no pixel below this can be visible
        idx = np.flatnonzero(aurora[c] > np.float32(inverse(floor)))
        if idx.size == 0:
            continue
        s = signal[c].reshape(-1)[idx]
        a = aurora[c].reshape(-1)[idx]
        up = tone(s)
        below = tone(s - a)
        rise = up - below
        spread = tone(s + noise(s)) - up
        keep = (rise >= np.float32(floor)) & (rise >= np.float32(noise_sigmas) * spread)
        keep &= rise >= np.float32(TRUTH_CONTRAST) * below
        visible.reshape(-1)[idx[keep]] = True
    visible &= sky
    if outline_px > 0.0 and visible.any():
        outline_visible(visible, form_kind, sky, outline_px, out_truth, out_kind)
    else:
        out_truth[...] = visible
        out_kind[...] = 0
        np.copyto(out_kind, form_kind, where=visible)
