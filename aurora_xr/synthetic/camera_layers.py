"""Per-camera layers of the randomised sky, computed once per batch (camera and night).

:func:`camera_layers` turns a :class:`~.cameras.CameraModel` and a
:class:`~.night_scene.NightScene` into everything that does not move from
frame to frame, in the camera's output channels and linear DN: the lens
geometry and landscape (:func:`~.static.camera_sky`), the weight of every
signature (:mod:`.spectra`) times the exposure, vignetting and the
transmission of the haze, the airglow, the artificial light (haze, light
domes, lamps) and the light it throws on clouds and on the landscape, the
dome's snow and frost, the sensor (:mod:`.sensor`) and the overlay
(:mod:`.overlays`). It is cached, so a night of frames pays for it once.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..sky.stations import Station
from ._common import smoothstep
from .cameras import CameraModel
from .dome import dome_cover
from .light_pollution import artificial_light, haze_transmission
from .night_scene import NightScene
from .overlays import Overlay, overlay_for
from .sensor import Sensor, sensor_for
from .spectra import SIG, weights
from .static import CLOUD_TEXELS, StaticSky, camera_sky

__all__ = ["CameraLayers", "camera_layers"]

F32 = NDArray[np.float32]
_SAMPLE = 2048  # sky pixels sampled for the display range of a frame


@dataclass(frozen=True, eq=False)
class CameraLayers:
    """What a randomised camera adds to every frame (see the module docstring)."""

    camera: CameraModel
    scene: NightScene
    static: StaticSky
    weights: dict[str, F32]  # signature -> (C,) linear DN per reference DN
    star_mix: F32  # (C, 3) star planes (R, G, B continuum) -> output channels
    far_gain: F32  # (H, W) vignetting x sky x haze transmission
    near_gain: F32  # (H, W) vignetting x sky
    ground_gain: F32  # (H, W) vignetting on the landscape
    airglow: F32  # (C, H, W) flat sky and airglow after far_gain
    artificial: F32  # (C, H, W) haze and light domes (after near_gain), lamps
    cloud_light: F32  # (C, H, W) light thrown on a cloud deck of opacity 1 (after near_gain)
    ground: F32  # (C, H, W) the landscape as lit by the station
    cirrus_index: NDArray[np.int32]  # (2, H, W) texel column and row of the cirrus veil
    dome: tuple[F32, F32] | None
    sensor: Sensor
    overlay: Overlay | None
    sample: NDArray[np.int64]  # flat indices of sky pixels for display ranges
    auto_level: float  # linear DN of the median sky above which auto exposure shortens

    @property
    def channels(self) -> int:
        return len(self.camera.channels)

    def add(self, planes: F32, layer: F32, signature: str, gain: F32 | None = None) -> None:
        """``planes[c] += layer * weight[c]`` (times ``gain``) for a layer ``(H, W)``."""
        w = self.weights[signature]
        if gain is not None:
            layer = layer * gain
        for c in range(planes.shape[0]):
            planes[c] += layer * w[c]


def _planes(maps: dict[str, F32], w: dict[str, F32], gain: F32, n_c: int) -> F32:
    shape = gain.shape
    out = np.zeros((n_c, *shape), np.float32)
    for kind, layer in maps.items():
        lit = layer * gain
        for c in range(n_c):
            out[c] += lit * w[kind][c]
    return out


@functools.lru_cache(maxsize=8)
def camera_layers(
    station: Station, camera: CameraModel, scene: NightScene, height: int, width: int
) -> CameraLayers:
    """The layers of ``camera`` at ``station`` on a night ``scene`` for ``width`` x ``height``."""
    cal = camera.calibration(width, height)
    static = camera_sky(station, cal, camera.landscape, lean=True)
    n_c = len(camera.channels)
    exposure = camera.exposure()
    matrix = camera.matrix
    w = {name: weights(matrix, sig) * np.float32(exposure) for name, sig in SIG.items()}
    star_mix = (matrix[:, :3] * exposure * camera.star_gain).astype(np.float32)

    rho = np.clip(static.rho, 0.0, 1.0)
    edge_px = max(1.2, 0.8 * cal.lens_radius / 120.0)
    rim = smoothstep(((1.0 - static.rho) * cal.lens_radius).astype(np.float32), -0.5, edge_px)
    vig = ((1.0 - camera.vignetting * rho**2.5) * rim * static.inside).astype(np.float32)
    sky = static.sky.astype(np.float32)
    near_gain = vig * sky
    far_gain = near_gain * haze_transmission(static, scene.haze_depth)
    ground_gain = (vig * (static.inside & ~static.sky)).astype(np.float32)

    airglow = np.empty((n_c, height, width), np.float32)
    for c in range(n_c):
        airglow[c] = (w["sky_flat"][c] + w["airglow"][c] * static.van_rhijn) * far_gain

    haze, domes, lamps = artificial_light(static, scene)
    artificial = _planes(haze, w, near_gain, n_c) + _planes(domes, w, near_gain, n_c)
    artificial += _planes(lamps, w, vig, n_c)
    diffuse = {k: 0.5 * v for k, v in haze.items()}
    for k, v in domes.items():
        diffuse[k] = diffuse.get(k, 0.0) + 0.6 * v + 0.05 * float(v.max())
    cloud_light = _planes(diffuse, w, near_gain, n_c)
    lit_ground = {k: 0.2 * v for k, v in domes.items()}
    ground = _planes(lit_ground, w, ground_gain, n_c)
    for c in range(n_c):
        ground[c] += w["ground"][c] * np.float32(2.5) * ground_gain

    # the cirrus veil: the cloud deck's coordinates stretched along one direction (streaks)
    el0 = np.where(static.inside, static.el, 0.0)
    zen = np.radians(np.clip(90.0 - el0, 0.0, 90.0))
    r_tex = np.sin(zen) / (np.cos(zen) + 0.14) * (70.0 * CLOUD_TEXELS / 512.0)
    az_r = np.radians(np.where(static.inside, static.az, 0.0) - scene.phases[0] * 57.3)
    cu = np.mod(0.4 * r_tex * np.sin(az_r), CLOUD_TEXELS).astype(np.int32)
    cv = np.mod(2.2 * r_tex * np.cos(az_r), CLOUD_TEXELS).astype(np.int32)
    cirrus_index = np.stack([cu, cv])

    sky_pix = np.flatnonzero(static.sky)
    step = max(1, sky_pix.size // _SAMPLE)
    return CameraLayers(
        camera=camera,
        scene=scene,
        static=static,
        weights=w,
        star_mix=star_mix,
        far_gain=far_gain,
        near_gain=near_gain,
        ground_gain=ground_gain,
        airglow=airglow,
        artificial=artificial,
        cloud_light=cloud_light,
        ground=ground,
        cirrus_index=cirrus_index,
        dome=dome_cover(static, scene, camera.key),
        sensor=sensor_for(camera, (height, width), static.inside),
        overlay=overlay_for(camera.overlay, cal, camera.key, station.code),
        sample=sky_pix[::step].astype(np.int64),
        auto_level=camera.auto_exposure * camera.linear_level(camera.sky_level),
    )
