"""AACGM-v2 magnetic coordinates of positions and pixels, and their epochs (numpy only).

numpy functions on plain arrays of positions and times: :func:`aacgm_coords`,
:func:`pixel_magnetic_coords`, :func:`magnetic_north_azimuth`,
:func:`check_date_range` and :func:`epoch_of`. Magnetic local time is in
:mod:`aurora_xr.geo.mlt`; the same quantities for an image cube (station and
calibration read from its attributes) are in :mod:`aurora_xr.cube.coords`.

Speed
-----
AACGM-v2 (``aacgmv2``) converts a whole pixel grid in well under a second, so the
grid is converted once per epoch (the magnetic field moves about 0.05° a year)
and cached, never per frame.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._times import as_datetime64
from ..errors import DateRangeError, OptionError, SchemaError
from ..sky.shell import destination, sky_to_geo

__all__ = [
    "AACGM_MAX_ALTITUDE_KM",
    "AACGM_VALID_END",
    "AACGM_VALID_START",
    "aacgm_coords",
    "check_altitude",
    "check_date_range",
    "epoch_of",
    "magnetic_north_azimuth",
    "mid_year_epoch",
    "pixel_magnetic_coords",
]

AACGM_VALID_START = np.datetime64("1990-01-01T00:00:00", "ns")
"""First instant AACGM-v2 (IGRF-14 with secular variation) accepts."""

AACGM_VALID_END = np.datetime64("2030-01-01T00:00:00", "ns")
"""First instant after the AACGM-v2 range (aacgmv2 refuses dates from 2030 on)."""

AACGM_MAX_ALTITUDE_KM = 2000.0
"""Highest altitude for which aacgmv2 uses its coefficients (tracing is not used)."""

AACGM_LOCK = threading.RLock()
"""aacgmv2 keeps its date in global C state: never call it from two threads at once."""
_PIXEL_CACHE: OrderedDict[Hashable, tuple[NDArray[np.float32], NDArray[np.float32]]] = OrderedDict()
_PIXEL_CACHE_SIZE = 8


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


def mid_year_epoch(times: NDArray[np.datetime64]) -> dt.datetime:
    """Mid-year epoch (2 July) of the year in the middle of a span of times."""
    t = times.astype("datetime64[ns]").ravel()
    lo, hi = t.min(), t.max()
    middle = lo + (hi - lo) // 2
    return epoch_of(int(str(np.datetime64(middle, "Y"))))


# -- AACGM ----------------------------------------------------------------------------
def check_altitude(altitude_km: float) -> float:
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
    alt = check_altitude(altitude_km)
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
        with AACGM_LOCK:
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
    with AACGM_LOCK:
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
    return _north_azimuth(float(lat0), float(lon0), epoch_of(when), float(altitude_km))


@functools.lru_cache(maxsize=64)
def _north_azimuth(lat0: float, lon0: float, epoch: dt.datetime, altitude_km: float) -> float:
    """:func:`magnetic_north_azimuth`, cached: every step of a pipeline asks for it."""
    step = 0.05  # degrees of arc: 5.6 km, far below the scale of the field
    lat, lon = destination(lat0, lon0, np.array([0.0, 90.0, 180.0, 270.0]), step)
    mlat, _ = aacgm_coords(lat, lon, altitude_km=altitude_km, when=epoch)
    d_north = mlat[0] - mlat[2]
    d_east = mlat[1] - mlat[3]
    if not (np.isfinite(d_north) and np.isfinite(d_east)) or d_north == d_east == 0.0:
        raise OptionError(
            f"AACGM-v2 gives no magnetic latitude gradient at ({lat0}, {lon0}); "
            "the site may lie where AACGM is undefined (near the magnetic equator)"
        )
    return float(np.mod(np.degrees(np.arctan2(d_east, d_north)), 360.0))
