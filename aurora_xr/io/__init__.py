"""Files: image files and camera formats, ingest, NetCDF cubes and products.

Reading frames from the files cameras write, ingesting folders of them into NetCDF-4 image
cubes (one file per period, atomically, resumably), opening cubes lazily, and writing
products (occurrence maps, comparisons) as CF NetCDF-4. No science happens here.

Layer rule: ``io`` imports :mod:`aurora_xr.cube`, :mod:`aurora_xr.geo` and
:mod:`aurora_xr.sky`; it never imports ``detect``, ``analysis`` or ``model``.
"""

from __future__ import annotations

from ..errors import NoFilesFoundError
from .cubefiles import DEFAULT_TIME_CHUNK, open_cube
from .ingestion import IngestReport, ingest
from .netcdf import write_netcdf, write_product
from .products import open_product, prepare_product, to_netcdf

__all__ = [
    "DEFAULT_TIME_CHUNK",
    "IngestReport",
    "NoFilesFoundError",
    "ingest",
    "open_cube",
    "open_product",
    "prepare_product",
    "to_netcdf",
    "write_netcdf",
    "write_product",
]
