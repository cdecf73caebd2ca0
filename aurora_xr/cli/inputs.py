"""What ``aurora-xr``'s subcommands read: image cubes, and predictors on checkpoints.

:func:`open_cubes` opens the cubes a run names and :func:`release_files` closes them
when the subcommand ends; :func:`load_predictor` loads a checkpoint once, so that a bad
file is a one-line error before any work, and :func:`predictor_for` does so with the
options of a segmenting command under its ``--scheduler``.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import AuroraXrError, CheckpointError
from .scheduling import worker_threads

if TYPE_CHECKING:
    import xarray as xr

    from ..model import Predictor

__all__ = ["load_predictor", "open_cubes", "predictor_for", "release_files"]

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


def load_predictor(
    checkpoint: str,
    *,
    device: str,
    batch_size: int | None = None,
    threshold: float | None = None,
    num_threads: int | None = None,
    load_here: str | None = None,
    tta: str = "none",
    precision: str = "fp32",
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
    batch_size, threshold, num_threads, tta, precision : optional
        Options of :class:`aurora_xr.model.Predictor` (``precision="auto"`` is
        resolved in the process that runs the network).
    load_here : str, optional
        Device on which the network is loaded in this process to check the
        file (default ``device``; ``"cpu"`` when the work runs on other
        processes, which load it themselves).
    """
    from ..model import load_model

    path = Path(checkpoint).expanduser()
    try:
        # checked here in fp32 when other processes run it (fp16 needs their CUDA)
        here = precision if load_here is None else "fp32"
        loaded = load_model(path, device=load_here or device, precision=here)
    except (AuroraXrError, OSError):
        raise
    except (RuntimeError, ValueError, KeyError, TypeError) as exc:  # torch-side errors
        text = " ".join(str(exc).split())
        short = text if len(text) <= 400 else text[:400] + " ..."
        raise CheckpointError(
            f"cannot load the model in {path}: {type(exc).__name__}: {short}"
        ) from exc
    options: dict[str, Any] = {"device": device, "precision": precision}
    if batch_size is not None:
        options["batch_size"] = batch_size
    if threshold is not None:
        options["threshold"] = threshold
    if num_threads is not None:
        options["num_threads"] = num_threads
    return loaded.predictor(tta=tta, **options)


def predictor_for(args: argparse.Namespace, checkpoint: str) -> Predictor:
    """The predictor of ``--model``; checked here on the CPU when other processes run it.

    ``args`` holds the options of
    :func:`~aurora_xr.cli.options.add_segmentation_options` and
    :func:`~aurora_xr.cli.options.add_scheduler`.
    """
    local = args.scheduler in ("threads", "synchronous")
    return load_predictor(
        checkpoint,
        device=args.device,
        batch_size=args.batch_size,
        threshold=args.threshold,
        num_threads=worker_threads(args.scheduler, workers=args.workers),
        load_here=None if local else "cpu",
        tta=args.tta,
        precision=getattr(args, "precision", "fp32"),
    )
