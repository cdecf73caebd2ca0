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
from .analysis.keograms import keogram
from .analysis.occurrence import cell_detections, occurrence_from_cube, occurrence_map
from .analysis.views import to_magnetic_view
from .cube.conditions import attach_conditions, read_conditions
from .datasets import synthetic_cube, synthetic_nights, write_synthetic_archive
from .detect.difference import difference_detect
from .detect.segmentation import segment
from .detect.store import open_segmentation_store, segment_to_store
from .detect.usable import usable_frames
from .errors import *  # noqa: F403
from .errors import __all__ as _errors_all
from .geo.aacgm import magnetic_coords, mlt, moon, station_mlt, sun_elevation
from .geo.cells import cell_grid
from .io.cubefiles import IngestReport, ingest, open_cube, write_netcdf, write_product
from .io.products import open_product, to_netcdf
from .sky.lens import Calibration
from .sky.stations import Station, get_station, register_station

if TYPE_CHECKING:
    from .model import Predictor, build_model, evaluate, load_model, train

__version__ = "0.1.0"

_MODEL_EXPORTS = ("build_model", "load_model", "train", "evaluate", "Predictor")

__all__ = [
    *_errors_all,
    "Calibration",
    "IngestReport",
    "Station",
    "__version__",
    "attach_conditions",
    "build_model",
    "cell_detections",
    "cell_grid",
    "compare_methods",
    "difference_detect",
    "evaluate",
    "get_station",
    "ingest",
    "keogram",
    "load_model",
    "magnetic_coords",
    "mlt",
    "moon",
    "occurrence_from_cube",
    "occurrence_map",
    "open_cube",
    "open_product",
    "open_segmentation_store",
    "Predictor",
    "read_conditions",
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
    "write_netcdf",
    "write_product",
    "write_synthetic_archive",
]


def __getattr__(name: str) -> Any:
    # torch is imported only when a model function is first used
    if name in _MODEL_EXPORTS:
        return getattr(importlib.import_module(".model", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
