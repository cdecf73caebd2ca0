"""The auroral forms of the randomised sky: every kind real frames show, down to the noise.

The occurrence process is that of the default sky (:mod:`.auroral_forms`:
10-minute slots, MLT sectors after the JBS climatology); what starts in a
slot is drawn from a wider set of families, each at brightness drawn
log-uniformly from the noise floor up:

==================  ===========================================================
family              what it is
==================  ===========================================================
arc                 the default sky's arcs, patches and stationary arcs, at
                    0.1-3 times their brightness (a share of them faint)
multiple arcs       2-3 parallel arcs 0.4-1.5° of latitude apart
red aurora          630 nm dominated (red/green 3-12), broad, faint in green:
                    polar-cap and cusp red aurora, high red tops
rays and corona     narrow, strongly rayed arcs stacked around the magnetic
                    zenith: the rays converge on it (a corona)
pulsating patches   2-4 small patches switching on and off within seconds
                    (random from one frame to the next at a 1-min cadence)
diffuse aurora      a broad (1.5-4°), faint, structureless glow over tens of
                    degrees of longitude
==================  ===========================================================

Which family a form belongs to depends on its sector (pulsating patches near
dawn, red aurora near the cusp). The forms are :class:`~.auroral_forms.AuroralForm`
objects, so :mod:`.auroral_emission` draws them all.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
from numpy.typing import NDArray

from ._common import TAG_EVENT, rng_for
from .auroral_emission import MagneticSky, render_aurora
from .auroral_forms import (
    _SECTORS,
    DYNAMIC,
    SLOT_MIN,
    AuroralForm,
    AuroraOptions,
    _draw_form,
    _mlt_at,
    _sector_rate,
)

__all__ = ["FAMILIES", "render_varied_aurora", "varied_forms_starting_in"]

FAMILIES = ("arc", "multiple", "red", "corona", "pulsating", "diffuse")
"""The families of forms of the randomised sky."""

F32 = NDArray[np.float32]
WIDE_DEG = 1.0
"""Forms at least this wide (degrees of latitude) are drawn at half resolution."""
_SIGMAS = 4.0  # widths beyond which a form is not evaluated (the default sky uses 6.5)
_ZENITH_MLAT = -79.9  # magnetic latitude of the JBS zenith at 110 km (SCIENCE.md)


def _shares(name: str) -> list[float]:
    shares = {"arc": 0.45, "multiple": 0.12, "red": 0.08, "corona": 0.08}
    shares.update(pulsating=0.12, diffuse=0.15)
    if name == "dawn":
        shares.update(pulsating=0.35, arc=0.3)
    elif name == "cusp":
        shares.update(red=0.35, arc=0.3)
    total = sum(shares.values())
    return [shares[f] / total for f in FAMILIES]


def _scaled(form: AuroralForm, factor: float, **changes: object) -> AuroralForm:
    return dataclasses.replace(form, amplitude=form.amplitude * factor, **changes)  # type: ignore[arg-type]


def _family(
    family: str, rng: np.random.Generator, base: AuroralForm, key: int
) -> list[AuroralForm]:
    faint = float(np.exp(rng.uniform(np.log(0.1), np.log(3.0))))
    if family == "arc":
        return [_scaled(base, faint)]
    if family == "multiple":
        n = int(rng.integers(2, 4))
        gap = rng.uniform(0.4, 1.5) * rng.choice([-1.0, 1.0])
        arc = dataclasses.replace(base, patch=False, along_half=max(base.along_half, 8.0))
        return [
            _scaled(arc, faint * rng.uniform(0.5, 1.0), key=key + k, mlat=arc.mlat + k * gap,
                    ray_phase=float(rng.uniform(0.0, 4096.0)))
            for k in range(n)
        ]  # fmt: skip
    if family == "red":
        return [
            dataclasses.replace(
                base,
                patch=False,
                amplitude=float(np.exp(rng.uniform(np.log(2.0), np.log(14.0)))),
                red_ratio=float(rng.uniform(3.0, 12.0)),
                width=float(rng.uniform(0.4, 2.0)),
                ray_amp=float(rng.uniform(0.0, 0.2)),
                along_half=float(rng.uniform(15.0, 60.0)),
                duration=float(rng.uniform(20.0, 110.0)),
            )
        ]
    if family == "corona":
        n = int(rng.integers(2, 4))
        centre = _ZENITH_MLAT + rng.normal(0.0, 1.2)
        return [
            dataclasses.replace(
                base, kind=DYNAMIC, patch=False, key=key + k,
                mlat=float(centre + rng.normal(0.0, 0.6)),
                width=float(rng.uniform(0.08, 0.22)),
                ray_amp=float(rng.uniform(0.7, 1.0)),
                ray_scale=float(rng.uniform(12.0, 60.0)),
                ray_phase=float(rng.uniform(0.0, 4096.0)),
                along_half=float(rng.uniform(6.0, 20.0)),
                amplitude=float(np.exp(rng.uniform(np.log(15.0), np.log(200.0)))),
                duration=float(rng.uniform(3.0, 15.0)), ramp=1.0,
            )
            for k in range(n)
        ]  # fmt: skip
    if family == "pulsating":
        n = int(rng.integers(2, 5))
        return [
            dataclasses.replace(
                base, kind=DYNAMIC, patch=True, key=key + k,
                mlat=float(rng.uniform(-81.0, -74.0)),
                along_centre=float(rng.normal(base.along_centre, 6.0)),
                along_half=float(rng.uniform(1.0, 4.0)),
                width=float(rng.uniform(0.3, 1.0)),
                pulse_amp=float(rng.uniform(0.7, 1.0)),
                pulse_period=float(rng.uniform(0.05, 0.35)),
                pulse_phase=float(rng.uniform(0.0, 2 * np.pi)),
                amplitude=float(np.exp(rng.uniform(np.log(5.0), np.log(40.0)))),
                ray_amp=0.0, wave_amp=0.0, drift=0.0,
            )
            for k in range(n)
        ]  # fmt: skip
    # diffuse aurora
    return [
        dataclasses.replace(
            base,
            patch=False,
            width=float(rng.uniform(1.5, 4.0)),
            amplitude=float(np.exp(rng.uniform(np.log(2.0), np.log(15.0)))),
            ray_amp=0.0,
            wave_amp=float(rng.uniform(0.0, 0.4)),
            pulse_amp=0.0,
            along_half=float(rng.uniform(30.0, 80.0)),
            duration=float(rng.uniform(30.0, 110.0)),
            ramp=float(rng.uniform(8.0, 15.0)),
        )
    ]


@functools.lru_cache(maxsize=8192)
def varied_forms_starting_in(
    seed: int, slot: int, latitude: float, longitude: float, options: AuroraOptions
) -> tuple[AuroralForm, ...]:
    """The forms of the randomised sky that start in 10-minute slot ``slot``.

    The same signature as :func:`~.auroral_forms.forms_starting_in` (pass it to
    :func:`~.auroral_forms.active_forms` as ``starting``); a stream of its own.
    """
    rng = rng_for(seed, TAG_EVENT, slot, 1)
    mlt = _mlt_at(slot * SLOT_MIN * 60 * 10**9 + SLOT_MIN * 30 * 10**9, latitude, longitude)
    forms: list[AuroralForm] = []
    for sector in _SECTORS:
        rate = _sector_rate(sector, mlt, options.mlt_occurrence) * options.activity
        for _ in range(int(rng.poisson(rate * SLOT_MIN / 60.0))):
            key = slot * 512 + 8 * len(forms)
            base = _draw_form(rng, sector, key, slot, options)
            family = FAMILIES[int(rng.choice(len(FAMILIES), p=_shares(sector.name)))]
            forms.extend(_family(family, rng, base, key))
    return tuple(forms)


def _coarse(mag: MagneticSky) -> MagneticSky:
    height, width = mag.shape
    table = mag.table.reshape(-1, height, width)[:, ::2, ::2]
    return MagneticSky(table=np.ascontiguousarray(table.reshape(table.shape[0], -1)),
                       shape=(table.shape[1], table.shape[2]))  # fmt: skip


def render_varied_aurora(
    mag: MagneticSky, forms: list[AuroralForm], t_ns: int, seed: int, rays: F32
) -> tuple[F32, F32, NDArray[np.uint8]] | None:
    """:func:`~.auroral_emission.render_aurora` of the randomised sky's forms.

    Forms at least :data:`WIDE_DEG` wide are smooth: they are drawn on every
    other pixel and each value spread over its 2 x 2 block.
    """
    narrow = [f for f in forms if f.width < WIDE_DEG]
    wide = [f for f in forms if f.width >= WIDE_DEG]
    fine = render_aurora(mag, narrow, t_ns, seed, rays, sigmas=_SIGMAS) if narrow else None
    rough = None
    if wide:
        rough = render_aurora(_coarse(mag), wide, t_ns, seed, rays, sigmas=_SIGMAS)
    if rough is None:
        return fine
    height, width = mag.shape
    up = [np.repeat(np.repeat(a, 2, 0), 2, 1)[:height, :width] for a in rough]
    if fine is None:
        return up[0], up[1], up[2]
    green, red, kind = fine
    kind = np.where(green >= up[0], kind, up[2]).astype(np.uint8)
    return green + up[0], red + up[1], kind
