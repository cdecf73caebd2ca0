"""Frames per second of the shipped reference model at 256 x 256 on this machine.

The model is ``aurora_xr.pretrained("reference")`` (LR-ASPP MobileNetV3-Large,
float16 on disk). The same frames go through

* the predictor in **fp32** (the baseline), 8-bit colour frames with a lens mask;
* the predictor in ``precision="auto"`` (bf16 with channels-last where the CPU
  has bf16 units), the same frames;
* the predictor in the shipped default precision on 16-bit single-channel
  frames (a THEMIS-like camera): the levels step costs more than for 8 bits;
* ``aurora_xr.segment(cube)`` with no model (the reference model with the
  cube's lens), on a chunked cube, computed: the whole path a user runs.

Each figure is the best of ``--repeats`` interleaved runs (a shared machine's
load hits all alike); ``*_over_fp32`` are ratios against the baseline measured
in the same run. The goal of issue 22 is >= 20 frames/s at 256 x 256 on the CPU.

Usage::

    python benchmarks/bench_reference.py --quick       # about a minute on 2 cores
    python benchmarks/bench_reference.py --frames 64 --repeats 5

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

GOAL_FPS = 20.0


def _best_of(fns: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="16 frames, 2 repeats")
    args = parser.parse_args(argv)
    if args.quick:
        args.frames, args.repeats = 16, 2
    if args.threads:
        torch.set_num_threads(args.threads)

    from aurora_xr.datasets import synthetic_cube
    from aurora_xr.detect.segmentation import segment
    from aurora_xr.pretrained import REGISTRY, pretrained

    size, n = args.size, args.frames
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    print(f"reference model, {size}x{size}, {n} frames, {torch.get_num_threads()} threads, "
          f"load average {load}")  # fmt: skip
    cube = synthetic_cube(n_frames=n, size=size, seed=5).chunk({"time": args.batch_size})
    colour = np.ascontiguousarray(cube.image.values)
    lens = np.isfinite(cube.elevation.values)
    rng = np.random.default_rng(0)
    grey = (3400 + rng.normal(0, 200, (n, size, size, 1)).clip(-3000, 60000)).astype(np.uint16)
    fp32 = pretrained("reference", device="cpu", precision="fp32", batch_size=args.batch_size)
    auto = pretrained("reference", device="cpu", precision="auto", batch_size=args.batch_size)
    shipped = pretrained("reference", device="cpu", batch_size=args.batch_size)
    for model in (fp32, auto, shipped):  # load and warm up
        model(colour[:2], lens_mask=lens)
    segment(cube.isel(time=slice(0, 2))).aurora_probability.load()
    times = _best_of(
        {
            "fp32_colour": lambda: fp32(colour, lens_mask=lens),
            "auto_colour": lambda: auto(colour, lens_mask=lens),
            "default_grey16": lambda: shipped(grey, lens_mask=lens),
            "segment_cube": lambda: segment(cube).aurora_probability.values,
        },
        args.repeats,
    )
    fps = {k: n / v for k, v in times.items()}
    result: dict[str, Any] = {
        "benchmark": "bench_reference",
        "size": size,
        "frames": n,
        "batch_size": args.batch_size,
        "threads": torch.get_num_threads(),
        "load_average": load,
        "model_sha256": REGISTRY["reference"].sha256,
        "default_precision": shipped.precision,
        **{f"{k}_frames_per_s": round(v, 2) for k, v in fps.items()},
        **{
            f"{k}_over_fp32": round(v / fps["fp32_colour"], 3)
            for k, v in fps.items()
            if k != "fp32_colour"
        },
        "goal_frames_per_s": GOAL_FPS,
        "meets_goal": bool(fps["segment_cube"] >= GOAL_FPS),
    }
    for key, value in fps.items():
        print(f"  {key:16s} {value:7.1f} frames/s")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
