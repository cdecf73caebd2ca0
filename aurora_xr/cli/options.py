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
    "add_labelled_source",
    "add_scheduler",
    "add_segmentation_options",
    "add_tta",
    "cell_fraction",
    "device_name",
    "finite_float",
    "int_at_least",
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
    """``SOURCE``: labelled frames, a frame folder or cubes with truth (``args.source``)."""
    parser.add_argument("source", nargs="+", metavar="SOURCE", help=_SOURCE_HELP)


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
    """``--threshold``, ``--batch-size``, ``--tta`` and ``--device`` of a segmenting command."""
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
