"""The predictor's work: raw frames through a ready network, a batch at a time.

:func:`run_network` takes numpy frames ``(n, H, W, C)`` and returns float32
probabilities ``(n, H, W)``. Each batch goes to the network's device in its
own dtype (uint8 or uint16: 4x or 2x fewer bytes than float32), is
preprocessed there (:mod:`aurora_xr.model.device_prep`), goes through the
network (under autocast, in the network's memory layout, with test-time
augmentation if asked) and comes back to the frame size.

Two ways to run the batches, with the same results:

*direct* (the CPU)
    Batch after batch in the calling thread.
*pipelined* (CUDA)
    A background thread (:func:`~aurora_xr.model.prefetch.prefetched`)
    copies the next batch into a pinned host buffer and starts its transfer
    on a copy stream while the GPU computes the current one; probabilities
    come back asynchronously into pinned output buffers, and a batch's
    results are read only after the next batch has been queued, so the GPU
    always has work. The transfers synchronise through CUDA events; a
    staging buffer is refilled only after its previous transfer finished
    (:class:`Staging`). Off CUDA the same code runs with plain buffers and
    synchronous copies, which is how the tests check its logic on the CPU.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from ..errors import OptionError
from ..sky.lens import Calibration
from .device_prep import FrameGeometry, frames_to_tensor, network_input, probabilities_to_frames
from .devices import autocast, check_precision, resolve_device, resolve_precision
from .network_cache import ReadyNetwork
from .prefetch import prefetched
from .preprocess import Preprocessing
from .tta import averaged_probabilities, check_tta

__all__ = ["Staging", "batch_slices", "check_options", "logits_of", "run_network"]


def check_options(options: dict[str, Any]) -> None:
    """Check a predictor's options (see :class:`~aurora_xr.model.Predictor`).

    Raises
    ------
    OptionError
        For an option the predictor cannot use.
    """
    device, precision = options["device"], options["precision"]
    batch_size, num_threads = options["batch_size"], options["num_threads"]
    threshold, calibration = options["threshold"], options["calibration"]
    check_precision(precision)
    check_tta(options["tta"])
    if device != "auto":  # else checked where the device is known
        resolve_precision(precision, resolve_device(device))
    if not isinstance(batch_size, int | np.integer) or batch_size < 1:
        raise OptionError(f"batch_size must be an int >= 1, found {batch_size!r}")
    if num_threads is not None and (not isinstance(num_threads, int) or num_threads < 1):
        raise OptionError(f"num_threads must be an int >= 1 or None, found {num_threads!r}")
    if not 0.0 <= float(threshold) <= 1.0:
        raise OptionError(f"threshold must lie in [0, 1], found {threshold}")
    if calibration is not None and not isinstance(calibration, Calibration):
        raise OptionError(
            f"calibration must be an aurora_xr Calibration, found {type(calibration).__name__}"
        )


def batch_slices(n: int, batch_size: int) -> list[slice]:
    """``range(n)`` cut into slices of ``batch_size`` (the last one may be shorter)."""
    return [slice(start, min(start + batch_size, n)) for start in range(0, n, batch_size)]


def logits_of(module: Any, x: torch.Tensor) -> torch.Tensor:
    """Aurora logits ``(n, 1, h, w)`` of a network's output for input ``x``.

    Accepts what segmentation networks return: a dict with ``"out"``
    (torchvision), a tensor ``(n, 1, h, w)`` or ``(n, h, w)``, or a tuple
    whose first element is one of those.
    """
    out = module(x)
    if isinstance(out, dict):
        out = out["out"]
    elif isinstance(out, tuple | list):
        out = out[0]
    if out.ndim == 3:
        out = out[:, None]
    return out


def _forward(
    net: ReadyNetwork,
    raw: torch.Tensor,
    source_dtype: np.dtype,
    prep: Preprocessing,
    geometry: FrameGeometry,
    *,
    tta: str,
    pad_to: int | None,
) -> torch.Tensor:
    """Probabilities ``(k, H, W)`` on the device for raw frames ``(k, H, W, C)``."""
    count = raw.shape[0]
    if pad_to is not None and count < pad_to:  # a compiled network keeps one batch shape
        filler = raw[-1:].expand(pad_to - count, *raw.shape[1:])
        raw = torch.cat([raw, filler])
    module = net.runner
    with net.lock, torch.inference_mode(), autocast(net.device, net.precision):
        x = network_input(raw, source_dtype, prep, geometry, channels_last=net.channels_last)
        probs = averaged_probabilities(lambda view: logits_of(module, view), x, tta)
        return probabilities_to_frames(probs[:count], geometry)


def run_network(
    net: ReadyNetwork,
    frames: np.ndarray,
    prep: Preprocessing,
    geometry: FrameGeometry,
    *,
    batch_size: int,
    tta: str = "none",
    pipelined: bool | None = None,
) -> NDArray[np.float32]:
    """Probabilities ``(n, H, W)`` float32 of frames ``(n, H, W, C)``.

    Parameters
    ----------
    net : ReadyNetwork
        The network, its device, precision and layout.
    frames : (n, H, W, C) ndarray
        Raw frames (uint8, uint16 or float), ``C`` 1 or 3.
    prep : Preprocessing
        How frames become the network input.
    geometry : FrameGeometry
        Lens masks and level samples of this frame size on the device.
    batch_size : int
        Frames per forward pass.
    tta : str
        Test-time augmentation mode.
    pipelined : bool, optional
        Force the pipelined (True) or direct (False) way; default pipelined
        on CUDA only.
    """
    n, height, width = frames.shape[:3]
    out = np.empty((n, height, width), dtype=np.float32)
    slices = batch_slices(n, batch_size)
    pad_to = batch_size if net.compiled else None
    if pipelined is None:
        pipelined = net.device.type == "cuda"
    if not pipelined:
        for part in slices:
            raw = frames_to_tensor(frames[part], net.device)
            probs = _forward(net, raw, frames.dtype, prep, geometry, tta=tta, pad_to=pad_to)
            out[part] = probs.cpu().numpy()
        return out
    _run_pipelined(net, frames, prep, geometry, slices, out, tta=tta, pad_to=pad_to)
    return out


@dataclass
class Staging:
    """Host buffers that batches travel through, and the events that guard them.

    Attributes
    ----------
    buffers : list of uint8 tensors
        Pinned (on CUDA) byte buffers, each large enough for one batch.
    events : list
        Per buffer, the CUDA event recorded after its last transfer (None
        when it has none, or off CUDA where copies are synchronous).
    """

    buffers: list[torch.Tensor]
    events: list[Any] = field(default_factory=list)

    @classmethod
    def allocate(cls, nbytes: int, count: int, *, pin: bool) -> Staging:
        """``count`` buffers of ``nbytes`` bytes, page-locked when ``pin``."""
        buffers = [torch.empty(nbytes, dtype=torch.uint8, pin_memory=pin) for _ in range(count)]
        return cls(buffers=buffers, events=[None] * count)

    def take(self, slot: int) -> torch.Tensor:
        """Buffer ``slot`` % count, once its previous transfer has finished."""
        slot %= len(self.buffers)
        event = self.events[slot]
        if event is not None:
            event.synchronize()
            self.events[slot] = None
        return self.buffers[slot]

    def guard(self, slot: int, event: Any) -> None:
        """Record that buffer ``slot`` % count is in use until ``event`` completes."""
        self.events[slot % len(self.buffers)] = event


def _cuda_event(device: torch.device, stream: Any = None) -> Any:
    """A recorded CUDA event on ``stream`` (None off CUDA, where copies are synchronous)."""
    if device.type != "cuda":
        return None
    event = torch.cuda.Event()
    event.record(stream)
    return event


def _run_pipelined(
    net: ReadyNetwork,
    frames: np.ndarray,
    prep: Preprocessing,
    geometry: FrameGeometry,
    slices: list[slice],
    out: NDArray[np.float32],
    *,
    tta: str,
    pad_to: int | None,
) -> None:
    """The pipelined way of :func:`run_network` (see the module text)."""
    device = net.device
    cuda = device.type == "cuda"
    batch = max(s.stop - s.start for s in slices)
    frame_bytes = int(np.prod(frames.shape[1:])) * frames.dtype.itemsize
    inputs = Staging.allocate(batch * frame_bytes, 2, pin=cuda)
    results = Staging.allocate(batch * out[0].nbytes, 2, pin=cuda)
    copy_stream = torch.cuda.Stream(device) if cuda else None
    uploads = _uploader(frames, inputs, device, copy_stream)
    pending: tuple[slice, torch.Tensor, int] | None = None
    for index, (part, raw, ready) in enumerate(prefetched(list(enumerate(slices)), uploads)):
        if cuda:
            current = torch.cuda.current_stream(device)
            current.wait_event(ready)  # the batch has arrived
            raw.record_stream(current)  # its memory is not reused before the compute is done
        probs = _forward(net, raw, frames.dtype, prep, geometry, tta=tta, pad_to=pad_to)
        host_bytes = results.take(index)
        host = host_bytes[: probs.numel() * 4].view(torch.float32).view(probs.shape)
        host.copy_(probs, non_blocking=cuda)
        results.guard(index, _cuda_event(device))
        if pending is not None:  # the previous batch's results, while this one computes
            _collect(pending, results, out)
        pending = (part, host, index)
    if pending is not None:
        _collect(pending, results, out)


def _uploader(
    frames: np.ndarray, inputs: Staging, device: torch.device, copy_stream: Any
) -> Callable[[tuple[int, slice]], tuple[slice, torch.Tensor, Any]]:
    """The background work of one batch: into a staging buffer, then to the device."""

    def upload(item: tuple[int, slice]) -> tuple[slice, torch.Tensor, Any]:
        index, part = item
        staging = inputs.take(index)
        if copy_stream is None:  # off CUDA: a synchronous copy, so the buffer is free at once
            raw = frames_to_tensor(frames[part], torch.device("cpu"), staging=staging)
            return part, raw.to(device, copy=True), None
        with torch.cuda.stream(copy_stream):
            raw = frames_to_tensor(frames[part], device, staging=staging)
            event = _cuda_event(device, copy_stream)
        inputs.guard(index, event)
        return part, raw, event

    return upload


def _collect(
    pending: tuple[slice, torch.Tensor, int], results: Staging, out: NDArray[np.float32]
) -> None:
    """Wait for a batch's results to reach the host and copy them into ``out``."""
    part, host, index = pending
    results.take(index)  # waits for its transfer
    out[part] = host.numpy()
