"""The ``occurrence`` and ``compare`` subcommands of ``aurora-xr``, and the options they share.

Both take image cubes and a detector's masks (a checkpoint with ``--model``, or the store
of ``aurora-xr segment`` with ``--segmentation``), screen the usable frames, count
detections per MLT bin and equal-area cell, and write a CF NetCDF product.
"""

from __future__ import annotations

import argparse
from collections.abc import Hashable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import OptionError, SchemaError
from .commands import EXIT_OK, Subcommand, say
from .inputs import open_cubes, predictor_for
from .options import (
    add_chunk_frames,
    add_cubes,
    add_scheduler,
    add_segmentation_options,
    cell_fraction,
    finite_float,
    positive_float,
    positive_int,
    time_step,
    unit_interval,
)
from .output import fmt, output_path
from .scheduling import compute, dask_scheduler

if TYPE_CHECKING:
    import xarray as xr

    from ..model import Predictor

__all__ = ["COMMANDS"]


# -- the options of both ------------------------------------------------------------------
def _add_analysis_options(parser: argparse.ArgumentParser, *, model_required: bool) -> None:
    what = parser.add_mutually_exclusive_group(required=False)
    what.add_argument(
        "--model",
        default=None,
        metavar="CHECKPOINT",
        help="segment the frames with this checkpoint"
        + ("" if model_required else " (--detector fcn)"),
    )
    what.add_argument(
        "--segmentation",
        default=None,
        metavar="STORE_DIR",
        help="use the masks of a store written by 'aurora-xr segment' on the same cubes",
    )
    parser.add_argument(
        "--mlt-bins",
        type=positive_int,
        default=24,
        metavar="N",
        help="equal magnetic-local-time bins (%(default)s)",
    )
    parser.add_argument(
        "--by",
        choices=("year", "season"),
        default=None,
        help="one map per calendar year or per season (DJF, MAM, JJA, SON)",
    )
    parser.add_argument(
        "--lag",
        type=time_step,
        default="2min",
        help="time between the frames the difference method compares (%(default)s)",
    )
    parser.add_argument(
        "--min-fraction",
        type=cell_fraction,
        default=0.1,
        help="a cell is auroral when at least this fraction of its pixels are in the "
        "FCN mask (%(default)s)",
    )
    parser.add_argument(
        "--cells",
        type=positive_int,
        default=400,
        metavar="N",
        help="cells of the equal-area sky grid (%(default)s)",
    )
    parser.add_argument(
        "--min-elevation",
        type=finite_float,
        default=10.0,
        metavar="DEG",
        help="lowest elevation of the cell grid (%(default)s)",
    )
    parser.add_argument(
        "--altitude-km",
        type=positive_float,
        default=110.0,
        metavar="KM",
        help="emission altitude of the cells and of the station MLT (%(default)s)",
    )
    parser.add_argument(
        "--max-sun-elevation",
        type=finite_float,
        default=-10.0,
        metavar="DEG",
        help="usable frames: sun below this elevation (%(default)s)",
    )
    parser.add_argument(
        "--max-moon-elevation",
        type=finite_float,
        default=None,
        metavar="DEG",
        help="usable frames: moon below this elevation (default: no moon filter)",
    )
    parser.add_argument(
        "--max-cloud-fraction",
        type=unit_interval,
        default=None,
        metavar="F",
        help="usable frames: cloud_fraction at most this (default: no cloud filter)",
    )
    parser.add_argument(
        "--conditions",
        default=None,
        metavar="CSV",
        help="per-frame conditions table (time, cloud_fraction, ...) to attach to the cubes; "
        "each frame takes the nearest row within half the table's spacing",
    )
    add_segmentation_options(parser)
    add_scheduler(parser)
    add_chunk_frames(parser)


def _attach_store(ds: xr.Dataset, store_dir: str) -> xr.Dataset:
    """The cube with the probability and mask of a segmentation store of the same frames."""
    import numpy as np

    from ..detect.segmentation import MASK_VAR, PROBABILITY_VAR
    from ..detect.store import open_segmentation_store

    store = open_segmentation_store(Path(store_dir).expanduser())
    times, own = store["time"].values, ds["time"].values
    if not np.array_equal(times, own):

        def span(t: Any) -> str:
            ends = f" {str(t[0])[:19]} .. {str(t[-1])[:19]}" if len(t) else ""
            return f"{len(t)} frames{ends}"

        raise SchemaError(
            f"the segmentation store {store_dir} holds {span(times)}; the cubes hold "
            f"{span(own)} (run 'aurora-xr segment' on these cubes into it)"
        )
    chunks = ds.chunksizes.get("time")
    parts = {}
    for name in (PROBABILITY_VAR, MASK_VAR):
        var = store[name].variable
        parts[name] = var.chunk({"time": chunks}) if chunks else var
    return ds.assign(parts)


def _model_or_store(
    args: argparse.Namespace, ds: xr.Dataset, *, needed: bool
) -> tuple[xr.Dataset, Predictor | None]:
    from ..detect.segmentation import MASK_VAR

    if args.segmentation:
        return _attach_store(ds, args.segmentation), None
    if args.model:
        return ds, predictor_for(args, args.model)
    if needed and MASK_VAR not in ds.variables:
        raise OptionError(
            "the FCN method needs --model CHECKPOINT or --segmentation STORE_DIR; found neither"
        )
    return ds, None


def _with_conditions(args: argparse.Namespace, ds: xr.Dataset) -> xr.Dataset:
    if args.conditions is None:
        return ds
    from ..cube.conditions import attach_conditions

    return attach_conditions(ds, args.conditions)


def _filters(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "min_fraction": args.min_fraction,
        "lag": args.lag,
        "segment_threshold": args.threshold,
        "batch_size": args.batch_size,
        "mlt_bins": args.mlt_bins,
        "by": args.by,
        "max_sun_elevation": args.max_sun_elevation,
        "max_moon_elevation": args.max_moon_elevation,
        "max_cloud_fraction": args.max_cloud_fraction,
        "n_cells": args.cells,
        "min_elevation": args.min_elevation,
        "altitude_km": args.altitude_km,
    }


def _frames_used(product: xr.Dataset) -> int:
    """Frames counted in the maps: the observed frames of each bin, summed over the bins."""
    return int(product["n_observed"].max("cell").sum())


def _no_frames_note(used: int) -> None:
    if used == 0:
        say(
            "  note: no frame was usable (sun above --max-sun-elevation, blank or saturated "
            "frames, or the moon and cloud filters); every rate is NaN"
        )


# -- occurrence ---------------------------------------------------------------------------
def _occurrence_arguments(parser: argparse.ArgumentParser) -> None:
    add_cubes(parser)
    parser.add_argument(
        "--detector",
        required=True,
        choices=("fcn", "difference"),
        help="fcn: cells with enough pixels in the network's mask; difference: cells that "
        "change between frames --lag apart",
    )
    parser.add_argument(
        "--out", required=True, metavar="PRODUCT.nc", help="the occurrence product (CF NetCDF)"
    )
    _add_analysis_options(parser, model_required=False)


def _occurrence_run(args: argparse.Namespace) -> int:
    from ..analysis.cube_occurrence import occurrence_from_cube
    from ..io.products import to_netcdf

    if args.detector == "difference" and (args.model or args.segmentation):
        raise OptionError("--model and --segmentation are for --detector fcn, not difference")
    ds = _with_conditions(args, open_cubes(args.cubes, chunk_frames=args.chunk_frames))
    ds, predictor = _model_or_store(args, ds, needed=args.detector == "fcn")
    target = output_path(args.out)
    with dask_scheduler(args.scheduler, workers=args.workers) as client:
        product = occurrence_from_cube(
            ds, detector=args.detector, model=predictor, **_filters(args)
        )
        product = compute(product, client=client, desc="occurrence", progress=args.progress)
    written = to_netcdf(product, target)
    n_aurora = int(product["n_aurora"].sum())
    n_observed = int(product["n_observed"].sum())
    used = _frames_used(product)
    rate = n_aurora / n_observed if n_observed else float("nan")
    print(
        f"occurrence ({args.detector}): overall rate {fmt(rate, 4)} "
        f"({n_aurora} of {n_observed} observed frame-cells); {used} of {ds.sizes['time']} "
        f"frames used; {args.mlt_bins} MLT bins x {product.sizes['cell']} cells"
    )
    _no_frames_note(used)
    print(f"  wrote {written}")
    return EXIT_OK


# -- compare ------------------------------------------------------------------------------
def _compare_arguments(parser: argparse.ArgumentParser) -> None:
    add_cubes(parser)
    parser.add_argument(
        "--out",
        required=True,
        metavar="COMPARISON.nc",
        help="the comparison product (CF NetCDF, on a detector dimension)",
    )
    _add_analysis_options(parser, model_required=True)
    parser.add_argument(
        "--figure",
        default=None,
        metavar="PNG",
        help="also draw the rates of both methods and their ratio for one MLT bin",
    )
    parser.add_argument(
        "--figure-mlt",
        type=finite_float,
        default=None,
        metavar="HOURS",
        help="MLT of the figure (default: the bin with the most observed frames)",
    )


def _figure(product: xr.Dataset, path: str, args: argparse.Namespace) -> Path:
    import matplotlib.pyplot as plt
    import numpy as np

    from ..plot import plot_comparison

    target = output_path(path)
    observed = product["n_observed"].sel({"detector": "fcn"}).max("cell")
    sel: dict[Hashable, Any] | None = None
    if args.by:
        per_group = observed.sum("mlt")
        label = per_group[args.by].values[int(np.argmax(per_group.values))]
        sel = {args.by: label}
        observed = observed.sel(sel)
    if args.figure_mlt is not None:
        mlt = float(args.figure_mlt) % 24.0
    else:
        mlt = float(product["mlt"].values[int(np.argmax(observed.values))])
    fig = plot_comparison(product, mlt=mlt, sel=sel)
    try:
        fig.savefig(target, dpi=110)
    finally:
        plt.close(fig)
    return target


def _compare_run(args: argparse.Namespace) -> int:
    from ..analysis.compare import FORMS, compare_methods
    from ..io.products import to_netcdf

    ds = _with_conditions(args, open_cubes(args.cubes, chunk_frames=args.chunk_frames))
    ds, predictor = _model_or_store(args, ds, needed=True)
    target = output_path(args.out)
    with dask_scheduler(args.scheduler, workers=args.workers) as client:
        product = compare_methods(ds, predictor, **_filters(args))
        product = compute(product, client=client, desc="compare", progress=args.progress)
    written = to_netcdf(product, target)
    rates = product["overall_rate"]
    fcn, diff = (rates.sel({"detector": m}).item() for m in ("fcn", "difference"))
    print(
        f"compare: overall occurrence rate fcn {fmt(fcn, 4)}, difference {fmt(diff, 4)}, "
        f"ratio fcn/difference {fmt(product['overall_rate_ratio'].item())}"
    )
    n_compared = int(product["n_compared_frames"])
    agree = int((product["n_both"] + product["n_neither"]).sum())
    pairs = n_compared * int(product.sizes["cell"])
    print(
        f"  {_frames_used(product.sel({'detector': 'fcn'}))} of {ds.sizes['time']} frames used; "
        f"{n_compared} compared (with a partner at {args.lag}); the methods agree on "
        f"{fmt(agree / pairs if pairs else float('nan'))} of the compared (frame, cell) pairs"
    )
    _no_frames_note(n_compared)
    if "f1" in product:
        print(f"  against the truth (cells, min fraction {fmt(args.min_fraction, 2)}):")
        for detector in ("fcn", "difference"):
            for form in (f for f in FORMS if f in product["form"].values):
                pick = {"detector": detector, "form": form}
                print(
                    f"    {detector:<10} {form:<10} precision "
                    f"{fmt(product['precision'].sel(pick).item())}  recall "
                    f"{fmt(product['recall'].sel(pick).item())}  F1 "
                    f"{fmt(product['f1'].sel(pick).item())}"
                )
    print(f"  wrote {written}")
    if args.figure:
        print(f"  wrote {_figure(product, args.figure, args)}")
    return EXIT_OK


COMMANDS: dict[str, Subcommand] = {
    "occurrence": Subcommand(
        "occurrence map of aurora per MLT bin and sky cell, by the FCN or the difference "
        "method (CF NetCDF)",
        _occurrence_arguments,
        _occurrence_run,
    ),
    "compare": Subcommand(
        "compare the FCN and the difference method: rates, ratio, agreement, and skill "
        "against the truth where the cubes have it",
        _compare_arguments,
        _compare_run,
    ),
}
