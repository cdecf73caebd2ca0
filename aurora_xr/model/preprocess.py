"""The one preprocessing shared by training and inference (numpy only, no torch).

A frame goes through these steps, in this order:

1. scale to [0, 1]: ``uint8 / 255``, ``uint16 / 65535`` (floats are taken as
   already scaled and clipped);
2. the uniform contrast ratio: every frame multiplied by the same ratio and
   clipped to [0, 1] (the paper contrast-stretched its frames with one
   uniform ratio before labelling);
3. an optional resize to the network input size (antialiased linear filter);
4. the area outside the lens circle set to black;
5. ImageNet normalisation (``(x - mean) / std`` per channel), channels first.

Steps 1–4 are :func:`prepare_frames`; step 5 is :func:`normalize`.
Training applies its augmentation between the two; inference calls
:func:`preprocess_frames`, which runs all five. Probabilities come back to
the frame size with :func:`postprocess_probabilities`, which also zeroes the
area outside the lens circle.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import DtypeError, FrameSizeError, OptionError
from ..sky.lens import Calibration, sky_grids

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "Preprocessing",
    "apply_contrast",
    "lens_circle_from_mask",
    "lens_mask_from_calibration",
    "lens_mask_from_circle",
    "lens_mask_from_elevation",
    "normalize",
    "postprocess_probabilities",
    "prepare_frames",
    "preprocess_frames",
    "resize_mask",
    "resize_stack",
    "scale_to_unit",
]

IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
"""Per-channel mean (R, G, B) of the ImageNet normalisation used by torchvision."""

IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)
"""Per-channel standard deviation (R, G, B) of the ImageNet normalisation."""


@dataclass(frozen=True)
class Preprocessing:
    """How frames are turned into network input; stored in every checkpoint.

    Parameters
    ----------
    contrast_ratio : float
        Uniform contrast ratio: frames scaled to [0, 1] are multiplied by it
        and clipped to [0, 1]. ``1.0`` leaves them unchanged.
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
        for name in ("mean", "std"):
            values = tuple(float(v) for v in getattr(self, name))
            if len(values) != 3 or not all(np.isfinite(values)):
                raise OptionError(f"{name} must hold 3 finite numbers (R, G, B), found {values}")
            object.__setattr__(self, name, values)
        if min(self.std) <= 0:
            raise OptionError(f"std must be > 0 for every channel, found {self.std}")
        if self.input_size is not None:
            size = _as_size(self.input_size)
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
            "mean": list(self.mean),
            "std": list(self.std),
            "input_size": None if self.input_size is None else list(self.input_size),
            "mask_outside_lens": self.mask_outside_lens,
            "lens_circle": None if self.lens_circle is None else list(self.lens_circle),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Preprocessing:
        """Read a dictionary written by :meth:`to_dict` (unknown keys are an error)."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise OptionError(
                f"unknown preprocessing fields {unknown}; expected some of {sorted(known)}"
            )
        kwargs: dict[str, Any] = dict(data)
        for key in ("mean", "std", "input_size", "lens_circle"):
            if kwargs.get(key) is not None:
                kwargs[key] = tuple(kwargs[key])
        return cls(**kwargs)


def _as_size(size: Any) -> tuple[int, int]:
    """``(height, width)`` from an int or a pair of ints."""
    if isinstance(size, int | np.integer):
        size = (int(size), int(size))
    try:
        height, width = (int(v) for v in size)
    except (TypeError, ValueError) as exc:
        raise OptionError(f"a size must be an int or (height, width), found {size!r}") from exc
    if height < 1 or width < 1:
        raise OptionError(f"a size must be positive, found {(height, width)}")
    return height, width


def _check_frames(frames: np.ndarray) -> None:
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise FrameSizeError(
            f"expected frames of shape (n, height, width, 3), found shape {frames.shape}"
        )


# -- steps ----------------------------------------------------------------------
def scale_to_unit(frames: np.ndarray) -> NDArray[np.float32]:
    """Frames scaled to [0, 1] as float32.

    Parameters
    ----------
    frames : ndarray
        ``uint8`` (divided by 255), ``uint16`` (divided by 65535) or floating
        point (taken as already in [0, 1] and clipped).

    Raises
    ------
    DtypeError
        For any other dtype.

    Examples
    --------
    >>> scale_to_unit(np.array([0, 51, 255], dtype=np.uint8)).tolist()
    [0.0, 0.20000000298023224, 1.0]
    """
    arr = np.asarray(frames)
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / np.float32(255.0)
    if arr.dtype == np.uint16:
        return arr.astype(np.float32) / np.float32(65535.0)
    if np.issubdtype(arr.dtype, np.floating):
        return np.clip(np.nan_to_num(arr.astype(np.float32)), 0.0, 1.0)
    raise DtypeError(f"expected frames of dtype uint8, uint16 or float, found {arr.dtype}")


def apply_contrast(unit: np.ndarray, ratio: float) -> NDArray[np.float32]:
    """Multiply frames in [0, 1] by one uniform ``ratio`` and clip to [0, 1]."""
    out = np.asarray(unit, dtype=np.float32)
    if ratio == 1.0:
        return out
    return np.clip(out * np.float32(ratio), 0.0, 1.0)


def _resize_weights(n_in: int, n_out: int) -> NDArray[np.float32]:
    """(n_out, n_in) matrix of the resampling filter :func:`resize_stack` applies.

    An antialiased linear (triangle) filter: pixel centres follow the
    half-pixel convention; the filter widens by the reduction factor when
    shrinking, so that every input pixel contributes (no aliasing), and rows
    are renormalised at the edges (edge clamping). This is the reference
    definition (Pillow's ``BILINEAR`` resampling, which does the work, is the
    same filter; the tests check it).
    """
    scale = n_in / n_out
    support = max(scale, 1.0)
    centres = (np.arange(n_out) + 0.5) * scale - 0.5
    taps = np.arange(n_in, dtype=np.float64)
    weights = np.maximum(0.0, 1.0 - np.abs(taps[None, :] - centres[:, None]) / support)
    weights /= weights.sum(axis=1, keepdims=True)
    return weights.astype(np.float32)


def resize_stack(images: np.ndarray, size: tuple[int, int] | int) -> NDArray[np.float32]:
    """Resize a stack of images ``(n, H, W[, C])`` to ``size`` = (height, width).

    An antialiased linear filter (see :func:`_resize_weights`), in float32,
    run by Pillow one plane at a time (fast, and it releases the GIL). The
    identity when the size already matches.
    """
    from PIL import Image

    out_h, out_w = _as_size(size)
    arr = np.asarray(images, dtype=np.float32)
    if arr.ndim not in (3, 4):
        raise FrameSizeError(f"expected images (n, H, W) or (n, H, W, C), found {arr.shape}")
    n, height, width = arr.shape[:3]
    if (height, width) == (out_h, out_w):
        return arr
    tail = arr.shape[3:]
    channels = int(np.prod(tail)) if tail else 1
    planes = arr.reshape(n, height, width, channels)
    out = np.empty((n, out_h, out_w, channels), dtype=np.float32)
    for i in range(n):
        for c in range(channels):
            plane = Image.fromarray(np.ascontiguousarray(planes[i, :, :, c]))
            out[i, :, :, c] = np.asarray(
                plane.resize((out_w, out_h), Image.Resampling.BILINEAR), dtype=np.float32
            )
    return out.reshape((n, out_h, out_w, *tail))


def resize_mask(mask: np.ndarray, size: tuple[int, int] | int) -> NDArray[np.bool_]:
    """Resize boolean masks ``(H, W)`` or ``(n, H, W)``: linear filter, then >= 0.5."""
    arr = np.asarray(mask, dtype=bool)
    single = arr.ndim == 2
    stack = arr[None] if single else arr
    if stack.shape[1:3] == _as_size(size):
        return arr.copy()
    out = resize_stack(stack.astype(np.float32), size) >= 0.5
    return out[0] if single else out


def lens_mask_from_elevation(elevation: np.ndarray) -> NDArray[np.bool_]:
    """True inside the lens circle: where the elevation coordinate is finite."""
    el = np.asarray(elevation, dtype=float)
    if el.ndim != 2:
        raise FrameSizeError(f"expected a (y, x) elevation image, found shape {el.shape}")
    return np.isfinite(el)


def lens_mask_from_calibration(
    calibration: Calibration, height: int | None = None, width: int | None = None
) -> NDArray[np.bool_]:
    """True inside the lens circle of ``calibration`` (scaled to ``height`` x ``width``)."""
    cal = calibration
    if height is not None and width is not None and (height, width) != (cal.height, cal.width):
        cal = cal.scaled(int(width), int(height))
    elevation, _ = sky_grids(cal)
    return np.isfinite(elevation)


def lens_mask_from_circle(
    circle: tuple[float, float, float], height: int, width: int
) -> NDArray[np.bool_]:
    """True inside a lens circle given as fractions (see :class:`Preprocessing`)."""
    fx, fy, fr = circle
    zx = fx * width - 0.5
    zy = fy * height - 0.5
    radius = fr * min(height, width)
    yy, xx = np.mgrid[0:height, 0:width]
    return np.hypot(xx - zx, yy - zy) <= radius


def lens_circle_from_mask(mask: np.ndarray) -> tuple[float, float, float] | None:
    """The circle of a lens mask as fractions: centroid, and the radius of equal area.

    Returns None when the mask is empty or covers the whole frame (no lens edge).
    """
    arr = np.asarray(mask, dtype=bool)
    count = int(arr.sum())
    if count == 0 or count == arr.size:
        return None
    height, width = arr.shape
    yy, xx = np.nonzero(arr)
    zx = (float(xx.mean()) + 0.5) / width
    zy = (float(yy.mean()) + 0.5) / height
    radius = float(np.sqrt(count / np.pi)) / min(height, width)
    return zx, zy, radius


def prepare_frames(
    frames: np.ndarray,
    preprocessing: Preprocessing,
    *,
    lens_mask: np.ndarray | None = None,
) -> tuple[NDArray[np.float32], NDArray[np.bool_] | None]:
    """Steps 1–4: scale, contrast, resize, mask; channels last, values in [0, 1].

    Parameters
    ----------
    frames : (n, H, W, 3) ndarray
        Raw frames (R, G, B).
    preprocessing : Preprocessing
        The options (contrast ratio, input size, masking).
    lens_mask : (H, W) bool ndarray, optional
        True inside the lens circle. Without it nothing is masked.

    Returns
    -------
    unit : (n, h, w, 3) float32 ndarray
        Frames in [0, 1] at the network input size.
    lens : (h, w) bool ndarray or None
        The lens mask at the network input size (None when not masking).
    """
    arr = np.asarray(frames)
    _check_frames(arr)
    unit = apply_contrast(scale_to_unit(arr), preprocessing.contrast_ratio)
    height, width = arr.shape[1:3]
    lens: NDArray[np.bool_] | None = None
    if lens_mask is not None and preprocessing.mask_outside_lens:
        lens = np.asarray(lens_mask, dtype=bool)
        if lens.shape != (height, width):
            raise FrameSizeError(
                f"the lens mask has shape {lens.shape}, the frames are {(height, width)}"
            )
    if preprocessing.input_size is not None and preprocessing.input_size != (height, width):
        unit = resize_stack(unit, preprocessing.input_size)
        if lens is not None:
            lens = resize_mask(lens, preprocessing.input_size)
    if lens is not None:
        unit = np.where(lens[None, :, :, None], unit, np.float32(0.0))
    return np.ascontiguousarray(unit, dtype=np.float32), lens


def normalize(unit: np.ndarray, preprocessing: Preprocessing) -> NDArray[np.float32]:
    """Step 5: ``(x - mean) / std`` per channel, returned channels first (n, 3, h, w)."""
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
    """All five steps: raw frames ``(n, H, W, 3)`` to network input ``(n, 3, h, w)``.

    Examples
    --------
    >>> frames = np.zeros((1, 4, 4, 3), dtype=np.uint8)
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
        lens = np.asarray(lens_mask, dtype=bool)
        if lens.shape != tuple(frame_size):
            raise FrameSizeError(
                f"the lens mask has shape {lens.shape}, the frames are {tuple(frame_size)}"
            )
        out = np.where(lens[None], out, np.float32(0.0))
    return np.ascontiguousarray(out, dtype=np.float32)
