"""Occurrence maps: how often each sky cell shows aurora, per MLT bin (a pure, lazy reduction).

:func:`occurrence_map` counts, for each MLT bin (and year or season) and each cell,
the usable, observed frames (``n_observed``) and those with aurora in the cell
(``n_aurora``), and their ratio (``occurrence_rate``). Its steps: check the
detections, give every frame its group (MLT bin within year/season, or -1 when it
is not counted), sum the detections per group with the grouped sums of
:mod:`aurora_xr.geo.binning` (one ``(groups, cells)`` block per time chunk on dask),
and assemble the CF product. :func:`aurora_xr.analysis.cube_occurrence.occurrence_from_cube`
runs the whole way from an image cube.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr
from numpy.typing import NDArray

from .._version import __version__
from ..cube.grid import cell_coords
from ..errors import DtypeError, MissingDimensionError, MissingVariableError, OptionError
from ..geo.binning import (
    grouped_count,
    grouped_sum,
    mlt_bin_edges,
)
from ..io.products import attr_value
from .detections import PROVENANCE_SKIP
from .frame_groups import BY, FrameGroups, frame_groups

__all__ = ["BY", "DETECTORS", "GRID_ATTRS", "occurrence_map"]

DETECTORS = ("fcn", "difference")
"""The detectors an occurrence map is made with: the FCN's mask and the difference method."""

GRID_ATTRS = (
    ("magnetic_north_azimuth", "magnetic_north_azimuth"),
    ("altitude_km", "cell_altitude_km"),
    ("min_elevation", "cell_min_elevation"),
    ("cell_area_km2", "cell_area_km2"),
    ("epoch", "cell_epoch"),
    ("layout", "cell_layout"),
)
"""Attributes of a cell grid carried into occurrence products (grid name, product name)."""


def occurrence_map(
    detections: xr.DataArray | xr.Dataset,
    *,
    mlt: xr.DataArray | NDArray[Any],
    usable: xr.DataArray | NDArray[Any] | None = None,
    observed: xr.DataArray | NDArray[Any] | None = None,
    mlt_bins: int = 24,
    by: str | None = None,
    detector: str | None = None,
    cells: xr.Dataset | None = None,
    attrs: Mapping[str, Any] | None = None,
    time_dim: Hashable = "time",
    cell_dim: Hashable = "cell",
) -> xr.Dataset:
    """Occurrence of aurora per MLT bin and sky cell: a pure, lazy reduction.

    Parameters
    ----------
    detections : xarray.DataArray or xarray.Dataset
        ``(time, cell)`` bool detections
        (:func:`aurora_xr.analysis.detections.cell_detections`), or the Dataset of
        :func:`aurora_xr.detect.difference.difference_detect` (its
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
    detector : str, optional
        Detector name (default the detections' ``detector`` attribute).
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
    det, observed, detector = _checked_detections(
        detections, observed, detector, time_dim, cell_dim
    )
    groups = frame_groups(det, mlt, usable, observed, int(mlt_bins), by, time_dim, cell_dim)
    counts = _count(det.data, groups, _visible_cells(det, cell_dim))
    out = xr.Dataset(
        _count_variables(counts, groups, cell_dim),
        coords=_product_coords(det, cells, int(mlt_bins), time_dim, cell_dim),
    )
    if groups.by_dim is None:
        out = out.isel(__by=0, drop=True)
    else:
        labels = (groups.by_dim, groups.by_labels, groups.by_attrs)
        out = out.rename({"__by": groups.by_dim}).assign_coords({groups.by_dim: labels})
    out.attrs = _product_attrs(det, detector, groups, by, attrs)
    if cells is not None:  # the grid's geometry, so that a reopened product plots alike
        out.attrs.update(
            {new: attr_value(cells.attrs[old]) for old, new in GRID_ATTRS if old in cells.attrs}
        )
    return out


# -- step 1: the detections ----------------------------------------------------------------
def _checked_detections(
    detections: xr.DataArray | xr.Dataset,
    observed: Any,
    detector: str | None,
    time_dim: Hashable,
    cell_dim: Hashable,
) -> tuple[xr.DataArray, Any, str]:
    """The (time, cell) bool detections, the observed flags and the detector's name."""
    if isinstance(detections, xr.Dataset):
        det, observed, detector = _detections_of_dataset(detections, observed, detector)
    elif isinstance(detections, xr.DataArray):
        det = detections
    else:
        raise OptionError(
            "expected detections as an xarray DataArray or Dataset; "
            f"found {type(detections).__name__}"
        )
    if det.ndim != 2 or set(det.dims) != {time_dim, cell_dim}:
        raise MissingDimensionError(
            f"expected detections on dims ({time_dim!r}, {cell_dim!r}); found {tuple(det.dims)}"
        )
    det = det.transpose(time_dim, cell_dim)
    if det.dtype != np.bool_:
        raise DtypeError(f"expected bool detections; found dtype {det.dtype}")
    return det, observed, detector or str(det.attrs.get("detector", "unknown"))


def _detections_of_dataset(
    detections: xr.Dataset, observed: Any, detector: str | None
) -> tuple[xr.DataArray, Any, str | None]:
    names = [str(n) for n in detections.data_vars if str(n).endswith("_detection")]
    if detector is not None and f"{detector}_detection" in names:
        names = [f"{detector}_detection"]
    if len(names) != 1:
        raise MissingVariableError(
            "expected one '<detector>_detection' variable in the detections Dataset; found "
            + (", ".join(names) or "none")
        )
    prefix = names[0][: -len("_detection")]
    if observed is None and f"{prefix}_observed" in detections.data_vars:
        observed = detections[f"{prefix}_observed"]
    return detections[names[0]], observed, detector or prefix


# -- step 3: counting -------------------------------------------------------------------------
def _visible_cells(det: xr.DataArray, cell_dim: Hashable) -> NDArray[np.bool_] | None:
    """Cells with pixels to look at (an obstruction may hide a cell entirely)."""
    if "cell_pixel_count" not in det.coords or det["cell_pixel_count"].dims != (cell_dim,):
        return None
    return np.asarray(det["cell_pixel_count"].values) > 0


def _count(
    det_data: Any, groups: FrameGroups, visible: NDArray[np.bool_] | None
) -> tuple[Any, Any, Any]:
    """``n_aurora``, ``n_observed`` and the rate, each ``(n_by, mlt_bins, n_cells)``.

    A cell without visible pixels is never observed (``n_observed`` 0, rate NaN).
    """
    n_cell = det_data.shape[1]
    if groups.per_cell_observed is not None:
        det_data = det_data & groups.per_cell_observed
        n_obs = grouped_sum(groups.per_cell_observed, groups.group, groups.n_groups)
    else:
        counts = grouped_count(groups.group, groups.n_groups)
        xp = da if groups.lazy else np
        n_obs = xp.broadcast_to(counts[:, None], (groups.n_groups, n_cell))
    n_aur = grouped_sum(det_data, groups.group, groups.n_groups)
    shape = (groups.n_by, groups.mlt_bins, n_cell)
    n_aur, n_obs = n_aur.reshape(shape), n_obs.reshape(shape)
    xp = da if groups.lazy else np
    if visible is not None and not visible.all():
        n_obs = xp.where(visible, n_obs, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = xp.where(n_obs > 0, n_aur / xp.where(n_obs > 0, n_obs, 1), np.nan)
    return n_aur, n_obs, rate.astype(np.float32)


# -- step 4: the product ------------------------------------------------------------------------
def _count_variables(
    counts: tuple[Any, Any, Any], groups: FrameGroups, cell_dim: Hashable
) -> dict[Hashable, Any]:
    n_aur, n_obs, rate = counts
    dims: tuple[Hashable, ...] = ("__by", "mlt", cell_dim)
    return {
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
            {"long_name": "number of usable frames with aurora in the cell", "units": "1"},
        ),
        "n_observed": (
            dims,
            n_obs,
            {"long_name": "number of usable observed frames", "units": "1"},
        ),
    }


def _product_coords(
    det: xr.DataArray,
    cells: xr.Dataset | None,
    mlt_bins: int,
    time_dim: Hashable,
    cell_dim: Hashable,
) -> dict[Hashable, Any]:
    edges = mlt_bin_edges(mlt_bins)
    coords: dict[Hashable, Any] = {
        "mlt": (
            "mlt",
            0.5 * (edges[:-1] + edges[1:]),
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
        if name != cell_dim and cell_dim in coord.dims and time_dim not in coord.dims:
            coords[name] = coord.variable
    coords.update(cell_coords(cells, cell_dim=cell_dim, exclude_dims=(time_dim,)))
    return coords


def _product_attrs(
    det: xr.DataArray,
    detector: str,
    groups: FrameGroups,
    by: str | None,
    extra: Mapping[str, Any] | None,
) -> dict[str, Any]:
    provenance = {k: v for k, v in det.attrs.items() if k not in PROVENANCE_SKIP}
    attrs: dict[str, Any] = {
        "Conventions": "CF-1.8",
        "title": f"Aurora occurrence map ({detector})",
        "source": f"aurora_xr {__version__}",
        **provenance,
        "detector": detector,
        "mlt_bins": groups.mlt_bins,
        "mlt_bin_width_hours": 24.0 / groups.mlt_bins,
        "grouped_by": by or "none",
        "usable_filters": groups.filters,
        "n_frames": int(det.shape[0]),
    }
    if by == "season":
        attrs["seasons"] = "DJF, MAM, JJA, SON by calendar month (UTC)"
    times = groups.times
    if times is not None and len(times):
        attrs["time_coverage_start"] = pd.Timestamp(times.min()).isoformat()
        attrs["time_coverage_end"] = pd.Timestamp(times.max()).isoformat()
    attrs["history"] = f"aurora_xr {__version__} occurrence_map(detector={detector!r})"
    attrs.update(dict(extra or {}))
    return {k: attr_value(v) for k, v in attrs.items() if v is not None}
