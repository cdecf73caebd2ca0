"""Load a checkpoint for use in this process: :func:`load_model` and :class:`LoadedModel`.

:func:`load_model` reads a checkpoint, builds its network on a device and
keeps it in the per-process cache (:mod:`aurora_xr.model.network_cache`), so
that :meth:`LoadedModel.predictor` gives predictors that reuse it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .checkpoint import load_checkpoint, model_from_checkpoint
from .devices import resolve_plan
from .metadata import CheckpointMetadata
from .network_cache import keep_network, make_ready
from .predictor import Predictor
from .preprocess import Preprocessing

__all__ = ["LoadedModel", "load_model"]


@dataclass(frozen=True)
class LoadedModel:
    """A network loaded from a checkpoint, with its metadata.

    Attributes
    ----------
    path : pathlib.Path
        The checkpoint file.
    module : torch.nn.Module
        The network, in eval mode, on :attr:`device`.
    metadata : CheckpointMetadata
        Architecture, preprocessing, threshold, metrics, ...
    checksum : str
        SHA-256 of the checkpoint file.
    device : torch.device
        Where the network lives.
    precision : str
        The precision predictors use by default.
    """

    path: Path
    module: nn.Module
    metadata: CheckpointMetadata
    checksum: str
    device: torch.device
    precision: str

    @property
    def name(self) -> str:
        """Architecture."""
        return self.metadata.architecture

    @property
    def threshold(self) -> float:
        """Probability threshold of the checkpoint."""
        return self.metadata.threshold

    @property
    def preprocessing(self) -> Preprocessing:
        """Preprocessing of the checkpoint."""
        return self.metadata.preprocessing

    def predictor(self, **options: Any) -> Predictor:
        """A :class:`.Predictor` on this checkpoint (options as for Predictor).

        ``device`` and ``precision`` default to those this model was loaded
        with; the already loaded network is reused in this process.
        """
        options.setdefault("device", str(self.device))
        options.setdefault("precision", self.precision)
        return Predictor(self.path, checksum=self.checksum, **options)


def load_model(
    path: str | os.PathLike[str],
    *,
    device: str = "auto",
    precision: str = "fp32",
    arch: str | None = None,
) -> LoadedModel:
    """Load an aurora_xr checkpoint.

    Parameters
    ----------
    path : path
        A checkpoint written by :func:`.save_checkpoint` or :func:`.train`.
    device : str
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda[:N]"``.
    precision : {"fp32", "bf16", "fp16", "auto"}
        Default precision of :meth:`LoadedModel.predictor` (``"auto"``: see
        :class:`.Predictor`).
    arch : str, optional
        The architecture expected; a checkpoint of another one is an error.

    Returns
    -------
    LoadedModel
        ``.module``, ``.metadata``, ``.checksum`` and ``.predictor(**options)``.

    Raises
    ------
    CheckpointError
        Missing, unsafe, corrupt or truncated file, or another architecture.
    """
    file = Path(path).expanduser().resolve()
    plan = resolve_plan(device, precision)
    ckpt = load_checkpoint(file)
    ready = make_ready(model_from_checkpoint(ckpt, arch=arch), plan)
    keep_network(file, ckpt.checksum, ready)
    return LoadedModel(
        path=file,
        module=ready.module,
        metadata=ckpt.metadata,
        checksum=ckpt.checksum,
        device=plan.device,
        precision=plan.precision,
    )
