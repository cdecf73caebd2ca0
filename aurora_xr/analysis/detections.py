"""Cell detections from a pixel mask: which equal-area cells show aurora in each frame.

A cell is auroral in a frame when at least ``min_fraction`` of its pixels are set in a
``(time, y, x)`` bool mask (the FCN's ``aurora_mask``, or ``aurora_truth``). The numpy
kernels (:func:`cell_fraction_kernel`, :func:`cell_detection_kernel`) sum a chunk of
masks per cell with one gather and one ``np.add.reduceat``
(:class:`aurora_xr.geo.cellpixels.CellPixels`); :func:`cell_fraction` and
:func:`cell_detections` apply them lazily over the cube's time chunks.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from ..cube.context import CubeContext, context_of
from ..cube.grid import cell_coords, context_cells
from ..errors import DtypeError, MissingDimensionError, MissingVariableError, OptionError
from ..geo.cellpixels import cell_pixels

__all__ = ["cell_detection_kernel", "cell_detections", "cell_fraction", "cell_fraction_kernel"]

PROVENANCE_SKIP = ("long_name", "units", "comment", "flag_values", "flag_meanings")
"""Attributes of a mask that describe the variable, not how it was made (not carried on)."""


def _fraction_kernel(mask: NDArray[Any], cell_index: NDArray[Any], *, n_cells: int) -> Any:
    t = mask.shape[0]
    layout = cell_pixels(cell_index, n_cells)
    counts = layout.sums(layout.gather(np.asarray(mask, dtype=bool).reshape(t, -1)), dtype=np.int32)
    with np.errstate(invalid="ignore", divide="ignore"):
        return counts / layout.counts[None, :]


def cell_fraction_kernel(
    mask: NDArray[Any], cell_index: NDArray[Any], *, n_cells: int
) -> NDArray[np.float32]:
    """Fraction of each cell's pixels set in each ``(T, H, W)`` bool mask; ``(T, n_cells)``."""
    return np.asarray(_fraction_kernel(mask, cell_index, n_cells=n_cells), dtype=np.float32)


def cell_detection_kernel(
    mask: NDArray[Any], cell_index: NDArray[Any], *, n_cells: int, min_fraction: float
) -> NDArray[np.bool_]:
    """Cells with at least ``min_fraction`` of their pixels set; ``(T, n_cells)`` bool.

    The comparison is made in float64 on ``count / n_pixels``; empty cells never detect.
    """
    fraction = _fraction_kernel(mask, cell_index, n_cells=n_cells)
    with np.errstate(invalid="ignore"):
        return np.asarray(fraction >= min_fraction)


def _mask_reduce(
    ds: xr.Dataset,
    kernel: Any,
    dtype: Any,
    *,
    mask_var: Hashable,
    cells: xr.Dataset | xr.DataArray | None,
    n_cells: int,
    min_elevation: float,
    altitude_km: float,
    context: CubeContext | None,
    time_dim: Hashable,
    y_dim: Hashable,
    x_dim: Hashable,
    cell_dim: Hashable,
    kwargs: dict[str, Any],
) -> xr.DataArray:
    mask = _checked_mask(ds, mask_var, time_dim, y_dim, x_dim)
    ctx = context_of(ds, context, time_dim=time_dim, y_dim=y_dim, x_dim=x_dim)
    ctx = context_cells(
        ds,
        ctx,
        cells,
        n_cells=n_cells,
        min_elevation=min_elevation,
        altitude_km=altitude_km,
        cell_dim=cell_dim,
    )
    labels, count, grid = ctx.require_cells()
    if mask.chunks is not None:
        mask = mask.chunk({y_dim: -1, x_dim: -1})
    out = xr.apply_ufunc(
        kernel,
        mask,
        labels,
        input_core_dims=[[y_dim, x_dim], [y_dim, x_dim]],
        output_core_dims=[[cell_dim]],
        dask="parallelized",
        output_dtypes=[dtype],
        dask_gufunc_kwargs={"output_sizes": {cell_dim: count}},
        kwargs={"n_cells": count, **kwargs},
        keep_attrs=False,
    )
    out = out.drop_vars([c for c in out.coords if c != time_dim])
    extra = cell_coords(
        grid, cell_dim=cell_dim, exclude_dims=(time_dim, y_dim, x_dim), cell_only=True
    )
    return out.assign_coords(extra) if extra else out


def _checked_mask(
    ds: xr.Dataset, mask_var: Hashable, time_dim: Hashable, y_dim: Hashable, x_dim: Hashable
) -> xr.DataArray:
    if mask_var not in ds.variables:
        raise MissingVariableError(
            f"expected a mask variable {mask_var!r} (time, y, x) bool; found "
            + (", ".join(map(str, ds.data_vars)) or "no variables")
            + " (segment the cube first)"
        )
    mask = ds[mask_var]
    if tuple(mask.dims) != (time_dim, y_dim, x_dim):
        raise MissingDimensionError(
            f"expected {mask_var!r} on dims ({time_dim!r}, {y_dim!r}, {x_dim!r}); "
            f"found {tuple(mask.dims)}"
        )
    if mask.dtype != np.bool_:
        raise DtypeError(f"expected {mask_var!r} of dtype bool; found {mask.dtype}")
    return mask


def _mask_provenance(ds: xr.Dataset, mask_var: Hashable) -> dict[str, Any]:
    attrs = dict(ds[mask_var].attrs)
    return {k: v for k, v in attrs.items() if k not in PROVENANCE_SKIP}


def cell_fraction(
    ds: xr.Dataset,
    *,
    mask_var: Hashable = "aurora_mask",
    cells: xr.Dataset | xr.DataArray | None = None,
    n_cells: int = 400,
    min_elevation: float = 10.0,
    altitude_km: float = 110.0,
    context: CubeContext | None = None,
    time_dim: Hashable = "time",
    y_dim: Hashable = "y",
    x_dim: Hashable = "x",
    cell_dim: Hashable = "cell",
) -> xr.DataArray:
    """Fraction of each cell's pixels that are set in a mask, per frame, lazily.

    Parameters are those of :func:`cell_detections` (without ``min_fraction``).

    Returns
    -------
    xarray.DataArray
        ``(time, cell)`` float32 in [0, 1] (NaN for a cell without pixels),
        named ``<mask_var>_cell_fraction``.
    """
    out = _mask_reduce(
        ds,
        cell_fraction_kernel,
        np.float32,
        mask_var=mask_var,
        cells=cells,
        n_cells=n_cells,
        min_elevation=min_elevation,
        altitude_km=altitude_km,
        context=context,
        time_dim=time_dim,
        y_dim=y_dim,
        x_dim=x_dim,
        cell_dim=cell_dim,
        kwargs={},
    )
    out.attrs = {
        "long_name": f"fraction of the cell's pixels set in {mask_var}",
        "units": "1",
        **_mask_provenance(ds, mask_var),
    }
    return out.rename(f"{mask_var}_cell_fraction")


def cell_detections(
    ds: xr.Dataset,
    *,
    min_fraction: float = 0.1,
    mask_var: Hashable = "aurora_mask",
    detector: str | None = None,
    cells: xr.Dataset | xr.DataArray | None = None,
    n_cells: int = 400,
    min_elevation: float = 10.0,
    altitude_km: float = 110.0,
    context: CubeContext | None = None,
    time_dim: Hashable = "time",
    y_dim: Hashable = "y",
    x_dim: Hashable = "x",
    cell_dim: Hashable = "cell",
) -> xr.DataArray:
    """Aurora per frame and sky cell from a pixel mask, lazily.

    A cell is auroral in a frame when at least ``min_fraction`` of its pixels
    are set in the mask.

    Parameters
    ----------
    ds : xarray.Dataset
        Cube with a ``(time, y, x)`` bool mask (``aurora_mask`` from
        :func:`aurora_xr.detect.segmentation.segment`, or ``aurora_truth``).
    min_fraction : float
        Fraction of the cell's pixels, in (0, 1].
    mask_var : str
        The mask to read.
    detector : str, optional
        Name of the detector, for the output name and attributes; default
        ``"fcn"`` for ``aurora_mask``, else ``mask_var``.
    cells : xarray.Dataset or xarray.DataArray, optional
        Cell grid with ``cell_index``, or a bare ``cell_index``; default the
        cube's ``cell_index`` or :func:`aurora_xr.cube.grid.cell_grid` with
        ``n_cells``, ``min_elevation``, ``altitude_km``.
    n_cells, min_elevation, altitude_km : optional
        Options of the grid when it is built here.
    context : CubeContext, optional
        The cube's context when the caller has resolved it already (with its cells:
        see :func:`aurora_xr.cube.grid.context_cells`).
    time_dim, y_dim, x_dim, cell_dim : str
        Dimension names.

    Returns
    -------
    xarray.DataArray
        ``(time, cell)`` bool named ``<detector>_detection``, chunked like the
        mask along time, with the cell coordinates of the grid and the mask's
        provenance (model name, checksum, threshold) plus ``detector`` and
        ``min_fraction`` in the attributes.
    """
    if not 0.0 < float(min_fraction) <= 1.0:
        raise OptionError(f"expected min_fraction in (0, 1]; found {min_fraction}")
    if detector is None:
        detector = "fcn" if mask_var == "aurora_mask" else str(mask_var)
    out = _mask_reduce(
        ds,
        cell_detection_kernel,
        np.bool_,
        mask_var=mask_var,
        cells=cells,
        n_cells=n_cells,
        min_elevation=min_elevation,
        altitude_km=altitude_km,
        context=context,
        time_dim=time_dim,
        y_dim=y_dim,
        x_dim=x_dim,
        cell_dim=cell_dim,
        kwargs={"min_fraction": float(min_fraction)},
    )
    out.attrs = {
        "long_name": f"aurora detected in the cell ({detector})",
        "units": "1",
        **_mask_provenance(ds, mask_var),
        "detector": detector,
        "mask_variable": str(mask_var),
        "min_fraction": float(min_fraction),
        "n_cells": int(out.sizes[cell_dim]),
    }
    return out.rename(f"{detector}_detection")
