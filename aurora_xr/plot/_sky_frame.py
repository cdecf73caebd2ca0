"""One frame of a cube with what the sky figures draw over it, read in one dask pass.

:func:`load_frame` resolves the cube's context (its camera: an analytic lens or a
per-pixel skymap), picks the frame, and computes together the frame, its FCN mask and
the difference method's cells for that frame, so that a figure of one frame of a lazy
archive reads only that frame. The frame is turned into display colours here (see
:mod:`aurora_xr.plot.stretch`): RGB against full scale, a single band in grey.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from ..analysis.keograms import resolve_north_azimuth
from ..cube.context import CubeContext, context_of
from ..cube.schema import RGB
from ..errors import DtypeError, MissingDimensionError, MissingVariableError, SchemaError
from ..sky.camera import Camera
from ._loading import TimeLike, compute_together, frame_index
from .stretch import display_colours

__all__ = ["SkyFrame", "load_frame"]


@dataclass
class SkyFrame:
    """A frame in display colours with its camera and overlays (camera pixels, not the view).

    Attributes
    ----------
    rgb : (H, W, 3) ndarray of float32
        Display colours in [0, 1].
    camera : Camera
        The calibration of the frame (lens or skymap).
    north : float
        Geographic azimuth of magnetic north (degrees).
    time : datetime64 or None
        Time of the frame.
    station : str
        Station code ('' when unknown).
    mask : (H, W) ndarray of bool or None
        The FCN mask, when asked for.
    detected, observed : (n_cells,) ndarray of bool or None
        The difference method's detections (and observed cells) for this frame.
    difference_given : bool
        Whether difference detections were passed at all.
    """

    rgb: np.ndarray
    camera: Camera
    north: float
    time: Any
    station: str
    mask: np.ndarray | None
    detected: np.ndarray | None
    observed: np.ndarray | None
    difference_given: bool


def difference_at(
    difference: xr.DataArray | xr.Dataset | None,
    time_value: Any,
    time_dim: Hashable,
    cell_dim: Hashable,
) -> tuple[xr.DataArray | None, xr.DataArray | None]:
    """The (cell,) detections and observed flags of one frame, lazily selected."""
    if difference is None:
        return None, None
    observed = None
    if isinstance(difference, xr.Dataset):
        for name in ("detection", "difference_detection"):
            if name in difference.data_vars:
                det = difference[name]
                break
        else:
            raise MissingVariableError(
                "expected a 'detection' (or 'difference_detection') variable in the "
                f"difference-method result; found {', '.join(map(str, difference.data_vars))}"
            )
        for name in ("observed", "difference_observed"):
            if name in difference.data_vars:
                observed = difference[name]
                break
    else:
        det = difference
    if cell_dim not in det.dims:
        raise MissingDimensionError(
            f"expected difference detections on ({time_dim!r}, {cell_dim!r}); "
            f"found dims {tuple(det.dims)}"
        )
    if time_dim in det.dims:
        if time_value is None or time_dim not in det.indexes:
            raise MissingVariableError(
                f"cannot match the difference detections to the frame: expected a "
                f"{time_dim!r} coordinate on both"
            )
        index = det.indexes[time_dim]
        pos = index.get_indexer([np.datetime64(time_value, "ns")])
        if pos[0] < 0:  # no pair ends at this frame (e.g. the first frame of a night)
            return None, None
        det = det.isel({time_dim: int(pos[0])})
        if observed is not None and time_dim in observed.dims:
            observed = observed.isel({time_dim: int(pos[0])})
    return det, observed


def _as_cube(
    ds: xr.Dataset,
    image_var: Hashable,
    time_dim: Hashable,
    y_dim: Hashable,
    x_dim: Hashable,
    channel_dim: Hashable,
) -> tuple[xr.Dataset, bool]:
    """The cube itself, or a single frame ``(y, x, channel)`` as a cube of one frame."""
    if not isinstance(ds, xr.Dataset):
        raise SchemaError(f"expected an xarray.Dataset image cube; found {type(ds).__name__}")
    if image_var not in ds.data_vars:
        raise MissingVariableError(
            f"expected an image variable {image_var!r}; found "
            f"{', '.join(map(str, ds.data_vars)) or 'no variables'}"
        )
    image = ds[image_var]
    if time_dim in image.dims:
        return ds, False
    if tuple(image.dims) != (y_dim, x_dim, channel_dim):
        raise MissingDimensionError(
            f"expected {image_var!r} with dims ({time_dim!r}, {y_dim!r}, {x_dim!r}, "
            f"{channel_dim!r}) or one frame ({y_dim!r}, {x_dim!r}, {channel_dim!r}); "
            f"found dims {tuple(image.dims)}"
        )
    if time_dim not in ds.coords:  # a frame without a time: NaT, shown without one
        ds = ds.assign_coords({time_dim: np.datetime64("NaT", "ns")})
    return ds.expand_dims(time_dim), True


def _in_rgb_order(image: xr.DataArray, channel_dim: Hashable) -> xr.DataArray:
    """Colour frames with their channels in R, G, B order (a cube may store any order)."""
    if image.sizes[channel_dim] != 3 or channel_dim not in image.coords:
        return image
    return image.sel({channel_dim: list(RGB)})


def load_frame(
    ds: xr.Dataset,
    time: TimeLike,
    *,
    want_mask: bool,
    difference: xr.DataArray | xr.Dataset | None,
    north_azimuth: float | None,
    cells: xr.Dataset | None,
    context: CubeContext | None,
    image_var: Hashable,
    mask_var: Hashable,
    time_dim: Hashable,
    y_dim: Hashable,
    x_dim: Hashable,
    channel_dim: Hashable,
    cell_dim: Hashable,
    contrast: float,
) -> SkyFrame:
    """Read one frame of ``ds`` (a cube, or one frame of it) with its overlays.

    Raises
    ------
    SchemaError, MissingVariableError, MissingDimensionError, DtypeError
        For a cube that does not follow the data model or lacks what is asked for.
    MissingCalibrationError, FrameSizeError
        Without a calibration, or one for frames of another size.
    """
    cube, single = _as_cube(ds, image_var, time_dim, y_dim, x_dim, channel_dim)
    names = {"time_dim": time_dim, "y_dim": y_dim, "x_dim": x_dim, "channel_dim": channel_dim}
    ctx = context_of(cube, context, image_var=image_var, require_image=True, **names)
    camera = ctx.require_calibration()
    frame = cube.isel({time_dim: 0 if single else frame_index(cube, time, time_dim)})
    if want_mask and mask_var not in frame.data_vars:
        raise MissingVariableError(
            f"the 'fcn' overlay needs a {mask_var!r} variable (from aurora_xr.segment); "
            f"found {', '.join(map(str, ds.data_vars))}"
        )
    north = resolve_north_azimuth(
        cube, north_azimuth=north_azimuth, cells=cells, time_dim=time_dim, context=ctx
    )
    time_value = frame[time_dim].values if time_dim in frame.coords else None
    if time_value is not None and np.isnat(time_value):
        time_value = None
    det, observed = difference_at(difference, time_value, time_dim, cell_dim)
    img = _in_rgb_order(frame[image_var], channel_dim)
    img = img.transpose(y_dim, x_dim, channel_dim).reset_coords(drop=True)
    mask = frame[mask_var].transpose(y_dim, x_dim).reset_coords(drop=True) if want_mask else None
    img_v, mask_v, det_v, obs_v = compute_together(img, mask, det, observed)
    if mask_v is not None and mask_v.dtype != bool:
        raise DtypeError(f"expected {mask_var!r} of dtype bool; found {mask_v.dtype}")
    return SkyFrame(
        rgb=display_colours(img_v.values, contrast, sky=ctx.sky_mask),
        camera=camera,
        north=north,
        time=time_value,
        station=str(ds.attrs.get("station_code", "")),
        mask=None if mask_v is None else np.asarray(mask_v.values, dtype=bool),
        detected=None if det_v is None else np.asarray(det_v.values, dtype=bool),
        observed=None if obs_v is None else np.asarray(obs_v.values, dtype=bool),
        difference_given=difference is not None,
    )
