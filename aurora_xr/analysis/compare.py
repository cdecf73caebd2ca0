"""Compare the FCN and the difference method on the same frames (lazy).

:func:`compare_methods` puts the occurrence maps of both detectors on a
``detector`` dimension, with their ratio, how often they agree per frame and per
cell, and, where the cube carries ``aurora_truth``, each detector's precision,
recall and F1 at cell level, split into dynamic and stationary forms with
``aurora_kind`` (:mod:`aurora_xr.analysis.skill`). The cube's context and cell grid
are resolved once at the start and passed to every step.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from ..detect.difference import difference_detect
from ..io.products import DETECTOR_ATTRS, attr_value
from .detections import cell_detections
from .occurrence import occurrence_map
from .skill import FORMS, add_truth_scores, ratio
from .steps import ensure_mask, frame_context, pipeline_context

__all__ = ["FORMS", "compare_methods"]

DETECTOR_NAMES = ("fcn", "difference")


def compare_methods(
    ds: xr.Dataset,
    model: Any = None,
    *,
    lag: Any = "2min",
    min_fraction: float = 0.1,
    mlt_bins: int = 24,
    by: str | None = None,
    channels: Sequence[str] | None = None,
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
    detector_dim: Hashable = "detector",
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
        Options of :func:`aurora_xr.detect.difference.difference_detect` (``channels``
        default R and G of a colour cube, or its one channel).
    min_fraction : float
        Fraction of a cell's pixels for an FCN (and a truth) cell detection.
    mlt_bins, by : optional
        See :func:`aurora_xr.analysis.occurrence.occurrence_map`.
    segment_threshold, batch_size, device : optional
        Options of the segmentation.
    usable, max_sun_elevation, blank_level, max_saturated_fraction,
    max_moon_elevation, max_cloud_fraction : optional
        Usable frames (see :func:`aurora_xr.analysis.cube_occurrence.occurrence_from_cube`).
    cells, n_cells, min_elevation, altitude_km : optional
        The cell grid (both methods use the same one).
    attrs : mapping, optional
        Extra attributes.
    image_var, mask_var, truth_var, kind_var, time_dim, y_dim, x_dim, channel_dim, cell_dim
        Names in the cube.
    detector_dim : str
        Name of the output dimension that holds the two detectors.

    Returns
    -------
    xarray.Dataset
        * ``occurrence_rate``, ``n_aurora``, ``n_observed`` on (detector, [year|season,]
          mlt, cell) with ``detector = ["fcn", "difference"]``; each method counts
          its own observed frames (the difference method only frames with a
          partner at the lag);
        * ``rate_ratio`` (mlt, cell): FCN rate / difference rate (NaN where the
          difference rate is 0); ``overall_rate`` (detector) and
          ``overall_rate_ratio`` () over all bins and cells;
        * agreement over the *compared* frames (usable and with a partner):
          ``n_both``, ``n_only_fcn``, ``n_only_difference``, ``n_neither`` and
          ``agreement`` on (cell), ``frame_agreement`` (time; NaN for frames
          not compared), ``n_compared_frames`` ();
        * with ``aurora_truth``: ``n_true_positive``, ``n_false_positive``,
          ``n_false_negative`` (int64) and ``precision``, ``recall``, ``f1``
          (float32) on (detector, form) with ``form = ["all", "dynamic",
          "stationary"]`` over the compared frames, against truth cell detections
          (same ``min_fraction``); a truth cell's form is the majority kind of its
          truth pixels (ties: dynamic). Precision for one form counts the
          false positives of all forms (a false positive has no form).

        Everything is lazy on a chunked cube; compute the whole Dataset at once
        so that each chunk is segmented and differenced once.
    """
    ctx = pipeline_context(
        ds,
        cells=cells,
        n_cells=n_cells,
        min_elevation=min_elevation,
        altitude_km=altitude_km,
        image_var=image_var,
        time_dim=time_dim,
        y_dim=y_dim,
        x_dim=x_dim,
        channel_dim=channel_dim,
        cell_dim=cell_dim,
    )
    ds = ensure_mask(
        ds,
        model,
        who="compare_methods",
        mask_var=mask_var,
        context=ctx,
        threshold=segment_threshold,
        batch_size=batch_size,
        device=device,
    )
    fcn = cell_detections(
        ds,
        min_fraction=min_fraction,
        mask_var=mask_var,
        context=ctx,
        cell_dim=cell_dim,
        time_dim=time_dim,
        y_dim=y_dim,
        x_dim=x_dim,
    )
    found = difference_detect(
        ds,
        lag=lag,
        channels=channels,
        threshold=difference_threshold,
        statistic=statistic,
        tolerance=tolerance,
        context=ctx,
        cell_dim=cell_dim,
        **ctx.dims.as_kwargs(),
    )
    flags, mlt, extra = frame_context(
        ds,
        usable,
        context=ctx,
        altitude_km=altitude_km,
        attrs=attrs,
        max_sun_elevation=max_sun_elevation,
        blank_level=blank_level,
        max_saturated_fraction=max_saturated_fraction,
        max_moon_elevation=max_moon_elevation,
        max_cloud_fraction=max_cloud_fraction,
    )
    sources: tuple[xr.DataArray | xr.Dataset, ...] = (fcn, found)
    maps = {
        name: occurrence_map(
            detections,
            mlt=mlt,
            usable=flags,
            mlt_bins=mlt_bins,
            by=by,
            detector=name,
            cells=ctx.require_cells().grid,
            attrs=extra,
            time_dim=time_dim,
            cell_dim=cell_dim,
        )
        for name, detections in zip(DETECTOR_NAMES, sources, strict=True)
    }
    out = _on_detector_dim(maps, detector_dim)
    _add_rate_ratios(out, detector_dim)
    diff, observed = found["difference_detection"], found["difference_observed"]
    common = observed if flags is None else observed & flags
    compared = {"fcn": fcn & common, "difference": diff & common}
    _add_agreement(out, compared, common, fcn == diff, time_dim=time_dim, cell_dim=cell_dim)
    out = out.assign_coords({time_dim: ds[time_dim]})
    merged: dict[str, Any] = {}
    for occ in maps.values():
        merged.update(occ.attrs)
    if truth_var in ds.variables:
        out = add_truth_scores(
            out,
            ds,
            compared,
            common,
            context=ctx,
            min_fraction=min_fraction,
            truth_var=truth_var,
            kind_var=kind_var,
            cell_dim=cell_dim,
            detector_dim=detector_dim,
        )
        merged["truth_variable"] = str(truth_var)
        merged["truth_min_fraction"] = float(min_fraction)
    merged.update(
        detector=",".join(DETECTOR_NAMES),
        title="Comparison of the FCN and the difference method",
        history=merged.get("history", "").replace("occurrence_map", "compare_methods"),
    )
    out.attrs = {k: attr_value(v) for k, v in merged.items()}
    return out


def _on_detector_dim(maps: dict[str, xr.Dataset], detector_dim: Hashable) -> xr.Dataset:
    """The occurrence maps of the detectors on one dimension, with its CF coordinate."""
    out = xr.concat(
        [m.drop_attrs(deep=False) for m in maps.values()],
        dim=detector_dim,
        coords="minimal",
        compat="override",
        join="override",
        combine_attrs="drop",
    )
    return out.assign_coords({detector_dim: (detector_dim, list(maps), dict(DETECTOR_ATTRS))})


def _add_rate_ratios(out: xr.Dataset, detector_dim: Hashable) -> None:
    rates = out["occurrence_rate"]
    fcn, diff = ({detector_dim: name} for name in DETECTOR_NAMES)
    out["rate_ratio"] = ratio(rates.sel(fcn, drop=True), rates.sel(diff, drop=True)).assign_attrs(
        long_name="FCN occurrence rate / difference-method occurrence rate",
        units="1",
        comment="NaN where the difference-method rate is 0 or undefined",
    )
    reduce_dims = [d for d in out["n_aurora"].dims if d != detector_dim]
    overall = ratio(out["n_aurora"].sum(reduce_dims), out["n_observed"].sum(reduce_dims))
    out["overall_rate"] = overall.assign_attrs(
        long_name="occurrence rate over all MLT bins and cells", units="1"
    )
    out["overall_rate_ratio"] = ratio(
        overall.sel(fcn, drop=True), overall.sel(diff, drop=True)
    ).assign_attrs(long_name="overall FCN rate / overall difference-method rate", units="1")


def _add_agreement(
    out: xr.Dataset,
    compared: dict[str, xr.DataArray],
    common: xr.DataArray,
    same: xr.DataArray,
    *,
    time_dim: Hashable,
    cell_dim: Hashable,
) -> None:
    """How often the detectors agree, cell by cell and frame by frame, on the compared frames."""
    f, d = compared["fcn"], compared["difference"]
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
    out["agreement"] = ratio(out["n_both"] + out["n_neither"], n_compared).assign_attrs(
        long_name="fraction of compared frames where the methods agree on the cell", units="1"
    )
    out["frame_agreement"] = (same.mean([cell_dim]).astype(np.float32).where(common)).assign_attrs(
        long_name="fraction of cells where the methods agree in the frame",
        units="1",
        comment="NaN for frames not compared",
    )
