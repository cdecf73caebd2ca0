"""The frame renderer of the synthetic sky (numpy kernel, no xarray).

A frame at time ``t`` is a pure function of ``(seed, t, options, station,
frame size)``: every random draw comes from a generator seeded by the seed and
the time (and, for auroral forms, by the seed and the 10-minute slot in which
the form starts), never from the position of the frame in a request.

Signal model (DN of an 8-bit camera, before noise)::

    far  = airglow + Milky Way + stars + aurora            (behind the clouds)
    near = light dome + twilight + moon glow + cloud light  (in front of them)
    S    = vignette * (far * T + near)  where the sky is seen
         = vignette * silhouette (lit by twilight/moon)     on the horizon
    S   += bias (+ a few hot pixels)

with ``T = 1 - 0.97 * opacity`` the cloud transmission; clouds are lit by the
station, the moon, twilight and (dimly) by the aurora above them. Noise is
shot + read noise, ``sigma = sqrt(read**2 + gain * S)``, applied with unit
Gaussian deviates read at a per-frame random offset from a per-seed bank
(drawing fresh deviates would cost a quarter of the frame time); the value
is then rounded and clipped to 0..255. Internally the planes are
``(3, H, W)`` float32; frames come out ``(H, W, 3)`` uint8.

The layers come from their own modules: :mod:`.static` (what never moves),
:mod:`.stars`, :mod:`.auroral_forms` and :mod:`.auroral_emission` (the
aurora), :mod:`.weather` (clouds, airglow), :mod:`.skylight` (twilight, the
moon) and :mod:`.truth` (``aurora_truth`` and ``aurora_kind``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..sky.stations import Station
from ._common import TAG_FRAME, add_colour, rng_for
from .auroral_emission import magnetic_sky, render_aurora
from .auroral_forms import active_forms
from .ephemeris import local_sidereal_time, moon_altaz, sun_altaz
from .options import SkyOptions
from .skylight import add_moonlight, add_twilight, moon_state
from .stars import add_stars
from .static import (
    MW_STEP_DEG,
    SeedLayers,
    StaticSky,
    milky_way_colour,
    milky_way_texture,
    seed_layers,
    static_sky,
)
from .truth import draw_truth
from .weather import Weather, cloud_opacity, weather_for

__all__ = ["FrameBatch", "render_frames"]

F32 = NDArray[np.float32]

_GREEN = (0.42, 1.0, 0.32)
_MW_COLOUR = tuple(float(c) for c in milky_way_colour())
_RED = (1.0, 0.14, 0.12)
_READ_NOISE = 1.6
_GAIN = 0.22
_BIAS = 2.0


@dataclass(frozen=True, eq=False)
class FrameBatch:
    """Rendered frames and their truth."""

    image: NDArray[np.uint8]  # (n, H, W, 3)
    truth: NDArray[np.bool_]  # (n, H, W)
    kind: NDArray[np.uint8]  # (n, H, W)
    moon_up: NDArray[np.bool_]  # (n,)
    cloud_fraction: NDArray[np.float32]  # (n,)


def render_frames(
    station: Station, height: int, width: int, times_ns: NDArray[np.int64], options: SkyOptions
) -> FrameBatch:
    """Render frames at ``times_ns`` (int64 nanoseconds since 1970, UTC)."""
    static = static_sky(station, height, width)
    layers = seed_layers(options.seed, height * width * 3)
    weather = weather_for(options.seed, height * width * 3)
    times = np.asarray(times_ns, dtype=np.int64)
    n = times.size
    lat, lon = station.latitude, station.longitude
    lst = local_sidereal_time(times, lon)
    sun_el, sun_az = sun_altaz(times, lat, lon)
    moon_el, moon_az, moon_frac = moon_altaz(times, lat, lon)
    years = times.astype("datetime64[ns]").astype("datetime64[Y]").astype(np.int64) + 1970

    image = np.empty((n, height, width, 3), np.uint8)
    truth = np.zeros((n, height, width), bool)
    kind = np.zeros((n, height, width), np.uint8)
    moon_up = np.zeros(n, bool)
    cloud_fraction = np.zeros(n, np.float32)
    for i in range(n):
        moon = moon_state(options.moon, moon_el[i], moon_az[i], moon_frac[i])
        moon_up[i], cloud_fraction[i] = _render_one(
            static,
            layers,
            weather,
            options,
            int(times[i]),
            float(lst[i]),
            (float(sun_el[i]), float(sun_az[i])),
            moon,
            int(years[i]),
            out=(image[i], truth[i], kind[i]),
        )
    return FrameBatch(image, truth, kind, moon_up, cloud_fraction)


def _render_one(
    static: StaticSky,
    layers: SeedLayers,
    weather: Weather,
    options: SkyOptions,
    t_ns: int,
    lst: float,
    sun: tuple[float, float],
    moon: tuple[float, float, float] | None,
    year: int,
    out: tuple[NDArray[np.uint8], NDArray[np.bool_], NDArray[np.uint8]],
) -> tuple[bool, float]:
    """Render one frame into ``out`` = (image (H, W, 3), truth, kind).

    Returns the moon flag and the cloud cover of the frame.
    """
    height, width = static.shape
    scale = static.cal.lens_radius / 120.0
    rng = rng_for(options.seed, TAG_FRAME, t_ns)
    minutes = t_ns / 60e9 - 26_297_280.0  # minutes since 2020-01-01 keep the phases precise

    # -- far layers: airglow, Milky Way, stars, aurora (hidden by clouds) ----------------
    sig = static.airglow * np.float32(weather.airglow(minutes))
    idx = (static.mw_base + np.float32(lst / MW_STEP_DEG)).astype(np.int32)
    add_colour(sig, milky_way_texture()[idx] * static.ext_green, _MW_COLOUR)
    add_stars(sig, static, lst, rng, scale)

    forms = active_forms(
        options.seed, t_ns, static.station.latitude, static.station.longitude, options.aurora
    )
    aur = None
    if forms:
        mag = magnetic_sky(static.station, height, width, year)
        aur = render_aurora(mag, forms, t_ns, options.seed, layers.rays)
    aur_g: F32 | None = None
    if aur is not None:
        green, red, _form_kind = aur
        add_colour(sig, green, _GREEN)
        add_colour(sig, red, _RED)
        aur_g = green * np.float32(_GREEN[1]) + red * np.float32(_RED[1])

    # -- clouds ------------------------------------------------------------------------
    amount = weather.amount(minutes, options.clouds)
    opacity: F32 | None = None
    cover = 0.0
    if amount > 0.0:
        opacity = cloud_opacity(static, layers, weather, minutes, amount)
        cover = float(np.count_nonzero((opacity > 0.5) & static.sky)) / max(
            int(np.count_nonzero(static.sky)), 1
        )
        trans = np.float32(1.0) - np.float32(0.97) * opacity
        sig *= trans
        if aur_g is not None:
            aur_g *= trans

    # -- near layers: light dome, twilight, moon ------------------------------------------
    if opacity is not None:
        sig += opacity * static.cloud_light
        if aur is not None:  # clouds scatter the light of the aurora above them
            add_colour(sig, opacity, tuple(0.3 * float(aur[0].mean()) * c for c in _GREEN))
    ground_extra = np.zeros(3)
    ground_extra += add_twilight(sig, static, sun, opacity)
    moon_is_up = False
    if moon is not None:
        moon_is_up, moon_ground = add_moonlight(sig, static, moon, opacity)
        ground_extra += moon_ground

    # -- silhouette, optics, sensor ------------------------------------------------------
    sig *= static.sky_gain
    sig += _floor(static)  # light dome, silhouette, bias, hot pixels
    if np.any(ground_extra > 0.0):  # snow and buildings lit by twilight or the moon
        add_colour(sig, static.ground_gain, tuple(float(v) for v in ground_extra))

    out_image, out_truth, out_kind = out
    out_truth[...] = False
    out_kind[...] = 0
    if aur_g is not None and aur is not None:
        aur_g *= static.sky_gain
        draw_truth(
            sig[1],
            aur_g,
            aur[2],
            static.sky,
            threshold_dn=options.truth_threshold,
            outline_px=options.truth_outline_deg * static.px_per_deg,
            out_truth=out_truth,
            out_kind=out_kind,
        )

    offset = int(rng.integers(0, layers.noise_bank.size - sig.size))
    noise = layers.noise_bank[offset : offset + sig.size].reshape(sig.shape)
    sigma = sig * np.float32(_GAIN)  # the signal is never negative
    sigma += np.float32(_READ_NOISE**2)
    np.sqrt(sigma, out=sigma)
    sigma *= noise
    sig += sigma
    sig += np.float32(0.5)
    np.clip(sig, 0.0, 255.0, out=sig)
    planes = sig.astype(np.uint8)
    for c in range(3):  # channel by channel: much faster than one strided transpose
        out_image[..., c] = planes[c]
    return moon_is_up, cover


@functools.lru_cache(maxsize=8)
def _floor(static: StaticSky) -> F32:
    """What every frame of a camera adds after vignetting: dome, silhouette, bias, hot pixels."""
    floor = static.dome * static.sky_gain + static.ground + np.float32(_BIAS)
    floor.reshape(-1)[static.hot_index] += static.hot_value
    return floor
