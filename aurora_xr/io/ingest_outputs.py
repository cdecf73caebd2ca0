"""What an output file of ingest holds and what it must hold: existing outputs, expectations.

* :class:`ExistingOutput`: an output already in the destination (its times, frame size,
  dtype, channels, per-frame variables, attributes and calibration), read without its frames;
  it is accepted with any per-frame ``(time,)`` header variables, refused (left untouched) if
  it holds other variables ingest does not manage.
* :class:`Expected`: the frame size, dtype and channels an output takes (from the existing
  output, the calibration, or most frames of the station and band), with the reason that a
  misfit is skipped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from ..cube.coords import SKYMAP_ALTITUDE, SKYMAP_LATITUDE, SKYMAP_LONGITUDE
from ..errors import IngestError
from .ingest_layout import MANAGED, CubeCamera

__all__ = ["ExistingOutput", "Expected", "majority", "read_existing"]

_GRIDS = {"elevation", "azimuth", SKYMAP_ALTITUDE, SKYMAP_LATITUDE, SKYMAP_LONGITUDE}


@dataclass
class ExistingOutput:
    """An output already in the destination folder (read without its frames)."""

    path: str
    times: NDArray[np.int64]
    height: int
    width: int
    dtype: str
    channels: tuple[str, ...]
    variables: set[str]
    frame_variables: dict[str, str]
    attrs: dict[str, Any]
    camera: CubeCamera = field(default_factory=CubeCamera.none)


def read_existing(path: Path) -> ExistingOutput:
    """Read an output's coordinates, attributes and grids.

    Raises
    ------
    IngestError
        If the file is not an image cube, or holds variables ingest does not manage.
    """
    with xr.open_dataset(path, cache=False) as ds:
        if "image" not in ds.variables or "time" not in ds.coords:
            raise IngestError(f"{path} is not an image cube (no 'image' or 'time')")
        image = ds["image"]
        if tuple(image.dims) != ("time", "y", "x", "channel"):
            raise IngestError(
                f"{path}: expected image on (time, y, x, channel); found {image.dims}"
            )
        frame_vars: dict[str, str] = {}
        foreign: list[str] = []
        for name, var in ds.data_vars.items():
            key = str(name)
            if key in MANAGED or key in _GRIDS:
                continue
            if tuple(var.dims) == ("time",):
                frame_vars[key] = "U" if var.dtype.kind in "OUS" else "f"
            else:
                foreign.append(key)
        if foreign:
            raise IngestError(
                f"{path} holds variables ingest does not manage ({', '.join(sorted(foreign))})"
            )
        attrs = dict(ds.attrs)
        camera = CubeCamera(attrs={k: v for k, v in attrs.items() if k.startswith("calibration_")})
        if "elevation" in ds.variables and "azimuth" in ds.variables:
            camera.elevation = np.asarray(ds["elevation"].values, np.float32)
            camera.azimuth = np.asarray(ds["azimuth"].values, np.float32)
        if SKYMAP_LATITUDE in ds.variables and SKYMAP_ALTITUDE in ds.variables:
            camera.altitudes_km = tuple(float(a) for a in ds[SKYMAP_ALTITUDE].values)
            camera.latitude = np.asarray(ds[SKYMAP_LATITUDE].values, np.float32)
            camera.longitude = np.asarray(ds[SKYMAP_LONGITUDE].values, np.float32)
        channels = (
            tuple(str(c) for c in ds["channel"].values)
            if "channel" in ds.coords
            else ("R", "G", "B")
        )
        return ExistingOutput(
            path=str(path),
            times=ds["time"].values.astype("datetime64[ns]").astype(np.int64),
            height=int(image.sizes["y"]),
            width=int(image.sizes["x"]),
            dtype=np.dtype(image.dtype).name,
            channels=channels,
            variables={str(n) for n in ds.data_vars},
            frame_variables=frame_vars,
            attrs=attrs,
            camera=camera,
        )


@dataclass
class Expected:
    """The frames an output takes: size, dtype, channels, and where that comes from."""

    height: int | None
    width: int | None
    dtype: str | None
    channels: tuple[str, ...] | None
    source: str

    def misfit(self, height: int, width: int, dtype: str, channels: tuple[str, ...]) -> str | None:
        """Why a frame of this layout does not fit (None when it does)."""
        known_size = self.width is not None and self.height is not None
        if known_size and (width, height) != (self.width, self.height):
            return (
                f"frame size {width}x{height} differs from {self.width}x{self.height} "
                f"({self.source})"
            )
        if self.dtype is not None and dtype != self.dtype:
            bits, want = 8 * np.dtype(dtype).itemsize, 8 * np.dtype(self.dtype).itemsize
            return f"{bits}-bit frame differs from the {want}-bit frames of {self.source}"
        if self.channels is not None and tuple(channels) != tuple(self.channels):
            return (
                f"channels {', '.join(channels)} differ from {', '.join(self.channels)} "
                f"({self.source}): files of other channels cannot share an output"
            )
        return None


def majority(layouts: Iterable[tuple[tuple[int, int, str, tuple[str, ...]], int]]) -> Expected:
    """The layout of most frames: ``((height, width, dtype, channels), n_frames)`` pairs."""
    votes: Counter[tuple[int, int, str, tuple[str, ...]]] = Counter()
    for layout, n in layouts:
        votes[layout] += n
    if not votes:
        return Expected(None, None, None, None, "")
    (height, width, dtype, channels), _ = votes.most_common(1)[0]
    return Expected(height, width, dtype, channels, "most frames of the station")
