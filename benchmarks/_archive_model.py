"""The segmentation model of ``bench_archive.py``.

* ``"threshold"``: :class:`~aurora_xr.detect.segmentation.ChannelThresholdPredictor` (no
  network; ``--quick`` only);
* ``"demo"``: an ``lraspp_mobilenet_v3_large`` trained here on 64-px synthetic nights (other
  seeds and dates than the archive), kept in the output folder and reused by later runs made
  with the same recipe;
* ``"reference"``: ``aurora_xr.pretrained("reference")`` when the package ships it;
* ``"auto"``: the reference model when it exists and segments 64-px frames at least
  :data:`REFERENCE_MIN_FPS` frames/s on one core (measured here), else the demo model.

Every network runs through a :class:`aurora_xr.Predictor` on the CPU with one torch thread
per process (one dask worker per core), ``precision="auto"``.
"""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import aurora_xr
from aurora_xr.detect.segmentation import ChannelThresholdPredictor

REFERENCE_MIN_FPS = 150.0
"""Slowest 64-px rate (frames/s, one core) at which the reference model runs the archive."""

DEMO_RECIPE: dict[str, Any] = {
    "arch": "lraspp_mobilenet_v3_large",
    "size": 64,
    "train_frames": 960,
    "nights": 8,
    "first_seed": 500,
    "activity": 2.0,
    "epochs": 6,
    "batch_size": 16,
    "lr": 3e-3,
    "precision": "auto",
}


def _predictor(checkpoint: Path, batch_size: int) -> Any:
    return aurora_xr.Predictor(
        checkpoint, device="cpu", precision="auto", batch_size=batch_size, num_threads=1
    )


def rate_64px(predictor: Any, frames: np.ndarray) -> float:
    """Frames/s of ``predictor`` on ``frames`` (after one warm-up call), in this process."""
    predictor(frames[: min(len(frames), 8)])
    start = time.perf_counter()
    predictor(frames)
    return float(len(frames) / (time.perf_counter() - start))


def train_demo(folder: Path, log: Callable[[str], Any] = print) -> tuple[Path, dict[str, Any]]:
    """Train (or reuse) the demo network; return its checkpoint and what the training gave."""
    record = folder / "recipe.json"
    best = folder / "best.safetensors"
    if best.exists() and record.exists():
        saved = json.loads(record.read_text())
        if saved.get("recipe") == DEMO_RECIPE:
            return best, {**saved["result"], "reused": True}
    folder.mkdir(parents=True, exist_ok=True)
    import torch

    torch.set_num_threads(2)
    r = DEMO_RECIPE
    start = time.perf_counter()
    frames = aurora_xr.synthetic_nights(
        r["train_frames"],
        r["nights"],
        first_seed=r["first_seed"],
        first_day="2017-05-20",  # a year before the archive
        size=r["size"],
        activity=r["activity"],
    )
    result = aurora_xr.train(
        frames,
        arch=r["arch"],
        out_dir=folder,
        epochs=r["epochs"],
        batch_size=r["batch_size"],
        lr=r["lr"],
        image_size=r["size"],
        precision=r["precision"],
        seed=r["first_seed"],
        resume=False,
        progress=False,
    )
    summary = {
        "arch": r["arch"],
        "train_s": round(time.perf_counter() - start, 1),
        "best_val_iou": result.best_val_iou,
        "test_iou": (result.test_metrics or {}).get("iou"),
        "steps": result.steps,
        "reused": False,
    }
    record.write_text(json.dumps({"recipe": DEMO_RECIPE, "result": summary}))
    log(f"demo model trained in {summary['train_s']} s: val IoU {summary['best_val_iou']}")
    return Path(result.best_checkpoint), summary


def choose_model(
    kind: str,
    folder: Path,
    sample: np.ndarray,
    *,
    batch_size: int,
    log: Callable[[str], Any] = print,
) -> tuple[Any, dict[str, Any]]:
    """The predictor for ``kind`` and a record of the choice (with its measured 64-px rate)."""
    if kind == "threshold":
        pred = ChannelThresholdPredictor()
        return pred, {"model": "threshold", "fps_64px_1core": rate_64px(pred, sample)}
    info: dict[str, Any] = {}
    if kind in ("auto", "reference"):
        try:
            loader = importlib.import_module("aurora_xr.pretrained").pretrained
        except ImportError:
            if kind == "reference":
                raise SystemExit("no aurora_xr.pretrained here: use --model demo") from None
            info["reference"] = "aurora_xr.pretrained does not exist in this version"
        else:
            pred = loader(
                "reference", device="cpu", precision="auto", batch_size=batch_size, num_threads=1
            )
            fps = rate_64px(pred, sample)
            info["reference_fps_64px_1core"] = round(fps, 1)
            info["reference_input_size"] = pred.preprocessing.input_size
            if kind == "reference" or fps >= REFERENCE_MIN_FPS:
                return pred, {**info, "model": "reference", "checkpoint": str(pred.path)}
            info["reference"] = f"{fps:.0f} frames/s < {REFERENCE_MIN_FPS:.0f}: too slow here"
    checkpoint, trained = train_demo(folder, log)
    pred = _predictor(checkpoint, batch_size)
    fps = rate_64px(pred, sample)
    return pred, {
        **info,
        "model": "demo",
        "checkpoint": str(checkpoint),
        "training": trained,
        "fps_64px_1core": round(fps, 1),
    }
