"""What the ``aurora-xr`` subcommands share: exit codes, option types, the dask scheduler.

Private: :mod:`aurora_xr.cli` re-exports the public names. Nothing here imports
torch, dask.distributed or matplotlib at import time, so that ``aurora-xr
--help`` stays fast.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import math
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import AuroraXrError, CheckpointError, OptionError, SchemaError

if TYPE_CHECKING:
    import xarray as xr
    from distributed import Client

    from ..model import Predictor

__all__ = [
    "ARCHITECTURE_NAMES",
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_SKIPPED",
    "EXIT_USAGE",
    "SCHEDULERS",
    "Subcommand",
    "compute",
    "dask_scheduler",
]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_SKIPPED = 3
EXIT_INTERRUPTED = 130

PROG = "aurora-xr"

SCHEDULERS = ("threads", "processes", "synchronous")
"""Scheduler keywords of ``--scheduler`` (besides the address of a running scheduler)."""

ARCHITECTURE_NAMES = ("fcn_resnet50", "lraspp_mobilenet_v3_large", "deeplabv3_mobilenet_v3_large")
"""Names of :data:`aurora_xr.model.ARCHITECTURES`, known here without importing torch."""

T = TypeVar("T")


@dataclass(frozen=True)
class Subcommand:
    """A subcommand: one-line help, an argument adder and a runner."""

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def say(text: str) -> None:
    """One line on stderr."""
    print(text, file=sys.stderr)


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
    """An argparse type: a :data:`SCHEDULERS` keyword or a scheduler address."""
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


# -- the dask scheduler ---------------------------------------------------------------------
def default_workers() -> int:
    """Worker processes of a LocalCluster when ``--workers`` is not given."""
    return max(1, min(os.cpu_count() or 1, 4))


@contextlib.contextmanager
def dask_scheduler(spec: str, *, workers: int | None = None) -> Iterator[Client | None]:
    """Run the ``with`` block under the dask scheduler named by ``spec``.

    Parameters
    ----------
    spec : str
        ``"threads"`` or ``"synchronous"``: dask's local schedulers (yields
        None). ``"processes"``: a :class:`dask.distributed.LocalCluster` of
        ``workers`` single-threaded worker processes on 127.0.0.1 without a
        dashboard, and a Client on it (safer than dask's multiprocessing
        scheduler for a torch model, which each worker loads once). Anything
        else: the address of a running ``dask.distributed`` scheduler
        (``tcp://host:8786``), connected with ``Client(address)``.
    workers : int, optional
        Worker processes of the LocalCluster (default :func:`default_workers`).

    Yields
    ------
    distributed.Client or None
        The client for ``processes`` and addresses (closed on exit, with the
        cluster it started); None for the local schedulers.

    Raises
    ------
    OptionError
        For a malformed address.
    OSError
        When the scheduler at the address cannot be reached.
    """
    import dask

    if spec in ("threads", "synchronous"):
        with dask.config.set(scheduler=spec):
            yield None
        return
    from distributed import Client, LocalCluster

    with contextlib.ExitStack() as stack:
        if spec == "processes":
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=workers or default_workers(),
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
            )
            client = stack.enter_context(Client(cluster))
        else:
            try:
                client = stack.enter_context(Client(spec))
            except (ValueError, TypeError) as exc:
                raise OptionError(
                    f"expected the address of a dask.distributed scheduler such as "
                    f"tcp://host:8786; found {spec!r} ({exc})"
                ) from exc
        yield client


def compute(obj: Any, *, client: Client | None, desc: str, progress: bool) -> Any:
    """Compute a dask-backed xarray object, with a tqdm bar over its tasks or chunks."""
    from tqdm.auto import tqdm

    if not progress:
        return obj.compute()
    if client is None:
        from tqdm.dask import TqdmCallback

        with TqdmCallback(desc=desc, unit="task", tqdm_class=tqdm):
            return obj.compute()
    from distributed import as_completed, futures_of

    persisted = client.persist(obj)
    futures = futures_of(persisted)
    with tqdm(total=len(futures), desc=desc, unit="chunk") as bar:
        for _ in as_completed(futures):
            bar.update(1)
    return persisted.compute()


# -- inputs ------------------------------------------------------------------------------
_OPENED: list[xr.Dataset] = []


def release_files() -> None:
    """Close the cubes a run opened and collect the file handles it left, in this thread.

    Does nothing when the run opened no cube.

    Files left to the garbage collector may otherwise be closed at any later
    moment, e.g. while another file is being opened or in a dask worker
    thread; netCDF-C and HDF5 are not thread-safe, and that can crash the
    process when :func:`aurora_xr.cli.main` runs several times in one process
    (tests, notebooks).
    """
    if not _OPENED:
        return
    while _OPENED:
        ds = _OPENED.pop()
        with contextlib.suppress(Exception):
            ds.close()
    gc.collect()


def open_cubes(paths: Sequence[str], *, chunk_frames: int) -> xr.Dataset:
    """The cube of NetCDF files, folders or glob patterns (:func:`aurora_xr.io.open_cube`).

    The files are closed by :func:`release_files` when the subcommand ends.
    """
    from ..io.cubefiles import open_cube

    ds = open_cube(list(paths) if len(paths) > 1 else paths[0], chunks=chunk_frames)
    _OPENED.append(ds)
    return ds


def is_frame_folder(paths: Sequence[str]) -> bool:
    """Whether ``paths`` is one folder holding ``<name>_rgb.*`` frames (searched recursively)."""
    if len(paths) != 1 or not Path(paths[0]).expanduser().is_dir():
        return False
    return next(Path(paths[0]).expanduser().rglob("*_rgb.*"), None) is not None


def labelled_source(paths: Sequence[str], *, chunk_frames: int) -> str | xr.Dataset:
    """A folder of frames with masks (its path) or the cube of NetCDF files with truth."""
    if is_frame_folder(paths):
        return str(Path(paths[0]).expanduser())
    try:
        return open_cubes(paths, chunk_frames=chunk_frames)
    except FileNotFoundError as exc:
        if len(paths) == 1 and Path(paths[0]).expanduser().is_dir():
            raise SchemaError(
                f"expected <name>_rgb.png frames with <name>_mask.png masks or NetCDF cubes "
                f"with aurora_truth in {paths[0]}; found neither"
            ) from exc
        raise


def load_predictor(
    checkpoint: str,
    *,
    device: str,
    batch_size: int | None = None,
    threshold: float | None = None,
    num_threads: int | None = None,
    load_here: str | None = None,
    tta: str = "none",
) -> Predictor:
    """A predictor on ``checkpoint``, loaded once here so that a bad file fails at once.

    Every problem with the file (missing, not safetensors, corrupt, truncated,
    tensors of another architecture) is a :class:`~aurora_xr.errors.CheckpointError`:
    a one-line error, never a torch traceback.

    Parameters
    ----------
    checkpoint : str
        The checkpoint file.
    device : str
        Device of the predictor (resolved where it runs: ``auto`` picks CUDA
        on a worker with a GPU).
    batch_size, threshold, num_threads, tta : optional
        Options of :class:`aurora_xr.model.Predictor`.
    load_here : str, optional
        Device on which the network is loaded in this process to check the
        file (default ``device``; ``"cpu"`` when the work runs on other
        processes, which load it themselves).
    """
    from ..model import load_model

    path = Path(checkpoint).expanduser()
    try:
        loaded = load_model(path, device=load_here or device)
    except (AuroraXrError, OSError):
        raise
    except (RuntimeError, ValueError, KeyError, TypeError) as exc:  # torch-side errors
        text = " ".join(str(exc).split())
        short = text if len(text) <= 400 else text[:400] + " ..."
        raise CheckpointError(
            f"cannot load the model in {path}: {type(exc).__name__}: {short}"
        ) from exc
    options: dict[str, Any] = {"device": device}
    if batch_size is not None:
        options["batch_size"] = batch_size
    if threshold is not None:
        options["threshold"] = threshold
    if num_threads is not None:
        options["num_threads"] = num_threads
    return loaded.predictor(tta=tta, **options)


@contextlib.contextmanager
def cli_wording(*replacements: tuple[str, str]) -> Iterator[None]:
    """Reword an error message that names a Python argument (``overwrite=True``).

    The error keeps its class; only messages that contain one of the ``(old,
    new)`` texts are changed.
    """
    try:
        yield
    except AuroraXrError as exc:
        text = str(exc)
        changed = text
        for old, new in replacements:
            changed = changed.replace(old, new)
        if changed == text:
            raise
        raise type(exc)(changed) from exc


# -- output --------------------------------------------------------------------------------
def fmt(value: Any, digits: int = 3) -> str:
    """A number for a summary line (``n/a`` for None and NaN)."""
    if value is None:
        return "n/a"
    number = float(value)
    return "n/a" if math.isnan(number) else f"{number:.{digits}f}"


def scores_line(scores: dict[str, Any] | None) -> str:
    """IoU, F1, precision, recall and accuracy on one line."""
    if not scores:
        return "n/a"
    names = (
        ("iou", "IoU"),
        ("f1", "F1"),
        ("precision", "precision"),
        ("recall", "recall"),
        ("accuracy", "accuracy"),
    )
    return "  ".join(f"{label} {fmt(scores.get(key))}" for key, label in names if key in scores)


def output_path(path: str) -> Path:
    """An output file path whose folder exists (created if needed)."""
    target = Path(path).expanduser()
    if target.is_dir():
        raise OptionError(f"expected an output file path; found the folder {target}")
    target.parent.mkdir(parents=True, exist_ok=True)
    return target
