"""Labelled frames of an image cube, read a batch at a time (numpy only, no torch).

:class:`CubeSource` gives the frames and ``aurora_truth`` masks of an image
cube (``xarray.Dataset``) to training and evaluation; dask-backed variables
are computed per batch only. It is one of the two frame sources of
:mod:`aurora_xr.model.data`, which opens either from what a caller passes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ..errors import (
    CalibrationError,
    DtypeError,
    FrameSizeError,
    MissingVariableError,
    SchemaError,
)
from ..sky.lens import Calibration
from .lens_masks import lens_mask_from_calibration, lens_mask_from_elevation

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["CubeSource"]


class CubeSource:
    """Frames and truth masks of an image cube, read per batch.

    Parameters
    ----------
    ds : xarray.Dataset
        Image cube with ``image`` (time, y, x, channel), colour (R, G, B) or
        single-channel, and ``aurora_truth``
        (time, y, x); dask-backed variables are computed per batch only.
    image_var, truth_var : str
        Variable names.
    time_dim, y_dim, x_dim, channel_dim : str
        Dimension names.
    calibration : Calibration, optional
        Gives the lens circle when the cube has no ``elevation`` coordinate
        (otherwise the calibration attributes are used, if any).
    """

    def __init__(
        self,
        ds: xr.Dataset,
        *,
        image_var: str = "image",
        truth_var: str = "aurora_truth",
        time_dim: str = "time",
        y_dim: str = "y",
        x_dim: str = "x",
        channel_dim: str = "channel",
        calibration: Calibration | None = None,
    ) -> None:
        for name in (image_var, truth_var):
            if name not in ds.variables:
                raise MissingVariableError(
                    f"expected variable {name!r} in the cube (frames and aurora truth masks); "
                    f"found {sorted(map(str, ds.data_vars))}"
                )
        image = ds[image_var]
        dims = (time_dim, y_dim, x_dim, channel_dim)
        if set(image.dims) != set(dims):
            raise SchemaError(f"expected {image_var} dims {dims}, found {image.dims}")
        image = image.transpose(*dims)
        if channel_dim in image.coords:
            labels = [str(v) for v in image[channel_dim].values]
            if all(c in labels for c in "RGB") and labels != ["R", "G", "B"]:
                image = image.sel({channel_dim: ["R", "G", "B"]})
        if image.sizes[channel_dim] not in (1, 3):
            raise FrameSizeError(
                f"expected 3 channels (R, G, B) or one (a single-channel camera) in {image_var}, "
                f"found {image.sizes[channel_dim]}"
            )
        if image.dtype not in (np.uint8, np.uint16):
            raise DtypeError(f"expected {image_var} of dtype uint8 or uint16, found {image.dtype}")
        truth = ds[truth_var]
        if set(truth.dims) != {time_dim, y_dim, x_dim}:
            raise SchemaError(
                f"expected {truth_var} dims {(time_dim, y_dim, x_dim)}, found {truth.dims}"
            )
        self._image = image
        self._truth = truth.transpose(time_dim, y_dim, x_dim)
        self._time_dim = time_dim
        self._shape = (int(image.sizes[y_dim]), int(image.sizes[x_dim]))
        lens: NDArray[np.bool_] | None = None
        if calibration is not None:
            lens = lens_mask_from_calibration(calibration, *self._shape)
        elif "elevation" in ds.variables:
            lens = lens_mask_from_elevation(ds["elevation"].transpose(y_dim, x_dim).values)
        else:
            try:
                cal = Calibration.from_attrs(dict(ds.attrs))
            except CalibrationError:
                cal = None
            if cal is not None:
                lens = lens_mask_from_calibration(cal, *self._shape)
        self._lens = lens
        if time_dim in ds.coords:
            self._ids = [str(t) for t in ds[time_dim].values]
        else:
            self._ids = [str(i) for i in range(image.sizes[time_dim])]

    @property
    def frame_shape(self) -> tuple[int, int]:
        return self._shape

    @property
    def lens_mask(self) -> NDArray[np.bool_] | None:
        return self._lens

    @property
    def ids(self) -> list[str]:
        return self._ids

    def __len__(self) -> int:
        return int(self._image.sizes[self._time_dim])

    def read(self, indices: Sequence[int]) -> tuple[NDArray[Any], NDArray[np.bool_]]:
        idx = np.asarray(indices, dtype=np.int64)
        frames = np.asarray(self._image.isel({self._time_dim: idx}).values)
        masks = np.asarray(self._truth.isel({self._time_dim: idx}).values).astype(bool)
        return frames, masks

    def checksum(self, *, block: int = 64) -> str:
        digest = hashlib.sha256()
        digest.update(repr((len(self), self._shape, str(self._image.dtype))).encode())
        for start in range(0, len(self), block):
            frames, masks = self.read(range(start, min(start + block, len(self))))
            digest.update(np.ascontiguousarray(frames).tobytes())
            digest.update(np.packbits(masks).tobytes())
        return digest.hexdigest()
