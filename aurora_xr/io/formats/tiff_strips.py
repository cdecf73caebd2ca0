"""16-bit-per-sample RGB TIFF pages, which Pillow can only open cut down to 8 bits.

Pillow opens a 48-bit RGB TIFF page as mode ``"RGB"`` keeping the high byte of each sample,
which would scale the camera's counts. :func:`read_rgb16_page` reads such a page's strips
itself, from the tags Pillow has parsed: uncompressed or Deflate/zlib-compressed strips,
chunky (RGBRGB...) samples, no predictor. Anything else is refused with a clear reason.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ...errors import ImageFileError

__all__ = ["is_rgb16", "read_rgb16_page"]

_BITS, _COMPRESSION, _OFFSETS, _SAMPLES, _ROWS, _COUNTS, _PLANAR, _PREDICTOR = (
    258,
    259,
    273,
    277,
    278,
    279,
    284,
    317,
)
_TILE_WIDTH = 322
_NONE, _DEFLATE = 1, (8, 32946)


def is_rgb16(tags: Mapping[int, Any]) -> bool:
    """Whether a TIFF page's tags describe 16-bit RGB samples (three or more, chunky or not)."""
    bits = tags.get(_BITS)
    values = (bits,) if isinstance(bits, int) else tuple(bits or ())
    return len(values) >= 3 and all(b == 16 for b in values[:3])


def read_rgb16_page(
    path: Path, tags: Mapping[int, Any], width: int, height: int
) -> NDArray[np.uint16]:
    """The ``(H, W, 3)`` native uint16 samples of one 16-bit RGB TIFF page.

    Raises
    ------
    ImageFileError
        For tiles, planar samples, a predictor, a compression other than none or Deflate,
        or strips shorter than the page.
    """
    if _TILE_WIDTH in tags:
        raise ImageFileError("tiled 16-bit RGB TIFF pages are not supported (strips only)")
    if tags.get(_PLANAR, 1) != 1:
        raise ImageFileError("planar 16-bit RGB TIFF pages are not supported (chunky only)")
    if tags.get(_PREDICTOR, 1) != 1:
        raise ImageFileError(
            f"16-bit RGB TIFF with predictor {tags.get(_PREDICTOR)} is not supported"
        )
    compression = tags.get(_COMPRESSION, _NONE)
    if compression != _NONE and compression not in _DEFLATE:
        raise ImageFileError(
            f"16-bit RGB TIFF with compression {compression} is not supported "
            "(expected none or Deflate)"
        )
    samples = int(tags.get(_SAMPLES, 3))
    offsets = tags.get(_OFFSETS)
    counts = tags.get(_COUNTS)
    if offsets is None or counts is None:
        raise ImageFileError("16-bit RGB TIFF page without strip offsets or byte counts")
    offsets = (offsets,) if isinstance(offsets, int) else tuple(offsets)
    counts = (counts,) if isinstance(counts, int) else tuple(counts)
    with open(path, "rb") as handle:
        order = "<" if handle.read(2) == b"II" else ">"
        pieces: list[bytes] = []
        for offset, count in zip(offsets, counts, strict=False):
            handle.seek(offset)
            data = handle.read(count)
            if compression != _NONE:
                try:
                    data = zlib.decompress(data)
                except zlib.error as exc:
                    raise ImageFileError(f"corrupt Deflate strip at byte {offset}: {exc}") from exc
            pieces.append(data)
    raw = b"".join(pieces)
    needed = width * height * samples * 2
    if len(raw) < needed:
        raise ImageFileError(
            f"truncated 16-bit RGB TIFF page: {needed} bytes of samples expected, {len(raw)} found"
        )
    values = np.frombuffer(raw, np.dtype(order + "u2"), width * height * samples)
    page = values.reshape(height, width, samples)[..., :3]
    return page.astype(np.uint16)
