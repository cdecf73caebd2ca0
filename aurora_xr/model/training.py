"""Fine-tune a segmentation network on labelled all-sky frames.

:func:`train` reads frames and masks from a folder or an image cube, a batch
at a time; splits them with the seeded 1201/150/151 proportions; augments
with rotations and mirrors about the zenith and a brightness/contrast jitter;
minimises BCE + Dice inside the lens circle with AdamW and a one-cycle (or
cosine) schedule; scores the validation frames (IoU, F1, ...) after every
epoch; keeps the best checkpoint; stops early; and resumes an interrupted run
from its last state. Everything is written without pickle (safetensors +
JSON).

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
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray
from torch import nn

from ..errors import CheckpointError, OptionError
from ..sky.lens import Calibration
from .augment import Augmentation, augment_batch
from .build import build_model, get_architecture
from .checkpoint import (
    CheckpointMetadata,
    read_metadata,
    read_tensors,
    save_checkpoint,
    save_tensors,
)
from .data import DEFAULT_SPLIT, FrameSource, open_source, split_indices
from .evaluation import evaluate_frames
from .metrics import confusion_counts, scores
from .predict import PRECISIONS, Predictor, _autocast, resolve_device, resolve_precision
from .preprocess import Preprocessing, _as_size, lens_circle_from_mask, prepare_frames, resize_mask

__all__ = ["SCHEDULES", "TrainResult", "segmentation_loss", "train", "train_step"]

SCHEDULES = ("onecycle", "cosine", "constant")
_STATE_KEY = "aurora_xr_train_state"


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


# -- loss and one step ---------------------------------------------------------------
def segmentation_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor | None = None,
    *,
    dice_weight: float = 1.0,
) -> torch.Tensor:
    """BCE + ``dice_weight`` x soft Dice loss, inside ``weight`` (the lens circle).

    Parameters
    ----------
    logits, target : (n, 1, H, W) tensors
        Network logits and truth in {0, 1}.
    weight : (n, 1, H, W) tensor, optional
        1 where pixels count, 0 elsewhere (outside the lens circle).
    dice_weight : float
        Weight of the Dice term; the Dice is pooled over the batch so that
        frames without aurora are handled.
    """
    logits = logits.float()
    target = target.float()
    w = torch.ones_like(target) if weight is None else weight.float()
    area = w.sum().clamp_min(1.0)
    bce = F.binary_cross_entropy_with_logits(logits, target, weight=w, reduction="sum") / area
    if dice_weight == 0:
        return bce
    prob = torch.sigmoid(logits) * w
    truth = target * w
    dice = 1.0 - (2.0 * (prob * truth).sum() + 1.0) / (prob.sum() + truth.sum() + 1.0)
    return bce + dice_weight * dice


def train_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    inputs: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor | None = None,
    *,
    dice_weight: float = 1.0,
    precision: str = "fp32",
) -> float:
    """One optimisation step on a batch; returns the loss before the step."""
    model.train()
    optimizer.zero_grad(set_to_none=True)
    with _autocast(inputs.device, precision):
        logits = model(inputs)["out"]
    loss = segmentation_loss(logits, target, weight, dice_weight=dice_weight)
    loss.backward()
    optimizer.step()
    return float(loss.detach())


# -- data to tensors -----------------------------------------------------------------
@dataclass(frozen=True)
class _Prepared:
    """A batch at the network input size, in [0, 1], as tensors."""

    images: torch.Tensor  # (n, 3, h, w)
    masks: torch.Tensor  # (n, 1, h, w)
    weights: torch.Tensor  # (n, 1, h, w)


def _prepare(
    source: FrameSource,
    indices: Sequence[int],
    prep: Preprocessing,
    lens_small: NDArray[np.bool_] | None,
    device: torch.device,
) -> _Prepared:
    frames, truth = source.read(indices)
    unit, _ = prepare_frames(frames, prep, lens_mask=source.lens_mask)
    size = unit.shape[1:3]
    masks = resize_mask(truth, size) if truth.shape[1:3] != size else truth
    n = unit.shape[0]
    if lens_small is not None:
        masks = masks & lens_small[None]
        weight = np.broadcast_to(lens_small[None], (n, *size)).astype(np.float32)
    else:
        weight = np.ones((n, *size), dtype=np.float32)
    return _Prepared(
        images=torch.from_numpy(unit).permute(0, 3, 1, 2).contiguous().to(device),
        masks=torch.from_numpy(masks.astype(np.float32))[:, None].to(device),
        weights=torch.from_numpy(weight)[:, None].to(device),
    )


def _normalize(images: torch.Tensor, prep: Preprocessing) -> torch.Tensor:
    mean = torch.tensor(prep.mean, dtype=images.dtype, device=images.device).view(1, 3, 1, 1)
    std = torch.tensor(prep.std, dtype=images.dtype, device=images.device).view(1, 3, 1, 1)
    return (images - mean) / std


def _network_input(images: torch.Tensor, prep: Preprocessing) -> torch.Tensor:
    """Normalised images in the channels-last layout of the network's weights."""
    return _normalize(images, prep).contiguous(memory_format=torch.channels_last)


def _batches(indices: NDArray[np.int64], batch_size: int) -> list[list[int]]:
    chunks = [indices[i : i + batch_size].tolist() for i in range(0, len(indices), batch_size)]
    if len(chunks) > 1 and len(chunks[-1]) == 1 and batch_size > 1:
        chunks.pop()  # BatchNorm cannot train on a single frame
    return chunks


def _validate(
    model: nn.Module,
    source: FrameSource,
    indices: NDArray[np.int64],
    prep: Preprocessing,
    lens_small: NDArray[np.bool_] | None,
    *,
    device: torch.device,
    precision: str,
    batch_size: int,
    threshold: float,
) -> dict[str, Any]:
    """Pixel scores at the network input size on ``indices``."""
    model.eval()
    counts = np.zeros(4, dtype=np.int64)
    with torch.inference_mode():
        for start in range(0, len(indices), batch_size):
            part = indices[start : start + batch_size].tolist()
            batch = _prepare(source, part, prep, lens_small, device)
            with _autocast(device, precision):
                logits = model(_network_input(batch.images, prep))["out"]
            pred = (torch.sigmoid(logits.float()) >= threshold).cpu().numpy()[:, 0]
            truth = batch.masks.cpu().numpy()[:, 0] >= 0.5
            valid = batch.weights.cpu().numpy()[:, 0] >= 0.5
            counts += confusion_counts(pred, truth, valid)
    return scores(*(int(c) for c in counts))


# -- resumable state -----------------------------------------------------------------
def _save_state(
    path: Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    info: dict[str, Any],
) -> None:
    tensors: dict[str, torch.Tensor] = {f"model.{k}": v for k, v in model.state_dict().items()}
    opt = optimizer.state_dict()
    scalars: dict[str, dict[str, Any]] = {}
    for idx, entry in opt["state"].items():
        for name, value in entry.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim.{idx}.{name}"] = value
            else:
                scalars.setdefault(str(idx), {})[name] = value
    tensors["rng.torch"] = torch.get_rng_state()
    state = dict(info)
    state["optimizer"] = {"param_groups": opt["param_groups"], "scalars": scalars}
    state["scheduler"] = None if scheduler is None else scheduler.state_dict()
    save_tensors(tensors, path, {_STATE_KEY: json.dumps(state)})


def _load_state(
    path: Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    config: dict[str, Any],
) -> dict[str, Any]:
    """Restore a saved run into the objects, after checking it was made with ``config``."""
    tensors, meta, _ = read_tensors(path)
    if _STATE_KEY not in meta:
        raise CheckpointError(f"{path} is not an aurora_xr training state")
    state: dict[str, Any] = json.loads(meta[_STATE_KEY])
    if state.get("config") != config:  # before any tensor is loaded into a model it may not fit
        saved = state.get("config") or {}
        diff = sorted(k for k in config if saved.get(k) != config[k])
        raise OptionError(
            f"{path.parent} holds a run with other options ({', '.join(diff)}); pass "
            "resume=False to start afresh or use another out_dir"
        )
    try:
        model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    except RuntimeError as exc:  # tensors of the wrong shape: a damaged or foreign state
        reason = " ".join(str(exc).split())[:300]
        raise CheckpointError(f"{path} does not fit the network: {reason}") from exc
    opt_state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, idx, name = key.split(".", 2)
            opt_state.setdefault(int(idx), {})[name] = value  # load_state_dict places it
    for idx, entry in state["optimizer"]["scalars"].items():
        opt_state.setdefault(int(idx), {}).update(entry)
    optimizer.load_state_dict(
        {"state": opt_state, "param_groups": state["optimizer"]["param_groups"]}
    )
    if scheduler is not None and state.get("scheduler") is not None:
        scheduler.load_state_dict(state["scheduler"])
    torch.set_rng_state(tensors["rng.torch"])
    return state


def _make_scheduler(
    schedule: str, optimizer: torch.optim.Optimizer, lr: float, total_steps: int
) -> Any:
    if schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=lr, total_steps=max(total_steps, 2), pct_start=0.1
        )
    if schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=max(total_steps, 1), eta_min=lr * 0.01
        )
    return None


def _generator(seed: int, epoch: int, step: int) -> torch.Generator:
    mixed = np.random.SeedSequence([int(seed), int(epoch), int(step)]).generate_state(1)[0]
    return torch.Generator().manual_seed(int(mixed))


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, path)


# -- train ------------------------------------------------------------------------
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
    augment: bool | Augmentation = True,
    pretrained: str | os.PathLike[str] | None = None,
    patience: int | None = 5,
    resume: bool = True,
    progress: bool = True,
    max_steps: int | None = None,
    contrast_ratio: float = 1.0,
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
        them, or an image cube with ``aurora_truth`` (read per batch).
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
    augment : bool or Augmentation
        Rotation and mirror about the zenith, brightness/contrast jitter.
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
    get_architecture(arch)
    for name, value, low in (("epochs", epochs, 1), ("batch_size", batch_size, 1)):
        if not isinstance(value, int) or value < low:
            raise OptionError(f"{name} must be an int >= {low}, found {value!r}")
    if not lr > 0:
        raise OptionError(f"lr must be > 0, found {lr}")
    if schedule not in SCHEDULES:
        raise OptionError(f"schedule must be one of {SCHEDULES}, found {schedule!r}")
    if precision != "auto" and (precision not in PRECISIONS or precision == "fp16"):
        raise OptionError(
            f"training precision must be 'fp32', 'bf16' or 'auto', found {precision!r}"
        )
    if max_steps is not None and (not isinstance(max_steps, int) or max_steps < 1):
        raise OptionError(f"max_steps must be an int >= 1 or None, found {max_steps!r}")
    if patience is not None and patience < 1:
        raise OptionError(f"patience must be >= 1 or None, found {patience}")
    size = _as_size(image_size)
    aug: Augmentation | None
    if augment is True:
        aug = Augmentation()
    elif isinstance(augment, Augmentation):
        aug = augment
    else:
        aug = None
    if num_threads is not None:
        torch.set_num_threads(int(num_threads))
    dev = resolve_device(device)
    precision = resolve_precision(precision, dev)
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
    data_checksum = src.checksum()
    fractions = [float(f) for f in split]
    train_idx, val_idx, test_idx = split_indices(len(src), fractions=fractions, seed=seed)
    if len(train_idx) == 0:
        raise OptionError(f"no training frames: {len(src)} frames split by {fractions}")
    lens = src.lens_mask
    lens_small = None if lens is None else resize_mask(lens, size)
    circle = None if lens is None else lens_circle_from_mask(lens)
    prep = Preprocessing(contrast_ratio=contrast_ratio, input_size=size, lens_circle=circle)
    if circle is not None:
        zenith = (circle[0] * size[1] - 0.5, circle[1] * size[0] - 0.5)
    else:
        zenith = ((size[1] - 1) / 2.0, (size[0] - 1) / 2.0)

    config = {
        "arch": arch,
        "image_size": list(size),
        "split": fractions,
        "seed": int(seed),
        "data_checksum": data_checksum,
        "batch_size": batch_size,
        "epochs": epochs,
        "lr": float(lr),
        "weight_decay": float(weight_decay),
        "schedule": schedule,
        "contrast_ratio": float(contrast_ratio),
        "dice_weight": float(dice_weight),
        "pretrained": None if pretrained is None else str(pretrained),
        "augment": None if aug is None else asdict(aug),
        "threshold": float(threshold),
        "bn_momentum": bn_momentum,
    }
    torch.manual_seed(seed)
    # channels-last activations: oneDNN's faster convolution layout on CPUs (and
    # tensor cores on GPUs); the weights are saved contiguous all the same
    model = build_model(arch, pretrained=pretrained).to(dev)
    model = model.to(memory_format=torch.channels_last)
    if bn_momentum is not None:
        for layer in model.modules():
            if isinstance(layer, nn.modules.batchnorm._BatchNorm):
                layer.momentum = float(bn_momentum)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    steps_per_epoch = len(_batches(train_idx, batch_size))
    scheduler = _make_scheduler(schedule, optimizer, lr, epochs * steps_per_epoch)

    state_path = out / "train_state.safetensors"
    best_path = out / "best.safetensors"
    last_path = out / "last.safetensors"
    run: dict[str, Any] = {
        "config": config,
        "epoch": 0,
        "step_in_epoch": 0,
        "steps": 0,
        "best_iou": None,
        "best_epoch": None,
        "no_improve": 0,
        "history": [],
        "finished": None,
    }
    if resume and state_path.is_file():
        saved = _load_state(state_path, model, optimizer, scheduler, config)
        run.update({k: saved[k] for k in run if k in saved})
    split_meta = {
        "fractions": fractions,
        "seed": int(seed),
        "sizes": [len(train_idx), len(val_idx), len(test_idx)],
    }

    def metadata(metrics: dict[str, Any], epoch: int) -> CheckpointMetadata:
        return CheckpointMetadata(
            architecture=arch,
            preprocessing=prep,
            threshold=threshold,
            training_data_checksum=data_checksum,
            split=split_meta,
            metrics=metrics,
            extra={"epoch": epoch, "steps": run["steps"], "train_options": config},
        )

    from tqdm.auto import tqdm

    stopped = run["finished"] or "completed"
    while run["finished"] is None and run["epoch"] < epochs:
        if max_steps is not None and run["steps"] >= max_steps:
            stopped = "max_steps"
            break
        epoch = run["epoch"]
        t0 = time.perf_counter()
        order = np.random.default_rng([int(seed), epoch]).permutation(train_idx)
        batches = _batches(order, batch_size)
        first = run["step_in_epoch"]
        losses: list[float] = []
        bar = tqdm(
            total=len(batches),
            initial=first,
            desc=f"epoch {epoch + 1}/{epochs}",
            unit="batch",
            disable=not progress,
            leave=False,
        )
        interrupted = False
        for b in range(first, len(batches)):
            batch = _prepare(src, batches[b], prep, lens_small, dev)
            images, masks, weights = batch.images, batch.masks, batch.weights
            if aug is not None:
                images, masks, weights = augment_batch(
                    images,
                    masks,
                    weights,
                    zenith=zenith,
                    generator=_generator(seed, epoch, b),
                    options=aug,
                )
            loss = train_step(
                model,
                optimizer,
                _network_input(images, prep),
                masks,
                weights,
                dice_weight=dice_weight,
                precision=precision,
            )
            if scheduler is not None:
                scheduler.step()
            losses.append(loss)
            run["steps"] += 1
            run["step_in_epoch"] = b + 1
            bar.update(1)
            bar.set_postfix(loss=f"{loss:.4f}")
            if max_steps is not None and run["steps"] >= max_steps and b + 1 < len(batches):
                interrupted = True
                break
        bar.close()
        row: dict[str, Any] = {
            "epoch": epoch + 1,
            "partial": interrupted,
            "train_loss": float(np.mean(losses)) if losses else None,
            "lr": float(optimizer.param_groups[0]["lr"]),
            "steps": run["steps"],
        }
        val_scores = None
        if len(val_idx):
            val_scores = _validate(
                model,
                src,
                val_idx,
                prep,
                lens_small,
                device=dev,
                precision=precision,
                batch_size=batch_size,
                threshold=threshold,
            )
            row.update(
                {
                    f"val_{k}": val_scores[k]
                    for k in ("iou", "f1", "precision", "recall", "accuracy")
                }
            )
        row["seconds"] = round(time.perf_counter() - t0, 3)
        run["history"].append(row)
        current = val_scores["iou"] if val_scores is not None else None
        best = run["best_iou"]
        if current is None or best is None or current > best:
            run["best_iou"] = current
            run["best_epoch"] = epoch + 1
            run["no_improve"] = 0
            metrics = {} if val_scores is None else {"val": val_scores}
            save_checkpoint(model, best_path, metadata(metrics, epoch + 1))
        else:
            run["no_improve"] += 1
        last_metrics = {} if val_scores is None else {"val": val_scores}
        save_checkpoint(model, last_path, metadata(last_metrics, epoch + 1))
        if interrupted:
            stopped = "max_steps"
        else:
            run["epoch"] = epoch + 1
            run["step_in_epoch"] = 0
            if patience is not None and run["no_improve"] >= patience:
                stopped = run["finished"] = "early_stopping"
            elif run["epoch"] >= epochs:
                stopped = run["finished"] = "completed"
            elif max_steps is not None and run["steps"] >= max_steps:
                stopped = "max_steps"
        if progress:
            shown = ", ".join(
                f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()
            )
            tqdm.write(shown)
        _save_state(state_path, model, optimizer, scheduler, run)
        if stopped == "max_steps":
            break

    test_metrics = None
    if len(test_idx) and best_path.is_file():
        best_model = build_model(arch)
        tensors, _, _ = read_tensors(best_path)
        best_model.load_state_dict(tensors)
        best_meta = read_metadata(best_path)
        predictor = Predictor.from_model(
            best_model,
            metadata=best_meta,
            device=str(dev),
            precision="fp32" if precision == "fp32" else "bf16",
            batch_size=batch_size,
        )
        result = evaluate_frames(
            predictor,
            src,
            test_idx.tolist(),
            threshold=threshold,
            batch_size=batch_size,
        )
        test_metrics = result.pixel
        metrics = dict(best_meta.metrics)
        metrics["test"] = test_metrics
        save_checkpoint(best_model, best_path, best_meta.replace(metrics=metrics))
    outcome = TrainResult(
        best_checkpoint=best_path,
        last_checkpoint=last_path,
        history=list(run["history"]),
        best_epoch=run["best_epoch"],
        best_val_iou=run["best_iou"],
        test_metrics=test_metrics,
        stopped=stopped,
        out_dir=out,
        split_sizes=(len(train_idx), len(val_idx), len(test_idx)),
        data_checksum=data_checksum,
        steps=run["steps"],
    )
    _write_json(out / "history.json", outcome.to_dict())
    return outcome
