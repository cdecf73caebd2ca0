"""Labelled frames for ``aurora-xr train`` and ``evaluate``, and the cell index to score them.

A labelled source is a folder of ``<name>_rgb.png`` frames with ``<name>_mask.png``
masks, the cube of NetCDF files with ``aurora_truth``, or a label set (``--labels``,
read by :func:`aurora_xr.read_labels` with the ``--label-*`` options;
:func:`labelled_input`). Its cell index (the equal-area cell of every pixel) comes from
the cube itself, or, for a frame folder, from its ``synthetic_archive.json`` sidecar or the
camera of a station, or, for a label set, from ``--calibration`` and the station.
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
    from ..sky.lens import Calibration

__all__ = [
    "LabelledInput",
    "calibration_of",
    "cube_cells",
    "folder_cells",
    "is_frame_folder",
    "label_set",
    "label_set_cells",
    "labelled_input",
    "labelled_source",
]


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
                f"with aurora_truth in {paths[0]}; found neither (a label set: give it with "
                "--labels)"
            ) from exc
        raise


def label_set(args: argparse.Namespace) -> xr.Dataset:
    """The label set of ``--labels``, read with the ``--label-*`` options; its summary printed."""
    from ..labels import label_report, read_labels

    ds = read_labels(
        Path(args.labels).expanduser(),
        format=args.label_format,
        label_map=args.label_map,
        time_pattern=args.time_pattern,
        image_root=None if args.image_root is None else Path(args.image_root).expanduser(),
        pixel_origin=args.pixel_origin,
        errors="skip" if args.skip_bad_labels else "raise",
    )
    report = label_report(ds)
    print(f"labels: {report.summary()}")
    for path, reason in report.skipped[:5]:
        print(f"  skipped {path}: {reason}")
    if len(report.skipped) > 5:
        print(f"  ... and {len(report.skipped) - 5} more skipped (see label_report)")
    return ds


def calibration_of(args: argparse.Namespace) -> Calibration | None:
    """The calibration of ``--calibration JSON`` (None without it)."""
    if args.calibration is None:
        return None
    from ..io.ingest_camera import read_calibration_json

    return read_calibration_json(Path(args.calibration).expanduser())


class LabelledInput:
    """What ``train`` or ``evaluate`` reads: a frame folder, cubes or a label set.

    Attributes
    ----------
    source : str or xarray.Dataset
        A frame folder's path, the cube, or the label set's Dataset.
    is_label_set : bool
        Whether ``source`` came from ``--labels``.
    calibration : Calibration or None
        ``--calibration``.
    """

    def __init__(self, source: Any, *, is_label_set: bool, calibration: Any) -> None:
        self.source = source
        self.is_label_set = is_label_set
        self.calibration = calibration


def labelled_input(args: argparse.Namespace) -> LabelledInput:
    """``SOURCE`` or ``--labels`` (one of them), and ``--calibration``."""
    given = bool(args.source)
    if given == (args.labels is not None):
        raise OptionError(
            "give the labelled frames either as SOURCE (a frame folder or cubes with "
            "aurora_truth) or with --labels PATH (a label set); found "
            + ("both" if given else "neither")
        )
    calibration = calibration_of(args)
    if args.labels is not None:
        return LabelledInput(label_set(args), is_label_set=True, calibration=calibration)
    source = labelled_source(args.source, chunk_frames=args.chunk_frames)
    return LabelledInput(source, is_label_set=False, calibration=calibration)


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
    from ..sky.lens import Calibration
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
        cal = station.placeholder_lens(width, height)
    return _camera_cells(station_attrs, cal, args, _folder_epoch(folder, sidecar, args.epoch))


def _camera_cells(
    station_attrs: dict[str, Any], cal: Calibration, args: argparse.Namespace, when: Any
) -> np.ndarray:
    """The cell index of a camera (station and calibration) at the AACGM epoch ``when``."""
    import numpy as np
    import xarray as xr

    from ..cube.grid import cell_grid
    from ..sky.lens import sky_grids

    elevation, azimuth = sky_grids(cal)
    template = xr.DataArray(
        np.zeros((cal.height, cal.width), dtype=np.uint8),
        dims=("y", "x"),
        coords={"elevation": (("y", "x"), elevation), "azimuth": (("y", "x"), azimuth)},
        attrs={**station_attrs, **cal.to_attrs()},
    )
    grid = cell_grid(
        template,
        n_cells=args.cells,
        min_elevation=args.min_elevation,
        altitude_km=args.altitude_km,
        when=when,
    )
    return np.asarray(grid["cell_index"].values)


def label_set_cells(
    ds: xr.Dataset, calibration: Calibration | None, args: argparse.Namespace
) -> np.ndarray | None:
    """The cell index of a label set's camera (``--calibration`` and ``--station``), or None.

    The AACGM epoch is ``--epoch``, else the first frame time. None (no cell scores) when
    ``--calibration`` or ``--station`` is missing.
    """
    import numpy as np

    from ..sky.stations import get_station

    if calibration is None or args.station is None:
        return None
    height, width = int(ds.sizes["y"]), int(ds.sizes["x"])
    cal = calibration
    if (cal.width, cal.height) != (width, height):
        cal = cal.scaled(width, height)
    when: Any = args.epoch
    if when is None:
        times = np.asarray(ds["time"].values if "time" in ds.variables else [], "datetime64[ns]")
        known = times[~np.isnat(times)]
        if not known.size:
            raise OptionError(
                "cannot tell the AACGM epoch of the cell grid: the label set's file names "
                "carry no time; pass --epoch YEAR, or --cells 0 to skip the cell scores"
            )
        when = str(known[0])
    return _camera_cells(get_station(args.station).to_attrs(), cal, args, when)


def cube_cells(ds: xr.Dataset, args: argparse.Namespace) -> np.ndarray:
    """The cell index of a cube (``args``: ``cells``, ``min_elevation``, ``altitude_km``)."""
    import numpy as np

    from ..cube.grid import cell_grid

    grid = cell_grid(
        ds, n_cells=args.cells, min_elevation=args.min_elevation, altitude_km=args.altitude_km
    )
    return np.asarray(grid["cell_index"].values)
