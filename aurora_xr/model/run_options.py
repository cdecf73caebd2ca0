"""The options of a training run, checked: :class:`TrainOptions` from :func:`train_options`.

:func:`~aurora_xr.model.train` checks its options here before it reads any frame: the
architecture, the schedule, the precision, the augmentation recipe, and where the run
starts (``init=``, see :mod:`aurora_xr.model.init_weights`), whose checkpoint also gives
the architecture, input size, contrast ratio and levels that the call leaves out.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import OptionError
from .augment import AUGMENTATIONS, Augmentation
from .build import get_architecture
from .devices import PRECISIONS
from .init_weights import InitialWeights, initial_weights
from .levels import check_levels
from .optimisation import SCHEDULES
from .resampling import as_size

if TYPE_CHECKING:
    from .training_run import TrainingData

__all__ = ["TrainOptions", "train_options"]


@dataclass(frozen=True)
class TrainOptions:
    """The options of :func:`~aurora_xr.model.train` that shape a run (see there).

    ``size`` is the network input ``(height, width)``; ``augmentation`` the
    augmentation options (None: no augmentation); ``init`` the weights the run starts
    from (None: ``pretrained``, else random); ``split_by`` and ``longitude`` how frames
    are grouped before the split (:func:`~aurora_xr.model.splits.split_source`).
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
    init: InitialWeights | None = None
    split_by: str = "auto"
    longitude: float | None = None

    def steps_spent(self, steps: int) -> bool:
        """Whether ``steps`` optimizer steps use up ``max_steps``."""
        return self.max_steps is not None and steps >= self.max_steps

    def config(self, data: TrainingData) -> dict[str, Any]:
        """What a run resumed on ``data`` must share with the saved one (JSON-safe).

        ``split_by`` (unless by frame) and ``init`` are there only when a run has them, so
        that a run saved before they existed resumes.
        """
        config: dict[str, Any] = {
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
        if data.split.by != "frame":
            config["split_by"] = data.split.by
            config["longitude"] = data.split.longitude
        if self.init is not None:
            config["init"] = self.init.to_dict()
        return config


def train_options(
    *,
    arch: str | None,
    epochs: int,
    batch_size: int,
    lr: float,
    weight_decay: float,
    image_size: int | tuple[int, int] | None,
    split: Sequence[float],
    seed: int,
    augment: bool | str | Augmentation,
    pretrained: str | os.PathLike[str] | None,
    patience: int | None,
    progress: bool,
    max_steps: int | None,
    contrast_ratio: float | None,
    schedule: str,
    dice_weight: float,
    threshold: float,
    bn_momentum: float | None,
    precision: str,
    levels: str | None = "robust",
    init: str | os.PathLike[str] | None = None,
    split_by: str = "auto",
    longitude: float | None = None,
) -> TrainOptions:
    """The options of :func:`~aurora_xr.model.train`, checked (``precision`` is only checked).

    ``arch``, ``image_size``, ``contrast_ratio`` and ``levels`` given as None take those of
    the aurora_xr checkpoint ``init`` (if any), else ``"fcn_resnet50"``, 256, 1.0 and
    ``"robust"``.

    Raises
    ------
    OptionError
        For an option :func:`~aurora_xr.model.train` cannot use.
    WeightsNotFoundError
        If ``init`` names no file.
    """
    start = None if init is None else initial_weights(init)
    if start is not None and pretrained is not None:
        raise OptionError(
            f"pass init= (the weights to start from) or pretrained=, not both; found "
            f"init={str(init)!r} and pretrained={str(pretrained)!r}"
        )
    inherited = None if start is None or start.metadata is None else start.metadata
    if arch is None:
        arch = "fcn_resnet50" if inherited is None else inherited.architecture
    if image_size is None:
        image_size = (inherited.input_size if inherited is not None else None) or 256
    if contrast_ratio is None:
        contrast_ratio = 1.0 if inherited is None else inherited.preprocessing.contrast_ratio
    if levels is None:
        levels = "robust" if inherited is None else inherited.preprocessing.levels
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
        init=start,
        split_by=split_by,
        longitude=None if longitude is None else float(longitude),
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
