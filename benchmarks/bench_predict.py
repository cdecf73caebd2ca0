"""Frames per second of the predictor: ``precision="auto"`` against fp32, and what it costs in IoU.

Speed (random weights: the speed does not depend on them). The same uint8 frames
go through

* the predictor in fp32, eager, default layout: the **baseline**;
* the predictor with ``precision="auto"``: on a CPU with bf16 units, bf16
  autocast with channels-last activations; on CUDA, bf16 (fp16 without bf16)
  with channels-last and pinned, prefetched batches;
* optionally (``--compile``) the same through ``torch.compile``;

and, with ``--layouts``, to show what each ingredient gives, the bare network
forward on preprocessed tensors in fp32/bf16 x contiguous/channels-last.
``auto_over_fp32`` = predictor auto frames/s / predictor fp32 frames/s (goal >= 2
at 256 x 256 on a CPU with bf16 units).

Quality. A small network (LR-ASPP, 64 x 64) is trained on synthetic nights and
scored on synthetic nights of other seeds in fp32 and in ``"auto"``:
``iou_delta`` = IoU(auto) - IoU(fp32) (goal: |delta| <= 0.005).

Usage::

    python benchmarks/bench_predict.py --quick            # < 3 minutes on 2 cores
    python benchmarks/bench_predict.py --arch lraspp_mobilenet_v3_large --size 512
    python benchmarks/bench_predict.py --device cuda --batch-size 32 --frames 256

The last line printed is one JSON object with the figures and ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from aurora_xr.model import CheckpointMetadata, Predictor, build_model, save_checkpoint
from aurora_xr.model.devices import autocast, native_bf16, resolve_device, resolve_plan
from aurora_xr.model.preprocess import Preprocessing, preprocess_frames


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _best_of(fns: dict[str, Callable[[], None]], repeats: int) -> dict[str, float]:
    """Best wall time of each function, the repeats interleaved so that load hits all alike."""
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


def speed(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    dev = resolve_device(args.device)
    torch.manual_seed(0)
    model = build_model(args.arch).eval()
    prep = Preprocessing()
    path = save_checkpoint(
        model, workdir / "speed.safetensors", CheckpointMetadata(args.arch, preprocessing=prep)
    )
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (args.frames, args.size, args.size, 3), dtype=np.uint8)
    options = {"device": str(dev), "batch_size": args.batch_size}
    predictors = {
        "fp32": Predictor(path, precision="fp32", **options).load(),
        "auto": Predictor(path, precision="auto", **options).load(),
    }
    if args.compile:
        predictors["auto_compiled"] = Predictor(
            path, precision="auto", compile=True, **options
        ).load()
    for name, pred in predictors.items():  # warm up (and compile)
        t0 = time.perf_counter()
        pred(frames[: args.batch_size])
        print(f"  warm-up {name}: {time.perf_counter() - t0:.1f} s", flush=True)
    fns: dict[str, Callable[[], None]] = {}
    for name, pred in predictors.items():

        def run(pred: Predictor = pred) -> None:
            pred(frames)
            _sync(dev)

        fns[f"predictor_{name}"] = run
    inputs = torch.from_numpy(preprocess_frames(frames, prep)).to(dev)
    precisions = ("fp32", "bf16") if native_bf16(dev) or dev.type == "cuda" else ("fp32",)
    for precision in precisions if args.layouts else ():
        for layout in ("contiguous", "channels_last"):
            net = build_model(args.arch).eval().to(dev)
            net.load_state_dict(model.state_dict())
            x = inputs
            if layout == "channels_last":
                net = net.to(memory_format=torch.channels_last)
                x = inputs.contiguous(memory_format=torch.channels_last)

            def forward(net: Any = net, x: torch.Tensor = x, precision: str = precision) -> None:
                with torch.inference_mode(), autocast(dev, precision):
                    for start in range(0, len(x), args.batch_size):
                        net(x[start : start + args.batch_size])["out"]
                _sync(dev)

            forward()
            fns[f"forward_{precision}_{layout}"] = forward
    best = _best_of(fns, args.repeats)
    fps = {name: args.frames / seconds for name, seconds in best.items()}
    base = fps["predictor_fp32"]
    for name, value in fps.items():
        print(f"  {name:<30s} {value:8.2f} frames/s   x{value / base:5.2f} vs predictor fp32")
    plan = resolve_plan(dev, "auto")
    return {
        "fps": {k: round(v, 3) for k, v in fps.items()},
        "auto_plan": {"precision": plan.precision, "channels_last": plan.channels_last},
        "auto_over_fp32": round(fps["predictor_auto"] / base, 3),
        "compiled_over_auto": (
            round(fps["predictor_auto_compiled"] / fps["predictor_auto"], 3)
            if "predictor_auto_compiled" in fps
            else None
        ),
    }


def quality(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from aurora_xr.datasets import synthetic_nights
    from aurora_xr.model import evaluate, train

    t0 = time.perf_counter()
    nights = synthetic_nights(args.train_frames, 4, first_seed=0, size=64, activity=3.0)
    tests = synthetic_nights(args.test_frames, 4, first_seed=100, size=64, activity=3.0)
    run = train(
        nights,
        arch="lraspp_mobilenet_v3_large",
        out_dir=workdir / "quality",
        epochs=10,
        batch_size=8,
        image_size=64,
        split=(0.85, 0.15, 0.0),
        lr=5e-3,
        augment=False,
        patience=None,
        progress=False,
        seed=0,
    )
    ious = {
        precision: evaluate(
            Predictor(run.best_checkpoint, device=args.device, precision=precision),
            tests,
            split="all",
        ).pixel["iou"]
        for precision in ("fp32", "auto")
    }
    delta = ious["auto"] - ious["fp32"]
    print(
        f"  quality: LR-ASPP 64 px trained in {time.perf_counter() - t0:.0f} s; pixel IoU on "
        f"{args.test_frames} test frames fp32 {ious['fp32']:.4f}, auto {ious['auto']:.4f}, "
        f"delta {delta:+.4f} (goal |delta| <= 0.005)"
    )
    return {"iou_fp32": round(ious["fp32"], 5), "iou_auto": round(ious["auto"], 5)} | {
        "iou_delta": round(delta, 5)
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="fcn_resnet50")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--compile", action="store_true", help="also measure torch.compile")
    parser.add_argument("--train-frames", type=int, default=80)
    parser.add_argument("--test-frames", type=int, default=48)
    parser.add_argument("--no-quality", action="store_true", help="skip the IoU check")
    parser.add_argument(
        "--layouts", action="store_true", help="also time the bare forward per precision/layout"
    )
    parser.add_argument("--quick", action="store_true", help="fewer frames, repeats, no layouts")
    parser.add_argument("--json", type=Path, default=None, help="also write the result here")
    args = parser.parse_args(argv)
    if args.quick:
        args.frames, args.repeats, args.train_frames, args.test_frames = 8, 2, 64, 24
    if args.threads:
        torch.set_num_threads(args.threads)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    print(
        f"{args.arch} {args.size}x{args.size}, {args.frames} frames, batch {args.batch_size}, "
        f"device {args.device}, {torch.get_num_threads()} torch threads, native bf16: "
        f"{native_bf16(resolve_device(args.device))}, load average {load}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        result: dict[str, Any] = {
            "benchmark": "bench_predict",
            "arch": args.arch,
            "size": args.size,
            "frames": args.frames,
            "batch_size": args.batch_size,
            "device": args.device,
            "threads": torch.get_num_threads(),
            "load_average": load,
        }
        result |= speed(args, Path(tmp))
        if not args.no_quality:
            result |= quality(args, Path(tmp))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
