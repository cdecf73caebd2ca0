"""The options of ``aurora-xr``'s subcommands: argument types and the arguments they share.

An argument type turns a bad value into a usage error (exit 2) with a one-line message
that says what was expected and what was found. The ``add_*`` functions add an
argument, or a group of them, that several subcommands take. Nothing here imports
torch, so that ``aurora-xr --help`` stays fast.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable
from typing import TypeVar

from .scheduling import SCHEDULERS

__all__ = [
    "ARCHITECTURE_NAMES",
    "add_chunk_frames",
    "add_cubes",
    "add_device",
    "add_label_set_options",
    "add_labelled_source",
    "add_precision",
    "add_scheduler",
    "add_segmentation_options",
    "add_tta",
    "cell_fraction",
    "device_name",
    "finite_float",
    "int_at_least",
    "label_map_spec",
    "nonnegative_int",
    "positive_float",
    "positive_int",
    "scheduler_spec",
    "split_fractions",
    "time_step",
    "unit_interval",
]

ARCHITECTURE_NAMES = ("fcn_resnet50", "lraspp_mobilenet_v3_large", "deeplabv3_mobilenet_v3_large")
"""Names of :data:`aurora_xr.model.ARCHITECTURES`, known here without importing torch."""

PRECISION_NAMES = ("auto", "fp32", "bf16", "fp16")
"""Precisions of the network at inference (:class:`aurora_xr.model.Predictor`)."""

LABEL_FORMATS = ("auto", "folders", "labelme", "coco", "cvat", "manifest")
"""Formats of :func:`aurora_xr.read_labels`, known here without reading a label."""

T = TypeVar("T")


# -- option types: a bad value is a usage error (exit 2) with a one-line message ---------
def _number(text: str, kind: Callable[[str], T], what: str) -> T:
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}; found {text!r}") from None


def int_at_least(low: int) -> Callable[[str], int]:
    """An argparse type: an integer >= ``low``."""

    def parse(text: str) -> int:
        value = _number(text, int, f"an integer >= {low}")
        if value < low:
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}; found {text!r}")
        return value

    parse.__name__ = f"integer >= {low}"
    return parse


positive_int = int_at_least(1)
nonnegative_int = int_at_least(0)


def finite_float(text: str) -> float:
    """An argparse type: a finite number."""
    value = _number(text, float, "a number")
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number; found {text!r}")
    return value


def positive_float(text: str) -> float:
    """An argparse type: a finite number > 0."""
    value = finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0; found {text!r}")
    return value


def unit_interval(text: str) -> float:
    """An argparse type: a number in [0, 1] (a probability, a fraction of the sky)."""
    value = finite_float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1]; found {text!r}")
    return value


def cell_fraction(text: str) -> float:
    """An argparse type: a fraction of a cell's pixels, in (0, 1]."""
    value = finite_float(text)
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction in (0, 1]; found {text!r}")
    return value


def time_step(text: str) -> str:
    """An argparse type: a positive time step that pandas understands (``2min``, ``90s``)."""
    import pandas as pd

    try:
        value = pd.Timedelta(text)
    except (ValueError, TypeError):
        value = None
    if value is None or pd.isna(value) or value <= pd.Timedelta(0):
        raise argparse.ArgumentTypeError(
            f"expected a positive time step such as 2min or 90s; found {text!r}"
        )
    return text


_DEVICE = re.compile(r"auto|cpu|cuda(:\d+)?|mps")


def device_name(text: str) -> str:
    """An argparse type: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``."""
    if not _DEVICE.fullmatch(text):
        raise argparse.ArgumentTypeError(f"expected auto, cpu, cuda or cuda:N; found {text!r}")
    return text


_ADDRESS = re.compile(r"[a-z][a-z0-9+]*://\S+|[\w.\-]+:\d+")


def scheduler_spec(text: str) -> str:
    """An argparse type: a :data:`.SCHEDULERS` keyword or a scheduler address."""
    if text in SCHEDULERS or _ADDRESS.fullmatch(text):
        return text
    raise argparse.ArgumentTypeError(
        "expected threads, processes, synchronous or the address of a running "
        f"dask.distributed scheduler (tcp://host:8786); found {text!r}"
    )


def split_fractions(text: str) -> tuple[float, float, float]:
    """An argparse type: ``TRAIN,VAL,TEST`` proportions."""
    parts = text.split(",")
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 3 or not all(math.isfinite(v) and v >= 0 for v in values) or values[0] <= 0:
        raise argparse.ArgumentTypeError(
            "expected three proportions TRAIN,VAL,TEST (>= 0, TRAIN > 0) such as "
            f"1201,150,151; found {text!r}"
        )
    return values[0], values[1], values[2]


_AURORA = {"1": True, "true": True, "yes": True, "aurora": True}
_NOT_AURORA = {"0": False, "false": False, "no": False, "background": False}
_IGNORED = {"ignore", "none", "skip"}


def label_map_spec(text: str) -> dict[str, bool | None]:
    """An argparse type: ``NAME=VALUE,...`` label names to aurora (1), not aurora (0), ignore.

    ``*`` names every other label, e.g. ``aurora=1,arc=1,cloud=0,*=ignore``.
    """
    out: dict[str, bool | None] = {}
    for item in text.split(","):
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip().lower()
        if not sep or not name:
            raise argparse.ArgumentTypeError(
                f"expected NAME=VALUE pairs such as aurora=1,cloud=0,*=ignore; found {item!r}"
            )
        if value in _AURORA:
            out[name] = True
        elif value in _NOT_AURORA:
            out[name] = False
        elif value in _IGNORED:
            out[name] = None
        else:
            raise argparse.ArgumentTypeError(
                f"expected 1 (aurora), 0 (not aurora) or ignore for label {name!r}; found {value!r}"
            )
    return out


def _time_pattern(text: str) -> str | None:
    return None if text.lower() == "none" else text


# -- arguments shared by several subcommands ------------------------------------------------
_CUBES_HELP = "NetCDF image cube(s): files, folders of *.nc or glob patterns (quoted)"

_SOURCE_HELP = (
    "labelled frames: a folder of <name>_rgb.png frames with <name>_mask.png masks "
    "(searched recursively), or NetCDF cube(s) with aurora_truth (files, folders or glob "
    "patterns)"
)


def add_cubes(parser: argparse.ArgumentParser) -> None:
    """``CUBES``: one or more NetCDF image cubes (``args.cubes``)."""
    parser.add_argument("cubes", nargs="+", metavar="CUBES", help=_CUBES_HELP)


def add_labelled_source(parser: argparse.ArgumentParser) -> None:
    """``SOURCE``: labelled frames, a frame folder or cubes with truth (``args.source``).

    Optional: a label set is given with ``--labels`` instead
    (:func:`add_label_set_options`).
    """
    parser.add_argument(
        "source", nargs="*", metavar="SOURCE", help=_SOURCE_HELP + " (or give --labels)"
    )


def add_label_set_options(parser: argparse.ArgumentParser) -> None:
    """``--labels`` and how it is read, ``--calibration``, ``--image-labels``."""
    group = parser.add_argument_group(
        "label sets (read by aurora_xr.read_labels; see docs/labels.md)"
    )
    group.add_argument(
        "--labels",
        default=None,
        metavar="PATH",
        help="a label set instead of SOURCE: a folder with images/ and masks/, LabelMe "
        "JSON (a file or a folder of them), a COCO .json, a CVAT for images .xml, or a "
        "manifest .csv (image,mask[,split])",
    )
    group.add_argument(
        "--label-format",
        choices=LABEL_FORMATS,
        default="auto",
        help="format of --labels (default: %(default)s, told apart by layout and header)",
    )
    group.add_argument(
        "--label-map",
        type=label_map_spec,
        default=None,
        metavar="NAME=VALUE,...",
        help="label names to aurora (1), not aurora (0) or ignore, * for every other name, "
        "e.g. aurora=1,arc=1,cloud=0,*=ignore (default: aurora=1)",
    )
    group.add_argument(
        "--pixel-origin",
        choices=("corner", "centre"),
        default="corner",
        help="integer label coordinates are pixel corners (COCO, CVAT) or centres (PIL) "
        "(default: %(default)s)",
    )
    group.add_argument(
        "--time-pattern",
        type=_time_pattern,
        default="%Y%m%d_%H%M%S",
        metavar="PATTERN",
        help="strftime pattern of the UT time in the image file names, 'none' for none "
        "(default: %%Y%%m%%d_%%H%%M%%S)",
    )
    group.add_argument(
        "--image-root",
        default=None,
        metavar="DIR",
        help="folder searched first for the images that COCO, CVAT and LabelMe files name",
    )
    group.add_argument(
        "--skip-bad-labels",
        action="store_true",
        help="leave out a frame with a bad label (reported) instead of stopping",
    )
    group.add_argument(
        "--calibration",
        default=None,
        metavar="JSON",
        help="the camera's lens calibration (as aurora-xr calibrate writes it): the lens "
        "circle of the label set (default: found from the frames' bright disc)",
    )
    group.add_argument(
        "--image-labels",
        default=None,
        metavar="CSV",
        help="image-level labels (frame,aurora) for the image-level scores, joined to the "
        "frames by image file or time (frames without one are judged by their masks)",
    )


def add_precision(parser: argparse.ArgumentParser, *, default: str = "fp32") -> None:
    """``--precision`` of the network at inference."""
    parser.add_argument(
        "--precision",
        choices=PRECISION_NAMES,
        default=default,
        help="precision of the network: auto (the fastest that keeps the quality where it "
        "runs: bf16 on CPUs with AVX512-BF16 or AMX and on GPUs with bf16, fp16 on older "
        "GPUs, else fp32), fp32, bf16, fp16 (CUDA only) (default: %(default)s)",
    )


def add_tta(parser: argparse.ArgumentParser) -> None:
    """``--tta`` (test-time augmentation of the network)."""
    from ..model.tta import TTA_MODES  # no torch import

    parser.add_argument(
        "--tta",
        choices=TTA_MODES,
        default="none",
        help="test-time augmentation: average the network over the mirror image (flip, "
        "2 passes) or the quarter turns of both (dihedral, 8 passes) (default: %(default)s)",
    )


def add_device(parser: argparse.ArgumentParser) -> None:
    """``--device``."""
    parser.add_argument(
        "--device",
        type=device_name,
        default="auto",
        help="where the network runs: auto (CUDA when available), cpu, cuda, cuda:N "
        "(default: %(default)s)",
    )


def add_segmentation_options(parser: argparse.ArgumentParser) -> None:
    """``--threshold``, ``--batch-size``, ``--tta``, ``--precision`` and ``--device``."""
    parser.add_argument(
        "--threshold",
        type=unit_interval,
        default=None,
        help="probability at or above which a pixel is aurora (default: the checkpoint's)",
    )
    parser.add_argument(
        "--batch-size",
        type=positive_int,
        default=None,
        metavar="N",
        help="frames per forward pass of the network (default: 8)",
    )
    add_tta(parser)
    add_precision(parser)
    add_device(parser)


def add_chunk_frames(parser: argparse.ArgumentParser) -> None:
    """``--chunk-frames`` (dask chunks of the cubes)."""
    parser.add_argument(
        "--chunk-frames",
        type=positive_int,
        default=64,
        metavar="N",
        help="frames per dask chunk of the cubes (default: %(default)s)",
    )


def add_scheduler(parser: argparse.ArgumentParser) -> None:
    """``--scheduler`` and ``--workers``."""
    parser.add_argument(
        "--scheduler",
        type=scheduler_spec,
        default="threads",
        metavar="{threads,processes,synchronous,ADDRESS}",
        help="dask scheduler: threads (one process), processes (a dask.distributed "
        "LocalCluster of worker processes on 127.0.0.1, each loading the model once), "
        "synchronous (one thread, for debugging) or the address of a running "
        "dask.distributed scheduler, e.g. tcp://host:8786, whose workers must see the "
        "same paths (default: %(default)s)",
    )
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        metavar="N",
        help="worker processes of --scheduler processes (default: the CPU cores, at most 4)",
    )
