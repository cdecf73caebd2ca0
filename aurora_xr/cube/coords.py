"""Coordinates of the pixels of an image cube: geographic and magnetic, at an altitude.

:func:`geo_coords` adds the latitude and longitude of every pixel (from the operator's
skymap where the cube carries one, else from elevation and azimuth on the emission
shell); :func:`magnetic_coords` adds their AACGM-v2 ``mlat``/``mlon``, computed once
per epoch. Both read the station, the calibration and the times from the cube's
context (:func:`aurora_xr.cube.context.cube_context`) and never touch the image data.
Per-frame quantities (MLT, the Sun, the Moon) are in :mod:`aurora_xr.cube.frames`.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, TypeVar

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from ..geo.aacgm import pixel_magnetic_coords
from ..sky.shell import sky_to_geo
from .context import CubeContext, context_of

__all__ = [
    "SKYMAP_ALTITUDE",
    "SKYMAP_LATITUDE",
    "SKYMAP_LONGITUDE",
    "geo_coords",
    "magnetic_coords",
]

SKYMAP_LATITUDE = "skymap_latitude"
"""Variable (skymap_altitude, y, x) of the operator's pixel latitudes, when a skymap gave them."""
SKYMAP_LONGITUDE = "skymap_longitude"
"""Variable (skymap_altitude, y, x) of the operator's pixel longitudes (east, -180..180)."""
SKYMAP_ALTITUDE = "skymap_altitude"
"""Coordinate (km) of the altitudes at which a skymap gives pixel positions."""

XrObj = TypeVar("XrObj", xr.Dataset, xr.DataArray)


def magnetic_coords(
    ds: XrObj,
    *,
    altitude_km: float = 110.0,
    when: Any = None,
    context: CubeContext | None = None,
    time_dim: Hashable = "time",
    y_dim: Hashable = "y",
    x_dim: Hashable = "x",
) -> XrObj:
    """Add AACGM-v2 coordinates ``mlat``/``mlon`` (y, x) of every pixel to a cube.

    The pixels' lines of sight meet the emission shell at ``altitude_km``; the
    shell points are converted with AACGM-v2 once for the epoch. Nothing lazy
    is computed.

    Parameters
    ----------
    ds : xarray.Dataset or DataArray
        An image cube, or a (y, x) variable, with station and calibration
        attributes.
    altitude_km : float
        Height of the emission shell.
    when : year, datetime or datetime64, optional
        Epoch; default mid-year of the year in the middle of the cube's times.
    context : CubeContext, optional
        The cube's context when the caller has resolved it already.
    time_dim, y_dim, x_dim : hashable
        Dimension names.

    Returns
    -------
    xarray.Dataset or DataArray
        ``ds`` with coordinates ``mlat`` and ``mlon`` (float32, degrees, NaN
        outside the field of view).
    """
    ctx = context_of(ds, context, time_dim=time_dim, y_dim=y_dim, x_dim=x_dim)
    ctx.require_calibration()
    site = ctx.require_site()
    epoch = ctx.epoch(when)
    el, az = ctx.sky_grids
    mlat, mlon = pixel_magnetic_coords(
        el,
        az,
        site.latitude,
        site.longitude,
        altitude_km=altitude_km,
        site_altitude_km=site.altitude_km,
        when=epoch,
    )
    common = {
        "altitude_km": float(altitude_km),
        "epoch": epoch.isoformat(),
        "model": "AACGM-v2 (aacgmv2)",
    }
    y, x = ctx.dims.y, ctx.dims.x
    return ds.assign_coords(
        mlat=(
            (y, x),
            mlat,
            {"units": "degree", "long_name": "AACGM-v2 magnetic latitude", **common},
        ),
        mlon=(
            (y, x),
            mlon,
            {"units": "degree", "long_name": "AACGM-v2 magnetic longitude", **common},
        ),
    )


def geo_coords(
    ds: XrObj,
    *,
    altitude_km: float = 110.0,
    tolerance_km: float = 0.5,
    context: CubeContext | None = None,
    time_dim: Hashable = "time",
    y_dim: Hashable = "y",
    x_dim: Hashable = "x",
) -> XrObj:
    """Add the geographic ``latitude``/``longitude`` (y, x) of every pixel at an altitude.

    Where the cube carries an operator's per-pixel positions at that altitude
    (``skymap_latitude``/``skymap_longitude`` on ``skymap_altitude``, written by
    ingest from a skymap that gives them; pixel corners averaged to centres),
    those are used as they are. Otherwise every pixel's line of sight
    (``elevation``/``azimuth``) meets a spherical shell at ``altitude_km``
    (:func:`aurora_xr.sky.shell.sky_to_geo`). Nothing lazy is computed.

    Parameters
    ----------
    ds : xarray.Dataset or DataArray
        An image cube, or a (y, x) variable, with station and calibration attributes.
    altitude_km : float
        Height of the emission shell (110 km for 557.7 nm, about 230 km for 630.0 nm).
    tolerance_km : float
        How close a skymap altitude must be to ``altitude_km`` to be used.
    context : CubeContext, optional
        The cube's context when the caller has resolved it already.
    time_dim, y_dim, x_dim : hashable
        Dimension names.

    Returns
    -------
    xarray.Dataset or DataArray
        ``ds`` with coordinates ``latitude`` (degrees north) and ``longitude``
        (degrees east, -180..180), float32, NaN outside the field of view; their
        ``source`` attribute says ``"skymap"`` or ``"emission shell"``.
    """
    ctx = context_of(ds, context, time_dim=time_dim, y_dim=y_dim, x_dim=x_dim)
    ctx.require_calibration()
    lat: NDArray[np.floating[Any]] | None
    lon: NDArray[np.floating[Any]] | None
    lat, lon = _skymap_positions(ds, float(altitude_km), float(tolerance_km), ctx)
    source = "skymap"
    if lat is None or lon is None:
        site = ctx.require_site()
        el, az = ctx.sky_grids
        lat, lon = sky_to_geo(
            el,
            az,
            site.latitude,
            site.longitude,
            altitude_km=float(altitude_km),
            site_altitude_km=site.altitude_km,
        )
        source = "emission shell"
    common = {"altitude_km": float(altitude_km), "source": source}
    dims = (ctx.dims.y, ctx.dims.x)
    return ds.assign_coords(
        latitude=(
            dims,
            np.asarray(lat, dtype=np.float32),
            {"units": "degrees_north", "long_name": "latitude of the pixel", **common},
        ),
        longitude=(
            dims,
            np.asarray(lon, dtype=np.float32),
            {"units": "degrees_east", "long_name": "longitude of the pixel", **common},
        ),
    )


def _skymap_positions(
    ds: xr.Dataset | xr.DataArray, altitude_km: float, tolerance_km: float, ctx: CubeContext
) -> tuple[NDArray[np.float32] | None, NDArray[np.float32] | None]:
    names = (SKYMAP_LATITUDE, SKYMAP_LONGITUDE)
    if not all(n in ds.coords or (isinstance(ds, xr.Dataset) and n in ds) for n in names):
        return None, None
    if SKYMAP_ALTITUDE not in ds.coords:
        return None, None
    altitudes = np.asarray(ds[SKYMAP_ALTITUDE].values, dtype=float)
    close = np.flatnonzero(np.abs(altitudes - altitude_km) <= tolerance_km)
    if close.size == 0:
        return None, None
    pick = {SKYMAP_ALTITUDE: int(close[0])}
    order = (ctx.dims.y, ctx.dims.x)
    lat = ds[SKYMAP_LATITUDE].isel(pick).transpose(*order).values
    lon = ds[SKYMAP_LONGITUDE].isel(pick).transpose(*order).values
    return np.asarray(lat, np.float32), np.asarray(lon, np.float32)
