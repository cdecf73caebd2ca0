"""Pixels and names of label-set images: the one place where label sets touch image files.

Every image or mask file a label set refers to is read through :func:`decode_image`,
:func:`decode_mask` and :func:`image_info` here, which today call
:mod:`aurora_xr.io.imagefiles`; moving to another reader (a format registry) changes this
module only.

Images keep their stored dtype: uint8, or uint16 for 16-bit grey images. Colour images give
three channels R, G, B (alpha dropped, palettes expanded); grey images give one channel.
"""

from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from ..errors import ImageFileError, OptionError
from ..io.imagefiles import FRAME_EXTENSIONS, read_frame, read_mask, time_from_name, time_regex

if TYPE_CHECKING:
    from PIL import Image

__all__ = [
    "IMAGE_SUFFIXES",
    "ImageInfo",
    "decode_base64",
    "decode_image",
    "decode_mask",
    "image_info",
    "name_times",
]

IMAGE_SUFFIXES: tuple[str, ...] = tuple(FRAME_EXTENSIONS)
"""File name endings of the images and masks that the readers know (lower case)."""

_GREY_MODES = frozenset({"1", "L", "LA", "I", "I;16", "I;16L", "I;16B", "I;16N"})
_WIDE_MODES = frozenset({"I", "I;16", "I;16L", "I;16B", "I;16N"})
_REFUSED_MODES = frozenset({"F", "I;32", "I;32B", "I;32L"})
_COLOUR_MODES = frozenset({"RGB", "RGBA", "RGBX", "CMYK", "YCbCr"})


@dataclass(frozen=True)
class ImageInfo:
    """Size and pixel layout of an image, from its header.

    Attributes
    ----------
    height, width : int
    channels : int
        3 for colour, 1 for grey.
    dtype : str
        ``"uint8"`` or ``"uint16"``.
    """

    height: int
    width: int
    channels: int
    dtype: str

    @property
    def shape(self) -> tuple[int, int]:
        """``(height, width)``."""
        return self.height, self.width

    def describe(self) -> str:
        """e.g. ``"512x480 RGB uint8"`` (width x height)."""
        kind = "RGB" if self.channels == 3 else "grey"
        return f"{self.width}x{self.height} {kind} {self.dtype}"


def _open(source: Path | bytes) -> Image.Image:
    from PIL import Image

    if isinstance(source, bytes):
        try:
            return Image.open(io.BytesIO(source))
        except Exception as exc:  # any decoder failure is a bad image
            raise ImageFileError(f"embedded image data is not a readable image: {exc}") from exc
    if not source.is_file():
        raise ImageFileError(f"no image file at {source}")
    try:
        return Image.open(source)
    except Exception as exc:
        raise ImageFileError(f"{source}: not a readable image: {type(exc).__name__}") from exc


def image_info(source: Path | bytes) -> ImageInfo:
    """Size, channels and dtype of an image file (or encoded bytes), from its header only."""
    with _open(source) as img:
        mode = img.mode
        width, height = img.size
    where = "embedded image data" if isinstance(source, bytes) else str(source)
    if mode in _REFUSED_MODES:
        raise ImageFileError(
            f"{where}: unsupported pixel mode {mode!r} (expected 8-bit colour or grey, "
            "or 16-bit grey)"
        )
    return ImageInfo(
        height=int(height),
        width=int(width),
        channels=1 if mode in _GREY_MODES else 3,
        dtype="uint16" if mode in _WIDE_MODES else "uint8",
    )


def decode_image(source: Path | bytes, channels: int) -> NDArray[np.unsignedinteger]:
    """Decode an image into ``(H, W, channels)`` (uint8, or uint16 for 16-bit grey).

    ``channels`` is that of :func:`image_info` (1 for grey, 3 for colour).
    """
    if isinstance(source, bytes):
        frame = _decode_bytes(source)
    else:
        try:
            frame = read_frame(source)
        except ImageFileError as exc:
            raise ImageFileError(f"{source}: {exc}") from exc
    # the reader returns grey images as R = G = B
    return frame[..., :1] if channels == 1 else frame


def _decode_bytes(data: bytes) -> NDArray[np.unsignedinteger]:
    with _open(data) as img:
        try:
            img.load()
        except Exception as exc:
            raise ImageFileError(f"embedded image data is truncated or corrupt: {exc}") from exc
        if img.mode in _WIDE_MODES:
            grey = np.asarray(img).astype(np.uint16)
            return np.repeat(grey[..., None], 3, axis=-1)
        if img.mode == "L":
            return np.repeat(np.asarray(img, dtype=np.uint8)[..., None], 3, axis=-1)
        return np.asarray(img.convert("RGB"), dtype=np.uint8)


def decode_mask(source: Path | bytes, shape: tuple[int, int] | None) -> NDArray[np.bool_]:
    """Decode a mask image into ``(H, W)`` bool: nonzero = aurora (colour: any channel).

    ``shape`` is the expected ``(H, W)`` (None for embedded shape masks of any size).
    """
    if isinstance(source, bytes):
        with _open(source) as img:
            try:
                img.load()
            except Exception as exc:
                raise ImageFileError(f"embedded mask data is truncated or corrupt: {exc}") from exc
            if img.mode in _COLOUR_MODES:
                mask = np.asarray(img.convert("RGB")).any(axis=-1)
            elif img.mode in ("LA", "PA"):
                mask = np.asarray(img)[..., 0] != 0
            else:
                mask = np.asarray(img) != 0
        if shape is not None and mask.shape != shape:
            raise ImageFileError(f"embedded mask is {mask.shape}, expected {shape}")
        return np.asarray(mask, dtype=bool)
    if shape is None:
        shape = image_info(source).shape
    try:
        return read_mask(source, shape)
    except ImageFileError as exc:
        raise ImageFileError(f"{source}: {exc}") from exc


def decode_base64(text: object, where: str) -> bytes:
    """The bytes of a base64 string embedded in a label file (LabelMe ``imageData``)."""
    if not isinstance(text, str):
        raise ImageFileError(f"{where}: expected a base64 string; found {type(text).__name__}")
    try:
        return base64.b64decode(text, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise ImageFileError(f"{where}: invalid base64 data ({exc})") from exc


def name_times(names: list[str], time_pattern: str | None) -> NDArray[np.datetime64]:
    """The UT time in each file name (datetime64[ns]), NaT where a name carries none.

    ``time_pattern`` is a strftime pattern as in :func:`aurora_xr.io.ingest`
    (e.g. ``"%Y%m%d_%H%M%S"``); None gives NaT everywhere.
    """
    out = np.full(len(names), np.datetime64("NaT", "ns"))
    if time_pattern is None:
        return out
    if not isinstance(time_pattern, str):
        raise OptionError(f"time_pattern must be a string or None; found {time_pattern!r}")
    regex = time_regex(time_pattern)
    for i, name in enumerate(names):
        when = time_from_name(name, regex, time_pattern)
        if when is not None:
            out[i] = when
    return out
