"""Stars of the synthetic sky: catalogue stars above the horizon, drawn with a PSF.

The catalogue (:func:`~.static.star_catalogue`) is one fixed sky for every seed.
Each frame turns it to the local sidereal time, dims every star by the
extinction of its air mass, lets it twinkle (more near the horizon) and draws
it: stars brighter than magnitude 4.5 with a Gaussian PSF in their own colour
(the brightest with a wide halo as well), the fainter ones bilinearly in one
mean colour, which costs much less for the many of them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..sky.lens import sky_to_pixel
from ._common import add_colour
from .static import StaticSky, airmass, star_catalogue

__all__ = ["RisingStars", "add_stars", "rising_stars", "splat", "star_light"]

F32 = NDArray[np.float32]

_STAR_FLUX_M0 = 1100.0
_FAINT_MAG = 4.5  # fainter stars are drawn bilinearly, in one mean colour
_FAINT_COLOUR = tuple(float(c) for c in star_catalogue().colour.mean(0))


@dataclass(frozen=True, eq=False)
class RisingStars:
    """Catalogue stars that rise at one latitude, with their fluxes."""

    ra: NDArray[np.float64]  # radians
    sin_dec: NDArray[np.float64]
    cos_dec: NDArray[np.float64]
    mag: NDArray[np.float64]
    flux: NDArray[np.float64]  # (3, N): DN per channel above the atmosphere


@functools.lru_cache(maxsize=4)
def rising_stars(latitude: float) -> RisingStars:
    """Catalogue stars that ever rise above the horizon at ``latitude``."""
    cat = star_catalogue()
    rises = -cat.dec * np.sign(latitude) < 90.0 - abs(latitude)
    dec = np.radians(cat.dec[rises])
    mag = cat.mag[rises]
    flux = _STAR_FLUX_M0 * 10.0 ** (-0.4 * mag) * cat.colour[rises].T.astype(float)
    return RisingStars(
        ra=np.radians(cat.ra[rises]),
        sin_dec=np.sin(dec),
        cos_dec=np.cos(dec),
        mag=mag,
        flux=np.ascontiguousarray(flux),
    )


def splat(
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    flux: NDArray[np.float64],
    *,
    taps: int,
    sigma: float,
    shape: tuple[int, int],
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Planar indices and values of point sources drawn with a Gaussian PSF.

    ``flux`` is ``(C, N)`` for ``C`` planes. ``taps = 0`` draws with bilinear
    weights on 2 x 2 pixels (faint stars); otherwise a ``(2*taps+1)**2``
    Gaussian of ``sigma`` pixels.
    """
    height, width = shape
    if taps == 0:
        x0, y0 = np.floor(x), np.floor(y)
        fx, fy = x - x0, y - y0
        offs = np.array([0.0, 1.0])
        wx = np.stack([1.0 - fx, fx], axis=1)
        wy = np.stack([1.0 - fy, fy], axis=1)
    else:
        x0, y0 = np.rint(x), np.rint(y)
        offs = np.arange(-taps, taps + 1, dtype=float)
        wx = np.exp((x0[:, None] + offs - x[:, None]) ** 2 * (-0.5 / sigma**2))
        wy = np.exp((y0[:, None] + offs - y[:, None]) ** 2 * (-0.5 / sigma**2))
        wx /= wx.sum(1, keepdims=True)
        wy /= wy.sum(1, keepdims=True)
    px = np.clip(x0[:, None] + offs, 0, width - 1).astype(np.int64)
    py = np.clip(y0[:, None] + offs, 0, height - 1).astype(np.int64)
    flat = (py[:, :, None] * width + px[:, None, :]).reshape(x.size, -1)
    w = (wy[:, :, None] * wx[:, None, :]).reshape(x.size, -1)
    n_pix = height * width
    idx = (flat[None] + (np.arange(flux.shape[0]) * n_pix)[:, None, None]).ravel()
    val = (w[None] * flux[:, :, None]).ravel()
    return idx, val


def star_light(
    static: StaticSky, lst: float, rng: np.random.Generator, scale: float
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64], NDArray[np.float64]]:
    """Star light of one frame at local sidereal time ``lst`` (degrees), as sparse additions.

    Returns the flat ``(3*H*W)`` indices and values of the stars drawn in their
    own colour, then the flat ``(H*W)`` indices and values of the faint stars
    (drawn in one mean colour by :func:`add_stars`).
    """
    stars = rising_stars(static.station.latitude)
    phi = np.radians(static.station.latitude)
    ha = np.radians(lst) - stars.ra
    cos_h = np.cos(ha)
    sin_el = np.sin(phi) * stars.sin_dec + np.cos(phi) * stars.cos_dec * cos_h
    up = np.flatnonzero(sin_el > 0.0)
    sin_el, cos_h = sin_el[up], cos_h[up]
    sd, cd = stars.sin_dec[up], stars.cos_dec[up]
    el = np.degrees(np.arcsin(sin_el))
    az = np.degrees(np.arctan2(-cd * np.sin(ha[up]), sd * np.cos(phi) - cd * np.sin(phi) * cos_h))
    x, y = sky_to_pixel(el, az, static.cal)
    mag = stars.mag[up]
    twinkle = 1.0 + 0.05 * np.minimum(1.0 / np.maximum(sin_el, 0.05), 6.0) * rng.standard_normal(
        up.size
    )
    gain = np.exp(-0.12 * airmass(el)) * np.clip(twinkle, 0.3, 2.0)
    flux = stars.flux[:, up] * gain
    sigma = 0.6 * max(scale, 0.5) ** 0.3
    shape = static.shape
    faint = np.flatnonzero(mag >= _FAINT_MAG)
    grey = splat(
        x[faint], y[faint], flux[:, faint].mean(0, keepdims=True), taps=0, sigma=sigma, shape=shape
    )
    parts = []
    for taps, sig, sel, share in (
        (1, sigma, (mag < _FAINT_MAG) & (mag >= 2.2), 1.0),
        (1, sigma, mag < 2.2, 0.85),
        (3, 1.7 * sigma * max(scale, 1.0) ** 0.5, mag < 2.2, 0.15),
    ):
        pick = np.flatnonzero(sel)
        if pick.size:
            parts.append(
                splat(x[pick], y[pick], flux[:, pick] * share, taps=taps, sigma=sig, shape=shape)
            )
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0), grey[0], grey[1]
    return (
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
        grey[0],
        grey[1],
    )


def add_stars(
    planes: F32, static: StaticSky, lst: float, rng: np.random.Generator, scale: float
) -> None:
    """Add the star light of one frame at local sidereal time ``lst`` (degrees) to ``planes``.

    ``planes`` is ``(3, H, W)`` float32; ``rng`` is the frame's generator (twinkling)
    and ``scale`` the lens radius in units of 120 pixels (PSF width).
    """
    height, width = static.shape
    s_idx, s_val, g_idx, g_val = star_light(static, lst, rng, scale)
    flat = planes.reshape(-1)
    flat += np.bincount(s_idx, s_val, minlength=flat.size).astype(np.float32)
    faint = np.bincount(g_idx, g_val, minlength=height * width).astype(np.float32)
    add_colour(planes, faint.reshape(height, width), _FAINT_COLOUR)
