"""What training minimises and how: the BCE + Dice loss, one step, the learning-rate schedule.

:func:`segmentation_loss` is BCE plus a soft Dice term inside the lens
circle; :func:`train_step` is one AdamW step on it; :func:`make_scheduler`
gives the learning-rate schedule (one of :data:`SCHEDULES`), stepped after
every batch.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .devices import autocast

__all__ = ["SCHEDULES", "make_scheduler", "segmentation_loss", "train_step"]

SCHEDULES = ("onecycle", "cosine", "constant")


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
    with autocast(inputs.device, precision):
        logits = model(inputs)["out"]
    loss = segmentation_loss(logits, target, weight, dice_weight=dice_weight)
    loss.backward()
    optimizer.step()
    return float(loss.detach())


def make_scheduler(
    schedule: str, optimizer: torch.optim.Optimizer, lr: float, total_steps: int
) -> Any:
    """The learning-rate scheduler of ``schedule`` over ``total_steps`` (None: constant).

    ``"onecycle"`` warms up to ``lr`` over the first 10 % of the steps and
    anneals; ``"cosine"`` anneals from ``lr`` to ``lr / 100``.
    """
    if schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=lr, total_steps=max(total_steps, 2), pct_start=0.1
        )
    if schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=max(total_steps, 1), eta_min=lr * 0.01
        )
    return None
