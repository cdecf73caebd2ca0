"""Parallel folders: ``images/`` and ``masks/`` with the same names.

``SOURCE/images/<path>/<stem>.<ext>`` is labelled by ``SOURCE/masks/<path>/<stem>.<ext>``
(or ``<stem>_mask.<ext>``): the same relative folder and stem, any image format the readers
know (JPEG or PNG today; a mask should be a lossless PNG), mask nonzero = aurora. An image
without a mask is unlabelled: it is skipped and reported. A mask without an image is an
error ("image missing").
"""

from __future__ import annotations

from pathlib import Path

from ..errors import LabelError, NoFilesFoundError
from .pixels import IMAGE_SUFFIXES, image_info
from .records import FrameRecord, ImageRef, MaskFile, ScanContext, check_mask_size

__all__ = ["IMAGES_DIR", "MASKS_DIR", "is_folder_pair", "scan_folders"]

IMAGES_DIR = "images"
MASKS_DIR = "masks"
_MASK_SUFFIX = "_mask"


def is_folder_pair(source: Path) -> bool:
    """True for a folder holding ``images/`` and ``masks/``."""
    return (source / IMAGES_DIR).is_dir() and (source / MASKS_DIR).is_dir()


def _index(root: Path, ctx: ScanContext, *, masks: bool) -> dict[str, list[Path]]:
    found: dict[str, list[Path]] = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            ctx.report.ignore(path, "not an image file the readers know")
            continue
        key = path.relative_to(root).with_suffix("").as_posix()
        if masks and key.endswith(_MASK_SUFFIX):
            key = key[: -len(_MASK_SUFFIX)]
        found.setdefault(key, []).append(path)
    return found


def _pair(
    key: str, image_paths: list[Path], mask_paths: list[Path], images_dir: Path
) -> FrameRecord:
    if len(image_paths) > 1 or len(mask_paths) > 1:
        names = ", ".join(str(p) for p in image_paths + mask_paths)
        raise LabelError(f"{names}: several images or masks share the name {key!r}")
    if not image_paths:
        raise NoFilesFoundError(
            f"{mask_paths[0]}: image missing (no {images_dir / key}.* with an extension "
            f"among {', '.join(IMAGE_SUFFIXES)})"
        )
    image, mask = image_paths[0], mask_paths[0]
    info = image_info(image)
    check_mask_size(mask, image, info)
    return FrameRecord(image=ImageRef(image), info=info, mask=MaskFile(mask), label_file=mask)


def scan_folders(source: Path, ctx: ScanContext) -> list[FrameRecord]:
    """One record per image of ``source/images`` with a mask in ``source/masks``."""
    if not is_folder_pair(source):
        raise NoFilesFoundError(
            f"expected a folder with {IMAGES_DIR}/ and {MASKS_DIR}/ sub-folders; found "
            f"{sorted(p.name for p in source.iterdir()) if source.is_dir() else source}"
        )
    images = _index(source / IMAGES_DIR, ctx, masks=False)
    masks = _index(source / MASKS_DIR, ctx, masks=True)
    records: list[FrameRecord] = []
    for key in sorted(set(images) | set(masks)):
        image_paths = images.get(key, [])
        mask_paths = masks.get(key, [])
        if len(image_paths) == 1 and not mask_paths:
            ctx.report.skip(image_paths[0], f"unlabelled: no mask {MASKS_DIR}/{key}.* for it")
            continue
        where = (mask_paths or image_paths)[0]
        record = ctx.attempt(where, _pair, key, image_paths, mask_paths, source / IMAGES_DIR)
        if record is not None:
            ctx.read_labels_of(record.label_file)
            records.append(record)
    return records
