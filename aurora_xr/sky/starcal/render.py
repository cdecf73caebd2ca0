"""A synthetic clear frame: the catalogue stars seen through a known lens.

For checking calibration from stars against truth. Stars and planets come from
:func:`~.catalogue.catalogue_stars` at the frame's time and site and are placed
with :func:`~aurora_xr.sky.lens.sky_to_pixel`; their flux falls by 0.4 dex per
magnitude, dimmed by atmospheric extinction (``extinction`` magnitudes per
airmass, airmass ``1 / sin(elevation)`` capped at 40). Each is a Gaussian PSF
on a sky background that brightens towards the horizon, inside a dark
surround beyond the lens circle; optional field stars at random places stand
in for the stars the catalogue does not hold; shot and read noise are added.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..lens import Calibration, pixel_to_sky, sky_to_pixel
from ..stations import Station
from .catalogue import Site, catalogue_stars

__all__ = ["render_star_field"]


def render_star_field(
    cal: Calibration,
    time: Any,
    site: Station | str | Site | tuple[float, ...],
    *,
    max_magnitude: float = 5.5,
    psf_sigma: float = 1.2,
    flux_mag0: float = 2.0e5,
    sky_level: float = 1500.0,
    read_noise: float = 12.0,
    extinction: float = 0.2,
    field_stars: int = 0,
    seed: int = 0,
    dtype: type[np.unsignedinteger[Any]] = np.uint16,
) -> NDArray[Any]:
    """Render a clear frame ``(cal.height, cal.width)`` of the catalogue stars.

    Parameters
    ----------
    cal : Calibration
        The true lens.
    time : datetime-like
        UTC time.
    site : Station, str, aurora_xr.sky.starcal.catalogue.Site or tuple
        Observing site.
    max_magnitude : float
        Faintest catalogue star drawn.
    psf_sigma : float
        Gaussian PSF width in pixels.
    flux_mag0 : float
        Total counts of a magnitude-0 star at the zenith.
    sky_level : float
        Background counts at the zenith (twice that at the horizon).
    read_noise : float
        Gaussian read noise in counts; shot noise is ``sqrt(counts)``.
    extinction : float
        Magnitudes lost per airmass.
    field_stars : int
        Extra stars at random places (magnitudes 3 to 6), not in the catalogue.
    seed : int
        Seed of the noise and of the field stars.
    dtype : numpy unsigned integer type
        Output type; counts are clipped to its range.

    Returns
    -------
    (H, W) ndarray of ``dtype``
    """
    rng = np.random.default_rng(seed)
    stars = catalogue_stars(time, site, max_magnitude=max_magnitude, min_elevation=0.0)
    x, y = sky_to_pixel(stars.elevation, stars.azimuth, cal)
    airmass = 1.0 / np.maximum(np.sin(np.radians(stars.elevation)), 1.0 / 40.0)
    flux = flux_mag0 * 10.0 ** (-0.4 * (stars.magnitude + extinction * (airmass - 1.0)))
    yy, xx = np.mgrid[0 : cal.height, 0 : cal.width]
    el, _ = pixel_to_sky(xx, yy, cal)
    inside = np.isfinite(el)
    if field_stars:
        fx = rng.uniform(0, cal.width - 1, field_stars)
        fy = rng.uniform(0, cal.height - 1, field_stars)
        ok = inside[np.rint(fy).astype(int), np.rint(fx).astype(int)]
        x, y = np.concatenate([x, fx[ok]]), np.concatenate([y, fy[ok]])
        flux = np.concatenate([flux, flux_mag0 * 10.0 ** (-0.4 * rng.uniform(3, 6, ok.sum()))])
    sky = np.where(
        inside, sky_level * (1.0 + np.cos(np.radians(np.nan_to_num(el)))), 0.05 * sky_level
    )
    image = sky + _gaussians(x, y, flux, psf_sigma, (cal.height, cal.width))
    noisy = image + rng.normal(0.0, 1.0, image.shape) * np.sqrt(image + read_noise**2)
    info = np.iinfo(dtype)
    return np.clip(np.rint(noisy), info.min, info.max).astype(dtype)


def _gaussians(
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    flux: NDArray[np.float64],
    sigma: float,
    shape: tuple[int, int],
) -> NDArray[np.float64]:
    """Sum of unit-volume Gaussians scaled by ``flux``, drawn on stamps of +-4 sigma."""
    out = np.zeros(shape)
    half = int(np.ceil(4.0 * sigma))
    off = np.arange(-half, half + 1)
    keep = np.isfinite(x) & np.isfinite(y)
    keep &= (x >= -half) & (x <= shape[1] - 1 + half) & (y >= -half) & (y <= shape[0] - 1 + half)
    for xi, yi, fi in zip(x[keep], y[keep], flux[keep], strict=True):
        cx, cy = int(np.rint(xi)), int(np.rint(yi))
        cols, rows = cx + off, cy + off
        gx = np.exp(-0.5 * ((cols - xi) / sigma) ** 2)
        gy = np.exp(-0.5 * ((rows - yi) / sigma) ** 2)
        stamp = fi * np.outer(gy, gx) / (2.0 * np.pi * sigma**2)
        r_ok = (rows >= 0) & (rows < shape[0])
        c_ok = (cols >= 0) & (cols < shape[1])
        out[np.ix_(rows[r_ok], cols[c_ok])] += stamp[np.ix_(r_ok, c_ok)]
    return out
