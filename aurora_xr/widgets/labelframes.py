"""The frames a labelling session works through, from any source the tool takes.

:func:`frame_set` turns a folder of camera files, a list of files, an image cube or a label
set from :func:`aurora_xr.labels.read_labels` into a :class:`FrameSet`: one
:class:`FrameEntry` per frame with a unique *stem* (the name its mask is saved under), its UT
time when known, and how to load its pixels (lazily, one frame at a time; a multi-frame
camera file is read once for its frames in turn). Camera files go through the format registry
:func:`aurora_xr.io.formats.read_file`, so every camera format the package reads can be
labelled; frames keep their stored dtype (uint8 or uint16) and channels.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from ..errors import LabelError, NoFilesFoundError, OptionError, SchemaError
from ..io.formats import available_formats, read_file, read_file_header
from ..io.imagefiles import time_from_name, time_regex
from ..sky.stations import station_from_attrs

__all__ = ["COPYABLE_SUFFIXES", "FrameEntry", "FrameSet", "frame_set"]

COPYABLE_SUFFIXES = (".png", ".jpg", ".jpeg")
"""Single-frame files that ``read_labels`` reads as they are: copied into ``images/``."""

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class FrameEntry:
    """One frame to label.

    Attributes
    ----------
    stem : str
        Unique name: the mask is saved as ``masks/<stem>.png``.
    time : numpy.datetime64
        UT time of the frame (NaT when unknown).
    file : pathlib.Path or None
        The camera file holding the frame (None for frames from a Dataset).
    index : int
        Position of the frame in its file or Dataset.
    copyable : bool
        The file is a single-frame PNG or JPEG that ``read_labels`` reads: it is copied into
        ``images/`` as it is (other frames are written as PNG).
    has_mask : bool
        The source carries a mask for it (a label set being edited).
    """

    stem: str
    time: np.datetime64
    file: Path | None
    index: int
    copyable: bool = False
    has_mask: bool = False


@dataclass
class FrameSet:
    """Frames with their names, times and loaders.

    Attributes
    ----------
    entries : list of FrameEntry
    station : tuple of float or None
        Geographic position of the camera, ``(latitude, longitude)`` in degrees, for nights
        and MLT.
    lens : (H, W) ndarray of bool or None
        The pixels inside the lens (from a cube's ``elevation``), for uncertainties.
    conditions : list of hashable or None
        A sky condition per frame (e.g. ``"moon"``, ``"cloud"``), for the ranking.
    """

    entries: list[FrameEntry]
    station: tuple[float, float] | None = None
    lens: NDArray[np.bool_] | None = None
    conditions: list[Hashable] | None = None
    _load: Callable[[FrameEntry], NDArray[Any]] | None = None
    _load_mask: Callable[[FrameEntry], NDArray[np.bool_]] | None = None
    _cache: OrderedDict[Any, NDArray[Any]] = field(default_factory=OrderedDict)
    cache_size: int = 4

    def __len__(self) -> int:
        return len(self.entries)

    def frame(self, i: int) -> NDArray[np.unsignedinteger[Any]]:
        """Frame ``i`` as ``(H, W, C)`` uint8 or uint16 (C = 3 for colour, 1 for one band)."""
        entry = self.entries[i]
        key = (entry.file, entry.index) if entry.file is not None else ("ds", entry.index)
        if key not in self._cache:
            if self._load is None:  # pragma: no cover - every constructor sets it
                raise OptionError("this frame set has no loader")
            self._cache[key] = self._load(entry)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        self._cache.move_to_end(key)
        return self._cache[key]

    def source_mask(self, i: int) -> NDArray[np.bool_] | None:
        """The mask the source carries for frame ``i`` (a label set), else None."""
        entry = self.entries[i]
        if not entry.has_mask or self._load_mask is None:
            return None
        return np.asarray(self._load_mask(entry), dtype=bool)

    @property
    def times(self) -> NDArray[np.datetime64]:
        """UT times of the frames (NaT where unknown)."""
        return np.array([e.time for e in self.entries], dtype="datetime64[ns]")


def _with_channel_axis(frame: NDArray[Any]) -> NDArray[Any]:
    """``(H, W)`` -> ``(H, W, 1)``; ``(H, W, 3)`` as it is."""
    return frame[..., None] if frame.ndim == 2 else frame


def _camera_suffixes() -> tuple[str, ...]:
    return tuple(sorted({e for f in available_formats() for e in f.extensions}))


def _base_name(path: Path, suffixes: Sequence[str]) -> str:
    name = path.name
    for suffix in sorted(suffixes, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def _file_list(source: PathLike | Sequence[PathLike]) -> list[Path]:
    suffixes = _camera_suffixes()
    if isinstance(source, str | os.PathLike):
        folder = Path(source)
        if not folder.is_dir():
            raise NoFilesFoundError(f"expected a folder of frames; found no folder {folder}")
        if (folder / "images").is_dir():
            folder = folder / "images"
        files = sorted(
            p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(suffixes)
        )
        if not files:
            raise NoFilesFoundError(
                f"no camera files in {folder} (expected names ending with {', '.join(suffixes)})"
            )
        return files
    files = [Path(p) for p in source]
    if not files:
        raise NoFilesFoundError("expected at least one image file; found an empty list")
    missing = [str(p) for p in files if not p.is_file()]
    if missing:
        raise NoFilesFoundError(f"no such image file(s): {', '.join(missing[:5])}")
    return files


def _name_time(name: str, time_pattern: str | None) -> np.datetime64:
    nat = np.datetime64("NaT", "ns")
    if time_pattern is None:
        return nat
    found = time_from_name(name, time_regex(time_pattern), time_pattern)
    return nat if found is None else found.astype("datetime64[ns]")


def _files_set(files: list[Path], time_pattern: str | None) -> FrameSet:
    suffixes = _camera_suffixes()
    entries: list[FrameEntry] = []
    for path in files:
        header = read_file_header(path)
        base = _base_name(path, suffixes)
        single = header.n_frames == 1
        stored = (
            np.full(header.n_frames, np.datetime64("NaT", "ns"))
            if header.times is None
            else np.asarray(header.times, dtype="datetime64[ns]")
        )
        for k in range(header.n_frames):
            known = not np.isnat(stored[k])
            when = stored[k] if known else _name_time(path.name, time_pattern)
            stem = base
            if not single:
                stem = f"{base}_{k:03d}"
                if known:
                    stem += f"_{when.astype('datetime64[s]').item():%Y%m%d_%H%M%S}"
            copyable = single and path.name.lower().endswith(COPYABLE_SUFFIXES)
            entries.append(FrameEntry(stem, when, path, k, copyable))
    _check_unique(entries)

    def load(entry: FrameEntry) -> NDArray[Any]:
        assert entry.file is not None
        result = read_file(entry.file)
        position = entry.index
        if result.index is not None and entry.index in result.index.tolist():
            position = result.index.tolist().index(entry.index)
        elif entry.index >= result.frames.shape[0]:
            raise LabelError(f"{entry.file}: frame {entry.index} could not be read")
        return _with_channel_axis(result.frames[position])

    return FrameSet(entries, _load=load)


def _check_unique(entries: list[FrameEntry]) -> None:
    seen: dict[str, FrameEntry] = {}
    for e in entries:
        if e.stem in seen:
            raise LabelError(
                f"two frames would be saved as {e.stem!r}: {seen[e.stem].file} and {e.file} "
                "(rename one, or label them in separate sessions)"
            )
        seen[e.stem] = e


def _cube_conditions(ds: xr.Dataset, time_dim: Hashable) -> list[Hashable] | None:
    parts: list[list[str]] = []
    if "moon_up" in ds.variables and ds["moon_up"].dims == (time_dim,):
        moon = np.asarray(ds["moon_up"].values, dtype=float)
        parts.append(["moon" if v > 0 else "dark" for v in np.nan_to_num(moon)])
    if "cloud_fraction" in ds.variables and ds["cloud_fraction"].dims == (time_dim,):
        cloud = np.asarray(ds["cloud_fraction"].values, dtype=float)
        parts.append(["cloudy" if v >= 0.5 else "clear" for v in np.nan_to_num(cloud)])
    if not parts:
        return None
    return ["/".join(p) for p in zip(*parts, strict=True)]


def _dataset_set(ds: xr.Dataset, names: dict[str, Hashable], time_pattern: str | None) -> FrameSet:
    image_var, frame_dim = names["image_var"], names["frame_dim"]
    time_dim = names["time_dim"]
    if image_var not in ds.data_vars:
        raise SchemaError(
            f"expected an image variable {image_var!r}; found "
            f"{', '.join(map(str, ds.data_vars)) or 'no variables'}"
        )
    image = ds[image_var]
    mask_var = names["mask_var"]
    labelled = frame_dim in image.dims and mask_var in ds.data_vars
    dim = frame_dim if labelled else time_dim
    if dim not in image.dims or image.ndim != 4:
        raise SchemaError(
            f"expected {image_var!r} on ({time_dim!r} or {frame_dim!r}, y, x, channel); "
            f"found dims {tuple(image.dims)}"
        )
    n = ds.sizes[dim]
    if n == 0:
        raise SchemaError(f"the dataset has no frames along {dim!r}")
    times = (
        np.asarray(ds[time_dim].values, dtype="datetime64[ns]").reshape(-1)
        if time_dim in ds.coords and ds[time_dim].dims == (dim,)
        else np.full(n, np.datetime64("NaT", "ns"))
    )
    entries: list[FrameEntry] = []
    if labelled:
        sources = [str(s) for s in ds["source"].values] if "source" in ds.coords else [""] * n
        for i, src in enumerate(sources):
            path = Path(src) if src else None
            stem = path.stem if path is not None else f"frame_{i:05d}"
            copyable = path is not None and path.suffix.lower() in COPYABLE_SUFFIXES
            entries.append(FrameEntry(stem, times[i], path, i, copyable, has_mask=True))
    else:
        code = str(ds.attrs.get("station_code", "") or "frame")
        for i, when in enumerate(times):
            label = (
                "nat" if np.isnat(when) else f"{when.astype('datetime64[s]').item():%Y%m%d_%H%M%S}"
            )
            entries.append(FrameEntry(f"{code}_{label}", when, None, i))
    if any(np.isnat(e.time) for e in entries) and not labelled:
        entries = [
            FrameEntry(f"{e.stem}_{i:05d}" if np.isnat(e.time) else e.stem, e.time, None, i)
            for i, e in enumerate(entries)
        ]
    _check_unique(entries)
    station = None
    if "station_latitude" in ds.attrs and "station_longitude" in ds.attrs:
        _, lat, lon, _ = station_from_attrs(dict(ds.attrs))
        station = (lat, lon)
    lens = None
    if "elevation" in ds.variables and ds["elevation"].ndim == 2:
        lens = np.isfinite(np.asarray(ds["elevation"].values))

    def load(entry: FrameEntry) -> NDArray[Any]:
        return np.asarray(image.isel({dim: entry.index}).values)

    def load_mask(entry: FrameEntry) -> NDArray[np.bool_]:
        return np.asarray(ds[mask_var].isel({dim: entry.index}).values, dtype=bool)

    return FrameSet(
        entries,
        station=station,
        lens=lens,
        conditions=None if labelled else _cube_conditions(ds, time_dim),
        _load=load,
        _load_mask=load_mask if labelled else None,
    )


def frame_set(
    source: Any,
    *,
    time_pattern: str | None = "%Y%m%d_%H%M%S",
    image_var: Hashable = "image",
    mask_var: Hashable = "mask",
    time_dim: Hashable = "time",
    frame_dim: Hashable = "frame",
) -> FrameSet:
    """The frames of ``source``, lazily.

    Parameters
    ----------
    source : path-like, sequence of path-like, or xarray.Dataset
        A folder of camera files (its ``images/`` sub-folder when it has one; not searched
        recursively), a list of camera files (any format of :mod:`aurora_xr.io.formats`;
        a file with several frames gives one entry per frame, named
        ``<file>_<k>_<YYYYmmdd_HHMMSS>``), an image cube ``image (time, y, x, channel)``, or
        a label set from :func:`aurora_xr.labels.read_labels` (``image (frame, ...)`` and
        ``mask``: its masks are loaded for editing).
    time_pattern : str or None
        strftime pattern of the UT time in file names, for files that hold none.
    image_var, mask_var, time_dim, frame_dim : hashable
        Names in the Dataset.

    Returns
    -------
    FrameSet
    """
    names = {"image_var": image_var, "mask_var": mask_var, "time_dim": time_dim}
    names["frame_dim"] = frame_dim
    if isinstance(source, xr.Dataset):
        return _dataset_set(source, names, time_pattern)
    if isinstance(source, xr.DataArray):
        raise SchemaError(
            "expected a Dataset with an image variable (or a folder or files); found a "
            "DataArray: pass da.to_dataset(name='image')"
        )
    if isinstance(source, str | os.PathLike) or (
        isinstance(source, Sequence) and all(isinstance(p, str | os.PathLike) for p in source)
    ):
        return _files_set(_file_list(source), time_pattern)
    raise OptionError(
        "expected a folder, a list of image files, an image cube or a label set from "
        f"read_labels; found {type(source).__name__}"
    )
