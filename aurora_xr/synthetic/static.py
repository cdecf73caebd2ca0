"""Layers of the synthetic sky that do not change from frame to frame.

Everything here is computed once per (station, frame size) or once per seed
and cached in the process, so that a renderer (or a dask task) only draws what
moves: stars, the Milky Way, clouds, the moon, aurora and noise.

Units are 8-bit digital numbers (DN) of the noise-free signal; colours are
``(R, G, B)`` weights.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..sky.lens import Calibration, sky_grids
from ..sky.stations import Station, placeholder_lens
from ._common import (
    TAG_CLOUD,
    TAG_NOISE,
    catalogue_rng,
    fractal_noise_1d,
    fractal_noise_2d,
    rng_for,
    smoothstep,
    station_key,
)
from .ephemeris import equatorial_to_galactic, galactic_to_equatorial, horizontal_to_equatorial
from .landscape import HORIZON_STEP_DEG, Landscape, horizon_profile, masts

__all__ = [
    "CLOUD_TEXELS",
    "MW_STEP_DEG",
    "SeedLayers",
    "StarCatalogue",
    "StaticSky",
    "extinction",
    "milky_way_texture",
    "seed_layers",
    "star_catalogue",
    "static_sky",
]

F32 = NDArray[np.float32]

MW_STEP_DEG = 0.25
_MW_NC = round(360 / MW_STEP_DEG)
_MW_NR = round(180 / MW_STEP_DEG)
CLOUD_TEXELS = 512
"""Side of the periodic cloud texture (texels)."""

# Sky background: a flat part (scattered starlight, zodiacal light, dark
# signal) and an airglow part brightened towards the horizon (van Rhijn).
_FLAT_SKY = np.array([13.5, 13.5, 8.0], np.float32)
_AIRGLOW = np.array([6.0, 7.5, 3.2], np.float32)
_AIRGLOW_HEIGHT_KM = 95.0
_TAU = np.array([0.09, 0.12, 0.2], np.float32)  # zenith optical depth per channel
_DOME_COLOUR = np.array([1.0, 0.56, 0.24], np.float32)
_DOME_PEAK_DN = 85.0
_MW_COLOUR = np.array([1.0, 0.95, 0.8], np.float32)
_MW_PEAK_DN = 7.0


def airmass(elevation: NDArray[np.floating]) -> NDArray[np.float64]:
    """Relative air mass (Kasten & Young form) for elevations in degrees."""
    el = np.clip(np.asarray(elevation, dtype=float), 0.0, 90.0)
    return 1.0 / (np.sin(np.radians(el)) + 0.50572 * (el + 6.07995) ** -1.6364)


def extinction(elevation: NDArray[np.floating]) -> NDArray[np.float32]:
    """Atmospheric transmission per channel, shape ``elevation.shape + (3,)``."""
    x = airmass(elevation)[..., None]
    return np.exp(-x * _TAU).astype(np.float32)


@dataclass(frozen=True, eq=False)
class StaticSky:
    """Per-pixel layers of one station and frame size (float32, DN)."""

    station: Station
    cal: Calibration
    el: F32
    az: F32
    inside: NDArray[np.bool_]
    sky: NDArray[np.bool_]
    sin_el: F32
    cos_el: F32
    sin_az: F32
    cos_az: F32
    sky_gain: F32  # (H, W) vignetting where the sky is seen, 0 elsewhere
    ground_gain: F32  # (H, W) vignetting on the horizon silhouette, 0 elsewhere
    ground: F32  # (3, H, W) the silhouette as recorded (vignetting applied)
    airglow: F32  # (3, H, W) sky background (airglow + flat)
    dome: F32  # (3, H, W) light dome of the station (not behind clouds)
    cloud_light: F32  # (3, H, W) station light scattered by a cloud deck
    ext_green: F32  # (H, W) transmission of the green channel
    mw_base: F32  # (H, W) flat index into the Milky Way texture, less the sidereal time
    cloud_u: F32  # (H, W) cloud-plane coordinates in texels, in [0, CLOUD_TEXELS)
    cloud_v: F32
    cloud_ub: F32  # the same for the finer second cloud texture
    cloud_vb: F32
    cloud_lod: NDArray[np.int32]  # (H, W) offset of the blur level (crowded near the horizon)
    hot_index: NDArray[np.int64]  # flat (3*H*W, planar) indices of hot pixels
    hot_value: F32
    px_per_deg: float
    dome_azimuth: float
    rho: F32  # (H, W) distance from the zenith pixel in lens radii
    van_rhijn: F32  # (H, W) airglow path factor times the green transmission

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.el.shape[0]), int(self.el.shape[1]))


def default_lens(width: int, height: int) -> Calibration:
    """The default synthetic camera's lens: Jang Bogo Station's placeholder lens, at any site."""
    return placeholder_lens("JBS", width, height)


def static_sky(station: Station, height: int, width: int) -> StaticSky:
    """The static layers of the default camera at ``station`` for ``width`` x ``height`` frames."""
    cal = default_lens(width, height)
    return camera_sky(station, cal, Landscape.of_station(station.code))


def _periodic_gauss(delta_deg: NDArray[np.floating], width_deg: float) -> NDArray[np.float64]:
    d = (np.asarray(delta_deg, dtype=float) + 180.0) % 360.0 - 180.0
    return np.exp(-0.5 * (d / width_deg) ** 2)


@functools.lru_cache(maxsize=10)
def camera_sky(
    station: Station, cal: Calibration, landscape: Landscape, *, lean: bool = False
) -> StaticSky:
    """The static layers of a camera with lens ``cal`` at ``station`` before ``landscape``.

    Hot pixels are drawn per station and frame size (a camera's defects). ``lean`` leaves
    out (as zeros) what only the default sky draws: its light dome, the light on its
    clouds and landscape, its airglow planes and its hot pixels (the randomised sky draws
    its own).
    """
    height, width = cal.height, cal.width
    el, az = sky_grids(cal)
    inside = np.isfinite(el)
    el0 = np.where(inside, el, 0.0).astype(np.float32)
    az0 = np.where(inside, az, 0.0).astype(np.float32)
    yy, xx = np.mgrid[0:height, 0:width]
    radius_px = np.hypot(xx - cal.zenith_x, yy - cal.zenith_y)
    rho = radius_px / cal.lens_radius
    scale = cal.lens_radius / 120.0  # 1 at 256 x 256 for the JBS camera

    land = landscape.rng()
    dome_az = float(land.uniform(0.0, 360.0))
    profile = horizon_profile(land, dome_az, landscape)
    horizon = np.interp(az0, np.arange(profile.size) * HORIZON_STEP_DEG, profile, period=360.0)
    blocked = (el0 < horizon) | masts(
        land, el0, az0, radius_px, scale, dome_az, count=landscape.masts
    )
    sky = inside & ~blocked

    # vignetting and the soft rim of the lens circle
    edge_px = max(1.2, 0.8 * scale)
    rim = smoothstep(((1.0 - rho) * cal.lens_radius).astype(np.float32), -0.5, edge_px)
    vignette = ((1.0 - 0.24 * np.clip(rho, 0, 1) ** 2.5) * rim * inside).astype(np.float32)

    ext = extinction(el0)  # (H, W, 3)
    theta = np.radians(90.0 - el0)
    ratio = 6371.0 / (6371.0 + _AIRGLOW_HEIGHT_KM)
    van_rhijn = 1.0 / np.sqrt(1.0 - (ratio * np.sin(theta)) ** 2)
    if lean:
        airglow = dome = cloud_light = ground = np.zeros((height, width, 3), np.float32)
    else:
        airglow = _FLAT_SKY + _AIRGLOW * (van_rhijn[..., None] * ext)
        daz = az0 - dome_az
        low = np.clip(el0, 0.0, 90.0)
        dome_shape = np.exp(-low / 8.0) * _periodic_gauss(daz, 30.0) + 0.22 * np.exp(
            -low / 25.0
        ) * _periodic_gauss(daz, 65.0)
        dome = _DOME_PEAK_DN * dome_shape[..., None] * _DOME_COLOUR
        cloud_light = (
            np.array([21.0, 15.0, 9.5], np.float32)
            * (1.0 + 2.5 * np.exp(-low / 18.0) * _periodic_gauss(daz, 45.0))[..., None]
        )
        ground = (
            np.array([2.5, 2.5, 2.8], np.float32)
            + 0.25 * dome * (1.0 + 2.0 * np.exp(-low / 3))[..., None]
        )

    # Milky Way lookup: hour angle and declination of every pixel
    ha, dec = horizontal_to_equatorial(el0, az0, station.latitude)
    row = np.clip(np.rint((dec + 90.0) / MW_STEP_DEG), 0, _MW_NR - 1)
    # texture rows hold two turns of right ascension: index = base + LST column, no modulo
    mw_base = row * (2 * _MW_NC) + _MW_NC - ha / MW_STEP_DEG

    # cloud deck: a curved layer, so that clouds crowd towards the horizon
    zen = np.radians(np.clip(90.0 - el0, 0.0, 90.0))
    spread = np.sin(zen) / (np.cos(zen) + 0.14)
    r_tex = spread * (70.0 * CLOUD_TEXELS / 512.0)
    cu, cv = r_tex * np.sin(np.radians(az0)), r_tex * np.cos(np.radians(az0))
    n_tex = float(CLOUD_TEXELS)
    # texels per pixel: pick a blurred texture where the deck is crowded (no aliasing)
    gy, gx = np.gradient(r_tex)
    crowding = np.hypot(gx, gy)
    lod = np.digitize(crowding, [1.5, 5.0]).astype(np.int32) * np.int32(CLOUD_TEXELS**2)

    hot = rng_for(station_key(station.code), TAG_NOISE, height, width)
    lit = np.flatnonzero(inside)
    n_hot = 0 if lean else max(3, int(lit.size * 1.5e-4))
    hot_pix = hot.choice(lit, n_hot, replace=False)
    hot_index = (np.arange(3)[:, None] * (height * width) + hot_pix[None, :]).ravel()
    hot_value = np.repeat(hot.uniform(15.0, 140.0, n_hot), 3) * hot.uniform(0.6, 1.0, 3 * n_hot)

    def f32(a: NDArray[np.floating]) -> F32:
        return np.ascontiguousarray(a, dtype=np.float32)

    def planar(a: NDArray[np.floating]) -> F32:
        return f32(np.moveaxis(a, -1, 0))

    return StaticSky(
        station=station,
        cal=cal,
        el=el,
        az=az,
        inside=inside,
        sky=sky,
        sin_el=f32(np.sin(np.radians(el0)) * inside),
        cos_el=f32(np.cos(np.radians(el0)) * inside),
        sin_az=f32(np.sin(np.radians(az0))),
        cos_az=f32(np.cos(np.radians(az0))),
        sky_gain=f32(vignette * sky),
        ground_gain=f32(vignette * (inside & ~sky)),
        ground=planar(ground * (vignette * (inside & ~sky))[..., None]),
        airglow=planar(airglow),
        dome=planar(dome),
        cloud_light=planar(cloud_light),
        ext_green=f32(ext[..., 1]),
        mw_base=f32(mw_base),
        cloud_u=f32(np.mod(cu, n_tex)),
        cloud_v=f32(np.mod(cv, n_tex)),
        cloud_ub=f32(np.mod(1.9 * cu, n_tex)),
        cloud_vb=f32(np.mod(1.9 * cv, n_tex)),
        cloud_lod=np.ascontiguousarray(lod),
        hot_index=hot_index.astype(np.int64),
        hot_value=hot_value.astype(np.float32),
        px_per_deg=float(cal.lens_radius / 90.0),
        dome_azimuth=dome_az,
        rho=f32(rho),
        van_rhijn=f32(van_rhijn * ext[..., 1] * inside),
    )


@dataclass(frozen=True, eq=False)
class StarCatalogue:
    """A fixed random catalogue: right ascension, declination (deg), magnitude, colour."""

    ra: NDArray[np.float64]
    dec: NDArray[np.float64]
    mag: NDArray[np.float64]
    colour: F32  # (N, 3)


@functools.lru_cache(maxsize=1)
def star_catalogue(n_stars: int = 8000) -> StarCatalogue:
    """The stars of the synthetic sky (the same for every seed, like the real sky)."""
    rng = catalogue_rng()
    disk = rng.random(n_stars) < 0.45
    lon = rng.uniform(0.0, 360.0, n_stars)
    lat = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, n_stars)))
    lat[disk] = np.clip(rng.laplace(0.0, 9.0, int(disk.sum())), -89.0, 89.0)
    ra, dec = galactic_to_equatorial(lon, lat)
    mag = np.maximum(6.6 + np.log10(rng.uniform(1e-9, 1.0, n_stars)) / 0.5, -1.2)
    warm = rng.beta(2.0, 2.0, n_stars)[:, None]
    blue = np.array([0.8, 0.92, 1.12])
    orange = np.array([1.18, 0.93, 0.62])
    colour = (1.0 - warm) * blue + warm * orange
    return StarCatalogue(ra=ra, dec=dec, mag=mag, colour=colour.astype(np.float32))


@functools.lru_cache(maxsize=1)
def milky_way_texture() -> F32:
    """Milky Way surface brightness (DN) on a Dec x RA grid, flattened row-major.

    Each declination row holds two turns of right ascension, so that a lookup
    ``base + LST`` never needs a modulo.
    """
    rng = catalogue_rng()
    rng.random(8000 * 6)  # keep apart from the star draws
    dec = -90.0 + (np.arange(_MW_NR) + 0.5) * MW_STEP_DEG
    ra = (np.arange(_MW_NC) + 0.5) * MW_STEP_DEG
    l_, b = equatorial_to_galactic(ra[None, :], dec[:, None])
    lw = (l_ + 180.0) % 360.0 - 180.0
    # clumpy structure from a noise field laid out in galactic coordinates
    noise = fractal_noise_2d(rng, (180, 720), beta=2.2, low_cut=2.0)
    bi = np.clip(((b + 45.0) / 0.5).astype(int), 0, 179)
    li = ((l_ / 0.5).astype(int)) % 720
    clumps = np.exp(0.5 * noise[bi, li])
    width = 4.5 + 6.0 * np.exp(-((lw / 35.0) ** 2))
    band = np.exp(-0.5 * (b / width) ** 2)
    lum = 0.3 + 0.7 * np.exp(-((lw / 75.0) ** 2))
    rift = 1.0 - 0.6 * np.exp(-0.5 * ((b - 1.5) / 1.8) ** 2) * np.exp(-(((lw - 15.0) / 45.0) ** 2))
    mw = _MW_PEAK_DN * band * lum * rift * clumps
    return np.ascontiguousarray(np.concatenate([mw, mw], axis=1).ravel(), dtype=np.float32)


def milky_way_colour() -> F32:
    """Colour weights of the Milky Way."""
    return _MW_COLOUR


@dataclass(frozen=True, eq=False)
class SeedLayers:
    """Random textures of one seed: clouds and the bank of sensor-noise deviates."""

    cloud_a: NDArray[np.uint8]  # (3 * CLOUD_TEXELS**2,): periodic field uniform in 0..255,
    cloud_b: NDArray[np.uint8]  # 3 blur levels
    noise_bank: F32  # standard normal deviates
    rays: F32  # (4096,) 1-D ray texture, unit variance


@functools.lru_cache(maxsize=6)
def seed_layers(seed: int, n_values: int) -> SeedLayers:
    """Textures of ``seed``; the noise bank holds at least ``4 * n_values`` deviates."""
    rng = rng_for(seed, TAG_CLOUD)
    n = CLOUD_TEXELS

    def uniformised(field: F32) -> NDArray[np.uint8]:
        # ranks as bytes: a quarter of the memory, so that lookups stay in the cache
        ranks = np.empty(field.size, np.uint8)
        ranks[np.argsort(field, axis=None)] = np.linspace(0.0, 255.99, field.size).astype(np.uint8)
        return ranks

    def levels(field: F32) -> NDArray[np.uint8]:
        k = np.hypot(np.fft.fftfreq(n)[:, None], np.fft.rfftfreq(n)[None, :])
        spec = np.fft.rfft2(field)
        out = [uniformised(field)]
        for sigma in (2.0, 6.0):  # Gaussian blur (texels), for crowded parts of the deck
            blur = np.fft.irfft2(spec * np.exp(-2.0 * (np.pi * sigma * k) ** 2), s=(n, n))
            out.append(uniformised(blur.astype(np.float32)))
        return np.ascontiguousarray(np.concatenate(out))

    cloud_a = levels(fractal_noise_2d(rng, (n, n), beta=3.2, low_cut=3.0))
    cloud_b = levels(fractal_noise_2d(rng, (n, n), beta=2.6, low_cut=6.0))
    rays = fractal_noise_1d(rng, 4096, beta=1.3)
    bank = rng_for(seed, TAG_NOISE).standard_normal(4 * n_values + 1, dtype=np.float32)
    return SeedLayers(cloud_a=cloud_a, cloud_b=cloud_b, noise_bank=bank, rays=rays)
