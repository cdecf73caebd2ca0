"""Fine-tune a segmentation network on labelled all-sky frames.

:func:`train` reads frames and masks from a folder or an image cube, a batch
at a time; splits them with the seeded 1201/150/151 proportions; augments
with rotations and mirrors about the zenith and a brightness/contrast jitter;
minimises BCE + Dice inside the lens circle with AdamW and a one-cycle (or
cosine) schedule; scores the validation frames (IoU, F1, ...) after every
epoch; keeps the best checkpoint; stops early; and resumes an interrupted run
from its last state. Everything is written without pickle (safetensors +
JSON).

:func:`train` is a short pipeline: check the options and split the data
(:mod:`~aurora_xr.model.training_run`), set up the network, optimiser and
schedule, start or resume the run (:mod:`~aurora_xr.model.train_state`), run
the epochs (:mod:`~aurora_xr.model.epochs`), score the best checkpoint on the
test frames, and write the result.

Files in ``out_dir``
--------------------
``best.safetensors``
    The checkpoint with the best validation IoU (its metadata holds the
    validation metrics and, at the end, the test metrics).
``last.safetensors``
    The checkpoint after the last epoch.
``train_state.safetensors``
    Weights, AdamW moments and RNG state (tensors) plus epoch, step,
    scheduler, history and options (JSON in the header): what a resumed run
    needs.
``history.json``
    One row per epoch, and the final result.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..sky.lens import Calibration
from .augment import Augmentation
from .build import build_model
from .checkpoint import read_metadata, read_tensors, save_checkpoint
from .data import DEFAULT_SPLIT, open_source
from .devices import resolve_device, resolve_precision
from .epochs import run_epochs
from .evaluation import evaluate_frames
from .predictor import Predictor
from .train_state import start_run
from .training_run import TrainingRun, set_up_run, split_data, train_options

__all__ = ["TrainResult", "train"]


@dataclass
class TrainResult:
    """What :func:`train` did.

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

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary."""
        out = asdict(self)
        for key in ("best_checkpoint", "last_checkpoint", "out_dir"):
            out[key] = str(out[key])
        out["split_sizes"] = list(self.split_sizes)
        return out


def train(
    source: Any,
    *,
    arch: str = "fcn_resnet50",
    out_dir: str | os.PathLike[str],
    epochs: int = 20,
    batch_size: int = 8,
    lr: float = 3e-4,
    weight_decay: float = 1e-4,
    image_size: int | tuple[int, int] = 256,
    split: Sequence[float] = DEFAULT_SPLIT,
    seed: int = 0,
    augment: bool | str | Augmentation = True,
    pretrained: str | os.PathLike[str] | None = None,
    patience: int | None = 5,
    resume: bool = True,
    progress: bool = True,
    max_steps: int | None = None,
    contrast_ratio: float = 1.0,
    levels: str = "robust",
    schedule: str = "onecycle",
    dice_weight: float = 1.0,
    threshold: float = 0.5,
    bn_momentum: float | None = 0.1,
    device: str = "auto",
    precision: str = "fp32",
    num_threads: int | None = None,
    calibration: Calibration | None = None,
    image_var: str = "image",
    truth_var: str = "aurora_truth",
    time_dim: str = "time",
    y_dim: str = "y",
    x_dim: str = "x",
    channel_dim: str = "channel",
) -> TrainResult:
    """Train an aurora segmentation network; keep the best checkpoint.

    Parameters
    ----------
    source : path or xarray.Dataset
        A folder of ``<name>_rgb.png`` frames with ``<name>_mask.png`` beside
        them, or an image cube with ``aurora_truth`` (read per batch); colour
        or single-channel frames, 8- or 16-bit.
    arch : str
        Architecture (see :data:`~aurora_xr.model.ARCHITECTURES`).
    out_dir : path
        Where checkpoints, the training state and the history go.
    epochs, batch_size, lr, weight_decay : numbers
        Schedule length, frames per step, peak learning rate and AdamW
        weight decay.
    image_size : int or (int, int)
        Network input size (frames are resized to it; stored in the checkpoint).
    split : 3 numbers
        Train/validation/test proportions (default 1201/150/151), split with
        ``seed``.
    seed : int
        Seeds the split, the initialisation, the batch order and the
        augmentation: a run is reproducible.
    augment : bool, str or Augmentation
        ``True`` (the ``"basic"`` recipe: rotation and mirror about the zenith,
        brightness/contrast jitter), ``"real_sky"`` (the basic recipe plus the
        domain randomisation for real cameras: colour, levels, gamma, noise,
        resolution, JPEG, grey frames), an :class:`Augmentation`, or ``False``;
        see :mod:`aurora_xr.model.augment`.
    pretrained : None, "coco", "imagenet" or path
        Initial weights (see :func:`~aurora_xr.model.build_model`).
    patience : int or None
        Stop after this many epochs without a better validation IoU.
    resume : bool
        Continue the run in ``out_dir`` from its last state, if any (the
        options must match); False starts afresh.
    progress : bool
        tqdm progress bars.
    max_steps : int, optional
        Stop after this many optimizer steps in all (the state is saved, so
        a later call resumes from there).
    contrast_ratio : float
        The uniform contrast ratio of the preprocessing.
    levels : {"robust", "dtype"}
        How raw frames come to [0, 1]: the robust per-frame black and white
        levels (any camera, 8 or 16 bits) or the dtype's maximum (as
        checkpoints were trained before levels existed); see
        :mod:`aurora_xr.model.preprocess`. Recorded in the checkpoint.
    schedule : {"onecycle", "cosine", "constant"}
        Learning-rate schedule, stepped every batch.
    dice_weight : float
        Weight of the Dice term added to the BCE.
    threshold : float
        Probability threshold stored in the checkpoint and used for the scores.
    bn_momentum : float or None
        Momentum of every BatchNorm layer's running statistics. 0.1 (the
        PyTorch default) lets the statistics follow a short fine-tune; the
        MobileNetV3 networks come with 0.01, whose statistics lag far behind
        in short runs (evaluation-mode outputs then go flat). None keeps the
        architecture's own.
    device, precision, num_threads :
        Where to train (``"auto"``: CUDA when available), ``"fp32"`` or
        ``"bf16"`` autocast (``"auto"``: bf16 where the device computes it
        natively, a GPU with bf16 or a CPU with AVX512-BF16 or AMX, where it
        about doubles the speed; fp32 elsewhere), and torch's CPU thread count.
    calibration : Calibration, optional
        Lens circle for a folder without ``lens_mask.png``.
    image_var, truth_var, time_dim, y_dim, x_dim, channel_dim : str
        Names in a cube source.

    Returns
    -------
    TrainResult
        History, best checkpoint path, test metrics, ...
    """
    options = train_options(
        arch=arch,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        weight_decay=weight_decay,
        image_size=image_size,
        split=split,
        seed=seed,
        augment=augment,
        pretrained=pretrained,
        patience=patience,
        progress=progress,
        max_steps=max_steps,
        contrast_ratio=contrast_ratio,
        levels=levels,
        schedule=schedule,
        dice_weight=dice_weight,
        threshold=threshold,
        bn_momentum=bn_momentum,
        precision=precision,
    )
    dev, precision = _device_and_precision(device, precision, num_threads)
    out = Path(out_dir).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    src = open_source(
        source,
        calibration=calibration,
        image_var=image_var,
        truth_var=truth_var,
        time_dim=time_dim,
        y_dim=y_dim,
        x_dim=x_dim,
        channel_dim=channel_dim,
    )
    data = split_data(src, options)
    setup = set_up_run(options, data, device=dev, precision=precision, out=out)
    run = start_run(
        setup.state_path,
        setup.model,
        setup.optimizer,
        setup.scheduler,
        setup.config,
        resume=resume,
    )
    stopped = run_epochs(setup, run)
    test_metrics = _test_best_checkpoint(setup)
    return _finish(setup, run, stopped, test_metrics)


def _device_and_precision(
    device: str, precision: str, num_threads: int | None
) -> tuple[torch.device, str]:
    """The device and the precision to train in; sets torch's CPU thread count."""
    if num_threads is not None:
        torch.set_num_threads(int(num_threads))
    dev = resolve_device(device)
    return dev, resolve_precision(precision, dev, training=True)


def _test_best_checkpoint(setup: TrainingRun) -> dict[str, Any] | None:
    """Score the best checkpoint on the test frames and record it there (None: no test)."""
    best_path = setup.best_path
    if not (len(setup.data.test) and best_path.is_file()):
        return None
    best_model = build_model(setup.options.arch)
    tensors, _, _ = read_tensors(best_path)
    best_model.load_state_dict(tensors)
    best_meta = read_metadata(best_path)
    predictor = Predictor.from_model(
        best_model,
        metadata=best_meta,
        device=str(setup.device),
        precision="fp32" if setup.precision == "fp32" else "bf16",
        batch_size=setup.options.batch_size,
    )
    result = evaluate_frames(
        predictor,
        setup.data.source,
        setup.data.test.tolist(),
        threshold=setup.options.threshold,
        batch_size=setup.options.batch_size,
    )
    test_metrics = result.pixel
    metrics = dict(best_meta.metrics)
    metrics["test"] = test_metrics
    save_checkpoint(best_model, best_path, best_meta.replace(metrics=metrics))
    return test_metrics


def _finish(
    setup: TrainingRun, run: dict[str, Any], stopped: str, test_metrics: dict[str, Any] | None
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
    )
    _write_json(setup.out / "history.json", outcome.to_dict())
    return outcome


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, path)
