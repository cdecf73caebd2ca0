"""A training run as set up before its first step: options, data, network, optimiser.

:func:`~aurora_xr.model.train` checks its options (:func:`train_options`, giving
:class:`TrainOptions`, in :mod:`~aurora_xr.model.run_options`), splits the labelled
frames and derives the preprocessing and the lens at the network input size (:func:`split_data`,
giving :class:`TrainingData`), then builds the seeded network, its optimiser
and learning-rate schedule (:func:`set_up_run`, giving the :class:`TrainingRun`
that the epochs of :mod:`aurora_xr.model.epochs` work from).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from ..errors import OptionError
from .batches import batch_indices
from .data import FrameSource
from .init_weights import initialised_network
from .lens_masks import lens_circle_from_mask
from .optimisation import make_scheduler
from .preprocess import Preprocessing
from .resampling import resize_mask
from .run_options import TrainOptions, train_options
from .splits import FrameSplit, split_source

__all__ = [
    "TrainOptions",
    "TrainingData",
    "TrainingRun",
    "set_up_run",
    "split_data",
    "train_options",
]


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
    split : FrameSplit
        The frames of each part and how they were chosen (by night, folder, ...).
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
    split: FrameSplit
    prep: Preprocessing
    lens_small: NDArray[np.bool_] | None
    zenith: tuple[float, float]

    @property
    def train(self) -> NDArray[np.int64]:
        """Frame indices of the training part."""
        return self.split.train

    @property
    def val(self) -> NDArray[np.int64]:
        """Frame indices of the validation part."""
        return self.split.val

    @property
    def test(self) -> NDArray[np.int64]:
        """Frame indices of the test part."""
        return self.split.test

    @property
    def sizes(self) -> tuple[int, int, int]:
        """Frames in train, validation, test."""
        return self.split.sizes


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


def split_data(src: FrameSource, options: TrainOptions) -> TrainingData:
    """Split ``src`` and derive the preprocessing and the lens at the network input size.

    The split is :func:`~aurora_xr.model.splits.split_source` (by night for a label set).
    """
    size = options.size
    checksum = src.checksum()
    fractions = [float(f) for f in options.split]
    split = split_source(
        src,
        fractions=fractions,
        seed=options.seed,
        by=options.split_by,
        longitude=options.longitude,
    )
    if len(split.train) == 0:
        raise OptionError(
            f"no training frames: {len(src)} frames split {split.describe()} with "
            f"proportions {fractions}"
        )
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
        split=split,
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
    model = initialised_network(options.init, options.arch, pretrained=options.pretrained)
    model = model.to(device)
    model = model.to(memory_format=torch.channels_last)
    if options.bn_momentum is not None:
        for layer in model.modules():
            if isinstance(layer, nn.modules.batchnorm._BatchNorm):
                layer.momentum = float(options.bn_momentum)
    return model
