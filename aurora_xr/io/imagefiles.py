"""Image files on disk: time stamps in file names, roles, and pixel reading.

An archive folder holds frames (JPEG or PNG) whose names carry the UT time of
the exposure, e.g. ``JBS_20200621_000000_rgb.png`` or ``JBS_20200621_000000.jpg``.
Truth masks may sit beside them: ``..._mask.png`` (one channel, nonzero =
aurora) and ``..._kind.png`` (0 none, 1 dynamic, 2 stationary). A mask belongs
to the frame in the same folder with the same time stamp.

:func:`read_frame` and :func:`read_header` read a JPEG/PNG frame as an ``(H, W, 3)`` RGB array
(colour images as they are, alpha dropped, palette expanded; 8-bit grey repeated into
R = G = B, 16-bit grey as uint16 R = G = B; 32-bit integer and float images refused), for the
label readers. Ingest reads every camera format, with grey kept single-channel, per-frame
times and metadata, through the registry :mod:`aurora_xr.io.formats`
(:func:`~aurora_xr.io.formats.read_file`); it uses the names, roles, masks and kinds here.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import NDArray

from ..errors import ImageFileError, OptionError
from .formats.pillow_images import GREY16_MODES, open_image

if TYPE_CHECKING:
    from PIL import Image

__all__ = [
    "FRAME_EXTENSIONS",
    "KIND_SUFFIX",
    "MASK_SUFFIX",
    "ImageFileError",
    "file_role",
    "read_frame",
    "read_header",
    "read_kind",
    "read_mask",
    "time_from_name",
    "time_regex",
]

FRAME_EXTENSIONS = (".jpg", ".jpeg", ".png")
MASK_SUFFIX = "_mask.png"
KIND_SUFFIX = "_kind.png"

Role = Literal["frame", "mask", "kind"]

_DIRECTIVES = {
    "Y": r"\d{4}",
    "y": r"\d{2}",
    "m": r"\d{2}",
    "d": r"\d{2}",
    "j": r"\d{3}",
    "H": r"\d{2}",
    "M": r"\d{2}",
    "S": r"\d{2}",
    "f": r"\d{1,6}",
    "b": r"[A-Za-z]{3}",
}
_GREY16 = GREY16_MODES


# -- names ---------------------------------------------------------------------
def time_regex(pattern: str) -> re.Pattern[str]:
    """A regular expression that finds a strftime ``pattern`` inside a file name.

    Supported directives: ``%Y %y %m %d %j %H %M %S %f %b %%``. The pattern
    must fix the date (a year, and a month and day or a day of year).

    Examples
    --------
    >>> time_regex("%Y%m%d_%H%M%S").search("JBS_20200621_013000_rgb.png").group(0)
    '20200621_013000'
    """
    parts: list[str] = []
    used: set[str] = set()
    digits: list[bool] = []  # whether each token matches digits only
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char != "%":
            parts.append(re.escape(char))
            digits.append(False)
            i += 1
            continue
        if i + 1 >= len(pattern):
            raise OptionError(f"time pattern {pattern!r} ends with a lone '%'")
        code = pattern[i + 1]
        if code == "%":
            parts.append("%")
            digits.append(False)
        elif code in _DIRECTIVES:
            parts.append(_DIRECTIVES[code])
            digits.append(code != "b")
            used.add(code)
        else:
            supported = " ".join(f"%{c}" for c in _DIRECTIVES)
            raise OptionError(
                f"time pattern {pattern!r} uses %{code}; supported directives: {supported} %%"
            )
        i += 2
    if not used & {"Y", "y"} or not ({"m", "d"} <= used or "j" in used):
        raise OptionError(
            f"time pattern {pattern!r} must give the date (%Y or %y with %m and %d, or %j)"
        )
    # a time stamp must not be cut out of a longer run of digits
    head = r"(?<!\d)" if digits[0] else ""
    tail = r"(?!\d)" if digits[-1] else ""
    return re.compile(head + "".join(parts) + tail)


def time_from_name(name: str, regex: re.Pattern[str], pattern: str) -> np.datetime64 | None:
    """The UT time in a file name (datetime64[ns]), or None if there is none."""
    for match in regex.finditer(name):
        try:
            when = datetime.strptime(match.group(0), pattern)
        except ValueError:
            continue
        return np.datetime64(when, "ns")
    return None


def file_role(
    path: Path,
    *,
    frame_suffix: str | None = None,
    extensions: tuple[str, ...] | None = FRAME_EXTENSIONS,
) -> Role | None:
    """``"frame"``, ``"mask"``, ``"kind"``, or None for a file that is none of them.

    Names ending with ``_mask.png`` / ``_kind.png`` are masks / kinds. Frames
    are the other files whose names end with one of ``extensions`` (lower
    case, default ``.jpg``, ``.jpeg``, ``.png``; None: every other file), or,
    when ``frame_suffix`` is given (e.g. ``"_rgb.png"``), only the files whose
    names end with it. Case is ignored.
    """
    name = path.name.lower()
    if name.endswith(MASK_SUFFIX):
        return "mask"
    if name.endswith(KIND_SUFFIX):
        return "kind"
    if frame_suffix is not None:
        return "frame" if name.endswith(frame_suffix.lower()) else None
    if extensions is None:
        return "frame"
    return "frame" if name.endswith(tuple(extensions)) else None


# -- pixels ----------------------------------------------------------------------
def _open(path: Path) -> Image.Image:
    return open_image(path)


def _dtype_of_mode(mode: str) -> np.dtype[np.unsignedinteger]:
    return np.dtype(np.uint16) if mode in (*_GREY16, "I") else np.dtype(np.uint8)


def read_header(path: Path) -> tuple[int, int, np.dtype[np.unsignedinteger]]:
    """``(width, height, dtype)`` of an image, from its header only (no decoding)."""
    with _open(path) as img:
        width, height = img.size
        return int(width), int(height), _dtype_of_mode(img.mode)


def _load(img: Image.Image) -> None:
    try:
        img.load()
    except Exception as exc:  # truncated or corrupt data
        raise ImageFileError(
            f"truncated or corrupt image data: {type(exc).__name__}: {exc}"
        ) from exc


def read_frame(path: Path) -> NDArray[np.unsignedinteger]:
    """Decode a frame into an ``(H, W, 3)`` uint8 (or uint16 for 16-bit grey) RGB array.

    Raises
    ------
    ImageFileError
        For an empty, unreadable, truncated or unsupported file (the message
        is the reason).
    """
    with _open(path) as img:
        _load(img)
        mode = img.mode
        if mode == "RGB":
            return np.asarray(img, dtype=np.uint8)
        if mode == "L":
            return np.repeat(np.asarray(img, dtype=np.uint8)[..., None], 3, axis=-1)
        if mode in _GREY16 or mode == "I":
            grey = np.asarray(img)
            if grey.size and (grey.min() < 0 or grey.max() > 65535):
                raise ImageFileError(f"pixel values outside 0..65535 in a {mode!r} image")
            return np.repeat(grey.astype(np.uint16)[..., None], 3, axis=-1)
        if mode in ("F", "I;32", "I;32B", "I;32L"):
            raise ImageFileError(
                f"unsupported pixel mode {mode!r} (expected 8-bit colour or grey, or 16-bit grey)"
            )
        return np.asarray(img.convert("RGB"), dtype=np.uint8)


def _check_shape(kind: str, array: NDArray[np.generic], shape: tuple[int, int]) -> None:
    if array.shape[:2] != shape:
        raise ImageFileError(
            f"{kind} size {array.shape[1]}x{array.shape[0]} differs from the frame's "
            f"{shape[1]}x{shape[0]}"
        )


def read_mask(path: Path, shape: tuple[int, int]) -> NDArray[np.bool_]:
    """Decode a truth mask (nonzero = aurora) into an ``(H, W)`` bool array.

    Colour masks count a pixel as aurora when any of R, G, B is nonzero.
    """
    with _open(path) as img:
        _load(img)
        if img.mode in ("RGB", "RGBA", "RGBX", "CMYK", "YCbCr"):
            mask = np.asarray(np.asarray(img.convert("RGB")).any(axis=-1), dtype=bool)
        elif img.mode in ("LA", "PA"):
            mask = np.asarray(np.asarray(img)[..., 0] != 0, dtype=bool)
        else:
            mask = np.asarray(np.asarray(img) != 0, dtype=bool)
    _check_shape("mask", mask, shape)
    return mask


def read_kind(path: Path, shape: tuple[int, int]) -> NDArray[np.uint8]:
    """Decode an auroral-form image (0 none, 1 dynamic, 2 stationary) into ``(H, W)`` uint8."""
    with _open(path) as img:
        _load(img)
        values = np.asarray(img)
        mode = img.mode
    if values.ndim != 2:
        raise ImageFileError(f"expected a single-channel kind image; found mode {mode!r}")
    _check_shape("kind", values, shape)
    bad = np.setdiff1d(np.unique(values), [0, 1, 2])
    if bad.size:
        raise ImageFileError(
            f"expected kind values 0, 1, 2; found {', '.join(map(str, bad[:5].tolist()))}"
        )
    return values.astype(np.uint8)
