"""Auroral forms of the synthetic sky: when they occur, where, and what they are.

Time is cut into 10-minute slots. The forms that start in a slot are drawn
from a generator seeded by ``(seed, slot)`` only, with rates that depend on
the magnetic local time (MLT) of the station at the slot (a mixture of
sectors after the JBS climatology of Jee et al. 2021: evening arcs near the
equatorward horizon, substorm arcs around midnight, patches reaching the
zenith near dawn, a retreat to the magnetic north-east in the late morning,
red-rich cusp aurora near magnetic noon, a quiet afternoon). A frame at time
``t`` looks back over the slots whose forms may still be alive, so any frame
can be made alone, in any chunk, with the same result.

A form (:class:`AuroralForm`) is an arc along a magnetic latitude circle or a
patch limited along the arc, with its lifetime, position, width, brightness,
red/green ratio, rays, folds and pulsation. DYNAMIC forms drift in latitude,
fold, pulse and re-ray from frame to frame; STATIONARY forms keep position,
shape and brightness for tens of minutes and sit mostly in the equatorward
(magnetic-north) sky at low elevation. How a form looks in the camera is
drawn by :mod:`.auroral_emission`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..geo.mlt import station_mlt
from ._common import TAG_EVENT, rng_for

__all__ = [
    "DYNAMIC",
    "MAX_DURATION_MIN",
    "SLOT_MIN",
    "STATIONARY",
    "AuroraOptions",
    "AuroralForm",
    "active_forms",
    "forms_starting_in",
    "occurrence_rate",
]

DYNAMIC = 1
STATIONARY = 2
SLOT_MIN = 10
MAX_DURATION_MIN = 120
_SLOT_NS = SLOT_MIN * 60 * 10**9
_LOOKBACK = MAX_DURATION_MIN // SLOT_MIN + 1


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
    seed: int,
    t_ns: int,
    latitude: float,
    longitude: float,
    options: AuroraOptions,
    *,
    starting: Callable[
        [int, int, float, float, AuroraOptions], tuple[AuroralForm, ...]
    ] = forms_starting_in,
) -> list[AuroralForm]:
    """Forms alive at time ``t_ns`` (int nanoseconds since 1970).

    ``starting(seed, slot, latitude, longitude, options)`` gives the forms that
    start in a slot (the randomised sky passes its own).
    """
    if options.activity <= 0.0:
        return []
    last = t_ns // _SLOT_NS
    alive: list[AuroralForm] = []
    for slot in range(last - _LOOKBACK, last + 1):
        for form in starting(seed, slot, latitude, longitude, options):
            tau = form.minutes(t_ns)
            if 0.0 < tau < form.duration:
                alive.append(form)
    return alive
