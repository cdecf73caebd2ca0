"""Low-precision positions of the stars, the sun and the moon (numpy only).

The synthetic sky needs the sidereal time (stars and the Milky Way turn about
the celestial pole), the sun (twilight) and the moon (moonlit skies). The
formulas are the short series of the Astronomical Almanac ("low precision
formulas for the sun and the moon") and the IAU 1982 expression of Greenwich
mean sidereal time: the sun is good to about 0.01°, the moon to about 0.3°,
plenty for a picture and a pure function of time (hence deterministic).
The science path of the package (usable-frame filters) uses
:mod:`aurora_xr.geo.aacgm`, which relies on astropy, instead.

Times are ``int64`` nanoseconds since 1970-01-01 UTC (``datetime64[ns]``
viewed as integers); angles are degrees.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "SIDEREAL_DAY_MIN",
    "days_since_j2000",
    "equatorial_to_galactic",
    "equatorial_to_horizontal",
    "galactic_to_equatorial",
    "horizontal_to_equatorial",
    "local_sidereal_time",
    "moon_altaz",
    "moon_radec",
    "sun_altaz",
    "sun_radec",
]

SIDEREAL_DAY_MIN = 1436.0681
"""Length of the sidereal day in minutes (23 h 56 min 4.09 s)."""

_NS_PER_DAY = 86_400e9
_J2000_UNIX_DAYS = 10_957.5  # 2000-01-01T12:00 UTC in days since 1970-01-01
_D = np.pi / 180.0

# Galactic frame (J2000): north galactic pole and galactic longitude of the NCP.
_NGP_RA, _NGP_DEC, _NCP_L = 192.85948, 27.12825, 122.93192


def _f64(x: ArrayLike) -> NDArray[np.float64]:
    return np.asarray(x, dtype=np.float64)


def days_since_j2000(times_ns: ArrayLike) -> NDArray[np.float64]:
    """Days (UT) since J2000.0 for times given as int64 nanoseconds since 1970."""
    return _f64(np.asarray(times_ns, dtype=np.int64)) / _NS_PER_DAY - _J2000_UNIX_DAYS


def local_sidereal_time(times_ns: ArrayLike, longitude: float) -> NDArray[np.float64]:
    """Local mean sidereal time in degrees [0, 360) at an east ``longitude``."""
    d = days_since_j2000(times_ns)
    t = d / 36525.0
    gmst = 280.46061837 + 360.98564736629 * d + 0.000387933 * t * t - t**3 / 38_710_000.0
    return np.mod(gmst + longitude, 360.0)


def equatorial_to_horizontal(
    ra: ArrayLike, dec: ArrayLike, lst: ArrayLike, latitude: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Elevation and azimuth (from north through east) of right ascension/declination."""
    ha = (_f64(lst) - _f64(ra)) * _D
    d = _f64(dec) * _D
    phi = latitude * _D
    sin_el = np.sin(phi) * np.sin(d) + np.cos(phi) * np.cos(d) * np.cos(ha)
    el = np.arcsin(np.clip(sin_el, -1.0, 1.0))
    az = np.arctan2(
        -np.cos(d) * np.sin(ha), np.sin(d) * np.cos(phi) - np.cos(d) * np.sin(phi) * np.cos(ha)
    )
    return el / _D, np.mod(az / _D, 360.0)


def horizontal_to_equatorial(
    elevation: ArrayLike, azimuth: ArrayLike, latitude: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Hour angle (degrees, [0, 360)) and declination of elevation/azimuth directions."""
    el = _f64(elevation) * _D
    az = _f64(azimuth) * _D
    phi = latitude * _D
    sin_dec = np.sin(phi) * np.sin(el) + np.cos(phi) * np.cos(el) * np.cos(az)
    dec = np.arcsin(np.clip(sin_dec, -1.0, 1.0))
    ha = np.arctan2(
        -np.sin(az) * np.cos(el), np.sin(el) * np.cos(phi) - np.cos(el) * np.sin(phi) * np.cos(az)
    )
    return np.mod(ha / _D, 360.0), dec / _D


def _ecliptic_to_equatorial(
    lam: NDArray[np.float64], beta: NDArray[np.float64], eps: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    lam, beta, eps = lam * _D, beta * _D, eps * _D
    x = np.cos(beta) * np.cos(lam)
    y = np.cos(eps) * np.cos(beta) * np.sin(lam) - np.sin(eps) * np.sin(beta)
    z = np.sin(eps) * np.cos(beta) * np.sin(lam) + np.cos(eps) * np.sin(beta)
    return np.mod(np.arctan2(y, x) / _D, 360.0), np.arcsin(np.clip(z, -1.0, 1.0)) / _D


def sun_radec(times_ns: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Apparent right ascension and declination of the sun (degrees)."""
    n = days_since_j2000(times_ns)
    mean_lon = 280.460 + 0.9856474 * n
    g = (357.528 + 0.9856003 * n) * _D
    lam = mean_lon + 1.915 * np.sin(g) + 0.020 * np.sin(2.0 * g)
    eps = 23.439 - 0.0000004 * n
    return _ecliptic_to_equatorial(lam, np.zeros_like(lam), eps)


def _moon_ecliptic(
    times_ns: ArrayLike,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    t = days_since_j2000(times_ns) / 36525.0

    def s(a: float, b: float) -> NDArray[np.float64]:
        return np.sin((a + b * t) * _D)

    def c(a: float, b: float) -> NDArray[np.float64]:
        return np.cos((a + b * t) * _D)

    lam = (
        218.32
        + 481267.881 * t
        + 6.29 * s(135.0, 477198.87)
        - 1.27 * s(259.3, -413335.36)
        + 0.66 * s(235.7, 890534.22)
        + 0.21 * s(269.9, 954397.74)
        - 0.19 * s(357.5, 35999.05)
        - 0.11 * s(186.5, 966404.03)
    )
    beta = (
        5.13 * s(93.3, 483202.02)
        + 0.28 * s(228.2, 960400.89)
        - 0.28 * s(318.3, 6003.15)
        - 0.17 * s(217.6, -407332.21)
    )
    parallax = (
        0.9508
        + 0.0518 * c(135.0, 477198.87)
        + 0.0095 * c(259.3, -413335.36)
        + 0.0078 * c(235.7, 890534.22)
        + 0.0028 * c(269.9, 954397.74)
    )
    return lam, beta, parallax


def moon_radec(
    times_ns: ArrayLike,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Geocentric right ascension, declination and horizontal parallax of the moon."""
    lam, beta, parallax = _moon_ecliptic(times_ns)
    eps = 23.439 - 0.0000004 * days_since_j2000(times_ns)
    ra, dec = _ecliptic_to_equatorial(lam, beta, eps)
    return ra, dec, parallax


def sun_altaz(
    times_ns: ArrayLike, latitude: float, longitude: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Elevation and azimuth of the sun's centre (no refraction)."""
    ra, dec = sun_radec(times_ns)
    return equatorial_to_horizontal(ra, dec, local_sidereal_time(times_ns, longitude), latitude)


def moon_altaz(
    times_ns: ArrayLike, latitude: float, longitude: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Topocentric elevation, azimuth and illuminated fraction of the moon."""
    ra, dec, parallax = moon_radec(times_ns)
    lst = local_sidereal_time(times_ns, longitude)
    el, az = equatorial_to_horizontal(ra, dec, lst, latitude)
    el = el - parallax * np.cos(el * _D)  # topocentric: lower than seen from Earth's centre
    s_ra, s_dec = sun_radec(times_ns)
    cos_elong = np.sin(s_dec * _D) * np.sin(dec * _D) + np.cos(s_dec * _D) * np.cos(
        dec * _D
    ) * np.cos((s_ra - ra) * _D)
    fraction = 0.5 * (1.0 - cos_elong)
    return el, az, fraction


def galactic_to_equatorial(
    l_deg: ArrayLike, b_deg: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Right ascension and declination (J2000) of galactic longitude/latitude."""
    b = _f64(b_deg) * _D
    dl = (_NCP_L - _f64(l_deg)) * _D
    d_g = _NGP_DEC * _D
    sin_dec = np.sin(d_g) * np.sin(b) + np.cos(d_g) * np.cos(b) * np.cos(dl)
    ra = _NGP_RA * _D + np.arctan2(
        np.cos(b) * np.sin(dl), np.cos(d_g) * np.sin(b) - np.sin(d_g) * np.cos(b) * np.cos(dl)
    )
    return np.mod(ra / _D, 360.0), np.arcsin(np.clip(sin_dec, -1.0, 1.0)) / _D


def equatorial_to_galactic(
    ra_deg: ArrayLike, dec_deg: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Galactic longitude and latitude of right ascension/declination (J2000)."""
    d = _f64(dec_deg) * _D
    da = (_f64(ra_deg) - _NGP_RA) * _D
    d_g = _NGP_DEC * _D
    sin_b = np.sin(d) * np.sin(d_g) + np.cos(d) * np.cos(d_g) * np.cos(da)
    l_ = _NCP_L * _D - np.arctan2(
        np.cos(d) * np.sin(da), np.sin(d) * np.cos(d_g) - np.cos(d) * np.sin(d_g) * np.cos(da)
    )
    return np.mod(l_ / _D, 360.0), np.arcsin(np.clip(sin_b, -1.0, 1.0)) / _D
