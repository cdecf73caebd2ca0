"""CVAT "for images" XML (format 1.1): ``<image>`` elements with their shapes.

Painted: ``<polygon points="x,y;x,y;...">``, ``<box xtl ytl xbr ybr [rotation]>``,
``<ellipse cx cy rx ry [rotation]>`` and ``<mask rle left top width height>``. Ignored and
reported: ``<polyline>``, ``<points>``, ``<tag>``, ``<cuboid>``, ``<skeleton>``. Shapes are
painted in ``z_order`` (then file order). ``<track>`` elements belong to "CVAT for video",
which is refused.

The ``rle`` of a ``<mask>`` (as CVAT writes it, cvat/apps/dataset_manager/formats/cvat.py,
and decodes it, cvat-core ``rle2Mask``) is a comma-separated list of run lengths over the
box of ``width`` x ``height`` pixels whose top-left pixel is (``left``, ``top``), in row
order, starting with a run of background (0 when the box starts with a foreground pixel);
runs that stop short of the box's end leave the rest background.

The ``subset`` attribute of an image (CVAT project exports) becomes the frame's ``split``.
Images are looked up in ``image_root``, beside the XML, then in ``images/`` (and
``images/<subset>/``) beside it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from ..errors import FrameSizeError, LabelError
from .pixels import ImageInfo, image_info
from .raster import rectangle_corners
from .records import FrameRecord, ImageRef, ScanContext, find_image
from .shapes import BlockMask, Ellipse, Polygon, Shape, check_inside

__all__ = ["is_cvat", "scan_cvat"]

_PAINTED = ("polygon", "box", "ellipse", "mask")
_IGNORED = ("polyline", "points", "tag", "cuboid", "skeleton")


def is_cvat(source: Path) -> bool:
    """True for an XML file whose root element is ``<annotations>``."""
    try:
        for _, element in ET.iterparse(source, events=("start",)):
            return element.tag == "annotations"
    except (ET.ParseError, OSError):
        return False
    return False


def _num(el: ET.Element, name: str, where: str) -> float:
    try:
        return float(el.attrib[name])
    except KeyError:
        raise LabelError(f"{where}: <{el.tag}> has no {name!r} attribute") from None
    except ValueError:
        raise LabelError(
            f"{where}: <{el.tag}> {name}={el.attrib[name]!r} is not a number"
        ) from None


def _shape(el: ET.Element, aurora: bool, info: ImageInfo, where: str, ctx: ScanContext) -> Shape:
    label = el.attrib.get("label", "")

    def inside(xy: np.ndarray, what: str) -> None:
        check_inside(
            xy, info.height, info.width, pixel_origin=ctx.pixel_origin, where=where, what=what
        )

    angle = float(el.attrib.get("rotation", 0) or 0)
    if el.tag == "polygon":
        try:
            xy = np.array(
                [[float(v) for v in pair.split(",")] for pair in el.attrib["points"].split(";")]
            )
        except (KeyError, ValueError):
            raise LabelError(f"{where}: points must read 'x,y;x,y;...'") from None
        if xy.ndim != 2 or xy.shape[1] != 2 or len(xy) < 3:
            raise LabelError(f"{where}: a polygon needs at least 3 points 'x,y'")
        inside(xy, "polygon")
        return Polygon(xy, label, aurora)
    if el.tag == "box":
        x0, y0, x1, y1 = (_num(el, k, where) for k in ("xtl", "ytl", "xbr", "ybr"))
        corners = rectangle_corners(x0, y0, x1, y1, angle_deg=angle)
        inside(corners, "box")
        return Polygon(corners, label, aurora)
    if el.tag == "ellipse":
        cx, cy, rx, ry = (_num(el, k, where) for k in ("cx", "cy", "rx", "ry"))
        inside(np.array([[cx, cy]]), "ellipse centre")
        return Ellipse(cx, cy, abs(rx), abs(ry), label, aurora, angle_deg=angle)
    # <mask>
    left, top, width, height = (int(_num(el, k, where)) for k in ("left", "top", "width", "height"))
    try:
        counts = tuple(int(v) for v in el.attrib["rle"].split(","))
    except (KeyError, ValueError):
        raise LabelError(f"{where}: rle must be comma-separated run lengths") from None
    if min(counts, default=0) < 0 or sum(counts) > width * height:
        raise LabelError(
            f"{where}: run lengths add up to {sum(counts)} for a {width}x{height} box "
            "(or one is negative)"
        )
    img_w, img_h = info.width, info.height
    if (
        left < 0
        or top < 0
        or width < 1
        or height < 1
        or left + width > img_w
        or top + height > img_h
    ):
        raise LabelError(
            f"{where}: mask box {width}x{height} at left={left}, top={top} runs outside the "
            f"{img_w}x{img_h} image"
        )
    return BlockMask(left, top, width, height, label, aurora, counts=counts)


def _frame(image: ET.Element, path: Path, ctx: ScanContext) -> FrameRecord:
    name = image.attrib.get("name")
    if not name:
        raise LabelError(f"{path}: <image id={image.attrib.get('id')!r}> has no name")
    subset = image.attrib.get("subset") or None
    where = f"{path} (image {name})"
    roots = [*([ctx.image_root] if ctx.image_root else []), path.parent, path.parent / "images"]
    if subset:
        roots.append(path.parent / "images" / subset)
    image_path = find_image(name, roots, where=where)
    info = image_info(image_path)
    stated = (image.attrib.get("height"), image.attrib.get("width"))
    if None not in stated and (int(stated[0] or 0), int(stated[1] or 0)) != info.shape:
        raise FrameSizeError(
            f"{where}: height x width {stated[0]}x{stated[1]} differs from the image file "
            f"({info.height}x{info.width})"
        )
    ordered = sorted(
        enumerate(image), key=lambda item: (int(item[1].attrib.get("z_order", 0) or 0), item[0])
    )
    shapes: list[Shape] = []
    for i, el in ordered:
        label = el.attrib.get("label", "")
        shape_where = f"{where}, <{el.tag}> {i} {label!r}"
        if el.tag in _IGNORED:
            ctx.report.ignore(path, f"image {name}: <{el.tag}> {label!r} marks no area")
            continue
        if el.tag not in _PAINTED:
            raise LabelError(f"{shape_where}: unknown element <{el.tag}>")
        aurora = ctx.label_map.resolve(label, shape_where)
        if aurora is None:
            ctx.report.ignore(path, f"image {name}: <{el.tag}> label {label!r} mapped to None")
            continue
        shapes.append(_shape(el, aurora, info, shape_where, ctx))
    return FrameRecord(
        image=ImageRef(image_path), info=info, mask=tuple(shapes), label_file=path, split=subset
    )


def scan_cvat(source: Path, ctx: ScanContext) -> list[FrameRecord]:
    """One record per ``<image>`` of a CVAT for images XML file, in the file's order."""
    try:
        root = ET.parse(source).getroot()
    except (ET.ParseError, OSError) as exc:
        raise LabelError(f"{source}: not a readable XML file ({exc})") from exc
    if root.tag != "annotations":
        raise LabelError(
            f"{source}: expected CVAT XML with an <annotations> root; found <{root.tag}>"
        )
    if root.find("track") is not None:
        raise LabelError(
            f"{source}: holds <track> elements (CVAT for video); export the task as "
            "'CVAT for images 1.1'"
        )
    ctx.read_labels_of(source)
    records: list[FrameRecord] = []
    for image in root.iter("image"):
        record = ctx.attempt(source, _frame, image, source, ctx)
        if record is None:
            continue
        ctx.report.count([s.label for s in record.mask])  # type: ignore[union-attr]
        if not any(s.aurora for s in record.mask):  # type: ignore[union-attr]
            ctx.report.n_empty += 1
        records.append(record)
    return records
