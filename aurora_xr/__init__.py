"""aurora_xr: aurora in all-sky camera images, on xarray and dask.

Importing the package registers the ``.aurora`` accessor. It imports neither
torch, cartopy nor ipywidgets; the model functions load torch when called.
"""

from __future__ import annotations

from . import accessor as _accessor  # noqa: F401  (registers .aurora)
from .errors import *  # noqa: F403
from .errors import __all__ as _errors_all
from .geometry import Calibration
from .stations import Station, get_station, register_station

__version__ = "0.1.0"

__all__ = [
    *_errors_all,
    "Calibration",
    "Station",
    "get_station",
    "register_station",
    "__version__",
]
