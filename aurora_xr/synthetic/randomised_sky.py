"""The frame kernel of the randomised sky (``realism="randomised"``; numpy, no xarray).

A frame is a pure function of ``(seed, t, options, station, frame size)``,
like the default sky, but of one randomised camera (:mod:`.cameras`) on one
randomised night (:mod:`.night_scene`), both fixed by the options. In the
camera's output channels and linear DN::

    far   = airglow + Milky Way + zodiacal light + stars + meteors, satellites + aurora
    far  *= cloud and cirrus transmission;  far *= vignetting x sky x haze transmission
    near  = haze and light domes + lamps + twilight + moon (flood, glare, disc, halo)
          + clouds lit by all of them (and by the aurora above them) + aircraft
    S     = far + near + landscape (lit by the station, twilight and the moon)
    S     = dome(S)   (snow and frost)  -> blur and resolution -> truth
    DN    = tone(S + noise + hot pixels + cosmic rays) + bias -> overlay -> JPEG

Every confounder's strength in every frame is recorded in ``conditions``
(:data:`CONDITIONS`, 0 where it is absent), so that tests and users can find
the frames that hold it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..sky.stations import Station
from ._common import TAG_FRAME, TAG_TRANSIENT, rng_for
from .auroral_forms import active_forms
from .auroral_variety import render_varied_aurora, varied_forms_starting_in
from .camera_layers import CameraLayers, camera_layers
from .dome import apply_dome
from .ephemeris import local_sidereal_time, moon_altaz, sun_altaz
from .magnetic_lookup import camera_magnetic_sky
from .options import SkyOptions
from .sky_glow import moonlight, twilight, zodiacal_light
from .skylight import moon_state
from .stars import _FAINT_COLOUR, star_light
from .static import CLOUD_TEXELS, MW_STEP_DEG, SeedLayers, milky_way_texture, seed_layers
from .transients import cosmic_rays, streaks
from .truth import TRUTH_NOISE_SIGMAS, draw_camera_truth
from .weather import Weather, cloud_opacity

__all__ = [
    "CONDITIONS",
    "CONDITIONS_COMMENT",
    "TEXTURE_BANKS",
    "RandomisedBatch",
    "render_randomised",
    "shared_textures",
]

F32 = NDArray[np.float32]

CONDITIONS = (
    "moon", "twilight", "haze", "light_dome", "lamps", "clouds", "cirrus", "frost", "snow",
    "milky_way", "zodiacal", "meteor", "satellite", "aircraft", "cosmic_rays", "overlay",
    "aurora",
)  # fmt: skip
"""Per-frame conditions of the randomised sky, in the order of the ``condition`` dimension."""
_C = {name: k for k, name in enumerate(CONDITIONS)}
CONDITIONS_COMMENT = (
    "moon: scattered moonlight at the horizon (reference DN, phase and altitude); twilight: "
    "twilight at the horizon (reference DN); haze: lit haze at the zenith (reference DN); "
    "light_dome, lamps: the brightest dome or lamp (reference DN at its base); clouds: mean "
    "cover times opacity; cirrus: cirrus cover; frost, snow: share of the dome; milky_way: "
    "factor on the Milky Way; zodiacal: its strength when the sun allows it; meteor, satellite, "
    "aircraft: peak (reference DN); cosmic_rays: count; overlay: style; aurora: share of the "
    "sky in the truth. Reference DN: DN of the default sky's 8-bit colour camera, whose dark "
    "sky is about 20 DN at the zenith"
)


TEXTURE_BANKS = 4
"""The randomised sky draws cloud textures and noise deviates from this many banks (one per
``seed % TEXTURE_BANKS``), so that a training set of many nights does not pay for new ones
every night; the wind, the cloud amount and the noise offsets still differ per seed."""


@functools.lru_cache(maxsize=16)
def shared_textures(seed: int, n_values: int) -> tuple[SeedLayers, Weather]:
    """The textures of bank ``seed % TEXTURE_BANKS`` and the weather of ``seed`` over them."""
    layers = seed_layers(seed % TEXTURE_BANKS + 1_000_003, n_values)
    return layers, Weather.for_seed(seed, layers)


@dataclass(frozen=True, eq=False)
class RandomisedBatch:
    """Rendered frames of one randomised camera, their truth and conditions."""

    image: NDArray[np.unsignedinteger]  # (n, H, W, C) uint8 or uint16
    truth: NDArray[np.bool_]  # (n, H, W)
    kind: NDArray[np.uint8]  # (n, H, W)
    moon_up: NDArray[np.bool_]  # (n,)
    cloud_fraction: NDArray[np.float32]  # (n,)
    conditions: NDArray[np.float32]  # (n, len(CONDITIONS)) strengths, 0 where absent


def render_randomised(
    station: Station, height: int, width: int, times_ns: NDArray[np.int64], options: SkyOptions
) -> RandomisedBatch:
    """Render the randomised camera of ``options`` at ``times_ns`` (int64 ns since 1970, UTC)."""
    if options.camera is None or options.scene is None:
        raise ValueError("the randomised sky needs options with a camera and a scene")
    layers = camera_layers(station, options.camera, options.scene, height, width)
    n_c = layers.channels
    times = np.asarray(times_ns, dtype=np.int64)
    n = times.size
    lat, lon = station.latitude, station.longitude
    lst = local_sidereal_time(times, lon)
    sun_el, sun_az = sun_altaz(times, lat, lon)
    moon_el, moon_az, moon_frac = moon_altaz(times, lat, lon)
    years = times.astype("datetime64[ns]").astype("datetime64[Y]").astype(np.int64) + 1970
    out = RandomisedBatch(
        image=np.empty((n, height, width, n_c), options.camera.dtype),
        truth=np.zeros((n, height, width), bool),
        kind=np.zeros((n, height, width), np.uint8),
        moon_up=np.zeros(n, bool),
        cloud_fraction=np.zeros(n, np.float32),
        conditions=np.zeros((n, len(CONDITIONS)), np.float32),
    )
    for i in range(n):
        moon = moon_state(options.moon, moon_el[i], moon_az[i], moon_frac[i])
        _render_one(
            layers, options, int(times[i]), float(lst[i]), (float(sun_el[i]), float(sun_az[i])),
            moon, int(years[i]), out, i,
        )  # fmt: skip
    return out


def _render_one(
    layers: CameraLayers,
    options: SkyOptions,
    t_ns: int,
    lst: float,
    sun: tuple[float, float],
    moon: tuple[float, float, float] | None,
    year: int,
    out: RandomisedBatch,
    i: int,
) -> None:
    static, scene, cam = layers.static, layers.scene, layers.camera
    height, width = static.shape
    n_c = layers.channels
    cond = out.conditions[i]
    seed = options.seed
    textures, weather = shared_textures(seed, height * width * 3)
    rng = rng_for(seed, TAG_FRAME, t_ns)
    minutes = t_ns / 60e9 - 26_297_280.0

    # -- far: airglow, Milky Way, zodiacal light, stars, meteors, aurora ----------------
    sig = layers.airglow * np.float32(scene.airglow * weather.airglow(minutes))
    far = np.zeros_like(sig)
    idx = (static.mw_base + np.float32(lst / MW_STEP_DEG)).astype(np.int32)
    layers.add(far, milky_way_texture()[idx] * static.ext_green, "milky_way")
    cond[_C["milky_way"]] = scene.milky_way
    far *= np.float32(scene.milky_way)
    for name, layer in zodiacal_light(static, sun, lst, scene.zodiacal):
        layers.add(far, layer, name)
        cond[_C["zodiacal"]] = scene.zodiacal
    s_idx, s_val, g_idx, g_val = star_light(static, lst, rng, static.cal.lens_radius / 120.0)
    stars = np.bincount(s_idx, s_val, minlength=3 * height * width).reshape(3, height, width)
    faint = np.bincount(g_idx, g_val, minlength=height * width).reshape(height, width)
    stars += np.asarray(_FAINT_COLOUR)[:, None, None] * faint
    for c in range(n_c):
        far[c] += (
            (layers.star_mix[c] @ stars.reshape(3, -1)).reshape(height, width).astype(np.float32)
        )
    trng = rng_for(seed, TAG_TRANSIENT, t_ns)
    force = dict(options.force)
    near_streaks = []
    for streak in streaks(static, scene, trng, force=force):
        cond[_C[streak.kind]] = max(cond[_C[streak.kind]], float(streak.value.max(initial=0)))
        if streak.near:
            near_streaks.append(streak)
            continue
        for c in range(n_c):
            far[c].reshape(-1)[streak.index] += streak.value * layers.weights[streak.signature][c]

    aurora_opts = options.aurora
    forms = active_forms(
        seed, t_ns, static.station.latitude, static.station.longitude, aurora_opts,
        starting=varied_forms_starting_in,
    )  # fmt: skip
    aur_c: F32 | None = None
    form_kind: NDArray[np.uint8] | None = None
    if forms:
        mag = camera_magnetic_sky(static, year)
        drawn = render_varied_aurora(mag, forms, t_ns, seed, textures.rays)
        if drawn is not None:
            green, red, form_kind = drawn
            aur_c = np.empty((n_c, height, width), np.float32)
            w_g = (
                layers.weights["aurora_green"]
                + np.float32(scene.blue_ratio) * (layers.weights["aurora_blue"])
            )
            w_r = layers.weights["aurora_red"]
            for c in range(n_c):
                aur_c[c] = green * w_g[c]
                aur_c[c] += red * w_r[c]
            far += aur_c

    # -- clouds and cirrus: transmission of the far layers ------------------------------
    opacity: F32 | None = None
    cirrus: F32 | None = None
    amount = weather.amount(minutes, scene.clouds)
    if amount > 0.0:
        opacity = cloud_opacity(static, textures, weather, minutes, amount)
        opacity *= np.float32(scene.cloud_opacity)
        sky_n = max(int(np.count_nonzero(static.sky)), 1)
        out.cloud_fraction[i] = np.count_nonzero((opacity > 0.5) & static.sky) / sky_n
        cond[_C["clouds"]] = amount * scene.cloud_opacity
    if scene.cirrus > 0.0:
        _, _, ox, oy = weather.offsets(0.7 * minutes)
        iu = layers.cirrus_index[0] + np.int32(ox)
        iu &= np.int32(CLOUD_TEXELS - 1)
        iv = layers.cirrus_index[1] + np.int32(oy)
        iv &= np.int32(CLOUD_TEXELS - 1)
        iv *= np.int32(CLOUD_TEXELS)
        iv += iu
        iv += np.int32(CLOUD_TEXELS**2)  # the softer of the blurred levels
        cirrus = textures.cloud_b[iv]
        cirrus = np.clip(
            (cirrus.astype(np.float32) * np.float32(1 / 255) - np.float32(1.0 - scene.cirrus))
            * np.float32(2.5), 0.0, 0.45,
        )  # fmt: skip
        cond[_C["cirrus"]] = scene.cirrus
    trans = None
    if opacity is not None:
        trans = np.float32(1.0) - np.float32(0.97) * opacity
    if cirrus is not None:
        veil = np.float32(1.0) - cirrus
        trans = veil if trans is None else trans * veil
    gain = layers.far_gain if trans is None else layers.far_gain * trans
    far *= gain
    sig += far
    if aur_c is not None:
        aur_c *= gain

    # -- near: artificial light, twilight, moon, lit clouds, aircraft, landscape ----------
    level = scene.level(minutes, 0)
    sig += layers.artificial * np.float32(level)
    cond[_C["haze"]] = scene.haze * level
    cond[_C["light_dome"]] = max((d.level for d in scene.domes), default=0.0)
    cond[_C["lamps"]] = max((d.level for d in scene.lamps), default=0.0)
    cloud_cover = opacity
    if cirrus is not None:
        cloud_cover = cirrus if opacity is None else np.maximum(opacity, cirrus)
    if cloud_cover is not None:
        for c in range(n_c):
            sig[c] += cloud_cover * layers.cloud_light[c] * np.float32(level)
        if aur_c is not None:  # clouds scatter the light of the aurora above them
            glow = np.float32(0.3) * aur_c.reshape(n_c, -1).mean(1)
            for c in range(n_c):
                sig[c] += cloud_cover * layers.near_gain * glow[c]
    twilight_layers, ground_light = twilight(static, sun)
    if twilight_layers:
        cond[_C["twilight"]] = ground_light * 20.0
    glow_layers = list(twilight_layers)
    if moon is not None:
        moon_layers, moon_ground = moonlight(
            static, moon, haze=scene.haze_depth, glare=scene.moon_glare, opacity=opacity,
            cirrus=cirrus,
        )  # fmt: skip
        glow_layers += moon_layers
        ground_light += moon_ground
        out.moon_up[i] = moon_ground > 0.66
        cond[_C["moon"]] = moon_ground / 0.22
    for name, layer in glow_layers:
        layers.add(sig, layer, name, layers.near_gain)
    for streak in near_streaks:
        for c in range(n_c):
            sig[c].reshape(-1)[streak.index] += streak.value * layers.weights[streak.signature][c]
    sig += layers.ground
    if ground_light > 0.0:
        layers.add(
            sig, layers.ground_gain, "ground", np.full_like(layers.ground_gain, ground_light)
        )

    # -- dome, optics, truth, sensor ------------------------------------------------------
    if layers.dome is not None:
        apply_dome(sig, layers.dome, static.inside)
        if aur_c is not None:
            aur_c *= layers.dome[0]
        cond[_C["frost"]], cond[_C["snow"]] = scene.frost, scene.snow
    sensor = layers.sensor
    if cam.auto_exposure > 0.0:  # a shorter exposure when the sky is bright
        bright = float(np.median(sig[:, :, :].reshape(n_c, -1)[:, layers.sample]))
        factor = min(1.0, layers.auto_level / max(bright, 1e-9))
        if factor < 1.0:
            sig *= np.float32(factor)
            if aur_c is not None:
                aur_c *= np.float32(factor)
    sig = sensor.smooth(sig)
    alpha = value = None
    visible_sky = static.sky
    if layers.overlay is not None:
        alpha, value = layers.overlay.frame_alpha(t_ns)
        visible_sky = static.sky & ~layers.overlay.covers(alpha)
        cond[_C["overlay"]] = cam.overlay
    if aur_c is not None and form_kind is not None:
        aur_c = sensor.smooth(aur_c)
        draw_camera_truth(
            sensor.tone, sensor.inverse, sensor.noise, sig, aur_c, form_kind, visible_sky,
            layers.sample, threshold_dn=options.truth_threshold, noise_sigmas=TRUTH_NOISE_SIGMAS,
            outline_px=options.truth_outline_deg * static.px_per_deg,
            out_truth=out.truth[i], out_kind=out.kind[i],
        )  # fmt: skip
        n_sky = max(int(np.count_nonzero(static.sky)), 1)
        cond[_C["aurora"]] = int(np.count_nonzero(out.truth[i])) / n_sky
    bank = textures.noise_bank
    offset = int(rng.integers(0, bank.size - sig.size))
    cosmic = cosmic_rays(static.shape, cam.cosmic_rate, trng, sensor.span)
    cond[_C["cosmic_rays"]] = cosmic[0].size
    values = sensor.expose(sig, bank, offset, cosmic)
    if alpha is not None and value is not None:
        for c in range(n_c):
            tint = layers.overlay.colour[c if n_c == 3 else 1] if layers.overlay else 1.0
            values[c] *= np.float32(1.0) - alpha
            values[c] += alpha * value * np.float32(tint * cam.full_scale)
    sensor.write(values, out.image[i])
