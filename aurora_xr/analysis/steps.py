"""The steps that the pipelines from an image cube share.

:func:`aurora_xr.analysis.cube_occurrence.occurrence_from_cube` and
:func:`aurora_xr.analysis.compare.compare_methods` both resolve the cube's context and
its cell grid once (:func:`pipeline_context`), segment the cube if it has no mask yet
(:func:`ensure_mask`), and need per frame the usable flags and the MLT of the station
(:func:`frame_context`). Each step takes the context; none reads the cube's attributes
again.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import xarray as xr

from ..cube.context import CubeContext, cube_context
from ..cube.frames import frame_mlt
from ..cube.grid import context_cells
from ..detect.segmentation import segment
from ..detect.usable import usable_frames
from ..errors import MissingVariableError, OptionError

__all__ = ["ensure_mask", "frame_context", "pipeline_context"]


def pipeline_context(
    ds: xr.Dataset,
    *,
    cells: xr.Dataset | xr.DataArray | None,
    n_cells: int,
    min_elevation: float,
    altitude_km: float,
    image_var: Hashable,
    time_dim: Hashable,
    y_dim: Hashable,
    x_dim: Hashable,
    channel_dim: Hashable,
    cell_dim: Hashable,
) -> CubeContext:
    """The cube's context, checked once, with the cell grid of the pipeline."""
    ctx = cube_context(
        ds,
        image_var=image_var,
        time_dim=time_dim,
        y_dim=y_dim,
        x_dim=x_dim,
        channel_dim=channel_dim,
    )
    return context_cells(
        ds,
        ctx,
        cells,
        n_cells=n_cells,
        min_elevation=min_elevation,
        altitude_km=altitude_km,
        cell_dim=cell_dim,
    )


def ensure_mask(
    ds: xr.Dataset,
    model: Any,
    *,
    who: str,
    mask_var: Hashable,
    context: CubeContext,
    **segment_options: Any,
) -> xr.Dataset:
    """``ds`` itself when it has ``mask_var``, else ``ds`` segmented with ``model``.

    ``who`` names the caller in the error raised when there is neither a mask nor
    a model; ``segment_options`` go to :func:`aurora_xr.detect.segmentation.segment`.
    """
    if mask_var in ds.variables:
        return ds
    if model is None:
        raise MissingVariableError(
            f"{who} needs {mask_var!r} in the cube or a model to segment with; found neither"
        )
    return segment(ds, model, context=context, **context.dims.as_kwargs(), **segment_options)


def frame_context(
    ds: xr.Dataset,
    usable: xr.DataArray | bool | None,
    *,
    context: CubeContext,
    altitude_km: float,
    attrs: Mapping[str, Any] | None,
    **usable_options: Any,
) -> tuple[xr.DataArray | None, xr.DataArray, dict[str, Any]]:
    """What an occurrence product needs of each frame besides its detections.

    Returns the usable flags (None: a usable-frames screening with
    ``usable_options``, see :func:`aurora_xr.detect.usable.usable_frames`; False:
    every frame; a (time,) bool DataArray: used as it is), the MLT of the station
    for each frame at ``altitude_km``, and the product attributes: the cube's
    ``station_*`` attributes, ``altitude_km`` and ``attrs``.
    """
    flags = _usable_flags(ds, usable, context, usable_options)
    mlt = frame_mlt(ds, altitude_km=altitude_km, context=context, time_dim=context.dims.time)
    product = {**context.station_attrs, "altitude_km": float(altitude_km), **dict(attrs or {})}
    return flags, mlt, product


def _usable_flags(
    ds: xr.Dataset,
    usable: xr.DataArray | bool | None,
    context: CubeContext,
    options: dict[str, Any],
) -> xr.DataArray | None:
    if usable is None or usable is True:
        flags = usable_frames(ds, context=context, **context.dims.as_kwargs(), **options)
        return flags["usable"]
    if usable is False:
        return None
    if isinstance(usable, xr.DataArray):
        return usable
    raise OptionError(
        f"expected usable as None, False or a (time,) bool DataArray; found {type(usable).__name__}"
    )
