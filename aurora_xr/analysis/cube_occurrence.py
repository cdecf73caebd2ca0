"""The occurrence map of an image cube by either detector, in one lazy call.

:func:`occurrence_from_cube` resolves the cube's context and cell grid once, finds
the cells with aurora in every frame (the FCN's mask through
:func:`~aurora_xr.analysis.detections.cell_detections`, segmenting first when the
cube has no mask, or the difference method), takes the usable frames and the MLT of
the station, and reduces everything with
:func:`~aurora_xr.analysis.occurrence.occurrence_map`.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import xarray as xr

from ..detect.difference import difference_detect
from ..errors import OptionError
from .detections import cell_detections
from .occurrence import DETECTORS, occurrence_map
from .steps import ensure_mask, frame_context, pipeline_context

__all__ = ["occurrence_from_cube"]


def occurrence_from_cube(
    ds: xr.Dataset,
    *,
    detector: str = "fcn",
    model: Any = None,
    min_fraction: float = 0.1,
    lag: Any = "2min",
    channels: Sequence[str] | None = None,
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
    """Occurrence map of a cube by either detector, lazily.

    Parameters
    ----------
    ds : xarray.Dataset
        Image cube with station attributes.
    detector : {"fcn", "difference"}
        ``"fcn"`` reads ``aurora_mask`` (segmenting with ``model`` first when
        the cube has none); ``"difference"`` runs
        :func:`aurora_xr.detect.difference.difference_detect`.
    model : optional
        Predictor, checkpoint path or callable for
        :func:`aurora_xr.detect.segmentation.segment`.
    min_fraction : float
        Fraction of a cell's pixels in the mask for an FCN detection.
    lag, channels, difference_threshold, statistic, tolerance : optional
        Options of the difference method (``difference_threshold`` is its
        ``threshold``; ``channels`` default R and G of a colour cube, or its one
        channel).
    segment_threshold, batch_size, device : optional
        Options of the segmentation (``segment_threshold`` is its ``threshold``).
    mlt_bins, by : optional
        See :func:`aurora_xr.analysis.occurrence.occurrence_map`.
    usable : xarray.DataArray, bool or None
        None: compute :func:`aurora_xr.detect.usable.usable_frames` with the filter
        options below; False: count every frame; a (time,) bool DataArray: use it.
    max_sun_elevation, blank_level, max_saturated_fraction, max_moon_elevation,
    max_cloud_fraction : optional
        Options of :func:`aurora_xr.detect.usable.usable_frames`.
    cells, n_cells, min_elevation, altitude_km : optional
        The cell grid (see :func:`aurora_xr.analysis.detections.cell_detections`);
        ``altitude_km`` also sets the altitude of the station MLT.
    attrs : mapping, optional
        Extra product attributes.
    image_var, mask_var, time_dim, y_dim, x_dim, channel_dim, cell_dim : str
        Names in the cube.

    Returns
    -------
    xarray.Dataset
        The occurrence product of :func:`~aurora_xr.analysis.occurrence.occurrence_map`,
        with the station attributes of the cube.
    """
    if detector not in DETECTORS:
        raise OptionError(f"expected detector one of {DETECTORS}; found {detector!r}")
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
    observed = None
    if detector == "fcn":
        ds = ensure_mask(
            ds,
            model,
            who="detector='fcn'",
            mask_var=mask_var,
            context=ctx,
            threshold=segment_threshold,
            batch_size=batch_size,
            device=device,
        )
        detections: xr.DataArray = cell_detections(
            ds,
            min_fraction=min_fraction,
            mask_var=mask_var,
            context=ctx,
            time_dim=time_dim,
            y_dim=y_dim,
            x_dim=x_dim,
            cell_dim=cell_dim,
        )
    else:
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
        detections, observed = found["difference_detection"], found["difference_observed"]
    flags, mlt, product_attrs = frame_context(
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
    return occurrence_map(
        detections,
        mlt=mlt,
        usable=flags,
        observed=observed,
        mlt_bins=mlt_bins,
        by=by,
        detector=detector,
        cells=ctx.require_cells().grid,
        attrs=product_attrs,
        time_dim=time_dim,
        cell_dim=cell_dim,
    )
