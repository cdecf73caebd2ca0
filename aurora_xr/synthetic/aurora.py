"""Auroral forms of the synthetic sky: when they occur, where, and how they look.

Occurrence
----------
Time is cut into 10-minute slots. The forms that start in a slot are drawn
from a generator seeded by ``(seed, slot)`` only, with rates that depend on
the magnetic local time (MLT) of the station at the slot (a mixture of
sectors after the JBS climatology of Jee et al. 2021: evening arcs near the
equatorward horizon, substorm arcs around midnight, patches reaching the
zenith near dawn, a retreat to the magnetic north-east in the late morning,
red-rich cusp aurora near magnetic noon, a quiet afternoon). A frame at time
``t`` looks back over the slots whose forms may still be alive, so any frame
can be made alone, in any chunk, with the same result.

Appearance
----------
A form is a band in AACGM latitude (an arc along a magnetic latitude circle,
or a patch limited along the arc), field-aligned: its emission is integrated
along each line of sight over a green layer (557.7 nm, two Gaussian altitude
components, bottom at about 105 km) and a red layer (630.0 nm, about 235 km).
Because the magnetic latitude seen by a pixel changes with altitude, the red
layer lies on the zenith side of a green arc (red upper borders), and arcs
near the horizon look like tall curtains. Rays are brightness striations
along the arc, evaluated where the line of sight crosses the arc, so they
are vertical (field-aligned) streaks. DYNAMIC forms drift in latitude, fold,
pulse and re-ray from frame to frame; STATIONARY forms keep position, shape
and brightness for tens of minutes and sit mostly in the equatorward
(magnetic-north) sky at low elevation.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..geo.aacgm import pixel_magnetic_coords, station_mlt
from ..sky.shell import EARTH_RADIUS_KM
from ..sky.stations import Station
from ._common import TAG_EVENT, TAG_FRAME, rng_for
from .static import extinction, static_sky

__all__ = [
    "DYNAMIC",
    "SLOT_MIN",
    "STATIONARY",
    "AuroraOptions",
    "AuroralForm",
    "MagneticSky",
    "active_forms",
    "forms_starting_in",
    "magnetic_sky",
    "occurrence_rate",
    "render_aurora",
]

F32 = NDArray[np.float32]

DYNAMIC = 1
STATIONARY = 2
SLOT_MIN = 10
MAX_DURATION_MIN = 120
_SLOT_NS = SLOT_MIN * 60 * 10**9
_LOOKBACK = MAX_DURATION_MIN // SLOT_MIN + 1

# (mean altitude km, altitude spread km, weight, channel) of the emission components
_COMPONENTS = ((112.0, 7.0, 0.6, "g"), (138.0, 22.0, 0.4, "g"), (205.0, 40.0, 1.0, "r"))


@dataclass(frozen=True)
class AuroraOptions:
    """Options of the auroral process (hashable: part of the cache keys)."""

    activity: float = 1.0
    stationary_fraction: float = 0.5
    mlt_occurrence: bool = True


@dataclass(frozen=True)
class _Sector:
    name: str
    mlt: float  # centre of the sector (h); NaN for the flat background
    width: float  # h
    rate: float  # forms per hour at the centre
    mlat: tuple[str, float, float]  # ("u", lo, hi) or ("n", mean, sd)
    along: tuple[float, float]  # mean, sd (deg, + is magnetic east)
    stationary: float  # factor on stationary_fraction
    patches: float  # probability that a dynamic form is a patch
    red: tuple[float, float]  # range of the red/green ratio


_SECTORS = (
    _Sector("evening", 20.5, 2.2, 1.5, ("u", -76.5, -72.5), (0.0, 4.0), 1.4, 0.1, (0.15, 0.45)),
    _Sector("midnight", 2.0, 2.3, 1.6, ("n", -75.8, 1.6), (0.0, 5.0), 0.7, 0.15, (0.2, 0.5)),
    _Sector("dawn", 7.0, 1.6, 1.8, ("u", -81.5, -74.0), (-3.0, 4.0), 0.5, 0.5, (0.1, 0.3)),
    _Sector("late-morning", 9.8, 1.1, 0.9, ("u", -76.5, -73.0), (5.0, 2.5), 0.7, 0.3, (0.1, 0.3)),
    _Sector("cusp", 12.5, 1.3, 1.1, ("n", -77.3, 0.7), (0.0, 3.0), 0.3, 0.2, (1.0, 2.5)),
    _Sector(
        "background", np.nan, 0.0, 0.18, ("u", -82.0, -72.5), (0.0, 5.0), 1.0, 0.2, (0.15, 0.5)
    ),
)


def _sector_rate(sector: _Sector, mlt: float, mlt_occurrence: bool) -> float:
    if np.isnan(sector.mlt):
        return sector.rate
    if not mlt_occurrence:  # the daily mean of the periodic Gaussian
        return sector.rate * sector.width * np.sqrt(2.0 * np.pi) / 24.0
    d = (mlt - sector.mlt + 12.0) % 24.0 - 12.0
    return float(sector.rate * np.exp(-0.5 * (d / sector.width) ** 2))


def occurrence_rate(mlt: float, *, mlt_occurrence: bool = True) -> float:
    """Expected number of auroral forms starting per hour at magnetic local time ``mlt``."""
    return float(sum(_sector_rate(s, mlt, mlt_occurrence) for s in _SECTORS))


@dataclass(frozen=True)
class AuroralForm:
    """One auroral form; angles in degrees, times in minutes unless stated."""

    key: int
    kind: int  # DYNAMIC or STATIONARY
    patch: bool
    start_ns: int
    duration: float
    ramp: float
    mlat: float
    drift: float  # deg of latitude per minute
    width: float  # Gaussian sigma in latitude
    along_centre: float
    along_half: float
    along_drift: float
    amplitude: float  # green DN at zenith-equivalent intensity
    red_ratio: float
    ray_amp: float
    ray_scale: float
    ray_phase: float
    wave_amp: float
    wave_k: float
    wave_phase: float
    wave_speed: float
    pulse_amp: float
    pulse_period: float
    pulse_phase: float
    jitter: float

    def minutes(self, t_ns: int) -> float:
        return (t_ns - self.start_ns) / 60e9

    def envelope(self, tau: float) -> float:
        e = min(1.0, tau / self.ramp, (self.duration - tau) / self.ramp)
        if e <= 0.0:
            return 0.0
        return e * e * (3.0 - 2.0 * e)


_MLT_RANGE_NS = (
    int(np.datetime64("1990-01-01T00:00", "ns").astype(np.int64)),
    int(np.datetime64("2029-12-31T23:59", "ns").astype(np.int64)),
)


def _mlt_at(t_ns: int, latitude: float, longitude: float) -> float:
    # look-back slots of a run that starts on 1990-01-01 fall before AACGM's range
    t_ns = min(max(t_ns, _MLT_RANGE_NS[0]), _MLT_RANGE_NS[1])
    times = np.array([t_ns], dtype="datetime64[ns]")
    return float(np.asarray(station_mlt(times, latitude, longitude))[0])


@functools.lru_cache(maxsize=8192)
def forms_starting_in(
    seed: int, slot: int, latitude: float, longitude: float, options: AuroraOptions
) -> tuple[AuroralForm, ...]:
    """The forms that start in 10-minute slot ``slot`` (slots counted from 1970)."""
    rng = rng_for(seed, TAG_EVENT, slot)
    mlt = _mlt_at(slot * _SLOT_NS + _SLOT_NS // 2, latitude, longitude)
    forms: list[AuroralForm] = []
    for sector in _SECTORS:
        rate = _sector_rate(sector, mlt, options.mlt_occurrence) * options.activity
        n = int(rng.poisson(rate * SLOT_MIN / 60.0))
        for _ in range(n):
            forms.append(_draw_form(rng, sector, slot * 64 + len(forms), slot, options))
    return tuple(forms)


def _draw_form(
    rng: np.random.Generator, sector: _Sector, key: int, slot: int, options: AuroraOptions
) -> AuroralForm:
    start = slot * _SLOT_NS + int(rng.uniform(0.0, _SLOT_NS))
    kind_u, patch_u = rng.random(2)
    stationary = kind_u < min(1.0, options.stationary_fraction * sector.stationary)
    if sector.mlat[0] == "u":
        mlat = rng.uniform(sector.mlat[1], sector.mlat[2])
    else:
        mlat = float(np.clip(rng.normal(sector.mlat[1], sector.mlat[2]), -82.5, -71.5))
    along = rng.normal(*sector.along)
    red = rng.uniform(*sector.red)
    common: dict[str, Any] = dict(
        key=key,
        start_ns=start,
        along_centre=along,
        red_ratio=red,
        ray_scale=rng.uniform(18.0, 40.0),
        ray_phase=rng.uniform(0.0, 4096.0),
        wave_k=2.0 * np.pi / rng.uniform(4.0, 14.0),
        wave_phase=rng.uniform(0.0, 2 * np.pi),
        pulse_period=rng.uniform(2.0, 12.0),
        pulse_phase=rng.uniform(0.0, 2 * np.pi),
    )
    if stationary:
        if sector.name != "cusp":  # quiet arcs sit in the equatorward sky, low down
            mlat = rng.uniform(-77.0, -72.6)
        return AuroralForm(
            kind=STATIONARY,
            patch=False,
            duration=rng.uniform(25.0, 100.0),
            ramp=rng.uniform(6.0, 12.0),
            mlat=mlat,
            drift=0.0,
            width=rng.uniform(0.18, 0.5),
            along_half=rng.uniform(8.0, 30.0),
            along_drift=0.0,
            amplitude=float(np.exp(rng.normal(np.log(26.0), 0.45))),
            ray_amp=rng.uniform(0.0, 0.12),
            wave_amp=rng.uniform(0.0, 0.25),
            wave_speed=0.0,
            pulse_amp=0.0,
            jitter=0.0,
            **common,
        )
    if patch_u < sector.patches:
        return AuroralForm(
            kind=DYNAMIC,
            patch=True,
            duration=rng.uniform(5.0, 35.0),
            ramp=rng.uniform(1.0, 3.0),
            mlat=mlat,
            drift=rng.normal(0.0, 0.08),
            width=rng.uniform(0.5, 1.6),
            along_half=rng.uniform(1.0, 3.5),
            along_drift=rng.normal(0.0, 0.15),
            amplitude=float(np.exp(rng.normal(np.log(24.0), 0.5))),
            ray_amp=0.0,
            wave_amp=0.0,
            wave_speed=0.0,
            pulse_amp=rng.uniform(0.2, 0.6),
            jitter=0.4,
            **common,
        )
    return AuroralForm(
        kind=DYNAMIC,
        patch=False,
        duration=rng.uniform(5.0, 50.0),
        ramp=rng.uniform(1.5, 4.0),
        mlat=mlat,
        drift=rng.normal(0.0, 0.05),
        width=rng.uniform(0.1, 0.4),
        along_half=rng.uniform(6.0, 25.0),
        along_drift=rng.normal(0.0, 0.1),
        amplitude=float(np.exp(rng.normal(np.log(40.0), 0.6))),
        ray_amp=rng.uniform(0.15, 0.6),
        wave_amp=rng.uniform(0.1, 0.8),
        wave_speed=rng.normal(0.0, 0.6),
        pulse_amp=rng.uniform(0.05, 0.35),
        jitter=0.2,
        **common,
    )


def active_forms(
    seed: int, t_ns: int, latitude: float, longitude: float, options: AuroraOptions
) -> list[AuroralForm]:
    """Forms alive at time ``t_ns`` (int nanoseconds since 1970)."""
    if options.activity <= 0.0:
        return []
    last = t_ns // _SLOT_NS
    alive: list[AuroralForm] = []
    for slot in range(last - _LOOKBACK, last + 1):
        for form in forms_starting_in(seed, slot, latitude, longitude, options):
            tau = form.minutes(t_ns)
            if 0.0 < tau < form.duration:
                alive.append(form)
    return alive


@dataclass(frozen=True, eq=False)
class MagneticSky:
    """Per-pixel magnetic geometry of the lines of sight for one epoch.

    ``table`` holds one row per quantity (see the ``ROW_*`` constants) and one
    column per pixel, so that a form gathers all it needs for a subset of
    pixels with one fancy index.
    """

    table: F32  # (N_ROWS, H*W)
    shape: tuple[int, int]


ROW_M0, ROW_A0, ROW_INV_G, ROW_G_A, ROW_A_MID, ROW_REACH = range(6)
ROW_MLAT = (6, 7, 8)  # latitude at each component's mean altitude
ROW_Q = (9, 10, 11)  # (dmlat/dh * altitude spread)**2
ROW_PATH = (12, 13, 14)  # path-length factor x extinction x weight (0 where blocked)
N_ROWS = 15


def _wrap180(x: NDArray[np.floating]) -> NDArray[np.float64]:
    return (np.asarray(x, dtype=float) + 180.0) % 360.0 - 180.0


@functools.lru_cache(maxsize=8)
def magnetic_sky(station: Station, height: int, width: int, year: int) -> MagneticSky:
    """Magnetic geometry of ``station``'s camera in ``year`` (computed once per epoch)."""
    static = static_sky(station, height, width)
    when = dt.datetime(year, 7, 2)
    el, az = static.el, static.az
    lat, lon = station.latitude, station.longitude
    m110, lon110 = pixel_magnetic_coords(el, az, lat, lon, altitude_km=110.0, when=when)
    m230, lon230 = pixel_magnetic_coords(el, az, lat, lon, altitude_km=230.0, when=when)
    _, lon_st = pixel_magnetic_coords(
        np.array([[90.0]]), np.array([[0.0]]), lat, lon, altitude_km=110.0, when=when
    )
    ref = float(np.asarray(lon_st).ravel()[0])
    m110 = np.asarray(m110, dtype=float)
    m230 = np.asarray(m230, dtype=float)
    a110 = _wrap180(np.asarray(lon110) - ref) * np.cos(np.radians(m110))
    a230 = _wrap180(np.asarray(lon230) - ref) * np.cos(np.radians(m230))
    g = (m230 - m110) / 120.0
    ga = (a230 - a110) / 120.0
    ga = np.where(np.abs(a230 - a110) > 5.0, 0.0, ga)  # across the branch cut of mlon
    outside = ~np.isfinite(m110) | ~np.isfinite(m230)
    g = np.where(outside, 0.0, g)
    ga = np.where(outside, 0.0, ga)
    m110 = np.where(outside, -200.0, m110)
    a110 = np.where(outside, 0.0, a110)

    table = np.zeros((N_ROWS, height * width), np.float32)
    table[ROW_M0] = m110.ravel()
    table[ROW_A0] = a110.ravel()
    table[ROW_INV_G] = (g / (g * g + 0.002**2)).ravel()  # regularised 1/g, continuous at 0
    table[ROW_G_A] = ga.ravel()
    table[ROW_A_MID] = (a110 + ga * (_COMPONENTS[0][0] - 110.0)).ravel()
    # how far (in latitude) from m0 a component can still shine on this pixel
    reach_km = max(abs(h - 110.0) + 5.0 * s for h, s, _, _ in _COMPONENTS)
    table[ROW_REACH] = (np.abs(g) * reach_km).ravel()
    el0 = np.where(static.inside, el, 0.0)
    cos_el = np.cos(np.radians(el0))
    ext = extinction(el0)
    for j, (height_km, spread, weight, channel) in enumerate(_COMPONENTS):
        table[ROW_MLAT[j]] = (m110 + g * (height_km - 110.0)).ravel()
        table[ROW_Q[j]] = ((g * spread) ** 2).ravel()
        ratio = EARTH_RADIUS_KM / (EARTH_RADIUS_KM + height_km)
        path = 1.0 / np.sqrt(1.0 - (ratio * cos_el) ** 2)
        trans = ext[..., 1] if channel == "g" else ext[..., 0]
        table[ROW_PATH[j]] = (weight * path * trans * static.sky).ravel()
    return MagneticSky(table=table, shape=(height, width))


def render_aurora(
    mag: MagneticSky,
    forms: list[AuroralForm],
    t_ns: int,
    seed: int,
    rays: F32,
) -> tuple[F32, F32, NDArray[np.uint8]] | None:
    """Green and red emission (DN, before clouds and optics) and the dominant form kind.

    Each form is evaluated only on the pixels it can light (a conservative
    bound from the latitude it reaches along every line of sight). Returns
    None when no form is bright at ``t_ns``.
    """
    n_pix = mag.table.shape[1]
    green = np.zeros(n_pix, np.float32)
    red = np.zeros(n_pix, np.float32)
    best = np.zeros(n_pix, np.float32)
    kind = np.zeros(n_pix, np.uint8)
    m0_all = mag.table[ROW_M0]
    reach_all = mag.table[ROW_REACH]
    a_all = mag.table[ROW_A_MID]
    n_rays = rays.size
    drawn = False
    for form in forms:
        tau = form.minutes(t_ns)
        env = form.envelope(tau)
        if env < 0.01:
            continue
        centre = form.mlat
        amp = form.amplitude * env
        width = form.width
        ray_phase = form.ray_phase
        along_c = form.along_centre
        wave_phase = form.wave_phase
        if form.kind == DYNAMIC:
            jit = rng_for(seed, TAG_FRAME, form.key, t_ns).standard_normal(3)
            centre = float(np.clip(centre + form.drift * tau + 0.03 * jit[0], -84.0, -70.0))
            pulse = 1.0 + form.pulse_amp * np.sin(
                2 * np.pi * tau / form.pulse_period + form.pulse_phase
            )
            amp *= pulse * max(0.2, 1.0 + form.jitter * float(np.clip(jit[1], -2.0, 2.0)))
            width *= 1.0 + 0.12 * np.sin(0.9 * tau + form.pulse_phase)
            ray_phase = float((jit[2] * 9973.0) % n_rays)
            along_c += form.along_drift * tau
            wave_phase += form.wave_speed * tau
        # the pixels this form can light
        margin = np.float32(6.5 * width + form.wave_amp + 0.1)
        near = np.abs(m0_all - np.float32(centre))
        near -= reach_all
        cand = near < margin
        extent = 4.0 * form.along_half if form.patch else form.along_half
        cand &= np.abs(a_all - np.float32(along_c)) < np.float32(extent)
        idx = np.flatnonzero(cand)
        if idx.size == 0:
            continue
        sub = mag.table[:, idx]
        a_mid = sub[ROW_A_MID]
        if form.wave_amp > 0.0:
            cpix = np.float32(centre) + np.float32(form.wave_amp) * np.sin(
                np.float32(form.wave_k) * a_mid + np.float32(wave_phase)
            )
        else:
            cpix = np.full_like(a_mid, centre)
        da = np.abs(a_mid - np.float32(along_c))
        if form.patch:
            window = np.exp(np.float32(-0.5 / form.along_half**2) * da * da)
        else:
            window = np.clip((np.float32(form.along_half) - da) * np.float32(1 / 1.5), 0.0, 1.0)
        sig2 = np.float32(width * width)
        emission: list[F32] = []
        for j, (_, _, _, channel) in enumerate(_COMPONENTS):
            v = sub[ROW_Q[j]] + (sig2 * np.float32(1.69) if channel == "r" else sig2)
            u = sub[ROW_MLAT[j]] - cpix
            e = np.exp(np.float32(-0.5) * u * u / v)
            e *= sub[ROW_PATH[j]]
            e /= np.sqrt(v)
            emission.append(e)
        g_form = (emission[0] + emission[1]) * window
        r_form = emission[2] * window
        scale = np.float32(amp * width)
        if form.ray_amp > 0.0:
            h_cross = np.clip(110.0 + (cpix - sub[ROW_M0]) * sub[ROW_INV_G], 100.0, 300.0)
            a_cross = sub[ROW_A0] + sub[ROW_G_A] * (h_cross - np.float32(110.0))
            ridx = (a_cross * np.float32(form.ray_scale) + np.float32(ray_phase)).astype(np.int64)
            ray = np.float32(1.0) + np.float32(form.ray_amp) * rays[ridx % n_rays]
            np.maximum(ray, 0.05, out=ray)
            g_form *= ray
            r_form *= np.float32(0.5) + np.float32(0.5) * ray
        g_form *= scale
        r_form *= scale * np.float32(form.red_ratio)
        green[idx] += g_form
        red[idx] += r_form
        stronger = g_form > best[idx]
        kind[idx[stronger]] = form.kind
        best[idx[stronger]] = g_form[stronger]
        drawn = True
    if not drawn:
        return None
    shape = mag.shape
    return green.reshape(shape), red.reshape(shape), kind.reshape(shape)
