"""Cameras and the sky: calibrations, the emission shell, sites, the Sun and the Moon.

Everything here is numpy on plain arrays and dataclasses; no xarray. A camera
calibration is either the analytic lens (:class:`~aurora_xr.sky.lens.Calibration`) or
an operator's per-pixel skymap (:class:`~aurora_xr.sky.skymap.Skymap`), both
:class:`~aurora_xr.sky.camera.Camera`; they map pixels to elevation and azimuth. The
emission-shell geometry maps lines of sight to latitude and longitude, the site
catalogue gives stations, and :mod:`~aurora_xr.sky.astronomy` the Sun and Moon.

Layer rule: ``sky`` is the bottom layer. It imports only :mod:`aurora_xr.errors` and
:mod:`aurora_xr._times`; every other layer may import it.
"""

from __future__ import annotations

from .astronomy import moon_position, sun_elevation_at
from .camera import Camera, camera_from_attrs, camera_kind
from .lens import (
    PROJECTIONS,
    Calibration,
    pixel_to_sky,
    require_calibration,
    sky_grids,
    sky_to_pixel,
)
from .obstructions import load_obstruction, mask_from_polygons, obstruction_mask, save_obstruction
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
from .sites import parse_site, read_station_file, site_with_header
from .skymap import Skymap
from .skymap_choice import SkymapValidityWarning, select_skymap, skymap_index
from .skymap_files import read_skymap, read_skymaps, write_skymap
from .stations import (
    Station,
    get_station,
    placeholder_lens,
    register_station,
    station_codes,
    station_from_attrs,
)

__all__ = [
    "EARTH_RADIUS_KM",
    "PROJECTIONS",
    "Calibration",
    "Camera",
    "Skymap",
    "SkymapValidityWarning",
    "Station",
    "apply_view",
    "bearing_and_angle",
    "camera_from_attrs",
    "camera_kind",
    "destination",
    "earth_angle",
    "elevation_from_earth_angle",
    "geo_to_sky",
    "get_station",
    "ground_distance_km",
    "load_obstruction",
    "magnetic_view_indices",
    "mask_from_polygons",
    "moon_position",
    "obstruction_mask",
    "parse_site",
    "pixel_to_sky",
    "placeholder_lens",
    "read_skymap",
    "read_skymaps",
    "read_station_file",
    "register_station",
    "require_calibration",
    "save_obstruction",
    "select_skymap",
    "site_with_header",
    "sky_grids",
    "sky_to_geo",
    "sky_to_pixel",
    "skymap_index",
    "station_codes",
    "station_from_attrs",
    "sun_elevation_at",
    "view_calibration",
    "view_indices",
    "write_skymap",
]
