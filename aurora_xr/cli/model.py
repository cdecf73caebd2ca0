"""The ``train`` and ``evaluate`` subcommands of ``aurora-xr`` (torch is imported when run)."""

from __future__ import annotations

import argparse
import json
import struct
from pathlib import Path
from typing import Any

from ..errors import CheckpointError
from .commands import EXIT_OK, Subcommand, cli_wording
from .inputs import load_predictor
from .labelled import cube_cells, folder_cells, labelled_source
from .options import (
    ARCHITECTURE_NAMES,
    add_chunk_frames,
    add_device,
    add_labelled_source,
    add_tta,
    cell_fraction,
    finite_float,
    int_at_least,
    nonnegative_int,
    positive_float,
    positive_int,
    split_fractions,
    unit_interval,
)
from .output import fmt, output_path, scores_line

__all__ = ["COMMANDS"]


# -- train ------------------------------------------------------------------------------
def _train_arguments(parser: argparse.ArgumentParser) -> None:
    add_labelled_source(parser)
    parser.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="folder of the checkpoints (best.safetensors, last.safetensors), the training "
        "state and history.json",
    )
    parser.add_argument(
        "--arch",
        choices=ARCHITECTURE_NAMES,
        default="fcn_resnet50",
        help="network (default: %(default)s, the paper's; lraspp_mobilenet_v3_large is "
        "10x smaller and fast on CPUs)",
    )
    parser.add_argument("--epochs", type=positive_int, default=20, help="epochs (%(default)s)")
    parser.add_argument(
        "--batch-size", type=positive_int, default=8, help="frames per step (%(default)s)"
    )
    parser.add_argument(
        "--lr", type=positive_float, default=3e-4, help="peak learning rate (%(default)s)"
    )
    parser.add_argument(
        "--image-size",
        type=int_at_least(16),
        default=256,
        metavar="PX",
        help="network input size in pixels; frames are resized (%(default)s)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seeds the split, the initial weights, the batch order, the augmentation "
        "(%(default)s)",
    )
    parser.add_argument(
        "--split",
        type=split_fractions,
        default=None,
        metavar="TRAIN,VAL,TEST",
        help="proportions of the seeded split (default: 1201,150,151 as in the paper)",
    )
    parser.add_argument(
        "--pretrained",
        default=None,
        metavar="coco|imagenet|PATH",
        help="initial weights: torchvision's cached COCO or ImageNet weights, or a local "
        "state-dict file (default: random initialisation)",
    )
    parser.add_argument(
        "--patience",
        type=nonnegative_int,
        default=5,
        help="stop after this many epochs without a better validation IoU; 0 never stops "
        "early (%(default)s)",
    )
    parser.add_argument(
        "--no-resume",
        dest="resume",
        action="store_false",
        help="start afresh instead of resuming the run in --out",
    )
    parser.add_argument(
        "--max-steps",
        type=positive_int,
        default=None,
        metavar="N",
        help="stop after N optimizer steps in all (the state is kept; run again to go on)",
    )
    parser.add_argument(
        "--contrast-ratio",
        type=positive_float,
        default=1.0,
        help="uniform contrast ratio of the preprocessing (%(default)s)",
    )
    add_device(parser)
    parser.add_argument(
        "--threads",
        type=positive_int,
        default=None,
        metavar="N",
        help="torch CPU threads (default: torch's choice)",
    )
    add_chunk_frames(parser)


def _train_state_arch(path: Path) -> str | None:
    """The architecture of the run saved in a training state (header only), if readable."""
    try:
        with open(path, "rb") as fh:
            (n,) = struct.unpack("<Q", fh.read(8))
            if n > 100 * 1024 * 1024:
                return None
            header = json.loads(fh.read(n))
        for value in (header.get("__metadata__") or {}).values():
            state = json.loads(value)
            if isinstance(state, dict) and isinstance(state.get("config"), dict):
                arch = state["config"].get("arch")
                return str(arch) if arch is not None else None
    except (OSError, ValueError, struct.error, AttributeError):
        return None
    return None


def _check_resume(out: Path, arch: str, resume: bool) -> None:
    """A run of another architecture in ``out`` is an error (not a torch traceback)."""
    state = out / "train_state.safetensors"
    if not resume or not state.is_file():
        return
    saved = _train_state_arch(state)
    if saved is not None and saved != arch:
        raise CheckpointError(
            f"{out} holds a {saved} run (train_state.safetensors), not {arch}; "
            "pass --no-resume to start afresh or use another --out"
        )


def _train_run(args: argparse.Namespace) -> int:
    from ..model import train

    source = labelled_source(args.source, chunk_frames=args.chunk_frames)
    out = Path(args.out).expanduser()
    _check_resume(out, args.arch, args.resume)
    options: dict[str, Any] = {}
    if args.split is not None:
        options["split"] = args.split
    with cli_wording(
        ("pass resume=False", "pass --no-resume"),
        ("out_dir", "--out"),
        ("pass pretrained=", "pass --pretrained "),
    ):
        result = train(
            source,
            arch=args.arch,
            out_dir=out,
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            image_size=args.image_size,
            seed=args.seed,
            pretrained=args.pretrained,
            patience=args.patience or None,
            resume=args.resume,
            progress=args.progress,
            max_steps=args.max_steps,
            contrast_ratio=args.contrast_ratio,
            device=args.device,
            num_threads=args.threads,
            **options,
        )
    n_train, n_val, n_test = result.split_sizes
    epochs = len(result.history)
    print(f"best checkpoint: {result.best_checkpoint}")
    print(
        f"  {args.arch}: {result.steps} steps, {epochs} epoch(s) run, stopped: {result.stopped}; "
        f"frames train/val/test {n_train}/{n_val}/{n_test}"
    )
    if result.best_epoch is not None:
        print(f"  best epoch {result.best_epoch}: validation IoU {fmt(result.best_val_iou)}")
    if result.test_metrics:
        print(f"  test pixels: {scores_line(result.test_metrics)}")
    print(f"  history: {out / 'history.json'}")
    return EXIT_OK


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
    add_chunk_frames(parser)


def _evaluate_run(args: argparse.Namespace) -> int:
    from ..model import evaluate
    from ..model.data import FolderSource

    source: Any = labelled_source(args.source, chunk_frames=args.chunk_frames)
    cell_index = None
    if isinstance(source, str):
        source = FolderSource(source)
        if args.cells:
            cell_index = folder_cells(source, args)
    elif args.cells:
        cell_index = cube_cells(source, args)
    model = load_predictor(
        args.checkpoint,
        device=args.device,
        batch_size=args.batch_size,
        threshold=args.threshold,
        tta=args.tta,
    )
    result = evaluate(
        model,
        source,
        split=args.split,
        cell_index=cell_index,
        min_fraction=args.min_fraction,
        device=args.device,
        progress=args.progress,
    )
    info = result.info
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
    if args.out:
        written = result.to_json(output_path(args.out))
        print(f"  wrote {written}")
    return EXIT_OK


COMMANDS: dict[str, Subcommand] = {
    "train": Subcommand(
        "train a segmentation network on labelled frames (resumable); keep the best checkpoint",
        _train_arguments,
        _train_run,
    ),
    "evaluate": Subcommand(
        "score a checkpoint on labelled frames: pixel and cell IoU, F1, precision, recall",
        _evaluate_arguments,
        _evaluate_run,
    ),
}
