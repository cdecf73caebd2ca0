"""Per-frame geophysical quantities of a cube, lazily over its time chunks.

Magnetic local time of the station and the elevations of the sun and the
moon depend only on the frame times and the station. They are computed by
:mod:`aurora_xr.geo.mlt` and :mod:`aurora_xr.sky.astronomy`; this module wraps those
numpy functions so that they
follow the time chunks of the cube (a dask array when the cube is chunked,
numpy when it is in memory). A variable already in the cube (``mlt``,
``sun_elevation``, ``moon_elevation``) is used as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, overload

import dask.array as da
import numpy as np
import xarray as xr
from numpy.typing import NDArray

from ..errors import MissingDimensionError, MissingVariableError, OptionError
from ..geo.mlt import station_mlt
from ..sky.astronomy import moon_position, sun_elevation_at
from .context import CubeContext, Site, context_of, time_chunks

__all__ = [
    "frame_mlt",
    "frame_moon_elevation",
    "frame_sun_elevation",
    "mlt",
    "moon",
    "per_frame",
    "sun_elevation",
]


def per_frame(
    ds: xr.Dataset | xr.DataArray,
    func: Callable[[NDArray[np.datetime64]], NDArray[Any]],
    *,
    name: str,
    attrs: dict[str, Any] | None = None,
    time_dim: Hashable = "time",
    dtype: Any = np.float64,
) -> xr.DataArray:
    """``func(times)`` as a DataArray on ``time_dim``, chunked like ``ds``.

    ``func`` maps a 1-D datetime64 array to a 1-D array of the same length.
    On a chunked cube it runs lazily as one task over all times (the kernels
    functions are vectorised: a million times take seconds in one call, far
    longer in thousands of small ones), then is split into the cube's chunks.
    """
    if time_dim not in ds.coords:
        raise MissingVariableError(f"expected a {time_dim!r} coordinate; found none")
    times = ds[time_dim]
    chunks = time_chunks(ds, time_dim=time_dim)
    values: Any
    if chunks is None:
        values = np.asarray(func(times.values), dtype=dtype)
    else:
        lazy_times = da.from_array(times.values, chunks=-1)
        values = lazy_times.map_blocks(
            lambda t: np.asarray(func(t), dtype=dtype), dtype=dtype, meta=np.array((), dtype)
        ).rechunk((chunks,))
    return xr.DataArray(
        values, dims=(time_dim,), coords={time_dim: times}, name=name, attrs=attrs or {}
    )


def _existing(ds: xr.Dataset, name: str, time_dim: Hashable) -> xr.DataArray | None:
    if isinstance(ds, xr.Dataset) and name in ds.variables:
        var = ds[name]
        if tuple(var.dims) != (time_dim,):
            raise MissingDimensionError(
                f"expected {name!r} on dims ({time_dim!r},); found {tuple(var.dims)}"
            )
        return var
    return None


def _site(ds: xr.Dataset, context: CubeContext | None, time_dim: Hashable) -> Site:
    ctx = context_of(ds, context, time_dim=time_dim)
    return ctx.require_site()


def frame_mlt(
    ds: xr.Dataset,
    *,
    altitude_km: float = 110.0,
    context: CubeContext | None = None,
    time_dim: Hashable = "time",
) -> xr.DataArray:
    """Magnetic local time of the station (hours in [0, 24)) for every frame.

    Uses the cube's ``mlt`` variable if it has one, else
    :func:`aurora_xr.geo.mlt.station_mlt` with the station of the cube's context.
    """
    found = _existing(ds, "mlt", time_dim)
    if found is not None:
        return found
    site = _site(ds, context, time_dim)

    def mlt(times: NDArray[np.datetime64]) -> NDArray[Any]:
        return station_mlt(times, site.latitude, site.longitude, altitude_km=altitude_km)

    return per_frame(
        ds,
        mlt,
        name="mlt",
        time_dim=time_dim,
        attrs={
            "long_name": "magnetic local time of the station",
            "units": "hours",
            "altitude_km": float(altitude_km),
        },
    )


def frame_sun_elevation(
    ds: xr.Dataset, *, context: CubeContext | None = None, time_dim: Hashable = "time"
) -> xr.DataArray:
    """Elevation of the sun's centre at the station (degrees) for every frame."""
    found = _existing(ds, "sun_elevation", time_dim)
    if found is not None:
        return found
    site = _site(ds, context, time_dim)

    def sun(times: NDArray[np.datetime64]) -> NDArray[Any]:
        return sun_elevation_at(
            times, site.latitude, site.longitude, altitude_m=site.altitude_km * 1000.0
        )

    return per_frame(
        ds,
        sun,
        name="sun_elevation",
        time_dim=time_dim,
        attrs={"long_name": "elevation of the sun", "units": "degree"},
    )


def frame_moon_elevation(
    ds: xr.Dataset, *, context: CubeContext | None = None, time_dim: Hashable = "time"
) -> xr.DataArray:
    """Elevation of the moon's centre at the station (degrees) for every frame."""
    found = _existing(ds, "moon_elevation", time_dim)
    if found is not None:
        return found
    site = _site(ds, context, time_dim)

    def moon(times: NDArray[np.datetime64]) -> NDArray[Any]:
        alt_m = site.altitude_km * 1000.0
        return moon_position(times, site.latitude, site.longitude, altitude_m=alt_m)[0]

    return per_frame(
        ds,
        moon,
        name="moon_elevation",
        time_dim=time_dim,
        attrs={"long_name": "elevation of the moon", "units": "degree"},
    )


# -- the same quantities computed now, as DataArrays on time --------------------------
def _per_frame(
    ds: xr.Dataset | xr.DataArray, ctx: CubeContext, values: Any, name: str, attrs: dict[str, Any]
) -> xr.DataArray:
    time_dim = ctx.dims.time
    return xr.DataArray(
        values, dims=(time_dim,), coords={time_dim: ds[time_dim]}, name=name, attrs=attrs
    )


def mlt(
    ds: xr.Dataset | xr.DataArray,
    *,
    altitude_km: float = 110.0,
    context: CubeContext | None = None,
    time_dim: Hashable = "time",
) -> xr.DataArray:
    """Magnetic local time over the station for every frame of a cube.

    Parameters
    ----------
    ds : xarray.Dataset or DataArray
        An object with a ``time_dim`` coordinate and station attributes.
    altitude_km : float
        Height of the emission shell.
    context : CubeContext, optional
        The cube's context when the caller has resolved it already.
    time_dim : hashable
        Time dimension.

    Returns
    -------
    xarray.DataArray
        ``mlt`` on ``time_dim`` in hours ``[0, 24)``.
    """
    ctx = context_of(ds, context, time_dim=time_dim)
    site = ctx.require_site()
    values = station_mlt(
        ctx.require_times(), site.latitude, site.longitude, altitude_km=altitude_km
    )
    attrs = {
        "units": "h",
        "long_name": "magnetic local time (AACGM-v2) over the station",
        "altitude_km": float(altitude_km),
        "station_code": site.code,
    }
    return _per_frame(ds, ctx, values, "mlt", attrs)


@overload
def sun_elevation(
    times: xr.Dataset | xr.DataArray,
    lat0: None = None,
    lon0: None = None,
    *,
    altitude_m: float | None = None,
    context: CubeContext | None = None,
    time_dim: Hashable = "time",
    step_minutes: float = 180.0,
) -> xr.DataArray: ...


@overload
def sun_elevation(
    times: Any,
    lat0: float,
    lon0: float,
    *,
    altitude_m: float | None = None,
    context: CubeContext | None = None,
    time_dim: Hashable = "time",
    step_minutes: float = 180.0,
) -> NDArray[np.float64]: ...


def sun_elevation(
    times: Any,
    lat0: float | None = None,
    lon0: float | None = None,
    *,
    altitude_m: float | None = None,
    context: CubeContext | None = None,
    time_dim: Hashable = "time",
    step_minutes: float = 180.0,
) -> NDArray[np.float64] | xr.DataArray:
    """Elevation of the Sun's centre (degrees, no refraction) seen from a site.

    Two forms:

    * ``sun_elevation(times, lat0, lon0, altitude_m=0.)`` on an array of times
      returns an ndarray of the same shape;
    * ``sun_elevation(cube)`` on an image cube (station from its attributes)
      returns a DataArray ``sun_elevation`` on ``time_dim``.

    The solar position comes from astropy (``get_sun`` in the observer's
    hour-angle frame) on nodes ``step_minutes`` apart, interpolated with the
    Earth's rotation taken out (error below 1e-4°); a million times take
    seconds. No download is attempted.

    Parameters
    ----------
    times : datetime-like array, or xarray.Dataset / DataArray
        Times in UTC, or an image cube.
    lat0, lon0 : float
        Geographic position of the site (degrees); not used with a cube.
    altitude_m : float, optional
        Height of the site (default 0, or the cube's station altitude).
    context : CubeContext, optional
        The cube's context when the caller has resolved it already.
    time_dim : hashable
        Time dimension of a cube.
    step_minutes : float
        Spacing of the astropy nodes.

    Returns
    -------
    ndarray or xarray.DataArray
        Degrees.
    """
    if isinstance(times, xr.Dataset | xr.DataArray) and lat0 is None and lon0 is None:
        ctx = context_of(times, context, time_dim=time_dim)
        site = ctx.require_site()
        alt_m = site.altitude_km * 1000.0 if altitude_m is None else float(altitude_m)
        values = sun_elevation_at(
            ctx.require_times(),
            site.latitude,
            site.longitude,
            altitude_m=alt_m,
            step_minutes=step_minutes,
        )
        attrs = {
            "units": "degree",
            "long_name": "elevation of the Sun's centre (astropy, no refraction)",
            "station_code": site.code,
        }
        return _per_frame(times, ctx, values, "sun_elevation", attrs)
    if lat0 is None or lon0 is None:
        raise OptionError(
            "expected lat0 and lon0 with an array of times (or an image cube with station "
            "attributes); found none"
        )
    return sun_elevation_at(
        times,
        lat0,
        lon0,
        altitude_m=0.0 if altitude_m is None else altitude_m,
        step_minutes=step_minutes,
    )


def moon(
    ds: xr.Dataset | xr.DataArray,
    *,
    context: CubeContext | None = None,
    time_dim: Hashable = "time",
    step_minutes: float = 120.0,
) -> xr.Dataset:
    """Position and phase of the Moon for every frame of a cube.

    Parameters
    ----------
    ds : xarray.Dataset or DataArray
        An object with a ``time_dim`` coordinate and station attributes.
    context : CubeContext, optional
        The cube's context when the caller has resolved it already.
    time_dim : hashable
        Time dimension.
    step_minutes : float
        Spacing of the astropy nodes (see :func:`aurora_xr.sky.astronomy.moon_position`).

    Returns
    -------
    xarray.Dataset
        ``moon_elevation``, ``moon_azimuth`` (degrees) and ``moon_illumination``
        (illuminated fraction) on ``time_dim``.
    """
    ctx = context_of(ds, context, time_dim=time_dim)
    site = ctx.require_site()
    el, az, illum = moon_position(
        ctx.require_times(),
        site.latitude,
        site.longitude,
        altitude_m=site.altitude_km * 1000.0,
        step_minutes=step_minutes,
    )
    out = xr.Dataset(
        {
            "moon_elevation": _per_frame(
                ds,
                ctx,
                el,
                "moon_elevation",
                {"units": "degree", "long_name": "elevation of the Moon's centre"},
            ),
            "moon_azimuth": _per_frame(
                ds,
                ctx,
                az,
                "moon_azimuth",
                {"units": "degree", "long_name": "azimuth of the Moon (from north through east)"},
            ),
            "moon_illumination": _per_frame(
                ds,
                ctx,
                illum,
                "moon_illumination",
                {"units": "1", "long_name": "illuminated fraction of the Moon's disc"},
            ),
        },
        attrs={"station_code": site.code, "source": "astropy get_body('moon'), topocentric"},
    )
    return out
