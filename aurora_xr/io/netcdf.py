"""Writing datasets to NetCDF-4 files, atomically.

:func:`write_netcdf` writes an image cube (or any dataset) and :func:`write_product`
a product, both through :func:`aurora_xr.io.files.atomic_output` with the encoding
of :mod:`aurora_xr.io.encoding` (zlib, chunks of whole frames, exact times) and CF
attributes added where missing. :class:`aurora_xr.io.appender.CubeAppender` writes
a cube batch by batch instead.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any

import xarray as xr

from ..cube.build import append_history, cf_attributes
from ..errors import OptionError, SchemaError
from .encoding import default_encoding, netcdf_safe_attrs
from .files import PathLike, atomic_output

__all__ = ["ENGINES", "write_netcdf", "write_product"]

ENGINES = ("netcdf4", "h5netcdf")
"""Engines that write NetCDF-4 (HDF5) files."""


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
