"""Per-frame costs at 512 x 512 on one core, for the extrapolation of ``bench_archive.py``.

Each stage of the pipeline is timed on a few 512-px synthetic frames in this process, with one
torch thread and dask's synchronous scheduler, so that every figure is seconds of one core per
frame:

* ``ingest``: :func:`aurora_xr.ingest` (``workers=1``) of 512-px PNG frames written by
  :func:`aurora_xr.write_synthetic_archive` (the second of two runs, imports warm);
* ``segment_<arch>``: a :class:`aurora_xr.Predictor` (random weights: the speed does not depend
  on them; ``precision="auto"``, batch 4) on frames in memory, after a warm-up batch, for
  ``fcn_resnet50`` (the paper's FCN) and ``lraspp_mobilenet_v3_large`` (the architecture of the
  reference model) run at 512 x 512, and ``segment_reference``: the shipped
  ``aurora_xr.pretrained("reference")`` as it is (it resizes frames to its own input size);
* ``difference``: :func:`aurora_xr.difference_detect` (400 cells) from a NetCDF cube;
* ``occurrence``: usable frames, MLT, cell detections of a stored mask and the occurrence
  reduction, from the same cube.

The peak RSS of the process during the FCN's batches is the memory a worker needs for the
network at 512 px (``fcn_peak_rss_mb``).
"""

from __future__ import annotations

import importlib
import importlib.util
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dask
import numpy as np

import aurora_xr
from aurora_xr.detect.segmentation import ChannelThresholdPredictor

ARCHS = ("fcn_resnet50", "lraspp_mobilenet_v3_large")


def _timed(func: Callable[[], Any]) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def _segment_cost(arch: str, frames: np.ndarray, work: Path, n: int) -> tuple[float, float]:
    import torch
    from _archive_pipeline import PeakRSS

    from aurora_xr.model import CheckpointMetadata, build_model, save_checkpoint

    options: dict[str, Any] = {
        "device": "cpu",
        "precision": "auto",
        "batch_size": 4,
        "num_threads": 1,
    }
    if arch == "reference":
        pred = importlib.import_module("aurora_xr.pretrained").pretrained("reference", **options)
    else:
        torch.manual_seed(0)
        meta = CheckpointMetadata(architecture=arch)
        path = save_checkpoint(build_model(arch).eval(), work / f"{arch}.safetensors", meta)
        pred = aurora_xr.Predictor(path, **options)
    pred(frames[:4])  # load and warm up
    sampler = PeakRSS()
    seconds = _timed(lambda: pred(frames[:n]))
    peak = sampler.take() / 2**20
    sampler.close()
    return seconds / n, peak


def costs_512(*, quick: bool, log: Callable[[str], Any] = print) -> dict[str, Any]:
    """Seconds of one core per 512-px frame for every stage, and the FCN's peak RSS."""
    import torch

    torch.set_num_threads(1)
    work = Path(tempfile.mkdtemp(prefix="bench_archive_costs_"))
    out: dict[str, Any] = {"size": 512, "threads": 1}
    try:
        n_files = 16 if quick else 48
        write_synthetic_archive = aurora_xr.write_synthetic_archive
        write_synthetic_archive(
            work / "png", start="2020-06-21T12:00", n_frames=n_files, size=512, masks=False
        )
        for _attempt in range(2):
            shutil.rmtree(work / "nc", ignore_errors=True)
            seconds = _timed(
                lambda: aurora_xr.ingest(
                    work / "png",
                    work / "nc",
                    station="JBS",
                    calibration="placeholder:JBS",
                    progress=False,
                )
            )
        out["ingest_s_per_frame"] = round(seconds / n_files, 5)
        cube = aurora_xr.open_cube(work / "nc", chunks={"time": 16})
        frames = cube["image"].values
        archs = ARCHS
        if importlib.util.find_spec("aurora_xr.pretrained") is not None:
            archs = (*ARCHS, "reference")
        for arch in archs:
            n = (2 if quick else 8) if arch == "fcn_resnet50" else (8 if quick else 32)
            reps = np.concatenate([frames] * (1 + n // len(frames)))[: max(n, 4)]
            per_frame, peak = _segment_cost(arch, reps, work, n)
            out[f"segment_{arch}_s_per_frame"] = round(per_frame, 4)
            if arch == "fcn_resnet50":
                out["fcn_peak_rss_mb"] = round(peak, 1)
            log(f"  512 px {arch}: {per_frame:.3f} s/frame (1 core)")
        with dask.config.set(scheduler="synchronous"):
            grid = aurora_xr.cell_grid(cube, n_cells=400)
            seconds = _timed(lambda: aurora_xr.difference_detect(cube, cells=grid).compute())
            out["difference_s_per_frame"] = round(seconds / n_files, 5)
            seg = aurora_xr.segment(cube, ChannelThresholdPredictor())
            seg = seg.assign(aurora_mask=seg["aurora_mask"].compute())

            def occurrence() -> None:
                det = aurora_xr.cell_detections(seg, cells=grid)
                usable = aurora_xr.usable_frames(cube)["usable"]
                aurora_xr.occurrence_map(
                    det, mlt=aurora_xr.mlt(cube), usable=usable, cells=grid, by="year"
                ).compute()

            occurrence()  # warm: the MLT and Sun nodes
            seconds = _timed(occurrence)
            out["occurrence_s_per_frame"] = round(seconds / n_files, 5)
        cube.close()
        out["frames"] = n_files
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


GPU_TARGET_FPS = 850.0
"""End-to-end design target of ``bench_gpu.py`` on one H100 at 512 x 512 (not measured here)."""
H100_BF16_DENSE_TFLOPS = 989.0
"""NVIDIA's published dense bf16 tensor-core peak of an H100 SXM."""
GPU_UTILISATION = 0.4
"""Assumed share of that peak a convolutional network reaches (an assumption, not a measure)."""
TORCHVISION_GMACS_520 = {"fcn_resnet50": 152.717, "lraspp_mobilenet_v3_large": 2.086}
"""torchvision's published operation counts ("GFLOPS", multiply-adds) at 520 x 520 pixels."""


def extrapolation(
    costs: dict[str, Any],
    efficiency: dict[str, float],
    *,
    frames: float = 1.5e6,
    machines: tuple[tuple[str, int], ...] = (("laptop, 2 cores", 2), ("server, 32 cores", 32)),
    gpu_node_cores: int = 16,
) -> dict[str, Any]:
    """Hours for ``frames`` 512-px frames per stage and machine, from one-core costs.

    ``efficiency`` is the parallel efficiency of each stage (speed-up from 1 to 2 workers over
    2) and is assumed to hold per core on larger machines. The GPU node segments at
    :data:`GPU_TARGET_FPS` (bounded above by a compute estimate from torchvision's operation
    counts and the H100's peak), and runs the other stages on its ``gpu_node_cores`` cores.
    """
    segmenters = [
        k[len("segment_") : -len("_s_per_frame")] for k in costs if k.startswith("segment_")
    ]
    cpu_stages = {"ingest": "ingest", "difference": "difference", "occurrence": "occurrence"}
    rows: dict[str, Any] = {}

    def hours(cost: float, stage: str, cores: int) -> float:
        eff = min(1.0, max(efficiency.get(stage, 1.0), 1e-3))
        return frames * cost / (cores * eff) / 3600.0

    for label, cores in machines:
        row = {
            name: hours(costs[f"{name}_s_per_frame"], stage, cores)
            for name, stage in cpu_stages.items()
        }
        for arch in segmenters:
            row[f"segment_{arch}"] = hours(costs[f"segment_{arch}_s_per_frame"], "segment", cores)
        rows[label] = {k: round(v, 2) for k, v in row.items()}
    gpu = {
        name: hours(costs[f"{name}_s_per_frame"], stage, gpu_node_cores)
        for name, stage in cpu_stages.items()
    }
    compute_fps = {}
    for arch in segmenters:
        gmacs = TORCHVISION_GMACS_520.get(arch, TORCHVISION_GMACS_520["lraspp_mobilenet_v3_large"])
        flops = 2e9 * gmacs * (512 / 520) ** 2
        compute_fps[arch] = H100_BF16_DENSE_TFLOPS * 1e12 * GPU_UTILISATION / flops
        gpu[f"segment_{arch}"] = frames / min(GPU_TARGET_FPS, compute_fps[arch]) / 3600.0
    rows[f"GPU node: 1 H100 + {gpu_node_cores} cores (estimate)"] = {
        k: round(v, 2) for k, v in gpu.items()
    }
    return {
        "frames": frames,
        "hours": rows,
        "efficiency": efficiency,
        "gpu_compute_bound_fps": {k: round(v) for k, v in compute_fps.items()},
        "gpu_target_fps": GPU_TARGET_FPS,
    }
