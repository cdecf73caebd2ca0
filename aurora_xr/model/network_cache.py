"""Networks ready for inference, and the per-process cache of those loaded from checkpoints.

A network is loaded from its checkpoint once per process and kept, keyed by
(checkpoint path, checksum, execution plan): every
:class:`~aurora_xr.model.Predictor` on that checkpoint in the process (a dask
worker, say) shares it, and :func:`~aurora_xr.model.load_model` puts the network
it loads here too. :func:`make_ready` puts any module on its plan's device,
layout and compilation.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import CheckpointError
from .checkpoint import load_checkpoint, model_from_checkpoint
from .devices import ExecutionPlan

__all__ = [
    "LOAD_COUNT",
    "ReadyNetwork",
    "cached_network",
    "clear_model_cache",
    "keep_network",
    "make_ready",
]


@dataclass
class ReadyNetwork:
    """A network on its device, ready for inference.

    Attributes
    ----------
    module : torch.nn.Module
        The network, in eval mode, on :attr:`device`.
    plan : ExecutionPlan
        Device, resolved precision, layout and compilation.
    lock : threading.Lock
        Held during a forward pass: threads sharing the network take turns.
    runner : callable
        What a forward pass calls: the module, or its compiled form.
    """

    module: nn.Module
    plan: ExecutionPlan
    lock: threading.Lock
    runner: Any

    @property
    def device(self) -> torch.device:
        """Where the network lives."""
        return self.plan.device

    @property
    def precision(self) -> str:
        """The resolved precision (``"fp32"``, ``"bf16"`` or ``"fp16"``)."""
        return self.plan.precision

    @property
    def channels_last(self) -> bool:
        """Whether inputs go in the channels-last layout."""
        return self.plan.channels_last

    @property
    def compiled(self) -> bool:
        """Whether the runner is compiled (then batches keep one shape)."""
        return self.plan.compile


def make_ready(module: nn.Module, plan: ExecutionPlan) -> ReadyNetwork:
    """``module`` in eval mode on the plan's device and layout, compiled if asked (in place)."""
    module = module.to(plan.device).eval()
    if plan.channels_last:
        module = module.to(memory_format=torch.channels_last)
    runner: Any = torch.compile(module, dynamic=False) if plan.compile else module
    return ReadyNetwork(module, plan, threading.Lock(), runner)


_CacheKey = tuple[str, str, tuple[str, str, bool, bool]]
_CACHE: dict[_CacheKey, ReadyNetwork] = {}
_CACHE_LOCK = threading.Lock()
LOAD_COUNT = {"n": 0}
"""How many networks this process has loaded from checkpoints (for tests)."""


def clear_model_cache() -> None:
    """Forget every network loaded in this process."""
    with _CACHE_LOCK:
        _CACHE.clear()


def _cache_key(path: Path, checksum: str, plan: ExecutionPlan) -> _CacheKey:
    return (str(path), checksum, plan.key())


def cached_network(path: Path, checksum: str, plan: ExecutionPlan) -> ReadyNetwork:
    """The network of checkpoint ``path`` run by ``plan``: from the cache, else loaded now.

    Raises
    ------
    CheckpointError
        If the file's SHA-256 is no longer ``checksum`` (it changed since the
        caller read it), or the checkpoint cannot be read.
    """
    key = _cache_key(path, checksum, plan)
    with _CACHE_LOCK:
        net = _CACHE.get(key)
        if net is not None:
            return net
        ckpt = load_checkpoint(path)
        if ckpt.checksum != checksum:
            raise CheckpointError(
                f"{path} changed since the predictor was made (sha256 {ckpt.checksum[:12]}..., "
                f"expected {checksum[:12]}...); make a new predictor"
            )
        net = make_ready(model_from_checkpoint(ckpt), plan)
        _CACHE[key] = net
        LOAD_COUNT["n"] += 1
        return net


def keep_network(path: Path, checksum: str, network: ReadyNetwork) -> None:
    """Put ``network``, loaded from checkpoint ``path``, in the cache (it is not counted)."""
    key = _cache_key(path, checksum, network.plan)
    with _CACHE_LOCK:
        _CACHE[key] = network
