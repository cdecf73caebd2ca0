"""The aurora segmentation model: build, load, save, predict, train, evaluate.

This subpackage is the only part of aurora_xr that imports torch,
torchvision and safetensors. Importing ``aurora_xr.model`` itself imports
none of them: each name below is loaded from its submodule on first use.
:mod:`~aurora_xr.model.preprocess`, :mod:`~aurora_xr.model.levels`,
:mod:`~aurora_xr.model.resampling`, :mod:`~aurora_xr.model.lens_masks`,
:mod:`~aurora_xr.model.data`, :mod:`~aurora_xr.model.cube_source`,
:mod:`~aurora_xr.model.label_source`, :mod:`~aurora_xr.model.subsets`,
:mod:`~aurora_xr.model.splits`, :mod:`~aurora_xr.model.frame_groups`,
:mod:`~aurora_xr.model.image_rule`, :mod:`~aurora_xr.model.image_truth`,
:mod:`~aurora_xr.model.score_tally`, :mod:`~aurora_xr.model.prefetch` and
:mod:`~aurora_xr.model.metrics` are numpy only.

Submodules
----------
build
    :func:`build_model`, :data:`ARCHITECTURES` (torchvision networks with a
    one-output aurora head; COCO weights from the local cache only).
metadata
    :class:`CheckpointMetadata` (what a checkpoint says about its network).
checkpoint
    :func:`save_checkpoint`, :func:`load_checkpoint` (safetensors + JSON, no pickle).
preprocess, levels, resampling, lens_masks
    :class:`Preprocessing` and the one preprocessing of training and
    inference for any camera (8/16-bit, colour or single-channel): robust
    levels, the uniform contrast ratio, resize, lens mask, channels,
    normalisation; the lens circle as a mask.
device_prep
    The same preprocessing in torch, on the network's device.
devices
    :func:`resolve_device`, :func:`resolve_plan` (precision, layout,
    compilation; ``precision="auto"``) and autocast.
network_cache
    Networks ready for inference and the per-process cache of loaded ones
    (:func:`clear_model_cache`).
predictor, inference, prefetch
    :class:`Predictor` (numpy in, numpy out, lazy, picklable;
    :meth:`Predictor.from_module` for any torch module), the batched run
    (pinned, prefetched batches on CUDA).
loading
    :func:`load_model`, :class:`LoadedModel`.
data, cube_source, label_source, subsets
    Labelled frames from a folder, an image cube or a label set read by
    :func:`aurora_xr.labels.read_labels` (:class:`LabelSource`, the lens from
    the frames' bright disc); :class:`FrameSubset`, some frames of a source.
splits, frame_groups
    :func:`split_source`: whole nights (local noon to noon), folders or the
    labels' own ``split`` column go to one part; :func:`part_indices` gives
    back the part a checkpoint recorded; :func:`split_indices` splits by frame.
augment, randomisation
    :class:`Augmentation` and the named recipes :data:`AUGMENTATIONS`
    (``"basic"``, ``"real_sky"``: colour, levels, gamma, noise, resolution,
    JPEG and grey frames drawn at random).
training
    :func:`train` (named so that ``aurora_xr.model.train`` stays the function)
    and :class:`TrainResult`; its steps are in ``training_run`` (options, data,
    network), ``epochs`` (the epoch loop), ``train_state`` (resumable state),
    ``batches`` (labelled batches as tensors) and ``optimisation`` (loss, step,
    schedule); ``run_options`` (checked options), ``init_weights`` (``init=``:
    an aurora_xr checkpoint or torchvision weights to fine-tune from),
    ``run_results``, ``train_report`` and ``report_figure`` (the report
    written beside the best checkpoint: scores per part, the worst frames).
evaluation, score_tally, image_rule, image_truth
    :func:`evaluate`; pixel, cell and image-level scores; :func:`has_aurora`,
    the one rule for "this frame shows aurora".
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .augment import AUGMENTATIONS, Augmentation
    from .build import ARCHITECTURES, Architecture, build_model, pretrained_weights_file
    from .checkpoint import (
        Checkpoint,
        file_checksum,
        load_checkpoint,
        read_metadata,
        save_checkpoint,
    )
    from .cube_source import CubeSource
    from .data import DEFAULT_SPLIT, FolderSource, split_indices
    from .devices import ExecutionPlan, resolve_device, resolve_plan
    from .evaluation import EvaluationResult, evaluate
    from .image_rule import has_aurora
    from .label_source import LabelSource
    from .loading import LoadedModel, load_model
    from .metadata import CheckpointMetadata
    from .network_cache import clear_model_cache
    from .predictor import Predictor
    from .preprocess import Preprocessing, preprocess_frames
    from .splits import FrameSplit, part_indices, split_source
    from .subsets import FrameSubset
    from .training import TrainResult, train
    from .tta import TTA_MODES

__all__ = [
    "ARCHITECTURES",
    "AUGMENTATIONS",
    "DEFAULT_SPLIT",
    "TTA_MODES",
    "Architecture",
    "Augmentation",
    "Checkpoint",
    "CheckpointMetadata",
    "CubeSource",
    "EvaluationResult",
    "ExecutionPlan",
    "FolderSource",
    "FrameSplit",
    "FrameSubset",
    "LabelSource",
    "LoadedModel",
    "Predictor",
    "Preprocessing",
    "TrainResult",
    "build_model",
    "clear_model_cache",
    "evaluate",
    "file_checksum",
    "has_aurora",
    "load_checkpoint",
    "load_model",
    "part_indices",
    "preprocess_frames",
    "pretrained_weights_file",
    "read_metadata",
    "resolve_device",
    "resolve_plan",
    "save_checkpoint",
    "split_indices",
    "split_source",
    "train",
]

_WHERE = {
    "ARCHITECTURES": "build",
    "Architecture": "build",
    "build_model": "build",
    "pretrained_weights_file": "build",
    "AUGMENTATIONS": "augment",
    "Augmentation": "augment",
    "Checkpoint": "checkpoint",
    "CheckpointMetadata": "metadata",
    "file_checksum": "checkpoint",
    "load_checkpoint": "checkpoint",
    "read_metadata": "checkpoint",
    "save_checkpoint": "checkpoint",
    "DEFAULT_SPLIT": "data",
    "CubeSource": "cube_source",
    "FolderSource": "data",
    "split_indices": "data",
    "EvaluationResult": "evaluation",
    "evaluate": "evaluation",
    "LoadedModel": "loading",
    "Predictor": "predictor",
    "clear_model_cache": "network_cache",
    "load_model": "loading",
    "resolve_device": "devices",
    "resolve_plan": "devices",
    "ExecutionPlan": "devices",
    "Preprocessing": "preprocess",
    "preprocess_frames": "preprocess",
    "TrainResult": "training",
    "train": "training",
    "TTA_MODES": "tta",
    "has_aurora": "image_rule",
    "LabelSource": "label_source",
    "FrameSplit": "splits",
    "part_indices": "splits",
    "split_source": "splits",
    "FrameSubset": "subsets",
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
