"""Sun and Moon positions seen from a site, with astropy, offline, sampled on nodes.

numpy functions on plain arrays of times: :func:`sun_elevation_at` (the
elevation of the Sun's centre) and :func:`moon_position` (the Moon's elevation,
azimuth and illuminated fraction). The functions on image cubes
(:func:`aurora_xr.cube.frames.sun_elevation` given a Dataset, :func:`aurora_xr.cube.frames.moon`)
call them with the station read from the cube's attributes.

Speed
-----
The Sun and Moon are evaluated with astropy on a coarse grid of node times, in
the observer's hour-angle/declination frame where, once the Earth's rotation is
taken out, everything varies slowly, and interpolated with a local cubic
(4-point Lagrange) interpolant. Short or sparse inputs are evaluated directly
at their own times.

Offline use
-----------
astropy is told not to download IERS tables (``auto_download=False``), to accept
old predictions and to use its degraded-accuracy fallback for times the bundled
tables do not cover (polar motion and UT1 errors are far below what matters for
the elevation of the Sun); its warnings about this are silenced.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._times import NS_PER_DAY, sample_on_nodes, step_ns, times_ns

__all__ = ["moon_position", "sun_elevation_at"]

_SIDEREAL_DEG_PER_DAY = 360.98564736629  # rate of the Earth rotation angle


@contextlib.contextmanager
def _astropy_offline() -> Iterator[None]:
    """astropy without downloads and without warnings about its IERS tables."""
    from astropy.utils import iers
    from astropy.utils.exceptions import AstropyWarning

    with contextlib.ExitStack() as stack:
        stack.enter_context(iers.conf.set_temp("auto_download", False))
        stack.enter_context(iers.conf.set_temp("auto_max_age", None))
        stack.enter_context(iers.conf.set_temp("iers_degraded_accuracy", "ignore"))
        stack.enter_context(warnings.catch_warnings())
        warnings.simplefilter("ignore", AstropyWarning)
        try:
            from erfa import ErfaWarning

            warnings.simplefilter("ignore", ErfaWarning)
        except ImportError:  # pragma: no cover - erfa ships with astropy
            pass
        yield


def _hadec_nodes(
    t_ns: NDArray[np.int64], lat0: float, lon0: float, altitude_m: float, body: str
) -> tuple[Any, NDArray[np.float64], NDArray[np.float64]]:
    """Topocentric hour angle minus Earth rotation, and declination, of a body (astropy)."""
    import astropy.units as u
    from astropy.coordinates import EarthLocation, HADec, get_body, get_sun
    from astropy.time import Time

    when = Time(np.asarray(t_ns, dtype=np.int64).astype("datetime64[ns]"), scale="utc")
    location = EarthLocation.from_geodetic(lon0 * u.deg, lat0 * u.deg, altitude_m * u.m)
    coord = get_sun(when) if body == "sun" else get_body("moon", when)
    observed = coord.transform_to(HADec(obstime=when, location=location))
    rotation = _SIDEREAL_DEG_PER_DAY * (np.asarray(t_ns, dtype=float) / NS_PER_DAY)
    residual = np.mod(observed.ha.to_value(u.deg) - rotation, 360.0)
    return coord, residual, np.asarray(observed.dec.to_value(u.deg), dtype=float)


def _illuminated_fraction(sun: Any, moon_gcrs: Any) -> NDArray[np.float64]:
    """Illuminated fraction of the Moon's disc from the Sun-Moon elongation."""
    import astropy.units as u

    s = np.asarray(sun.cartesian.xyz.to_value(u.km), dtype=float)
    m = np.asarray(moon_gcrs.cartesian.xyz.to_value(u.km), dtype=float)
    rs = np.linalg.norm(s, axis=0)
    rm = np.linalg.norm(m, axis=0)
    cos_psi = np.sum(s * m, axis=0) / (rs * rm)
    sin_psi = np.linalg.norm(np.cross(s, m, axis=0), axis=0) / (rs * rm)
    phase_angle = np.arctan2(rs * sin_psi, rm - rs * cos_psi)  # Sun-Moon-Earth angle
    return np.asarray((1.0 + np.cos(phase_angle)) / 2.0, dtype=float)


def _altaz(
    t_ns: NDArray[np.int64],
    residual: NDArray[np.float64],
    dec: NDArray[np.float64],
    lat0: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Elevation and azimuth from hour angle (residual + Earth rotation) and declination."""
    ha = np.radians(residual + _SIDEREAL_DEG_PER_DAY * (t_ns.astype(float) / NS_PER_DAY))
    d = np.radians(dec)
    phi = np.radians(lat0)
    sin_el = np.sin(phi) * np.sin(d) + np.cos(phi) * np.cos(d) * np.cos(ha)
    el = np.degrees(np.arcsin(np.clip(sin_el, -1.0, 1.0)))
    az = np.degrees(
        np.arctan2(
            -np.cos(d) * np.sin(ha),
            np.cos(phi) * np.sin(d) - np.sin(phi) * np.cos(d) * np.cos(ha),
        )
    )
    return el, np.mod(az, 360.0)


def sun_elevation_at(
    times: Any,
    lat0: float,
    lon0: float,
    *,
    altitude_m: float = 0.0,
    step_minutes: float = 180.0,
) -> NDArray[np.float64]:
    """Elevation of the Sun's centre (degrees, no refraction) seen from a site.

    The solar position comes from astropy (``get_sun`` in the observer's
    hour-angle frame) on nodes ``step_minutes`` apart, interpolated with the
    Earth's rotation taken out (error below 1e-4°); a million times take
    seconds. No download is attempted. :func:`aurora_xr.cube.frames.sun_elevation`
    gives the same for an array of times, or for an image cube.

    Parameters
    ----------
    times : datetime-like array
        Times in UTC (any shape).
    lat0, lon0 : float
        Geographic position of the site (degrees).
    altitude_m : float
        Height of the site.
    step_minutes : float
        Spacing of the astropy nodes.

    Returns
    -------
    ndarray of float64
        Degrees, same shape as ``times``.

    Raises
    ------
    DtypeError
        If ``times`` are not datetimes, or some are NaT.
    OptionError
        If ``step_minutes`` is not in ``(0, 1440]``.
    """
    t_ns = times_ns(times)
    alt_m = float(altitude_m)
    if t_ns.size == 0:
        return np.zeros(t_ns.shape)

    def evaluate(nodes: NDArray[np.int64]) -> list[NDArray[np.float64]]:
        with _astropy_offline():
            _, residual, dec = _hadec_nodes(nodes, lat0, lon0, alt_m, "sun")
        return [residual, dec]

    residual, dec = sample_on_nodes(t_ns, step_ns(step_minutes), evaluate, [360.0, None])
    return _altaz(t_ns, residual, dec, lat0)[0]


def moon_position(
    times: Any,
    lat0: float,
    lon0: float,
    *,
    altitude_m: float = 0.0,
    step_minutes: float = 120.0,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Topocentric elevation and azimuth of the Moon and its illuminated fraction.

    The Moon's position comes from astropy (``get_body("moon")`` in the
    observer's hour-angle frame, parallax included, no refraction) on nodes
    ``step_minutes`` apart, interpolated with the Earth's rotation taken out
    (error about 1e-3°). The illuminated fraction is ``(1 + cos i) / 2`` with
    the phase angle ``i`` from the geocentric Sun-Moon elongation and distances.

    Parameters
    ----------
    times : datetime-like array
        Times in UTC (any shape).
    lat0, lon0 : float
        Geographic position of the site (degrees).
    altitude_m : float
        Height of the site.
    step_minutes : float
        Spacing of the astropy nodes.

    Returns
    -------
    elevation, azimuth, illuminated_fraction : ndarray of float64
        Degrees, degrees from north through east, fraction in [0, 1].
    """
    t_ns = times_ns(times)
    if t_ns.size == 0:
        empty = np.zeros(t_ns.shape)
        return empty, empty.copy(), empty.copy()

    def evaluate(nodes: NDArray[np.int64]) -> list[NDArray[np.float64]]:
        from astropy.coordinates import get_sun
        from astropy.time import Time

        with _astropy_offline():
            moon_gcrs, residual, dec = _hadec_nodes(nodes, lat0, lon0, altitude_m, "moon")
            sun = get_sun(Time(nodes.astype("datetime64[ns]"), scale="utc"))
            illum = _illuminated_fraction(sun, moon_gcrs)
        return [residual, dec, illum]

    residual, dec, illum = sample_on_nodes(
        t_ns, step_ns(step_minutes), evaluate, [360.0, None, None]
    )
    el, az = _altaz(t_ns, residual, dec, lat0)
    return el, az, np.clip(illum, 0.0, 1.0)
