"""Twilight and moonlight of the synthetic sky: the light in front of the clouds.

Both are drawn from the true positions of the Sun and the Moon
(:mod:`.ephemeris`). Twilight, while the Sun is less than 19° below the horizon,
is a blue glow brightest at the horizon, warmer towards the Sun. Moonlight is
a flood of scattered light (bluish, by phase and altitude), a halo and the disc;
clouds are lit by both, and the disc is hidden behind thick cloud. Each also
lights the ground (snow, buildings) seen on the horizon.

Levels are 8-bit DN of the noise-free signal; planes are ``(3, H, W)`` float32.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ._common import add_colour
from .static import StaticSky

__all__ = ["TWILIGHT_LIMIT_DEG", "add_moonlight", "add_twilight", "cos_angle", "moon_state"]

F32 = NDArray[np.float32]

TWILIGHT_LIMIT_DEG = -19.0
"""Solar elevation (degrees) below which the sky has no twilight."""

_MOON_SKY = (0.74, 0.86, 1.0)
_MOON_HALO = (1.0, 0.98, 0.93)
_MOON_GROUND = (0.85, 0.9, 1.0)
_TWILIGHT_BLUE = (0.64, 0.8, 1.0)
_TWILIGHT_WARM = (1.0, 0.7, 0.46)


def moon_state(
    mode: bool | str, el: float, az: float, frac: float
) -> tuple[float, float, float] | None:
    """Elevation, azimuth and illuminated fraction of the moon to draw (None: no moon).

    ``mode`` is the ``moon`` option: False never draws it, True always does
    (lifted, mirrored, to at least 8° and at least half lit), ``"auto"`` when it is up.
    """
    if mode is False:
        return None
    if mode is True:  # always a moon: lifted (mirrored) to at least 8°, at least half lit
        return max(abs(el), 8.0), az, max(frac, 0.5)
    if el <= 0.0:
        return None
    return el, az, frac


def cos_angle(static: StaticSky, el: float, az: float) -> F32:
    """Cosine of the angle between every pixel's line of sight and a direction."""
    se, ce = np.float32(np.sin(np.radians(el))), np.float32(np.cos(np.radians(el)))
    ca, sa = np.float32(np.cos(np.radians(az))), np.float32(np.sin(np.radians(az)))
    return static.sin_el * se + (static.cos_el * ce) * (static.cos_az * ca + static.sin_az * sa)


def add_twilight(
    planes: F32, static: StaticSky, sun: tuple[float, float], opacity: F32 | None
) -> float:
    """Add the twilight glow of the Sun at ``sun`` = (elevation, azimuth) to ``planes``.

    ``opacity`` is the cloud opacity of the frame (None: clear); clouds brighten
    the glow. Returns the level (DN) of the twilight on the ground, 0 when the
    Sun is lower than :data:`TWILIGHT_LIMIT_DEG`.
    """
    sun_el, sun_az = sun
    if not sun_el > TWILIGHT_LIMIT_DEG:
        return 0.0
    level = float(120.0 * np.exp(min(sun_el + 6.0, 12.0) / 1.9))  # saturated by day
    cos_s = cos_angle(static, sun_el, sun_az)
    low = np.float32(1.0) - static.sin_el
    toward = np.clip(cos_s, 0.0, 1.0) * low
    glow = np.float32(level) * (np.float32(0.45) + np.float32(0.55) * low * np.sqrt(low))
    glow *= np.float32(1.0) + np.float32(3.0) * toward * toward
    if opacity is not None:
        glow *= np.float32(1.0) + np.float32(0.6) * opacity
    add_colour(planes, glow, _TWILIGHT_BLUE)
    warm = tuple(w - b for w, b in zip(_TWILIGHT_WARM, _TWILIGHT_BLUE, strict=True))
    add_colour(planes, glow * toward, warm)
    return 0.05 * level


def add_moonlight(
    planes: F32, static: StaticSky, moon: tuple[float, float, float], opacity: F32 | None
) -> tuple[bool, NDArray[np.float64]]:
    """Add the light of the moon at ``moon`` = (elevation, azimuth, lit fraction) to ``planes``.

    ``opacity`` is the cloud opacity of the frame (None: clear): clouds are lit
    by the moon and hide its disc. Returns whether the moon lights the sky
    noticeably and its light (R, G, B in DN) on the ground.
    """
    m_el, m_az, frac = moon
    level = float(140.0 * frac**1.5 * (0.25 + 0.75 * np.sqrt(max(np.sin(np.radians(m_el)), 0))))
    one_minus = np.float32(1.0) - cos_angle(static, m_el, m_az)
    low = np.float32(1.0) - static.sin_el
    flood = np.float32(level) * (np.float32(0.55) + np.float32(0.45) * low * low)
    halo = np.float32(3.0 * level) / (np.float32(1.0) + one_minus * np.float32(1 / 0.0045))
    halo += np.float32(level) / (np.float32(1.0) + one_minus * np.float32(1 / 0.03))
    disk = np.float32(60.0 * level) / (np.float32(1.0) + one_minus * np.float32(1 / 1.5e-5))
    if opacity is not None:
        disk *= np.float32(1.0) - np.float32(0.97) * opacity
        lit = opacity * (np.float32(0.9 * level) + np.float32(1.5) * halo)
        planes += np.float32(0.95) * lit
    add_colour(planes, flood, _MOON_SKY)
    add_colour(planes, halo + disk, _MOON_HALO)
    return level > 3.0, 0.22 * level * np.array(_MOON_GROUND)
