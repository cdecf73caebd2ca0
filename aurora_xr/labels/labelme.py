"""LabelMe JSON: one file per image with drawn ``shapes``.

A LabelMe file holds ``imagePath`` (relative to the JSON file), ``imageHeight``,
``imageWidth``, optional base64 ``imageData`` and ``shapes``, each with a ``label``,
``points`` and a ``shape_type``:

* ``polygon`` (three points or more), ``rectangle`` (two opposite corners), ``circle``
  (the centre and a point on the circle) and ``mask`` (the two corners of a box and a base64
  PNG of the box's pixels) are painted;
* ``line``, ``linestrip``, ``point`` and ``points`` mark no area: they are ignored and listed
  in the report;
* any other type is an error naming the file.

The image is ``imagePath`` resolved against the JSON's folder, then the bare file name in
the JSON's folder and in ``image_root``; when no file is found the embedded ``imageData`` is
used (and noted in the report); otherwise the image is missing, an error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FrameSizeError, LabelError, NoFilesFoundError
from .pixels import ImageInfo, decode_base64, image_info
from .records import FrameRecord, ImageRef, ScanContext, embedded_info, find_image
from .shapes import BlockMask, Ellipse, Polygon, Shape, check_inside

__all__ = ["is_labelme", "scan_labelme"]

_AREA_TYPES = ("polygon", "rectangle", "circle", "mask")
_NO_AREA_TYPES = ("line", "linestrip", "point", "points")


def is_labelme(data: object) -> bool:
    """True for parsed JSON that looks like a LabelMe file."""
    return isinstance(data, dict) and isinstance(data.get("shapes"), list)


def _points(shape: dict[str, Any], where: str, at_least: int) -> np.ndarray:
    xy = np.asarray(shape.get("points"), dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2 or xy.shape[0] < at_least:
        raise LabelError(
            f"{where}: expected at least {at_least} points [x, y]; found {shape.get('points')!r}"
        )
    return xy


def _shape(
    shape: dict[str, Any], where: str, aurora: bool, info: ImageInfo, ctx: ScanContext
) -> Shape:
    kind = shape.get("shape_type") or "polygon"
    label = str(shape.get("label"))

    def inside(xy: np.ndarray, what: str) -> None:
        check_inside(
            xy, info.height, info.width, pixel_origin=ctx.pixel_origin, where=where, what=what
        )

    if kind == "polygon":
        xy = _points(shape, where, 3)
        inside(xy, "polygon")
        return Polygon(xy, label, aurora)
    if kind == "rectangle":
        xy = _points(shape, where, 2)[:2]
        inside(xy, "rectangle")
        (xa, ya), (xb, yb) = xy
        corners = np.array([[xa, ya], [xb, ya], [xb, yb], [xa, yb]], dtype=np.float64)
        return Polygon(corners, label, aurora)
    if kind == "circle":
        xy = _points(shape, where, 2)[:2]
        inside(xy[:1], "circle centre")
        radius = float(np.hypot(*(xy[1] - xy[0])))
        return Ellipse(float(xy[0, 0]), float(xy[0, 1]), radius, radius, label, aurora)
    if kind == "mask":
        xy = _points(shape, where, 2)[:2]
        data = decode_base64(shape.get("mask"), where)
        block = image_info(data)
        left, top = (int(np.floor(v)) for v in xy.min(axis=0))
        if (
            left < 0
            or top < 0
            or left + block.width > info.width
            or top + block.height > info.height
        ):
            raise LabelError(
                f"{where}: mask of {block.width}x{block.height} at x={left}, y={top} runs "
                f"outside the {info.width}x{info.height} image"
            )
        return BlockMask(left, top, block.width, block.height, label, aurora, data=data)
    raise LabelError(
        f"{where}: unknown shape_type {kind!r} (expected one of "
        f"{', '.join(_AREA_TYPES + _NO_AREA_TYPES)})"
    )


def read_labelme_file(path: Path, ctx: ScanContext) -> FrameRecord | None:
    """The record of one LabelMe file (None for a JSON file that is not LabelMe's)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LabelError(f"{path}: not a readable JSON file ({exc})") from exc
    if not is_labelme(data):
        ctx.report.skip(path, "not a LabelMe file (no 'shapes' list)")
        return None
    image_name = data.get("imagePath") or ""
    folders = [path.parent] + ([ctx.image_root] if ctx.image_root is not None else [])
    try:
        if not image_name:
            raise NoFilesFoundError(f"{path}: no imagePath")
        image = ImageRef(find_image(str(image_name), folders, where=str(path)))
        info = image_info(image.path)
    except NoFilesFoundError:
        if not data.get("imageData"):
            raise
        image = ImageRef(path.with_name(Path(str(image_name) or path.stem).name), path)
        info = embedded_info(path, data["imageData"])
        ctx.report.note(f"{path}: image read from the embedded imageData")
    stated = (data.get("imageHeight"), data.get("imageWidth"))
    if None not in stated and (int(stated[0]), int(stated[1])) != info.shape:
        raise FrameSizeError(
            f"{path}: imageHeight x imageWidth {stated[0]}x{stated[1]} differs from the image "
            f"{image.path} ({info.height}x{info.width})"
        )
    shapes: list[Shape] = []
    for i, shape in enumerate(data["shapes"]):
        if not isinstance(shape, dict):
            raise LabelError(f"{path}: shape {i} is not an object")
        kind = shape.get("shape_type") or "polygon"
        where = f"{path} (shape {i}, {kind} {shape.get('label')!r})"
        if kind in _NO_AREA_TYPES:
            ctx.report.ignore(path, f"shape {i} ({kind} {shape.get('label')!r}) marks no area")
            continue
        aurora = ctx.label_map.resolve(shape.get("label"), where)
        if aurora is None:
            ctx.report.ignore(path, f"shape {i} label {shape.get('label')!r} mapped to None")
            continue
        shapes.append(_shape(shape, where, aurora, info, ctx))
    return FrameRecord(image=image, info=info, mask=tuple(shapes), label_file=path)


def scan_labelme(source: Path, ctx: ScanContext) -> list[FrameRecord]:
    """Records of a LabelMe JSON file, or of every ``*.json`` under a folder (sorted)."""
    files = sorted(source.rglob("*.json")) if source.is_dir() else [source]
    if not files:
        raise NoFilesFoundError(f"expected LabelMe *.json files in {source}; found none")
    records: list[FrameRecord] = []
    for path in files:
        record = ctx.attempt(path, read_labelme_file, path, ctx)
        if record is None:
            continue
        ctx.read_labels_of(path)
        ctx.report.count([s.label for s in record.mask])  # type: ignore[union-attr]
        if not any(s.aurora for s in record.mask):  # type: ignore[union-attr]
            ctx.report.n_empty += 1
        records.append(record)
    return records
