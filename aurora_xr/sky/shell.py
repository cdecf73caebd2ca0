"""The emission shell: lines of sight from a site to latitude and longitude, numpy only.

The emission shell is a sphere of radius ``R + h`` concentric with a spherical
Earth of radius :data:`EARTH_RADIUS_KM`; the angle at Earth's centre between the
site (height ``h0``) and the point of the shell seen at elevation ``el`` is
``beta = 90° - el - asin((R + h0) cos(el) / (R + h))``. Points on the sphere are
reached along great circles (:func:`destination`, :func:`bearing_and_angle`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "EARTH_RADIUS_KM",
    "bearing_and_angle",
    "destination",
    "earth_angle",
    "elevation_from_earth_angle",
    "geo_to_sky",
    "ground_distance_km",
    "sky_to_geo",
]

EARTH_RADIUS_KM = 6371.0
"""Mean Earth radius (IUGG) used for the spherical-Earth mapping."""


def earth_angle(
    elevation: ArrayLike, altitude_km: float = 110.0, site_altitude_km: float = 0.0
) -> NDArray[np.float64]:
    """Angle at Earth's centre (degrees) between the site and the shell point seen."""
    el = np.radians(np.asarray(elevation, dtype=float))
    ratio = (EARTH_RADIUS_KM + site_altitude_km) / (EARTH_RADIUS_KM + altitude_km)
    return np.degrees(np.pi / 2.0 - el - np.arcsin(ratio * np.cos(el)))


def ground_distance_km(
    elevation: ArrayLike, altitude_km: float = 110.0, site_altitude_km: float = 0.0
) -> NDArray[np.float64]:
    """Ground arc (km) from the site to the foot of the shell point seen at ``elevation``."""
    return np.radians(earth_angle(elevation, altitude_km, site_altitude_km)) * EARTH_RADIUS_KM


def elevation_from_earth_angle(
    beta_deg: ArrayLike, altitude_km: float = 110.0, site_altitude_km: float = 0.0
) -> NDArray[np.float64]:
    """Inverse of :func:`earth_angle`: elevation (degrees) of a shell point ``beta`` away."""
    beta = np.radians(np.asarray(beta_deg, dtype=float))
    a = EARTH_RADIUS_KM + site_altitude_km
    b = EARTH_RADIUS_KM + altitude_km
    # vertical and horizontal parts of the line of sight (atan2 stays accurate at the zenith)
    return np.degrees(np.arctan2(b * np.cos(beta) - a, b * np.abs(np.sin(beta))))


def destination(
    lat0: float, lon0: float, bearing_deg: ArrayLike, angle_deg: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Point reached from (lat0, lon0) along a great circle; longitudes in [-180, 180)."""
    p1, l1 = np.radians(lat0), np.radians(lon0)
    az = np.radians(np.asarray(bearing_deg, dtype=float))
    b = np.radians(np.asarray(angle_deg, dtype=float))
    sin_p2 = np.sin(p1) * np.cos(b) + np.cos(p1) * np.sin(b) * np.cos(az)
    p2 = np.arcsin(np.clip(sin_p2, -1.0, 1.0))
    l2 = l1 + np.arctan2(np.sin(az) * np.sin(b) * np.cos(p1), np.cos(b) - np.sin(p1) * sin_p2)
    lon = np.mod(np.degrees(l2) + 180.0, 360.0) - 180.0
    return np.degrees(p2), lon


def bearing_and_angle(
    lat0: float, lon0: float, lat: ArrayLike, lon: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Initial bearing (degrees from north) and central angle (degrees) to points."""
    p1, l1 = np.radians(lat0), np.radians(lon0)
    p2 = np.radians(np.asarray(lat, dtype=float))
    dl = np.radians(np.asarray(lon, dtype=float)) - l1
    y = np.sin(dl) * np.cos(p2)
    x = np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl)
    bearing = np.mod(np.degrees(np.arctan2(y, x)), 360.0)
    # haversine form for accuracy at small angles
    hav = np.sin((p2 - p1) / 2.0) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2.0) ** 2
    angle = np.degrees(2.0 * np.arcsin(np.sqrt(np.clip(hav, 0.0, 1.0))))
    return bearing, angle


def sky_to_geo(
    elevation: ArrayLike,
    azimuth: ArrayLike,
    lat0: float,
    lon0: float,
    *,
    altitude_km: float = 110.0,
    site_altitude_km: float = 0.0,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Latitude and longitude on the emission shell of lines of sight from a site."""
    beta = earth_angle(elevation, altitude_km, site_altitude_km)
    return destination(lat0, lon0, azimuth, beta)


def geo_to_sky(
    lat: ArrayLike,
    lon: ArrayLike,
    lat0: float,
    lon0: float,
    *,
    altitude_km: float = 110.0,
    site_altitude_km: float = 0.0,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Elevation and azimuth from a site of shell points at latitude/longitude."""
    bearing, beta = bearing_and_angle(lat0, lon0, lat, lon)
    return elevation_from_earth_angle(beta, altitude_km, site_altitude_km), bearing
