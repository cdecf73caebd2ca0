"""Segmentation through the accessor from NetCDF vs a plain loop over the same frames.

Both paths use the same checkpoint, predictor options, batch size and torch threads:

* accessor: ``open_cube(path).aurora.segment(predictor)`` computed with dask's
  threaded scheduler (one worker thread, so torch keeps its threads), reading the
  frames from NetCDF chunk by chunk;
* baseline: a plain Python loop that reads the same NetCDF file with xarray into
  numpy, one chunk at a time, and calls the predictor.

The ratio baseline_time / accessor_time shows what the lazy pipeline costs (target
>= 0.9). Weights are random (speed does not depend on them).

Usage::

    python benchmarks/bench_segment.py                       # lraspp, 128 px, 256 frames
    python benchmarks/bench_segment.py --arch fcn_resnet50 --frames 32 --size 256
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import dask
import numpy as np
import torch
import xarray as xr

import aurora_xr
from aurora_xr.model import (
    CheckpointMetadata,
    Predictor,
    Preprocessing,
    build_model,
    save_checkpoint,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="lraspp_mobilenet_v3_large")
    parser.add_argument("--frames", type=int, default=256)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--chunk", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

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
            CheckpointMetadata(architecture=args.arch, preprocessing=Preprocessing()),
        )
        predictor = Predictor(ckpt, device="cpu", batch_size=args.batch_size)
        predictor(np.asarray(cube["image"].values[: args.batch_size]))  # load + warm up

        def accessor() -> None:
            ds = aurora_xr.open_cube(path, chunks={"time": args.chunk})
            with dask.config.set(scheduler="threads", num_workers=1):
                ds.aurora.segment(predictor)["aurora_probability"].compute()
            ds.close()

        def plain_loop() -> None:
            with xr.open_dataset(path) as ds:
                for start in range(0, ds.sizes["time"], args.chunk):
                    frames = ds["image"].isel(time=slice(start, start + args.chunk)).values
                    predictor(frames)

        t_acc = t_loop = float("inf")
        for _ in range(args.repeats):  # interleaved so that load changes hit both alike
            t0 = time.perf_counter()
            plain_loop()
            t_loop = min(t_loop, time.perf_counter() - t0)
            t0 = time.perf_counter()
            accessor()
            t_acc = min(t_acc, time.perf_counter() - t0)
    n = args.frames
    print(
        f"{args.arch} {args.size}x{args.size}, {n} frames, chunks of {args.chunk}, "
        f"batch {args.batch_size}, torch threads {torch.get_num_threads()}"
    )
    print(f"  accessor from NetCDF  {n / t_acc:8.2f} frames/s  ({t_acc:.2f} s)")
    print(f"  plain loop            {n / t_loop:8.2f} frames/s  ({t_loop:.2f} s)")
    print(f"  ratio loop/accessor   {t_loop / t_acc:8.2f}  (target >= 0.9)")


if __name__ == "__main__":
    main()
