"""aurora_xr: aurora in all-sky camera images, on xarray and dask.

Importing the package registers the ``.aurora`` accessor on xarray objects.
It imports neither torch, cartopy, matplotlib nor ipywidgets: the model
functions (:func:`build_model`, :func:`load_model`, :func:`train`,
:func:`evaluate`) load torch when first used, :mod:`aurora_xr.plot` loads
matplotlib, :mod:`aurora_xr.widgets` ipywidgets.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import accessor as _accessor  # noqa: F401  (registers .aurora)
from .analysis.compare import compare_methods
from .analysis.cube_occurrence import occurrence_from_cube
from .analysis.detections import cell_detections
from .analysis.keograms import keogram
from .analysis.occurrence import occurrence_map
from .analysis.views import to_magnetic_view
from .cube.calibrate import with_calibration
from .cube.conditions import attach_conditions, read_conditions
from .cube.context import CubeContext, cube_context
from .cube.coords import geo_coords, magnetic_coords
from .cube.frames import mlt, moon, sun_elevation
from .cube.grid import cell_grid
from .datasets import synthetic_cube, synthetic_nights, write_synthetic_archive
from .detect.difference import difference_detect
from .detect.segmentation import segment
from .detect.store import open_segmentation_store, segment_to_store
from .detect.usable import usable_frames
from .errors import *  # noqa: F403
from .errors import __all__ as _errors_all
from .geo.mlt import station_mlt
from .io import IngestReport, ingest, open_cube, write_netcdf, write_product
from .io.products import open_product, to_netcdf
from .labels import label_report, read_image_labels, read_labels
from .model.image_rule import has_aurora
from .sky.lens import Calibration
from .sky.obstructions import load_obstruction, obstruction_mask
from .sky.sites import parse_site, read_station_file
from .sky.skymap import Skymap
from .sky.skymap_files import read_skymap
from .sky.stations import Station, get_station, register_station

if TYPE_CHECKING:
    from .model import Predictor, build_model, evaluate, load_model, train
    from .sky.starcal import StarCalibration, calibrate_from_stars

from ._version import __version__

#: Exports imported when first used: the model functions load torch, the star
#: calibration ephem and scipy's optimisers.
_LAZY_EXPORTS = {
    **dict.fromkeys(("build_model", "load_model", "train", "evaluate", "Predictor"), ".model"),
    **dict.fromkeys(("calibrate_from_stars", "StarCalibration"), ".sky.starcal"),
}

__all__ = [
    *_errors_all,
    "Calibration",
    "CubeContext",
    "IngestReport",
    "StarCalibration",
    "Station",
    "__version__",
    "attach_conditions",
    "build_model",
    "calibrate_from_stars",
    "cell_detections",
    "cell_grid",
    "compare_methods",
    "cube_context",
    "difference_detect",
    "evaluate",
    "geo_coords",
    "get_station",
    "has_aurora",
    "ingest",
    "keogram",
    "load_model",
    "magnetic_coords",
    "mlt",
    "moon",
    "obstruction_mask",
    "occurrence_from_cube",
    "occurrence_map",
    "open_cube",
    "open_product",
    "open_segmentation_store",
    "parse_site",
    "Predictor",
    "Skymap",
    "label_report",
    "load_obstruction",
    "read_conditions",
    "read_image_labels",
    "read_labels",
    "read_skymap",
    "read_station_file",
    "register_station",
    "segment",
    "segment_to_store",
    "station_mlt",
    "sun_elevation",
    "synthetic_cube",
    "synthetic_nights",
    "to_magnetic_view",
    "to_netcdf",
    "train",
    "usable_frames",
    "with_calibration",
    "write_netcdf",
    "write_product",
    "write_synthetic_archive",
]


def __getattr__(name: str) -> Any:
    # torch (and ephem) are imported only when a function that needs them is first used
    if name in _LAZY_EXPORTS:
        return getattr(importlib.import_module(_LAZY_EXPORTS[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
