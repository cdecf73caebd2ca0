"""Giving a cube its camera calibration and its obstruction mask after ingest.

A new camera starts as a cube without calibration (the site is known, the lens is
not). Once it is calibrated, from the stars (:func:`aurora_xr.calibrate_from_stars`)
or from the operator's skymap (:func:`aurora_xr.read_skymap`),
:func:`with_calibration` writes the calibration into the cube: the
``calibration_*`` attributes, the ``elevation``/``azimuth`` of every pixel and,
optionally, an ``obstruction`` mask (y, x) of the pixels where masts, buildings or
trees hide the sky. Obstructed pixels belong to no sky cell
(:func:`aurora_xr.cube.grid.cell_grid`), so they never count in detections or
occurrence maps. Only coordinates and attributes change; the frames are not read.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike

from ..errors import CalibrationError, FrameSizeError, MissingDimensionError
from ..sky.camera import Camera, require_frame_size
from .build import VARIABLE_ATTRS, append_history

__all__ = ["OBSTRUCTION", "with_calibration"]

OBSTRUCTION = "obstruction"
"""Variable (y, x) bool: True where something on the ground hides the sky."""

_OBSTRUCTION_ATTRS = {
    "long_name": "the sky is hidden at this pixel (masts, buildings, horizon silhouette)",
    "units": "1",
    "comment": "obstructed pixels belong to no sky cell",
}


def with_calibration(
    ds: xr.Dataset | xr.DataArray,
    calibration: Camera,
    *,
    obstruction: ArrayLike | None = None,
    y_dim: Hashable = "y",
    x_dim: Hashable = "x",
) -> Any:
    """A copy of ``ds`` that carries ``calibration`` (and an obstruction mask).

    Parameters
    ----------
    ds : xarray.Dataset or DataArray
        A cube (or a (y, x) variable); a calibration it already holds is replaced.
    calibration : Calibration or Skymap
        The camera calibration for frames of the cube's size (an analytic lens, e.g.
        :attr:`aurora_xr.sky.starcal.StarCalibration.calibration`, or a per-pixel
        skymap).
    obstruction : (H, W) array_like of bool, optional
        True where the sky is hidden (see
        :func:`aurora_xr.sky.obstructions.obstruction_mask`); stored as the
        ``obstruction`` variable. Without it, an ``obstruction`` the cube holds is kept.
    y_dim, x_dim : hashable
        Image dimensions.

    Returns
    -------
    xarray.Dataset or DataArray
        Same kind as ``ds``, with ``calibration_*`` attributes and ``elevation`` and
        ``azimuth`` coordinates (float32 degrees, NaN outside the field of view).

    Raises
    ------
    FrameSizeError
        If the calibration or the mask is for frames of another size.
    CalibrationError
        If ``calibration`` is not a camera calibration.
    """
    if not hasattr(calibration, "sky_grids") or not hasattr(calibration, "to_attrs"):
        raise CalibrationError(
            "expected a camera calibration (a Calibration or a Skymap); "
            f"found {type(calibration).__name__}"
        )
    missing = [d for d in (y_dim, x_dim) if d not in ds.dims]
    if missing:
        raise MissingDimensionError(
            f"expected image dims ({y_dim!r}, {x_dim!r}); found dims {tuple(ds.dims)}"
        )
    height, width = int(ds.sizes[y_dim]), int(ds.sizes[x_dim])
    require_frame_size(calibration, height, width)
    elevation, azimuth = calibration.sky_grids()
    coords: dict[Hashable, Any] = {
        name: ((y_dim, x_dim), np.asarray(values, np.float32), dict(VARIABLE_ATTRS[name]))
        for name, values in (("elevation", elevation), ("azimuth", azimuth))
    }
    if obstruction is not None:
        mask = np.asarray(obstruction, dtype=bool)
        if mask.shape != (height, width):
            raise FrameSizeError(
                f"expected an obstruction mask of {height}x{width} (rows x columns); "
                f"found {mask.shape[0]}x{mask.shape[1] if mask.ndim > 1 else 1}"
            )
        coords[OBSTRUCTION] = ((y_dim, x_dim), mask, dict(_OBSTRUCTION_ATTRS))
    out = ds.assign_coords(coords)
    attrs = {k: v for k, v in ds.attrs.items() if not str(k).startswith("calibration_")}
    attrs.update(calibration.to_attrs())
    what = getattr(calibration, "name", None) or calibration.kind
    attrs["history"] = append_history(ds.attrs, f"calibration set: {what}")
    out.attrs = attrs
    return out
