"""Cameras and the sky: lens models, the emission shell, stations, the Sun and the Moon.

Everything here is numpy on plain arrays and dataclasses; no xarray. The lens model
(:class:`~aurora_xr.sky.lens.Calibration`) maps pixels to elevation and azimuth, the
emission-shell geometry maps lines of sight to latitude and longitude, the station
registry gives sites, and :mod:`~aurora_xr.sky.astronomy` the Sun and Moon from astropy.

Layer rule: ``sky`` is the bottom layer. It imports only :mod:`aurora_xr.errors` and
:mod:`aurora_xr._times`; every other layer may import it.
"""

from __future__ import annotations

from .astronomy import moon_position, sun_elevation_at
from .lens import (
    PROJECTIONS,
    Calibration,
    pixel_to_sky,
    require_calibration,
    sky_grids,
    sky_to_pixel,
)
from .resample import apply_view, magnetic_view_indices, view_calibration, view_indices
from .shell import (
    EARTH_RADIUS_KM,
    bearing_and_angle,
    destination,
    earth_angle,
    elevation_from_earth_angle,
    geo_to_sky,
    ground_distance_km,
    sky_to_geo,
)
from .stations import Station, get_station, register_station, station_codes, station_from_attrs

__all__ = [
    "EARTH_RADIUS_KM",
    "PROJECTIONS",
    "Calibration",
    "Station",
    "apply_view",
    "bearing_and_angle",
    "destination",
    "earth_angle",
    "elevation_from_earth_angle",
    "geo_to_sky",
    "get_station",
    "ground_distance_km",
    "magnetic_view_indices",
    "moon_position",
    "pixel_to_sky",
    "register_station",
    "require_calibration",
    "sky_grids",
    "sky_to_geo",
    "sky_to_pixel",
    "station_codes",
    "station_from_attrs",
    "sun_elevation_at",
    "view_calibration",
    "view_indices",
]
