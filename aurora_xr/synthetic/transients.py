"""Things that cross one frame of the randomised sky: meteors, satellites, aircraft, cosmic rays.

Drawn per frame from the frame's own stream (``seed``, time), at the night's
rates (:class:`~.night_scene.NightScene`):

* **meteors**: short, tapered streaks, bright in the middle, white-green,
  a few to 25 % of the lens radius long;
* **satellites**: long, faint, even streaks (sunlit satellites move a few
  degrees during an exposure);
* **aircraft**: dashed tracks of blinking strobes with red and green
  navigation lights, in front of the clouds;
* **cosmic rays**: single pixels or short worms of a few pixels in the
  sensor, far brighter than the sky (:func:`cosmic_rays`, output DN).

Each streak is returned as flat pixel indices and values (reference DN) with
the name of its signature (:data:`~.spectra.SIG`); none of them is aurora.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .night_scene import NightScene
from .static import StaticSky

__all__ = ["Streak", "cosmic_rays", "streaks"]


@dataclass(frozen=True, eq=False)
class Streak:
    """Light of one transient on flat ``(H*W)`` pixel indices (reference DN)."""

    kind: str  # "meteor", "satellite" or "aircraft"
    signature: str
    index: NDArray[np.int64]
    value: NDArray[np.float32]
    near: bool  # in front of the clouds (aircraft)


def _segment(
    shape: tuple[int, int],
    p0: NDArray[np.float64],
    p1: NDArray[np.float64],
    width: float,
    profile: str,
    dashes: float = 0.0,
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Flat indices and weights (peak 1) of an anti-aliased segment from ``p0`` to ``p1``."""
    height, wid = shape
    pad = 3.0 * width + 1.0
    x_lo, x_hi = int(max(0, min(p0[0], p1[0]) - pad)), int(min(wid, max(p0[0], p1[0]) + pad + 1))
    y_lo, y_hi = int(max(0, min(p0[1], p1[1]) - pad)), int(min(height, max(p0[1], p1[1]) + pad + 1))
    if x_lo >= x_hi or y_lo >= y_hi:
        return np.zeros(0, np.int64), np.zeros(0)
    yy, xx = np.mgrid[y_lo:y_hi, x_lo:x_hi]
    d = p1 - p0
    length2 = float(d @ d) + 1e-9
    t = np.clip(((xx - p0[0]) * d[0] + (yy - p0[1]) * d[1]) / length2, 0.0, 1.0)
    dist = np.hypot(xx - (p0[0] + t * d[0]), yy - (p0[1] + t * d[1]))
    w = np.exp(-0.5 * (dist / width) ** 2)
    if profile == "taper":  # a meteor: flares in its second half, fades at both ends
        w *= np.sin(np.pi * t) ** 0.7 * (0.4 + 0.6 * t)
    if dashes > 0.0:  # strobes: on for a third of every period
        w *= (np.mod(t * dashes, 1.0) < 0.33).astype(float)
    keep = w > 0.01
    return (yy[keep] * wid + xx[keep]).astype(np.int64), w[keep]


def _endpoints(
    static: StaticSky, rng: np.random.Generator, frac: tuple[float, float]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    cal = static.cal
    r = cal.lens_radius * np.sqrt(rng.uniform(0.0, 0.8))
    a = rng.uniform(0.0, 2 * np.pi)
    p0 = np.array([cal.zenith_x + r * np.cos(a), cal.zenith_y + r * np.sin(a)])
    length = cal.lens_radius * rng.uniform(*frac)
    b = rng.uniform(0.0, 2 * np.pi)
    return p0, p0 + length * np.array([np.cos(b), np.sin(b)])


def streaks(
    static: StaticSky,
    scene: NightScene,
    rng: np.random.Generator,
    *,
    force: dict[str, float] | None = None,
) -> list[Streak]:
    """The meteors, satellites and aircraft of one frame.

    ``force`` maps a kind to a strength factor that draws it for certain.
    """
    force = force or {}
    out: list[Streak] = []
    shape = static.shape
    scale = max(static.cal.lens_radius / 120.0, 0.5)
    draws = rng.random(3)
    if draws[0] < scene.meteor_rate or "meteor" in force:
        p0, p1 = _endpoints(static, rng, (0.04, 0.25))
        idx, w = _segment(shape, p0, p1, 0.7 * scale**0.5, "taper")
        level = float(np.exp(rng.uniform(np.log(15.0), np.log(600.0)))) * force.get("meteor", 1.0)
        out.append(Streak("meteor", "meteor", idx, (level * w).astype(np.float32), False))
    if draws[1] < scene.satellite_rate or "satellite" in force:
        p0, p1 = _endpoints(static, rng, (0.15, 0.8))
        idx, w = _segment(shape, p0, p1, 0.6 * scale**0.5, "even")
        level = float(np.exp(rng.uniform(np.log(4.0), np.log(60.0)))) * force.get("satellite", 1.0)
        out.append(Streak("satellite", "white", idx, (level * w).astype(np.float32), False))
    if draws[2] < scene.aircraft_rate or "aircraft" in force:
        p0, p1 = _endpoints(static, rng, (0.3, 1.2))
        n_dash = float(rng.uniform(6.0, 20.0))
        level = float(np.exp(rng.uniform(np.log(40.0), np.log(800.0)))) * force.get("aircraft", 1.0)
        idx, w = _segment(shape, p0, p1, 0.8 * scale**0.5, "even", dashes=n_dash)
        out.append(Streak("aircraft", "white", idx, (level * w).astype(np.float32), True))
        side = rng.normal(0.0, 1.2 * scale, 2)
        for sig, shift in (("nav_red", side), ("nav_green", -side)):
            idx, w = _segment(shape, p0 + shift, p1 + shift, 0.7 * scale**0.5, "even")
            out.append(Streak("aircraft", sig, idx, (0.25 * level * w).astype(np.float32), True))
    return out


def cosmic_rays(
    shape: tuple[int, int], rate: float, rng: np.random.Generator, full_scale: float
) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    """Flat indices and values (output DN, linear) of the cosmic rays of one frame."""
    height, width = shape
    n = int(rng.poisson(rate * height * width / 65536.0))
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    idx, val = [], []
    for _ in range(n):
        y, x = int(rng.integers(0, height)), int(rng.integers(0, width))
        steps = int(rng.integers(1, 5))
        level = full_scale * rng.uniform(0.15, 1.0)
        for _ in range(steps):
            idx.append(y * width + x)
            val.append(level * rng.uniform(0.4, 1.0))
            y = min(max(y + int(rng.integers(-1, 2)), 0), height - 1)
            x = min(max(x + int(rng.integers(-1, 2)), 0), width - 1)
    return np.asarray(idx, np.int64), np.asarray(val, np.float32)
