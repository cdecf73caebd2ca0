"""How aurora_xr encodes variables and attributes in NetCDF-4 files.

Compression and chunks of whole frames (:func:`default_encoding`), exact int64
times (:func:`time_encoding`), and attribute values NetCDF can hold
(:func:`netcdf_safe_attrs`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Hashable, Mapping
from datetime import date, datetime
from typing import Any

import numpy as np
import xarray as xr

from ..errors import OptionError

__all__ = ["MAX_CHUNK_BYTES", "default_encoding", "netcdf_safe_attrs", "time_encoding"]

MAX_CHUNK_BYTES = 4 * 2**20
"""Upper bound of the on-disk chunk of a time-dependent variable (bytes)."""


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
