"""Labelled frames as training tensors, a batch at a time, and their validation scores.

:func:`read_batch` reads frames and masks from a frame source and prepares
them on the training device (steps 1-5 of :mod:`aurora_xr.model.preprocess`,
by :mod:`aurora_xr.model.device_prep`, the code the predictor runs) as
tensors at the network input size, with a weight that is 1 inside the lens
circle; :func:`network_input` normalises them (step 6) into the layout of
the network's weights; :func:`batch_indices` cuts a frame order into batches;
:func:`validation_scores` scores a network on frames at its input size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from .data import FrameSource
from .device_prep import frame_geometry, frames_to_tensor, normalise, unit_images
from .devices import autocast
from .metrics import confusion_counts, scores
from .preprocess import Preprocessing, check_frames
from .resampling import resize_mask

__all__ = ["TrainingBatch", "batch_indices", "network_input", "read_batch", "validation_scores"]


@dataclass(frozen=True)
class TrainingBatch:
    """A batch at the network input size, in [0, 1], as tensors.

    Attributes
    ----------
    images : (n, 3, h, w) float32 tensor
        Frames, channels R, G, B (a single channel replicated to three).
    masks : (n, 1, h, w) float32 tensor
        Truth, 1 for aurora (0 outside the lens circle).
    weights : (n, 1, h, w) float32 tensor
        1 where pixels count (inside the lens circle), else 0.
    """

    images: torch.Tensor
    masks: torch.Tensor
    weights: torch.Tensor


def read_batch(
    source: FrameSource,
    indices: Sequence[int],
    prep: Preprocessing,
    lens_small: NDArray[np.bool_] | None,
    device: torch.device,
) -> TrainingBatch:
    """Frames ``indices`` of ``source`` prepared by ``prep``, on ``device``.

    ``lens_small`` is the lens mask at the network input size (None: the
    whole frame counts).
    """
    frames, truth = source.read(indices)
    check_frames(frames)
    geometry = frame_geometry(frames.shape[1:3], prep, source.lens_mask, device)
    images = unit_images(frames_to_tensor(frames, device), frames.dtype, prep, geometry)
    size = geometry.input_size
    masks = resize_mask(truth, size) if truth.shape[1:3] != size else truth
    n = images.shape[0]
    if lens_small is not None:
        masks = masks & lens_small[None]
        weight = np.broadcast_to(lens_small[None], (n, *size)).astype(np.float32)
    else:
        weight = np.ones((n, *size), dtype=np.float32)
    return TrainingBatch(
        images=images,
        masks=torch.from_numpy(masks.astype(np.float32))[:, None].to(device),
        weights=torch.from_numpy(weight)[:, None].to(device),
    )


def network_input(images: torch.Tensor, prep: Preprocessing) -> torch.Tensor:
    """Normalised images in the channels-last layout of the network's weights."""
    return normalise(images, prep).contiguous(memory_format=torch.channels_last)


def batch_indices(indices: NDArray[np.int64], batch_size: int) -> list[list[int]]:
    """``indices`` cut into batches of ``batch_size``, without a last batch of one frame."""
    chunks = [indices[i : i + batch_size].tolist() for i in range(0, len(indices), batch_size)]
    if len(chunks) > 1 and len(chunks[-1]) == 1 and batch_size > 1:
        chunks.pop()  # BatchNorm cannot train on a single frame
    return chunks


def validation_scores(
    model: nn.Module,
    source: FrameSource,
    indices: NDArray[np.int64],
    prep: Preprocessing,
    lens_small: NDArray[np.bool_] | None,
    *,
    device: torch.device,
    precision: str,
    batch_size: int,
    threshold: float,
) -> dict[str, Any]:
    """Pixel scores at the network input size on ``indices``."""
    model.eval()
    counts = np.zeros(4, dtype=np.int64)
    with torch.inference_mode():
        for start in range(0, len(indices), batch_size):
            part = indices[start : start + batch_size].tolist()
            batch = read_batch(source, part, prep, lens_small, device)
            with autocast(device, precision):
                logits = model(network_input(batch.images, prep))["out"]
            pred = (torch.sigmoid(logits.float()) >= threshold).cpu().numpy()[:, 0]
            truth = batch.masks.cpu().numpy()[:, 0] >= 0.5
            valid = batch.weights.cpu().numpy()[:, 0] >= 0.5
            counts += confusion_counts(pred, truth, valid)
    return scores(*(int(c) for c in counts))
