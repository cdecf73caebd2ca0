"""The horizon of a synthetic camera: hills, a cone, buildings, masts and trees.

A :class:`Landscape` is drawn from its own random stream (its ``key``), so the
horizon of a station does not depend on the seed of the weather. The default
landscape of a station (:meth:`Landscape.of_station`) is the one the default
sky has always drawn; the randomised sky gives every camera its own, with
flatter or hillier horizons, more or fewer masts and buildings, and trees.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ._common import TAG_LANDSCAPE, fractal_noise_1d, rng_for, station_key

__all__ = ["HORIZON_STEP_DEG", "Landscape", "horizon_profile", "masts"]

F32 = NDArray[np.float32]

HORIZON_STEP_DEG = 0.25
"""Azimuth step of the horizon profile (degrees)."""
_N_AZ = round(360 / HORIZON_STEP_DEG)


@dataclass(frozen=True)
class Landscape:
    """What stands on the horizon of one camera (hashable: part of the cache keys).

    Parameters
    ----------
    key : int
        Seed of the landscape's own random stream.
    hills : float
        Factor on the height of the hills (0: a flat horizon, sea or ice).
    masts : int
        Number of masts (thin radial lines with a cross-arm).
    buildings : int
        Number of buildings near the station lights.
    trees : float
        Height (degrees) of a jagged tree line; 0 for none.
    """

    key: int
    hills: float = 1.0
    masts: int = 3
    buildings: int = 5
    trees: float = 0.0

    @classmethod
    def of_station(cls, code: str) -> Landscape:
        """The landscape of the default sky at a station."""
        return cls(key=station_key(code))

    def rng(self) -> np.random.Generator:
        """The landscape's random stream (drawn in a fixed order by :func:`horizon_profile`)."""
        return rng_for(self.key, TAG_LANDSCAPE)


def _periodic_gauss(delta_deg: NDArray[np.floating], width_deg: float) -> NDArray[np.float64]:
    d = (np.asarray(delta_deg, dtype=float) + 180.0) % 360.0 - 180.0
    return np.exp(-0.5 * (d / width_deg) ** 2)


def horizon_profile(
    rng: np.random.Generator, dome_az: float, land: Landscape
) -> NDArray[np.float64]:
    """Height (deg) of the landscape on a 0.25° azimuth grid: hills, a cone, buildings, trees."""
    az = np.arange(_N_AZ) * HORIZON_STEP_DEG
    hills = 1.4 + 1.1 * fractal_noise_1d(rng, _N_AZ, beta=2.6).astype(float)
    flat_centre = dome_az + 180.0 + rng.uniform(-40.0, 40.0)  # sea ice opposite the station
    hills *= 1.0 - 0.85 * _periodic_gauss(az - flat_centre, 35.0)
    cone_az = dome_az + rng.choice([-1.0, 1.0]) * rng.uniform(70.0, 120.0)
    d = np.abs((az - cone_az + 180.0) % 360.0 - 180.0)
    hills = np.maximum(hills, 5.2 * np.clip(1.0 - d / 16.0, 0.0, 1.0) ** 1.3)
    if land.hills != 1.0:
        hills = hills * land.hills
    profile = np.clip(hills, 0.3, None)
    for _ in range(land.buildings):  # station buildings around the lights
        centre = dome_az + rng.uniform(-30.0, 30.0)
        half = rng.uniform(1.5, 5.0)
        height = rng.uniform(2.5, 7.5)
        d = np.abs((az - centre + 180.0) % 360.0 - 180.0)
        profile = np.where(d < half, np.maximum(profile, height), profile)
    if land.trees > 0.0:  # a jagged tree line: spiky crowns over a ragged base
        crowns = np.abs(fractal_noise_1d(rng, _N_AZ, beta=1.4)).astype(float)
        base = 0.6 + 0.4 * fractal_noise_1d(rng, _N_AZ, beta=2.0).astype(float)
        gaps = _periodic_gauss(az - rng.uniform(0.0, 360.0), rng.uniform(20.0, 60.0))
        trees = land.trees * np.clip(base + 0.5 * crowns, 0.0, None) * (1.0 - 0.8 * gaps)
        profile = np.maximum(profile, trees)
    return profile


def masts(
    rng: np.random.Generator,
    el: F32,
    az: F32,
    radius_px: NDArray[np.float64],
    scale: float,
    dome_az: float,
    count: int = 3,
) -> NDArray[np.bool_]:
    """Thin vertical masts (radial lines from the rim) with a cross-arm each."""
    blocked = np.zeros(el.shape, bool)
    for k in range(count):
        m_az = dome_az + (rng.uniform(-50.0, 50.0) if k < 2 else rng.uniform(90.0, 270.0))
        top = rng.uniform(13.0, 24.0)
        dazr = np.radians((az - m_az + 180.0) % 360.0 - 180.0)
        across = radius_px * np.abs(np.sin(dazr))
        half_w = 0.55 * scale
        blocked |= (across < half_w) & (np.cos(dazr) > 0) & (el < top)
        arm_el = top - rng.uniform(1.0, 3.0)
        arm = (np.abs(el - arm_el) < 0.45 * max(scale, 1.0)) & (across < 2.8 * scale)
        blocked |= arm & (np.cos(dazr) > 0)
    return blocked
