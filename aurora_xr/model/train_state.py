"""The resumable state of a training run, in memory and in ``train_state.safetensors``.

A run's progress is a JSON-safe dict: its options (``config``), the epoch and
the step in it, the steps taken, the best validation IoU and its epoch, the
epochs without improvement, the history and how it finished.
:func:`save_train_state` writes it after every epoch, with the weights, the
AdamW moments, the scheduler and the torch RNG state (tensors in a
safetensors file, the rest as JSON in its header, no pickle);
:func:`start_run` continues from such a file when the options match. Batch
``b`` of epoch ``e`` draws its augmentation from :func:`batch_generator`, so a
resumed run is the run that was interrupted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..errors import CheckpointError, OptionError
from .checkpoint import read_tensors, save_tensors

__all__ = ["batch_generator", "load_train_state", "new_run", "save_train_state", "start_run"]

_STATE_KEY = "aurora_xr_train_state"


def new_run(config: dict[str, Any]) -> dict[str, Any]:
    """The progress of a run that has not taken a step yet, made with options ``config``."""
    return {
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


def start_run(
    path: Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    config: dict[str, Any],
    *,
    resume: bool,
) -> dict[str, Any]:
    """A new run; with ``resume``, the run saved at ``path`` (if any), restored into the objects."""
    run = new_run(config)
    if resume and path.is_file():
        saved = load_train_state(path, model, optimizer, scheduler, config)
        run.update({k: saved[k] for k in run if k in saved})
    return run


def save_train_state(
    path: Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    info: dict[str, Any],
) -> None:
    """Write weights, optimizer and scheduler state, RNG state and ``info`` (JSON) to ``path``."""
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


def load_train_state(
    path: Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    config: dict[str, Any],
) -> dict[str, Any]:
    """Restore a saved run into the objects, after checking it was made with ``config``.

    Raises
    ------
    CheckpointError
        If ``path`` is not a training state or its tensors do not fit the network.
    OptionError
        If the saved run was made with other options.
    """
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


def batch_generator(seed: int, epoch: int, step: int) -> torch.Generator:
    """The random generator of batch ``step`` of ``epoch`` in a run seeded with ``seed``."""
    mixed = np.random.SeedSequence([int(seed), int(epoch), int(step)]).generate_state(1)[0]
    return torch.Generator().manual_seed(int(mixed))
