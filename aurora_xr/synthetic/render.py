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

Truth
-----
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

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from ..sky.lens import sky_to_pixel
from ..sky.stations import Station
from ._common import TAG_FRAME, TAG_WEATHER, rng_for
from .aurora import DYNAMIC, STATIONARY, AuroraOptions, active_forms, magnetic_sky, render_aurora
from .ephemeris import local_sidereal_time, moon_altaz, sun_altaz
from .static import (
    CLOUD_TEXELS,
    MW_STEP_DEG,
    SeedLayers,
    StaticSky,
    airmass,
    milky_way_colour,
    milky_way_texture,
    seed_layers,
    star_catalogue,
    static_sky,
)

__all__ = ["TRUTH_OUTLINE_DEG", "TRUTH_THRESHOLD_DN", "FrameBatch", "SkyOptions", "render_frames"]

F32 = NDArray[np.float32]

TRUTH_THRESHOLD_DN = 8.0
TRUTH_OUTLINE_DEG = 3.75
_OUTLINE_LEVEL = np.float32(0.4)
_GREEN = (0.42, 1.0, 0.32)
_MW_COLOUR = tuple(float(c) for c in milky_way_colour())
_RED = (1.0, 0.14, 0.12)
_MOON_SKY = (0.74, 0.86, 1.0)
_MOON_HALO = (1.0, 0.98, 0.93)
_MOON_GROUND = (0.85, 0.9, 1.0)
_TWILIGHT_BLUE = (0.64, 0.8, 1.0)
_TWILIGHT_WARM = (1.0, 0.7, 0.46)
_STAR_FLUX_M0 = 1100.0
_FAINT_MAG = 4.5  # fainter stars are drawn bilinearly, in one mean colour
_FAINT_COLOUR = tuple(float(c) for c in star_catalogue().colour.mean(0))
_READ_NOISE = 1.6
_GAIN = 0.22
_BIAS = 2.0


@dataclass(frozen=True)
class SkyOptions:
    """Options of a synthetic sky (hashable)."""

    seed: int = 0
    moon: bool | str = "auto"
    clouds: float = 0.25
    aurora: AuroraOptions = field(default_factory=AuroraOptions)
    truth_threshold: float = TRUTH_THRESHOLD_DN
    truth_outline_deg: float = TRUTH_OUTLINE_DEG


@dataclass(frozen=True, eq=False)
class FrameBatch:
    """Rendered frames and their truth."""

    image: NDArray[np.uint8]  # (n, H, W, 3)
    truth: NDArray[np.bool_]  # (n, H, W)
    kind: NDArray[np.uint8]  # (n, H, W)
    moon_up: NDArray[np.bool_]  # (n,)
    cloud_fraction: NDArray[np.float32]  # (n,)


@dataclass(frozen=True)
class _Weather:
    """Smooth deterministic functions of time for clouds and airglow."""

    wind: tuple[float, float]
    gusts: tuple[tuple[float, float, float, float], ...]  # (amp_x, amp_y, omega, phase)
    wind_b: tuple[float, float]
    amount_terms: tuple[tuple[float, float, float], ...]  # (amp, omega, phase)
    airglow_terms: tuple[tuple[float, float, float], ...]
    quantiles: NDArray[np.float64]

    @classmethod
    def for_seed(cls, seed: int, layers: SeedLayers) -> _Weather:
        rng = rng_for(seed, TAG_WEATHER)
        speed, angle = rng.uniform(0.5, 1.6), rng.uniform(0.0, 2 * np.pi)
        gusts = tuple(
            (
                *(rng.uniform(0.2, 0.6, 2) * speed),
                2 * np.pi / rng.uniform(90.0, 600.0),
                rng.uniform(0.0, 2 * np.pi),
            )
            for _ in range(3)
        )
        speed_b, angle_b = rng.uniform(0.8, 2.2), angle + rng.normal(0.0, 0.6)
        amount = tuple(
            (
                rng.uniform(0.4, 1.0),
                2 * np.pi / rng.uniform(120.0, 900.0),
                rng.uniform(0.0, 2 * np.pi),
            )
            for _ in range(3)
        )
        airglow = tuple(
            (
                rng.uniform(0.04, 0.1),
                2 * np.pi / rng.uniform(200.0, 1500.0),
                rng.uniform(0.0, 2 * np.pi),
            )
            for _ in range(2)
        )
        n0 = CLOUD_TEXELS**2  # the sharp level
        mix = (0.72 * layers.cloud_a[:n0:7] + 0.28 * layers.cloud_b[:n0:7][::-1]) / 255.0
        quantiles = np.quantile(mix, np.linspace(0.0, 1.0, 201))
        return cls(
            wind=(speed * np.cos(angle), speed * np.sin(angle)),
            gusts=gusts,
            wind_b=(speed_b * np.cos(angle_b), speed_b * np.sin(angle_b)),
            amount_terms=amount,
            airglow_terms=airglow,
            quantiles=quantiles,
        )

    def offsets(self, minutes: float) -> tuple[float, float, float, float]:
        ox, oy = self.wind[0] * minutes, self.wind[1] * minutes
        for ax, ay, omega, phase in self.gusts:
            ox += ax / omega * np.sin(omega * minutes + phase)
            oy += ay / omega * np.sin(omega * minutes + phase)
        n = float(CLOUD_TEXELS)
        return ox % n, oy % n, (self.wind_b[0] * minutes) % n, (self.wind_b[1] * minutes) % n

    def amount(self, minutes: float, mean: float) -> float:
        if mean <= 0.0 or mean >= 1.0:
            return float(np.clip(mean, 0.0, 1.0))
        total = sum(a for a, _, _ in self.amount_terms)
        wave = sum(a * np.sin(w * minutes + p) for a, w, p in self.amount_terms) / total
        return float(np.clip(mean + 0.6 * min(mean, 1.0 - mean) * wave, 0.0, 1.0))

    def airglow(self, minutes: float) -> float:
        return float(1.0 + sum(a * np.sin(w * minutes + p) for a, w, p in self.airglow_terms))

    def threshold(self, amount: float) -> float:
        return float(np.interp(1.0 - amount, np.linspace(0.0, 1.0, 201), self.quantiles))


def _moon_state(
    mode: bool | str, el: float, az: float, frac: float
) -> tuple[float, float, float] | None:
    """Elevation, azimuth and illuminated fraction of the moon to draw (None: no moon)."""
    if mode is False:
        return None
    if mode is True:  # always a moon: lifted (mirrored) to at least 8°, at least half lit
        return max(abs(el), 8.0), az, max(frac, 0.5)
    if el <= 0.0:
        return None
    return el, az, frac


def _add(planes: F32, layer: F32, colour: Sequence[float]) -> None:
    """``planes[c] += layer * colour[c]`` for the three colour planes."""
    for c in range(3):
        planes[c] += layer * np.float32(colour[c])


def _cos_angle(static: StaticSky, el: float, az: float) -> F32:
    """Cosine of the angle between every pixel's line of sight and a direction."""
    se, ce = np.float32(np.sin(np.radians(el))), np.float32(np.cos(np.radians(el)))
    ca, sa = np.float32(np.cos(np.radians(az))), np.float32(np.sin(np.radians(az)))
    return static.sin_el * se + (static.cos_el * ce) * (static.cos_az * ca + static.sin_az * sa)


@dataclass(frozen=True, eq=False)
class _RisingStars:
    ra: NDArray[np.float64]  # radians
    sin_dec: NDArray[np.float64]
    cos_dec: NDArray[np.float64]
    mag: NDArray[np.float64]
    flux: NDArray[np.float64]  # (3, N): DN per channel above the atmosphere


@functools.lru_cache(maxsize=4)
def _rising_stars(latitude: float) -> _RisingStars:
    """Catalogue stars that ever rise above the horizon at ``latitude``."""
    cat = star_catalogue()
    rises = -cat.dec * np.sign(latitude) < 90.0 - abs(latitude)
    dec = np.radians(cat.dec[rises])
    mag = cat.mag[rises]
    flux = _STAR_FLUX_M0 * 10.0 ** (-0.4 * mag) * cat.colour[rises].T.astype(float)
    return _RisingStars(
        ra=np.radians(cat.ra[rises]),
        sin_dec=np.sin(dec),
        cos_dec=np.cos(dec),
        mag=mag,
        flux=np.ascontiguousarray(flux),
    )


def _splat(
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    flux: NDArray[np.float64],
    *,
    taps: int,
    sigma: float,
    shape: tuple[int, int],
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Planar indices and values of point sources drawn with a Gaussian PSF.

    ``flux`` is ``(C, N)`` for ``C`` planes. ``taps = 0`` draws with bilinear
    weights on 2 x 2 pixels (faint stars); otherwise a ``(2*taps+1)**2``
    Gaussian of ``sigma`` pixels.
    """
    height, width = shape
    if taps == 0:
        x0, y0 = np.floor(x), np.floor(y)
        fx, fy = x - x0, y - y0
        offs = np.array([0.0, 1.0])
        wx = np.stack([1.0 - fx, fx], axis=1)
        wy = np.stack([1.0 - fy, fy], axis=1)
    else:
        x0, y0 = np.rint(x), np.rint(y)
        offs = np.arange(-taps, taps + 1, dtype=float)
        wx = np.exp((x0[:, None] + offs - x[:, None]) ** 2 * (-0.5 / sigma**2))
        wy = np.exp((y0[:, None] + offs - y[:, None]) ** 2 * (-0.5 / sigma**2))
        wx /= wx.sum(1, keepdims=True)
        wy /= wy.sum(1, keepdims=True)
    px = np.clip(x0[:, None] + offs, 0, width - 1).astype(np.int64)
    py = np.clip(y0[:, None] + offs, 0, height - 1).astype(np.int64)
    flat = (py[:, :, None] * width + px[:, None, :]).reshape(x.size, -1)
    w = (wy[:, :, None] * wx[:, None, :]).reshape(x.size, -1)
    n_pix = height * width
    idx = (flat[None] + (np.arange(flux.shape[0]) * n_pix)[:, None, None]).ravel()
    val = (w[None] * flux[:, :, None]).ravel()
    return idx, val


def _stars(
    static: StaticSky, lst: float, rng: np.random.Generator, scale: float
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64], NDArray[np.float64]]:
    """Star light of one frame: planar (3*H*W) indices and values of the stars in
    colour, then (H*W) indices and values of the faint stars (grey, see _FAINT_COLOUR)."""
    stars = _rising_stars(static.station.latitude)
    phi = np.radians(static.station.latitude)
    ha = np.radians(lst) - stars.ra
    cos_h = np.cos(ha)
    sin_el = np.sin(phi) * stars.sin_dec + np.cos(phi) * stars.cos_dec * cos_h
    up = np.flatnonzero(sin_el > 0.0)
    sin_el, cos_h = sin_el[up], cos_h[up]
    sd, cd = stars.sin_dec[up], stars.cos_dec[up]
    el = np.degrees(np.arcsin(sin_el))
    az = np.degrees(np.arctan2(-cd * np.sin(ha[up]), sd * np.cos(phi) - cd * np.sin(phi) * cos_h))
    x, y = sky_to_pixel(el, az, static.cal)
    mag = stars.mag[up]
    twinkle = 1.0 + 0.05 * np.minimum(1.0 / np.maximum(sin_el, 0.05), 6.0) * rng.standard_normal(
        up.size
    )
    gain = np.exp(-0.12 * airmass(el)) * np.clip(twinkle, 0.3, 2.0)
    flux = stars.flux[:, up] * gain
    sigma = 0.6 * max(scale, 0.5) ** 0.3
    shape = static.shape
    faint = np.flatnonzero(mag >= _FAINT_MAG)
    grey = _splat(
        x[faint], y[faint], flux[:, faint].mean(0, keepdims=True), taps=0, sigma=sigma, shape=shape
    )
    parts = []
    for taps, sig, sel, share in (
        (1, sigma, (mag < _FAINT_MAG) & (mag >= 2.2), 1.0),
        (1, sigma, mag < 2.2, 0.85),
        (3, 1.7 * sigma * max(scale, 1.0) ** 0.5, mag < 2.2, 0.15),
    ):
        pick = np.flatnonzero(sel)
        if pick.size:
            parts.append(
                _splat(x[pick], y[pick], flux[:, pick] * share, taps=taps, sigma=sig, shape=shape)
            )
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0), grey[0], grey[1]
    return (
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
        grey[0],
        grey[1],
    )


def render_frames(
    station: Station, height: int, width: int, times_ns: NDArray[np.int64], options: SkyOptions
) -> FrameBatch:
    """Render frames at ``times_ns`` (int64 nanoseconds since 1970, UTC)."""
    static = static_sky(station, height, width)
    layers = seed_layers(options.seed, height * width * 3)
    weather = _weather(options.seed, height * width * 3)
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
        moon = _moon_state(options.moon, moon_el[i], moon_az[i], moon_frac[i])
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


@functools.lru_cache(maxsize=4)
def _weather(seed: int, n_values: int) -> _Weather:
    return _Weather.for_seed(seed, seed_layers(seed, n_values))


def _render_one(
    static: StaticSky,
    layers: SeedLayers,
    weather: _Weather,
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
    _add(sig, milky_way_texture()[idx] * static.ext_green, _MW_COLOUR)
    s_idx, s_val, g_idx, g_val = _stars(static, lst, rng, scale)
    flat = sig.reshape(-1)
    flat += np.bincount(s_idx, s_val, minlength=flat.size).astype(np.float32)
    faint = np.bincount(g_idx, g_val, minlength=height * width).astype(np.float32)
    _add(sig, faint.reshape(height, width), _FAINT_COLOUR)

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
        _add(sig, green, _GREEN)
        _add(sig, red, _RED)
        aur_g = green * np.float32(_GREEN[1]) + red * np.float32(_RED[1])

    # -- clouds ------------------------------------------------------------------------
    amount = weather.amount(minutes, options.clouds)
    opacity: F32 | None = None
    cover = 0.0
    if amount > 0.0:
        opacity = _cloud_opacity(static, layers, weather, minutes, amount)
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
            _add(sig, opacity, tuple(0.3 * float(aur[0].mean()) * c for c in _GREEN))
    ground_extra = np.zeros(3)
    sun_el, sun_az = sun
    if sun_el > -19.0:
        level = float(120.0 * np.exp(min(sun_el + 6.0, 12.0) / 1.9))  # saturated by day
        cos_s = _cos_angle(static, sun_el, sun_az)
        low = np.float32(1.0) - static.sin_el
        toward = np.clip(cos_s, 0.0, 1.0) * low
        glow = np.float32(level) * (np.float32(0.45) + np.float32(0.55) * low * np.sqrt(low))
        glow *= np.float32(1.0) + np.float32(3.0) * toward * toward
        if opacity is not None:
            glow *= np.float32(1.0) + np.float32(0.6) * opacity
        _add(sig, glow, _TWILIGHT_BLUE)
        warm = tuple(w - b for w, b in zip(_TWILIGHT_WARM, _TWILIGHT_BLUE, strict=True))
        _add(sig, glow * toward, warm)
        ground_extra += 0.05 * level
    moon_is_up = False
    if moon is not None:
        m_el, m_az, frac = moon
        level = float(140.0 * frac**1.5 * (0.25 + 0.75 * np.sqrt(max(np.sin(np.radians(m_el)), 0))))
        moon_is_up = level > 3.0
        one_minus = np.float32(1.0) - _cos_angle(static, m_el, m_az)
        low = np.float32(1.0) - static.sin_el
        flood = np.float32(level) * (np.float32(0.55) + np.float32(0.45) * low * low)
        halo = np.float32(3.0 * level) / (np.float32(1.0) + one_minus * np.float32(1 / 0.0045))
        halo += np.float32(level) / (np.float32(1.0) + one_minus * np.float32(1 / 0.03))
        disk = np.float32(60.0 * level) / (np.float32(1.0) + one_minus * np.float32(1 / 1.5e-5))
        if opacity is not None:
            disk *= np.float32(1.0) - np.float32(0.97) * opacity
            lit = opacity * (np.float32(0.9 * level) + np.float32(1.5) * halo)
            sig += np.float32(0.95) * lit
        _add(sig, flood, _MOON_SKY)
        _add(sig, halo + disk, _MOON_HALO)
        ground_extra += 0.22 * level * np.array(_MOON_GROUND)

    # -- silhouette, optics, sensor ------------------------------------------------------
    sig *= static.sky_gain
    sig += _floor(static)  # light dome, silhouette, bias, hot pixels
    if np.any(ground_extra > 0.0):  # snow and buildings lit by twilight or the moon
        _add(sig, static.ground_gain, tuple(float(v) for v in ground_extra))

    out_image, out_truth, out_kind = out
    out_truth[...] = False
    out_kind[...] = 0
    if aur_g is not None and aur is not None:
        aur_g *= static.sky_gain
        g_signal = sig[1]
        added = np.minimum(g_signal, np.float32(255.0)) - np.minimum(
            g_signal - aur_g, np.float32(255.0)
        )
        visible = added >= np.float32(options.truth_threshold)
        outline_px = options.truth_outline_deg * static.px_per_deg
        if outline_px > 0.0 and visible.any():
            _outline(visible, aur[2], static.sky, outline_px, out_truth, out_kind)
        else:
            out_truth[...] = visible
            np.copyto(out_kind, aur[2], where=visible)

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


def _outline(
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


@functools.lru_cache(maxsize=8)
def _floor(static: StaticSky) -> F32:
    """What every frame of a camera adds after vignetting: dome, silhouette, bias, hot pixels."""
    floor = static.dome * static.sky_gain + static.ground + np.float32(_BIAS)
    floor.reshape(-1)[static.hot_index] += static.hot_value
    return floor


def _cloud_opacity(
    static: StaticSky, layers: SeedLayers, weather: _Weather, minutes: float, amount: float
) -> F32:
    """Opacity (0 clear .. 1 thick cloud) of the drifting cloud deck."""
    if amount >= 1.0:
        return np.ones(static.shape, np.float32)
    ox, oy, bx, by = weather.offsets(minutes)
    mask = np.int32(CLOUD_TEXELS - 1)
    shift = np.int32(CLOUD_TEXELS.bit_length() - 1)

    def index(u: F32, v: F32, du: float, dv: float) -> NDArray[np.int32]:
        iv = (v + np.float32(dv)).astype(np.int32)
        iv &= mask
        iv <<= shift
        iu = (u + np.float32(du)).astype(np.int32)
        iu &= mask
        iv |= iu
        iv += static.cloud_lod
        return iv

    ia = index(static.cloud_u, static.cloud_v, ox, oy)
    ib = index(static.cloud_ub, static.cloud_vb, bx, by)
    dens = layers.cloud_a[ia] * np.float32(0.72 / 255.0)
    dens += layers.cloud_b[ib] * np.float32(0.28 / 255.0)
    thr = weather.threshold(amount)
    # opacity 0.5 at the threshold, thin (semi-transparent) towards the edges
    dens -= np.float32(thr - 0.11)
    dens *= np.float32(1.0 / 0.22)
    return np.clip(dens, 0.0, 1.0, out=dens)
