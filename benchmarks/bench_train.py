"""Training steps per second: fp32 against bf16 autocast, the memory layout, and ``"auto"``.

For each architecture the same random batch goes through
:func:`aurora_xr.model.optimisation.train_step` (forward, BCE + Dice loss,
backward, AdamW step) in fp32 (the baseline) and under bf16 autocast. The
ratio bf16/fp32 is the speed-up that ``train(precision="auto")`` gets where
the device computes bf16 natively (a CPU with AVX512-BF16 or AMX, a recent
GPU); elsewhere ``"auto"`` stays in fp32, because emulated bf16 is slower.
Each precision runs in the default (contiguous) layout and in the
channels-last layout that :func:`aurora_xr.model.train` uses; the baseline is
fp32, contiguous.

The last line printed is one JSON object: the rows and, per architecture,
``auto_over_fp32`` (the channels-last layout and the precision ``"auto"``
picks, against fp32 contiguous).

Usage::

    python benchmarks/bench_train.py --quick                           # < 3 minutes
    python benchmarks/bench_train.py                                   # fcn_resnet50, 128 px
    python benchmarks/bench_train.py --archs lraspp_mobilenet_v3_large --size 192
    python benchmarks/bench_train.py --device cuda --batch-size 16 --json out.json

Weights are random (the speed does not depend on them); nothing is downloaded.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

import torch

from aurora_xr.model import build_model
from aurora_xr.model.devices import native_bf16, resolve_device, resolve_precision
from aurora_xr.model.optimisation import train_step


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bench(
    arch: str, *, size: int, batch_size: int, steps: int, warmup: int, device: str
) -> list[dict[str, Any]]:
    dev = resolve_device(device)
    gen = torch.Generator().manual_seed(0)
    plain = torch.randn(batch_size, 3, size, size, generator=gen).to(dev)
    target = (torch.rand(batch_size, 1, size, size, generator=gen) > 0.9).float().to(dev)
    rows = []
    for precision, layout in (
        ("fp32", "contiguous"),
        ("fp32", "channels_last"),
        ("bf16", "contiguous"),
        ("bf16", "channels_last"),
    ):
        torch.manual_seed(0)
        model = build_model(arch).to(dev)
        inputs = plain
        if layout == "channels_last":
            model = model.to(memory_format=torch.channels_last)
            inputs = plain.contiguous(memory_format=torch.channels_last)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
        for _ in range(warmup):
            train_step(model, opt, inputs, target, precision=precision)
        _sync(dev)
        losses = []
        t0 = time.perf_counter()
        for _ in range(steps):
            losses.append(train_step(model, opt, inputs, target, precision=precision))
        _sync(dev)
        seconds = time.perf_counter() - t0
        rows.append(
            {
                "arch": arch,
                "precision": precision,
                "layout": layout,
                "size": size,
                "batch_size": batch_size,
                "steps": steps,
                "seconds": round(seconds, 3),
                "frames_per_s": round(steps * batch_size / seconds, 2),
                "final_loss": round(losses[-1], 4),
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", nargs="+", default=["fcn_resnet50"])
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    parser.add_argument("--json", default=None, help="also write the rows to this file")
    parser.add_argument("--quick", action="store_true", help="LR-ASPP, 96 px, 3 steps")
    args = parser.parse_args(argv)
    if args.quick:
        args.archs, args.size, args.steps, args.warmup = ["lraspp_mobilenet_v3_large"], 96, 3, 1
    if args.threads:
        torch.set_num_threads(args.threads)
    dev = resolve_device(args.device)
    print(
        f"device {dev}, {torch.get_num_threads()} threads, native bf16: {native_bf16(dev)}, "
        f"precision='auto' trains in {resolve_precision('auto', dev)}"
    )
    rows: list[dict[str, Any]] = []
    auto = resolve_precision("auto", dev, training=True)
    ratios: dict[str, float] = {}
    for arch in args.archs:
        got = bench(
            arch,
            size=args.size,
            batch_size=args.batch_size,
            steps=args.steps,
            warmup=args.warmup,
            device=args.device,
        )
        base = got[0]["frames_per_s"]
        for row in got:
            row["ratio_vs_fp32"] = round(row["frames_per_s"] / base, 2)
            print(
                f"{row['arch']:<28} {row['precision']:<5} {row['layout']:<13} {row['size']} px  "
                f"batch {row['batch_size']}: {row['frames_per_s']:7.2f} frames/s  "
                f"x{row['ratio_vs_fp32']:.2f} vs fp32 contiguous  (loss {row['final_loss']})"
            )
        rows += got
        chosen = next(r for r in got if r["precision"] == auto and r["layout"] == "channels_last")
        ratios[arch] = chosen["ratio_vs_fp32"]
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    summary = {
        "benchmark": "bench_train",
        "device": str(dev),
        "threads": torch.get_num_threads(),
        "load_average": load,
        "auto_precision": auto,
        "auto_over_fp32": ratios,
        "rows": rows,
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
