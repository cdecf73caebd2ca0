"""What a night holds around a randomised camera: light pollution, weather, dome, transients.

A :class:`NightScene` is drawn once per seed (one camera, one night) from its
own random stream: the haze lit by towns and the station and its lamps
(sodium orange, LED white or a mix), light domes and lamps on the horizon,
the cloud regime (clear, scattered, overcast, thin), a cirrus veil, frost and
snow on the dome, the strength of the airglow, the Milky Way and the zodiacal
light, the auroral activity of the night, and the rates of meteors,
satellites and aircraft. Strengths are drawn log-uniformly from barely
visible to dominant; what varies within the night varies slowly around them
(:meth:`NightScene.level`). Levels are DN of the reference colour camera
(the dark sky is about 20 DN at the zenith).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._common import log_uniform

__all__ = ["LAMP_KINDS", "LightSource", "NightScene", "describe_scene", "draw_scene"]

LAMP_KINDS = ("sodium", "led", "mixed_lamps")
"""Signatures (see :data:`~.spectra.SIG`) of artificial light."""


@dataclass(frozen=True)
class LightSource:
    """A light dome (a glow over a town or the station) or a lamp on the horizon."""

    azimuth: float  # degrees
    elevation: float  # degrees of its centre (lamps) or 0 (domes)
    width: float  # degrees of azimuth (Gaussian sigma)
    height: float  # degrees: the e-folding height of a dome; the glare radius of a lamp
    level: float  # reference DN at its base
    kind: str  # one of LAMP_KINDS


@dataclass(frozen=True)
class NightScene:
    """The confounders of one night (hashable; see the module docstring)."""

    haze: float = 0.0
    haze_kind: str = "sodium"
    haze_horizon: float = 2.0
    haze_depth: float = 0.0
    domes: tuple[LightSource, ...] = ()
    lamps: tuple[LightSource, ...] = ()
    clouds: float = 0.0
    cloud_opacity: float = 0.97
    cirrus: float = 0.0
    frost: float = 0.0
    snow: float = 0.0
    airglow: float = 1.0
    milky_way: float = 1.0
    zodiacal: float = 0.0
    activity: float = 1.0
    meteor_rate: float = 0.0
    satellite_rate: float = 0.0
    aircraft_rate: float = 0.0
    moon_glare: float = 1.0
    blue_ratio: float = 0.3
    variability: float = 0.2
    phases: tuple[float, ...] = field(default=(0.0, 1.0, 2.0, 3.0))

    def level(self, minutes: float, which: int) -> float:
        """Slow variation (factor about 1) of slowly varying strength ``which`` at ``minutes``."""
        phase = self.phases[which % len(self.phases)]
        omega = 2.0 * np.pi / (140.0 + 90.0 * which)
        wave = 0.6 * np.sin(omega * minutes + phase) + 0.4 * np.sin(
            2.7 * omega * minutes + 2 * phase
        )
        return float(max(0.0, 1.0 + self.variability * wave))


def _kind(rng: np.random.Generator) -> str:
    return str(rng.choice(LAMP_KINDS, p=[0.45, 0.25, 0.3]))


def _domes(rng: np.random.Generator) -> tuple[LightSource, ...]:
    n = int(min(rng.poisson(1.2), 4))
    return tuple(
        LightSource(
            azimuth=float(rng.uniform(0.0, 360.0)),
            elevation=0.0,
            width=float(rng.uniform(8.0, 50.0)),
            height=float(rng.uniform(3.0, 25.0)),
            level=log_uniform(rng, 1.0, 300.0),
            kind=_kind(rng),
        )
        for _ in range(n)
    )


def _lamps(rng: np.random.Generator) -> tuple[LightSource, ...]:
    n = 0 if rng.random() < 0.5 else int(rng.integers(1, 7))
    centre = rng.uniform(0.0, 360.0)
    return tuple(
        LightSource(
            azimuth=float(centre + rng.normal(0.0, 25.0)),
            elevation=float(rng.uniform(0.5, 6.0)),
            width=0.0,
            height=float(rng.uniform(0.6, 4.0)),
            level=log_uniform(rng, 60.0, 4000.0),
            kind=_kind(rng),
        )
        for _ in range(n)
    )


def draw_scene(rng: np.random.Generator) -> NightScene:
    """A random night (see the module docstring for what it holds)."""
    hazy = rng.random() < 0.55
    regime = rng.choice(["clear", "scattered", "overcast", "thin"], p=[0.35, 0.3, 0.2, 0.15])
    clouds = {
        "clear": 0.0,
        "scattered": rng.uniform(0.1, 0.5),
        "overcast": rng.uniform(0.5, 1.0),
        "thin": rng.uniform(0.3, 1.0),
    }[str(regime)]
    quiet = rng.random() < 0.2
    return NightScene(
        haze=log_uniform(rng, 0.3, 600.0) if hazy else 0.0,
        haze_kind=str(rng.choice(LAMP_KINDS, p=[0.3, 0.2, 0.5])),
        haze_horizon=float(rng.uniform(1.0, 5.0)),
        haze_depth=float(rng.uniform(0.0, 0.6)) if hazy else float(rng.uniform(0.0, 0.08)),
        domes=_domes(rng),
        lamps=_lamps(rng),
        clouds=float(clouds),
        cloud_opacity=float(rng.uniform(0.25, 0.5) if regime == "thin" else rng.uniform(0.7, 1.0)),
        cirrus=float(rng.uniform(0.2, 1.0)) if rng.random() < 0.3 else 0.0,
        frost=float(rng.uniform(0.05, 0.5)) if rng.random() < 0.15 else 0.0,
        snow=float(rng.uniform(0.02, 0.4)) if rng.random() < 0.12 else 0.0,
        airglow=log_uniform(rng, 0.5, 2.0),
        milky_way=log_uniform(rng, 0.2, 2.0),
        zodiacal=log_uniform(rng, 3.0, 40.0) if rng.random() < 0.3 else 0.0,
        activity=0.0 if quiet else log_uniform(rng, 0.3, 3.0),
        meteor_rate=float(rng.uniform(0.0, 0.15)),
        satellite_rate=float(rng.uniform(0.0, 0.3)),
        aircraft_rate=float(rng.uniform(0.0, 0.1)),
        moon_glare=log_uniform(rng, 0.5, 3.0),
        blue_ratio=float(rng.uniform(0.12, 0.45)),
        variability=float(rng.uniform(0.0, 0.5)),
        phases=tuple(float(p) for p in rng.uniform(0.0, 2 * np.pi, 4)),
    )


def describe_scene(scene: NightScene) -> dict[str, object]:
    """The night as plain JSON-able values (for the cube's attributes)."""
    out: dict[str, object] = {}
    for name in scene.__dataclass_fields__:
        value = getattr(scene, name)
        if name in ("domes", "lamps"):
            value = [{k: getattr(v, k) for k in v.__dataclass_fields__} for v in value]
        elif isinstance(value, tuple):
            value = list(value)
        out[name] = value
    return out
