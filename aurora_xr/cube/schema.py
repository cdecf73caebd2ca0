"""Checks that a dataset follows the aurora_xr data model (DESIGN §2).

Every public entry point calls one of these first, so that bad input fails
with an :class:`~aurora_xr.errors.AuroraXrError` that says what was expected
and what was found, before any dask graph is built.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

import numpy as np
import xarray as xr

from ..errors import (
    DtypeError,
    FrameSizeError,
    MissingDimensionError,
    MissingVariableError,
    SchemaError,
    TimeOrderError,
)
from ..sky.lens import Calibration, require_calibration

__all__ = ["IMAGE_DTYPES", "check_times", "require_dims", "require_variable", "validate_cube"]

IMAGE_DTYPES = (np.dtype("uint8"), np.dtype("uint16"))


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
) -> Calibration | None:
    """Check an image cube and return its calibration.

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
    if image.sizes[channel_dim] != 3:
        raise SchemaError(
            f"expected 3 channels (R, G, B) on {channel_dim!r}; found {image.sizes[channel_dim]}"
        )
    if time_dim not in ds.coords:
        raise MissingVariableError(f"expected a {time_dim!r} coordinate; found none")
    check_times(ds[time_dim], name=str(time_dim))
    if not check_calibration:
        return None
    cal = require_calibration(dict(ds.attrs))
    height, width = image.sizes[y_dim], image.sizes[x_dim]
    if (cal.width, cal.height) != (width, height):
        raise FrameSizeError(
            f"the calibration is for {cal.width}x{cal.height} frames; "
            f"found frames of {width}x{height}"
        )
    for name in ("elevation", "azimuth"):
        if name in ds.variables and tuple(ds[name].dims) != (y_dim, x_dim):
            raise MissingDimensionError(
                f"expected {name!r} on dims ({y_dim!r}, {x_dim!r}); found {ds[name].dims}"
            )
    return cal
