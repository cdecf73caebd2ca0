"""Artificial light in the randomised sky: lit haze, light domes and lamps on the horizon.

Per camera and night (once per batch), as maps in reference DN:

* **haze** lit by towns and the station over the whole sky, brighter towards
  the horizon (``haze_horizon``) and towards the light domes; the same haze
  dims what lies behind it (:func:`haze_transmission`, optical depth
  ``haze_depth`` at the zenith), so a low auroral arc sits *under* an orange
  glow;
* **light domes**: glows over towns or the station, a few tens of degrees
  wide, falling off with elevation;
* **lamps**: station lights on the horizon, small and often saturated, with
  a glare around them; they stand in front of everything.

Each source has a kind (sodium orange, LED white or a mix, see
:data:`~.night_scene.LAMP_KINDS`) whose signature makes its colour (and what a
narrow-band imager sees of it: a 557.7 or 630.0 nm filter blocks most sodium
light, a white-light imager records all of it).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..sky.lens import sky_to_pixel
from .night_scene import LightSource, NightScene
from .static import StaticSky, airmass

__all__ = ["artificial_light", "haze_transmission"]

F32 = NDArray[np.float32]


def _periodic_gauss(delta_deg: NDArray[np.floating], width_deg: float) -> NDArray[np.float64]:
    d = (np.asarray(delta_deg, dtype=float) + 180.0) % 360.0 - 180.0
    return np.exp(-0.5 * (d / width_deg) ** 2)


def haze_transmission(static: StaticSky, depth: float) -> F32:
    """Transmission of the haze for light from beyond it, ``exp(-depth * airmass)``."""
    el = np.where(static.inside, static.el, 0.0)
    return np.exp(-depth * airmass(el)).astype(np.float32)


def _dome(static: StaticSky, src: LightSource) -> NDArray[np.float64]:
    el = np.clip(np.where(static.inside, static.el, 0.0), 0.0, 90.0)
    az = np.where(static.inside, static.az, 0.0)
    core = np.exp(-el / src.height) * _periodic_gauss(az - src.azimuth, src.width)
    wide = (
        0.25 * np.exp(-el / (2.5 * src.height)) * _periodic_gauss(az - src.azimuth, 2 * src.width)
    )
    return src.level * (core + wide)


def _lamp(static: StaticSky, src: LightSource) -> NDArray[np.float64]:
    x, y = sky_to_pixel(np.array([src.elevation]), np.array([src.azimuth]), static.cal)
    height, width = static.shape
    yy, xx = np.mgrid[0:height, 0:width]
    r = np.hypot(xx - float(x[0]), yy - float(y[0])) / max(static.px_per_deg, 1e-6)
    core = np.exp(-0.5 * (r / 0.35) ** 2)
    glare = 0.06 / (1.0 + (r / src.height) ** 2) ** 1.5
    return src.level * (core + glare)


def artificial_light(
    static: StaticSky, scene: NightScene
) -> tuple[dict[str, F32], dict[str, F32], dict[str, F32]]:
    """Maps (reference DN, ``(H, W)``) of the haze, the domes and the lamps by kind of light.

    Returns three dicts from a kind of :data:`~.night_scene.LAMP_KINDS` to its
    map: the haze over the sky, the light domes, and the lamps (which also
    light the landscape in front of the sky). Kinds without light are left out.
    """
    haze: dict[str, F32] = {}
    domes: dict[str, NDArray[np.float64]] = {}
    lamps: dict[str, NDArray[np.float64]] = {}
    low = 1.0 - np.clip(static.sin_el, 0.0, 1.0)
    az = np.where(static.inside, static.az, 0.0)
    towards = np.zeros(static.shape)
    for src in scene.domes:
        domes[src.kind] = domes.get(src.kind, 0.0) + _dome(static, src)
        towards += _periodic_gauss(az - src.azimuth, 2.0 * src.width) * min(src.level / 50.0, 1.0)
    for src in scene.lamps:
        lamps[src.kind] = lamps.get(src.kind, 0.0) + _lamp(static, src)
    if scene.haze > 0.0:
        shape = 1.0 + (scene.haze_horizon - 1.0) * low**2 + 0.8 * np.minimum(towards, 1.5) * low
        haze[scene.haze_kind] = (scene.haze * shape * static.inside).astype(np.float32)
    return (
        haze,
        {k: (v * static.inside).astype(np.float32) for k, v in domes.items()},
        {k: (v * static.inside).astype(np.float32) for k, v in lamps.items()},
    )
