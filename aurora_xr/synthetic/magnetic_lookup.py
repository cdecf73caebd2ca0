"""Magnetic geometry of any synthetic camera, looked up from one table per station and epoch.

The default sky computes the AACGM-v2 coordinates of every pixel of its one
camera (:func:`~.auroral_emission.magnetic_sky`). The randomised sky draws a
new lens for every camera (size, centre, rotation, mirror image, projection),
and computing AACGM for each would cost a third of a second per camera. Here
the coordinates are computed once per station and epoch on a 0.5° grid of
elevation and azimuth and interpolated bilinearly for the pixels of a camera
(nearest grid point where a grid cell straddles the branch cut of magnetic
longitude), which is well under a pixel for frames up to 2048 pixels wide.
"""

from __future__ import annotations

import datetime as dt
import functools

import numpy as np
from numpy.typing import NDArray

from ..geo.aacgm import pixel_magnetic_coords
from ..sky.stations import Station
from .auroral_emission import MagneticSky, magnetic_table
from .static import StaticSky

__all__ = ["GRID_STEP_DEG", "camera_magnetic_sky"]

GRID_STEP_DEG = 0.5
"""Step of the elevation/azimuth grid of the lookup table (degrees)."""

_F64 = NDArray[np.float64]


@functools.lru_cache(maxsize=4)
def _grid(station: Station, year: int) -> tuple[_F64, _F64, _F64, _F64, float]:
    """AACGM latitude and longitude offset at 110 and 230 km on the (el, az) grid."""
    el = np.arange(0.0, 90.0 + GRID_STEP_DEG / 2, GRID_STEP_DEG)
    az = np.arange(0.0, 360.0 + GRID_STEP_DEG / 2, GRID_STEP_DEG)
    el2, az2 = np.meshgrid(el, az, indexing="ij")
    when = dt.datetime(year, 7, 2)
    lat, lon = station.latitude, station.longitude
    m110, lon110 = pixel_magnetic_coords(el2, az2, lat, lon, altitude_km=110.0, when=when)
    m230, lon230 = pixel_magnetic_coords(el2, az2, lat, lon, altitude_km=230.0, when=when)
    _, lon_st = pixel_magnetic_coords(
        np.array([[90.0]]), np.array([[0.0]]), lat, lon, altitude_km=110.0, when=when
    )
    ref = float(np.asarray(lon_st).ravel()[0])

    def offset(lon_deg: NDArray[np.floating]) -> _F64:
        return (np.asarray(lon_deg, dtype=float) - ref + 180.0) % 360.0 - 180.0

    return (
        np.asarray(m110, dtype=float),
        offset(lon110),
        np.asarray(m230, dtype=float),
        offset(lon230),
        ref,
    )


def _interpolate(grids: _F64, wraps: tuple[bool, ...], fy: _F64, fx: _F64) -> _F64:
    """Bilinear lookups ``(G, N)`` of ``grids`` ``(G, ny, nx)`` at fractional grid indices.

    Grids flagged in ``wraps`` take the nearest grid point where a cell jumps by more than
    90° (the branch cut of magnetic longitude).
    """
    _, ny, nx = grids.shape
    y0 = np.clip(np.floor(fy).astype(np.int64), 0, ny - 2)
    x0 = np.clip(np.floor(fx).astype(np.int64), 0, nx - 2)
    ty, tx = fy - y0, fx - x0
    flat = grids.reshape(grids.shape[0], -1)
    i00 = y0 * nx + x0
    c00, c01 = flat[:, i00], flat[:, i00 + 1]
    c10, c11 = flat[:, i00 + nx], flat[:, i00 + nx + 1]
    out = (c00 * (1 - tx) + c01 * tx) * (1 - ty) + (c10 * (1 - tx) + c11 * tx) * ty
    near = np.where(ty < 0.5, y0, y0 + 1) * nx + np.where(tx < 0.5, x0, x0 + 1)
    for g, wrap in enumerate(wraps):
        if wrap:
            corners = np.stack([c00[g], c01[g], c10[g], c11[g]])
            jump = corners.max(0) - corners.min(0) > 90.0
            if jump.any():
                out[g, jump] = flat[g, near[jump]]
    return out


@functools.lru_cache(maxsize=8)
def camera_magnetic_sky(static: StaticSky, year: int) -> MagneticSky:
    """The :class:`~.auroral_emission.MagneticSky` of the camera of ``static`` in ``year``."""
    m110g, d110g, m230g, d230g, ref = _grid(static.station, year)
    inside = static.inside
    idx = np.flatnonzero(inside)
    el = static.el.reshape(-1)[idx].astype(float)
    az = static.az.reshape(-1)[idx].astype(float) % 360.0
    looked = _interpolate(
        np.stack([m110g, d110g, m230g, d230g]),
        (False, True, False, True),
        el / GRID_STEP_DEG,
        az / GRID_STEP_DEG,
    )
    values = []
    for row in looked:
        full = np.full(static.shape, np.nan)
        full.reshape(-1)[idx] = row
        values.append(full)
    m110, d110, m230, d230 = values
    return magnetic_table(static, m110, d110, m230, d230, ref, offsets=True)
