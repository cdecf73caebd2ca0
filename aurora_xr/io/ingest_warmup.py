"""Loaded once by the fork server of a parallel ingest, before it forks the worker processes.

Importing it imports the ingest modules and does, once, the first-call work of the libraries
they use (netCDF4 and the modules xarray loads on its first write, xarray's list of backends,
Pillow's plugins, the entry points of camera formats) by writing and reading a one-frame cube
in a temporary folder, so that every worker starts warm instead of paying for it in its first
task.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import xarray as xr
from PIL import Image

from .appender import CubeAppender, FrameBatch
from .encoding import time_encoding
from .formats import available_formats
from .ingest_layout import CubeCamera

__all__ = ["warm_up"]


def warm_up() -> None:
    """Write and read back a one-frame cube in a temporary folder; load the plugins."""
    Image.init()
    available_formats()
    times = np.array(["2000-01-01"], "datetime64[ns]")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "warm.nc"
        appender = CubeAppender(
            path,
            channels=("white",),
            camera=CubeCamera.none(),
            attrs={},
            time_enc=time_encoding(times),
            chunk_frames=1,
        )
        appender.append(FrameBatch(times, np.zeros((1, 2, 2, 1), np.uint8), None, None, None))
        appender.close(None)
        with xr.open_dataset(path, cache=False) as ds:
            ds.load()


warm_up()
