"""The image cube: the data model on xarray, its checks, and its context.

An image cube is an :class:`xarray.Dataset` with ``image (time, y, x, channel)``, the
station and camera calibration in its attributes and ``elevation``/``azimuth`` on
``(y, x)`` (DESIGN §2). This layer builds cubes from frames in memory
(:mod:`~aurora_xr.cube.build`), checks them (:mod:`~aurora_xr.cube.schema`), computes
per-frame quantities lazily along their time chunks (:mod:`~aurora_xr.cube.frames`) and
attaches observing-condition tables (:mod:`~aurora_xr.cube.conditions`). No file is read
or written here.

Layer rule: ``cube`` imports :mod:`aurora_xr.sky` and :mod:`aurora_xr.geo` (and
``errors``, ``_times``); ``io`` and everything above it import ``cube``.
"""

from __future__ import annotations

from .build import (
    CHANNELS,
    CONVENTIONS,
    TRUTH_VARIABLES,
    VARIABLE_ATTRS,
    append_history,
    cf_attributes,
    cube_from_frames,
    decode_cube,
    history_line,
    package_version,
)
from .schema import IMAGE_DTYPES, check_times, require_dims, require_variable, validate_cube

__all__ = [
    "CHANNELS",
    "CONVENTIONS",
    "IMAGE_DTYPES",
    "TRUTH_VARIABLES",
    "VARIABLE_ATTRS",
    "append_history",
    "cf_attributes",
    "check_times",
    "cube_from_frames",
    "decode_cube",
    "history_line",
    "package_version",
    "require_dims",
    "require_variable",
    "validate_cube",
]
