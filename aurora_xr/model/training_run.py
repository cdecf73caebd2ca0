"""A training run as set up before its first step: options, data, network, optimiser.

:func:`~aurora_xr.model.train` checks its options (:func:`train_options`, giving
:class:`TrainOptions`), splits the labelled frames and derives the
preprocessing and the lens at the network input size (:func:`split_data`,
giving :class:`TrainingData`), then builds the seeded network, its optimiser
and learning-rate schedule (:func:`set_up_run`, giving the :class:`TrainingRun`
that the epochs of :mod:`aurora_xr.model.epochs` work from).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from ..errors import OptionError
from .augment import AUGMENTATIONS, Augmentation
from .batches import batch_indices
from .build import build_model, get_architecture
from .data import FrameSource, split_indices
from .devices import PRECISIONS
from .lens_masks import lens_circle_from_mask
from .levels import check_levels
from .optimisation import SCHEDULES, make_scheduler
from .preprocess import Preprocessing
from .resampling import as_size, resize_mask

__all__ = [
    "TrainOptions",
    "TrainingData",
    "TrainingRun",
    "set_up_run",
    "split_data",
    "train_options",
]


@dataclass(frozen=True)
class TrainOptions:
    """The options of :func:`~aurora_xr.model.train` that shape a run (see there).

    ``size`` is the network input ``(height, width)``; ``augmentation`` the
    augmentation options (None: no augmentation).
    """

    arch: str
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    size: tuple[int, int]
    split: Sequence[float]
    seed: int
    augmentation: Augmentation | None
    pretrained: str | os.PathLike[str] | None
    patience: int | None
    progress: bool
    max_steps: int | None
    contrast_ratio: float
    levels: str
    schedule: str
    dice_weight: float
    threshold: float
    bn_momentum: float | None

    def steps_spent(self, steps: int) -> bool:
        """Whether ``steps`` optimizer steps use up ``max_steps``."""
        return self.max_steps is not None and steps >= self.max_steps

    def config(self, data: TrainingData) -> dict[str, Any]:
        """What a run resumed on ``data`` must share with the saved one (JSON-safe)."""
        return {
            "arch": self.arch,
            "image_size": list(self.size),
            "split": data.fractions,
            "seed": int(self.seed),
            "data_checksum": data.checksum,
            "batch_size": self.batch_size,
            "epochs": self.epochs,
            "lr": float(self.lr),
            "weight_decay": float(self.weight_decay),
            "schedule": self.schedule,
            "contrast_ratio": float(self.contrast_ratio),
            "levels": self.levels,
            "dice_weight": float(self.dice_weight),
            "pretrained": None if self.pretrained is None else str(self.pretrained),
            "augment": None if self.augmentation is None else self.augmentation.to_config(),
            "threshold": float(self.threshold),
            "bn_momentum": self.bn_momentum,
        }


@dataclass(frozen=True)
class TrainingData:
    """The labelled frames of a run, split, with the preprocessing they train with.

    Attributes
    ----------
    source : FrameSource
        The frames and masks.
    checksum : str
        SHA-256 of the frames and masks.
    fractions : list of float
        The split proportions (train, validation, test).
    train, val, test : int64 ndarrays
        Frame indices of each part.
    prep : Preprocessing
        The preprocessing (contrast ratio, input size, lens circle).
    lens_small : (h, w) bool ndarray or None
        The lens mask at the network input size.
    zenith : (float, float)
        Column and row of the zenith at the network input size (the centre
        of the augmentation's turns and mirrors).
    """

    source: FrameSource
    checksum: str
    fractions: list[float]
    train: NDArray[np.int64]
    val: NDArray[np.int64]
    test: NDArray[np.int64]
    prep: Preprocessing
    lens_small: NDArray[np.bool_] | None
    zenith: tuple[float, float]

    @property
    def sizes(self) -> tuple[int, int, int]:
        """Frames in train, validation, test."""
        return len(self.train), len(self.val), len(self.test)


@dataclass(frozen=True)
class TrainingRun:
    """A training run as set up before its first step.

    Attributes
    ----------
    options : TrainOptions
        The options of the run.
    data : TrainingData
        Its frames, split.
    device : torch.device
        Where it trains.
    precision : str
        The resolved precision (``"fp32"`` or ``"bf16"``).
    config : dict
        The options a resumed run must share (:meth:`TrainOptions.config`).
    model, optimizer, scheduler :
        The network, its AdamW optimizer and its learning-rate scheduler (or None).
    out : pathlib.Path
        The folder of the run's files.
    """

    options: TrainOptions
    data: TrainingData
    device: torch.device
    precision: str
    config: dict[str, Any]
    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: Any
    out: Path

    @property
    def state_path(self) -> Path:
        """The resumable state."""
        return self.out / "train_state.safetensors"

    @property
    def best_path(self) -> Path:
        """The checkpoint with the best validation IoU."""
        return self.out / "best.safetensors"

    @property
    def last_path(self) -> Path:
        """The checkpoint after the last epoch."""
        return self.out / "last.safetensors"


def train_options(
    *,
    arch: str,
    epochs: int,
    batch_size: int,
    lr: float,
    weight_decay: float,
    image_size: int | tuple[int, int],
    split: Sequence[float],
    seed: int,
    augment: bool | str | Augmentation,
    pretrained: str | os.PathLike[str] | None,
    patience: int | None,
    progress: bool,
    max_steps: int | None,
    contrast_ratio: float,
    schedule: str,
    dice_weight: float,
    threshold: float,
    bn_momentum: float | None,
    precision: str,
    levels: str = "robust",
) -> TrainOptions:
    """The options of :func:`~aurora_xr.model.train`, checked (``precision`` is only checked).

    Raises
    ------
    OptionError
        For an option :func:`~aurora_xr.model.train` cannot use.
    """
    get_architecture(arch)
    check_levels(levels)
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
    return TrainOptions(
        arch=arch,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        weight_decay=weight_decay,
        size=as_size(image_size),
        split=split,
        seed=seed,
        augmentation=_augmentation(augment),
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
    )


def _augmentation(augment: bool | str | Augmentation | None) -> Augmentation | None:
    """The augmentation of ``augment``: True the basic recipe, a name a recipe, False none."""
    if augment is True:
        return Augmentation()
    if isinstance(augment, Augmentation):
        return augment
    if isinstance(augment, str):
        return Augmentation.named(augment)
    if augment is False or augment is None:
        return None
    raise OptionError(
        "augment must be True, False, a recipe name "
        f"({', '.join(sorted(AUGMENTATIONS))}) or an Augmentation, found {augment!r}"
    )


def split_data(src: FrameSource, options: TrainOptions) -> TrainingData:
    """Split ``src`` and derive the preprocessing and the lens at the network input size."""
    size = options.size
    checksum = src.checksum()
    fractions = [float(f) for f in options.split]
    train_idx, val_idx, test_idx = split_indices(len(src), fractions=fractions, seed=options.seed)
    if len(train_idx) == 0:
        raise OptionError(f"no training frames: {len(src)} frames split by {fractions}")
    lens = src.lens_mask
    lens_small = None if lens is None else resize_mask(lens, size)
    circle = None if lens is None else lens_circle_from_mask(lens)
    prep = Preprocessing(
        contrast_ratio=options.contrast_ratio,
        levels=options.levels,
        input_size=size,
        lens_circle=circle,
    )
    if circle is not None:
        zenith = (circle[0] * size[1] - 0.5, circle[1] * size[0] - 0.5)
    else:
        zenith = ((size[1] - 1) / 2.0, (size[0] - 1) / 2.0)
    return TrainingData(
        source=src,
        checksum=checksum,
        fractions=fractions,
        train=train_idx,
        val=val_idx,
        test=test_idx,
        prep=prep,
        lens_small=lens_small,
        zenith=zenith,
    )


def set_up_run(
    options: TrainOptions,
    data: TrainingData,
    *,
    device: torch.device,
    precision: str,
    out: Path,
) -> TrainingRun:
    """The seeded network on ``device``, its optimizer and scheduler, in a :class:`TrainingRun`."""
    config = options.config(data)
    model = _network(options, device)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=options.lr, weight_decay=options.weight_decay
    )
    steps_per_epoch = len(batch_indices(data.train, options.batch_size))
    scheduler = make_scheduler(
        options.schedule, optimizer, options.lr, options.epochs * steps_per_epoch
    )
    return TrainingRun(
        options=options,
        data=data,
        device=device,
        precision=precision,
        config=config,
        model=model,
        optimizer=optimizer,
        scheduler=scheduler,
        out=out,
    )


def _network(options: TrainOptions, device: torch.device) -> nn.Module:
    """The network to train, seeded by the run's seed, channels-last on ``device``."""
    torch.manual_seed(options.seed)
    # channels-last activations: oneDNN's faster convolution layout on CPUs (and
    # tensor cores on GPUs); the weights are saved contiguous all the same
    model = build_model(options.arch, pretrained=options.pretrained).to(device)
    model = model.to(memory_format=torch.channels_last)
    if options.bn_momentum is not None:
        for layer in model.modules():
            if isinstance(layer, nn.modules.batchnorm._BatchNorm):
                layer.momentum = float(options.bn_momentum)
    return model
