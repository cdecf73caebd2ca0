"""The one preprocessing shared by training and inference (numpy reference, no torch).

Any camera's frames, ``(n, H, W, C)`` with ``C = 3`` (R, G, B) or ``C = 1``
(a single-channel camera: white light, 557.7 nm, 630.0 nm, ...), 8- or
16-bit, go through these steps, in this order:

1. **levels**: to [0, 1] by the frame's robust black and white levels
   (``levels="robust"``, the default: per frame, the 1st and 99.5th
   percentiles of the pixels inside the lens circle, all channels pooled,
   with the gain capped at 10x; see :mod:`aurora_xr.model.levels`), or by
   the dtype's maximum (``levels="dtype"``, checkpoints written before
   levels existed);
2. **the uniform contrast ratio**: every frame multiplied by the same ratio
   and clipped to [0, 1] (the paper contrast-stretched its frames with one
   uniform ratio before labelling);
3. an optional **resize** to the network input size (antialiased linear
   filter, :mod:`aurora_xr.model.resampling`);
4. the area **outside the lens circle** set to black;
5. **channels**: a single channel is replicated to the three input channels
   of the network (grey); colour frames stay R, G, B;
6. **ImageNet normalisation** (``(x - mean) / std`` per channel), channels first.

Steps 1-5 are :func:`prepare_frames`; step 6 is :func:`normalize`.
Training applies its augmentation between the two; inference calls
:func:`preprocess_frames`, which runs all six. Probabilities come back to
the frame size with :func:`postprocess_probabilities`, which also zeroes the
area outside the lens circle. The options are a :class:`Preprocessing`,
stored in every checkpoint. The predictor and training run the same steps on
a torch device (:mod:`aurora_xr.model.device_prep`); this module is their
reference, and the tests hold the two to 1e-5.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import FrameSizeError, OptionError
from .lens_masks import check_lens_mask
from .levels import check_levels, frame_levels, scale_to_unit
from .resampling import as_size, resize_mask, resize_stack

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "LEGACY_LEVELS",
    "Preprocessing",
    "apply_contrast",
    "check_frames",
    "normalize",
    "postprocess_probabilities",
    "prepare_frames",
    "preprocess_frames",
    "resize_mask",
    "resize_stack",
    "scale_to_unit",
    "to_unit",
]

IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
"""Per-channel mean (R, G, B) of the ImageNet normalisation used by torchvision."""

IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)
"""Per-channel standard deviation (R, G, B) of the ImageNet normalisation."""

LEGACY_LEVELS = "dtype"
"""The levels of a checkpoint whose preprocessing does not name any (written before them)."""

CHANNELS = (1, 3)
"""Channel counts a frame may have: one (a single-channel camera) or three (R, G, B)."""


@dataclass(frozen=True)
class Preprocessing:
    """How frames are turned into network input; stored in every checkpoint.

    Parameters
    ----------
    contrast_ratio : float
        Uniform contrast ratio: frames scaled to [0, 1] are multiplied by it
        and clipped to [0, 1]. ``1.0`` leaves them unchanged.
    levels : {"robust", "dtype"}
        How raw frames come to [0, 1] (step 1): per-frame robust black and
        white levels (the default), or the dtype's maximum. A checkpoint
        whose preprocessing names no levels was written before they existed
        and reads as ``"dtype"``.
    black_percentile, white_percentile : float
        Percentiles (0-100) of the sampled lens pixels taken as the black and
        white levels (``"robust"`` only).
    min_span : float
        Smallest white-minus-black span as a fraction of the full scale: the
        stretch gains at most ``1 / min_span`` (``"robust"`` only).
    mean, std : tuple of 3 float
        Per-channel (R, G, B) normalisation.
    input_size : (int, int) or None
        ``(height, width)`` of the network input; frames of another size are
        resized to it and probabilities resized back. ``None`` runs the
        network at the frame size.
    mask_outside_lens : bool
        Set the area outside the lens circle to black on input and the
        probability there to 0 on output.
    lens_circle : (float, float, float) or None
        Fallback lens circle used when a caller gives neither a lens mask nor
        a calibration: zenith column and row as fractions of the frame width
        and height (pixel edges at 0 and 1) and radius as a fraction of the
        smaller frame side. Training records the circle of its data here.
    """

    contrast_ratio: float = 1.0
    levels: str = "robust"
    black_percentile: float = 1.0
    white_percentile: float = 99.5
    min_span: float = 0.1
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    input_size: tuple[int, int] | None = None
    mask_outside_lens: bool = True
    lens_circle: tuple[float, float, float] | None = None

    def __post_init__(self) -> None:
        ratio = float(self.contrast_ratio)
        if not (np.isfinite(ratio) and ratio > 0):
            raise OptionError(f"contrast_ratio must be a finite number > 0, found {ratio}")
        object.__setattr__(self, "contrast_ratio", ratio)
        check_levels(self.levels)
        black, white = float(self.black_percentile), float(self.white_percentile)
        if not 0.0 <= black < white <= 100.0:
            raise OptionError(
                "black_percentile and white_percentile must satisfy 0 <= black < white <= 100, "
                f"found {black} and {white}"
            )
        span = float(self.min_span)
        if not 0.0 < span <= 1.0:
            raise OptionError(f"min_span must lie in (0, 1], found {span}")
        object.__setattr__(self, "black_percentile", black)
        object.__setattr__(self, "white_percentile", white)
        object.__setattr__(self, "min_span", span)
        for name in ("mean", "std"):
            values = tuple(float(v) for v in getattr(self, name))
            if len(values) != 3 or not all(np.isfinite(values)):
                raise OptionError(f"{name} must hold 3 finite numbers (R, G, B), found {values}")
            object.__setattr__(self, name, values)
        if min(self.std) <= 0:
            raise OptionError(f"std must be > 0 for every channel, found {self.std}")
        if self.input_size is not None:
            size = as_size(self.input_size)
            object.__setattr__(self, "input_size", size)
        if self.lens_circle is not None:
            circle = tuple(float(v) for v in self.lens_circle)
            if len(circle) != 3 or not all(np.isfinite(circle)) or circle[2] <= 0:
                raise OptionError(
                    "lens_circle must be (zenith_x, zenith_y, radius) as fractions with "
                    f"radius > 0, found {self.lens_circle}"
                )
            object.__setattr__(self, "lens_circle", circle)
        object.__setattr__(self, "mask_outside_lens", bool(self.mask_outside_lens))

    def replace(self, **changes: Any) -> Preprocessing:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary (inverse of :meth:`from_dict`)."""
        return {
            "contrast_ratio": self.contrast_ratio,
            "levels": self.levels,
            "black_percentile": self.black_percentile,
            "white_percentile": self.white_percentile,
            "min_span": self.min_span,
            "mean": list(self.mean),
            "std": list(self.std),
            "input_size": None if self.input_size is None else list(self.input_size),
            "mask_outside_lens": self.mask_outside_lens,
            "lens_circle": None if self.lens_circle is None else list(self.lens_circle),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Preprocessing:
        """Read a dictionary written by :meth:`to_dict` (unknown keys are an error).

        Without ``levels`` (a checkpoint written before levels existed) the
        levels are :data:`LEGACY_LEVELS`, as that checkpoint was trained.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise OptionError(
                f"unknown preprocessing fields {unknown}; expected some of {sorted(known)}"
            )
        kwargs: dict[str, Any] = dict(data)
        kwargs.setdefault("levels", LEGACY_LEVELS)
        for key in ("mean", "std", "input_size", "lens_circle"):
            if kwargs.get(key) is not None:
                kwargs[key] = tuple(kwargs[key])
        return cls(**kwargs)


def check_frames(frames: Any) -> None:
    """Raise :class:`~aurora_xr.errors.FrameSizeError` unless ``frames`` is ``(n, H, W, C)``.

    ``C`` is 1 (a single-channel camera) or 3 (R, G, B).
    """
    if frames.ndim != 4 or frames.shape[-1] not in CHANNELS:
        raise FrameSizeError(
            "expected frames of shape (n, height, width, 3) for R, G, B or (n, height, width, 1) "
            f"for a single-channel camera, found shape {frames.shape}"
        )


def apply_contrast(unit: np.ndarray, ratio: float) -> NDArray[np.float32]:
    """Multiply frames in [0, 1] by one uniform ``ratio`` and clip to [0, 1]."""
    out = np.asarray(unit, dtype=np.float32)
    if ratio == 1.0:
        return out
    return np.clip(out * np.float32(ratio), 0.0, 1.0)


def to_unit(
    frames: np.ndarray, preprocessing: Preprocessing, *, lens_mask: np.ndarray | None = None
) -> NDArray[np.float32]:
    """Step 1: raw frames ``(n, H, W, C)`` to [0, 1] by the preprocessing's levels.

    ``lens_mask`` (True inside the lens circle) restricts the pixels that
    the robust levels are estimated on.
    """
    arr = np.asarray(frames)
    if preprocessing.levels == "dtype":
        return scale_to_unit(arr)
    black, span = frame_levels(
        arr,
        lens=lens_mask,
        black_percentile=preprocessing.black_percentile,
        white_percentile=preprocessing.white_percentile,
        min_span=preprocessing.min_span,
    )
    values = arr.astype(np.float32)
    if np.issubdtype(arr.dtype, np.floating):
        values = np.clip(np.nan_to_num(values), 0.0, 1.0)
    shape = (-1, 1, 1, 1)
    out = (values - black.astype(np.float32).reshape(shape)) / span.astype(np.float32).reshape(
        shape
    )
    return np.clip(out, 0.0, 1.0)


def prepare_frames(
    frames: np.ndarray,
    preprocessing: Preprocessing,
    *,
    lens_mask: np.ndarray | None = None,
) -> tuple[NDArray[np.float32], NDArray[np.bool_] | None]:
    """Steps 1-5: levels, contrast, resize, mask, channels; channels last, in [0, 1].

    Parameters
    ----------
    frames : (n, H, W, C) ndarray
        Raw frames: ``C = 3`` (R, G, B) or ``C = 1``; uint8, uint16 or float.
    preprocessing : Preprocessing
        The options (levels, contrast ratio, input size, masking).
    lens_mask : (H, W) bool ndarray, optional
        True inside the lens circle. Without it nothing is masked and the
        levels are estimated on the whole frame.

    Returns
    -------
    unit : (n, h, w, 3) float32 ndarray
        Frames in [0, 1] at the network input size, three channels.
    lens : (h, w) bool ndarray or None
        The lens mask at the network input size (None when not masking).
    """
    arr = np.asarray(frames)
    check_frames(arr)
    height, width = arr.shape[1:3]
    lens_full = None if lens_mask is None else check_lens_mask(lens_mask, (height, width))
    unit = apply_contrast(
        to_unit(arr, preprocessing, lens_mask=lens_full), preprocessing.contrast_ratio
    )
    lens = lens_full if preprocessing.mask_outside_lens else None
    if preprocessing.input_size is not None and preprocessing.input_size != (height, width):
        unit = resize_stack(unit, preprocessing.input_size)
        if lens is not None:
            lens = resize_mask(lens, preprocessing.input_size)
    if lens is not None:
        unit = np.where(lens[None, :, :, None], unit, np.float32(0.0))
    if unit.shape[-1] == 1:
        unit = np.repeat(unit, 3, axis=-1)
    return np.ascontiguousarray(unit, dtype=np.float32), lens


def normalize(unit: np.ndarray, preprocessing: Preprocessing) -> NDArray[np.float32]:
    """Step 6: ``(x - mean) / std`` per channel, returned channels first (n, 3, h, w)."""
    mean = np.asarray(preprocessing.mean, dtype=np.float32)
    std = np.asarray(preprocessing.std, dtype=np.float32)
    out = (np.asarray(unit, dtype=np.float32) - mean) / std
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2))


def preprocess_frames(
    frames: np.ndarray,
    preprocessing: Preprocessing,
    *,
    lens_mask: np.ndarray | None = None,
) -> NDArray[np.float32]:
    """All six steps: raw frames ``(n, H, W, C)`` to network input ``(n, 3, h, w)``.

    Examples
    --------
    >>> frames = np.zeros((1, 4, 4, 1), dtype=np.uint16)
    >>> x = preprocess_frames(frames, Preprocessing(input_size=(2, 2)))
    >>> x.shape, round(float(x[0, 0, 0, 0]), 4)
    ((1, 3, 2, 2), -2.1179)
    """
    unit, _ = prepare_frames(frames, preprocessing, lens_mask=lens_mask)
    return normalize(unit, preprocessing)


def postprocess_probabilities(
    probabilities: np.ndarray,
    *,
    frame_size: tuple[int, int],
    lens_mask: np.ndarray | None = None,
) -> NDArray[np.float32]:
    """Network probabilities ``(n, h, w)`` back to the frame size, 0 outside the lens.

    Parameters
    ----------
    probabilities : (n, h, w) ndarray
        Probabilities at the network input size.
    frame_size : (int, int)
        ``(H, W)`` of the frames.
    lens_mask : (H, W) bool ndarray, optional
        True inside the lens circle; probabilities outside it become 0.
    """
    probs = np.asarray(probabilities, dtype=np.float32)
    if probs.ndim != 3:
        raise FrameSizeError(f"expected probabilities (n, h, w), found shape {probs.shape}")
    out = resize_stack(probs, frame_size)
    out = np.clip(out, 0.0, 1.0)
    if lens_mask is not None:
        lens = check_lens_mask(lens_mask, frame_size)
        out = np.where(lens[None], out, np.float32(0.0))
    return np.ascontiguousarray(out, dtype=np.float32)
