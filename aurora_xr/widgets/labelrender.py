"""What the labelling tool sends to the browser: the stretched frame and its overlay.

The frame is shown through the paper's **uniform contrast stretch**: scaled to [0, 1] by its
dtype (``uint8 / 255``, ``uint16 / 65535``), multiplied by one ratio, clipped to [0, 1]
(the same as :func:`aurora_xr.model.preprocess.apply_contrast`, so the labeller sees what the
network is given). It is applied through a lookup table (256 or 65,536 entries), so that a
frame of any bit depth costs one indexing pass. Single-channel frames are shown grey.

The overlay is one RGBA layer composited in numpy: the model's probability as a pre-label
(a colour ramp from the display threshold up, opaque where it reaches the mask threshold),
and the mask being drawn on top (a translucent fill with an opaque outline). Both layers are
encoded once, as PNG (lossless: what the labeller sees of the mask is the mask) or JPEG for
the frame, and sent as bytes; only the overlay is re-encoded after an edit.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..errors import DtypeError, OptionError

__all__ = [
    "OverlayStyle",
    "encode_image",
    "mask_outline",
    "overlay_rgba",
    "stretch_frame",
    "stretch_table",
]

_FULL_SCALE = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}
IMAGE_FORMATS = ("png", "jpeg")


def stretch_table(dtype: np.dtype[np.unsignedinteger] | type, ratio: float) -> NDArray[np.uint8]:
    """Lookup table of the uniform contrast stretch, from stored values to display bytes.

    Parameters
    ----------
    dtype : numpy dtype
        ``uint8`` (256 entries) or ``uint16`` (65,536 entries).
    ratio : float
        The uniform contrast ratio (> 0); 1 shows the frame as stored.

    Returns
    -------
    ndarray of uint8, shape (256,) or (65536,)
        ``round(255 * clip(value / full_scale * ratio, 0, 1))``.

    Examples
    --------
    >>> stretch_table(np.uint8, 2.0)[[0, 64, 127, 128, 255]].tolist()
    [0, 128, 254, 255, 255]
    """
    dt = np.dtype(dtype)
    if dt not in _FULL_SCALE:
        raise DtypeError(f"expected uint8 or uint16 frames; found {dt}")
    if not (np.isfinite(ratio) and ratio > 0):
        raise OptionError(f"expected a contrast ratio > 0; found {ratio}")
    values = np.arange(int(_FULL_SCALE[dt]) + 1, dtype=np.float64)
    unit = np.clip(values / _FULL_SCALE[dt] * float(ratio), 0.0, 1.0)
    return np.rint(unit * 255.0).astype(np.uint8)


def stretch_frame(frame: np.ndarray, ratio: float) -> NDArray[np.uint8]:
    """A frame as display bytes through the uniform contrast stretch.

    Parameters
    ----------
    frame : ndarray of uint8 or uint16, shape (H, W), (H, W, 1) or (H, W, 3)
        The frame as stored; a single channel is shown grey.
    ratio : float
        The uniform contrast ratio.

    Returns
    -------
    ndarray of uint8, shape (H, W, 3)
    """
    arr = np.asarray(frame)
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[-1] != 3):
        raise OptionError(f"expected a frame (H, W), (H, W, 1) or (H, W, 3); found {arr.shape}")
    shown = stretch_table(arr.dtype, ratio)[arr]
    if shown.ndim == 2:
        shown = np.repeat(shown[..., None], 3, axis=-1)
    return shown


@dataclass(frozen=True)
class OverlayStyle:
    """Colours of the overlay (RGBA, 0-255).

    Attributes
    ----------
    mask_fill, mask_edge : tuple of 4 int
        The mask's translucent fill and its outline.
    prelabel : tuple of 3 int
        Colour of the model's probability.
    prelabel_alpha : int
        Opacity where the probability reaches the threshold (it fades to 0 at ``floor``).
    floor : float
        Probabilities below this are not shown.
    """

    mask_fill: tuple[int, int, int, int] = (0, 230, 255, 90)
    mask_edge: tuple[int, int, int, int] = (0, 255, 255, 255)
    prelabel: tuple[int, int, int] = (255, 120, 0)
    prelabel_alpha: int = 150
    floor: float = 0.1


def mask_outline(mask: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Pixels of ``mask`` with a 4-neighbour outside it (the frame's border counts as outside)."""
    m = np.asarray(mask, dtype=bool)
    inner = np.zeros_like(m)
    inner[1:-1, 1:-1] = m[1:-1, 1:-1] & m[:-2, 1:-1] & m[2:, 1:-1] & m[1:-1, :-2] & m[1:-1, 2:]
    return m & ~inner


def _prelabel_table(style: OverlayStyle, threshold: float) -> NDArray[np.uint8]:
    """(256, 4) RGBA for probabilities quantised to 0..255."""
    p = np.arange(256, dtype=np.float64) / 255.0
    ramp = np.clip((p - style.floor) / max(threshold - style.floor, 1e-6), 0.0, 1.0)
    alpha = np.where(p >= threshold, float(style.prelabel_alpha), ramp * 0.6 * style.prelabel_alpha)
    table = np.zeros((256, 4), dtype=np.uint8)
    table[:, :3] = style.prelabel
    table[:, 3] = np.rint(alpha).astype(np.uint8)
    return table


def overlay_rgba(
    mask: NDArray[np.bool_] | None,
    probability: NDArray[np.floating] | None = None,
    *,
    threshold: float = 0.5,
    style: OverlayStyle = OverlayStyle(),
) -> NDArray[np.uint8]:
    """The overlay layer: the pre-label under the mask, as straight-alpha RGBA.

    Parameters
    ----------
    mask : (H, W) ndarray of bool, or None
        The mask being drawn (None: no mask layer).
    probability : (H, W) ndarray of float, or None
        The model's aurora probability in [0, 1] (None: no pre-label).
    threshold : float
        The pre-label's threshold: pixels at or above it are shown opaque.
    style : OverlayStyle
        Colours.

    Returns
    -------
    (H, W, 4) ndarray of uint8
    """
    shapes = [a.shape for a in (mask, probability) if a is not None]
    if not shapes:
        raise OptionError("expected a mask or a probability to draw an overlay of")
    if len(set(shapes)) > 1:
        raise OptionError(f"mask and probability differ in shape: {shapes[0]} vs {shapes[1]}")
    height, width = shapes[0][:2]
    # one uint32 per RGBA pixel: each colour is written with a single gather or masked copy
    if probability is not None:
        q = np.empty((height, width), dtype=np.uint8)
        np.rint(np.clip(np.nan_to_num(probability), 0.0, 1.0) * 255.0, out=q, casting="unsafe")
        packed = _prelabel_table(style, threshold).view(np.uint32)[:, 0][q]
    else:
        packed = np.zeros((height, width), dtype=np.uint32)
    if mask is not None:
        m = np.asarray(mask, dtype=bool)
        np.copyto(packed, _packed(style.mask_fill), where=m)
        np.copyto(packed, _packed(style.mask_edge), where=mask_outline(m))
    return packed.view(np.uint8).reshape(height, width, 4)


def _packed(rgba: tuple[int, int, int, int]) -> np.uint32:
    return np.array(rgba, dtype=np.uint8).view(np.uint32)[0]


def encode_image(pixels: NDArray[np.uint8], format: str = "png", *, quality: int = 92) -> bytes:
    """PNG or JPEG bytes of an (H, W, 3) or (H, W, 4) uint8 image (JPEG drops alpha).

    PNG is written at the fastest compression level: the bytes travel to a browser on the
    same machine or network, where encoding time matters more than size.
    """
    from PIL import Image

    if format not in IMAGE_FORMATS:
        raise OptionError(f"image format must be one of {IMAGE_FORMATS}; found {format!r}")
    arr = np.ascontiguousarray(pixels, dtype=np.uint8)
    if format == "jpeg" and arr.ndim == 3 and arr.shape[-1] == 4:
        arr = np.ascontiguousarray(arr[..., :3])
    buffer = io.BytesIO()
    image = Image.fromarray(arr)
    if format == "png":
        image.save(buffer, format="png", compress_level=1)
    else:
        image.save(buffer, format="jpeg", quality=int(quality))
    return buffer.getvalue()
