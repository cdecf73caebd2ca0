"""Whole-file decompression that keeps what it can of a damaged gzip stream.

Readers of gzip-wrapped formats (``.pgm.gz``) decompress a file once into memory with
:func:`decompress_file`; a truncated or corrupt stream still yields every byte before the
damage, plus a note saying what happened, so that the frames before it are kept.
"""

from __future__ import annotations

import zlib
from pathlib import Path

__all__ = ["GZIP_MAGIC", "decompress_bytes", "decompress_file"]

GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 16


def _salvage(data: bytes) -> tuple[bytes, int]:
    """Decompress ``data`` chunk by chunk up to the first error; return output and bytes used."""
    engine = zlib.decompressobj(wbits=31)
    parts: list[bytes] = []
    used = 0
    for start in range(0, len(data), _CHUNK):
        try:
            parts.append(engine.decompress(data[start : start + _CHUNK]))
        except zlib.error:
            break
        used = start + _CHUNK
    return b"".join(parts), min(used, len(data))


def decompress_bytes(raw: bytes) -> tuple[bytes, str | None]:
    """The content of ``raw`` (gunzipped when it starts with the gzip magic), and a damage note.

    Several gzip members one after the other are decompressed and joined, as ``gunzip`` does.

    Returns
    -------
    content : bytes
        Everything that could be decompressed (``raw`` itself when it is not gzip).
    note : str or None
        ``None`` for an intact stream, else what went wrong and where.
    """
    if not raw.startswith(GZIP_MAGIC):
        return raw, None
    parts: list[bytes] = []
    rest = raw
    offset = 0
    note: str | None = None
    while rest:
        engine = zlib.decompressobj(wbits=31)
        try:
            parts.append(engine.decompress(rest))
        except zlib.error as exc:
            salvaged, used = _salvage(rest)
            parts.append(salvaged)
            note = f"corrupt gzip data near byte {offset + used} of the file ({exc})"
            break
        if not engine.eof:
            parts.append(engine.flush())
            note = f"gzip stream truncated (file ends at byte {len(raw)})"
            break
        offset += len(rest) - len(engine.unused_data)
        rest = engine.unused_data
        if rest and not rest.startswith(GZIP_MAGIC):
            if rest.strip(b"\x00"):
                note = f"{len(rest)} bytes of garbage after the gzip data ignored"
            break
    content = parts[0] if len(parts) == 1 else b"".join(parts)
    return content, note


def decompress_file(path: Path) -> tuple[bytes, str | None]:
    """Read ``path`` and return :func:`decompress_bytes` of its bytes."""
    with open(path, "rb") as handle:
        raw = handle.read()
    return decompress_bytes(raw)
