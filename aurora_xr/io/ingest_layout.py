"""The layout of an ingested cube: its grids, attributes and per-frame header variables.

:class:`CubeCamera` is what a cube records of its camera, whichever kind of calibration it
has: the ``calibration_*`` attributes and the ``elevation``/``azimuth`` grids (None for a
cube without calibration), plus the operator's pixel ``skymap_latitude``/``skymap_longitude``
on ``skymap_altitude`` (km) when a skymap gives them. :func:`first_dataset` builds the
in-memory dataset of an output's first batch of frames (the rest is appended with netCDF4).
:func:`frame_columns` merges per-frame header metadata of several files (union of keys, NaN
or ``""`` where a file lacks one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from ..cube.build import CONVENTIONS, TRUTH_VARIABLES, cf_attributes
from ..cube.coords import SKYMAP_ALTITUDE, SKYMAP_LATITUDE, SKYMAP_LONGITUDE
from ..cube.schema import check_channels, check_times
from ..sky.lens import Calibration, sky_grids
from ..sky.skymap import Skymap

__all__ = [
    "MANAGED",
    "CubeCamera",
    "first_dataset",
    "frame_columns",
    "metadata_name",
]

MANAGED = frozenset({"image", "time", "channel", "elevation", "azimuth", *TRUTH_VARIABLES})
"""Variables ingest writes itself; header keys of these names get a ``header_`` prefix."""

_RESERVED = MANAGED | {"x", "y", SKYMAP_ALTITUDE, SKYMAP_LATITUDE, SKYMAP_LONGITUDE}


def metadata_name(key: str) -> str:
    """The variable name of a header key (``header_<key>`` for names ingest uses itself)."""
    return f"header_{key}" if key in _RESERVED else key


@dataclass
class CubeCamera:
    """What a cube records of its calibration (picklable; sent to worker processes).

    Attributes
    ----------
    attrs : dict
        ``calibration_*`` attributes (empty for a cube without calibration).
    elevation : (H, W) ndarray of float32 or None
        Elevation of every pixel in degrees (None without calibration).
    azimuth : (H, W) ndarray of float32 or None
        Azimuth of every pixel in degrees (None without calibration).
    altitudes_km : tuple of float
        Altitudes of ``latitude``/``longitude`` (km), empty if the skymap gives none.
    latitude : (n_alt, H, W) ndarray of float32 or None
        The operator's pixel latitudes at each altitude.
    longitude : (n_alt, H, W) ndarray of float32 or None
        The operator's pixel longitudes at each altitude.
    """

    attrs: dict[str, Any]
    elevation: NDArray[np.float32] | None = None
    azimuth: NDArray[np.float32] | None = None
    altitudes_km: tuple[float, ...] = ()
    latitude: NDArray[np.float32] | None = None
    longitude: NDArray[np.float32] | None = None

    @classmethod
    def none(cls) -> CubeCamera:
        """A cube without calibration (a new camera before its star calibration)."""
        return cls(attrs={})

    @classmethod
    def of(cls, calibration: Calibration | Skymap | None) -> CubeCamera:
        """The record of a lens, a skymap or no calibration."""
        if calibration is None:
            return cls.none()
        if isinstance(calibration, Skymap):
            return cls(
                attrs=calibration.to_attrs(),
                elevation=calibration.elevation,
                azimuth=calibration.azimuth,
                altitudes_km=tuple(calibration.altitudes_km),
                latitude=calibration.latitude,
                longitude=calibration.longitude,
            )
        el, az = sky_grids(calibration)
        return cls(attrs=calibration.to_attrs(), elevation=el, azimuth=az)

    @property
    def identity(self) -> str:
        """What must match between outputs: the lens attributes or the skymap checksum."""
        if not self.attrs:
            return "no calibration"
        if self.attrs.get("calibration_kind") == "skymap":
            name, checksum = (
                self.attrs.get("calibration_name"),
                self.attrs.get("calibration_checksum"),
            )
            return f"skymap {name} ({checksum})"
        lens = Calibration.from_attrs(self.attrs)
        return f"lens {lens}"


def first_dataset(
    image: NDArray[np.unsignedinteger[Any]],
    times: NDArray[np.datetime64],
    *,
    channels: Sequence[str],
    camera: CubeCamera,
    attrs: Mapping[str, Any],
    truth: NDArray[np.bool_] | None = None,
    available: NDArray[np.bool_] | None = None,
    kind: NDArray[np.uint8] | None = None,
    frame_variables: Mapping[str, NDArray[Any]] | None = None,
) -> xr.Dataset:
    """The dataset of an output's first batch: frames ``(T, H, W, C)`` and everything else.

    Raises
    ------
    SchemaError
        For invalid channel names or times that are unsorted or repeated.
    """
    names = check_channels([str(c) for c in channels])
    check_times(np.asarray(times, dtype="datetime64[ns]"))
    data_vars: dict[str, Any] = {"image": (("time", "y", "x", "channel"), image)}
    if truth is not None:
        data_vars["aurora_truth"] = (("time", "y", "x"), truth.astype(bool, copy=False))
        if available is not None:
            data_vars["truth_available"] = (("time",), available.astype(bool, copy=False))
    if kind is not None:
        data_vars["aurora_kind"] = (("time", "y", "x"), kind.astype(np.uint8, copy=False))
    for name, values in (frame_variables or {}).items():
        data_vars[str(name)] = (("time",), values)
    coords: dict[str, Any] = {
        "time": ("time", np.asarray(times, dtype="datetime64[ns]")),
        "channel": ("channel", np.array(names)),
    }
    if camera.elevation is not None and camera.azimuth is not None:
        coords["elevation"] = (("y", "x"), np.asarray(camera.elevation, np.float32))
        coords["azimuth"] = (("y", "x"), np.asarray(camera.azimuth, np.float32))
    if camera.latitude is not None and camera.longitude is not None and camera.altitudes_km:
        coords[SKYMAP_ALTITUDE] = (
            SKYMAP_ALTITUDE,
            np.asarray(camera.altitudes_km, np.float64),
            {"units": "km", "long_name": "emission altitude of the skymap's pixel positions"},
        )
        geo = (SKYMAP_ALTITUDE, "y", "x")
        data_vars[SKYMAP_LATITUDE] = (
            geo,
            np.asarray(camera.latitude, np.float32),
            {"units": "degrees_north", "long_name": "pixel-centre latitude from the skymap"},
        )
        data_vars[SKYMAP_LONGITUDE] = (
            geo,
            np.asarray(camera.longitude, np.float32),
            {"units": "degrees_east", "long_name": "pixel-centre longitude from the skymap"},
        )
    ds = xr.Dataset(data_vars, coords=coords, attrs={"Conventions": CONVENTIONS, **attrs})
    return cf_attributes(ds)


def frame_columns(
    tables: Sequence[tuple[int, Mapping[str, NDArray[Any]]]],
    known: Mapping[str, str] | None = None,
) -> dict[str, NDArray[Any]]:
    """Per-frame metadata of several files as one column per key.

    Parameters
    ----------
    tables : sequence of (n_frames, {key: (n_frames,) array})
        The metadata of each file's frames, in frame order.
    known : mapping of key to kind, optional
        Keys already in the output with their kind (``"f"`` numbers, ``"U"`` text): a key
        keeps its kind (numbers that are text elsewhere become text; text in a number
        column becomes NaN where it is not a number).

    Returns
    -------
    dict of str to ndarray
        float64 (NaN where missing) or str (``""`` where missing) columns, keys in order of
        first appearance.
    """
    kinds: dict[str, str] = dict(known or {})
    order: list[str] = list(kinds)
    for _, table in tables:
        for key, values in table.items():
            name = metadata_name(key)
            kind = "f" if np.asarray(values).dtype.kind in "fiub" else "U"
            if name not in kinds:
                kinds[name] = kind
                order.append(name)
            elif (known is None or name not in known) and kinds[name] != kind:
                kinds[name] = "U"
    total = sum(n for n, _ in tables)
    named = [{metadata_name(k): v for k, v in table.items()} for _, table in tables]
    out: dict[str, NDArray[Any]] = {}
    for name in order:
        text = kinds[name] == "U"
        column = np.full(total, "", dtype=object) if text else np.full(total, np.nan)
        start = 0
        for (n, _), table in zip(tables, named, strict=True):
            found = table.get(name)
            if found is not None:
                column[start : start + n] = _as_kind(np.asarray(found), text)
            start += n
        out[name] = column.astype(str) if text else column
    return out


def _as_kind(values: NDArray[Any], text: bool) -> NDArray[Any]:
    if text:
        if values.dtype.kind == "f":
            return np.array(["" if np.isnan(v) else repr(float(v)) for v in values], dtype=object)
        return values.astype(str).astype(object)
    if values.dtype.kind in "fiub":
        return values.astype(np.float64)
    out = np.full(values.shape, np.nan)
    for i, v in enumerate(values.tolist()):
        try:
            out[i] = float(v)
        except (TypeError, ValueError):
            continue
    return out
