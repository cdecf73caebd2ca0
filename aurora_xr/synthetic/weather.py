"""Weather of the synthetic sky: drifting clouds and the slow breathing of the airglow.

Both are smooth, deterministic functions of time drawn once per seed
(:class:`Weather`): the wind that moves the two cloud layers (a steady wind
plus gusts), the cloud amount that varies around its mean, and the airglow
level. The cloud deck (:func:`cloud_opacity`) is two periodic textures of the
seed (:class:`~.static.SeedLayers`) read at the wind offsets, thresholded so
that the wanted share of the sky is covered, with thin, semi-transparent edges.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ._common import TAG_WEATHER, rng_for
from .static import CLOUD_TEXELS, SeedLayers, StaticSky, seed_layers

__all__ = ["Weather", "cloud_opacity", "weather_for"]

F32 = NDArray[np.float32]


@dataclass(frozen=True)
class Weather:
    """Smooth deterministic functions of time for clouds and airglow (times in minutes)."""

    wind: tuple[float, float]
    gusts: tuple[tuple[float, float, float, float], ...]  # (amp_x, amp_y, omega, phase)
    wind_b: tuple[float, float]
    amount_terms: tuple[tuple[float, float, float], ...]  # (amp, omega, phase)
    airglow_terms: tuple[tuple[float, float, float], ...]
    quantiles: NDArray[np.float64]

    @classmethod
    def for_seed(cls, seed: int, layers: SeedLayers) -> Weather:
        """The weather of ``seed`` (its own random stream) over the seed's cloud ``layers``."""
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
        """Texel offsets ``(x, y)`` of the sharp and ``(x, y)`` of the soft cloud layer."""
        ox, oy = self.wind[0] * minutes, self.wind[1] * minutes
        for ax, ay, omega, phase in self.gusts:
            ox += ax / omega * np.sin(omega * minutes + phase)
            oy += ay / omega * np.sin(omega * minutes + phase)
        n = float(CLOUD_TEXELS)
        return ox % n, oy % n, (self.wind_b[0] * minutes) % n, (self.wind_b[1] * minutes) % n

    def amount(self, minutes: float, mean: float) -> float:
        """Cloud cover at ``minutes``, varying slowly around its ``mean`` (both in [0, 1])."""
        if mean <= 0.0 or mean >= 1.0:
            return float(np.clip(mean, 0.0, 1.0))
        total = sum(a for a, _, _ in self.amount_terms)
        wave = sum(a * np.sin(w * minutes + p) for a, w, p in self.amount_terms) / total
        return float(np.clip(mean + 0.6 * min(mean, 1.0 - mean) * wave, 0.0, 1.0))

    def airglow(self, minutes: float) -> float:
        """Factor on the airglow at ``minutes`` (about 1)."""
        return float(1.0 + sum(a * np.sin(w * minutes + p) for a, w, p in self.airglow_terms))

    def threshold(self, amount: float) -> float:
        """Cloud density above which a share ``amount`` of the texture is cloud."""
        return float(np.interp(1.0 - amount, np.linspace(0.0, 1.0, 201), self.quantiles))


@functools.lru_cache(maxsize=4)
def weather_for(seed: int, n_values: int) -> Weather:
    """The weather of ``seed``; ``n_values`` is the size of its :func:`~.static.seed_layers`."""
    return Weather.for_seed(seed, seed_layers(seed, n_values))


def cloud_opacity(
    static: StaticSky, layers: SeedLayers, weather: Weather, minutes: float, amount: float
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
