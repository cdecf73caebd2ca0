"""Magnetic coordinates (AACGM-v2), magnetic local time, and the Sun and Moon.

Two layers live here:

* numpy functions on plain arrays of positions and times (:func:`aacgm_coords`,
  :func:`pixel_magnetic_coords`, :func:`magnetic_north_azimuth`,
  :func:`station_mlt`, :func:`mlt_of_mlon`, :func:`sun_elevation`,
  :func:`moon_position`, :func:`check_date_range`);
* public functions on an image cube (:func:`magnetic_coords`, :func:`mlt`,
  :func:`sun_elevation` given a Dataset, :func:`moon`) that read the station and
  the calibration from the attributes and never touch the image data.

The Sun and Moon kernels (astropy, offline, sampled on nodes) live in
:mod:`aurora_xr.sky.astronomy`: :func:`sun_elevation` on an array of times calls
:func:`aurora_xr.sky.astronomy.sun_elevation_at`, and :func:`moon_position` is
re-exported from there.

Speed
-----
AACGM-v2 (``aacgmv2``) converts a whole pixel grid in well under a second, so the
grid is converted once per epoch (the magnetic field moves about 0.05° a year)
and cached, never per frame. Magnetic local time is linear in magnetic
longitude, ``MLT(t) = MLT_0(t) + mlon / 15`` (mod 24), so ``MLT_0`` (the MLT of
magnetic longitude 0) is evaluated with ``aacgmv2.convert_mlt`` only on a coarse
grid of node times and interpolated with a local cubic (4-point Lagrange)
interpolant (see :mod:`aurora_xr.sky.astronomy` for the Sun and Moon, sampled the
same way). Short or sparse inputs are evaluated directly at their own times.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any, TypeVar, overload

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike, NDArray

from .._times import as_datetime64, sample_on_nodes, step_ns
from ..cube.schema import check_times, validate_cube
from ..errors import (
    DateRangeError,
    FrameSizeError,
    MissingDimensionError,
    MissingVariableError,
    OptionError,
    SchemaError,
)
from ..sky.astronomy import moon_position, sun_elevation_at
from ..sky.lens import Calibration, require_calibration, sky_grids
from ..sky.shell import destination, sky_to_geo
from ..sky.stations import station_from_attrs

__all__ = [
    "AACGM_VALID_END",
    "AACGM_VALID_START",
    "aacgm_coords",
    "check_date_range",
    "cube_epoch",
    "epoch_of",
    "magnetic_coords",
    "magnetic_north_azimuth",
    "mlt",
    "mlt_of_mlon",
    "moon",
    "moon_position",
    "pixel_magnetic_coords",
    "sky_grids_of",
    "station_mlt",
    "sun_elevation",
]

AACGM_VALID_START = np.datetime64("1990-01-01T00:00:00", "ns")
"""First instant AACGM-v2 (IGRF-14 with secular variation) accepts."""

AACGM_VALID_END = np.datetime64("2030-01-01T00:00:00", "ns")
"""First instant after the AACGM-v2 range (aacgmv2 refuses dates from 2030 on)."""

AACGM_MAX_ALTITUDE_KM = 2000.0
"""Highest altitude for which aacgmv2 uses its coefficients (tracing is not used)."""

# aacgmv2 keeps its date in global C state: never call it from two threads at once.
_AACGM_LOCK = threading.RLock()
_PIXEL_CACHE: OrderedDict[Hashable, tuple[NDArray[np.float32], NDArray[np.float32]]] = OrderedDict()
_PIXEL_CACHE_SIZE = 8

XrObj = TypeVar("XrObj", xr.Dataset, xr.DataArray)


# -- times and epochs ---------------------------------------------------------------
def _to_datetime(value: Any) -> dt.datetime:
    """A naive datetime (microsecond precision) from a datetime64."""
    micro = int(np.asarray(value).astype("datetime64[us]").astype(np.int64))
    return dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=micro)


def check_date_range(times: Any) -> None:
    """Raise :class:`~aurora_xr.errors.DateRangeError` for times outside AACGM-v2's range.

    AACGM-v2 (IGRF-14 with its secular variation, as bundled in aacgmv2) is valid
    from 1990-01-01 up to, not including, 2030-01-01.

    Parameters
    ----------
    times : datetime-like or array of them
        Times in UTC.

    Raises
    ------
    DateRangeError
        If any time (or NaT) lies outside ``[1990-01-01, 2030-01-01)``.
    """
    t = as_datetime64(times).ravel()
    if t.size == 0:
        return
    if np.isnat(t).any():
        raise DateRangeError("expected valid times for AACGM-v2; found NaT (a missing time)")
    lo, hi = t.min(), t.max()
    if lo < AACGM_VALID_START or hi >= AACGM_VALID_END:
        bad = lo if lo < AACGM_VALID_START else hi
        raise DateRangeError(
            "AACGM-v2 is valid from 1990-01-01 to 2029-12-31 (up to 2030-01-01); "
            f"found {np.datetime_as_string(bad, unit='s')} "
            f"(times span {np.datetime_as_string(lo, unit='s')} .. "
            f"{np.datetime_as_string(hi, unit='s')})"
        )


def epoch_of(when: Any) -> dt.datetime:
    """The AACGM epoch for ``when``: mid-year (2 July) for a year, else the time itself.

    Parameters
    ----------
    when : int, str, datetime, datetime64 or pandas Timestamp
        A year (``2020``) or a time in UTC.

    Returns
    -------
    datetime.datetime
        Naive UTC datetime inside the AACGM-v2 range.
    """
    if when is None:
        raise OptionError("expected an epoch (a year or a datetime) for AACGM-v2; found None")
    if isinstance(when, bool):
        raise OptionError(f"expected an epoch (a year or a datetime); found {when!r}")
    if isinstance(when, int | np.integer):
        when = np.datetime64(f"{int(when):04d}-07-02T00:00:00", "ns")
    t = as_datetime64(when, name="when")
    if t.shape != ():
        if t.size != 1:
            raise OptionError(f"expected one epoch; found {t.size} times")
        t = t.reshape(())
    check_date_range(t)
    return _to_datetime(t)


def _mid_year(times: NDArray[np.datetime64]) -> dt.datetime:
    """Mid-year epoch of the year in the middle of a span of times."""
    t = times.astype("datetime64[ns]").ravel()
    lo, hi = t.min(), t.max()
    middle = lo + (hi - lo) // 2
    return epoch_of(int(str(np.datetime64(middle, "Y"))))


# -- AACGM ----------------------------------------------------------------------------
def _check_altitude(altitude_km: float) -> float:
    alt = float(altitude_km)
    if not 0.0 <= alt <= AACGM_MAX_ALTITUDE_KM:
        raise OptionError(
            f"expected an altitude between 0 and {AACGM_MAX_ALTITUDE_KM:g} km for AACGM-v2 "
            f"coefficients; found {altitude_km} km"
        )
    return alt


def aacgm_coords(
    lat: ArrayLike, lon: ArrayLike, *, altitude_km: float, when: Any
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """AACGM-v2 magnetic latitude and longitude of geographic positions.

    Parameters
    ----------
    lat, lon : array_like
        Geographic (geodetic) latitude and longitude in degrees, any shape
        (broadcast together); NaN gives NaN.
    altitude_km : float
        Height above the ground, 0..2000 km.
    when : year, datetime or datetime64
        Epoch of the magnetic field (see :func:`epoch_of`).

    Returns
    -------
    mlat, mlon : ndarray of float64
        Degrees; ``mlon`` in ``[-180, 180)``.

    Examples
    --------
    >>> mlat, mlon = aacgm_coords(-74.62, 164.22, altitude_km=110.0,
    ...                           when="2020-07-02T07:02")
    >>> round(float(mlat), 2), round(float(mlon), 2)
    (-79.89, -53.98)
    """
    import aacgmv2

    epoch = epoch_of(when)
    alt = _check_altitude(altitude_km)
    la, lo = np.broadcast_arrays(np.asarray(lat, dtype=float), np.asarray(lon, dtype=float))
    with np.errstate(invalid="ignore"):
        if np.any(np.abs(la) > 90.0):
            raise OptionError(
                f"expected latitudes in [-90, 90]; found {float(np.nanmax(np.abs(la)))}"
            )
    ok = np.isfinite(la) & np.isfinite(lo)
    mlat = np.full(la.shape, np.nan)
    mlon = np.full(la.shape, np.nan)
    if ok.any():
        with _AACGM_LOCK:
            out_lat, out_lon, _ = aacgmv2.convert_latlon_arr(
                la[ok].ravel(), lo[ok].ravel(), alt, epoch, method_code="G2A"
            )
        mlat[ok] = np.asarray(out_lat, dtype=float)
        mlon[ok] = np.mod(np.asarray(out_lon, dtype=float) + 180.0, 360.0) - 180.0
    return mlat, mlon


def pixel_magnetic_coords(
    elevation: ArrayLike,
    azimuth: ArrayLike,
    lat0: float,
    lon0: float,
    *,
    altitude_km: float = 110.0,
    site_altitude_km: float = 0.0,
    when: Any,
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """AACGM-v2 coordinates of the emission-shell points seen by every pixel.

    Computed once per epoch: results are cached for the same grids, site,
    altitude and epoch, so calling it for every plot or chunk costs nothing.

    Parameters
    ----------
    elevation, azimuth : (H, W) array_like
        Degrees; NaN outside the lens circle.
    lat0, lon0 : float
        Geographic position of the camera (degrees).
    altitude_km : float
        Height of the emission shell (110 km for 557.7 nm).
    site_altitude_km : float
        Height of the camera.
    when : year, datetime or datetime64
        Epoch (see :func:`epoch_of`).

    Returns
    -------
    mlat, mlon : (H, W) ndarray of float32
        Degrees; NaN where the elevation is NaN.
    """
    el = np.asarray(elevation, dtype=np.float64)
    az = np.asarray(azimuth, dtype=np.float64)
    if el.shape != az.shape:
        raise SchemaError(
            f"expected elevation and azimuth of the same shape; found {el.shape} and {az.shape}"
        )
    epoch = epoch_of(when)
    digest = hashlib.sha1(np.ascontiguousarray(el).tobytes())
    digest.update(np.ascontiguousarray(az).tobytes())
    key = (
        digest.hexdigest(),
        el.shape,
        float(lat0),
        float(lon0),
        float(altitude_km),
        float(site_altitude_km),
        epoch,
    )
    with _AACGM_LOCK:
        cached = _PIXEL_CACHE.get(key)
        if cached is None:
            lat, lon = sky_to_geo(
                el, az, lat0, lon0, altitude_km=altitude_km, site_altitude_km=site_altitude_km
            )
            mlat, mlon = aacgm_coords(lat, lon, altitude_km=altitude_km, when=epoch)
            cached = (mlat.astype(np.float32), mlon.astype(np.float32))
            _PIXEL_CACHE[key] = cached
            while len(_PIXEL_CACHE) > _PIXEL_CACHE_SIZE:
                _PIXEL_CACHE.popitem(last=False)
        else:
            _PIXEL_CACHE.move_to_end(key)
        return cached[0].copy(), cached[1].copy()


def magnetic_north_azimuth(
    lat0: float, lon0: float, *, when: Any, altitude_km: float = 110.0
) -> float:
    """Geographic azimuth of "magnetic north" above a site.

    The direction (degrees from geographic north through east) in which the
    AACGM-v2 latitude increases fastest at the emission-shell point over the
    site. In the southern hemisphere that is equatorward (away from the
    magnetic pole).

    Parameters
    ----------
    lat0, lon0 : float
        Geographic position of the site (degrees).
    when : year, datetime or datetime64
        Epoch (see :func:`epoch_of`).
    altitude_km : float
        Height of the emission shell.

    Returns
    -------
    float
        Azimuth in ``[0, 360)``.
    """
    step = 0.05  # degrees of arc: 5.6 km, far below the scale of the field
    lat, lon = destination(lat0, lon0, np.array([0.0, 90.0, 180.0, 270.0]), step)
    mlat, _ = aacgm_coords(lat, lon, altitude_km=altitude_km, when=when)
    d_north = mlat[0] - mlat[2]
    d_east = mlat[1] - mlat[3]
    if not (np.isfinite(d_north) and np.isfinite(d_east)) or d_north == d_east == 0.0:
        raise OptionError(
            f"AACGM-v2 gives no magnetic latitude gradient at ({lat0}, {lon0}); "
            "the site may lie where AACGM is undefined (near the magnetic equator)"
        )
    return float(np.mod(np.degrees(np.arctan2(d_east, d_north)), 360.0))


# -- magnetic local time ------------------------------------------------------------
def _mlt_at_zero_mlon(t_ns: NDArray[np.int64]) -> list[NDArray[np.float64]]:
    """MLT of magnetic longitude 0 at exact times (aacgmv2; whole seconds)."""
    import aacgmv2

    stamps = np.asarray(t_ns, dtype=np.int64).astype("datetime64[ns]")
    dtimes = stamps.astype("datetime64[us]").astype(object)
    with _AACGM_LOCK:
        values = aacgmv2.convert_mlt(np.zeros(dtimes.size), dtimes, m2a=False)
    return [np.asarray(values, dtype=float)]


def _mlt0(t: NDArray[np.datetime64], step_minutes: float) -> NDArray[np.float64]:
    t_ns = t.astype("datetime64[ns]").astype(np.int64)
    return sample_on_nodes(t_ns, step_ns(step_minutes), _mlt_at_zero_mlon, [24.0])[0]


def mlt_of_mlon(mlon: ArrayLike, times: Any, *, step_minutes: float = 30.0) -> NDArray[np.float64]:
    """Magnetic local time of magnetic longitudes at times (AACGM-v2, vectorised).

    Uses ``MLT = MLT_0(t) + mlon / 15`` (mod 24), with ``MLT_0`` from
    ``aacgmv2.convert_mlt`` on nodes ``step_minutes`` apart and a cubic between
    them (interpolation error below 0.001 h).

    Parameters
    ----------
    mlon : array_like
        Magnetic longitudes in degrees; broadcast against ``times``.
    times : datetime-like array
        Times in UTC, inside the AACGM-v2 range.
    step_minutes : float
        Node spacing.

    Returns
    -------
    ndarray of float64
        Hours in ``[0, 24)``, of the broadcast shape.
    """
    t = as_datetime64(times)
    check_date_range(t)
    lon = np.asarray(mlon, dtype=float)
    if t.size == 0:
        return np.zeros(np.broadcast_shapes(lon.shape, t.shape))
    mlt0 = _mlt0(t, step_minutes)
    return np.mod(mlt0 + lon / 15.0, 24.0)


@functools.lru_cache(maxsize=512)
def _site_mlon(lat0: float, lon0: float, altitude_km: float, t_ns: int) -> float:
    """AACGM-v2 longitude over a site at one instant (cached: used once per epoch year)."""
    when = np.datetime64(t_ns, "ns")
    return float(aacgm_coords(lat0, lon0, altitude_km=altitude_km, when=when)[1])


def _station_mlon(
    t: NDArray[np.datetime64], lat0: float, lon0: float, altitude_km: float
) -> NDArray[np.float64]:
    """Magnetic longitude of the shell point over a site, per epoch year.

    Evaluated on 1 January of every year spanned (and of the year after, or the
    last valid second of 2029) and interpolated linearly in between, as
    AACGM-v2 itself interpolates its coefficients linearly in time.
    """
    first = int(t.min().astype("datetime64[Y]").astype(np.int64)) + 1970
    last = int(t.max().astype("datetime64[Y]").astype(np.int64)) + 1971
    node_t = np.array(
        [np.datetime64(f"{year:04d}-01-01T00:00:00", "ns") for year in range(first, last + 1)]
    )
    node_t = np.minimum(node_t, AACGM_VALID_END - np.timedelta64(1, "s"))
    mlons = np.array(
        [
            _site_mlon(float(lat0), float(lon0), float(altitude_km), int(n))
            for n in node_t.astype(np.int64)
        ]
    )
    unwrapped = np.unwrap(mlons, period=360.0)
    values = np.interp(
        t.astype("datetime64[ns]").astype(np.int64), node_t.astype(np.int64), unwrapped
    )
    return np.asarray(np.mod(values + 180.0, 360.0) - 180.0, dtype=float)


def station_mlt(
    times: Any,
    lat0: float,
    lon0: float,
    *,
    altitude_km: float = 110.0,
    step_minutes: float = 30.0,
) -> NDArray[np.float64]:
    """Magnetic local time over a site, fast for millions of times.

    The site's AACGM-v2 magnetic longitude at ``altitude_km`` is computed once
    per year (on 1 January, interpolated in between) and converted to MLT through
    :func:`mlt_of_mlon`; 1.5 million one-minute times take about a second.
    Agrees with ``aacgmv2.convert_mlt`` called directly to better than 0.001 h.

    Parameters
    ----------
    times : datetime-like array
        Times in UTC inside the AACGM-v2 range (any shape).
    lat0, lon0 : float
        Geographic position of the site (degrees).
    altitude_km : float
        Height of the emission shell.
    step_minutes : float
        Spacing of the nodes on which ``aacgmv2.convert_mlt`` is called.

    Returns
    -------
    ndarray of float64
        Hours in ``[0, 24)``, same shape as ``times``.

    Raises
    ------
    DateRangeError
        For times outside 1990-01-01 .. 2029-12-31.

    Examples
    --------
    >>> round(float(station_mlt(["2020-07-02T07:02"], -74.62, 164.22)[0]), 2)
    22.47
    """
    t = as_datetime64(times)
    check_date_range(t)
    _check_altitude(altitude_km)
    if t.size == 0:
        return np.zeros(t.shape)
    mlon = _station_mlon(t, lat0, lon0, altitude_km)
    return np.mod(_mlt0(t, step_minutes) + mlon / 15.0, 24.0)


# -- the Sun and the Moon (astropy, in aurora_xr.sky.astronomy) ----------------------------
@overload
def sun_elevation(
    times: xr.Dataset | xr.DataArray,
    lat0: None = None,
    lon0: None = None,
    *,
    altitude_m: float | None = None,
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
    time_dim: Hashable = "time",
    step_minutes: float = 180.0,
) -> NDArray[np.float64]: ...


def sun_elevation(
    times: Any,
    lat0: float | None = None,
    lon0: float | None = None,
    *,
    altitude_m: float | None = None,
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
        return _sun_elevation_of(
            times, altitude_m=altitude_m, time_dim=time_dim, step_minutes=step_minutes
        )
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


# -- public functions on image cubes ------------------------------------------------
def _calibration_of(
    obj: xr.Dataset | xr.DataArray, y_dim: Hashable, x_dim: Hashable
) -> Calibration:
    """Check the frame size of a cube (or a (y, x) variable) against its calibration."""
    if isinstance(obj, xr.Dataset) and "image" in obj.variables:
        cal = validate_cube(obj, y_dim=y_dim, x_dim=x_dim)
        assert cal is not None
        return cal
    cal = require_calibration(dict(obj.attrs))
    missing = [d for d in (y_dim, x_dim) if d not in obj.dims]
    if missing:
        raise MissingDimensionError(
            f"expected image dims ({y_dim!r}, {x_dim!r}); found dims {tuple(obj.dims)}"
        )
    height, width = obj.sizes[y_dim], obj.sizes[x_dim]
    if (cal.width, cal.height) != (width, height):
        raise FrameSizeError(
            f"the calibration is for {cal.width}x{cal.height} frames; "
            f"found frames of {width}x{height}"
        )
    return cal


def _in_memory(var: xr.DataArray) -> bool:
    """True unless the variable is a lazy (dask) array that would need a compute."""
    return var.chunks is None


def sky_grids_of(
    obj: xr.Dataset | xr.DataArray,
    cal: Calibration,
    *,
    y_dim: Hashable = "y",
    x_dim: Hashable = "x",
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Elevation and azimuth (H, W) of a cube without computing anything lazy.

    The cube's ``elevation``/``azimuth`` coordinates are used when they are in
    memory; lazy (dask) ones are recomputed from the calibration they were
    made from, so that nothing is computed.
    """
    names = ("elevation", "azimuth")
    if all(n in obj.coords or (isinstance(obj, xr.Dataset) and n in obj) for n in names):
        el_var, az_var = obj[names[0]], obj[names[1]]
        if _in_memory(el_var) and _in_memory(az_var):
            for var in (el_var, az_var):
                if tuple(var.dims) != (y_dim, x_dim):
                    raise MissingDimensionError(
                        f"expected {var.name!r} on dims ({y_dim!r}, {x_dim!r}); found {var.dims}"
                    )
            return (
                np.asarray(el_var.values, dtype=np.float64),
                np.asarray(az_var.values, dtype=np.float64),
            )
    el, az = sky_grids(cal)
    return el.astype(np.float64), az.astype(np.float64)


def _site(obj: xr.Dataset | xr.DataArray) -> tuple[str, float, float, float]:
    return station_from_attrs(dict(obj.attrs))


def _time_values(obj: xr.Dataset | xr.DataArray, time_dim: Hashable) -> NDArray[np.datetime64]:
    if time_dim not in obj.coords:
        raise MissingVariableError(f"expected a {time_dim!r} coordinate; found none")
    times = obj[time_dim]
    check_times(times, name=str(time_dim))
    return np.asarray(times.values, dtype="datetime64[ns]")


def cube_epoch(
    obj: xr.Dataset | xr.DataArray, when: Any = None, *, time_dim: Hashable = "time"
) -> dt.datetime:
    """The AACGM epoch for a cube: ``when`` if given, else mid-year of its middle time."""
    if when is not None:
        return epoch_of(when)
    times = _time_values(obj, time_dim)
    if times.size == 0:
        raise OptionError(
            f"the cube has no {time_dim!r} values to take the AACGM epoch from; pass when="
        )
    check_date_range(times)
    return _mid_year(times)


def magnetic_coords(
    ds: XrObj,
    *,
    altitude_km: float = 110.0,
    when: Any = None,
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
    time_dim, y_dim, x_dim : hashable
        Dimension names.

    Returns
    -------
    xarray.Dataset or DataArray
        ``ds`` with coordinates ``mlat`` and ``mlon`` (float32, degrees, NaN
        outside the lens circle).
    """
    cal = _calibration_of(ds, y_dim, x_dim)
    _, lat0, lon0, site_km = _site(ds)
    epoch = cube_epoch(ds, when, time_dim=time_dim)
    el, az = sky_grids_of(ds, cal, y_dim=y_dim, x_dim=x_dim)
    mlat, mlon = pixel_magnetic_coords(
        el, az, lat0, lon0, altitude_km=altitude_km, site_altitude_km=site_km, when=epoch
    )
    common = {
        "altitude_km": float(altitude_km),
        "epoch": epoch.isoformat(),
        "model": "AACGM-v2 (aacgmv2)",
    }
    return ds.assign_coords(
        mlat=(
            (y_dim, x_dim),
            mlat,
            {"units": "degree", "long_name": "AACGM-v2 magnetic latitude", **common},
        ),
        mlon=(
            (y_dim, x_dim),
            mlon,
            {"units": "degree", "long_name": "AACGM-v2 magnetic longitude", **common},
        ),
    )


def mlt(
    ds: xr.Dataset | xr.DataArray,
    *,
    altitude_km: float = 110.0,
    time_dim: Hashable = "time",
) -> xr.DataArray:
    """Magnetic local time over the station for every frame of a cube.

    Parameters
    ----------
    ds : xarray.Dataset or DataArray
        An object with a ``time_dim`` coordinate and station attributes.
    altitude_km : float
        Height of the emission shell.
    time_dim : hashable
        Time dimension.

    Returns
    -------
    xarray.DataArray
        ``mlt`` on ``time_dim`` in hours ``[0, 24)``.
    """
    code, lat0, lon0, _ = _site(ds)
    times = _time_values(ds, time_dim)
    values = station_mlt(times, lat0, lon0, altitude_km=altitude_km)
    return xr.DataArray(
        values,
        dims=(time_dim,),
        coords={time_dim: ds[time_dim]},
        name="mlt",
        attrs={
            "units": "h",
            "long_name": "magnetic local time (AACGM-v2) over the station",
            "altitude_km": float(altitude_km),
            "station_code": code,
        },
    )


def _sun_elevation_of(
    ds: xr.Dataset | xr.DataArray,
    *,
    altitude_m: float | None,
    time_dim: Hashable,
    step_minutes: float,
) -> xr.DataArray:
    code, lat0, lon0, site_km = _site(ds)
    times = _time_values(ds, time_dim)
    alt_m = site_km * 1000.0 if altitude_m is None else float(altitude_m)
    values = sun_elevation(times, lat0, lon0, altitude_m=alt_m, step_minutes=step_minutes)
    return xr.DataArray(
        values,
        dims=(time_dim,),
        coords={time_dim: ds[time_dim]},
        name="sun_elevation",
        attrs={
            "units": "degree",
            "long_name": "elevation of the Sun's centre (astropy, no refraction)",
            "station_code": code,
        },
    )


def moon(
    ds: xr.Dataset | xr.DataArray,
    *,
    time_dim: Hashable = "time",
    step_minutes: float = 120.0,
) -> xr.Dataset:
    """Position and phase of the Moon for every frame of a cube.

    Parameters
    ----------
    ds : xarray.Dataset or DataArray
        An object with a ``time_dim`` coordinate and station attributes.
    time_dim : hashable
        Time dimension.
    step_minutes : float
        Spacing of the astropy nodes (see :func:`moon_position`).

    Returns
    -------
    xarray.Dataset
        ``moon_elevation``, ``moon_azimuth`` (degrees) and ``moon_illumination``
        (illuminated fraction) on ``time_dim``.
    """
    code, lat0, lon0, site_km = _site(ds)
    times = _time_values(ds, time_dim)
    el, az, illum = moon_position(
        times, lat0, lon0, altitude_m=site_km * 1000.0, step_minutes=step_minutes
    )
    dims = (time_dim,)
    return xr.Dataset(
        {
            "moon_elevation": (
                dims,
                el,
                {"units": "degree", "long_name": "elevation of the Moon's centre"},
            ),
            "moon_azimuth": (
                dims,
                az,
                {"units": "degree", "long_name": "azimuth of the Moon (from north through east)"},
            ),
            "moon_illumination": (
                dims,
                illum,
                {"units": "1", "long_name": "illuminated fraction of the Moon's disc"},
            ),
        },
        coords={time_dim: ds[time_dim]},
        attrs={"station_code": code, "source": "astropy get_body('moon'), topocentric"},
    )
