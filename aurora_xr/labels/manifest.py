"""A manifest CSV: one labelled frame per row, ``image,mask[,split]``.

Paths are relative to the CSV file's folder (absolute paths are kept). The mask is an image
of the frame's size, nonzero = aurora. ``split`` is free text (e.g. ``train``,
``validation``, ``test``) carried to the Dataset as the per-frame ``split``. A row with an
empty mask cell is an unlabelled frame: skipped and reported. Extra columns are ignored.
"""

from __future__ import annotations

import csv
from pathlib import Path

from ..errors import LabelError, NoFilesFoundError
from .pixels import image_info
from .records import FrameRecord, ImageRef, MaskFile, ScanContext, check_mask_size

__all__ = ["IMAGE_LEVEL_COLUMNS", "MANIFEST_COLUMNS", "csv_columns", "scan_manifest"]

MANIFEST_COLUMNS = ("image", "mask")
IMAGE_LEVEL_COLUMNS = ("frame", "aurora")


def csv_columns(path: Path) -> list[str]:
    """The header of a CSV file, stripped and lower-cased."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise LabelError(f"{path}: not a readable CSV file ({exc})") from exc
    return [c.strip().lower() for c in header]


def _resolve(cell: str, base: Path) -> Path:
    path = Path(cell.strip())
    return path if path.is_absolute() else base / path


def _row(line: int, row: dict[str, str], source: Path) -> FrameRecord:
    where = f"{source} line {line}"
    image = _resolve(row["image"], source.parent)
    mask = _resolve(row["mask"], source.parent)
    if not image.is_file():
        raise NoFilesFoundError(f"{where}: image missing ({image})")
    if not mask.is_file():
        raise NoFilesFoundError(f"{where}: mask missing ({mask})")
    info = image_info(image)
    check_mask_size(mask, image, info)
    split = (row.get("split") or "").strip() or None
    return FrameRecord(
        image=ImageRef(image), info=info, mask=MaskFile(mask), label_file=mask, split=split
    )


def scan_manifest(source: Path, ctx: ScanContext) -> list[FrameRecord]:
    """One record per row of a manifest CSV, in the file's order."""
    columns = csv_columns(source)
    missing = [c for c in MANIFEST_COLUMNS if c not in columns]
    if missing:
        raise LabelError(
            f"{source}: expected a manifest with columns image,mask[,split]; found "
            f"{','.join(columns) or 'no header'}"
        )
    ctx.read_labels_of(source)
    records: list[FrameRecord] = []
    with source.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        next(reader)
        for line, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            row = dict(zip(columns, cells, strict=False))
            if not (row.get("image") or "").strip():
                raise LabelError(f"{source} line {line}: the image cell is empty")
            if not (row.get("mask") or "").strip():
                ctx.report.skip(f"{source} line {line}", f"unlabelled: no mask for {row['image']}")
                continue
            record = ctx.attempt(f"{source} line {line}", _row, line, row, source)
            if record is not None:
                ctx.read_labels_of(record.label_file)
                records.append(record)
    return records
