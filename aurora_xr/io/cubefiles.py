"""Reading and writing image cubes and products (no science here).

* :func:`open_cube`: one NetCDF file, a glob pattern, a folder or a list of
  files -> one lazy cube, dask-chunked along time only, checked against the
  data model.
* :func:`write_netcdf`, :func:`write_product`: atomic NetCDF-4 writers
  (temporary file in the same folder, then rename).
* :func:`ingest`: the files a camera writes -> one NetCDF-4 cube per UT period
  (see :mod:`aurora_xr.io.ingestion`).
* :func:`cube_from_frames`: frames in memory -> a cube of the data model.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr
from dask.base import tokenize

from ..cube.build import TRUTH_VARIABLES, VARIABLE_ATTRS, cube_from_frames, decode_cube
from ..cube.schema import check_times, validate_cube
from ..errors import (
    AuroraXrError,
    CalibrationError,
    FrameSizeError,
    NoFilesFoundError,
    OptionError,
    SchemaError,
    TimeOrderError,
)
from ..sky.camera import camera_kind
from ..sky.lens import require_calibration
from .files import resolve_paths
from .ingestion import IngestReport, ingest
from .netcdf import write_netcdf, write_product
from .netcdf_read import open_netcdf

__all__ = [
    "DEFAULT_TIME_CHUNK",
    "IngestReport",
    "NoFilesFoundError",
    "cube_from_frames",
    "ingest",
    "open_cube",
    "write_netcdf",
    "write_product",
]

DEFAULT_TIME_CHUNK = 64
"""Frames per dask chunk of a cube opened by :func:`open_cube`."""

PathLike = str | os.PathLike[str]


def _time_chunk(chunks: int | Mapping[Hashable, int] | None, time_dim: Hashable) -> int:
    if chunks is None:
        return DEFAULT_TIME_CHUNK
    if isinstance(chunks, Mapping):
        other = [k for k in chunks if k != time_dim]
        if other:
            raise OptionError(
                f"cubes are chunked along {time_dim!r} only (whole frames per chunk); "
                f"found chunks for {other}"
            )
        value = chunks.get(time_dim, DEFAULT_TIME_CHUNK)
    else:
        value = chunks
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise OptionError(f"expected a positive number of frames per chunk; found {value!r}")
    return int(value)


def _with_file(path: Path, exc: AuroraXrError) -> AuroraXrError:
    """The same error, naming the file it came from."""
    return type(exc)(f"{path}: {exc}")


def _open_one(
    path: Path,
    *,
    time_chunk: int,
    engine: str | None,
    time_dim: Hashable,
    channel_dim: Hashable,
    kwargs: dict[str, Any],
    grids: xr.Dataset | None = None,
) -> xr.Dataset:
    """One file, lazily; ``grids`` (elevation/azimuth of a first file) are reused, not read."""
    options = {"cache": False, **kwargs}
    try:
        raw = open_netcdf(path, engine=engine, chunks=None, **options)
    except (OSError, ValueError) as exc:
        raise SchemaError(f"{path}: cannot be opened as NetCDF ({exc})") from exc
    if grids is not None:
        shared = {
            name: grids[name]
            for name in ("elevation", "azimuth")
            if name in raw.variables
            and name in grids.variables
            and raw[name].shape == grids[name].shape
        }
        raw = raw.drop_vars(list(shared)).assign_coords(shared)
    ds = decode_cube(raw, channel_dim=channel_dim)
    token = tokenize(os.fspath(path), path.stat().st_mtime_ns, engine, time_chunk)
    chunked: dict[Hashable, xr.Variable] = {}
    for name, var in ds.variables.items():
        if time_dim in var.dims and name not in ds.indexes:
            chunks = {d: (time_chunk if d == time_dim else -1) for d in var.dims}
            chunked[name] = var.chunk(
                chunks, from_array_kwargs={"name": f"open_cube-{name}-{token}"}
            )
    out = ds.copy()
    for name, var in chunked.items():
        out[name] = var
    out.set_close(raw.close)
    return out


def _closer(datasets: list[xr.Dataset]) -> Any:
    def close() -> None:
        for ds in datasets:
            ds.close()

    return close


def _harmonise_truth(datasets: list[xr.Dataset], time_dim: Hashable) -> list[xr.Dataset]:
    """Give every file the truth and per-frame variables that some files have.

    Missing truth is lazy all-False (``truth_available`` False); a missing per-frame header
    variable is NaN (numbers) or ``""`` (text), as ingest writes for a file that lacks a key.
    """
    present = {name for ds in datasets for name in TRUTH_VARIABLES if name in ds.variables}
    headers: dict[Hashable, xr.DataArray] = {}
    for ds in datasets:
        for name, var in ds.data_vars.items():
            if name not in TRUTH_VARIABLES and tuple(var.dims) == (time_dim,):
                headers.setdefault(name, var)
    if not present and not headers:
        return datasets
    if "aurora_truth" in present:
        present.add("truth_available")
    out = []
    for ds in datasets:
        n = ds.sizes[time_dim]
        had_truth = "aurora_truth" in ds.variables
        along = ds.chunksizes.get(time_dim, (n,))
        for name in sorted(present - set(ds.variables)):
            if name == "truth_available":  # True where a file has truth but no flag
                data = (da.ones if had_truth else da.zeros)((n,), dtype=bool, chunks=(along,))
                ds = ds.assign({name: ((time_dim,), data, VARIABLE_ATTRS[name])})
                continue
            template = next(d[name] for d in datasets if name in d.variables)
            shape = tuple(n if d == time_dim else template.sizes[d] for d in template.dims)
            chunks = tuple(along if d == time_dim else (template.sizes[d],) for d in template.dims)
            data = da.zeros(shape, dtype=template.dtype, chunks=chunks)
            ds = ds.assign({name: (template.dims, data, template.attrs)})
        for name, template in headers.items():
            if name in ds.variables:
                continue
            text = template.dtype.kind in "OUS"
            fill = da.full(
                (n,), "" if text else np.nan, dtype=object if text else np.float64, chunks=(along,)
            )
            ds = ds.assign({name: ((time_dim,), fill, template.attrs)})
        out.append(ds)
    return out


def _camera_identity(attrs: Mapping[Hashable, Any]) -> str:
    """What must agree between files: no calibration, the lens, or the skymap checksum."""
    kind = camera_kind({str(k): v for k, v in attrs.items()})
    if kind is None:
        return "no calibration"
    if kind == "skymap":
        return f"the skymap {attrs.get('calibration_name')!r} ({attrs.get('calibration_checksum')})"
    return f"the lens {require_calibration({str(k): v for k, v in attrs.items()})}"


def _check_files(
    datasets: list[tuple[Path, xr.Dataset]],
    *,
    image_var: Hashable,
    time_dim: Hashable,
    y_dim: Hashable,
    x_dim: Hashable,
    channel_dim: Hashable,
    check_calibration: bool,
) -> list[tuple[Path, xr.Dataset]]:
    """Same frame size and calibration everywhere; files in time order, not overlapping."""
    first_path, first = datasets[0]
    size = (first[image_var].sizes[x_dim], first[image_var].sizes[y_dim])
    for path, ds in datasets[1:]:
        other = (ds[image_var].sizes[x_dim], ds[image_var].sizes[y_dim])
        if other != size:
            raise FrameSizeError(
                f"expected frames of {size[0]}x{size[1]} in every file (as in {first_path}); "
                f"found {other[0]}x{other[1]} in {path}"
            )
    cals = {}
    for path, ds in datasets if check_calibration else []:
        try:
            cals[path] = _camera_identity(ds.attrs)
        except AuroraXrError as exc:
            raise _with_file(path, exc) from exc
    for path, _ in datasets[1:] if check_calibration else []:
        if cals[path] != cals[first_path]:
            raise CalibrationError(
                f"expected one camera calibration for all files; {path} has "
                f"{cals[path]}, {first_path} has {cals[first_path]}"
            )
    channels = {
        path: tuple(str(c) for c in ds[channel_dim].values) if channel_dim in ds.coords else ()
        for path, ds in datasets
    }
    for path, _ in datasets[1:]:
        if channels[path] != channels[first_path]:
            raise SchemaError(
                f"expected the same channels in every file; {path} has "
                f"{', '.join(channels[path])}, {first_path} has {', '.join(channels[first_path])}"
            )
    stations = {str(ds.attrs.get("station_code", "")) for _, ds in datasets}
    if len(stations) > 1:
        raise SchemaError(f"expected files of one station; found {sorted(stations)}")
    nonempty = [(p, d) for p, d in datasets if d.sizes.get(time_dim, 0)]
    nonempty.sort(key=lambda item: item[1][time_dim].values[0])
    for (p0, d0), (p1, d1) in itertools.pairwise(nonempty):
        last, first_next = d0[time_dim].values[-1], d1[time_dim].values[0]
        if first_next == last:
            raise TimeOrderError(
                f"expected unique times across files; found {first_next} in {p0} and {p1}"
            )
        if first_next < last:
            raise TimeOrderError(
                f"expected files that do not overlap in time; {p1} starts at {first_next}, "
                f"before {p0} ends at {last}"
            )
    return nonempty + [(p, d) for p, d in datasets if not d.sizes.get(time_dim, 0)]


def open_cube(
    paths: PathLike | Sequence[PathLike],
    *,
    chunks: int | Mapping[Hashable, int] | None = None,
    engine: str | None = None,
    validate: bool = True,
    image_var: Hashable = "image",
    time_dim: Hashable = "time",
    y_dim: Hashable = "y",
    x_dim: Hashable = "x",
    channel_dim: Hashable = "channel",
    **kwargs: Any,
) -> xr.Dataset:
    """Open image cube files as one lazy cube, chunked along time only.

    Parameters
    ----------
    paths : str, path-like or sequence of those
        A NetCDF file, a glob pattern (``"cubes/JBS_2020*.nc"``, ``**`` allowed),
        a folder (its ``*.nc`` files) or a list of files. Several files are
        combined along time in time order, as ``xr.open_mfdataset(...,
        combine="by_coords")`` would, after the checks below.
    chunks : int or {time_dim: int}, optional
        Frames per dask chunk (default :data:`DEFAULT_TIME_CHUNK`). A chunk
        always holds whole frames: ``y``, ``x`` and ``channel`` are never split.
    engine : str, optional
        xarray backend (``"netcdf4"``, ``"h5netcdf"``); xarray's choice by default.
        The backend's default lock is kept (netCDF4 is not thread-safe).
    validate : bool
        Check the data model (:func:`aurora_xr.cube.schema.validate_cube`; the
        calibration only when the cube records one: a cube ingested without a
        calibration has no ``elevation``/``azimuth`` and is valid) and that all files
        share one calibration (or none) and one set of channels. Files are always checked for equal
        frame sizes and for times that neither repeat nor overlap, which the
        combination needs.
    image_var, time_dim, y_dim, x_dim, channel_dim : str
        Names of the frames variable and of the dimensions.
    **kwargs
        Passed on to :func:`xarray.open_dataset`.

    Returns
    -------
    xarray.Dataset
        The cube; the frames (and truth masks) are dask arrays, nothing is
        read but coordinates and ``elevation``/``azimuth`` (kept in memory).

    Raises
    ------
    NoFilesFoundError
        If no file matches (also a ``FileNotFoundError``).
    MissingDimensionError, MissingVariableError, DtypeError
        If the image is missing or has other dims or dtype.
    TimeOrderError
        If times are unsorted or repeated, within or across files.
    FrameSizeError
        If files hold frames of different sizes, or not the calibration's size.
    CalibrationError
        If the calibration attributes are malformed or differ between files (also when
        some files have a calibration and others none).
    SchemaError
        If files hold other channels (e.g. the cubes of two bands of a filter wheel).

    Examples
    --------
    >>> cube = open_cube("archive/nc/JBS_2020*.nc")  # doctest: +SKIP
    >>> cube.image.chunks[1:]  # doctest: +SKIP
    ((512,), (512,), (3,))
    """
    time_chunk = _time_chunk(chunks, time_dim)
    files = resolve_paths(paths)
    opened: list[tuple[Path, xr.Dataset]] = []
    try:
        for path in files:
            ds = _open_one(
                path,
                time_chunk=time_chunk,
                engine=engine,
                time_dim=time_dim,
                channel_dim=channel_dim,
                kwargs=kwargs,
                grids=opened[0][1] if opened else None,
            )
            opened.append((path, ds))
            if validate:
                try:
                    validate_cube(
                        ds,
                        image_var=image_var,
                        time_dim=time_dim,
                        y_dim=y_dim,
                        x_dim=x_dim,
                        channel_dim=channel_dim,
                        check_calibration=_has_calibration(ds),
                    )
                except AuroraXrError as exc:
                    raise _with_file(path, exc) from exc
            elif time_dim in ds.coords:
                check_times(ds[time_dim], name=str(time_dim))
        if len(opened) == 1:
            return opened[0][1]
        opened = _check_files(
            opened,
            image_var=image_var,
            time_dim=time_dim,
            y_dim=y_dim,
            x_dim=x_dim,
            channel_dim=channel_dim,
            check_calibration=validate,
        )
        parts = _harmonise_truth([d for _, d in opened], time_dim)
        try:
            cube = xr.concat(
                parts,
                dim=time_dim,
                data_vars="minimal",
                coords="minimal",
                compat="override",
                join="outer",
                combine_attrs="override",
            )
        except ValueError as exc:  # e.g. a per-frame variable only some files have
            raise SchemaError(
                f"expected files with the same variables along {time_dim!r}; "
                f"cannot combine {len(parts)} files: {exc}"
            ) from exc
    except BaseException:
        for _, ds in opened:
            ds.close()
        raise
    cube.set_close(_closer([ds for _, ds in opened]))
    if validate:
        validate_cube(
            cube,
            image_var=image_var,
            time_dim=time_dim,
            y_dim=y_dim,
            x_dim=x_dim,
            channel_dim=channel_dim,
            check_calibration=_has_calibration(cube),
        )
    return cube


def _has_calibration(ds: xr.Dataset) -> bool:
    """Whether a cube records a calibration, or grids that need one.

    A cube with neither (a new camera ingested before its calibration) is valid.
    """
    grids = any(name in ds.variables for name in ("elevation", "azimuth"))
    return grids or camera_kind({str(k): v for k, v in ds.attrs.items()}) is not None
