"""Segmentation through the accessor from NetCDF vs a bare loop over the same frames.

Both paths use the same checkpoint, predictor options, batch size and torch threads:

* accessor: ``open_cube(path, chunks=...).aurora.segment(predictor)`` computed
  end to end (the probabilities and the mask) with dask's threaded scheduler,
  reading the frames from NetCDF chunk by chunk;
* baseline, the bare loop: a Python loop that reads the same NetCDF file with
  xarray into numpy one chunk at a time and calls the predictor on it, then
  thresholds the probabilities.

``accessor_over_loop`` = loop time / accessor time: what the lazy pipeline
keeps of the bare loop's speed (goal >= 0.95). The two are run interleaved,
``--repeats`` times, and the best time of each is kept. Weights are random
(the speed does not depend on them).

Usage::

    python benchmarks/bench_segment.py --quick               # < 3 minutes on 2 cores
    python benchmarks/bench_segment.py --arch fcn_resnet50 --frames 32 --size 256
    python benchmarks/bench_segment.py --precision fp32 --workers 1

The last line printed is one JSON object with the figures and ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import dask
import numpy as np
import torch
import xarray as xr

import aurora_xr
from aurora_xr.model import CheckpointMetadata, Predictor, build_model, save_checkpoint


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="lraspp_mobilenet_v3_large")
    parser.add_argument("--frames", type=int, default=256)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--chunk", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--workers", type=int, default=2, help="dask threads (default 2)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--quick", action="store_true", help="fewer frames")
    args = parser.parse_args(argv)
    if args.quick:
        args.frames, args.repeats = 128, 5

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cube = aurora_xr.synthetic_cube(
            start="2020-06-21T06:00", n_frames=args.frames, size=args.size, seed=1
        )
        path = aurora_xr.write_netcdf(cube, work / "cube.nc", time_chunk=args.chunk)
        torch.manual_seed(0)
        ckpt = save_checkpoint(
            build_model(args.arch).eval(),
            work / "model.safetensors",
            CheckpointMetadata(architecture=args.arch),
        )
        predictor = Predictor(
            ckpt, device=args.device, precision=args.precision, batch_size=args.batch_size
        )
        predictor(np.asarray(cube["image"].values[: args.batch_size]))  # load + warm up
        sums: dict[str, int] = {}

        def accessor() -> None:
            ds = aurora_xr.open_cube(path, chunks={"time": args.chunk})
            seg = ds.aurora.segment(predictor)
            with dask.config.set(scheduler="threads", num_workers=args.workers):
                _prob, mask = dask.compute(seg["aurora_probability"].data, seg["aurora_mask"].data)
            sums["accessor"] = int(mask.sum())
            ds.close()

        def bare_loop() -> None:
            total = 0
            with xr.open_dataset(path) as ds:
                for start in range(0, ds.sizes["time"], args.chunk):
                    frames = ds["image"].isel(time=slice(start, start + args.chunk)).values
                    probs = predictor(frames)
                    total += int((probs >= predictor.threshold).sum())
            sums["loop"] = total

        t_acc = t_loop = float("inf")
        for _ in range(args.repeats):  # interleaved so that load changes hit both alike
            t0 = time.perf_counter()
            bare_loop()
            t_loop = min(t_loop, time.perf_counter() - t0)
            t0 = time.perf_counter()
            accessor()
            t_acc = min(t_acc, time.perf_counter() - t0)
    n = args.frames
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    ratio = t_loop / t_acc
    print(
        f"{args.arch} {args.size}x{args.size}, {n} frames, chunks of {args.chunk}, "
        f"batch {args.batch_size}, precision {args.precision}, {args.workers} dask threads, "
        f"torch threads {torch.get_num_threads()}, load average {load}"
    )
    print(f"  accessor from NetCDF  {n / t_acc:8.2f} frames/s  ({t_acc:.2f} s)")
    print(f"  bare loop             {n / t_loop:8.2f} frames/s  ({t_loop:.2f} s)")
    print(f"  accessor_over_loop    {ratio:8.3f}  (goal >= 0.95)")
    if sums["accessor"] != sums["loop"]:
        print(f"  WARNING: the two paths flagged {sums['accessor']} and {sums['loop']} pixels")
    result = {
        "benchmark": "bench_segment",
        "arch": args.arch,
        "size": args.size,
        "frames": n,
        "chunk": args.chunk,
        "batch_size": args.batch_size,
        "precision": args.precision,
        "workers": args.workers,
        "threads": torch.get_num_threads(),
        "load_average": load,
        "accessor_fps": round(n / t_acc, 3),
        "loop_fps": round(n / t_loop, 3),
        "accessor_over_loop": round(ratio, 4),
        "same_pixels": sums["accessor"] == sums["loop"],
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
