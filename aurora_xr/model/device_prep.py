"""The preprocessing on a torch device: what the predictor and training run.

The same steps as :mod:`aurora_xr.model.preprocess` (levels, uniform contrast
ratio, resize, lens mask, channels, ImageNet normalisation), computed with
torch where the network runs, so that a GPU gets raw 8- or 16-bit frames (a
quarter or half of the bytes of float32) and does the arithmetic itself. The
numpy module is the reference: the tests hold the two to 1e-5. The lens
masks and the pixels sampled for the levels are computed once per frame size
with the numpy reference (:func:`frame_geometry`), so both backends mask and
sample exactly the same pixels.

Training calls :func:`unit_images` (steps 1-5) and, after its augmentation,
:func:`normalise` (step 6); the predictor calls :func:`network_input` (all
six) and :func:`probabilities_to_frames` on the way back.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray

from ..errors import DtypeError
from ..sky.lens import Calibration
from .lens_masks import check_lens_mask, lens_mask_for_frames
from .levels import SENSOR_BITS, level_sample_index
from .preprocess import Preprocessing, check_frames
from .resampling import resize_mask

__all__ = [
    "FrameGeometry",
    "FrameSetups",
    "frame_geometry",
    "frames_to_tensor",
    "network_input",
    "normalise",
    "probabilities_to_frames",
    "unit_images",
]


@dataclass(frozen=True)
class FrameGeometry:
    """What the preprocessing needs to know about a frame size, on a device.

    Attributes
    ----------
    frame_size : (int, int)
        ``(H, W)`` of the frames.
    input_size : (int, int)
        ``(h, w)`` of the network input.
    sample_index : (k,) int64 tensor
        Flat pixel indices sampled for the robust levels (inside the lens).
    lens_full : (1, 1, H, W) float32 tensor or None
        1 inside the lens circle at the frame size (None: nothing masked).
    lens_small : (1, 1, h, w) float32 tensor or None
        The same at the network input size.
    """

    frame_size: tuple[int, int]
    input_size: tuple[int, int]
    sample_index: torch.Tensor
    lens_full: torch.Tensor | None
    lens_small: torch.Tensor | None


def frame_geometry(
    frame_size: tuple[int, int],
    prep: Preprocessing,
    lens: np.ndarray | None,
    device: torch.device,
) -> FrameGeometry:
    """The :class:`FrameGeometry` of ``frame_size`` frames with lens mask ``lens`` (or None).

    The lens is used for the levels' sample always, and for masking when
    ``prep.mask_outside_lens``.
    """
    height, width = frame_size
    size = prep.input_size or (height, width)
    index = torch.from_numpy(level_sample_index(height, width, lens)).to(device)
    full = small = None
    if lens is not None and prep.mask_outside_lens:
        mask = np.asarray(lens, dtype=bool)
        small_np = mask if size == (height, width) else resize_mask(mask, size)
        full = torch.from_numpy(mask.astype(np.float32))[None, None].to(device)
        small = torch.from_numpy(small_np.astype(np.float32))[None, None].to(device)
    return FrameGeometry((height, width), size, index, full, small)


class FrameSetups:
    """The lens masks and :class:`FrameGeometry` of a predictor, per frame size (cached).

    The lens mask of a call is the first of: the call's ``lens_mask``, the
    predictor's ``lens_mask``, its ``calibration``, the preprocessing's
    recorded lens circle; without any, nothing is masked.
    """

    def __init__(
        self,
        prep: Preprocessing,
        *,
        lens_mask: NDArray[np.bool_] | None = None,
        calibration: Calibration | None = None,
    ) -> None:
        self.prep = prep
        self.lens_mask = lens_mask
        self.calibration = calibration
        self._lenses: dict[tuple[int, int], NDArray[np.bool_] | None] = {}
        self._geometries: dict[tuple[object, ...], FrameGeometry] = {}

    def lens(self, height: int, width: int, given: np.ndarray | None) -> NDArray[np.bool_] | None:
        """The lens mask of a call on ``height`` x ``width`` frames (see the class)."""
        if given is not None:
            return check_lens_mask(given, (height, width))
        if self.lens_mask is not None:
            return check_lens_mask(
                self.lens_mask, (height, width), name="the predictor's lens mask"
            )
        key = (height, width)
        if key not in self._lenses:
            self._lenses[key] = lens_mask_for_frames(
                height, width, calibration=self.calibration, circle=self.prep.lens_circle
            )
        return self._lenses[key]

    def geometry(
        self, device: torch.device, height: int, width: int, given: np.ndarray | None = None
    ) -> FrameGeometry:
        """The :class:`FrameGeometry` of a call, on ``device``."""
        lens = self.lens(height, width, given)
        digest = None if lens is None else hashlib.sha1(np.packbits(lens).tobytes()).hexdigest()
        key = (height, width, str(device), digest)
        found = self._geometries.get(key)
        if found is None:
            found = frame_geometry((height, width), self.prep, lens, device)
            self._geometries[key] = found
        return found


def frames_to_tensor(
    frames: np.ndarray, device: torch.device, *, staging: torch.Tensor | None = None
) -> torch.Tensor:
    """Raw frames ``(n, H, W, C)`` as a tensor on ``device``, in their own dtype.

    uint16 frames travel as int16 bits (a dtype every device copies) and are
    read back as unsigned by :func:`unit_images`. ``staging`` is a pinned
    host buffer of at least the frames' bytes (CUDA only): the frames are
    copied into it and sent asynchronously.
    """
    arr = np.ascontiguousarray(frames)
    if arr.dtype not in (np.uint8, np.uint16) and not np.issubdtype(arr.dtype, np.floating):
        raise DtypeError(f"expected frames of dtype uint8, uint16 or float, found {arr.dtype}")
    host = torch.from_numpy(arr.view(np.int16) if arr.dtype == np.uint16 else arr)
    if staging is not None:
        flat = staging.view(torch.uint8)[: host.numel() * host.element_size()]
        pinned = flat.view(host.dtype).view(host.shape)
        pinned.copy_(host)
        return pinned.to(device, non_blocking=True)
    return host.to(device)


def _as_float(frames: torch.Tensor, source_dtype: np.dtype) -> torch.Tensor:
    """Values as float32 (uint16 restored from their int16 bits)."""
    if source_dtype == np.uint16:
        return (frames.to(torch.int32) & 0xFFFF).to(torch.float32)
    values = frames.to(torch.float32)
    if np.issubdtype(source_dtype, np.floating):
        values = torch.nan_to_num(values).clamp(0.0, 1.0)
    return values


def _percentiles(values: torch.Tensor, percents: tuple[float, ...]) -> list[torch.Tensor]:
    """Per-row percentiles of ``(n, k)`` values in float64, numpy's ``"linear"`` method.

    Sorted values at the fractional rank ``p / 100 * (k - 1)``, interpolated
    linearly (``torch.quantile`` computes the same but refuses large inputs).
    """
    ordered = values.double().sort(dim=1).values
    last = ordered.shape[1] - 1
    out = []
    for percent in percents:
        rank = percent / 100.0 * last
        low = min(int(rank), last)
        high = min(low + 1, last)
        frac = rank - low
        out.append(ordered[:, low] + (ordered[:, high] - ordered[:, low]) * frac)
    return out


def _full_scale(white: torch.Tensor, source_dtype: np.dtype) -> torch.Tensor:
    if source_dtype == np.uint8:
        return torch.full_like(white, 255.0)
    if source_dtype != np.uint16:
        return torch.ones_like(white)
    out = torch.full_like(white, 65535.0)
    for bits in reversed(SENSOR_BITS):
        top = float(2**bits - 1)
        out = torch.where(white <= top, torch.full_like(white, top), out)
    return out


def unit_images(
    frames: torch.Tensor,
    source_dtype: np.dtype,
    prep: Preprocessing,
    geometry: FrameGeometry,
) -> torch.Tensor:
    """Steps 1-5: raw frames ``(n, H, W, C)`` on a device to ``(n, 3, h, w)`` in [0, 1].

    Parameters
    ----------
    frames : (n, H, W, C) tensor
        From :func:`frames_to_tensor`; ``C`` is 1 or 3.
    source_dtype : numpy dtype
        The dtype of the frames as read (uint8, uint16 or float).
    prep : Preprocessing
        The options.
    geometry : FrameGeometry
        Lens masks and level samples of this frame size.
    """
    n, height, width, channels = frames.shape
    values = _as_float(frames, source_dtype)
    if prep.levels == "dtype":
        if source_dtype == np.uint8:
            values = values / 255.0
        elif source_dtype == np.uint16:
            values = values / 65535.0
    else:
        sample = values.reshape(n, height * width, channels)[:, geometry.sample_index, :]
        black, white = _percentiles(
            sample.reshape(n, -1), (prep.black_percentile, prep.white_percentile)
        )
        span = torch.maximum(white - black, prep.min_span * _full_scale(white, source_dtype))
        shape = (-1, 1, 1, 1)
        values = (values - black.float().view(shape)) / span.float().view(shape)
        values = values.clamp(0.0, 1.0)
    if prep.contrast_ratio != 1.0:
        values = (values * prep.contrast_ratio).clamp(0.0, 1.0)
    unit = values.permute(0, 3, 1, 2)
    if geometry.input_size != (height, width):
        unit = F.interpolate(
            unit.contiguous(),
            size=geometry.input_size,
            mode="bilinear",
            antialias=True,
            align_corners=False,
        )
    if geometry.lens_small is not None:
        unit = unit * geometry.lens_small
    if channels == 1:
        unit = unit.expand(-1, 3, -1, -1)
    return unit.contiguous()


def normalise(unit: torch.Tensor, prep: Preprocessing) -> torch.Tensor:
    """Step 6: ``(x - mean) / std`` per channel of ``(n, 3, h, w)`` images in [0, 1]."""
    mean = torch.tensor(prep.mean, dtype=unit.dtype, device=unit.device).view(1, 3, 1, 1)
    std = torch.tensor(prep.std, dtype=unit.dtype, device=unit.device).view(1, 3, 1, 1)
    return (unit - mean) / std


def network_input(
    frames: torch.Tensor,
    source_dtype: np.dtype,
    prep: Preprocessing,
    geometry: FrameGeometry,
    *,
    channels_last: bool = False,
) -> torch.Tensor:
    """All six steps: raw frames ``(n, H, W, C)`` on a device to the network input."""
    check_frames(frames)
    x = normalise(unit_images(frames, source_dtype, prep, geometry), prep)
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


def probabilities_to_frames(probabilities: torch.Tensor, geometry: FrameGeometry) -> torch.Tensor:
    """Probabilities ``(n, 1, h, w)`` back to ``(n, H, W)`` float32, 0 outside the lens."""
    probs = probabilities.float()
    if tuple(probs.shape[-2:]) != geometry.frame_size:
        probs = F.interpolate(
            probs, size=geometry.frame_size, mode="bilinear", antialias=True, align_corners=False
        )
    probs = probs.clamp(0.0, 1.0)
    if geometry.lens_full is not None:
        probs = probs * geometry.lens_full
    return probs[:, 0]
