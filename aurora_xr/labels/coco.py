"""COCO segmentation JSON: ``images``, ``annotations`` and ``categories`` in one file.

Each annotation's ``segmentation`` is a list of polygons ``[x1, y1, x2, y2, ...]`` (painted
with :func:`~aurora_xr.labels.raster.polygon_mask`, the same convention as every other
format) or a run-length mask ``{"size": [h, w], "counts": ...}``, compressed (a string) or
uncompressed (a list), decoded with pycocotools. Category names map to aurora / not aurora
through the label map. Every image listed is a labelled frame: an image without annotations
has an empty mask (noted in the report). Image ``file_name`` is looked up in ``image_root``,
then beside the JSON file, then in an ``images/`` folder beside it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FrameSizeError, LabelError
from .pixels import ImageInfo, image_info
from .records import FrameRecord, ImageRef, ScanContext, find_image
from .shapes import CocoRle, Polygon, Shape, check_inside

__all__ = ["is_coco", "scan_coco"]


def is_coco(data: object) -> bool:
    """True for parsed JSON that looks like a COCO file."""
    return (
        isinstance(data, dict)
        and isinstance(data.get("images"), list)
        and isinstance(data.get("annotations"), list)
    )


def _import_pycocotools() -> None:
    try:
        import pycocotools.mask  # noqa: F401
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ImportError(
            "reading COCO run-length masks needs pycocotools: pip install pycocotools"
        ) from exc


def _annotation_shapes(
    ann: Mapping[str, Any], label: str, aurora: bool, info: ImageInfo, where: str, ctx: ScanContext
) -> list[Shape]:
    seg = ann.get("segmentation")
    if isinstance(seg, list):
        shapes: list[Shape] = []
        for k, poly in enumerate(seg):
            xy = np.asarray(poly, dtype=np.float64)
            if xy.ndim != 1 or xy.size < 6 or xy.size % 2:
                raise LabelError(
                    f"{where}: polygon {k} must be [x1, y1, x2, y2, x3, y3, ...]; found "
                    f"{len(poly) if isinstance(poly, list) else poly!r} values"
                )
            xy = xy.reshape(-1, 2)
            check_inside(
                xy,
                info.height,
                info.width,
                pixel_origin=ctx.pixel_origin,
                where=where,
                what=f"polygon {k}",
            )
            shapes.append(Polygon(xy, label, aurora))
        return shapes
    if isinstance(seg, Mapping) and "counts" in seg and "size" in seg:
        _import_pycocotools()
        size = tuple(int(v) for v in seg["size"])
        if size != info.shape:
            raise FrameSizeError(
                f"{where}: run-length mask size {size[0]}x{size[1]} (height x width) differs "
                f"from the image's {info.height}x{info.width}"
            )
        counts = seg["counts"]
        if isinstance(counts, list):
            if sum(int(c) for c in counts) != size[0] * size[1]:
                raise LabelError(
                    f"{where}: uncompressed run lengths add up to {sum(counts)}, expected "
                    f"{size[0] * size[1]} pixels"
                )
        elif not isinstance(counts, str):
            raise LabelError(f"{where}: RLE counts must be a string or a list of integers")
        return [CocoRle({"size": list(size), "counts": counts}, label, aurora)]
    raise LabelError(
        f"{where}: expected a segmentation (a list of polygons or an RLE dict); found "
        f"{type(seg).__name__}"
    )


def _frame(
    image: Mapping[str, Any],
    anns: list[Mapping[str, Any]],
    categories: dict[Any, str],
    path: Path,
    ctx: ScanContext,
) -> FrameRecord:
    name = str(image["file_name"])
    folders = [*([ctx.image_root] if ctx.image_root else []), path.parent, path.parent / "images"]
    where = f"{path} (image id {image.get('id')!r}, {name})"
    image_path = find_image(name, folders, where=where)
    info = image_info(image_path)
    height, width = image.get("height"), image.get("width")
    if height is not None and width is not None and (int(height), int(width)) != info.shape:
        raise FrameSizeError(
            f"{where}: height x width {height}x{width} differs from the image file "
            f"({info.height}x{info.width})"
        )
    shapes: list[Shape] = []
    for ann in anns:
        cat = ann.get("category_id")
        if cat not in categories:
            raise LabelError(f"{where}: annotation {ann.get('id')!r} has unknown category {cat!r}")
        label = categories[cat]
        ann_where = f"{where}, annotation {ann.get('id')!r} ({label!r})"
        aurora = ctx.label_map.resolve(label, ann_where)
        if aurora is None:
            ctx.report.ignore(path, f"annotation {ann.get('id')!r} label {label!r} mapped to None")
            continue
        if not ann.get("segmentation"):
            ctx.report.ignore(path, f"annotation {ann.get('id')!r} has no segmentation (box only)")
            continue
        shapes.extend(_annotation_shapes(ann, label, aurora, info, ann_where, ctx))
    return FrameRecord(image=ImageRef(image_path), info=info, mask=tuple(shapes), label_file=path)


def scan_coco(source: Path, ctx: ScanContext) -> list[FrameRecord]:
    """One record per image of a COCO file, in the file's order."""
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LabelError(f"{source}: not a readable JSON file ({exc})") from exc
    if not is_coco(data):
        raise LabelError(f"{source}: expected a COCO file with 'images' and 'annotations' lists")
    categories = {c["id"]: str(c["name"]) for c in data.get("categories", [])}
    by_image: dict[Any, list[Mapping[str, Any]]] = {img.get("id"): [] for img in data["images"]}
    for ann in data["annotations"]:
        if ann.get("image_id") not in by_image:
            raise LabelError(
                f"{source}: annotation {ann.get('id')!r} refers to image id "
                f"{ann.get('image_id')!r}, which the file does not list"
            )
        by_image[ann["image_id"]].append(ann)
    ctx.read_labels_of(source)
    records: list[FrameRecord] = []
    n_bare = 0
    for image in data["images"]:
        anns = by_image[image.get("id")]
        record = ctx.attempt(source, _frame, image, anns, categories, source, ctx)
        if record is None:
            continue
        n_bare += not anns
        ctx.report.count([s.label for s in record.mask])  # type: ignore[union-attr]
        if not any(s.aurora for s in record.mask):  # type: ignore[union-attr]
            ctx.report.n_empty += 1
        records.append(record)
    if n_bare:
        ctx.report.note(f"{source}: {n_bare} image(s) without annotations read as empty masks")
    return records
