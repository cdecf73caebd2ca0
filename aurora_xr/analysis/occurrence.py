"""Cell detections and occurrence maps (pure reductions, lazy on dask).

* :func:`cell_detections`: a cell is auroral in a frame when at least
  ``min_fraction`` of its pixels are aurora in a mask (``aurora_mask`` of the
  FCN, or ``aurora_truth``).
* :func:`occurrence_map`: for each MLT bin (and year or season) and each cell,
  the number of usable, observed frames (``n_observed``), of those with aurora
  in the cell (``n_aurora``) and their ratio (``occurrence_rate``).
* :func:`occurrence_from_cube`: both steps from an image cube, for either
  method, with the station MLT, the usable frames and the cell grid resolved
  from the cube.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr
from numpy.typing import NDArray

from ..cube.frames import frame_mlt, time_chunks
from ..errors import DtypeError, MissingDimensionError, MissingVariableError, OptionError
from ..geo.binning import SEASONS, grouped_count, grouped_sum, mlt_bin_edges, mlt_bin_index
from ..geo.cellpixels import cell_coords, cell_pixels, resolve_cells

__all__ = [
    "BY",
    "METHODS",
    "cell_detections",
    "cell_fraction",
    "occurrence_from_cube",
    "occurrence_map",
]

METHODS = ("fcn", "difference")
BY = (None, "year", "season")
_PROVENANCE_KEYS = ("long_name", "units", "comment", "flag_values", "flag_meanings")

# --------------------------------------------------------------------------
# cell detections from a mask


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
    time_dim: Hashable,
    y_dim: Hashable,
    x_dim: Hashable,
    cell_dim: Hashable,
    kwargs: dict[str, Any],
) -> tuple[xr.DataArray, xr.Dataset | None]:
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
    index, count, grid = resolve_cells(
        ds,
        cells,
        n_cells=n_cells,
        min_elevation=min_elevation,
        altitude_km=altitude_km,
        time_dim=time_dim,
        y_dim=y_dim,
        x_dim=x_dim,
        cell_dim=cell_dim,
    )
    if mask.chunks is not None:
        mask = mask.chunk({y_dim: -1, x_dim: -1})
    out = xr.apply_ufunc(
        kernel,
        mask,
        index,
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
    return (out.assign_coords(extra) if extra else out), grid


def _mask_provenance(ds: xr.Dataset, mask_var: Hashable) -> dict[str, Any]:
    attrs = dict(ds[mask_var].attrs)
    return {k: v for k, v in attrs.items() if k not in _PROVENANCE_KEYS}


def cell_fraction(
    ds: xr.Dataset,
    *,
    mask_var: Hashable = "aurora_mask",
    cells: xr.Dataset | xr.DataArray | None = None,
    n_cells: int = 400,
    min_elevation: float = 10.0,
    altitude_km: float = 110.0,
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
    out, _ = _mask_reduce(
        ds,
        cell_fraction_kernel,
        np.float32,
        mask_var=mask_var,
        cells=cells,
        n_cells=n_cells,
        min_elevation=min_elevation,
        altitude_km=altitude_km,
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
    method: str | None = None,
    cells: xr.Dataset | xr.DataArray | None = None,
    n_cells: int = 400,
    min_elevation: float = 10.0,
    altitude_km: float = 110.0,
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
    method : str, optional
        Name of the detector, for the output name and attributes; default
        ``"fcn"`` for ``aurora_mask``, else ``mask_var``.
    cells : xarray.Dataset or xarray.DataArray, optional
        Cell grid with ``cell_index``, or a bare ``cell_index``; default the
        cube's ``cell_index`` or :func:`aurora_xr.geo.cells.cell_grid` with
        ``n_cells``, ``min_elevation``, ``altitude_km``.
    n_cells, min_elevation, altitude_km : optional
        Options of the grid when it is built here.
    time_dim, y_dim, x_dim, cell_dim : str
        Dimension names.

    Returns
    -------
    xarray.DataArray
        ``(time, cell)`` bool named ``<method>_detection``, chunked like the
        mask along time, with the cell coordinates of the grid and the mask's
        provenance (model name, checksum, threshold) plus ``method`` and
        ``min_fraction`` in the attributes.
    """
    if not 0.0 < float(min_fraction) <= 1.0:
        raise OptionError(f"expected min_fraction in (0, 1]; found {min_fraction}")
    if method is None:
        method = "fcn" if mask_var == "aurora_mask" else str(mask_var)
    out, _ = _mask_reduce(
        ds,
        cell_detection_kernel,
        np.bool_,
        mask_var=mask_var,
        cells=cells,
        n_cells=n_cells,
        min_elevation=min_elevation,
        altitude_km=altitude_km,
        time_dim=time_dim,
        y_dim=y_dim,
        x_dim=x_dim,
        cell_dim=cell_dim,
        kwargs={"min_fraction": float(min_fraction)},
    )
    out.attrs = {
        "long_name": f"aurora detected in the cell ({method})",
        "units": "1",
        **_mask_provenance(ds, mask_var),
        "method": method,
        "mask_variable": str(mask_var),
        "min_fraction": float(min_fraction),
        "n_cells": int(out.sizes[cell_dim]),
    }
    return out.rename(f"{method}_detection")


# --------------------------------------------------------------------------
# occurrence maps


def _as_time_array(value: Any, *, name: str, n: int, time_dim: Hashable, dtype: Any = None) -> Any:
    """numpy or dask 1-D data of a DataArray/array on time, checked for length."""
    if isinstance(value, xr.DataArray):
        if tuple(value.dims) != (time_dim,):
            raise MissingDimensionError(
                f"expected {name} on dims ({time_dim!r},); found {tuple(value.dims)}"
            )
        data = value.data
    else:
        data = value if isinstance(value, da.Array) else np.asarray(value)
    if data.ndim != 1 or data.shape[0] != n:
        raise MissingDimensionError(
            f"expected {name} with one value per frame ({n}); found shape {data.shape}"
        )
    if dtype is not None and data.dtype != dtype:
        if dtype == np.bool_ and data.dtype != np.bool_:
            raise DtypeError(f"expected {name} of dtype bool; found {data.dtype}")
        data = data.astype(dtype)
    return data


def _group_index(
    mlt: NDArray[Any], valid: NDArray[Any], by_index: NDArray[Any], *, mlt_bins: int
) -> NDArray[np.int64]:
    bins = mlt_bin_index(mlt, mlt_bins)
    group = bins + mlt_bins * np.asarray(by_index, dtype=np.int64)
    group[(bins < 0) | ~np.asarray(valid, dtype=bool)] = -1
    return group


def _by_groups(
    times: NDArray[np.datetime64] | None, by: str | None, n: int
) -> tuple[NDArray[np.int64], str | None, NDArray[Any] | None, dict[str, Any]]:
    if by is None:
        return np.zeros(n, dtype=np.int64), None, None, {}
    if times is None:
        raise MissingVariableError(f"by={by!r} needs a time coordinate on the detections")
    stamps = pd.DatetimeIndex(np.asarray(times, dtype="datetime64[ns]"))
    if by == "year":
        years = stamps.year.to_numpy()
        labels = np.unique(years)
        index = np.searchsorted(labels, years).astype(np.int64)
        return index, "year", labels.astype(np.int64), {"long_name": "calendar year (UTC)"}
    if by == "season":
        from ..geo.binning import season_index

        return (
            season_index(times),
            "season",
            np.array(SEASONS),
            {
                "long_name": "season by calendar month (UTC)",
                "comment": "DJF: Dec, Jan, Feb; MAM: Mar-May; JJA: Jun-Aug; SON: Sep-Nov; "
                "months of different years are pooled",
            },
        )
    raise OptionError(f"expected by one of {BY}; found {by!r}")


def _resolve_detections(
    detections: xr.DataArray | xr.Dataset, observed: Any, method: str | None
) -> tuple[xr.DataArray, Any, str | None]:
    if isinstance(detections, xr.DataArray):
        return detections, observed, method
    if not isinstance(detections, xr.Dataset):
        raise OptionError(
            "expected detections as an xarray DataArray or Dataset; "
            f"found {type(detections).__name__}"
        )
    names = [str(n) for n in detections.data_vars if str(n).endswith("_detection")]
    if method is not None and f"{method}_detection" in names:
        names = [f"{method}_detection"]
    if len(names) != 1:
        raise MissingVariableError(
            "expected one '<method>_detection' variable in the detections Dataset; found "
            + (", ".join(names) or "none")
        )
    det = detections[names[0]]
    prefix = names[0][: -len("_detection")]
    if observed is None and f"{prefix}_observed" in detections.data_vars:
        observed = detections[f"{prefix}_observed"]
    return det, observed, method or prefix


_GRID_ATTRS = (
    ("magnetic_north_azimuth", "magnetic_north_azimuth"),
    ("altitude_km", "cell_altitude_km"),
    ("min_elevation", "cell_min_elevation"),
    ("cell_area_km2", "cell_area_km2"),
    ("epoch", "cell_epoch"),
    ("layout", "cell_layout"),
)
"""Attributes of a cell grid carried into occurrence products (old name, product name)."""


def occurrence_map(
    detections: xr.DataArray | xr.Dataset,
    *,
    mlt: xr.DataArray | NDArray[Any],
    usable: xr.DataArray | NDArray[Any] | None = None,
    observed: xr.DataArray | NDArray[Any] | None = None,
    mlt_bins: int = 24,
    by: str | None = None,
    method: str | None = None,
    cells: xr.Dataset | None = None,
    attrs: Mapping[str, Any] | None = None,
    time_dim: Hashable = "time",
    cell_dim: Hashable = "cell",
) -> xr.Dataset:
    """Occurrence of aurora per MLT bin and sky cell: a pure, lazy reduction.

    Parameters
    ----------
    detections : xarray.DataArray or xarray.Dataset
        ``(time, cell)`` bool detections (:func:`cell_detections`), or the
        Dataset of :func:`aurora_xr.detect.difference.difference_detect` (its
        ``difference_observed`` is then used as ``observed``).
    mlt : xarray.DataArray or array
        Magnetic local time of each frame in hours (wrapped into [0, 24)).
    usable : xarray.DataArray or array of bool, optional
        Frames to count (default all).
    observed : xarray.DataArray or array of bool, optional
        ``(time,)`` or ``(time, cell)``: where the detector could look (e.g.
        frames with a partner at the lag); combined with ``usable``.
    mlt_bins : int
        Number of equal MLT bins; bin ``k`` holds ``[k, k+1) * 24 / mlt_bins``
        hours, so that 24 h falls in bin 0.
    by : {None, "year", "season"}
        Add a ``year`` or ``season`` dimension (seasons DJF, MAM, JJA, SON by
        calendar month).
    method : str, optional
        Detector name (default the detections' ``method`` attribute).
    cells : xarray.Dataset, optional
        Cell grid whose variables on ``cell`` become coordinates (the
        detections' own cell coordinates are kept anyway); its magnetic north
        azimuth, emission altitude, lowest elevation, cell area, epoch and
        layout become attributes (``magnetic_north_azimuth``,
        ``cell_altitude_km``, ...).
    attrs : mapping, optional
        Extra attributes for the product.
    time_dim, cell_dim : str
        Dimension names.

    Returns
    -------
    xarray.Dataset
        On ``([year|season,] mlt, cell)``: ``n_aurora`` and ``n_observed``
        (int64) and ``occurrence_rate = n_aurora / n_observed`` (float32, NaN
        where ``n_observed == 0``); coordinates ``mlt`` (bin centres, hours),
        ``mlt_bounds``, the cell coordinates; provenance in the attributes.
        Dask arrays when the detections are chunked: each time chunk is reduced
        to a (bins, cells) block and the blocks summed.
    """
    det, observed, method = _resolve_detections(detections, observed, method)
    if det.ndim != 2 or set(det.dims) != {time_dim, cell_dim}:
        raise MissingDimensionError(
            f"expected detections on dims ({time_dim!r}, {cell_dim!r}); found {tuple(det.dims)}"
        )
    det = det.transpose(time_dim, cell_dim)
    if det.dtype != np.bool_:
        raise DtypeError(f"expected bool detections; found dtype {det.dtype}")
    edges = mlt_bin_edges(mlt_bins)
    n_time, n_cell = det.shape
    method = method or str(det.attrs.get("method", "unknown"))
    mlt_data = _as_time_array(mlt, name="mlt", n=n_time, time_dim=time_dim, dtype=np.float64)
    valid: Any = np.ones(n_time, dtype=bool)
    filters = "none"
    if usable is not None:
        valid = _as_time_array(usable, name="usable", n=n_time, time_dim=time_dim, dtype=np.bool_)
        filters = str(getattr(usable, "attrs", {}).get("filters", "given"))
    per_cell_observed = None
    if observed is not None:
        if isinstance(observed, xr.DataArray) and set(observed.dims) == {time_dim, cell_dim}:
            if observed.dtype != np.bool_:
                raise DtypeError(f"expected bool observed flags; found dtype {observed.dtype}")
            per_cell_observed = observed.transpose(time_dim, cell_dim).data
        else:
            valid = valid & _as_time_array(
                observed, name="observed", n=n_time, time_dim=time_dim, dtype=np.bool_
            )
    times = det[time_dim].values if time_dim in det.coords else None
    by_index, by_dim, by_labels, by_attrs = _by_groups(times, by, n_time)
    n_by = 1 if by_labels is None else len(by_labels)
    n_groups = n_by * int(mlt_bins)

    chunks = time_chunks(det, time_dim=time_dim)
    lazy = chunks is not None or any(isinstance(a, da.Array) for a in (mlt_data, valid))
    if lazy:
        chunks = chunks or next(a.chunks[0] for a in (mlt_data, valid) if isinstance(a, da.Array))
        parts = [
            a.rechunk((chunks,))
            if isinstance(a, da.Array)
            else da.from_array(np.asarray(a), chunks=(chunks,))
            for a in (mlt_data, valid, by_index)
        ]
        group = da.map_blocks(
            _group_index,
            *parts,
            mlt_bins=int(mlt_bins),
            dtype=np.int64,
            meta=np.array((), np.int64),
        )
    else:
        group = _group_index(mlt_data, valid, by_index, mlt_bins=int(mlt_bins))

    det_data = det.data
    if per_cell_observed is not None:
        det_data = det_data & per_cell_observed
        n_obs = grouped_sum(per_cell_observed, group, n_groups)
    else:
        counts = grouped_count(group, n_groups)
        n_obs = (da if lazy else np).broadcast_to(counts[:, None], (n_groups, n_cell))
    n_aur = grouped_sum(det_data, group, n_groups)
    shape = (n_by, int(mlt_bins), n_cell)
    n_aur = n_aur.reshape(shape)
    n_obs = n_obs.reshape(shape)
    xp = da if lazy else np
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = xp.where(n_obs > 0, n_aur / xp.where(n_obs > 0, n_obs, 1), np.nan).astype(np.float32)

    dims: tuple[Hashable, ...] = ("__by", "mlt", cell_dim)
    centres = 0.5 * (edges[:-1] + edges[1:])
    coords: dict[Hashable, Any] = {
        "mlt": (
            "mlt",
            centres,
            {
                "long_name": "magnetic local time (bin centre)",
                "units": "hours",
                "bounds": "mlt_bounds",
            },
        ),
        "mlt_bounds": (
            ("mlt", "nv"),
            np.stack([edges[:-1], edges[1:]], axis=1),
            {"long_name": "magnetic local time bin edges"},
        ),
    }
    if cell_dim in det.coords:
        coords[cell_dim] = det[cell_dim].variable
    for name, coord in det.coords.items():
        if (
            name != cell_dim
            and tuple(coord.dims)
            and cell_dim in coord.dims
            and time_dim not in coord.dims
        ):
            coords[name] = coord.variable
    coords.update(cell_coords(cells, cell_dim=cell_dim, exclude_dims=(time_dim,)))
    out = xr.Dataset(
        {
            "occurrence_rate": (
                dims,
                rate,
                {
                    "long_name": "aurora occurrence rate",
                    "units": "1",
                    "comment": "n_aurora / n_observed; NaN where n_observed is 0",
                },
            ),
            "n_aurora": (
                dims,
                n_aur,
                {
                    "long_name": "number of usable frames with aurora in the cell",
                    "units": "1",
                },
            ),
            "n_observed": (
                dims,
                n_obs,
                {
                    "long_name": "number of usable observed frames",
                    "units": "1",
                },
            ),
        },
        coords=coords,
    )
    if by_dim is None:
        out = out.isel(__by=0, drop=True)
    else:
        out = out.rename({"__by": by_dim}).assign_coords({by_dim: (by_dim, by_labels, by_attrs)})
    out.attrs = _product_attrs(det, method, times, mlt_bins, by, filters, attrs, n_time)
    if cells is not None:  # the grid's geometry, so that a reopened product plots alike
        out.attrs.update(
            {new: _attr_value(cells.attrs[old]) for old, new in _GRID_ATTRS if old in cells.attrs}
        )
    return out


def _product_attrs(
    det: xr.DataArray,
    method: str,
    times: NDArray[Any] | None,
    mlt_bins: int,
    by: str | None,
    filters: str,
    extra: Mapping[str, Any] | None,
    n_frames: int,
) -> dict[str, Any]:
    from .. import __version__

    provenance = {k: v for k, v in det.attrs.items() if k not in _PROVENANCE_KEYS}
    attrs: dict[str, Any] = {
        "Conventions": "CF-1.8",
        "title": f"Aurora occurrence map ({method})",
        "source": f"aurora_xr {__version__}",
        **provenance,
        "method": method,
        "mlt_bins": int(mlt_bins),
        "mlt_bin_width_hours": 24.0 / int(mlt_bins),
        "grouped_by": by or "none",
        "usable_filters": filters,
        "n_frames": int(n_frames),
    }
    if by == "season":
        attrs["seasons"] = "DJF, MAM, JJA, SON by calendar month (UTC)"
    if times is not None and len(times):
        start, stop = pd.Timestamp(times.min()), pd.Timestamp(times.max())
        attrs["time_coverage_start"] = start.isoformat()
        attrs["time_coverage_end"] = stop.isoformat()
    attrs["history"] = f"aurora_xr {__version__} occurrence_map(method={method!r})"
    attrs.update(dict(extra or {}))
    return {k: _attr_value(v) for k, v in attrs.items() if v is not None}


def _attr_value(value: Any) -> Any:
    """A NetCDF-safe attribute value (no bool, None or Python objects)."""
    if isinstance(value, bool | np.bool_):
        return int(value)
    if isinstance(value, str | int | float | np.integer | np.floating):
        return value
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return ",".join(value)
    if isinstance(value, np.ndarray) and value.dtype.kind in "iuf":
        return value
    return str(value)


# --------------------------------------------------------------------------
# from a cube


def occurrence_from_cube(
    ds: xr.Dataset,
    *,
    method: str = "fcn",
    model: Any = None,
    min_fraction: float = 0.1,
    lag: Any = "2min",
    channels: tuple[str, ...] = ("R", "G"),
    difference_threshold: Any = None,
    statistic: str = "mean_abs",
    tolerance: Any = None,
    segment_threshold: float | None = None,
    batch_size: int | None = None,
    device: str | None = None,
    mlt_bins: int = 24,
    by: str | None = None,
    usable: xr.DataArray | bool | None = None,
    max_sun_elevation: float | None = -10.0,
    blank_level: float | None = 2.0,
    max_saturated_fraction: float | None = 0.1,
    max_moon_elevation: float | None = None,
    max_cloud_fraction: float | None = None,
    cells: xr.Dataset | xr.DataArray | None = None,
    n_cells: int = 400,
    min_elevation: float = 10.0,
    altitude_km: float = 110.0,
    attrs: Mapping[str, Any] | None = None,
    image_var: Hashable = "image",
    mask_var: Hashable = "aurora_mask",
    time_dim: Hashable = "time",
    y_dim: Hashable = "y",
    x_dim: Hashable = "x",
    channel_dim: Hashable = "channel",
    cell_dim: Hashable = "cell",
) -> xr.Dataset:
    """Occurrence map of a cube by either method, lazily.

    Parameters
    ----------
    ds : xarray.Dataset
        Image cube with station attributes.
    method : {"fcn", "difference"}
        ``"fcn"`` reads ``aurora_mask`` (segmenting with ``model`` first when
        the cube has none); ``"difference"`` runs
        :func:`aurora_xr.detect.difference.difference_detect`.
    model : optional
        Predictor, checkpoint path or callable for :func:`aurora_xr.detect.segmentation.segment`.
    min_fraction : float
        Fraction of a cell's pixels in the mask for an FCN detection.
    lag, channels, difference_threshold, statistic, tolerance : optional
        Options of the difference method (``difference_threshold`` is its ``threshold``).
    segment_threshold, batch_size, device : optional
        Options of the segmentation (``segment_threshold`` is its ``threshold``).
    mlt_bins, by : optional
        See :func:`occurrence_map`.
    usable : xarray.DataArray, bool or None
        None: compute :func:`aurora_xr.detect.usable.usable_frames` with the filter
        options below; False: count every frame; a (time,) bool DataArray: use it.
    max_sun_elevation, blank_level, max_saturated_fraction, max_moon_elevation,
    max_cloud_fraction : optional
        Options of :func:`aurora_xr.detect.usable.usable_frames`.
    cells, n_cells, min_elevation, altitude_km : optional
        The cell grid (see :func:`cell_detections`); ``altitude_km`` also sets
        the altitude of the station MLT.
    attrs : mapping, optional
        Extra product attributes.
    image_var, mask_var, time_dim, y_dim, x_dim, channel_dim, cell_dim : str
        Names in the cube.

    Returns
    -------
    xarray.Dataset
        The occurrence product of :func:`occurrence_map`, with the station
        attributes of the cube.
    """
    if method not in METHODS:
        raise OptionError(f"expected method one of {METHODS}; found {method!r}")
    dims: dict[str, Any] = {"time_dim": time_dim, "y_dim": y_dim, "x_dim": x_dim}
    index, _, grid = resolve_cells(
        ds,
        cells,
        n_cells=n_cells,
        min_elevation=min_elevation,
        altitude_km=altitude_km,
        time_dim=time_dim,
        y_dim=y_dim,
        x_dim=x_dim,
        cell_dim=cell_dim,
    )
    grid_arg: xr.Dataset | xr.DataArray = grid if grid is not None else index
    observed = None
    if method == "fcn":
        ds = ensure_mask(
            ds,
            model,
            who="method='fcn'",
            threshold=segment_threshold,
            batch_size=batch_size,
            device=device,
            image_var=image_var,
            mask_var=mask_var,
            channel_dim=channel_dim,
            **dims,
        )
        detections: xr.DataArray = cell_detections(
            ds,
            min_fraction=min_fraction,
            mask_var=mask_var,
            cells=grid_arg,
            cell_dim=cell_dim,
            **dims,
        )
    else:
        from ..detect.difference import difference_detect

        found = difference_detect(
            ds,
            lag=lag,
            channels=channels,
            threshold=difference_threshold,
            statistic=statistic,
            tolerance=tolerance,
            cells=grid_arg,
            image_var=image_var,
            channel_dim=channel_dim,
            cell_dim=cell_dim,
            **dims,
        )
        detections, observed = found["difference_detection"], found["difference_observed"]
    flags, mlt, product_attrs = frame_context(
        ds,
        usable,
        altitude_km=altitude_km,
        attrs=attrs,
        max_sun_elevation=max_sun_elevation,
        blank_level=blank_level,
        max_saturated_fraction=max_saturated_fraction,
        max_moon_elevation=max_moon_elevation,
        max_cloud_fraction=max_cloud_fraction,
        image_var=image_var,
        channel_dim=channel_dim,
        **dims,
    )
    return occurrence_map(
        detections,
        mlt=mlt,
        usable=flags,
        observed=observed,
        mlt_bins=mlt_bins,
        by=by,
        method=method,
        cells=grid,
        attrs=product_attrs,
        time_dim=time_dim,
        cell_dim=cell_dim,
    )


def ensure_mask(
    ds: xr.Dataset,
    model: Any,
    *,
    who: str,
    mask_var: Hashable,
    **segment_options: Any,
) -> xr.Dataset:
    """``ds`` itself when it has ``mask_var``, else ``ds`` segmented with ``model``.

    ``who`` names the caller in the error raised when there is neither a
    mask nor a model; ``segment_options`` go to :func:`aurora_xr.detect.segmentation.segment`.
    """
    if mask_var in ds.variables:
        return ds
    if model is None:
        raise MissingVariableError(
            f"{who} needs {mask_var!r} in the cube or a model to segment with; found neither"
        )
    from ..detect.segmentation import segment

    return segment(ds, model, **segment_options)


def frame_context(
    ds: xr.Dataset,
    usable: xr.DataArray | bool | None,
    *,
    altitude_km: float,
    attrs: Mapping[str, Any] | None,
    time_dim: Hashable = "time",
    **usable_options: Any,
) -> tuple[xr.DataArray | None, xr.DataArray, dict[str, Any]]:
    """What an occurrence product needs of each frame besides its detections.

    Returns the usable flags (see :func:`occurrence_from_cube`), the MLT of
    each frame at ``altitude_km``, and the product attributes: the cube's
    ``station_*`` attributes, ``altitude_km`` and ``attrs``.
    """
    flags = _resolve_usable(ds, usable, time_dim=time_dim, **usable_options)
    mlt = frame_mlt(ds, altitude_km=altitude_km, time_dim=time_dim)
    station = {k: v for k, v in ds.attrs.items() if str(k).startswith("station_")}
    return flags, mlt, {**station, "altitude_km": float(altitude_km), **dict(attrs or {})}


def _resolve_usable(
    ds: xr.Dataset, usable: xr.DataArray | bool | None, **options: Any
) -> xr.DataArray | None:
    if usable is None or usable is True:
        from ..detect.usable import usable_frames

        return usable_frames(ds, **options)["usable"]
    if usable is False:
        return None
    if isinstance(usable, xr.DataArray):
        return usable
    raise OptionError(
        f"expected usable as None, False or a (time,) bool DataArray; found {type(usable).__name__}"
    )
