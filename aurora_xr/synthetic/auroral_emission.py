"""How auroral forms look in the camera: field-aligned emission seen along each line of sight.

A form (:mod:`.auroral_forms`) is a band in AACGM latitude, field-aligned: its
emission is integrated along each line of sight over a green layer (557.7 nm,
two Gaussian altitude components, bottom at about 105 km) and a red layer
(630.0 nm, about 235 km). Because the magnetic latitude seen by a pixel
changes with altitude, the red layer lies on the zenith side of a green arc
(red upper borders), and arcs near the horizon look like tall curtains. Rays
are brightness striations along the arc, evaluated where the line of sight
crosses the arc, so they are vertical (field-aligned) streaks.

:func:`magnetic_sky` holds the per-pixel magnetic geometry of a camera (once
per epoch); :func:`render_aurora` draws the green and red emission of the
forms alive in one frame.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..geo.aacgm import pixel_magnetic_coords
from ..sky.shell import EARTH_RADIUS_KM
from ..sky.stations import Station
from ._common import TAG_FRAME, rng_for
from .auroral_forms import DYNAMIC, AuroralForm
from .static import StaticSky, extinction, static_sky

__all__ = ["MagneticSky", "magnetic_sky", "magnetic_table", "render_aurora"]

F32 = NDArray[np.float32]

# (mean altitude km, altitude spread km, weight, channel) of the emission components
_COMPONENTS = ((112.0, 7.0, 0.6, "g"), (138.0, 22.0, 0.4, "g"), (205.0, 40.0, 1.0, "r"))


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
    return magnetic_table(static, m110, lon110, m230, lon230, ref)


def magnetic_table(
    static: StaticSky,
    m110: NDArray[np.floating],
    lon110: NDArray[np.floating],
    m230: NDArray[np.floating],
    lon230: NDArray[np.floating],
    ref: float,
    *,
    offsets: bool = False,
) -> MagneticSky:
    """The :class:`MagneticSky` of a camera from the AACGM coordinates of its pixels.

    ``m110``, ``lon110`` and ``m230``, ``lon230`` are the magnetic latitude and
    longitude (degrees, ``(H, W)``, NaN outside the sky) at 110 and 230 km;
    ``ref`` is the magnetic longitude of the station's zenith at 110 km. With
    ``offsets`` the longitudes are already offsets from ``ref`` in -180..180.
    """
    height, width = static.shape
    el = static.el
    m110 = np.asarray(m110, dtype=float)
    m230 = np.asarray(m230, dtype=float)
    if offsets:
        d110, d230 = np.asarray(lon110, dtype=float), np.asarray(lon230, dtype=float)
    else:
        d110, d230 = _wrap180(np.asarray(lon110) - ref), _wrap180(np.asarray(lon230) - ref)
    a110 = d110 * np.cos(np.radians(m110))
    a230 = d230 * np.cos(np.radians(m230))
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
    *,
    sigmas: float = 6.5,
) -> tuple[F32, F32, NDArray[np.uint8]] | None:
    """Green and red emission (DN, before clouds and optics) and the dominant form kind.

    Each form is evaluated only on the pixels it can light (a conservative
    bound from the latitude it reaches along every line of sight, ``sigmas``
    widths of the form beyond it). Returns None when no form is bright at ``t_ns``.
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
        margin = np.float32(sigmas * width + form.wave_amp + 0.1)
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
