"""Checks that a dataset follows the aurora_xr data model (DESIGN §2).

Every public entry point calls one of these first, so that bad input fails
with an :class:`~aurora_xr.errors.AuroraXrError` that says what was expected
and what was found, before any dask graph is built.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike

from ..errors import (
    DtypeError,
    FrameSizeError,
    MissingDimensionError,
    MissingVariableError,
    SchemaError,
    TimeOrderError,
)
from ..sky.camera import Camera, camera_from_attrs, camera_kind, require_frame_size
from ..sky.lens import require_calibration

__all__ = [
    "IMAGE_DTYPES",
    "RGB",
    "brightness_channel",
    "calibration_of",
    "check_channels",
    "check_times",
    "require_dims",
    "require_variable",
    "validate_cube",
]

IMAGE_DTYPES = (np.dtype("uint8"), np.dtype("uint16"))

RGB = ("R", "G", "B")
"""Channel names of a colour camera; a single-channel camera names its one channel by its
band (``"white"``, ``"557.7nm"``, ``"630.0nm"``, ...)."""


def check_channels(names: Sequence[str], *, dim: Hashable = "channel") -> tuple[str, ...]:
    """The channel names of a cube: R, G, B (in any order) or one band.

    Raises
    ------
    SchemaError
        For another number of channels, or three channels that are not R, G, B.
    """
    found = tuple(str(n) for n in names)
    if len(found) == 1 or (len(found) == 3 and sorted(found) == sorted(RGB)):
        return found
    raise SchemaError(
        f"expected 3 channels (R, G, B) or 1 channel named by its band on {dim!r}; "
        f"found {len(found)}: {', '.join(found)}"
    )


def brightness_channel(names: Sequence[str]) -> int:
    """Position of the channel that measures sky brightness: G for colour, else the only one."""
    found = [str(n) for n in names]
    return found.index("G") if "G" in found else 0


def require_variable(ds: xr.Dataset, name: Hashable, *, purpose: str = "") -> xr.DataArray:
    """The variable ``name`` of ``ds``, or a :class:`MissingVariableError`."""
    if name not in ds.variables:
        why = f" ({purpose})" if purpose else ""
        found = ", ".join(map(str, ds.data_vars)) or "no variables"
        raise MissingVariableError(f"expected a variable {name!r}{why}; found {found}")
    return ds[name]


def require_dims(da: xr.DataArray, dims: Iterable[Hashable]) -> None:
    """Raise :class:`MissingDimensionError` unless ``da`` has exactly these dims."""
    dims = tuple(dims)
    if tuple(da.dims) != dims:
        raise MissingDimensionError(
            f"expected {da.name!r} with dims {dims}; found dims {tuple(da.dims)}"
        )


def check_times(times: xr.DataArray | np.ndarray, *, name: str = "time") -> None:
    """Times must be datetime64, strictly increasing and unique."""
    values = np.asarray(times)
    if not np.issubdtype(values.dtype, np.datetime64):
        raise DtypeError(f"expected {name} of dtype datetime64[ns]; found {values.dtype}")
    if values.size > 1:
        steps = np.diff(values.astype("datetime64[ns]").astype(np.int64))
        if np.any(steps == 0):
            dup = values[1:][steps == 0][0]
            raise TimeOrderError(f"expected unique {name} values; found duplicate {dup}")
        if np.any(steps < 0):
            i = int(np.argmax(steps < 0))
            raise TimeOrderError(
                f"expected {name} sorted ascending; found {values[i + 1]} after {values[i]}"
            )


def validate_cube(
    ds: xr.Dataset,
    *,
    image_var: Hashable = "image",
    time_dim: Hashable = "time",
    y_dim: Hashable = "y",
    x_dim: Hashable = "x",
    channel_dim: Hashable = "channel",
    check_calibration: bool = True,
) -> Camera | None:
    """Check an image cube and return its calibration (a lens or a skymap).

    Checks dims and dtype of the image, sorted unique times, the calibration
    attributes and that the frame size matches the calibration. Reads only
    coordinates, never the image data (so it is free on a lazy cube).
    """
    if not isinstance(ds, xr.Dataset):
        raise SchemaError(f"expected an xarray.Dataset image cube; found {type(ds).__name__}")
    image = require_variable(ds, image_var, purpose="the frames")
    require_dims(image, (time_dim, y_dim, x_dim, channel_dim))
    if image.dtype not in IMAGE_DTYPES:
        raise DtypeError(f"expected {image_var!r} of dtype uint8 or uint16; found {image.dtype}")
    if channel_dim in image.coords:
        check_channels([str(c) for c in image[channel_dim].values], dim=channel_dim)
    elif image.sizes[channel_dim] not in (1, 3):
        raise SchemaError(
            f"expected 3 channels (R, G, B) or 1 channel on {channel_dim!r}; "
            f"found {image.sizes[channel_dim]}"
        )
    if time_dim not in ds.coords:
        raise MissingVariableError(f"expected a {time_dim!r} coordinate; found none")
    check_times(ds[time_dim], name=str(time_dim))
    if not check_calibration:
        return None
    for name in ("elevation", "azimuth"):
        if name in ds.variables and tuple(ds[name].dims) != (y_dim, x_dim):
            raise MissingDimensionError(
                f"expected {name!r} on dims ({y_dim!r}, {x_dim!r}); found {ds[name].dims}"
            )
    return calibration_of(ds, (image.sizes[y_dim], image.sizes[x_dim]))


def calibration_of(
    ds: xr.Dataset | xr.DataArray,
    shape: tuple[int, int],
    grids: tuple[ArrayLike, ArrayLike] | None = None,
) -> Camera:
    """The camera calibration of a cube, checked against its ``(height, width)``.

    A lens is read from the ``calibration_*`` attributes; a per-pixel skymap
    (``calibration_kind = "skymap"``) also needs the cube's ``elevation`` and
    ``azimuth`` grids (``grids``, or read from ``ds``), which are its arrays.

    Raises
    ------
    MissingCalibrationError
        Without calibration attributes, or a skymap without its grids.
    FrameSizeError
        If the calibration is for frames of another size.
    """
    attrs = dict(ds.attrs)
    if camera_kind(attrs) != "skymap":
        cal: Camera = require_calibration(attrs)
        height, width = shape
        if (cal.width, cal.height) != (width, height):
            raise FrameSizeError(
                f"the calibration is for {cal.width}x{cal.height} frames; "
                f"found frames of {width}x{height}"
            )
        return cal
    if grids is None and all(
        n in ds.coords or n in getattr(ds, "data_vars", {}) for n in ("elevation", "azimuth")
    ):
        grids = (np.asarray(ds["elevation"].values), np.asarray(ds["azimuth"].values))
    elevation, azimuth = grids if grids is not None else (None, None)
    camera = camera_from_attrs(attrs, elevation, azimuth)
    require_frame_size(camera, *shape)
    return camera
