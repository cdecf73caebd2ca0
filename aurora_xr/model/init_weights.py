"""Where a training run starts from: ``init=``, an aurora_xr checkpoint or torchvision weights.

Fine-tuning starts from weights that already know something:

* **an aurora_xr checkpoint** (``.safetensors`` written by :func:`~aurora_xr.model.train`
  or :func:`~aurora_xr.model.save_checkpoint`, e.g. a model of the synthetic sky): every
  tensor is loaded as it is, so the run goes on from that network. It must be of the
  run's architecture and have one output (the aurora logit); anything else is a
  :class:`~aurora_xr.errors.CheckpointError` that says what the file holds. Unless the
  run says otherwise, it also keeps the checkpoint's preprocessing (contrast ratio,
  levels, input size): the network learnt its weights on frames prepared that way.
* **a torchvision weights file placed locally** (e.g. ``fcn_resnet50_coco-1167a1af.pth``,
  read with ``torch.load(weights_only=True)``, never unpickling code; or a plain
  ``.safetensors`` state dict): loaded as :func:`~aurora_xr.model.build_model` loads
  ``pretrained=PATH``: the class-specific head (21 COCO/VOC classes) is replaced by a new
  one-output head, as in the usual fine-tune; weights of another architecture are a
  :class:`~aurora_xr.errors.CheckpointError`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import CheckpointError, WeightsNotFoundError
from .build import build_model, guess_architecture
from .checkpoint import file_checksum, load_checkpoint, read_metadata
from .metadata import CheckpointMetadata

__all__ = ["InitialWeights", "initial_weights", "initialised_network"]


@dataclass(frozen=True)
class InitialWeights:
    """The file a run starts from.

    Attributes
    ----------
    path : pathlib.Path
        The file.
    kind : {"aurora_xr", "torchvision"}
        An aurora_xr checkpoint, or a plain state dict (torchvision's weights).
    checksum : str
        SHA-256 of the file.
    metadata : CheckpointMetadata or None
        The checkpoint's metadata (aurora_xr checkpoints only).
    """

    path: Path
    kind: str
    checksum: str
    metadata: CheckpointMetadata | None = None

    @property
    def architecture(self) -> str | None:
        """The architecture of an aurora_xr checkpoint (None for a torchvision file)."""
        return None if self.metadata is None else self.metadata.architecture

    def to_dict(self) -> dict[str, Any]:
        """What a checkpoint records of where its run started (JSON-safe)."""
        return {
            "path": str(self.path),
            "kind": self.kind,
            "sha256": self.checksum,
            "architecture": self.architecture,
        }


def initial_weights(path: str | os.PathLike[str]) -> InitialWeights:
    """What ``path`` holds: an aurora_xr checkpoint or a plain weights file (header only).

    Raises
    ------
    WeightsNotFoundError
        If the file does not exist (the message names it).
    """
    file = Path(path).expanduser()
    if not file.is_file():
        raise WeightsNotFoundError(
            f"init: no file {file}; pass an aurora_xr checkpoint (.safetensors) or a "
            "torchvision weights file placed locally (e.g. fcn_resnet50_coco-1167a1af.pth)"
        )
    metadata: CheckpointMetadata | None
    try:
        metadata = read_metadata(file)
    except CheckpointError:
        metadata = None  # not an aurora_xr checkpoint: a plain state dict (read when used)
    kind = "torchvision" if metadata is None else "aurora_xr"
    return InitialWeights(path=file, kind=kind, checksum=file_checksum(file), metadata=metadata)


def initialised_network(
    init: InitialWeights | None, arch: str, *, pretrained: str | os.PathLike[str] | None = None
) -> nn.Module:
    """The network of architecture ``arch`` with the weights of ``init`` (or ``pretrained``).

    Raises
    ------
    CheckpointError
        If ``init`` holds another architecture, a head with another number of outputs, or
        tensors that do not fit.
    """
    if init is None:
        return build_model(arch, pretrained=pretrained)
    if init.kind == "torchvision":
        return build_model(arch, pretrained=init.path)
    meta = init.metadata
    assert meta is not None
    if meta.architecture != arch:
        raise CheckpointError(
            f"init: {init.path} holds a {meta.architecture} checkpoint, but this run trains "
            f"{arch}; train {meta.architecture} (or leave the architecture out to take the "
            "checkpoint's), or start from a checkpoint of the same architecture"
        )
    if meta.num_outputs != 1:
        raise CheckpointError(
            f"init: {init.path} has a head of {meta.num_outputs} classes; an aurora network "
            "has one output (the aurora logit): start from its weights as a torchvision file "
            "or from an aurora_xr checkpoint with one output"
        )
    ckpt = load_checkpoint(init.path)
    guessed = guess_architecture(ckpt.state_dict)
    if guessed is not None and guessed != arch:
        raise CheckpointError(
            f"init: {init.path} says architecture {arch}, but its tensors are those of {guessed}"
        )
    model = build_model(arch)
    state = {k: v for k, v in ckpt.state_dict.items() if not k.startswith("aux_classifier.")}
    _load_exactly(model, state, init.path, arch)
    return model


def _load_exactly(model: nn.Module, state: dict[str, torch.Tensor], path: Path, arch: str) -> None:
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        reason = " ".join(str(exc).split())[:300]
        raise CheckpointError(f"init: the tensors of {path} do not fit {arch}: {reason}") from exc
