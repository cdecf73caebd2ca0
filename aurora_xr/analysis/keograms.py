"""Keograms: the pixels along the magnetic meridian, frame after frame.

A keogram stacks, for every frame, the line of pixels that runs from the
magnetic-north horizon through the zenith to the magnetic-south horizon, so
that one image shows how aurora moved in latitude over a night. The samples
are taken at evenly spaced zenith angles along that meridian and read from
the nearest pixel of the camera (no interpolation), so a keogram holds the
camera's own values and keeps the cube's dtype.

The camera may be an analytic lens or an operator's per-pixel skymap (any
:class:`~aurora_xr.sky.camera.Camera`): the meridian's pixels are found with the
camera's own ``sky_to_pixel``, so a skymap keogram samples the pixels the operator's
map says look along the meridian.

The result is lazy: on a dask-backed cube it is a graph that reads only the
meridian pixels of each time chunk.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..cube.context import CubeContext, context_of
from ..cube.schema import require_variable
from ..errors import MissingDimensionError, OptionError, SchemaError

__all__ = ["keogram", "meridian_samples", "resolve_north_azimuth"]

NORTH_AZIMUTH_ATTR = "magnetic_north_azimuth"


def resolve_north_azimuth(
    ds: xr.Dataset,
    *,
    north_azimuth: float | None = None,
    cells: xr.Dataset | None = None,
    time_dim: Hashable = "time",
    altitude_km: float | None = None,
    context: CubeContext | None = None,
) -> float:
    """Geographic azimuth (degrees) of magnetic north for a cube.

    Taken, in this order, from ``north_azimuth``; the attribute
    ``magnetic_north_azimuth`` of ``cells`` (the cell grid the detections
    use); that attribute of ``ds``; else computed with
    :func:`aurora_xr.geo.aacgm.magnetic_north_azimuth` for the station in the
    attributes of ``ds`` at the middle of its time span.

    Parameters
    ----------
    ds : xarray.Dataset
        An image cube (station attributes needed only for the last case).
    north_azimuth : float, optional
        Explicit value, degrees from geographic north through east.
    cells : xarray.Dataset, optional
        A cell grid from :func:`aurora_xr.cube.grid.cell_grid`.
    time_dim : hashable
        Name of the time dimension.
    altitude_km : float, optional
        Emission altitude for the computed case; default the cube's
        ``altitude_km`` attribute, else 110 km.
    context : CubeContext, optional
        The cube's context when the caller has resolved it already (its station
        and times are used for the computed case).

    Returns
    -------
    float
        Azimuth in [0, 360).
    """
    if north_azimuth is not None:
        return float(north_azimuth) % 360.0
    for source in (cells, ds):
        if source is not None and NORTH_AZIMUTH_ATTR in source.attrs:
            return float(source.attrs[NORTH_AZIMUTH_ATTR]) % 360.0
    try:
        from ..geo import aacgm as geomag
    except ImportError as exc:  # pragma: no cover - geomag ships with the package
        raise OptionError(
            "cannot find the magnetic north azimuth: pass north_azimuth= or cells= "
            f"(aurora_xr.geo.aacgm is unavailable: {exc})"
        ) from exc
    if context is not None:
        site = context.require_site()
        lat0, lon0, times = site.latitude, site.longitude, context.times
    else:  # only the station and the times are needed: no check of the frames
        from ..sky.stations import station_from_attrs

        _, lat0, lon0, _ = station_from_attrs(dict(ds.attrs))
        times = ds[time_dim].values if time_dim in ds.coords else None
    when = _middle_time(times, time_dim)
    alt = float(altitude_km if altitude_km is not None else ds.attrs.get("altitude_km", 110.0))
    return float(geomag.magnetic_north_azimuth(lat0, lon0, when=when, altitude_km=alt)) % 360.0


def _middle_time(times: np.ndarray | None, time_dim: Hashable) -> _dt.datetime:
    if times is not None:
        times = np.atleast_1d(np.asarray(times, dtype="datetime64[ns]"))
        times = times[~np.isnat(times)]
    if times is None or times.size == 0:
        raise SchemaError(
            f"expected a {time_dim!r} coordinate to date the magnetic field; found none "
            "(or pass north_azimuth=)"
        )
    middle = times[0] + (times[-1] - times[0]) // 2
    return pd.Timestamp(middle).to_pydatetime()


def meridian_samples(
    n_samples: int, *, min_elevation: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Signed zenith angles along a meridian and their elevation and side.

    Parameters
    ----------
    n_samples : int
        Number of samples (>= 2), from the northern to the southern end.
    min_elevation : float
        Elevation (degrees) of both ends.

    Returns
    -------
    meridian_angle : (n,) ndarray
        Zenith angle in degrees, positive towards magnetic north
        (``90 - min_elevation`` first, ``-(90 - min_elevation)`` last).
    elevation : (n,) ndarray
        ``90 - |meridian_angle|``.
    south : (n,) ndarray of bool
        True on the magnetic-south half.
    """
    if int(n_samples) < 2:
        raise OptionError(f"n_samples must be >= 2; found {n_samples}")
    if not 0.0 <= float(min_elevation) < 90.0:
        raise OptionError(f"min_elevation must be in [0, 90) degrees; found {min_elevation}")
    edge = 90.0 - float(min_elevation)
    angle = np.linspace(edge, -edge, int(n_samples))
    return angle, 90.0 - np.abs(angle), angle < 0


def keogram(
    ds: xr.Dataset,
    *,
    north_azimuth: float | None = None,
    cells: xr.Dataset | None = None,
    n_samples: int | None = None,
    min_elevation: float = 0.0,
    variable: Hashable = "image",
    time_dim: Hashable = "time",
    y_dim: Hashable = "y",
    x_dim: Hashable = "x",
    position_dim: Hashable = "position",
    context: CubeContext | None = None,
) -> xr.DataArray:
    """The pixels along the magnetic meridian for every frame (lazy).

    Parameters
    ----------
    ds : xarray.Dataset
        Image cube with camera calibration attributes (an analytic lens, or a
        per-pixel skymap whose grids are the cube's ``elevation``/``azimuth``).
    north_azimuth : float, optional
        Geographic azimuth of magnetic north in degrees; see
        :func:`resolve_north_azimuth` for where it comes from otherwise.
    cells : xarray.Dataset, optional
        Cell grid whose ``magnetic_north_azimuth`` attribute to use.
    n_samples : int, optional
        Samples along the meridian; default one per pixel of the horizon-to-horizon
        diameter (``2 * ceil(horizon_radius) + 1``).
    min_elevation : float
        Elevation in degrees at which the meridian starts and ends.
    variable : hashable
        Variable to sample: ``"image"`` (time, y, x, channel) or any
        (time, y, x[, ...]) variable such as ``"aurora_probability"``.
    time_dim, y_dim, x_dim : hashable
        Dimension names of the cube.
    position_dim : hashable
        Name of the new dimension along the meridian.
    context : CubeContext, optional
        The cube's context when the caller has resolved it already.

    Returns
    -------
    xarray.DataArray
        ``(time, position[, channel])`` with the dtype of ``variable`` and
        coordinates ``meridian_angle`` (signed zenith angle, positive towards
        magnetic north), ``elevation``, ``azimuth`` (geographic),
        ``pixel_x`` and ``pixel_y`` on ``position``. Samples that fall
        outside the frame or the camera's field of view are left out.
        Attribute ``magnetic_north_azimuth``.

    Examples
    --------
    >>> keo = keogram(cube, north_azimuth=67.0)  # doctest: +SKIP
    >>> keo.sel(channel="G").plot(x="time")  # doctest: +SKIP
    """
    if not isinstance(ds, xr.Dataset):
        raise SchemaError(f"expected an xarray.Dataset image cube; found {type(ds).__name__}")
    data = require_variable(ds, variable, purpose="the values to sample along the meridian")
    missing = [d for d in (time_dim, y_dim, x_dim) if d not in data.dims]
    if missing:
        raise MissingDimensionError(
            f"expected {variable!r} with dims ({time_dim!r}, {y_dim!r}, {x_dim!r}, ...); "
            f"found dims {tuple(data.dims)}"
        )
    ctx = context_of(ds, context, time_dim=time_dim, y_dim=y_dim, x_dim=x_dim)
    cal = ctx.require_calibration()
    north = resolve_north_azimuth(
        ds, north_azimuth=north_azimuth, cells=cells, time_dim=time_dim, context=ctx
    )
    if n_samples is None:
        n_samples = 2 * int(np.ceil(cal.horizon_radius)) + 1
    angle, elevation, south = meridian_samples(n_samples, min_elevation=min_elevation)
    azimuth = np.where(south, north + 180.0, north) % 360.0
    px, py = cal.sky_to_pixel(elevation, azimuth)
    xi = np.rint(px)
    yi = np.rint(py)
    height, width = data.sizes[y_dim], data.sizes[x_dim]
    with np.errstate(invalid="ignore"):  # NaN outside a skymap's field of view
        inside = (xi >= 0) & (xi <= width - 1) & (yi >= 0) & (yi <= height - 1)
    if cal.kind != "lens":  # a skymap's edge direction may round to an uncalibrated pixel
        rows, cols = (
            np.where(inside, yi, 0).astype(np.intp),
            np.where(inside, xi, 0).astype(np.intp),
        )
        inside &= ctx.sky_mask[rows, cols]
    if not inside.any():
        raise SchemaError("no point of the magnetic meridian falls inside the frame")
    xi, yi = xi[inside].astype(np.intp), yi[inside].astype(np.intp)
    coords: dict[Hashable, Any] = {
        "meridian_angle": (position_dim, angle[inside]),
        "elevation": (position_dim, elevation[inside]),
        "azimuth": (position_dim, azimuth[inside]),
        "pixel_x": (position_dim, xi),
        "pixel_y": (position_dim, yi),
    }
    indexers = {
        y_dim: xr.DataArray(yi, dims=(position_dim,)),
        x_dim: xr.DataArray(xi, dims=(position_dim,)),
    }
    out = data.isel(indexers)
    out = out.drop_vars([c for c in (y_dim, x_dim, "elevation", "azimuth") if c in out.coords])
    out = out.assign_coords(coords)
    order = [time_dim, position_dim, *[d for d in out.dims if d not in (time_dim, position_dim)]]
    out = out.transpose(*order)
    out.name = f"keogram_{variable}" if variable != "image" else "keogram"
    out.attrs = {
        **{k: v for k, v in data.attrs.items()},
        NORTH_AZIMUTH_ATTR: north,
        "min_elevation": float(min_elevation),
        "description": (
            "nearest-pixel samples along the magnetic meridian, from the magnetic-north "
            "horizon (meridian_angle > 0) through the zenith to the magnetic-south horizon"
        ),
    }
    out["meridian_angle"].attrs = {
        "long_name": "zenith angle along the magnetic meridian, positive towards magnetic north",
        "units": "degree",
    }
    out["elevation"].attrs = {"long_name": "elevation", "units": "degree"}
    out["azimuth"].attrs = {"long_name": "geographic azimuth", "units": "degree"}
    return out
