"""Small shared helpers of the synthetic sky: seeded generators, noise fields, colour planes."""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "TAG_CAMERA",
    "TAG_CATALOGUE",
    "TAG_CLOUD",
    "TAG_EVENT",
    "TAG_FRAME",
    "TAG_LANDSCAPE",
    "TAG_NOISE",
    "TAG_SCENE",
    "TAG_TRANSIENT",
    "TAG_WEATHER",
    "add_colour",
    "fractal_noise_1d",
    "fractal_noise_2d",
    "log_uniform",
    "rng_for",
    "smoothstep",
    "station_key",
]

F32 = NDArray[np.float32]

# Stream tags: each kind of randomness draws from its own stream, so adding
# draws to one never changes another.
TAG_FRAME = 1
TAG_EVENT = 2
TAG_WEATHER = 3
TAG_CLOUD = 4
TAG_NOISE = 5
TAG_LANDSCAPE = 6
TAG_CATALOGUE = 7
# streams of the randomised sky only
TAG_CAMERA = 11
TAG_SCENE = 12
TAG_TRANSIENT = 13

_CATALOGUE_SEED = 2_018_01  # the star catalogue and the Milky Way are one fixed sky


def rng_for(seed: int, tag: int, *keys: int) -> np.random.Generator:
    """A generator determined only by ``(seed, tag, *keys)`` (all integers)."""
    entropy = [int(seed) % 2**63, int(tag)] + [int(k) % 2**64 for k in keys]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))


def station_key(code: str) -> int:
    """A stable integer for a station code (its landscape does not depend on the seed)."""
    return zlib.crc32(code.upper().encode("utf-8"))


def log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    """A draw whose logarithm is uniform between those of ``lo`` and ``hi``."""
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def catalogue_rng() -> np.random.Generator:
    """The generator of the fixed celestial sphere (stars, Milky Way structure)."""
    return rng_for(_CATALOGUE_SEED, TAG_CATALOGUE)


def fractal_noise_2d(
    rng: np.random.Generator, shape: tuple[int, int], *, beta: float, low_cut: float = 1.0
) -> NDArray[np.float32]:
    """Periodic Gaussian noise with a power spectrum ``k**-beta``, scaled to unit variance.

    ``low_cut`` (in cycles per field) suppresses the largest scales.
    """
    ny, nx = shape
    white = rng.standard_normal(shape)
    ky = np.fft.fftfreq(ny)[:, None] * ny
    kx = np.fft.rfftfreq(nx)[None, :] * nx
    k = np.hypot(ky, kx)
    k[0, 0] = 1.0
    amp = k ** (-beta / 2.0) * (1.0 - np.exp(-((k / low_cut) ** 2)))
    amp[0, 0] = 0.0
    field = np.fft.irfft2(np.fft.rfft2(white) * amp, s=shape)
    field -= field.mean()
    field /= field.std() + 1e-12
    return field.astype(np.float32)


def fractal_noise_1d(rng: np.random.Generator, n: int, *, beta: float) -> NDArray[np.float32]:
    """Periodic 1-D Gaussian noise with a power spectrum ``k**-beta`` and unit variance."""
    white = rng.standard_normal(n)
    k = np.fft.rfftfreq(n) * n
    k[0] = 1.0
    amp = k ** (-beta / 2.0)
    amp[0] = 0.0
    field = np.fft.irfft(np.fft.rfft(white) * amp, n=n)
    field -= field.mean()
    field /= field.std() + 1e-12
    return field.astype(np.float32)


def smoothstep(x: NDArray[np.float32], lo: float, hi: float) -> NDArray[np.float32]:
    """0 below ``lo``, 1 above ``hi``, a cubic in between."""
    t = np.clip((x - np.float32(lo)) * np.float32(1.0 / (hi - lo)), 0.0, 1.0)
    return t * t * (np.float32(3.0) - np.float32(2.0) * t)


def add_colour(planes: F32, layer: F32, colour: Sequence[float]) -> None:
    """``planes[c] += layer * colour[c]`` for the three colour planes ``(3, H, W)``."""
    for c in range(3):
        planes[c] += layer * np.float32(colour[c])
