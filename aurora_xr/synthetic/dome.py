"""Snow and frost on the camera's dome (randomised sky).

Both sit in front of the lens, so they act on everything the camera sees:

* **snow** flakes and clumps: soft blobs that block the sky behind them and
  glow with the light around them (white, lit by the moon, lamps and haze), so
  that they are darker than a bright sky and brighter than a dark one;
* **frost** (or a dirty, misted dome): a veil, thicker towards the rim, that
  scatters a share of the whole frame's light over the image, lowering the
  contrast of stars and aurora and spreading bright sources.

:func:`dome_cover` draws the two maps once per camera and night;
:func:`apply_dome` applies them to a frame: ``S' = T * S + K * mean(S)`` with
the transmission ``T = 1 - snow - frost`` and the scatter ``K``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ._common import TAG_SCENE, fractal_noise_2d, rng_for
from .night_scene import NightScene
from .static import StaticSky

__all__ = ["apply_dome", "dome_cover"]

F32 = NDArray[np.float32]


def dome_cover(static: StaticSky, scene: NightScene, key: int) -> tuple[F32, F32] | None:
    """Transmission and scatter maps ``(H, W)`` of the dome, or None for a clean dome."""
    if scene.snow <= 0.0 and scene.frost <= 0.0:
        return None
    rng = rng_for(key, TAG_SCENE, 77)
    height, width = static.shape
    cal = static.cal
    snow = np.zeros(static.shape)
    if scene.snow > 0.0:
        n = int(20 + 400 * scene.snow)
        radius = cal.lens_radius * np.exp(rng.uniform(np.log(0.01), np.log(0.07), n))
        rr = cal.lens_radius * np.sqrt(rng.uniform(0.0, 1.0, n))
        angle = rng.uniform(0.0, 2 * np.pi, n)
        cx, cy = cal.zenith_x + rr * np.cos(angle), cal.zenith_y + rr * np.sin(angle)
        depth = rng.uniform(0.4, 1.0, n)
        for x0, y0, r, d in zip(cx, cy, radius, depth, strict=True):
            x_lo, x_hi = max(0, int(x0 - 2 * r)), min(width, int(x0 + 2 * r) + 2)
            y_lo, y_hi = max(0, int(y0 - 2 * r)), min(height, int(y0 + 2 * r) + 2)
            if x_lo >= x_hi or y_lo >= y_hi:
                continue
            yy, xx = np.mgrid[y_lo:y_hi, x_lo:x_hi]
            blob = d * np.exp(-0.5 * ((xx - x0) ** 2 + (yy - y0) ** 2) / (r * r))
            patch = snow[y_lo:y_hi, x_lo:x_hi]
            np.maximum(patch, np.minimum(blob, 1.0), out=patch)
    frost = np.zeros(static.shape)
    if scene.frost > 0.0:
        texture = fractal_noise_2d(rng, (height, width), beta=3.0, low_cut=2.0)
        rho = np.clip(static.rho, 0.0, 1.0)
        frost = scene.frost * np.clip((0.35 + 0.65 * rho**2) * (1.0 + 0.35 * texture), 0.0, 1.0)
    trans = np.clip(1.0 - snow - frost, 0.0, 1.0) * static.inside
    scatter = (0.9 * snow + frost) * static.inside
    return trans.astype(np.float32), scatter.astype(np.float32)


def apply_dome(planes: F32, cover: tuple[F32, F32], inside: NDArray[np.bool_]) -> None:
    """Apply the dome's ``cover`` (from :func:`dome_cover`) to ``(C, H, W)`` planes in place."""
    trans, scatter = cover
    for plane in planes:
        mean = float(plane[inside].mean()) if inside.any() else 0.0
        plane *= trans
        plane += scatter * np.float32(mean)
