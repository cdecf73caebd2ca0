"""Labelled frames for ``aurora-xr train`` and ``evaluate``, and the cell index to score them.

A labelled source is a folder of ``<name>_rgb.png`` frames with ``<name>_mask.png``
masks or the cube of NetCDF files with ``aurora_truth``. Its cell index (the equal-area
cell of every pixel) comes from the cube itself, or, for a frame folder, from its
``synthetic_archive.json`` sidecar or the camera of a station.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import OptionError, SchemaError
from .inputs import open_cubes

if TYPE_CHECKING:
    import numpy as np
    import xarray as xr

    from ..model.data import FolderSource

__all__ = ["cube_cells", "folder_cells", "is_frame_folder", "labelled_source"]


def is_frame_folder(paths: Sequence[str]) -> bool:
    """Whether ``paths`` is one folder holding ``<name>_rgb.*`` frames (searched recursively)."""
    if len(paths) != 1 or not Path(paths[0]).expanduser().is_dir():
        return False
    return next(Path(paths[0]).expanduser().rglob("*_rgb.*"), None) is not None


def labelled_source(paths: Sequence[str], *, chunk_frames: int) -> str | xr.Dataset:
    """A folder of frames with masks (its path) or the cube of NetCDF files with truth."""
    if is_frame_folder(paths):
        return str(Path(paths[0]).expanduser())
    try:
        return open_cubes(paths, chunk_frames=chunk_frames)
    except FileNotFoundError as exc:
        if len(paths) == 1 and Path(paths[0]).expanduser().is_dir():
            raise SchemaError(
                f"expected <name>_rgb.png frames with <name>_mask.png masks or NetCDF cubes "
                f"with aurora_truth in {paths[0]}; found neither"
            ) from exc
        raise


_NAME_TIME = re.compile(r"(\d{4})(\d{2})(\d{2})[_T-]?\d{6}")


def _folder_epoch(folder: FolderSource, sidecar: dict[str, Any], epoch: int | None) -> Any:
    if epoch is not None:
        return epoch
    if sidecar.get("first_time"):
        return str(sidecar["first_time"])
    for name in folder.ids[:1]:
        found = _NAME_TIME.search(name)
        if found:
            return int(found.group(1))
    raise OptionError(
        f"cannot tell the AACGM epoch of the cell grid from the file names in {folder.root}; "
        "pass --epoch YEAR, or --cells 0 to skip the cell scores"
    )


def folder_cells(folder: FolderSource, args: argparse.Namespace) -> np.ndarray:
    """The cell index of a frame folder: station and calibration from its sidecar or --station.

    ``args`` holds ``cells``, ``min_elevation``, ``altitude_km``, ``station`` and
    ``epoch`` (the options of ``aurora-xr evaluate``).
    """
    import numpy as np
    import xarray as xr

    from ..cube.grid import cell_grid
    from ..sky.lens import Calibration, sky_grids
    from ..sky.stations import get_station

    height, width = folder.frame_shape
    sidecar: dict[str, Any] = {}
    path = folder.root / "synthetic_archive.json"
    if path.is_file():
        try:
            sidecar = dict(json.loads(path.read_text(encoding="utf-8")))
        except ValueError as exc:
            raise OptionError(f"cannot read {path}: {exc}") from exc
    if args.station is None and sidecar.get("station") and sidecar.get("calibration"):
        station_attrs = dict(sidecar["station"])
        cal = Calibration.from_attrs(dict(sidecar["calibration"]))
        if (cal.width, cal.height) != (width, height):
            cal = cal.scaled(width, height)
    else:
        station = get_station(args.station or "JBS")
        station_attrs = station.to_attrs()
        cal = station.calibration(width, height)
    elevation, azimuth = sky_grids(cal)
    template = xr.DataArray(
        np.zeros((height, width), dtype=np.uint8),
        dims=("y", "x"),
        coords={"elevation": (("y", "x"), elevation), "azimuth": (("y", "x"), azimuth)},
        attrs={**station_attrs, **cal.to_attrs()},
    )
    grid = cell_grid(
        template,
        n_cells=args.cells,
        min_elevation=args.min_elevation,
        altitude_km=args.altitude_km,
        when=_folder_epoch(folder, sidecar, args.epoch),
    )
    return np.asarray(grid["cell_index"].values)


def cube_cells(ds: xr.Dataset, args: argparse.Namespace) -> np.ndarray:
    """The cell index of a cube (``args``: ``cells``, ``min_elevation``, ``altitude_km``)."""
    import numpy as np

    from ..cube.grid import cell_grid

    grid = cell_grid(
        ds, n_cells=args.cells, min_elevation=args.min_elevation, altitude_km=args.altitude_km
    )
    return np.asarray(grid["cell_index"].values)
