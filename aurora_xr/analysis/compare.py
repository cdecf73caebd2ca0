"""Compare the FCN and the difference method on the same frames (lazy).

:func:`compare_methods` puts the occurrence maps of both methods on a
``method`` dimension, with their ratio, how often they agree per frame and per
cell, and, where the cube carries ``aurora_truth``, each method's precision,
recall and F1 at cell level, split into dynamic and stationary forms with
``aurora_kind``.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from ..detect.difference import difference_detect
from ..errors import MissingDimensionError
from ..geo.cellpixels import cell_pixels, resolve_cells
from .occurrence import _attr_value, cell_detections, ensure_mask, frame_context, occurrence_map

__all__ = ["FORMS", "compare_methods", "truth_kind_kernel"]

FORMS = ("all", "dynamic", "stationary")
"""Aurora forms of the truth split: all, dynamic (``aurora_kind == 1``) and
stationary (``aurora_kind == 2``)."""

DYNAMIC, STATIONARY = 1, 2


def truth_kind_kernel(
    truth: NDArray[np.bool_], kind: NDArray[Any], cell_index: NDArray[Any], *, n_cells: int
) -> NDArray[np.uint8]:
    """The majority form of the truth pixels of each cell.

    Parameters
    ----------
    truth : (T, H, W) ndarray of bool
        Truth masks.
    kind : (T, H, W) ndarray of uint8
        0 none, 1 dynamic, 2 stationary.
    cell_index : (H, W) ndarray of int
        Cell labels, -1 outside.
    n_cells : int
        Number of cells.

    Returns
    -------
    (T, n_cells) ndarray of uint8
        2 where more truth pixels of the cell are stationary than dynamic, 1
        where at least as many are dynamic (ties count as dynamic), 0 where the
        cell has no truth pixel of either form.
    """
    t = truth.shape[0]
    layout = cell_pixels(cell_index, n_cells)
    truth_flat = np.asarray(truth, dtype=bool).reshape(t, -1)
    kind_flat = np.asarray(kind).reshape(t, -1)
    dynamic = layout.sums(layout.gather(truth_flat & (kind_flat == DYNAMIC)), dtype=np.int32)
    stationary = layout.sums(layout.gather(truth_flat & (kind_flat == STATIONARY)), dtype=np.int32)
    out = np.zeros(dynamic.shape, dtype=np.uint8)
    out[(dynamic > 0) | (stationary > 0)] = DYNAMIC
    out[stationary > dynamic] = STATIONARY
    return out


def _truth_kind(
    ds: xr.Dataset,
    index: xr.DataArray,
    count: int,
    *,
    truth_var: Hashable,
    kind_var: Hashable,
    time_dim: Hashable,
    y_dim: Hashable,
    x_dim: Hashable,
    cell_dim: Hashable,
) -> xr.DataArray:
    truth, kind = ds[truth_var], ds[kind_var]
    for var in (truth, kind):
        if tuple(var.dims) != (time_dim, y_dim, x_dim):
            raise MissingDimensionError(
                f"expected {var.name!r} on dims ({time_dim!r}, {y_dim!r}, {x_dim!r}); "
                f"found {tuple(var.dims)}"
            )
    if truth.chunks is not None or kind.chunks is not None:
        truth = truth.chunk({y_dim: -1, x_dim: -1})
        kind = kind.chunk({y_dim: -1, x_dim: -1})
    out = xr.apply_ufunc(
        truth_kind_kernel,
        truth,
        kind,
        index,
        input_core_dims=[[y_dim, x_dim]] * 3,
        output_core_dims=[[cell_dim]],
        dask="parallelized",
        output_dtypes=[np.uint8],
        dask_gufunc_kwargs={"output_sizes": {cell_dim: count}},
        kwargs={"n_cells": count},
        keep_attrs=False,
    )
    return out.drop_vars([c for c in out.coords if c != time_dim])


def _ratio(num: xr.DataArray, den: xr.DataArray) -> xr.DataArray:
    """``num / den`` with NaN where ``den`` is 0 or NaN."""
    return (num / den.where(den > 0)).astype(np.float32)


def _scores(tp: xr.DataArray, fp: xr.DataArray, fn: xr.DataArray) -> dict[str, xr.DataArray]:
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    f1 = _ratio(2 * tp, 2 * tp + fp + fn)
    return {"precision": precision, "recall": recall, "f1": f1}


def compare_methods(
    ds: xr.Dataset,
    model: Any = None,
    *,
    lag: Any = "2min",
    min_fraction: float = 0.1,
    mlt_bins: int = 24,
    by: str | None = None,
    channels: tuple[str, ...] = ("R", "G"),
    difference_threshold: Any = None,
    statistic: str = "mean_abs",
    tolerance: Any = None,
    segment_threshold: float | None = None,
    batch_size: int | None = None,
    device: str | None = None,
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
    truth_var: Hashable = "aurora_truth",
    kind_var: Hashable = "aurora_kind",
    time_dim: Hashable = "time",
    y_dim: Hashable = "y",
    x_dim: Hashable = "x",
    channel_dim: Hashable = "channel",
    cell_dim: Hashable = "cell",
) -> xr.Dataset:
    """Occurrence, agreement and (with truth) skill of the FCN and the difference method.

    Parameters
    ----------
    ds : xarray.Dataset
        Image cube. Its ``aurora_mask`` is used if present; otherwise it is
        segmented with ``model``.
    model : optional
        Predictor, checkpoint path or callable (see :func:`aurora_xr.detect.segmentation.segment`).
    lag, channels, difference_threshold, statistic, tolerance : optional
        Options of :func:`aurora_xr.detect.difference.difference_detect`.
    min_fraction : float
        Fraction of a cell's pixels for an FCN (and a truth) cell detection.
    mlt_bins, by : optional
        See :func:`aurora_xr.analysis.occurrence.occurrence_map`.
    segment_threshold, batch_size, device : optional
        Options of the segmentation.
    usable, max_sun_elevation, blank_level, max_saturated_fraction,
    max_moon_elevation, max_cloud_fraction : optional
        Usable frames (see :func:`aurora_xr.analysis.occurrence.occurrence_from_cube`).
    cells, n_cells, min_elevation, altitude_km : optional
        The cell grid (both methods use the same one).
    attrs : mapping, optional
        Extra attributes.
    image_var, mask_var, truth_var, kind_var, time_dim, y_dim, x_dim, channel_dim, cell_dim
        Names in the cube.

    Returns
    -------
    xarray.Dataset
        * ``occurrence_rate``, ``n_aurora``, ``n_observed`` on (method, [year|season,]
          mlt, cell) with ``method = ["fcn", "difference"]``; each method counts
          its own observed frames (the difference method only frames with a
          partner at the lag);
        * ``rate_ratio`` (mlt, cell): FCN rate / difference rate (NaN where the
          difference rate is 0); ``overall_rate`` (method) and
          ``overall_rate_ratio`` () over all bins and cells;
        * agreement over the *compared* frames (usable and with a partner):
          ``n_both``, ``n_only_fcn``, ``n_only_difference``, ``n_neither`` and
          ``agreement`` on (cell), ``frame_agreement`` (time; NaN for frames
          not compared), ``n_compared_frames`` ();
        * with ``aurora_truth``: ``n_true_positive``, ``n_false_positive``,
          ``n_false_negative`` (int64) and ``precision``, ``recall``, ``f1``
          (float32) on (method, form) with ``form = ["all", "dynamic",
          "stationary"]`` over the compared frames, against truth cell detections
          (same ``min_fraction``); a truth cell's form is the majority kind of its
          truth pixels (ties: dynamic). Precision for one form counts the
          false positives of all forms (a false positive has no form).

        Everything is lazy on a chunked cube; compute the whole Dataset at once
        so that each chunk is segmented and differenced once.
    """
    dims: dict[str, Any] = {"time_dim": time_dim, "y_dim": y_dim, "x_dim": x_dim}
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
    grid_arg: xr.Dataset | xr.DataArray = grid if grid is not None else index
    ds = ensure_mask(
        ds,
        model,
        who="compare_methods",
        threshold=segment_threshold,
        batch_size=batch_size,
        device=device,
        image_var=image_var,
        mask_var=mask_var,
        channel_dim=channel_dim,
        **dims,
    )
    fcn = cell_detections(
        ds, min_fraction=min_fraction, mask_var=mask_var, cells=grid_arg, cell_dim=cell_dim, **dims
    )
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
    diff, observed = found["difference_detection"], found["difference_observed"]
    flags, mlt, extra = frame_context(
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
    common = observed if flags is None else observed & flags
    maps = [
        occurrence_map(
            fcn,
            mlt=mlt,
            usable=flags,
            mlt_bins=mlt_bins,
            by=by,
            method="fcn",
            cells=grid,
            attrs=extra,
            time_dim=time_dim,
            cell_dim=cell_dim,
        ),
        occurrence_map(
            found,
            mlt=mlt,
            usable=flags,
            mlt_bins=mlt_bins,
            by=by,
            method="difference",
            cells=grid,
            attrs=extra,
            time_dim=time_dim,
            cell_dim=cell_dim,
        ),
    ]
    merged_attrs: dict[str, Any] = {}
    for occ in maps:
        merged_attrs.update(occ.attrs)
    occurrence = xr.concat(
        [m.drop_attrs(deep=False) for m in maps],
        dim="method",
        coords="minimal",
        compat="override",
        join="override",
        combine_attrs="drop",
    ).assign_coords(method=("method", ["fcn", "difference"], {"long_name": "detection method"}))
    out = occurrence
    rates = out["occurrence_rate"]
    out["rate_ratio"] = _ratio(
        rates.sel({"method": "fcn"}, drop=True), rates.sel({"method": "difference"}, drop=True)
    ).assign_attrs(
        long_name="FCN occurrence rate / difference-method occurrence rate",
        units="1",
        comment="NaN where the difference-method rate is 0 or undefined",
    )
    reduce_dims = [d for d in out["n_aurora"].dims if d != "method"]
    overall = _ratio(out["n_aurora"].sum(reduce_dims), out["n_observed"].sum(reduce_dims))
    out["overall_rate"] = overall.assign_attrs(
        long_name="occurrence rate over all MLT bins and cells", units="1"
    )
    out["overall_rate_ratio"] = _ratio(
        overall.sel({"method": "fcn"}, drop=True), overall.sel({"method": "difference"}, drop=True)
    ).assign_attrs(long_name="overall FCN rate / overall difference-method rate", units="1")

    # agreement, frame by frame and cell by cell, on the compared frames
    f = fcn & common
    d = diff & common
    counts = {
        "n_both": (f & d, "frames where both methods detect aurora in the cell"),
        "n_only_fcn": (f & ~d, "frames where only the FCN detects aurora in the cell"),
        "n_only_difference": (~f & d, "frames where only the difference method detects"),
        "n_neither": (~f & ~d & common, "frames where neither method detects aurora"),
    }
    for name, (flag, text) in counts.items():
        out[name] = flag.sum([time_dim]).astype(np.int64).assign_attrs(long_name=text, units="1")
    n_compared = common.sum([time_dim]).astype(np.int64)
    out["n_compared_frames"] = n_compared.assign_attrs(
        long_name="frames usable and with a partner at the lag", units="1"
    )
    out["agreement"] = _ratio(out["n_both"] + out["n_neither"], n_compared).assign_attrs(
        long_name="fraction of compared frames where the methods agree on the cell", units="1"
    )
    out["frame_agreement"] = (
        (fcn == diff).mean([cell_dim]).astype(np.float32).where(common)
    ).assign_attrs(
        long_name="fraction of cells where the methods agree in the frame",
        units="1",
        comment="NaN for frames not compared",
    )
    out = out.assign_coords({time_dim: ds[time_dim]})

    if truth_var in ds.variables:
        out = _with_truth_scores(
            out,
            ds,
            {"fcn": f, "difference": d},
            common,
            index,
            count,
            grid_arg,
            min_fraction=min_fraction,
            truth_var=truth_var,
            kind_var=kind_var,
            cell_dim=cell_dim,
            **dims,
        )
    if truth_var in ds.variables:
        merged_attrs["truth_variable"] = str(truth_var)
        merged_attrs["truth_min_fraction"] = float(min_fraction)
    merged_attrs.update(
        method="fcn,difference",
        title="Comparison of the FCN and the difference method",
        history=merged_attrs.get("history", "").replace("occurrence_map", "compare_methods"),
    )
    out.attrs = {k: _attr_value(v) for k, v in merged_attrs.items()}
    return out


def _with_truth_scores(
    out: xr.Dataset,
    ds: xr.Dataset,
    detections: dict[str, xr.DataArray],
    common: xr.DataArray,
    index: xr.DataArray,
    count: int,
    grid_arg: xr.Dataset | xr.DataArray,
    *,
    min_fraction: float,
    truth_var: Hashable,
    kind_var: Hashable,
    time_dim: Hashable,
    y_dim: Hashable,
    x_dim: Hashable,
    cell_dim: Hashable,
) -> xr.Dataset:
    dims: dict[str, Any] = {"time_dim": time_dim, "y_dim": y_dim, "x_dim": x_dim}
    truth = (
        cell_detections(
            ds,
            min_fraction=min_fraction,
            mask_var=truth_var,
            method="truth",
            cells=grid_arg,
            cell_dim=cell_dim,
            **dims,
        )
        & common
    )
    forms: dict[str, xr.DataArray] = {"all": truth}
    if kind_var in ds.variables:
        kind = _truth_kind(
            ds, index, count, truth_var=truth_var, kind_var=kind_var, cell_dim=cell_dim, **dims
        )
        forms["dynamic"] = truth & (kind != STATIONARY)
        forms["stationary"] = truth & (kind == STATIONARY)
    names = list(forms)
    per_method: dict[str, list[xr.DataArray]] = {
        "n_true_positive": [],
        "n_false_positive": [],
        "n_false_negative": [],
    }
    for det in detections.values():
        fp = (det & ~truth).sum().astype(np.int64)
        tps, fns = [], []
        for form in names:
            tps.append((det & forms[form]).sum().astype(np.int64))
            fns.append((~det & forms[form]).sum().astype(np.int64))
        per_method["n_true_positive"].append(xr.concat(tps, dim="form"))
        per_method["n_false_positive"].append(xr.concat([fp] * len(names), dim="form"))
        per_method["n_false_negative"].append(xr.concat(fns, dim="form"))
    texts = {
        "n_true_positive": "compared (frame, cell) pairs detected that are aurora in the truth",
        "n_false_positive": "compared (frame, cell) pairs detected that are not aurora in the "
        "truth (all forms)",
        "n_false_negative": "compared (frame, cell) pairs of aurora in the truth not detected",
    }
    form_coord = {"form": ("form", names, {"long_name": "aurora form of the truth"})}
    method_coord = {"method": out["method"]}
    for name, parts in per_method.items():
        out[name] = (
            xr.concat(parts, dim="method")
            .assign_coords({**method_coord, **form_coord})
            .assign_attrs(long_name=texts[name], units="1")
        )
    scores = _scores(out["n_true_positive"], out["n_false_positive"], out["n_false_negative"])
    long_names = {
        "precision": "cell-level precision against the truth",
        "recall": "cell-level recall against the truth",
        "f1": "cell-level F1 score against the truth",
    }
    for name, value in scores.items():
        out[name] = value.assign_attrs(long_name=long_names[name], units="1")
    return out
