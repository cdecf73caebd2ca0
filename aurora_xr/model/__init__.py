"""The aurora segmentation model: build, load, save, predict, train, evaluate.

This subpackage is the only part of aurora_xr that imports torch,
torchvision and safetensors. Importing ``aurora_xr.model`` itself imports
none of them: each name below is loaded from its submodule on first use.
:mod:`aurora_xr.model.preprocess`, :mod:`aurora_xr.model.data` and
:mod:`aurora_xr.model.metrics` are numpy only.

Submodules
----------
build
    :func:`build_model`, :data:`ARCHITECTURES` (torchvision networks with a
    one-output aurora head; COCO weights from the local cache only).
checkpoint
    :func:`save_checkpoint`, :func:`load_checkpoint` (safetensors + JSON, no pickle).
preprocess
    :class:`Preprocessing` and the one preprocessing of training and inference.
predict
    :class:`Predictor` (numpy in, numpy out, lazy, picklable), :func:`load_model`.
training
    :func:`train` (named so that ``aurora_xr.model.train`` stays the function).
evaluation
    :func:`evaluate`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .augment import Augmentation
    from .build import ARCHITECTURES, Architecture, build_model, pretrained_weights_file
    from .checkpoint import (
        Checkpoint,
        CheckpointMetadata,
        file_checksum,
        load_checkpoint,
        read_metadata,
        save_checkpoint,
    )
    from .data import DEFAULT_SPLIT, CubeSource, FolderSource, split_indices
    from .evaluation import EvaluationResult, evaluate
    from .predict import LoadedModel, Predictor, clear_model_cache, load_model, resolve_device
    from .preprocess import Preprocessing, preprocess_frames
    from .training import TrainResult, train
    from .tta import TTA_MODES

__all__ = [
    "ARCHITECTURES",
    "DEFAULT_SPLIT",
    "TTA_MODES",
    "Architecture",
    "Augmentation",
    "Checkpoint",
    "CheckpointMetadata",
    "CubeSource",
    "EvaluationResult",
    "FolderSource",
    "LoadedModel",
    "Predictor",
    "Preprocessing",
    "TrainResult",
    "build_model",
    "clear_model_cache",
    "evaluate",
    "file_checksum",
    "load_checkpoint",
    "load_model",
    "preprocess_frames",
    "pretrained_weights_file",
    "read_metadata",
    "resolve_device",
    "save_checkpoint",
    "split_indices",
    "train",
]

_WHERE = {
    "ARCHITECTURES": "build",
    "Architecture": "build",
    "build_model": "build",
    "pretrained_weights_file": "build",
    "Augmentation": "augment",
    "Checkpoint": "checkpoint",
    "CheckpointMetadata": "checkpoint",
    "file_checksum": "checkpoint",
    "load_checkpoint": "checkpoint",
    "read_metadata": "checkpoint",
    "save_checkpoint": "checkpoint",
    "DEFAULT_SPLIT": "data",
    "CubeSource": "data",
    "FolderSource": "data",
    "split_indices": "data",
    "EvaluationResult": "evaluation",
    "evaluate": "evaluation",
    "LoadedModel": "predict",
    "Predictor": "predict",
    "clear_model_cache": "predict",
    "load_model": "predict",
    "resolve_device": "predict",
    "Preprocessing": "preprocess",
    "preprocess_frames": "preprocess",
    "TrainResult": "training",
    "train": "training",
    "TTA_MODES": "tta",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    except ImportError as exc:  # torch, torchvision or safetensors missing
        raise ImportError(
            f"aurora_xr.model.{name} needs torch, torchvision and safetensors "
            f"(pip install torch torchvision safetensors): {exc}"
        ) from exc
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
