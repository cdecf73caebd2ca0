"""Image-level labels: a CSV ``frame,aurora`` saying whether each frame shows aurora.

Used to evaluate a detector frame by frame (no masks). ``frame`` is an image file name or a
path relative to the CSV (the file need not be present); ``aurora`` is 1/0, true/false,
yes/no or y/n (any case). The time is read from the frame's name as in ingest.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import LabelError, NoFilesFoundError
from .manifest import IMAGE_LEVEL_COLUMNS, csv_columns
from .pixels import name_times

__all__ = ["read_image_labels"]

PathLike = str | os.PathLike[str]
_TRUE = frozenset({"1", "true", "yes", "y", "t"})
_FALSE = frozenset({"0", "false", "no", "n", "f"})


def read_image_labels(
    source: PathLike,
    *,
    time_pattern: str | None = "%Y%m%d_%H%M%S",
    frame_dim: str = "frame",
) -> xr.Dataset:
    """Read per-frame aurora / no-aurora labels from a ``frame,aurora`` CSV.

    Parameters
    ----------
    source : str or path-like
        The CSV file (header ``frame,aurora``; other columns are ignored).
    time_pattern : str or None
        strftime pattern of the UT time in a frame's file name (as in
        :func:`aurora_xr.io.ingest`); frames whose names carry none get NaT.
    frame_dim : str
        Name of the frame dimension.

    Returns
    -------
    xarray.Dataset
        ``has_aurora (frame)`` bool (not ``aurora``, the name of the accessor), with
        coordinates ``frame_name (frame)`` (the cell as
        written), ``source (frame)`` (the path it resolves to beside the CSV) and
        ``time (frame)`` datetime64[ns].

    Raises
    ------
    NoFilesFoundError
        If the CSV does not exist.
    SchemaError
        For a missing column, an empty frame cell, a value that is not yes/no, or a frame
        listed twice (each naming the file and line).

    Examples
    --------
    >>> labels = read_image_labels("night_labels.csv")  # doctest: +SKIP
    >>> labels.aurora.mean().item()  # fraction of frames with aurora  # doctest: +SKIP
    """
    path = Path(source)
    if not path.is_file():
        raise NoFilesFoundError(f"expected a frame,aurora CSV file; found no file {path}")
    columns = csv_columns(path)
    if any(c not in columns for c in IMAGE_LEVEL_COLUMNS):
        raise LabelError(
            f"{path}: expected image-level labels with columns frame,aurora; found "
            f"{','.join(columns) or 'no header'}"
        )
    i_frame, i_aurora = columns.index("frame"), columns.index("aurora")
    frames: list[str] = []
    values: list[bool] = []
    first_line: dict[str, int] = {}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        next(reader)
        for line, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            frame = cells[i_frame].strip() if i_frame < len(cells) else ""
            value = cells[i_aurora].strip().lower() if i_aurora < len(cells) else ""
            if not frame:
                raise LabelError(f"{path} line {line}: the frame cell is empty")
            if frame in first_line:
                raise LabelError(
                    f"{path} line {line}: frame {frame!r} is listed again (first on line "
                    f"{first_line[frame]})"
                )
            if value in _TRUE:
                values.append(True)
            elif value in _FALSE:
                values.append(False)
            else:
                raise LabelError(
                    f"{path} line {line}: aurora must be 1/0, true/false or yes/no; found {value!r}"
                )
            first_line[frame] = line
            frames.append(frame)
    resolved = [os.fspath(Path(f) if Path(f).is_absolute() else path.parent / f) for f in frames]
    return xr.Dataset(
        {"has_aurora": (frame_dim, np.array(values, dtype=bool))},
        coords={
            "frame_name": (frame_dim, np.array(frames, dtype=str)),
            "source": (frame_dim, np.array(resolved, dtype=str)),
            "time": (frame_dim, name_times([Path(f).name for f in frames], time_pattern)),
        },
        attrs={"label_format": "image-level", "label_source": os.fspath(path)},
    )
