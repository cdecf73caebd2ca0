"""NetCDF-4 files: finding them, encoding choices, appending frames, atomic writes.

Every file aurora_xr writes goes through :func:`atomic_output`: the data go to
a hidden temporary file in the destination folder (``.NAME.XXXX.tmp``), which
is flushed to disk and then renamed over the destination with
:func:`os.replace`. A run that is interrupted or fails leaves the old file (if
any) untouched and no partial output behind.

:class:`CubeAppender` writes a cube batch by batch (memory bounded by one
batch); :func:`write_netcdf` and :func:`write_product` write a whole dataset.
"""

from __future__ import annotations

import contextlib
import glob as globmod
import json
import os
import tempfile
import threading
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from ..cube.build import append_history, cf_attributes, cube_from_frames
from ..errors import NoFilesFoundError, OptionError, SchemaError
from ..sky.lens import Calibration
from ..sky.stations import Station

__all__ = [
    "ENGINES",
    "CubeAppender",
    "FrameBatch",
    "NoFilesFoundError",
    "atomic_output",
    "default_encoding",
    "netcdf_safe_attrs",
    "resolve_paths",
    "stack_batches",
    "time_encoding",
    "write_netcdf",
    "write_product",
]

ENGINES = ("netcdf4", "h5netcdf")
"""Engines that write NetCDF-4 (HDF5) files."""

MAX_CHUNK_BYTES = 4 * 2**20
"""Upper bound of the on-disk chunk of a time-dependent variable (bytes)."""

PathLike = str | os.PathLike[str]


# -- finding files -------------------------------------------------------------
def _has_magic(text: str) -> bool:
    return any(c in text for c in "*?[")


def resolve_paths(paths: PathLike | Sequence[PathLike], *, pattern: str = "*.nc") -> list[Path]:
    """Files named by a path, a glob pattern, a folder or a list of those.

    A folder stands for the files in it that match ``pattern`` (hidden files,
    such as the temporary files of an unfinished write, are left out). Glob
    patterns may use ``**`` to descend into sub-folders.

    Raises
    ------
    NoFilesFoundError
        If a path does not exist or nothing matches.
    """
    if isinstance(paths, str | os.PathLike):
        items: list[PathLike] = [paths]
    else:
        items = list(paths)
        if not items:
            raise NoFilesFoundError("expected at least one path; found an empty list")
    found: list[Path] = []
    for item in items:
        text = os.fspath(item)
        if _has_magic(text):
            matches = sorted(Path(p) for p in globmod.glob(text, recursive=True))
            matches = [p for p in matches if p.is_file() and not p.name.startswith(".")]
            if not matches:
                raise NoFilesFoundError(f"expected files matching {text!r}; found none")
            found.extend(matches)
        elif Path(text).is_dir():
            matches = sorted(
                p for p in Path(text).glob(pattern) if p.is_file() and not p.name.startswith(".")
            )
            if not matches:
                raise NoFilesFoundError(
                    f"expected {pattern} files in the folder {text!r}; found none"
                )
            found.extend(matches)
        elif Path(text).is_file():
            found.append(Path(text))
        else:
            raise NoFilesFoundError(f"expected an existing file or folder; found no {text!r}")
    unique: dict[Path, None] = dict.fromkeys(found)
    return list(unique)


# -- atomic writes ---------------------------------------------------------------
_UMASK_LOCK = threading.Lock()
_UMASK: list[int] = []


def _umask() -> int:
    with _UMASK_LOCK:
        if not _UMASK:
            current = os.umask(0o022)
            os.umask(current)
            _UMASK.append(current)
        return _UMASK[0]


@contextlib.contextmanager
def atomic_output(path: PathLike) -> Iterator[Path]:
    """Write ``path`` atomically: yield a temporary path beside it, then rename.

    The caller writes the complete file to the yielded path. When the block
    ends normally the file is synced to disk and renamed over ``path``; when
    it raises (or is interrupted) the temporary file is removed, ``path`` is
    left as it was and the exception propagates. Missing parent folders are
    created.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> with atomic_output(out) as tmp:
    ...     _ = tmp.write_text("complete")
    >>> out.read_text()
    'complete'
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        mode = target.stat().st_mode & 0o7777 if target.exists() else 0o666 & ~_umask()
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


# -- encoding ----------------------------------------------------------------------
_TIME_UNITS = (
    ("seconds", 10**9),
    ("milliseconds", 10**6),
    ("microseconds", 10**3),
    ("nanoseconds", 1),
)


def time_encoding(times: np.ndarray) -> dict[str, Any]:
    """CF encoding of datetimes as int64 counts since 1970-01-01, exact.

    The unit is the coarsest of seconds, milliseconds, microseconds and
    nanoseconds that represents every time exactly.
    """
    ns = np.asarray(times).astype("datetime64[ns]").astype(np.int64)
    unit = "nanoseconds"
    for name, factor in _TIME_UNITS:
        if np.all(ns % factor == 0):
            unit = name
            break
    return {
        "units": f"{unit} since 1970-01-01 00:00:00",
        "calendar": "proleptic_gregorian",
        "dtype": "int64",
    }


def _time_chunk(frame_bytes: int, max_frames: int) -> int:
    return int(max(1, min(max_frames, MAX_CHUNK_BYTES // max(frame_bytes, 1))))


def default_encoding(
    ds: xr.Dataset,
    *,
    time_dim: Hashable = "time",
    time_chunk: int = 64,
    complevel: int = 4,
    unlimited: bool = False,
) -> dict[Hashable, dict[str, Any]]:
    """Compression and chunking for every variable of ``ds``.

    Numeric and boolean variables are compressed with zlib (``complevel``)
    and the byte shuffle filter. Variables on ``time_dim`` are chunked along
    time only: a chunk holds whole frames, at most ``time_chunk`` of them and
    at most about 4 MiB. Datetime variables held in memory are stored as
    exact int64 counts (:func:`time_encoding`). With ``unlimited=True`` the
    chunks do not depend on the current length of ``time_dim`` (so that
    frames can be appended).
    """
    if not 1 <= complevel <= 9:
        raise OptionError(f"complevel must be 1..9; found {complevel}")
    if time_chunk < 1:
        raise OptionError(f"time_chunk must be >= 1; found {time_chunk}")
    encoding: dict[Hashable, dict[str, Any]] = {}
    n_time = ds.sizes.get(time_dim, 0)
    for name, var in ds.variables.items():
        enc: dict[str, Any] = {}
        if var.dtype.kind == "M":
            if var.chunks is None and var.size and not np.any(np.isnat(var.values)):
                enc.update(time_encoding(var.values))
            if time_dim in var.dims and unlimited:
                enc["chunksizes"] = (4096,)
            encoding[name] = enc
            continue
        if var.dtype.kind not in "biuf":
            continue
        if var.ndim:
            enc.update({"zlib": True, "complevel": complevel, "shuffle": True})
        if time_dim in var.dims:
            sizes = dict(zip(var.dims, var.shape, strict=True))
            frame_bytes = int(np.prod([s for d, s in sizes.items() if d != time_dim]))
            frame_bytes *= var.dtype.itemsize
            along = _time_chunk(frame_bytes, time_chunk)
            if var.ndim == 1:
                along = 4096
            if not unlimited:
                along = min(along, max(n_time, 1))
            enc["chunksizes"] = tuple(along if d == time_dim else int(s) for d, s in sizes.items())
        encoding[name] = enc
    return encoding


def _safe_value(value: Any) -> Any:
    if isinstance(value, bool | np.bool_):
        return int(value)
    if isinstance(value, np.datetime64):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, Mapping):
        return json.dumps({str(k): _json_ready(v) for k, v in value.items()}, sort_keys=True)
    if isinstance(value, np.ndarray):
        return value.astype(np.int8) if value.dtype == bool else value
    if isinstance(value, list | tuple):
        items = [_safe_value(v) for v in value]
        if not items:
            return ""
        if all(isinstance(v, str) for v in items) or all(
            isinstance(v, int | float | np.number) for v in items
        ):
            return list(items)
        return json.dumps([_json_ready(v) for v in value])
    return value


def _json_ready(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Mapping):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def netcdf_safe_attrs(attrs: Mapping[Hashable, Any]) -> dict[str, Any]:
    """Attributes that NetCDF can store: bools become 0/1, mappings and mixed
    lists become JSON text, dates ISO text; ``None`` values are dropped."""
    return {str(k): _safe_value(v) for k, v in attrs.items() if v is not None}


# -- appending frames -------------------------------------------------------------------
_EPOCH = np.datetime64("1970-01-01T00:00:00", "ns")


@dataclass
class FrameBatch:
    """Consecutive frames with their times and (optional) truth, for :class:`CubeAppender`."""

    times: NDArray[np.datetime64]
    image: NDArray[np.unsignedinteger]
    truth: NDArray[np.bool_] | None
    kind: NDArray[np.uint8] | None
    available: NDArray[np.bool_] | None


class CubeAppender:
    """Write an image cube to a NetCDF-4 file batch by batch along an unlimited time.

    The first batch creates the file with xarray (data model, CF attributes,
    compression, chunks of whole frames); later batches are appended with
    netCDF4, encoded the same way, so memory holds one batch at a time.
    Write to a temporary path (:func:`atomic_output`) and :meth:`close`
    before it is renamed.
    """

    def __init__(
        self,
        path: Path,
        *,
        station: Station,
        calibration: Calibration,
        attrs: dict[str, Any] | None,
        time_enc: dict[str, Any],
        chunk_frames: int,
    ) -> None:
        self.path = path
        self.station = station
        self.calibration = calibration
        self.attrs = attrs
        self.time_enc = time_enc
        self.chunk_frames = chunk_frames
        self.n = 0
        self._nc: Any = None
        unit = time_enc["units"].split()[0]
        self._factor = {"seconds": 10**9, "milliseconds": 10**6, "microseconds": 10**3}.get(unit, 1)

    def append(self, piece: FrameBatch) -> None:
        """Append frames later than every frame written so far."""
        if self._nc is None:
            self._create(piece)
            return
        k = len(piece.times)
        start, stop = self.n, self.n + k
        nc = self._nc.variables
        ticks = (piece.times.astype("datetime64[ns]") - _EPOCH).astype(np.int64) // self._factor
        nc["time"][start:stop] = ticks
        nc["image"][start:stop] = piece.image
        if piece.truth is not None:
            nc["aurora_truth"][start:stop] = piece.truth.astype(np.int8)
        if piece.available is not None:
            nc["truth_available"][start:stop] = piece.available.astype(np.int8)
        if piece.kind is not None:
            nc["aurora_kind"][start:stop] = piece.kind
        self.n = stop

    def _create(self, piece: FrameBatch) -> None:
        import netCDF4

        ds = cube_from_frames(
            piece.image,
            piece.times,
            station=self.station,
            calibration=self.calibration,
            truth=piece.truth,
            kind=piece.kind,
            truth_available=piece.available,
            source="all-sky camera images (JPEG/PNG) ingested with aurora_xr",
            history="",
        )
        if self.attrs is not None:
            ds.attrs = dict(self.attrs)
        ds.attrs.pop("history", None)
        encoding = default_encoding(ds, time_chunk=self.chunk_frames, unlimited=True)
        encoding["time"] = {**encoding.get("time", {}), **self.time_enc}
        ds.to_netcdf(
            self.path,
            mode="w",
            format="NETCDF4",
            engine="netcdf4",
            encoding=encoding,
            unlimited_dims=["time"],
        )
        self._nc = netCDF4.Dataset(self.path, mode="a")
        self.n = len(piece.times)

    def close(self, history: str | None) -> None:
        """Set ``history`` (if given) and close the file."""
        if self._nc is None:
            return
        if history is not None:
            self._nc.setncattr("history", history)
        self._nc.close()
        self._nc = None


def stack_batches(pieces: list[FrameBatch]) -> FrameBatch:
    """One batch from consecutive batches."""

    def cat(arrays: list[Any]) -> Any:
        return None if arrays[0] is None else np.concatenate(arrays)

    return FrameBatch(
        times=np.concatenate([p.times for p in pieces]),
        image=np.concatenate([p.image for p in pieces]),
        truth=cat([p.truth for p in pieces]),
        kind=cat([p.kind for p in pieces]),
        available=cat([p.available for p in pieces]),
    )


# -- writers ---------------------------------------------------------------------------
def _check_engine(engine: str) -> None:
    if engine not in ENGINES:
        raise OptionError(f"engine must be one of {ENGINES} (NetCDF-4); found {engine!r}")


def _prepare(ds: xr.Dataset | xr.DataArray, history: str) -> xr.Dataset:
    if isinstance(ds, xr.DataArray):
        if ds.name is None:
            raise SchemaError("expected a Dataset or a named DataArray; found an unnamed DataArray")
        ds = ds.to_dataset()
    if not isinstance(ds, xr.Dataset):
        raise SchemaError(f"expected an xarray.Dataset; found {type(ds).__name__}")
    out = cf_attributes(ds.drop_encoding())
    out.attrs = netcdf_safe_attrs(out.attrs)
    out.attrs["history"] = append_history(ds.attrs, history)
    for name in out.variables:
        out[name].attrs = netcdf_safe_attrs(out[name].attrs)
    return out


def _merge_encoding(
    base: dict[Hashable, dict[str, Any]], extra: Mapping[Hashable, Mapping[str, Any]] | None
) -> dict[Hashable, dict[str, Any]]:
    merged = {k: dict(v) for k, v in base.items()}
    for name, enc in (extra or {}).items():
        merged.setdefault(name, {}).update(enc)
    return merged


def write_netcdf(
    ds: xr.Dataset,
    path: PathLike,
    *,
    encoding: Mapping[Hashable, Mapping[str, Any]] | None = None,
    engine: str = "netcdf4",
    time_dim: Hashable = "time",
    time_chunk: int = 64,
    complevel: int = 4,
    history: str = "written with aurora_xr.io.write_netcdf",
) -> Path:
    """Write an image cube (or any dataset) to a NetCDF-4 file, atomically.

    Parameters
    ----------
    ds : xarray.Dataset
        What to write; dask-backed data are computed chunk by chunk.
    path : str or path-like
        Destination; replaced only once the new file is complete.
    encoding : mapping, optional
        Per-variable encoding that overrides the defaults of
        :func:`default_encoding` (zlib level ``complevel`` with shuffle,
        chunks of whole frames along ``time_dim``).
    engine : {"netcdf4", "h5netcdf"}
        Library that writes the file.
    time_dim : str
        Name of the time dimension.
    time_chunk : int
        Most frames in one on-disk chunk.
    complevel : int
        zlib compression level (1..9).
    history : str
        Line appended to the ``history`` attribute (with a UTC time stamp).

    Returns
    -------
    pathlib.Path
        The path written.

    Notes
    -----
    CF attributes (``units``, ``long_name``, ``standard_name`` where one
    exists, ``Conventions``) are added where missing; encodings carried over
    from a file the data were read from are dropped.
    """
    _check_engine(engine)
    out = _prepare(ds, history)
    enc = _merge_encoding(
        default_encoding(out, time_dim=time_dim, time_chunk=time_chunk, complevel=complevel),
        encoding,
    )
    target = Path(path)
    with atomic_output(target) as tmp:
        out.to_netcdf(tmp, mode="w", format="NETCDF4", engine=engine, encoding=enc)  # type: ignore[call-overload]
    return target


def write_product(
    ds: xr.Dataset,
    path: PathLike,
    *,
    encoding: Mapping[Hashable, Mapping[str, Any]] | None = None,
    engine: str = "netcdf4",
    complevel: int = 4,
    history: str = "product written with aurora_xr.io.write_product",
) -> Path:
    """Write a product (occurrence map, cell grid, detections) atomically.

    Same path as :func:`write_netcdf` (temporary file, then rename; CF
    attributes; ``history`` appended; zlib compression). Attribute values
    NetCDF cannot hold are converted (:func:`netcdf_safe_attrs`): bools to
    0/1, mappings and mixed lists to JSON text.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    return write_netcdf(
        ds, path, encoding=encoding, engine=engine, complevel=complevel, history=history
    )
