"""Frames per second on one GPU, end to end from NetCDF through ``ds.aurora.segment()``.

Three measurements on the same frames, in the same run, on the same device:

* **decode**: reading the frames from the NetCDF cube alone (dask, the same
  chunks and threads as the accessor), to show whether decoding keeps up;
* **bare loop**: the network alone, as a user would write it with torch: the
  frames already in memory, a batch at a time to the device, normalised,
  forward (the same precision and layout as ``"auto"``), sigmoid, the mask's
  per-frame pixel count back on the host;
* **accessor**: ``open_cube(path, chunks=...).aurora.segment(predictor)`` from
  the file, the per-frame count of mask pixels computed with dask (threads by
  default, or ``--scheduler processes`` for a LocalCluster whose workers each
  decode their own chunks), the predictor with ``precision="auto"`` (on CUDA:
  bf16 or fp16, channels-last, pinned and prefetched batches).

``accessor_over_bare`` = accessor frames/s / bare frames/s. The goal on one
H100 is >= 850 frames/s end to end at 512 x 512 (``meets_goal``), the six-year
archive of 1.5 million frames in under 30 minutes.

On a machine without a GPU it runs on the CPU (``--device cpu``), small, so
that the script itself is tested; its figures then say nothing about a GPU.

Usage::

    python benchmarks/bench_gpu.py --quick                    # < 5 minutes on one GPU
    python benchmarks/bench_gpu.py --frames 8192 --batch-size 128 --workers 6
    python benchmarks/bench_gpu.py --arch fcn_resnet50 --batch-size 32
    python benchmarks/bench_gpu.py --quick --device cpu       # the CI check of the script

The last line printed is one JSON object with the figures and ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import dask
import numpy as np
import pandas as pd
import torch
import xarray as xr

import aurora_xr
from aurora_xr.model import CheckpointMetadata, Predictor, build_model, save_checkpoint
from aurora_xr.model.devices import autocast, resolve_device, resolve_plan

GOAL_FPS = 850.0


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def make_cube(n_frames: int, size: int, distinct: int) -> xr.Dataset:
    """``n_frames`` frames of the synthetic sky: ``distinct`` rendered ones, repeated."""
    base = aurora_xr.synthetic_cube(
        start="2020-06-21T06:00", n_frames=distinct, size=size, seed=1
    ).drop_vars(["aurora_truth", "aurora_kind"], errors="ignore")
    image = np.resize(base["image"].values, (n_frames, *base["image"].shape[1:]))
    times = pd.date_range("2020-06-21T00:00", periods=n_frames, freq="2s").values
    keep = {k: v for k, v in base.coords.items() if "time" not in v.dims}
    return xr.Dataset(
        {"image": (base["image"].dims, image)},
        coords={**keep, "time": times},
        attrs=base.attrs,
    )


def bare_loop(
    module: torch.nn.Module, frames: np.ndarray, device: torch.device, args: argparse.Namespace
) -> np.ndarray:
    """Per-frame counts of pixels >= 0.5, with the network alone (see the module text)."""
    plan = resolve_plan(device, "auto")
    mean = torch.tensor([0.485, 0.456, 0.406], device=device).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225], device=device).view(1, 3, 1, 1)
    counts = []
    with torch.inference_mode(), autocast(device, plan.precision):
        for start in range(0, len(frames), args.batch_size):
            raw = torch.from_numpy(frames[start : start + args.batch_size]).to(device)
            x = (raw.permute(0, 3, 1, 2).float() / 255.0 - mean) / std
            if plan.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            probs = torch.sigmoid(module(x)["out"].float())
            counts.append((probs >= 0.5).sum(dim=(1, 2, 3)).cpu().numpy())
    _sync(device)
    return np.concatenate(counts)


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    device = resolve_device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN pick its kernels
    t0 = time.perf_counter()
    cube = make_cube(args.frames, args.size, args.distinct)
    path = aurora_xr.write_netcdf(cube, work / "cube.nc", time_chunk=args.chunk)
    frames = cube["image"].values
    print(f"  wrote {args.frames} frames to NetCDF in {time.perf_counter() - t0:.1f} s", flush=True)
    torch.manual_seed(0)
    module = build_model(args.arch).eval()
    ckpt = save_checkpoint(
        module, work / "model.safetensors", CheckpointMetadata(architecture=args.arch)
    )
    predictor = Predictor(
        ckpt, device=str(device), precision="auto", batch_size=args.batch_size
    ).load()
    plan = resolve_plan(device, "auto")
    bare_module = build_model(args.arch).eval().to(device)
    bare_module.load_state_dict(module.state_dict())
    if plan.channels_last:
        bare_module = bare_module.to(memory_format=torch.channels_last)
    predictor(frames[: args.batch_size])  # warm up both
    bare_loop(bare_module, frames[: args.batch_size], device, args)

    client: Any = None

    def decode() -> None:
        with (
            aurora_xr.open_cube(path, chunks={"time": args.chunk}) as ds,
            dask.config.set(scheduler="threads", num_workers=args.workers),
        ):
            ds["image"].sum(("y", "x", "channel")).compute()

    def accessor() -> np.ndarray:
        with aurora_xr.open_cube(path, chunks={"time": args.chunk}) as ds:
            counts = ds.aurora.segment(predictor)["aurora_mask"].sum(("y", "x"))
            if args.scheduler == "threads":
                with dask.config.set(scheduler="threads", num_workers=args.workers):
                    return np.asarray(counts.compute())
            return np.asarray(counts.compute(scheduler=client))

    if args.scheduler == "processes":
        from dask.distributed import Client, LocalCluster

        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=2, processes=True)
        client = Client(cluster)
    try:
        times = {"decode": float("inf"), "bare": float("inf"), "accessor": float("inf")}
        for _ in range(args.repeats):  # interleaved, best of each
            for name, fn in (
                ("decode", decode),
                ("bare", lambda: bare_loop(bare_module, frames, device, args)),
                ("accessor", accessor),
            ):
                t0 = time.perf_counter()
                fn()
                _sync(device)
                times[name] = min(times[name], time.perf_counter() - t0)
    finally:
        if client is not None:
            client.close()
            client.cluster.close()
    fps = {name: args.frames / seconds for name, seconds in times.items()}
    for name, value in fps.items():
        print(f"  {name:<10s} {value:9.1f} frames/s  ({times[name]:.2f} s)")
    ratio = fps["accessor"] / fps["bare"]
    print(f"  accessor_over_bare {ratio:.3f}; goal on one H100: {GOAL_FPS:.0f} frames/s end to end")
    return {
        "decode_fps": round(fps["decode"], 2),
        "bare_fps": round(fps["bare"], 2),
        "accessor_fps": round(fps["accessor"], 2),
        "accessor_over_bare": round(ratio, 4),
        "accessor_over_decode": round(fps["accessor"] / fps["decode"], 4),
        "precision": plan.precision,
        "channels_last": plan.channels_last,
        "goal_fps": GOAL_FPS,
        "meets_goal": bool(device.type == "cuda" and fps["accessor"] >= GOAL_FPS),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--arch", default="lraspp_mobilenet_v3_large")
    parser.add_argument("--size", type=int, default=None, help="frame size (512; CPU 64)")
    parser.add_argument("--frames", type=int, default=None)
    parser.add_argument("--chunk", type=int, default=None, help="frames per dask chunk")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--workers", type=int, default=4, help="dask threads or processes")
    parser.add_argument("--scheduler", choices=("threads", "processes"), default="threads")
    parser.add_argument("--distinct", type=int, default=8, help="frames rendered, then repeated")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="< 5 minutes on one GPU")
    args = parser.parse_args(argv)
    cpu = resolve_device(args.device).type != "cuda"
    defaults = (64, 48, 16, 8) if cpu else (512, 2048 if args.quick else 8192, 256, 64)
    for name, value in zip(("size", "frames", "chunk", "batch_size"), defaults, strict=True):
        if getattr(args, name) is None:
            setattr(args, name, value)
    if cpu:
        args.distinct = min(args.distinct, 4)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    name = torch.cuda.get_device_name(0) if not cpu else "CPU"
    print(
        f"{args.arch} {args.size}x{args.size}, {args.frames} frames, chunks of {args.chunk}, "
        f"batch {args.batch_size}, {args.workers} dask {args.scheduler}, device {name}, "
        f"load average {load}"
    )
    if cpu:
        print("  NOTE: no GPU: a small CPU run that tests the script; not a GPU figure")
    with tempfile.TemporaryDirectory() as tmp:
        result = {
            "benchmark": "bench_gpu",
            "device": name,
            "arch": args.arch,
            "size": args.size,
            "frames": args.frames,
            "chunk": args.chunk,
            "batch_size": args.batch_size,
            "workers": args.workers,
            "scheduler": args.scheduler,
            "load_average": load,
            "cpu_only": cpu,
        } | run(args, Path(tmp))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
