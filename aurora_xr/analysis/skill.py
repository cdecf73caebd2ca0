"""Skill of the detectors against a known truth, at cell level, by form of aurora.

Where a cube carries the exact ``aurora_truth`` (the synthetic sky, or a labelled
archive), :func:`add_truth_scores` counts for each detector the true positives,
false positives and false negatives over the compared (frame, cell) pairs, split
into dynamic and stationary forms with ``aurora_kind`` (the majority form of a
cell's truth pixels, :func:`truth_kind_kernel`), and adds precision, recall and F1.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from ..cube.context import CubeContext
from ..errors import MissingDimensionError
from ..geo.cellpixels import cell_pixels
from .detections import cell_detections

__all__ = ["FORMS", "add_truth_scores", "ratio", "truth_kind_kernel"]

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


def ratio(num: xr.DataArray, den: xr.DataArray) -> xr.DataArray:
    """``num / den`` as float32, with NaN where ``den`` is 0 or NaN."""
    return (num / den.where(den > 0)).astype(np.float32)


def _scores(tp: xr.DataArray, fp: xr.DataArray, fn: xr.DataArray) -> dict[str, xr.DataArray]:
    precision = ratio(tp, tp + fp)
    recall = ratio(tp, tp + fn)
    f1 = ratio(2 * tp, 2 * tp + fp + fn)
    return {"precision": precision, "recall": recall, "f1": f1}


def add_truth_scores(
    out: xr.Dataset,
    ds: xr.Dataset,
    detections: dict[str, xr.DataArray],
    common: xr.DataArray,
    *,
    context: CubeContext,
    min_fraction: float,
    truth_var: Hashable,
    kind_var: Hashable,
    cell_dim: Hashable,
    detector_dim: Hashable,
) -> xr.Dataset:
    """``out`` with the skill of each detector in ``detections`` against the truth.

    ``detections`` maps each detector's name (in the order of ``out``'s
    ``detector_dim``) to its (time, cell) detections over the compared frames
    ``common``; the truth's cell detections use the same ``min_fraction``.
    """
    dims: dict[str, Any] = {
        "time_dim": context.dims.time,
        "y_dim": context.dims.y,
        "x_dim": context.dims.x,
    }
    truth = (
        cell_detections(
            ds,
            min_fraction=min_fraction,
            mask_var=truth_var,
            detector="truth",
            context=context,
            cell_dim=cell_dim,
            **dims,
        )
        & common
    )
    forms: dict[str, xr.DataArray] = {"all": truth}
    if kind_var in ds.variables:
        labels, count, _ = context.require_cells()
        kind = _truth_kind(
            ds, labels, count, truth_var=truth_var, kind_var=kind_var, cell_dim=cell_dim, **dims
        )
        forms["dynamic"] = truth & (kind != STATIONARY)
        forms["stationary"] = truth & (kind == STATIONARY)
    names = list(forms)
    counts = ("n_true_positive", "n_false_positive", "n_false_negative")
    per_detector: dict[str, list[xr.DataArray]] = {name: [] for name in counts}
    for det in detections.values():
        fp = (det & ~truth).sum().astype(np.int64)
        tps, fns = [], []
        for form in names:
            tps.append((det & forms[form]).sum().astype(np.int64))
            fns.append((~det & forms[form]).sum().astype(np.int64))
        per_detector["n_true_positive"].append(xr.concat(tps, dim="form"))
        per_detector["n_false_positive"].append(xr.concat([fp] * len(names), dim="form"))
        per_detector["n_false_negative"].append(xr.concat(fns, dim="form"))
    texts = {
        "n_true_positive": "compared (frame, cell) pairs detected that are aurora in the truth",
        "n_false_positive": "compared (frame, cell) pairs detected that are not aurora in the "
        "truth (all forms)",
        "n_false_negative": "compared (frame, cell) pairs of aurora in the truth not detected",
    }
    form_coord = {"form": ("form", names, {"long_name": "aurora form of the truth"})}
    for name, parts in per_detector.items():
        out[name] = (
            xr.concat(parts, dim=detector_dim)
            .assign_coords({detector_dim: out[detector_dim], **form_coord})
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
