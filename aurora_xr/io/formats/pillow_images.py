"""JPEG, PNG and TIFF files through Pillow: 8-bit colour or grey, 16-bit grey, TIFF pages.

Frames come back as the file holds them, rows in file order (``orientation = "as_written"``):

* colour (RGB, and RGBA/palette/CMYK/YCbCr converted to RGB, alpha dropped): ``(n, H, W, 3)``
  uint8, channels ``("R", "G", "B")``;
* grey: ``(n, H, W)`` uint8 (mode ``L``, ``LA`` without alpha, bilevel as 0/255) or uint16
  (16-bit PNG/TIFF), one channel ``"white"``;
* 16-bit RGB TIFF (which Pillow would cut to 8 bits): read from its strips as uint16;
* 32-bit integer or float images are refused, as are integer images beyond 0..65535.

A multi-page TIFF gives one frame per page; a bad page, or one of another size or kind than
the first good page, is skipped and reported. These files carry no reliable UTC time (EXIF and
TIFF ``DateTime`` are the camera's local clock of unknown zone): ``times`` is ``None`` and the
ingest takes the time from the file name. EXIF/TIFF text tags are kept as per-frame metadata
(``date_time_original``, ``make``, ``model``, ...; ``exposure_s`` from ``ExposureTime``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ...errors import ImageFileError
from .registry import CameraFormat, register_format
from .results import FileHeader, FrameError, FrameFile, metadata_columns, no_good_frame
from .tiff_strips import is_rgb16, read_rgb16_page

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["JpegFormat", "PngFormat", "TiffFormat", "decode_image", "open_image"]

GREY16_MODES = ("I;16", "I;16L", "I;16B", "I;16N")
_TO_RGB = ("RGBA", "RGBX", "CMYK", "YCbCr", "P", "PA", "HSV", "LAB", "RGBa")
_STRUCTURAL_TAGS = {254, 256, 257, 258, 259, 262, 273, 277, 278, 279, 284, 317, 322, 323}
_STRUCTURAL_TAGS |= {324, 325, 338, 339, 340, 341, 320, 530, 531, 532, 34665, 34853, 40965}
_EXIF_IFD = 0x8769
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def open_image(path: Path) -> Image.Image:
    """Open an image with Pillow (lazily), turning every failure into an ImageFileError."""
    from PIL import Image, UnidentifiedImageError

    try:
        size = Path(path).stat().st_size
    except OSError as exc:
        raise ImageFileError(f"cannot be read: {exc.strerror or exc}") from exc
    if size == 0:
        raise ImageFileError("empty file (0 bytes)")
    try:
        return Image.open(path)
    except UnidentifiedImageError as exc:
        raise ImageFileError(
            "not a readable JPEG/PNG/TIFF image (corrupt or another format)"
        ) from exc
    except Exception as exc:  # any failure of the decoder is a bad file
        raise ImageFileError(f"not a readable image: {type(exc).__name__}: {exc}") from exc


def _layout(img: Image.Image) -> tuple[np.dtype[Any], tuple[str, ...]]:
    """dtype and channels of a page, from its mode and tags, without decoding it."""
    mode = img.mode
    tags = getattr(img, "tag_v2", None)
    if mode == "RGB" and tags is not None and is_rgb16(tags):
        return np.dtype(np.uint16), ("R", "G", "B")
    if mode in ("RGB", *_TO_RGB):
        return np.dtype(np.uint8), ("R", "G", "B")
    if mode in ("L", "LA", "1"):
        return np.dtype(np.uint8), ("white",)
    if mode in (*GREY16_MODES, "I"):
        return np.dtype(np.uint16), ("white",)
    raise ImageFileError(
        f"unsupported pixel mode {mode!r} (expected 8-bit colour or grey, 16-bit grey or RGB)"
    )


def decode_image(img: Image.Image, path: Path) -> NDArray[np.unsignedinteger[Any]]:
    """The current page of an open image as ``(H, W)`` or ``(H, W, 3)`` uint8/uint16."""
    dtype, channels = _layout(img)
    tags = getattr(img, "tag_v2", None)
    if dtype == np.uint16 and len(channels) == 3 and tags is not None:
        return read_rgb16_page(path, tags, img.width, img.height)
    try:
        img.load()
    except Exception as exc:  # truncated or corrupt data
        raise ImageFileError(
            f"truncated or corrupt image data: {type(exc).__name__}: {exc}"
        ) from exc
    mode = img.mode
    if mode in _TO_RGB:
        return np.asarray(img.convert("RGB"), dtype=np.uint8)
    if mode in ("LA", "1"):
        return np.asarray(img.convert("L"), dtype=np.uint8)
    values = np.asarray(img)
    out_of_range = values.size and (values.min() < 0 or values.max() > 65535)
    if dtype == np.uint16 and values.dtype != np.uint16 and out_of_range:
        raise ImageFileError(f"pixel values outside 0..65535 in a {mode!r} image")
    return values.astype(dtype)


def _tag_value(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return None
    if isinstance(value, str):
        return value.strip("\x00 ")
    if isinstance(value, int | float):
        return value
    try:  # IFDRational and friends
        return float(value)
    except (TypeError, ValueError):
        return None


def _page_metadata(img: Image.Image) -> dict[str, Any]:
    from PIL import ExifTags, TiffTags

    row: dict[str, Any] = {}
    tags = getattr(img, "tag_v2", None)
    if tags is not None:  # TIFF pages
        for tag, value in tags.items():
            if tag in _STRUCTURAL_TAGS:
                continue
            name = TiffTags.lookup(tag).name
            if (clean := _tag_value(value)) is not None:
                row[_CAMEL.sub("_", name).lower()] = clean
    else:
        exif = img.getexif()
        items = list(exif.items()) + list(exif.get_ifd(_EXIF_IFD).items())
        for tag, value in items:
            if tag in _STRUCTURAL_TAGS or (clean := _tag_value(value)) is None:
                continue
            name = ExifTags.TAGS.get(tag, f"Tag{tag}")
            row[_CAMEL.sub("_", name).lower()] = clean
    if "orientation" in row:  # the EXIF/TIFF display hint, not the array orientation
        row["exif_orientation"] = row.pop("orientation")
    if isinstance(row.get("exposure_time"), float):
        row["exposure_s"] = row["exposure_time"]
    return row


def _frame_count(img: Image.Image) -> int:
    return int(getattr(img, "n_frames", 1))


class _PillowFormat(CameraFormat):
    """Shared reader of the Pillow formats; subclasses set the name and the magic bytes."""

    magics: tuple[bytes, ...] = ()

    def accept(self, prefix: bytes, path: Path) -> bool:
        """The format's magic bytes."""
        return prefix.startswith(self.magics)

    def read(self, path: Path, **options: Any) -> FrameFile:
        """Every good page of the file as frames (see the module docstring)."""
        path = Path(path)
        frames: list[NDArray[np.unsignedinteger[Any]]] = []
        rows: list[dict[str, Any]] = []
        index: list[int] = []
        errors: list[FrameError] = []
        channels: tuple[str, ...] = ()
        meta: dict[str, Any] = {"orientation": "as_written"}
        with open_image(path) as img:
            count = _frame_count(img)
            meta["pillow_format"] = img.format or ""
            for i in range(count):
                try:
                    img.seek(i)
                    page = decode_image(img, path)
                    layout = (page.shape, page.dtype)
                    if frames and layout != (frames[0].shape, frames[0].dtype):
                        raise ImageFileError(
                            f"page of shape {page.shape} {page.dtype} differs from the first "
                            f"good page ({frames[0].shape} {frames[0].dtype})"
                        )
                    row = _page_metadata(img)
                except ImageFileError as exc:
                    errors.append(FrameError(i, str(exc)))
                    continue
                except Exception as exc:  # a page Pillow cannot reach
                    errors.append(FrameError(i, f"unreadable page: {type(exc).__name__}: {exc}"))
                    continue
                if not channels:
                    channels = ("R", "G", "B") if page.ndim == 3 else ("white",)
                frames.append(page)
                rows.append(row)
                index.append(i)
        if not frames:
            raise no_good_frame(errors)
        return FrameFile(
            path=path,
            format=self.name,
            frames=np.stack(frames),
            channels=channels,
            times=None,
            frame_metadata=metadata_columns(rows),
            metadata=meta,
            errors=errors,
            index=np.array(index, dtype=np.int64),
        )

    def read_header(self, path: Path, **options: Any) -> FileHeader:
        """Size, mode and page count from the header, without decoding pixels."""
        path = Path(path)
        with open_image(path) as img:
            dtype, channels = _layout(img)
            return FileHeader(
                path=path,
                format=self.name,
                n_frames=_frame_count(img),
                height=int(img.height),
                width=int(img.width),
                channels=channels,
                dtype=dtype,
                times=None,
                metadata={"orientation": "as_written", "pillow_format": img.format or ""},
            )


class JpegFormat(_PillowFormat):
    """JPEG (JFIF/EXIF) files."""

    name = "jpeg"
    description = "JPEG, 8-bit colour or grey (Pillow)"
    extensions = (".jpg", ".jpeg")
    magics = (b"\xff\xd8\xff",)


class PngFormat(_PillowFormat):
    """PNG files."""

    name = "png"
    description = "PNG, 8-bit colour or grey, 16-bit grey (Pillow)"
    extensions = (".png",)
    magics = (b"\x89PNG\r\n\x1a\n",)


class TiffFormat(_PillowFormat):
    """TIFF files; each page is a frame."""

    name = "tiff"
    description = "TIFF, 8/16-bit grey or RGB, one frame per page (Pillow)"
    extensions = (".tif", ".tiff")
    magics = (b"II*\x00", b"MM\x00*")


register_format(JpegFormat)
register_format(PngFormat)
register_format(TiffFormat)
