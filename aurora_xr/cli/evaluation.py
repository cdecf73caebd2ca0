"""The ``evaluate`` subcommand of ``aurora-xr``: a checkpoint scored on labelled frames.

Frames come from SOURCE (a frame folder, cubes with ``aurora_truth``) or ``--labels`` (a
label set, split as the checkpoint recorded: by night, folder, the labels' split column or
frame); ``--image-labels`` adds image-level scores. Registered by
:mod:`aurora_xr.cli.model` (torch is imported when run).
"""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import OptionError
from .commands import EXIT_OK, Subcommand
from .inputs import load_predictor
from .labelled import (
    LabelledInput,
    cube_cells,
    folder_cells,
    label_set_cells,
    labelled_input,
)
from .options import (
    add_chunk_frames,
    add_device,
    add_label_set_options,
    add_labelled_source,
    add_precision,
    add_tta,
    cell_fraction,
    finite_float,
    int_at_least,
    nonnegative_int,
    positive_float,
    positive_int,
    unit_interval,
)
from .output import fmt, output_path, scores_line

__all__ = ["EVALUATE"]


# -- evaluate ---------------------------------------------------------------------------------
def _evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", help="an aurora_xr checkpoint (.safetensors)")
    add_labelled_source(parser)
    parser.add_argument(
        "--split",
        choices=("test", "val", "train", "all"),
        default="test",
        help="frames scored: a part of the checkpoint's seeded split, or all frames "
        "(for data the model never saw) (default: %(default)s)",
    )
    parser.add_argument(
        "--cells",
        type=nonnegative_int,
        default=400,
        metavar="N",
        help="also score cells of the N-cell equal-area grid; 0 skips them (%(default)s)",
    )
    parser.add_argument(
        "--min-fraction",
        type=cell_fraction,
        default=0.1,
        help="a cell is auroral when at least this fraction of its pixels are (%(default)s)",
    )
    parser.add_argument(
        "--min-elevation",
        type=finite_float,
        default=10.0,
        help="lowest elevation of the cell grid, degrees (%(default)s)",
    )
    parser.add_argument(
        "--altitude-km",
        type=positive_float,
        default=110.0,
        help="emission altitude of the cell grid (%(default)s)",
    )
    parser.add_argument(
        "--threshold",
        type=unit_interval,
        default=None,
        help="probability threshold (default: the checkpoint's)",
    )
    parser.add_argument(
        "--batch-size", type=positive_int, default=None, help="frames per forward pass"
    )
    add_tta(parser)
    add_device(parser)
    parser.add_argument(
        "--station",
        default=None,
        help="station of a frame folder without synthetic_archive.json, for the cell grid "
        "(its camera scaled to the frame size; default: JBS)",
    )
    parser.add_argument(
        "--epoch",
        type=int_at_least(1990),
        default=None,
        metavar="YEAR",
        help="AACGM epoch of the cell grid of a frame folder (default: from the archive "
        "sidecar or the times in the file names)",
    )
    parser.add_argument("--out", default=None, metavar="JSON", help="write the scores here")
    add_precision(parser)
    add_chunk_frames(parser)
    add_label_set_options(parser)


def _evaluation_frames(
    labelled: LabelledInput, args: argparse.Namespace, metadata: Any
) -> tuple[Any, Any, str]:
    """The frames scored, their cell index, and the split the evaluation is told to use.

    A label set is split as the checkpoint recorded (by night, folder, the labels' column
    or frame; :func:`~aurora_xr.model.splits.part_indices`) and passed as those frames; so
    are the frames of a part when ``--image-labels`` is joined to them.
    """
    from ..model.data import FolderSource, open_source

    source: Any = labelled.source
    cell_index = None
    if labelled.is_label_set:
        from ..model.splits import part_indices
        from ..model.subsets import FrameSubset

        if args.cells:
            cell_index = label_set_cells(source, labelled.calibration, args)
            if cell_index is None:
                print("  cells: skipped (a label set needs --calibration and --station)")
        src = open_source(source, calibration=labelled.calibration)
        if args.split == "all":
            return src, cell_index, "all"
        indices = part_indices(src, None if metadata is None else metadata.split, args.split)
        if len(indices) == 0:
            raise OptionError(
                f"the {args.split!r} part of the checkpoint's split holds none of the "
                f"{len(src)} labelled frames; use --split all"
            )
        return FrameSubset(src, indices), cell_index, "all"
    if isinstance(source, str):
        source = FolderSource(source, calibration=labelled.calibration)
        if args.cells:
            cell_index = folder_cells(source, args)
    elif args.cells:
        cell_index = cube_cells(source, args)
    if args.image_labels is None or args.split == "all":
        return source, cell_index, args.split
    # image-level labels are joined to the very frames scored: pass those frames
    from ..model.splits import part_indices
    from ..model.subsets import FrameSubset

    src = open_source(source, calibration=labelled.calibration)
    indices = part_indices(src, None if metadata is None else metadata.split, args.split)
    return FrameSubset(src, indices), cell_index, "all"


def _evaluate_run(args: argparse.Namespace) -> int:
    from ..model import evaluate

    labelled = labelled_input(args)
    model = load_predictor(
        args.checkpoint,
        device=args.device,
        batch_size=args.batch_size,
        threshold=args.threshold,
        tta=args.tta,
        precision=args.precision,
    )
    frames, cell_index, split = _evaluation_frames(labelled, args, model.metadata)
    result = evaluate(
        model,
        frames,
        split=split,
        cell_index=cell_index,
        min_fraction=args.min_fraction,
        device=args.device,
        progress=args.progress,
    )
    info = result.info
    info["split"] = args.split
    print(
        f"evaluate: {info.get('model')} on {info['n_frames']} frame(s) (split: {args.split}), "
        f"threshold {fmt(info['threshold'], 2)}"
        + ("" if args.tta == "none" else f", test-time augmentation {args.tta}")
    )
    print(f"  pixels: {scores_line(result.pixel)}")
    if result.cells is not None:
        print(
            f"  cells ({info['n_cells']}, min fraction {fmt(args.min_fraction, 2)}): "
            f"{scores_line(result.cells)}"
        )
    if args.image_labels is not None:
        result.images = _image_level(frames, result, args)
    elif result.images:
        image = result.images
        print(
            f"  image level (by their masks): accuracy {fmt(image['accuracy'])} "
            f"precision {fmt(image['precision'])} recall {fmt(image['recall'])}"
        )
    if args.out:
        written = result.to_json(output_path(args.out))
        print(f"  wrote {written}")
    return EXIT_OK


def _image_level(frames: Any, result: Any, args: argparse.Namespace) -> Any:
    """Image-level scores with ``--image-labels`` on the frames evaluated (printed).

    The decisions are the evaluation's own (``aurora_present`` of each frame); the truth is
    the image-level label where the CSV has one for the frame, else the rule on its mask.
    """
    from ..model.data import open_source
    from ..model.image_truth import image_level_scores, join_image_labels

    truth = join_image_labels(
        open_source(frames), args.image_labels, time_pattern=args.time_pattern
    )
    image = image_level_scores(
        [row["aurora_present"] for row in result.frames],
        [row["truth_present"] for row in result.frames],
        truth.values,
    )
    print(f"  image-level truth: {truth.origin} (the others by their masks)")
    if image:
        print(
            f"  image level ({image['n_frames']} frames): accuracy {fmt(image['accuracy'])} "
            f"precision {fmt(image['precision'])} recall {fmt(image['recall'])} "
            f"F1 {fmt(image['f1'])}"
        )
    return image


EVALUATE = Subcommand(
    "score a checkpoint on labelled frames: pixel and cell IoU, F1, precision, recall; "
    "image-level accuracy",
    _evaluate_arguments,
    _evaluate_run,
)
"""The ``evaluate`` subcommand."""
