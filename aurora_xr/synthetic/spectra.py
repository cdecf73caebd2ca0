"""Light of the randomised synthetic sky in a small spectral basis, and what cameras see of it.

Every source of light in the randomised sky carries a *signature*: its
brightness in the seven components of :data:`BASIS`, in DN of the reference
8-bit colour camera of the default sky (so that a colour camera with the
reference response sees the colours the default sky has always drawn). The
components are the continuum in the red, green and blue pass bands of a colour
camera and four emission lines:

================  =============================================================
component         sources
================  =============================================================
continuum R/G/B   stars, the Milky Way, zodiacal light, moonlight, twilight, LED
                  light, the continuum of the airglow
557.7 nm          the green auroral line (O I) and its airglow
630.0 nm          the red auroral line (O I, 200-250 km) and its airglow
427.8 nm          the blue N2+ first negative band of the aurora
589.0 nm          sodium street lamps (high-pressure sodium: orange)
================  =============================================================

A camera is a matrix of responses, one row per output channel
(:func:`colour_response`, :func:`band_response`): a colour camera has three
rows (R, G, B, with the colour cast of its filters and white balance), a
single-channel imager one, named by its band (:data:`BANDS`): ``"white"``
(a broad-band sum of the emissions), ``"557.7nm"``, ``"630.0nm"`` and
``"427.8nm"`` (narrow filters that pass their line and a few per cent of the
continuum around it). A layer then costs one multiply-add per output channel.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "BANDS",
    "BASIS",
    "SIG",
    "band_response",
    "colour_response",
    "luminance_response",
    "weights",
]

BASIS = (
    "continuum_R",
    "continuum_G",
    "continuum_B",
    "557.7nm",
    "630.0nm",
    "427.8nm",
    "589.0nm",
)
"""The components of a signature."""

BANDS = ("white", "557.7nm", "630.0nm", "427.8nm")
"""Bands of the single-channel imagers of the randomised sky (channel names of their cubes)."""


def _sig(r: float, g: float, b: float, l557: float = 0.0, l630: float = 0.0,
         l428: float = 0.0, na: float = 0.0) -> NDArray[np.float64]:  # fmt: skip
    return np.array([r, g, b, l557, l630, l428, na], dtype=float)


SIG: dict[str, NDArray[np.float64]] = {
    # the flat part of the night sky: scattered starlight, zodiacal light, dark signal
    "sky_flat": _sig(13.5, 13.5, 8.0),
    # the airglow per unit of the van Rhijn path factor: lines and pseudo-continuum
    "airglow": _sig(4.2, 5.4, 2.4, 2.0, 1.0),
    "milky_way": _sig(1.0, 0.95, 0.8),
    "zodiacal": _sig(1.0, 0.93, 0.76),
    "moon_sky": _sig(0.74, 0.86, 1.0),  # scattered moonlight, bluish
    "moon_halo": _sig(1.0, 0.98, 0.93),  # glare and the disc
    "moon_haze": _sig(0.95, 0.93, 0.88),  # moonlit haze and clouds, whiter
    "twilight_zenith": _sig(0.42, 0.62, 1.0),  # deep blue overhead
    "twilight_horizon": _sig(1.0, 0.62, 0.3),  # orange towards the sun
    "twilight_shadow": _sig(0.66, 0.6, 0.82),  # the Earth's shadow and the belt of Venus
    "sodium": _sig(0.0, 0.0, 0.0, na=1.0),
    "led": _sig(1.0, 0.93, 0.8),
    "mixed_lamps": _sig(0.55, 0.52, 0.46, na=0.45),
    "aurora_green": _sig(0.0, 0.0, 0.0, l557=1.0),
    "aurora_red": _sig(0.0, 0.0, 0.0, l630=1.0),
    "aurora_blue": _sig(0.0, 0.0, 0.0, l428=1.0),
    "meteor": _sig(0.8, 1.0, 0.85, l557=0.5),
    "white": _sig(1.0, 1.0, 1.0),
    "nav_red": _sig(1.0, 0.08, 0.05),
    "nav_green": _sig(0.1, 1.0, 0.45),
    "ground": _sig(0.9, 0.9, 1.0),
}
"""Signatures of the sources (DN of the reference colour camera per unit of their layer)."""

# The reference colour camera: how each component lands in R, G and B.
_RGB_REFERENCE = np.array(
    [
        # cont_R cont_G cont_B 557.7 630.0 427.8 589.0
        [1.0, 0.0, 0.0, 0.42, 1.0, 0.12, 1.0],
        [0.0, 1.0, 0.0, 1.0, 0.14, 0.1, 0.62],
        [0.0, 0.0, 1.0, 0.32, 0.12, 1.0, 0.1],
    ]
)

# Single-channel imagers: broad-band (white light) and narrow filters, which pass a
# few per cent of the continuum near their line.
_BAND_REFERENCE = {
    "white": np.array([0.9, 1.0, 0.7, 1.0, 0.8, 0.6, 0.95]),
    "557.7nm": np.array([0.004, 0.03, 0.004, 1.0, 0.0, 0.0, 0.002]),
    "630.0nm": np.array([0.03, 0.004, 0.002, 0.0, 1.0, 0.0, 0.004]),
    "427.8nm": np.array([0.002, 0.004, 0.03, 0.0, 0.0, 1.0, 0.0]),
}


def colour_response(
    *,
    white_balance: Sequence[float] = (1.0, 1.0, 1.0),
    crosstalk: float = 0.0,
    green_hue: float = 0.0,
    saturation: float = 1.0,
) -> NDArray[np.float64]:
    """The ``(3, 7)`` response of a colour camera.

    Parameters
    ----------
    white_balance : 3 floats
        Gains of R, G and B (a colour cast).
    crosstalk : float
        Share of each channel's signal leaking into the other two (desaturates).
    green_hue : float
        Shift of the 557.7 nm line from green towards cyan (> 0) or yellow (< 0).
    saturation : float
        Colour saturation of the camera's processing (1: none; consumer cameras boost
        colours, which their gamma curve would otherwise wash out).
    """
    ref = _RGB_REFERENCE.copy()
    ref[0, 3] = max(0.0, ref[0, 3] - 0.3 * green_hue)
    ref[2, 3] = max(0.0, ref[2, 3] + 0.5 * green_hue)
    mix = np.full((3, 3), crosstalk / 2.0) + np.eye(3) * (1.0 - 1.5 * crosstalk)
    luma = np.array([0.299, 0.587, 0.114])
    boost = saturation * np.eye(3) + (1.0 - saturation) * np.ones((3, 1)) * luma[None, :]
    out = boost @ (np.asarray(white_balance, dtype=float)[:, None] * (mix @ ref))
    return np.asarray(np.clip(out, 0.0, None))


def band_response(band: str) -> NDArray[np.float64]:
    """The ``(1, 7)`` response of a single-channel imager in ``band`` (one of :data:`BANDS`)."""
    return _BAND_REFERENCE[band][None, :].copy()


def luminance_response(colour: NDArray[np.float64]) -> NDArray[np.float64]:
    """The ``(1, 7)`` response of a grey frame made from a colour camera (Rec. 601 luma)."""
    return np.array([[0.299, 0.587, 0.114]]) @ colour


def weights(response: NDArray[np.float64], signature: NDArray[np.float64]) -> NDArray[np.float32]:
    """What each output channel records of a source with ``signature`` (``(C,)`` float32)."""
    return (response @ signature).astype(np.float32)
