"""The end of a training run: its best checkpoint scored, the report, the result.

After the epochs, :func:`~aurora_xr.model.train` loads the best checkpoint, scores it on
every part of the split and writes the report (:mod:`aurora_xr.model.train_report`), or,
with ``report=False``, on the test frames only; records the test scores (and the
image-level scores) in the checkpoint's metadata; and returns a :class:`TrainResult`,
also written to ``history.json``.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .build import build_model
from .checkpoint import file_checksum, read_metadata, read_tensors, save_checkpoint
from .evaluation import evaluate_frames
from .image_rule import MIN_FRACTION
from .image_truth import ImageTruth
from .predictor import Predictor
from .train_report import TrainReport, write_train_report
from .training_run import TrainingRun

__all__ = ["TrainResult", "finish_run", "score_best_checkpoint"]


@dataclass
class TrainResult:
    """What :func:`~aurora_xr.model.train` did.

    Attributes
    ----------
    best_checkpoint : pathlib.Path
        Checkpoint with the best validation IoU.
    last_checkpoint : pathlib.Path
        Checkpoint after the last epoch run.
    history : list of dict
        Per epoch: train loss, validation scores, learning rate, seconds.
    best_epoch : int or None
        Epoch (from 1) of the best checkpoint.
    best_val_iou : float or None
        Its validation IoU (None without validation frames).
    test_metrics : dict or None
        Pixel scores of the best checkpoint on the test frames.
    stopped : str
        ``"completed"``, ``"early_stopping"`` or ``"max_steps"``.
    out_dir : pathlib.Path
    split_sizes : (int, int, int)
        Frames in train, validation, test.
    data_checksum : str
        SHA-256 of the training data.
    steps : int
        Optimizer steps taken in the whole run.
    split : str
        How the frames were split (by night, by frame, ...), in words.
    report : dict or None
        The report (``report.json``: scores per part, worst frames, ...); None with
        ``report=False``.
    report_path : pathlib.Path or None
        ``report.json``.
    """

    best_checkpoint: Path
    last_checkpoint: Path
    history: list[dict[str, Any]]
    best_epoch: int | None
    best_val_iou: float | None
    test_metrics: dict[str, Any] | None
    stopped: str
    out_dir: Path
    split_sizes: tuple[int, int, int]
    data_checksum: str
    steps: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    split: str = ""
    report: dict[str, Any] | None = None
    report_path: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary."""
        out = asdict(self)
        for key in ("best_checkpoint", "last_checkpoint", "out_dir", "report_path"):
            out[key] = None if out[key] is None else str(out[key])
        out["split_sizes"] = list(self.split_sizes)
        return out


def _best_network(setup: TrainingRun) -> tuple[Any, Any, Predictor]:
    """The best checkpoint's network, metadata and a predictor on it."""
    best_path = setup.best_path
    model = build_model(setup.options.arch)
    tensors, _, _ = read_tensors(best_path)
    model.load_state_dict(tensors)
    meta = read_metadata(best_path)
    predictor = Predictor.from_model(
        model,
        metadata=meta,
        device=str(setup.device),
        precision="fp32" if setup.precision == "fp32" else "bf16",
        batch_size=setup.options.batch_size,
    )
    return model, meta, predictor


def score_best_checkpoint(
    setup: TrainingRun,
    *,
    report: bool,
    image_fraction: float = MIN_FRACTION,
    image_truth: ImageTruth | None = None,
    n_worst: int = 8,
) -> tuple[dict[str, Any] | None, TrainReport | None]:
    """Score the best checkpoint, record the scores in it; the test scores and the report.

    With ``report``, every part is scored and the report written
    (:func:`~aurora_xr.model.train_report.write_train_report`); else only the test frames.
    """
    if not setup.best_path.is_file():
        return None, None
    data = setup.data
    if not report and not len(data.test):
        return None, None
    model, meta, predictor = _best_network(setup)
    metrics = dict(meta.metrics)
    written: TrainReport | None = None
    if report:
        written = write_train_report(
            predictor,
            data.source,
            data.split,
            setup.out,
            threshold=setup.options.threshold,
            image_fraction=image_fraction,
            image_truth=image_truth,
            batch_size=setup.options.batch_size,
            n_worst=n_worst,
            info=_report_info(setup, meta),
        )
        test_part = written.parts.get("test")
        test_metrics = None if not test_part else test_part["pixel"]
        metrics["image_level"] = {
            name: (part or {}).get("image") for name, part in written.parts.items()
        }
    else:
        result = evaluate_frames(
            predictor,
            data.source,
            data.test.tolist(),
            threshold=setup.options.threshold,
            batch_size=setup.options.batch_size,
        )
        test_metrics = result.pixel
    if test_metrics is not None:
        metrics["test"] = test_metrics
    save_checkpoint(model, setup.best_path, meta.replace(metrics=metrics))
    if written is not None:
        written.info["checkpoint_sha256"] = file_checksum(setup.best_path)
        written.path = _write_json(setup.out / "report.json", written.to_dict())
    return test_metrics, written


def _report_info(setup: TrainingRun, meta: Any) -> dict[str, Any]:
    info: dict[str, Any] = {
        "checkpoint": str(setup.best_path),
        "architecture": setup.options.arch,
        "best_epoch": meta.extra.get("epoch"),
        "validation_iou_at_input_size": (meta.metrics.get("val") or {}).get("iou"),
        "training_data_checksum": setup.data.checksum,
        "threshold": setup.options.threshold,
    }
    if "labels" in meta.extra:
        info["labels"] = meta.extra["labels"]
    if setup.options.init is not None:
        info["init"] = setup.options.init.to_dict()
    return info


def finish_run(
    setup: TrainingRun,
    run: dict[str, Any],
    stopped: str,
    test_metrics: dict[str, Any] | None,
    report: TrainReport | None,
) -> TrainResult:
    """The result of the run, also written to ``history.json``."""
    outcome = TrainResult(
        best_checkpoint=setup.best_path,
        last_checkpoint=setup.last_path,
        history=list(run["history"]),
        best_epoch=run["best_epoch"],
        best_val_iou=run["best_iou"],
        test_metrics=test_metrics,
        stopped=stopped,
        out_dir=setup.out,
        split_sizes=setup.data.sizes,
        data_checksum=setup.data.checksum,
        steps=run["steps"],
        split=setup.data.split.describe(),
        report=None if report is None else report.to_dict(),
        report_path=None if report is None else report.path,
    )
    _write_json(setup.out / "history.json", outcome.to_dict())
    return outcome


def _write_json(path: Path, data: Any) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=1, default=str))
    os.replace(tmp, path)
    return path
