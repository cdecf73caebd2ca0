"""The package's own skymap files: arrays and metadata in ``.npz`` or NetCDF.

:func:`write_skymap` writes a :class:`~aurora_xr.sky.skymap.Skymap` (``elevation``,
``azimuth`` ``(y, x)``, optionally ``latitude``/``longitude`` ``(altitude, y, x)`` with
``altitude_km``, and its name, checksum, validity, orientation and site as metadata);
:func:`read_skymap_arrays` reads such files back, or any ``.npz``/NetCDF file with
``elevation`` and ``azimuth`` variables. NetCDF files are written as NetCDF-3 with
:mod:`scipy.io` (NetCDF-4 files are read with netCDF4).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import CalibrationError, OptionError
from .skymap import Skymap
from .stations import Station

__all__ = ["ARRAY_SUFFIXES", "file_checksum", "read_skymap_arrays", "write_skymap"]

ARRAY_SUFFIXES = (".npz", ".nc", ".nc4", ".netcdf")


def file_checksum(*paths: str | os.PathLike[str]) -> str:
    """SHA-256 (hex) of the bytes of one file, or of several files one after the other."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def text_value(value: Any) -> str:
    """A text attribute of any kind (bytes, 0-d array, str) as a stripped str."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").strip()
    if isinstance(value, np.ndarray) and value.size == 1:
        return text_value(value.item())
    return str(value).strip()


_META = ("name", "checksum", "valid_from", "valid_to", "orientation")
_SITE = ("site_code", "site_name", "site_latitude", "site_longitude", "site_altitude_m")


def write_skymap(skymap: Skymap, path: str | os.PathLike[str]) -> Path:
    """Write a skymap's arrays and metadata to ``.npz`` or NetCDF (``.nc``), atomically.

    The checksum written is the skymap's own (that of its source file), so a skymap read
    back keeps its identity.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in ARRAY_SUFFIXES:
        raise OptionError(
            f"expected a skymap file name ending in {ARRAY_SUFFIXES}; found {p.name!r}"
        )
    arrays: dict[str, NDArray[Any]] = {"elevation": skymap.elevation, "azimuth": skymap.azimuth}
    if skymap.latitude is not None and skymap.longitude is not None:
        arrays.update(latitude=skymap.latitude, longitude=skymap.longitude)
        arrays["altitude_km"] = np.asarray(skymap.altitudes_km, dtype=np.float64)
    meta: dict[str, str | float] = {
        "name": skymap.name,
        "checksum": skymap.checksum,
        "valid_from": "" if skymap.valid_from is None else str(skymap.valid_from),
        "valid_to": "" if skymap.valid_to is None else str(skymap.valid_to),
        "orientation": skymap.orientation,
    }
    if skymap.site is not None:
        s = skymap.site
        meta.update(site_code=s.code, site_name=s.name, site_source=s.source)
        meta.update(site_latitude=s.latitude, site_longitude=s.longitude)
        meta["site_altitude_m"] = s.altitude_m
    tmp = p.with_name(f".{p.name}.tmp{os.getpid()}")
    try:
        if suffix == ".npz":
            fields = {**arrays, **{k: np.asarray(v) for k, v in meta.items()}}
            with open(tmp, "wb") as fh:
                np.savez_compressed(fh, allow_pickle=False, **fields)
        else:
            _write_netcdf(tmp, arrays, meta)
        os.replace(tmp, p)
    finally:
        tmp.unlink(missing_ok=True)
    return p


def _write_netcdf(
    path: Path, arrays: dict[str, NDArray[Any]], meta: dict[str, str | float]
) -> None:
    from scipy.io import netcdf_file

    h, w = arrays["elevation"].shape
    with netcdf_file(path, "w", version=2) as nc:
        nc.createDimension("y", h)
        nc.createDimension("x", w)
        if "latitude" in arrays:
            nc.createDimension("altitude", len(arrays["altitude_km"]))
        for key, value in arrays.items():
            dims = {2: ("y", "x"), 3: ("altitude", "y", "x"), 1: ("altitude",)}[value.ndim]
            var = nc.createVariable(key, value.dtype.newbyteorder("="), dims)
            var[...] = value
            var.units = "km" if key == "altitude_km" else "degrees"
        for key, item in meta.items():  # NetCDF-3 text is bytes: store UTF-8
            setattr(nc, key, item.encode("utf-8") if isinstance(item, str) else np.float64(item))


def _read_netcdf(path: Path) -> tuple[dict[str, NDArray[Any]], dict[str, Any]]:
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic[:3] == b"CDF":
        from scipy.io import netcdf_file

        with netcdf_file(path, "r", mmap=False) as nc:
            arrays = {k: np.array(v[:]) for k, v in nc.variables.items()}
            attrs = dict(nc._attributes)
    else:  # NetCDF-4 (HDF5)
        import netCDF4

        with netCDF4.Dataset(path) as nc:
            nc.set_auto_mask(False)
            arrays = {k: np.array(v[:]) for k, v in nc.variables.items()}
            attrs = {k: nc.getncattr(k) for k in nc.ncattrs()}
    return arrays, {k: text_value(v) if isinstance(v, bytes | str) else v for k, v in attrs.items()}


def read_skymap_arrays(path: str | os.PathLike[str]) -> Skymap:
    """Read a skymap from an ``.npz`` or NetCDF file of arrays (as :func:`write_skymap` writes).

    Variables: ``elevation`` and ``azimuth`` ``(y, x)`` in degrees (NaN outside the field
    of view); optionally ``latitude``/``longitude`` ``(altitude, y, x)`` with
    ``altitude_km``. Metadata (``name``, ``checksum``, ``valid_from``, ``valid_to``,
    ``orientation``, ``site_*``) are optional; without a checksum, the file's is used.
    """
    p = Path(path)
    try:
        if p.suffix.lower() == ".npz":
            with np.load(p, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
            meta = {k: arrays.pop(k).item() for k in [*_META, *_SITE, "site_source"] if k in arrays}
        else:
            arrays, meta = _read_netcdf(p)
    except (OSError, ValueError, KeyError) as exc:
        raise CalibrationError(f"{p.name}: cannot read skymap arrays ({exc})") from None
    missing = [k for k in ("elevation", "azimuth") if k not in arrays]
    if missing:
        raise CalibrationError(
            f"{p.name}: expected variables elevation and azimuth; missing {', '.join(missing)}"
        )
    geo = "latitude" in arrays and "longitude" in arrays
    site = None
    if "site_latitude" in meta and "site_longitude" in meta:
        site = Station(
            code=str(meta.get("site_code") or "SITE"),
            name=str(meta.get("site_name") or ""),
            latitude=float(meta["site_latitude"]),
            longitude=float(meta["site_longitude"]),
            altitude_m=float(meta.get("site_altitude_m", 0.0)),
            source=str(meta.get("site_source") or f"skymap file {p.name}"),
        )
    return Skymap(
        elevation=arrays["elevation"],
        azimuth=arrays["azimuth"],
        name=str(meta.get("name") or p.stem),
        checksum=str(meta.get("checksum") or file_checksum(p)),
        altitudes_km=tuple(np.atleast_1d(arrays.get("altitude_km", []))) if geo else (),
        latitude=arrays.get("latitude") if geo else None,
        longitude=arrays.get("longitude") if geo else None,
        valid_from=_time(meta.get("valid_from")),
        valid_to=_time(meta.get("valid_to")),
        site=site,
        orientation=str(meta.get("orientation") or f"arrays as stored in {p.name}"),
        source=str(p),
    )


def _time(value: Any) -> np.datetime64 | None:
    text = "" if value is None else str(value).strip()
    return np.datetime64(text, "s") if text else None
