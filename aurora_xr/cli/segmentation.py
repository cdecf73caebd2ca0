"""The ``segment`` subcommand of ``aurora-xr``: cubes into a resumable segmentation store."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..errors import OptionError
from .commands import EXIT_OK, Subcommand, cli_wording
from .inputs import open_cubes, predictor_for
from .options import (
    add_chunk_frames,
    add_cubes,
    add_scheduler,
    add_segmentation_options,
    positive_int,
)
from .output import fmt
from .scheduling import dask_scheduler

__all__ = ["COMMANDS"]


def _segment_arguments(parser: argparse.ArgumentParser) -> None:
    add_cubes(parser)
    parser.add_argument(
        "--model", required=True, metavar="CHECKPOINT", help="an aurora_xr checkpoint"
    )
    parser.add_argument(
        "--out",
        required=True,
        metavar="STORE_DIR",
        help="folder of the segmentation store: one NetCDF file per region and "
        "manifest.json; an interrupted run resumes where it stopped",
    )
    add_segmentation_options(parser)
    add_scheduler(parser)
    parser.add_argument(
        "--region-frames",
        type=positive_int,
        default=None,
        metavar="N",
        help="frames per region file (default: the smallest multiple of --chunk-frames >= 1024)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="start again a store made with another model, threshold, cube or region size",
    )
    add_chunk_frames(parser)


def _regions_done(store: Path) -> int:
    from ..detect.store import MANIFEST

    try:
        manifest = json.loads((store / MANIFEST).read_text())
        return len(manifest.get("regions", {}))
    except (OSError, ValueError, AttributeError):
        return 0


def _segment_run(args: argparse.Namespace) -> int:
    from ..detect.store import segment_to_store

    ds = open_cubes(args.cubes, chunk_frames=args.chunk_frames)
    predictor = predictor_for(args, args.model)
    store = Path(args.out).expanduser()
    if store.exists() and not store.is_dir():
        raise OptionError(f"expected a folder for the segmentation store; found the file {store}")
    before = 0 if args.overwrite else _regions_done(store)
    with (
        dask_scheduler(args.scheduler, workers=args.workers),
        cli_wording(("pass overwrite=True", "pass --overwrite")),
    ):
        segment_to_store(
            ds,
            predictor,
            store,
            region_frames=args.region_frames,
            threshold=args.threshold,
            batch_size=args.batch_size,
            overwrite=args.overwrite,
            progress=args.progress,
        )
    regions = _regions_done(store)
    print(
        f"segment: {ds.sizes['time']} frames in {regions} region(s) in {store} "
        f"({max(regions - before, 0)} written now, {min(before, regions)} kept)"
    )
    print(f"  model {predictor.name}, threshold {fmt(predictor.threshold, 2)}")
    return EXIT_OK


COMMANDS: dict[str, Subcommand] = {
    "segment": Subcommand(
        "segment image cubes with a checkpoint into a resumable store, region by region",
        _segment_arguments,
        _segment_run,
    ),
}
