"""Natural glows of the randomised sky: twilight, zodiacal light and the Moon.

All three follow the true positions of the Sun and the Moon at the frame's
time (:mod:`.ephemeris`) and return maps in reference DN, each with the name of
its signature (:data:`~.spectra.SIG`), for the renderer to weigh by the
camera's response.

* **Twilight** while the Sun is less than 19° below the horizon: a deep blue
  sky overhead that turns orange towards the Sun's azimuth at the horizon, with
  the greyish-pink Earth's shadow opposite; its level (20 reference DN, the
  dark sky's, at 15° of solar depression) grows by a factor of about 30 for
  every 6° the Sun rises (:func:`twilight`), so that fixed-exposure cameras
  saturate in nautical twilight.
* **Zodiacal light**: a faint cone along the ecliptic, rising from the horizon
  above the Sun when it is 15-35° below the horizon (:func:`zodiacal_light`).
* **The Moon** by phase and altitude: scattered moonlight over the whole sky
  (more in haze), the glare around the disc (wider with frost or a dirty dome:
  ``glare``), the disc itself (hidden by thick cloud), moonlit clouds and
  the 22° halo in a cirrus veil (:func:`moonlight`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .ephemeris import equatorial_to_horizontal
from .skylight import TWILIGHT_LIMIT_DEG, cos_angle
from .static import StaticSky

__all__ = ["moonlight", "twilight", "zodiacal_light"]

F32 = NDArray[np.float32]
Layers = list[tuple[str, F32]]

_ECLIPTIC_POLE = (270.0, 66.5607)  # right ascension, declination (degrees, J2000)
_COS_HALO = np.float32(np.cos(np.radians(22.0)))


def twilight(static: StaticSky, sun: tuple[float, float]) -> tuple[Layers, float]:
    """The twilight layers and their level on the ground (0 below :data:`TWILIGHT_LIMIT_DEG`)."""
    sun_el, sun_az = sun
    if not sun_el > TWILIGHT_LIMIT_DEG:
        return [], 0.0
    level = np.float32(20.0 * np.exp(min(sun_el + 15.0, 20.0) / 1.7))
    cos_s = cos_angle(static, sun_el, sun_az)
    low = np.float32(1.0) - static.sin_el
    toward = np.clip(cos_s, 0.0, 1.0)
    away = np.clip(-cos_s, 0.0, 1.0)
    zenith = level * (np.float32(0.35) + np.float32(0.45) * low)
    horizon = level * np.float32(2.6) * toward * toward * (low * low * low)
    shadow = level * np.float32(0.5) * away * low * low
    layers = [("twilight_zenith", zenith), ("twilight_horizon", horizon)]
    layers.append(("twilight_shadow", shadow))
    return layers, float(0.05 * level)


def zodiacal_light(
    static: StaticSky, sun: tuple[float, float], lst: float, strength: float
) -> Layers:
    """The zodiacal light, ``strength`` reference DN where it is brightest, or nothing."""
    sun_el, sun_az = sun
    if strength <= 0.0 or not -35.0 < sun_el < -15.0:
        return []
    el_p, az_p = equatorial_to_horizontal(
        np.array(_ECLIPTIC_POLE[0]), np.array(_ECLIPTIC_POLE[1]), np.array(lst),
        static.station.latitude,
    )  # fmt: skip
    sin_beta = np.abs(cos_angle(static, float(el_p), float(az_p)))
    one_minus = np.float32(1.0) - cos_angle(static, sun_el, sun_az)
    dark = min(1.0, (-15.0 - sun_el) / 5.0)  # fades into twilight
    cone = np.exp(sin_beta * np.float32(-1.0 / 0.16))
    cone /= np.power(np.float32(0.05) + one_minus, np.float32(1.5))  # falls away from the sun
    cone *= static.ext_green
    peak = float(cone.max())
    if peak <= 0.0:
        return []
    cone *= np.float32(strength * dark / peak)  # ``strength`` where it is brightest
    return [("zodiacal", cone.astype(np.float32))]


def moonlight(
    static: StaticSky,
    moon: tuple[float, float, float],
    *,
    haze: float,
    glare: float,
    opacity: F32 | None,
    cirrus: F32 | None,
) -> tuple[Layers, float]:
    """The moon's layers and its light on the ground (reference DN).

    ``haze`` is the optical depth of the haze (more scattered light),
    ``glare`` a factor on the glare around the disc, ``opacity`` and ``cirrus``
    the thick cloud and the cirrus veil of the frame (None: none).
    """
    m_el, m_az, frac = moon
    level = float(140.0 * frac**1.5 * (0.25 + 0.75 * np.sqrt(max(np.sin(np.radians(m_el)), 0))))
    cos_m = cos_angle(static, m_el, m_az)
    one_minus = np.float32(1.0) - cos_m
    low = np.float32(1.0) - static.sin_el
    flood = np.float32(level * (1.0 + 2.5 * haze)) * (
        np.float32(0.55) + np.float32(0.45) * low * low
    )
    halo = np.float32(3.0 * level * glare) / (np.float32(1.0) + one_minus * np.float32(1 / 0.0045))
    halo += np.float32(level * glare) / (np.float32(1.0) + one_minus * np.float32(1 / 0.03))
    disc = np.float32(60.0 * level) / (np.float32(1.0) + one_minus * np.float32(1 / 1.5e-5))
    if haze > 0.0:  # aerosols scatter forwards: a wide glow around the moon, and the horizon
        flood += np.float32(level * 10.0 * haze) / (np.float32(1.0) + one_minus * np.float32(8.0))
        flood += np.float32(level * 1.5 * haze) * low * low * low
    layers: Layers = [("moon_sky", flood)]
    if opacity is not None:
        disc *= np.float32(1.0) - np.float32(0.97) * opacity
        layers.append(("moon_haze", opacity * (np.float32(0.9 * level) + np.float32(1.5) * halo)))
    if cirrus is not None:
        ring = np.exp(np.square((cos_m - _COS_HALO) * np.float32(1 / 0.009)) * np.float32(-0.5))
        ring *= np.float32(0.5 * level)
        ring += np.float32(0.4 * level) + np.float32(2.0) * halo
        layers.append(("moon_haze", cirrus * ring))
    layers.append(("moon_halo", halo + disc))
    return layers, 0.22 * level
