"""The epochs of a training run: steps, validation, best and last checkpoints, stopping.

:func:`run_epochs` trains a run set up by :func:`~aurora_xr.model.train` (a
:class:`~aurora_xr.model.training_run.TrainingRun`) epoch after epoch. Each
epoch takes its optimiser steps over the shuffled training frames (augmented,
resuming mid-epoch where a run stopped), scores the validation frames, writes
``best.safetensors`` when the validation IoU improved and ``last.safetensors``
always, decides whether to stop, and saves the resumable state
(:mod:`aurora_xr.model.train_state`).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from .augment import augment_batch
from .batches import batch_indices, network_input, read_batch, validation_scores
from .checkpoint import save_checkpoint
from .metadata import CheckpointMetadata
from .optimisation import train_step
from .train_state import batch_generator, save_train_state
from .training_run import TrainingRun

__all__ = ["run_epochs"]

_VAL_SCORES = ("iou", "f1", "precision", "recall", "accuracy")


def run_epochs(setup: TrainingRun, run: dict[str, Any]) -> str:
    """Train epoch after epoch, updating ``run``; how the run stopped.

    Returns
    -------
    str
        ``"completed"``, ``"early_stopping"`` or ``"max_steps"``.
    """
    opts = setup.options
    stopped = run["finished"] or "completed"
    while run["finished"] is None and run["epoch"] < opts.epochs:
        if opts.steps_spent(run["steps"]):
            return "max_steps"
        stopped = _run_epoch(setup, run) or stopped
        if stopped == "max_steps":
            break
    return stopped


def _run_epoch(setup: TrainingRun, run: dict[str, Any]) -> str | None:
    """One epoch, from ``run["step_in_epoch"]``: train, score, keep, decide, save the state."""
    epoch = run["epoch"]
    t0 = time.perf_counter()
    losses, interrupted = _train_batches(setup, run, epoch)
    row, val_scores = _score_epoch(setup, run, epoch, losses, interrupted)
    row["seconds"] = round(time.perf_counter() - t0, 3)
    run["history"].append(row)
    _keep_checkpoints(setup, run, epoch, val_scores)
    stopped = _stop_or_go_on(setup, run, epoch, interrupted)
    if setup.options.progress:
        from tqdm.auto import tqdm

        shown = ", ".join(
            f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()
        )
        tqdm.write(shown)
    save_train_state(setup.state_path, setup.model, setup.optimizer, setup.scheduler, run)
    return stopped


def _train_batches(setup: TrainingRun, run: dict[str, Any], epoch: int) -> tuple[list[float], bool]:
    """The optimizer steps of ``epoch``: the losses, and whether ``max_steps`` cut it short."""
    from tqdm.auto import tqdm

    opts = setup.options
    data = setup.data
    order = np.random.default_rng([int(opts.seed), epoch]).permutation(data.train)
    batches = batch_indices(order, opts.batch_size)
    first = run["step_in_epoch"]
    losses: list[float] = []
    bar = tqdm(
        total=len(batches),
        initial=first,
        desc=f"epoch {epoch + 1}/{opts.epochs}",
        unit="batch",
        disable=not opts.progress,
        leave=False,
    )
    interrupted = False
    for b in range(first, len(batches)):
        batch = read_batch(data.source, batches[b], data.prep, data.lens_small, setup.device)
        images, masks, weights = batch.images, batch.masks, batch.weights
        if opts.augmentation is not None:
            images, masks, weights = augment_batch(
                images,
                masks,
                weights,
                zenith=data.zenith,
                generator=batch_generator(opts.seed, epoch, b),
                options=opts.augmentation,
            )
        loss = train_step(
            setup.model,
            setup.optimizer,
            network_input(images, data.prep),
            masks,
            weights,
            dice_weight=opts.dice_weight,
            precision=setup.precision,
        )
        if setup.scheduler is not None:
            setup.scheduler.step()
        losses.append(loss)
        run["steps"] += 1
        run["step_in_epoch"] = b + 1
        bar.update(1)
        bar.set_postfix(loss=f"{loss:.4f}")
        if opts.steps_spent(run["steps"]) and b + 1 < len(batches):
            interrupted = True
            break
    bar.close()
    return losses, interrupted


def _score_epoch(
    setup: TrainingRun, run: dict[str, Any], epoch: int, losses: list[float], interrupted: bool
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The history row of ``epoch`` and its validation scores (None without validation frames)."""
    opts = setup.options
    row: dict[str, Any] = {
        "epoch": epoch + 1,
        "partial": interrupted,
        "train_loss": float(np.mean(losses)) if losses else None,
        "lr": float(setup.optimizer.param_groups[0]["lr"]),
        "steps": run["steps"],
    }
    data = setup.data
    if not len(data.val):
        return row, None
    val_scores = validation_scores(
        setup.model,
        data.source,
        data.val,
        data.prep,
        data.lens_small,
        device=setup.device,
        precision=setup.precision,
        batch_size=opts.batch_size,
        threshold=opts.threshold,
    )
    row.update({f"val_{k}": val_scores[k] for k in _VAL_SCORES})
    return row, val_scores


def _keep_checkpoints(
    setup: TrainingRun, run: dict[str, Any], epoch: int, val_scores: dict[str, Any] | None
) -> None:
    """Write the best checkpoint when the validation IoU improved, and the last one."""
    metrics = {} if val_scores is None else {"val": val_scores}
    current = val_scores["iou"] if val_scores is not None else None
    best = run["best_iou"]
    if current is None or best is None or current > best:
        run["best_iou"] = current
        run["best_epoch"] = epoch + 1
        run["no_improve"] = 0
        save_checkpoint(setup.model, setup.best_path, _metadata(setup, run, metrics, epoch + 1))
    else:
        run["no_improve"] += 1
    save_checkpoint(setup.model, setup.last_path, _metadata(setup, run, metrics, epoch + 1))


def _stop_or_go_on(
    setup: TrainingRun, run: dict[str, Any], epoch: int, interrupted: bool
) -> str | None:
    """Move ``run`` past a whole ``epoch``; why the run stops now, or None to go on."""
    opts = setup.options
    if interrupted:
        return "max_steps"
    run["epoch"] = epoch + 1
    run["step_in_epoch"] = 0
    if opts.patience is not None and run["no_improve"] >= opts.patience:
        run["finished"] = "early_stopping"
        return "early_stopping"
    if run["epoch"] >= opts.epochs:
        run["finished"] = "completed"
        return "completed"
    if opts.steps_spent(run["steps"]):
        return "max_steps"
    return None


def _metadata(
    setup: TrainingRun, run: dict[str, Any], metrics: dict[str, Any], epoch: int
) -> CheckpointMetadata:
    """The metadata of a checkpoint written after ``epoch`` (from 1)."""
    opts = setup.options
    data = setup.data
    extra: dict[str, Any] = {"epoch": epoch, "steps": run["steps"], "train_options": setup.config}
    provenance = getattr(data.source, "provenance", None)
    if callable(provenance):  # a label set: its checksum, format, source, label map, lens
        extra["labels"] = provenance()
    if opts.init is not None:
        extra["init"] = opts.init.to_dict()
    return CheckpointMetadata(
        architecture=opts.arch,
        preprocessing=data.prep,
        threshold=opts.threshold,
        training_data_checksum=data.checksum,
        split=data.split.to_metadata(data.fractions, opts.seed),
        metrics=metrics,
        extra=extra,
    )
