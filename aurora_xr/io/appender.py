"""Writing an image cube to a NetCDF-4 file batch by batch (memory bounded by one batch)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import OptionError
from .encoding import default_encoding
from .ingest_layout import CubeCamera, first_dataset, frame_columns

__all__ = ["COMPRESSIONS", "CubeAppender", "FrameBatch", "image_encoding", "stack_batches"]

_EPOCH = np.datetime64("1970-01-01T00:00:00", "ns")

COMPRESSIONS = ("zlib", "zstd", "none")
"""Codecs of the frames: ``zlib`` (level 1, readable everywhere), ``zstd`` (level 1, about 4x
faster to write; needs an HDF5 with the zstd filter plugin, as the netCDF4 wheels ship, to be
read: not h5py/h5netcdf without ``hdf5plugin``), ``none``."""


def image_encoding(compression: str) -> dict[str, Any]:
    """NetCDF-4 encoding keys of the frames for a codec of :data:`COMPRESSIONS`."""
    if compression == "zlib":
        return {"zlib": True, "complevel": 1, "shuffle": False}
    if compression == "zstd":
        return {"compression": "zstd", "complevel": 1, "shuffle": False}
    if compression == "none":
        return {"zlib": False, "shuffle": False}
    raise OptionError(
        f"compression must be one of {', '.join(COMPRESSIONS)}; found {compression!r}"
    )


@dataclass
class FrameBatch:
    """Consecutive frames with their times, optional truth and per-frame header columns."""

    times: NDArray[np.datetime64]
    image: NDArray[np.unsignedinteger[Any]]
    truth: NDArray[np.bool_] | None
    kind: NDArray[np.uint8] | None
    available: NDArray[np.bool_] | None
    metadata: dict[str, NDArray[Any]] = field(default_factory=dict)


class CubeAppender:
    """Write an image cube to a NetCDF-4 file batch by batch along an unlimited time.

    The first batch creates the file with xarray (data model, CF attributes, compression,
    chunks of whole frames); later batches are appended with netCDF4, encoded the same way,
    so memory holds one batch at a time. A per-frame header variable first seen in a later
    batch is added then (NaN or ``""`` for the frames before). Write to a temporary path
    (:func:`~aurora_xr.io.files.atomic_output`) and :meth:`close` before it is renamed.
    """

    def __init__(
        self,
        path: Path,
        *,
        channels: Sequence[str],
        camera: CubeCamera,
        attrs: Mapping[str, Any],
        time_enc: dict[str, Any],
        chunk_frames: int,
        compression: str = "zlib",
    ) -> None:
        self.path = path
        self.channels = tuple(channels)
        self.camera = camera
        self.attrs = dict(attrs)
        self.time_enc = time_enc
        self.chunk_frames = chunk_frames
        self.compression = compression
        self.image_encoding = image_encoding(compression)
        self.n = 0
        self.kinds: dict[str, str] = {}
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
        for name, values in piece.metadata.items():
            if name not in nc:
                self._new_variable(name, values)
            text = self.kinds[name] == "U"
            nc[name][start:stop] = values.astype(object) if text else values.astype(np.float64)
        self.n = stop

    def _new_variable(self, name: str, values: NDArray[Any]) -> None:
        text = values.dtype.kind in "OUS"
        if text:
            var = self._nc.createVariable(name, str, ("time",))
            if self.n:
                var[0 : self.n] = np.full(self.n, "", dtype=object)
        else:
            var = self._nc.createVariable(
                name, "f8", ("time",), fill_value=np.nan, zlib=True, complevel=1, chunksizes=(4096,)
            )
        self.kinds[name] = "U" if text else "f"
        del var

    def _create(self, piece: FrameBatch) -> None:
        import netCDF4

        ds = first_dataset(
            piece.image,
            piece.times,
            channels=self.channels,
            camera=self.camera,
            attrs={k: v for k, v in self.attrs.items() if k != "history"},
            truth=piece.truth,
            available=piece.available,
            kind=piece.kind,
            frame_variables=piece.metadata,
        )
        encoding = default_encoding(ds, time_chunk=self.chunk_frames, complevel=1, unlimited=True)
        encoding["time"] = {**encoding.get("time", {}), **self.time_enc}
        image_enc = {k: v for k, v in encoding["image"].items() if k == "chunksizes"}
        encoding["image"] = {**image_enc, **self.image_encoding}
        # channel names as characters, not variable-length strings: netCDF-C 4.10 crashes
        # reopening a file whose dimension coordinate holds vlen strings after another
        # handle of it was closed (when the file has no other coordinates, e.g. no grids)
        encoding["channel"] = {"dtype": "S1"}
        for name, values in piece.metadata.items():
            self.kinds[name] = "U" if values.dtype.kind in "OUS" else "f"
            if self.kinds[name] == "f":
                encoding[name] = {**encoding.get(name, {}), "_FillValue": np.nan}
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


def stack_batches(
    pieces: list[FrameBatch], *, known: Mapping[str, str] | None = None
) -> FrameBatch:
    """One batch from consecutive batches; header columns merged by :func:`frame_columns`.

    ``known`` gives the kinds (``"f"``/``"U"``) of the columns already in the output.
    """

    def cat(arrays: list[Any]) -> Any:
        return None if arrays[0] is None else np.concatenate(arrays)

    return FrameBatch(
        times=np.concatenate([p.times for p in pieces]),
        image=np.concatenate([p.image for p in pieces]),
        truth=cat([p.truth for p in pieces]),
        kind=cat([p.kind for p in pieces]),
        available=cat([p.available for p in pieces]),
        metadata=frame_columns([(len(p.times), p.metadata) for p in pieces], known),
    )
