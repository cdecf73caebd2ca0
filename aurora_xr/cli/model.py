"""The ``train`` and ``evaluate`` subcommands of ``aurora-xr`` (torch is imported when run).

``train`` is here; ``evaluate`` in :mod:`aurora_xr.cli.evaluation`.
"""

from __future__ import annotations

import argparse
import json
import struct
from pathlib import Path
from typing import Any

from ..errors import CheckpointError
from .commands import EXIT_OK, Subcommand, cli_wording
from .evaluation import EVALUATE
from .labelled import (
    labelled_input,
)
from .options import (
    ARCHITECTURE_NAMES,
    add_chunk_frames,
    add_device,
    add_label_set_options,
    add_labelled_source,
    int_at_least,
    nonnegative_int,
    positive_float,
    positive_int,
    split_fractions,
)
from .output import fmt, scores_line

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
        default=None,
        help="network (default: that of the --init checkpoint, else fcn_resnet50, the "
        "paper's; lraspp_mobilenet_v3_large is 10x smaller and fast on CPUs)",
    )
    parser.add_argument(
        "--init",
        default=None,
        metavar="CHECKPOINT",
        help="fine-tune: start from an aurora_xr checkpoint of the same network (its input "
        "size, contrast ratio and levels too, unless given), or a torchvision weights file "
        "placed locally, e.g. fcn_resnet50_coco-1167a1af.pth (its COCO head replaced by a "
        "one-output head)",
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
        default=None,
        metavar="PX",
        help="network input size in pixels; frames are resized (default: the --init "
        "checkpoint's, else 256)",
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
        "--split-by",
        choices=("auto", "night", "folder", "labels", "frame"),
        default="auto",
        help="what stays together in the split: auto (a label set's own split column, else "
        "whole nights for a label set, single frames for cubes and synthetic folders), "
        "night (local noon to noon; every frame needs a time), folder (of the image "
        "files), labels (the split column), frame (default: %(default)s)",
    )
    parser.add_argument(
        "--station",
        default=None,
        metavar="CODE",
        help="the camera's station: nights run from its local noon (default: UT noon)",
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
        default=None,
        help="uniform contrast ratio of the preprocessing (default: the --init "
        "checkpoint's, else 1)",
    )
    parser.add_argument(
        "--levels",
        choices=("robust", "dtype"),
        default=None,
        help="frames to [0, 1] by their robust black and white levels (any camera) or by "
        "the dtype's maximum (default: the --init checkpoint's, else robust)",
    )
    parser.add_argument(
        "--augment",
        choices=("basic", "real_sky", "none"),
        default="basic",
        help="augmentation: basic (turns and mirrors about the zenith, brightness and "
        "contrast), real_sky (also colour, levels, gamma, noise, resolution, JPEG and grey "
        "frames, for real cameras), none (default: %(default)s)",
    )
    parser.add_argument(
        "--precision",
        choices=("auto", "fp32", "bf16"),
        default="fp32",
        help="training precision: auto (bf16 where the device computes it natively, else "
        "fp32), fp32, bf16 (default: %(default)s)",
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
    add_label_set_options(parser)


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


def _run_arch(args: argparse.Namespace) -> str:
    """The architecture of the run: --arch, else the --init checkpoint's, else fcn_resnet50."""
    if args.arch is not None:
        return str(args.arch)
    if args.init is not None:
        from ..model.init_weights import initial_weights

        arch = initial_weights(args.init).architecture
        if arch is not None:
            return arch
    return "fcn_resnet50"


def _train_run(args: argparse.Namespace) -> int:
    from ..model import train

    labelled = labelled_input(args)
    out = Path(args.out).expanduser()
    arch = _run_arch(args)
    _check_resume(out, arch, args.resume)
    options: dict[str, Any] = {}
    if args.split is not None:
        options["split"] = args.split
    with cli_wording(
        ("pass resume=False", "pass --no-resume"),
        ("out_dir", "--out"),
        ("pass pretrained=", "pass --pretrained "),
        ("pass init= (the weights to start from) or pretrained=", "pass --init or --pretrained"),
        ("pass split_by='folder'", "pass --split-by folder"),
        ("pass split_by='night'", "pass --split-by night"),
        ("pass split_by='frame'", "pass --split-by frame"),
        ("read the labels with the time_pattern", "pass the --time-pattern"),
    ):
        result = train(
            labelled.source,
            arch=arch,
            out_dir=out,
            init=args.init,
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            image_size=args.image_size,
            seed=args.seed,
            split_by=args.split_by,
            station=args.station,
            pretrained=args.pretrained,
            patience=args.patience or None,
            resume=args.resume,
            progress=args.progress,
            max_steps=args.max_steps,
            contrast_ratio=args.contrast_ratio,
            levels=args.levels,
            augment=False if args.augment == "none" else args.augment,
            precision=args.precision,
            device=args.device,
            num_threads=args.threads,
            calibration=labelled.calibration,
            image_labels=args.image_labels,
            **options,
        )
    _print_train_result(result, arch, out)
    return EXIT_OK


def _print_train_result(result: Any, arch: str, out: Path) -> None:
    n_train, n_val, n_test = result.split_sizes
    epochs = len(result.history)
    print(f"best checkpoint: {result.best_checkpoint}")
    print(
        f"  {arch}: {result.steps} steps, {epochs} epoch(s) run, stopped: {result.stopped}; "
        f"frames train/val/test {n_train}/{n_val}/{n_test}"
    )
    print(f"  split {result.split}")
    if result.best_epoch is not None:
        print(f"  best epoch {result.best_epoch}: validation IoU {fmt(result.best_val_iou)}")
    if result.test_metrics:
        print(f"  test pixels: {scores_line(result.test_metrics)}")
    if result.report is not None:
        print(f"  report: {result.report_path} (worst frames: {out / 'worst_frames.png'})")
        for name in ("train", "val", "test"):
            part = result.report["parts"].get(name)
            if part:
                image = part["image"]
                image_text = "" if not image else f", image-level accuracy {fmt(image['accuracy'])}"
                print(
                    f"    {name}: {part['n_frames']} frames, pixel IoU {fmt(part['pixel']['iou'])}"
                    f" F1 {fmt(part['pixel']['f1'])}{image_text}"
                )
    print(f"  history: {out / 'history.json'}")


COMMANDS: dict[str, Subcommand] = {
    "train": Subcommand(
        "train a segmentation network on labelled frames (resumable); keep the best checkpoint",
        _train_arguments,
        _train_run,
    ),
    "evaluate": EVALUATE,
}
