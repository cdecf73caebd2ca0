"""PGM/PPM (netpbm ``P5``/``P6``) files, single- or multi-frame, gzipped or not.

The format of the University of Calgary imagers (THEMIS ASI, TREx, Rainbow, REGO): one file
(usually ``.pgm.gz``) holds several binary PGM images one after the other; each is preceded by
``#"key" value`` comment lines, then ``width height``, the maximum value, and the pixels, 8-bit
(maximum value < 256) or 16-bit **big-endian** (the netpbm rule). Frames come back in the
machine's byte order, rows in file order: the raw arrays pair index for index with the
operators' raw skymap arrays (``orientation = "as_written"``).

What the reader takes from each frame's header:

* every ``#"key" value`` comment, as per-frame metadata under its :func:`metadata_key` name
  (``"Exposure Options"`` and ``"Exposure options"`` both ``exposure_options``); a key written
  twice with another value is kept as ``key_2``; plain ``# ...`` comments as ``comment``;
* the time: ``Image request start`` (``YYYY-MM-DD HH:MM:SS.ffffff UTC``); a frame without it
  in a file whose other frames have it is skipped; a file where no frame has it gives
  ``times = None``;
* ``exposure_s`` from ``MSEC=`` in ``Exposure options``; ``ccd_temperature_c`` from
  ``Current CCD temperature``;
* file level (first good frame): ``site_latitude``/``site_longitude``/``site_altitude_m`` from
  ``Geodetic ...`` or ``Geographic ...``, ``site_id``, ``site_name``, ``project_id``,
  ``camera`` (``Imager unique ID``), ``mode_id``, ``pixel_aspect_ratio``, ``optical_center``
  (``(x0, y0)`` as written: CCD pixels before binning and windowing), ``max_value``, and
  ``optical_center_xy`` in frame pixels (column, row) when ``Exposure options`` gives the
  window: ``((x0 - XOFFSET) / XBIN, (y0 - YOFFSET) / YBIN)``.

Channels: ``P6`` frames are RGB. A ``P5`` frame is one channel named from ``Mode unique ID``
when it is a wavelength in tenths of nm (TREx NIR ``8446`` -> ``"844.6nm"``), ``"mosaic"`` for a
colour camera that writes its raw colour-filter mosaic into one channel (the Rainbow imagers:
``metadata["colour_mosaic"] = True``), else ``"white"``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from .compression import decompress_file
from .conventions import band_name, first_float, metadata_key
from .registry import CameraFormat, gunzip_prefix, register_format
from .results import FileHeader, FrameError, FrameFile, metadata_columns, no_good_frame

__all__ = ["PnmFormat", "parse_comments"]

_SEP = rb"(?:\s|#[^\n]*\n)+"
_HEAD = re.compile(rb"P([56])(" + _SEP + rb")(\d+)(" + _SEP + rb")(\d+)(" + _SEP + rb")(\d+)\s")
_KEYED = re.compile(rb'(?m)^[ \t]*#"([^"\n]*)"[ \t]*([^\n]*)')
_PLAIN = re.compile(rb'(?m)^[ \t]*#(?!")[ \t]?([^\n]*)')
_MSEC = re.compile(r"MSEC=([-+0-9.eE]+)")
_XY = re.compile(r"x0=([-+0-9.]+)\s*,\s*y0=([-+0-9.]+)")
_WINDOW = re.compile(r"\b(XBIN|YBIN|XOFFSET|YOFFSET)=([-+0-9.]+)")
_TIME_KEY = "image_request_start"
_COLOUR = re.compile(r"colou?r", re.IGNORECASE)


class _Frame(NamedTuple):
    position: int
    colour: bool
    width: int
    height: int
    max_value: int
    offset: int
    comments: bytes

    @property
    def nbytes(self) -> int:
        return self.width * self.height * (3 if self.colour else 1) * self.bytes_per_sample

    @property
    def bytes_per_sample(self) -> int:
        return 1 if self.max_value < 256 else 2

    @property
    def layout(self) -> tuple[bool, int, int, int]:
        return (self.colour, self.width, self.height, self.bytes_per_sample)

    def describe(self) -> str:
        kind = "colour" if self.colour else "grey"
        return f"{self.width}x{self.height} {8 * self.bytes_per_sample}-bit {kind}"


def parse_comments(block: bytes) -> dict[str, str]:
    """The header comments of one PNM image as ``{snake_case key: value}``.

    ``#"key" value`` lines give keys; other ``# text`` lines are joined under ``comment``.
    A key repeated with another value is kept as ``key_2``, ``key_3``, ...
    """
    text = block.replace(b"\r", b"")
    out: dict[str, str] = {}
    for raw_key, raw_value in _KEYED.findall(text):
        key = metadata_key(raw_key.decode("latin-1"))
        value = raw_value.decode("latin-1").strip()
        name, count = key, 1
        while name in out and out[name] != value:
            count += 1
            name = f"{key}_{count}"
        out[name] = value
    plain = [p.decode("latin-1").strip() for p in _PLAIN.findall(text)]
    if any(plain):
        out["comment"] = "\n".join(p for p in plain if p)
    return out


def _scan(buf: bytes) -> tuple[list[_Frame], list[FrameError]]:
    """Find every image of a multi-image PNM buffer; bad ones become errors, with resync."""
    frames: list[_Frame] = []
    errors: list[FrameError] = []
    pos, size, index = 0, len(buf), 0
    while pos < size:
        while pos < size and buf[pos] in b" \t\r\n\x00":
            pos += 1
        if pos >= size:
            break
        match = _HEAD.match(buf, pos)
        if match is None:
            found = bytes(buf[pos : pos + 12])
            errors.append(FrameError(index, f"no PNM header at byte {pos} (found {found!r})"))
            index += 1
            nxt = _HEAD.search(buf, pos + 1)
            if nxt is None:
                break
            pos = nxt.start()
            continue
        magic, c1, w, c2, h, c3, maxval = match.groups()
        frame = _Frame(index, magic == b"6", int(w), int(h), int(maxval), match.end(), c1 + c2 + c3)
        if not 0 < frame.max_value < 65536 or frame.width == 0 or frame.height == 0:
            errors.append(
                FrameError(
                    index,
                    f"invalid PNM header at byte {pos}: {frame.width}x{frame.height}, "
                    f"maximum value {frame.max_value} (expected 1..65535)",
                )
            )
            pos, index = match.end(), index + 1
            continue
        end = frame.offset + frame.nbytes
        if end > size:
            errors.append(
                FrameError(
                    index,
                    f"truncated: {frame.describe()} needs {frame.nbytes} bytes of pixels, "
                    f"the file holds {size - frame.offset}",
                )
            )
            break
        frames.append(frame)
        pos, index = end, index + 1
    return frames, errors


def _time(value: str) -> np.datetime64:
    text = value.strip()
    if text.upper().endswith("UTC"):
        text = text[:-3].strip()
    return np.datetime64(text.replace(" ", "T"), "ns")


def _canonical(header: dict[str, str]) -> dict[str, Any]:
    row: dict[str, Any] = dict(header)
    options = header.get("exposure_options", "")
    msec = _MSEC.search(options)
    if msec:
        row["exposure_s"] = float(msec.group(1)) / 1000.0
    temp = header.get("current_ccd_temperature")
    if temp is not None and (value := first_float(temp)) is not None:
        row["ccd_temperature_c"] = value
    return row


def _site_value(header: dict[str, str], what: str) -> float | None:
    for prefix in ("geodetic", "geographic"):
        if f"{prefix}_{what}" in header:
            return first_float(header[f"{prefix}_{what}"])
    return None


def _file_metadata(header: dict[str, str], first: _Frame) -> tuple[dict[str, Any], tuple[str, ...]]:
    meta: dict[str, Any] = {"orientation": "as_written", "max_value": first.max_value}
    for name, what in (
        ("site_latitude", "latitude"),
        ("site_longitude", "longitude"),
        ("site_altitude_m", "altitude"),
    ):
        if (value := _site_value(header, what)) is not None:
            meta[name] = value
    for name, key in (
        ("site_id", "site_unique_id"),
        ("site_name", "site_name"),
        ("project_id", "project_unique_id"),
        ("camera", "imager_unique_id"),
        ("mode_id", "mode_unique_id"),
    ):
        if header.get(key):
            meta[name] = header[key]
    if "pixel_aspect_ratio" in header and (
        (ratio := first_float(header["pixel_aspect_ratio"])) is not None
    ):
        meta["pixel_aspect_ratio"] = ratio
    centre = _XY.search(header.get("optical_center", ""))
    if centre:
        x0, y0 = float(centre.group(1)), float(centre.group(2))
        meta["optical_center"] = (x0, y0)
        window = {k: float(v) for k, v in _WINDOW.findall(header.get("exposure_options", ""))}
        if {"XBIN", "YBIN"} <= set(window) and window["XBIN"] > 0 and window["YBIN"] > 0:
            meta["optical_center_xy"] = (
                (x0 - window.get("XOFFSET", 0.0)) / window["XBIN"],
                (y0 - window.get("YOFFSET", 0.0)) / window["YBIN"],
            )
    if first.colour:
        return meta, ("R", "G", "B")
    described = " ".join(header.get(k, "") for k in ("imager_comment", "imager_model"))
    camera = header.get("imager_unique_id", "").lower()
    if _COLOUR.search(described) or camera.startswith(("rainbow", "rgb")):
        meta["colour_mosaic"] = True
        return meta, ("mosaic",)
    mode = header.get("mode_unique_id", "")
    if re.fullmatch(r"\d{4}", mode) and 3000 <= int(mode) <= 11000:
        meta["filter"] = band_name(int(mode) / 10.0)
        return meta, (meta["filter"],)
    return meta, ("white",)


class _Parsed(NamedTuple):
    frames: list[_Frame]
    headers: list[dict[str, str]]
    times: NDArray[np.datetime64] | None
    errors: list[FrameError]
    metadata: dict[str, Any]
    channels: tuple[str, ...]


def _parse(path: Path) -> tuple[bytes, _Parsed]:
    buf, note = decompress_file(path)
    frames, errors = _scan(buf)
    if note is not None:
        last = max([f.position for f in frames] + [e.index for e in errors] + [-1])
        tail = [e for e in errors if e.index == last]
        if tail:
            errors[errors.index(tail[0])] = FrameError(last, f"{tail[0].reason} ({note})")
        else:
            errors.append(FrameError(last + 1, f"{note}: the frames after this point are lost"))
    if not frames:
        raise no_good_frame(errors or [FrameError(0, "no PNM image in the file")])
    first = frames[0]
    kept: list[_Frame] = []
    for frame in frames:
        if frame.layout != first.layout:
            errors.append(
                FrameError(
                    frame.position,
                    f"{frame.describe()} differs from the file's first frame ({first.describe()})",
                )
            )
        else:
            kept.append(frame)
    headers = [parse_comments(f.comments) for f in kept]
    times: NDArray[np.datetime64] | None = None
    if any(_TIME_KEY in h for h in headers):
        stamps: list[np.datetime64] = []
        good: list[int] = []
        for i, (frame, header) in enumerate(zip(kept, headers, strict=True)):
            try:
                stamps.append(_time(header[_TIME_KEY]))
                good.append(i)
            except KeyError:
                errors.append(FrameError(frame.position, "no 'Image request start' time in header"))
            except ValueError:
                value = header[_TIME_KEY]
                errors.append(
                    FrameError(
                        frame.position,
                        f"unreadable 'Image request start' {value!r} "
                        "(expected YYYY-MM-DD HH:MM:SS.ffffff UTC)",
                    )
                )
        kept, headers = [kept[i] for i in good], [headers[i] for i in good]
        times = np.array(stamps, dtype="datetime64[ns]")
    if not kept:
        raise no_good_frame(sorted(errors, key=lambda e: e.index))
    metadata, channels = _file_metadata(headers[0], kept[0])
    errors.sort(key=lambda e: e.index)
    return buf, _Parsed(kept, headers, times, errors, metadata, channels)


def _pixels(buf: bytes, frames: list[_Frame]) -> NDArray[np.unsignedinteger[Any]]:
    first = frames[0]
    shape: tuple[int, ...] = (first.height, first.width) + ((3,) if first.colour else ())
    count = int(np.prod(shape))
    source = np.dtype(">u2") if first.bytes_per_sample == 2 else np.dtype(np.uint8)
    out = np.empty((len(frames), *shape), dtype=source.newbyteorder("="))
    for i, frame in enumerate(frames):
        out[i] = np.frombuffer(buf, source, count, frame.offset).reshape(shape)
    return out


class PnmFormat(CameraFormat):
    """Binary PGM/PPM (``P5``/``P6``), one or several images per file, optionally gzipped."""

    name = "pnm"
    description = "netpbm PGM/PPM (P5/P6), multi-frame, gzipped or not (THEMIS, TREx, Rainbow)"
    extensions = (".pgm", ".pgm.gz", ".pnm", ".pnm.gz", ".ppm", ".ppm.gz")

    def accept(self, prefix: bytes, path: Path) -> bool:
        """``P5``/``P6`` then whitespace or a comment, inside gzip or not."""
        start = gunzip_prefix(prefix)
        return len(start) >= 3 and start[:2] in (b"P5", b"P6") and start[2:3] in b" \t\r\n#"

    def read(self, path: Path, **options: Any) -> FrameFile:
        """Read every good frame (see the module docstring)."""
        buf, parsed = _parse(Path(path))
        rows = [_canonical(h) for h in parsed.headers]
        if "filter" in parsed.metadata:
            for row in rows:
                row["filter"] = parsed.metadata["filter"]
        return FrameFile(
            path=Path(path),
            format=self.name,
            frames=_pixels(buf, parsed.frames),
            channels=parsed.channels,
            times=parsed.times,
            frame_metadata=metadata_columns(rows),
            metadata=parsed.metadata,
            errors=parsed.errors,
            index=np.array([f.position for f in parsed.frames], dtype=np.int64),
        )

    def read_header(self, path: Path, **options: Any) -> FileHeader:
        """Frame count, size, dtype and times, without converting any pixel."""
        _, parsed = _parse(Path(path))
        first = parsed.frames[0]
        return FileHeader(
            path=Path(path),
            format=self.name,
            n_frames=len(parsed.frames),
            height=first.height,
            width=first.width,
            channels=parsed.channels,
            dtype=np.dtype(np.uint16 if first.bytes_per_sample == 2 else np.uint8),
            times=parsed.times,
            metadata=parsed.metadata,
            errors=parsed.errors,
        )


register_format(PnmFormat)
