"""Resampled views of the sky: the geomagnetic view (magnetic north up, east left).

The numpy kernels are :func:`aurora_xr.sky.resample.view_calibration`,
:func:`~aurora_xr.sky.resample.view_indices` and :func:`~aurora_xr.sky.resample.apply_view`;
this module applies them lazily to cubes with :func:`xarray.apply_ufunc`. The cube's
camera may be an analytic lens or an operator's per-pixel skymap (see
:mod:`aurora_xr.sky.camera`); the view is always an analytic lens.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import xarray as xr

from ..cube.context import CubeContext, context_of
from ..errors import MissingDimensionError
from ..sky.camera import Camera
from ..sky.resample import apply_view, view_calibration, view_indices

__all__ = ["to_magnetic_view"]


def _fill_for(dtype: np.dtype[Any]) -> Any:
    """Value for pixels without sky: NaN, False, -1 for signed ints, 0 otherwise."""
    if dtype.kind in "fc":
        return np.nan
    if dtype.kind == "b":
        return False
    if dtype.kind == "i":
        return -1
    if dtype.kind == "M":
        return np.datetime64("NaT")
    return 0


def _resample(
    da: xr.DataArray, index: np.ndarray, y_dim: Hashable, x_dim: Hashable, size: int
) -> xr.DataArray:
    fill = _fill_for(da.dtype)
    return xr.apply_ufunc(
        apply_view,
        da,
        input_core_dims=[[y_dim, x_dim]],
        output_core_dims=[[y_dim, x_dim]],
        exclude_dims={y_dim, x_dim},
        kwargs={"flat_index": index, "yx_axes": (-2, -1), "fill_value": fill},
        dask="parallelized",
        output_dtypes=[da.dtype],
        dask_gufunc_kwargs={"output_sizes": {y_dim: size, x_dim: size}},
        keep_attrs=True,
    ).transpose(*da.dims)


def to_magnetic_view(
    obj: xr.Dataset | xr.DataArray,
    *,
    size: int | None = None,
    altitude_km: float = 110.0,
    when: Any = None,
    north_azimuth: float | None = None,
    context: CubeContext | None = None,
    time_dim: Hashable = "time",
    y_dim: Hashable = "y",
    x_dim: Hashable = "x",
) -> xr.Dataset | xr.DataArray:
    """Resample frames to the geomagnetic view: magnetic north up, magnetic east left.

    Every variable and coordinate on (``y_dim``, ``x_dim``) (frames, masks,
    probabilities, labels) is resampled by nearest neighbour onto a square
    ``size`` x ``size`` view centred on the zenith, at the camera's scale and
    with its lens model (equidistant when the camera is a per-pixel skymap);
    the result is lazy on dask-backed input (one cheap gather per chunk). The
    view carries its own ``calibration_*`` attributes (an analytic lens; those
    of the source camera are replaced, its kind and name kept in
    ``view_source_calibration``) and ``elevation``/``azimuth`` coordinates, so
    it is itself a valid cube.
    Pixels without sky get NaN (floats), False (bool), -1 (signed integers,
    e.g. ``cell_index``) or 0 (unsigned integers, e.g. ``image``). Variables on
    only one of the two image dims are dropped.

    Parameters
    ----------
    obj : xarray.Dataset or DataArray
        A cube, or a variable carrying station and calibration attributes.
    size : int, optional
        Side of the view in pixels; default ``2 * ceil(horizon_radius) + 1`` (the
        lens radius, or a skymap's distance from the zenith pixel to the horizon).
    altitude_km : float
        Emission-shell height at which magnetic north is taken.
    when : year, datetime or datetime64, optional
        AACGM epoch; default mid-year of the year in the middle of the times.
    north_azimuth : float, optional
        Geographic azimuth of magnetic north, if already known (skips AACGM).
    context : CubeContext, optional
        The cube's context when the caller has resolved it already.
    time_dim, y_dim, x_dim : hashable
        Dimension names.

    Returns
    -------
    xarray.Dataset or DataArray
        Same kind as ``obj``.
    """
    ctx = context_of(obj, context, time_dim=time_dim, y_dim=y_dim, x_dim=x_dim)
    cal = ctx.require_calibration()
    if north_azimuth is None:
        epoch = ctx.epoch(when)
        north = ctx.magnetic_north(altitude_km=altitude_km, when=epoch)
        epoch_text = epoch.isoformat()
    else:
        north = float(north_azimuth)
        epoch_text = "" if when is None else str(when)
    target = view_calibration(cal, north, size)
    index = view_indices(cal, target)
    side = target.width
    el, az = target.sky_grids()
    view_attrs = {
        **target.to_attrs(),
        "view": "geomagnetic: magnetic north up, magnetic east left (looking up)",
        "view_source_calibration": _source_text(cal),
        "magnetic_north_azimuth": float(north),
    }
    if epoch_text:
        view_attrs["view_epoch"] = epoch_text

    def convert(da: xr.DataArray) -> xr.DataArray:
        if not {y_dim, x_dim} <= set(da.dims):
            raise MissingDimensionError(
                f"expected {da.name!r} on dims ({y_dim!r}, {x_dim!r}); found {tuple(da.dims)}"
            )
        spatial_coords = [name for name, c in da.coords.items() if {y_dim, x_dim} & set(c.dims)]
        return _resample(da.drop_vars(spatial_coords), index, y_dim, x_dim, side)

    sky_coords = {
        "elevation": ((y_dim, x_dim), el, {"units": "degree", "long_name": "elevation"}),
        "azimuth": (
            (y_dim, x_dim),
            az,
            {"units": "degree", "long_name": "geographic azimuth from north through east"},
        ),
    }
    if isinstance(obj, xr.DataArray):
        out_da = convert(obj).assign_coords(sky_coords)
        out_da.attrs = {**_without_calibration(obj.attrs), **view_attrs}
        return out_da

    on_image = [
        name
        for name, var in obj.variables.items()
        if {y_dim, x_dim} <= set(var.dims) and name not in ("elevation", "azimuth")
    ]
    on_one_axis = [  # a row or column profile has no place in the turned view
        name for name, var in obj.variables.items() if len({y_dim, x_dim} & set(var.dims)) == 1
    ]
    base = obj.drop_vars([*on_image, *on_one_axis, "elevation", "azimuth"], errors="ignore")
    data_vars = {name: convert(obj[name]) for name in on_image if name in obj.data_vars}
    coords = {name: convert(obj[name]) for name in on_image if name not in obj.data_vars}
    out = base.assign(data_vars).assign_coords(coords).assign_coords(sky_coords)
    out.attrs = {**_without_calibration(obj.attrs), **view_attrs}
    return out


def _without_calibration(attrs: Mapping[Any, Any]) -> dict[Any, Any]:
    """The attributes less those of the source camera (the view has its own)."""
    return {k: v for k, v in attrs.items() if not str(k).startswith("calibration_")}


def _source_text(cal: Camera) -> str:
    """``"lens"`` or ``"skymap <name>"``: the calibration the view was resampled from."""
    name = getattr(cal, "name", "")
    return f"{cal.kind} {name}".strip()
