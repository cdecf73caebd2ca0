"""Where the network runs and how: devices, precision, memory layout, autocast.

Inference (:class:`~aurora_xr.model.Predictor`, :func:`~aurora_xr.model.load_model`) and
training (:func:`~aurora_xr.model.train`) resolve their ``device`` and ``precision`` options
here (:func:`resolve_plan` gives the whole :class:`ExecutionPlan`), and run the network under
:func:`autocast`.

``precision="auto"``
    The fastest path that keeps the quality (the tests hold the pixel IoU of
    a trained network to within 0.005 of fp32 on synthetic test frames):

    * a CPU with native bf16 (AVX512-BF16 or AMX): bf16 autocast with
      channels-last activations. Measured on a 2-core AMX CPU at 256 x 256
      (``benchmarks/bench_predict.py``): bf16 in the default layout gains
      little or nothing over fp32, channels-last is what makes it pay;
    * a CUDA GPU: bf16 autocast where it computes bf16 (Ampere and newer),
      else fp16; channels-last;
    * anything else: fp32.

    Training resolves ``"auto"`` the same way but never to fp16 (which
    would need loss scaling).

The memory layout follows the precision: channels-last for bf16 and fp16,
and on CUDA always; the plain fp32 CPU path keeps the default layout (the
baseline the benchmarks measure against). ``torch.compile`` is an option of
its own (``compile=True``): it wins on the CPU once compiled but costs a
compilation of tens of seconds per process and shape, so it is never chosen
by ``"auto"``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import torch

from ..errors import OptionError

__all__ = [
    "PRECISIONS",
    "ExecutionPlan",
    "autocast",
    "check_precision",
    "native_bf16",
    "resolve_device",
    "resolve_plan",
    "resolve_precision",
]

PRECISIONS = ("fp32", "bf16", "fp16")
_AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` becomes CUDA when available, else the CPU; others are checked.

    Raises
    ------
    OptionError
        For an unknown device or CUDA asked for without a GPU.
    """
    if isinstance(device, torch.device):
        resolved = device
    elif device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        try:
            resolved = torch.device(device)
        except (RuntimeError, TypeError) as exc:
            raise OptionError(
                f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', found {device!r}"
            ) from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise OptionError(f"device {str(resolved)!r} was asked for, but CUDA is not available")
    return resolved


def native_bf16(device: torch.device) -> bool:
    """Whether ``device`` computes bfloat16 natively (so bf16 autocast is fast there).

    A CUDA GPU that supports bf16, or a CPU with AVX512-BF16 or AMX tiles.
    """
    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    if device.type != "cpu":
        return False
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)


def resolve_precision(precision: str, device: torch.device, *, training: bool = False) -> str:
    """``"auto"`` becomes the fastest precision that keeps the quality on ``device``.

    ``"bf16"`` where ``device`` computes it natively; on a CUDA GPU without
    bf16, ``"fp16"`` (``"fp32"`` when ``training``); else ``"fp32"``. Other
    values are checked: one of :data:`PRECISIONS`, and ``"fp16"`` only on CUDA.

    Raises
    ------
    OptionError
        For an unknown precision or fp16 off CUDA.
    """
    if check_precision(precision) == "auto":
        if native_bf16(device):
            return "bf16"
        return "fp16" if device.type == "cuda" and not training else "fp32"
    if precision == "fp16" and device.type != "cuda":
        raise OptionError(
            f"precision 'fp16' needs a CUDA device, found {device}; use 'fp32' or 'bf16'"
        )
    return precision


def check_precision(precision: str) -> str:
    """``precision`` itself if it is ``"auto"`` or one of :data:`PRECISIONS`.

    Raises
    ------
    OptionError
        For any other value.
    """
    if precision != "auto" and precision not in PRECISIONS:
        raise OptionError(f"precision must be 'auto' or one of {PRECISIONS}, found {precision!r}")
    return precision


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager[Any]:
    """The autocast context of ``precision`` on ``device`` (none for ``"fp32"``).

    Parameters
    ----------
    device : torch.device
        Where the network runs.
    precision : {"fp32", "bf16", "fp16"}
        A resolved precision (see :func:`resolve_precision`).
    """
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=_AUTOCAST_DTYPES[precision])


@dataclass(frozen=True)
class ExecutionPlan:
    """How a network runs: device, resolved precision, memory layout, compilation.

    Attributes
    ----------
    device : torch.device
    precision : {"fp32", "bf16", "fp16"}
    channels_last : bool
        Activations and weights in the channels-last layout.
    compile : bool
        The network goes through ``torch.compile`` (batches are padded to
        one shape so that it compiles once).
    """

    device: torch.device
    precision: str
    channels_last: bool
    compile: bool = False

    def key(self) -> tuple[str, str, bool, bool]:
        """What identifies the plan in a cache."""
        return (str(self.device), self.precision, self.channels_last, self.compile)


def uses_channels_last(device: torch.device, precision: str) -> bool:
    """Channels-last for bf16 and fp16, and on CUDA always (see the module text)."""
    return device.type == "cuda" or precision in ("bf16", "fp16")


def resolve_plan(
    device: str | torch.device = "auto", precision: str = "fp32", *, compile: bool = False
) -> ExecutionPlan:
    """The :class:`ExecutionPlan` of the options ``device``, ``precision`` and ``compile``.

    Examples
    --------
    >>> resolve_plan("cpu", "fp32")
    ExecutionPlan(device=device(type='cpu'), precision='fp32', channels_last=False, compile=False)
    """
    dev = resolve_device(device)
    resolved = resolve_precision(precision, dev)
    return ExecutionPlan(dev, resolved, uses_channels_last(dev, resolved), bool(compile))
