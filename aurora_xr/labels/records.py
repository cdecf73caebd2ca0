"""What each format reader finds per frame, and the checks shared by all formats.

A reader scans its label files eagerly (headers and label text only, never pixels) and
returns one :class:`FrameRecord` per labelled frame; :mod:`aurora_xr.labels.assembly` turns
the records into lazy arrays. Problems with one frame raise (``errors="raise"``) or skip
that frame with the reason in the report (``errors="skip"``).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from typing import TypeVar

from ..errors import (
    AuroraXrError,
    FrameSizeError,
    LabelError,
    NoFilesFoundError,
    OptionError,
    SchemaError,
)
from .pixels import ImageInfo, decode_base64, image_info
from .report import LabelReport
from .shapes import LabelMap, Shape

__all__ = [
    "ERRORS",
    "FrameRecord",
    "ImageRef",
    "MaskFile",
    "ScanContext",
    "check_mask_size",
    "find_image",
    "keep_uniform",
]

ERRORS = ("raise", "skip")
T = TypeVar("T")


@dataclass(frozen=True)
class ImageRef:
    """Where a frame's pixels are: a file, or base64 ``imageData`` inside a LabelMe JSON."""

    path: Path
    embedded_in: Path | None = None

    def read_bytes(self) -> bytes:
        """The encoded image embedded in the label file (``embedded_in``)."""
        import json

        assert self.embedded_in is not None
        data = json.loads(self.embedded_in.read_text(encoding="utf-8"))
        return decode_base64(data.get("imageData"), str(self.embedded_in))


@dataclass(frozen=True)
class MaskFile:
    """A mask image (nonzero = aurora) of the frame's size."""

    path: Path


@dataclass(frozen=True, eq=False)
class FrameRecord:
    """One labelled frame: its image, its size and layout, and its mask source."""

    image: ImageRef
    info: ImageInfo
    mask: MaskFile | tuple[Shape, ...]
    label_file: Path
    split: str | None = None


@dataclass
class ScanContext:
    """Options and the report shared by the format readers."""

    report: LabelReport
    label_map: LabelMap
    pixel_origin: str
    errors: str = "raise"
    image_root: Path | None = None
    label_files: set[Path] = field(default_factory=set)

    def __post_init__(self) -> None:
        if self.errors not in ERRORS:
            raise OptionError(f"errors must be one of {ERRORS}; found {self.errors!r}")

    def attempt(self, where: str | Path, func: Callable[..., T], *args: object) -> T | None:
        """``func(*args)``, or None with ``where`` reported as skipped (``errors="skip"``)."""
        try:
            return func(*args)
        except AuroraXrError as exc:
            if self.errors == "raise":
                raise
            self.report.skip(where, str(exc))
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            error = SchemaError(f"{where}: malformed label data ({type(exc).__name__}: {exc})")
            if self.errors == "raise":
                raise error from exc
            self.report.skip(where, str(error))
        return None

    def read_labels_of(self, path: Path) -> None:
        """Count a label file as read."""
        self.label_files.add(path)


def _candidates(name: str, folders: Sequence[Path]) -> list[Path]:
    # label files written on Windows store "..\\images\\x.jpg"
    rel = Path(*PureWindowsPath(name).parts) if "\\" in name else Path(name)
    out: list[Path] = []
    for folder in folders:
        out.append(rel if rel.is_absolute() else folder / rel)
        out.append(folder / rel.name)
    seen: set[Path] = set()
    return [p for p in out if not (p in seen or seen.add(p))]  # type: ignore[func-returns-value]


def find_image(name: str, folders: Sequence[Path], *, where: str) -> Path:
    """The first existing file for an image name (relative to each folder, then bare name).

    Raises
    ------
    NoFilesFoundError
        Naming the label file (``where``), the image and every place looked at.
    """
    tried = _candidates(name, folders)
    for path in tried:
        if path.is_file():
            return path
    places = ", ".join(os.fspath(p) for p in tried)
    raise NoFilesFoundError(f"{where}: image {name!r} is missing (looked for {places})")


def embedded_info(label_file: Path, text: object) -> ImageInfo:
    """The header of base64 image data embedded in a label file."""
    return image_info(decode_base64(text, str(label_file)))


def check_mask_size(mask: Path, image: Path, info: ImageInfo) -> None:
    """Refuse a mask file whose size is not the image's (read from both headers)."""
    mask_info = image_info(mask)
    if mask_info.shape != info.shape:
        raise FrameSizeError(
            f"{mask}: mask size {mask_info.width}x{mask_info.height} differs from its image "
            f"{image} ({info.width}x{info.height})"
        )


def keep_uniform(records: list[FrameRecord], ctx: ScanContext) -> list[FrameRecord]:
    """Records that can share one array: one size, channel count and dtype.

    Frames of different sizes (or grey beside colour, 8 beside 16 bit) are refused with a
    :class:`~aurora_xr.errors.FrameSizeError` that names the odd files; with
    ``errors="skip"`` the most common layout is kept and the others are reported. Two label
    records of the same image are refused the same way (the first is kept when skipping).
    """
    seen: dict[Path, Path] = {}
    unique: list[FrameRecord] = []
    for rec in records:
        key = rec.image.path.resolve() if rec.image.embedded_in is None else rec.label_file
        if key in seen:
            message = (
                f"{rec.label_file}: labels the image {rec.image.path} again (already "
                f"labelled by {seen[key]})"
            )
            if ctx.errors == "raise":
                raise LabelError(message)
            ctx.report.skip(rec.label_file, message)
            continue
        seen[key] = rec.label_file
        unique.append(rec)
    layouts = Counter(rec.info for rec in unique)
    if len(layouts) <= 1:
        return unique
    common, n_common = layouts.most_common(1)[0]
    odd = [rec for rec in unique if rec.info != common]
    if ctx.errors == "raise":
        listed = "; ".join(f"{rec.image.path} ({rec.info.describe()})" for rec in odd[:10])
        more = f"; and {len(odd) - 10} more" if len(odd) > 10 else ""
        raise FrameSizeError(
            f"frames of different sizes or pixel layouts cannot share one array: "
            f"{n_common} frames are {common.describe()}, {len(odd)} are not: {listed}{more}. "
            "Split the label set by size, or pass errors='skip' to keep the "
            f"{common.describe()} frames only"
        )
    for rec in odd:
        ctx.report.skip(
            rec.image.path,
            f"{rec.info.describe()} differs from the {common.describe()} of most frames",
        )
    return [rec for rec in unique if rec.info == common]
