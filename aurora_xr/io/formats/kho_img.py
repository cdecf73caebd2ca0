"""KHO KeoSentry raw ``.img`` files (``$Spextube IV image file``), Kjell Henriksen Observatory.

Layout (little-endian throughout): a 60-byte header that starts with the text
``$Spextube IV image file generation ...`` (NUL-padded; its last 12 bytes are not documented),
then uint16 ``nx``, ``ny`` and bytes per pixel (2 for the 16-bit imagers, 1 for 8-bit), then
the ``ny x nx`` image row by row, then a short trailer (21 bytes in the real files). Frames are
returned as stored (``orientation = "as_written"``: north up, east left for the KHO imagers).

The file holds no time: ``times`` is ``None`` and the ingest takes the time from the file name
(``W8446B18_2020-12-11_20-09-36.img``: pattern ``%Y-%m-%d_%H-%M-%S``). A name starting with one
letter and a four-digit wavelength in tenths of nm (``W8446...``) names the band
(``"844.6nm"``), else the channel is ``"white"``. File-level metadata: ``header_text`` and
``trailer_hex`` (the undocumented bytes, kept verbatim).
"""

from __future__ import annotations

import re
import struct
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import ImageFileError
from .conventions import band_name
from .registry import CameraFormat, register_format
from .results import FileHeader, FrameFile

__all__ = ["HEADER_BYTES", "MAGIC", "KhoImgFormat"]

MAGIC = b"$Spextube"
HEADER_BYTES = 60
_SIZE = struct.Struct("<3H")
_BAND = re.compile(r"^[A-Za-z](\d{4})")


def _layout(path: Path, head: bytes, size: int) -> tuple[int, int, int, dict[str, Any]]:
    if not head.startswith(MAGIC):
        raise ImageFileError(f"not a KHO $Spextube image (first bytes {head[:12]!r})")
    if len(head) < HEADER_BYTES + _SIZE.size:
        raise ImageFileError(f"truncated KHO header: {len(head)} bytes of {HEADER_BYTES + 6}")
    nx, ny, depth = _SIZE.unpack_from(head, HEADER_BYTES)
    if depth not in (1, 2) or nx == 0 or ny == 0:
        raise ImageFileError(
            f"KHO header gives {nx}x{ny} pixels of {depth} bytes (expected 1 or 2 bytes)"
        )
    needed = HEADER_BYTES + _SIZE.size + nx * ny * depth
    if size < needed:
        raise ImageFileError(
            f"truncated: {nx}x{ny} pixels of {depth} bytes need {needed} bytes, the file has {size}"
        )
    text = head[:HEADER_BYTES].split(b"\x00", 1)[0].decode("latin-1").strip()
    meta: dict[str, Any] = {"orientation": "as_written", "header_text": text}
    band = _BAND.match(path.name)
    if band and 3000 <= int(band.group(1)) <= 11000:
        meta["filter"] = band_name(int(band.group(1)) / 10.0)
    return nx, ny, depth, meta


class KhoImgFormat(CameraFormat):
    """KHO KeoSentry ``$Spextube`` raw images (one frame per file, time in the name)."""

    name = "kho_img"
    description = "KHO KeoSentry raw .img ($Spextube header, little-endian 16-bit)"
    extensions = (".img",)

    def accept(self, prefix: bytes, path: Path) -> bool:
        """The ``$Spextube`` text at the start of the header."""
        return prefix.startswith(MAGIC)

    def read(self, path: Path, **options: Any) -> FrameFile:
        """The one frame of the file (times ``None``)."""
        path = Path(path)
        raw = path.read_bytes()
        nx, ny, depth, meta = _layout(path, raw[: HEADER_BYTES + _SIZE.size], len(raw))
        start = HEADER_BYTES + _SIZE.size
        end = start + nx * ny * depth
        meta["trailer_hex"] = raw[end:].hex()
        dtype = np.dtype("<u2") if depth == 2 else np.dtype(np.uint8)
        frame = np.frombuffer(raw, dtype, nx * ny, start).reshape(1, ny, nx)
        return FrameFile(
            path=path,
            format=self.name,
            frames=frame.astype(dtype.newbyteorder("=")),
            channels=(meta.get("filter", "white"),),
            times=None,
            metadata=meta,
        )

    def read_header(self, path: Path, **options: Any) -> FileHeader:
        """Size and depth from the 66 header bytes."""
        path = Path(path)
        with open(path, "rb") as handle:
            head = handle.read(HEADER_BYTES + _SIZE.size)
        nx, ny, depth, meta = _layout(path, head, path.stat().st_size)
        return FileHeader(
            path=path,
            format=self.name,
            n_frames=1,
            height=ny,
            width=nx,
            channels=(meta.get("filter", "white"),),
            dtype=np.dtype(np.uint16 if depth == 2 else np.uint8),
            times=None,
            metadata=meta,
        )


register_format(KhoImgFormat)
