"""Frames per second of the aurora predictor vs the plain torch forward.

For each architecture and batch size, the same frames go through

* the predictor (numpy uint8 frames in, float32 probabilities out at the frame
  size: preprocessing, forward, sigmoid, masking outside the lens), and
* the baseline: the network's forward alone on already preprocessed tensors
  (``torch.inference_mode``),

and the ratio predictor/baseline shows what the numpy in/out costs.

Usage::

    python benchmarks/bench_predict.py                       # 256x256, fcn + lraspp, 1/4/8
    python benchmarks/bench_predict.py --frames 8 --archs lraspp_mobilenet_v3_large
    python benchmarks/bench_predict.py --device cuda --precision bf16 --json out.json

Weights are random (the speed does not depend on them); nothing is downloaded.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from aurora_xr.model import (
    CheckpointMetadata,
    Predictor,
    Preprocessing,
    build_model,
    save_checkpoint,
)
from aurora_xr.model.predict import _autocast, resolve_device
from aurora_xr.model.preprocess import preprocess_frames
from aurora_xr.sky.lens import Calibration


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _time(fn: Any, repeats: int) -> float:
    """Best wall time of ``repeats`` calls (seconds)."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def bench(
    arch: str,
    *,
    size: int,
    n_frames: int,
    batch_sizes: list[int],
    repeats: int,
    device: str,
    precision: str,
    workdir: Path,
) -> list[dict[str, Any]]:
    dev = resolve_device(device)
    torch.manual_seed(0)
    model = build_model(arch).eval()
    cal = Calibration(
        width=size,
        height=size,
        zenith_x=(size - 1) / 2,
        zenith_y=(size - 1) / 2,
        lens_radius=size * 0.47,
    )
    meta = CheckpointMetadata(architecture=arch, preprocessing=Preprocessing())
    path = save_checkpoint(model, workdir / f"{arch}.safetensors", meta)
    frames = np.random.default_rng(0).integers(0, 256, (n_frames, size, size, 3), dtype=np.uint8)
    module = model.to(dev)
    inputs = torch.from_numpy(preprocess_frames(frames, meta.preprocessing)).to(dev)
    rows = []
    for bs in batch_sizes:
        pred = Predictor(
            path, device=str(dev), precision=precision, batch_size=bs, calibration=cal
        ).load()
        pred(frames[:bs])  # warm-up

        def baseline(bs: int = bs) -> None:
            with torch.inference_mode(), _autocast(dev, precision):
                for start in range(0, n_frames, bs):
                    module(inputs[start : start + bs])["out"]
            _sync(dev)

        def through_predictor(pred: Predictor = pred) -> None:
            pred(frames)
            _sync(dev)

        baseline()  # warm-up
        t_base = t_pred = float("inf")
        for _ in range(repeats):  # interleaved, so that load changes hit both alike
            t_base = min(t_base, _time(baseline, 1))
            t_pred = min(t_pred, _time(through_predictor, 1))
        rows.append(
            {
                "arch": arch,
                "size": size,
                "batch_size": bs,
                "frames": n_frames,
                "device": str(dev),
                "precision": precision,
                "threads": torch.get_num_threads(),
                "predictor_fps": n_frames / t_pred,
                "baseline_fps": n_frames / t_base,
                "ratio": t_base / t_pred,
            }
        )
        print(
            f"{arch:28s} bs={bs:<2d} predictor {n_frames / t_pred:7.2f} frames/s   "
            f"forward {n_frames / t_base:7.2f} frames/s   ratio {t_base / t_pred:5.2f}",
            flush=True,
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", nargs="+", default=["fcn_resnet50", "lraspp_mobilenet_v3_large"])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", default="fp32")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for arch in args.archs:
            rows += bench(
                arch,
                size=args.size,
                n_frames=args.frames,
                batch_sizes=args.batch_sizes,
                repeats=args.repeats,
                device=args.device,
                precision=args.precision,
                workdir=Path(tmp),
            )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
