"""Per-frame geophysical quantities of a cube, lazily over its time chunks.

Magnetic local time of the station and the elevations of the sun and the
moon depend only on the frame times and the station. They are computed by
:mod:`aurora_xr.geo.aacgm`; this module wraps those numpy functions so that they
follow the time chunks of the cube (a dask array when the cube is chunked,
numpy when it is in memory). A variable already in the cube (``mlt``,
``sun_elevation``, ``moon_elevation``) is used as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr
from numpy.typing import NDArray

from ..errors import MissingDimensionError, MissingVariableError
from ..sky.stations import station_from_attrs

__all__ = ["frame_mlt", "frame_moon_elevation", "frame_sun_elevation", "per_frame", "time_chunks"]


def time_chunks(
    ds: xr.Dataset | xr.DataArray, *, time_dim: Hashable = "time"
) -> tuple[int, ...] | None:
    """The dask chunks of ``ds`` along ``time_dim`` (None when nothing is chunked)."""
    variables = [ds.variable] if isinstance(ds, xr.DataArray) else list(ds.variables.values())
    for var in variables:
        if time_dim in var.dims and var.chunks is not None:
            return tuple(var.chunks[var.dims.index(time_dim)])
    return None


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
    On a chunked cube it runs lazily as one task over all times (the geomag
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


def frame_mlt(
    ds: xr.Dataset, *, altitude_km: float = 110.0, time_dim: Hashable = "time"
) -> xr.DataArray:
    """Magnetic local time of the station (hours in [0, 24)) for every frame.

    Uses the cube's ``mlt`` variable if it has one, else
    :func:`aurora_xr.geo.aacgm.station_mlt` with the station in the attributes.
    """
    found = _existing(ds, "mlt", time_dim)
    if found is not None:
        return found
    from ..geo import aacgm as geomag

    _, lat, lon, _ = station_from_attrs(dict(ds.attrs))

    def mlt(times: NDArray[np.datetime64]) -> NDArray[Any]:
        return np.asarray(geomag.station_mlt(times, lat, lon, altitude_km=altitude_km))

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


def frame_sun_elevation(ds: xr.Dataset, *, time_dim: Hashable = "time") -> xr.DataArray:
    """Elevation of the sun's centre at the station (degrees) for every frame."""
    found = _existing(ds, "sun_elevation", time_dim)
    if found is not None:
        return found
    from ..geo import aacgm as geomag

    _, lat, lon, alt_km = station_from_attrs(dict(ds.attrs))

    def sun(times: NDArray[np.datetime64]) -> NDArray[Any]:
        return np.asarray(geomag.sun_elevation(times, lat, lon, altitude_m=alt_km * 1000.0))

    return per_frame(
        ds,
        sun,
        name="sun_elevation",
        time_dim=time_dim,
        attrs={"long_name": "elevation of the sun", "units": "degree"},
    )


def frame_moon_elevation(ds: xr.Dataset, *, time_dim: Hashable = "time") -> xr.DataArray:
    """Elevation of the moon's centre at the station (degrees) for every frame."""
    found = _existing(ds, "moon_elevation", time_dim)
    if found is not None:
        return found
    from ..geo import aacgm as geomag

    _, lat, lon, alt_km = station_from_attrs(dict(ds.attrs))

    def moon(times: NDArray[np.datetime64]) -> NDArray[Any]:
        elevation = geomag.moon_position(times, lat, lon, altitude_m=alt_km * 1000.0)[0]
        return np.asarray(elevation)

    return per_frame(
        ds,
        moon,
        name="moon_elevation",
        time_dim=time_dim,
        attrs={"long_name": "elevation of the moon", "units": "degree"},
    )
