"""The same drawn shapes written in every label format, with their truth masks.

Truth comes from rasterisers we did not write: pycocotools (``frPyObjects`` + ``decode``)
for the polygons and the rectangle (the vertices are on pycocotools' 1/5-pixel grid and
were chosen so that its result equals the pixel-centre rule), and the definition of a disc
(pixel centre within the radius) for the circle, whose radius keeps every pixel centre at
least 0.06 pixel from the circle.
"""

from __future__ import annotations

import csv
import json
import warnings
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
from PIL import Image
from pycocotools import mask as coco_mask

H, W = 40, 48
LABEL_MAP = {"aurora": True, "arc": True, "cloud": False}

P1 = [[4.4, 5.8], [22.2, 3.6], [26.8, 20.0], [15.4, 31.2], [6.0, 21.8]]  # aurora
RECT = [[30.2, 4.6], [44.4, 18.8]]  # arc
CIRCLE = (20.3, 18.7, 6.0)  # cloud: centre x, y and radius
P2 = [[10.0, 28.4], [40.4, 25.0], [44.2, 36.2], [13.4, 38.4]]  # aurora

FRAMES = ["JBS_20200621_010000.png", "JBS_20200621_010100.png", "JBS_20200621_010200.png"]


def coco_polygon(xy: list[list[float]], height: int = H, width: int = W) -> np.ndarray:
    """pycocotools' mask of one polygon."""
    flat = np.asarray(xy, dtype=np.float64).ravel().tolist()
    rle = coco_mask.frPyObjects([flat], height, width)
    with warnings.catch_warnings():  # pycocotools predates numpy 2's __array__ copy keyword
        warnings.filterwarnings("ignore", "__array__ implementation", DeprecationWarning)
        return np.asarray(coco_mask.decode(rle)[..., 0], dtype=bool)


def edge_distance(px: np.ndarray, py: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Distance from points to the nearest edge of a closed polygon."""
    a = np.asarray(xy, dtype=np.float64)
    d = np.roll(a, -1, axis=0) - a
    length2 = np.maximum((d**2).sum(1), 1e-12)  # repeated vertices give empty edges
    t = ((px[:, None] - a[:, 0]) * d[:, 0] + (py[:, None] - a[:, 1]) * d[:, 1]) / length2
    t = np.clip(t, 0.0, 1.0)
    qx, qy = a[:, 0] + t * d[:, 0], a[:, 1] + t * d[:, 1]
    return np.hypot(px[:, None] - qx, py[:, None] - qy).min(axis=1)


def rect_corners(rect: list[list[float]]) -> list[list[float]]:
    (x0, y0), (x1, y1) = rect
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


def disc(cx: float, cy: float, r: float, height: int = H, width: int = W) -> np.ndarray:
    """Pixels whose centres (corner origin) lie within ``r`` of the centre."""
    yy, xx = np.mgrid[0:height, 0:width] + 0.5
    return np.hypot(xx - cx, yy - cy) <= r


def truth_masks() -> list[np.ndarray]:
    """Truth of the three frames: arc + aurora minus cloud, aurora, nothing."""
    first = (coco_polygon(P1) | coco_polygon(rect_corners(RECT))) & ~disc(*CIRCLE)
    return [first, coco_polygon(P2), np.zeros((H, W), dtype=bool)]


def frame_pixels(i: int) -> np.ndarray:
    return np.random.default_rng(i).integers(0, 256, (H, W, 3), dtype=np.uint8)


def write_images(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, name in enumerate(FRAMES):
        Image.fromarray(frame_pixels(i)).save(folder / name)
        paths.append(folder / name)
    return paths


def write_mask(path: Path, mask: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(mask.astype(np.uint8) * 255).save(path)


def uncompressed_rle(mask: np.ndarray) -> list[int]:
    """COCO's uncompressed counts: runs in column-major order, starting with zeros."""
    flat = mask.ravel(order="F").astype(np.int8)
    change = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.r_[0, change, flat.size]
    runs = np.diff(bounds).tolist()
    return [0, *runs] if flat[0] else runs


def cvat_rle(mask: np.ndarray) -> tuple[list[int], int, int, int, int]:
    """CVAT's mask runs over the bounding box, row order, starting with background."""
    rows, cols = np.nonzero(mask)
    top, left = int(rows.min()), int(cols.min())
    height, width = int(rows.max()) + 1 - top, int(cols.max()) + 1 - left
    box = mask[top : top + height, left : left + width].ravel().astype(np.int8)
    change = np.flatnonzero(np.diff(box)) + 1
    runs = np.diff(np.r_[0, change, box.size]).tolist()
    return ([0, *runs] if box[0] else runs), left, top, width, height


# -- the five formats -------------------------------------------------------------------
def write_folders(root: Path) -> Path:
    write_images(root / "images")
    for name, mask in zip(FRAMES, truth_masks(), strict=True):
        write_mask(root / "masks" / name, mask)
    return root


def write_manifest(root: Path) -> Path:
    write_images(root / "frames")
    rows = []
    for i, (name, mask) in enumerate(zip(FRAMES, truth_masks(), strict=True)):
        write_mask(root / "truth" / f"{Path(name).stem}_mask.png", mask)
        split = ["train", "validation", "test"][i]
        rows.append([f"frames/{name}", f"truth/{Path(name).stem}_mask.png", split])
    path = root / "manifest.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", "mask", "split"])
        writer.writerows(rows)
    return path


def labelme_doc(name: str, shapes: list[dict[str, object]]) -> dict[str, object]:
    return {
        "version": "5.5.0",
        "flags": {},
        "shapes": shapes,
        "imagePath": name,
        "imageData": None,
        "imageHeight": H,
        "imageWidth": W,
    }


def labelme_shape(label: str, points: list[list[float]], kind: str) -> dict[str, object]:
    return {"label": label, "points": points, "group_id": None, "shape_type": kind, "flags": {}}


def write_labelme(root: Path) -> Path:
    write_images(root)
    cx, cy, r = CIRCLE
    docs = [
        [
            labelme_shape("aurora", P1, "polygon"),
            labelme_shape("arc", RECT, "rectangle"),
            labelme_shape("cloud", [[cx, cy], [cx + r * 0.6, cy + r * 0.8]], "circle"),
        ],
        [labelme_shape("aurora", P2, "polygon")],
        [],
    ]
    for name, shapes in zip(FRAMES, docs, strict=True):
        doc = labelme_doc(name, shapes)
        (root / name).with_suffix(".json").write_text(json.dumps(doc), encoding="utf-8")
    return root


def write_coco(root: Path) -> Path:
    write_images(root / "images")
    masks = truth_masks()
    circle = coco_mask.encode(np.asfortranarray(disc(*CIRCLE).astype(np.uint8)))
    flat = [np.asarray(P1).ravel().tolist(), np.asarray(rect_corners(RECT)).ravel().tolist()]
    annotations = [
        {"id": 1, "image_id": 10, "category_id": 1, "segmentation": [flat[0]], "iscrowd": 0},
        {"id": 2, "image_id": 10, "category_id": 2, "segmentation": [flat[1]], "iscrowd": 0},
        {
            "id": 3,
            "image_id": 10,
            "category_id": 3,
            "segmentation": {"size": [H, W], "counts": circle["counts"].decode("ascii")},
            "iscrowd": 1,
        },
        {
            "id": 4,
            "image_id": 11,
            "category_id": 1,
            "segmentation": {"size": [H, W], "counts": uncompressed_rle(masks[1])},
            "iscrowd": 1,
        },
    ]
    doc = {
        "images": [
            {"id": 10 + i, "file_name": name, "height": H, "width": W}
            for i, name in enumerate(FRAMES)
        ],
        "annotations": annotations,
        "categories": [
            {"id": 1, "name": "aurora"},
            {"id": 2, "name": "arc"},
            {"id": 3, "name": "cloud"},
        ],
    }
    path = root / "annotations.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def write_cvat(root: Path) -> Path:
    write_images(root / "images")
    cx, cy, r = CIRCLE
    (x0, y0), (x1, y1) = RECT
    runs, left, top, width, height = cvat_rle(truth_masks()[1])

    def points(xy: list[list[float]]) -> str:
        return quoteattr(";".join(f"{x:.2f},{y:.2f}" for x, y in xy))

    images = [
        f'<image id="0" name="{FRAMES[0]}" width="{W}" height="{H}">'
        f'<polygon label="aurora" occluded="0" source="manual" points={points(P1)} z_order="0"/>'
        f'<box label="arc" occluded="0" source="manual" xtl="{x0}" ytl="{y0}" xbr="{x1}" '
        f'ybr="{y1}" z_order="0"/>'
        '<polyline label="aurora" occluded="0" points="1.00,1.00;5.00,5.00" z_order="0"/>'
        f'<ellipse label="cloud" occluded="0" cx="{cx}" cy="{cy}" rx="{r}" ry="{r}" '
        'z_order="1"/>'
        "</image>",
        f'<image id="1" name="{FRAMES[1]}" width="{W}" height="{H}">'
        f'<mask label="aurora" source="manual" occluded="0" rle="{", ".join(map(str, runs))}" '
        f'left="{left}" top="{top}" width="{width}" height="{height}" z_order="0"/>'
        "</image>",
        f'<image id="2" name="{FRAMES[2]}" width="{W}" height="{H}"></image>',
    ]
    text = (
        '<?xml version="1.0" encoding="utf-8"?>\n<annotations><version>1.1</version>'
        "<meta><task><name>t</name><mode>annotation</mode></task></meta>"
        + "".join(images)
        + "</annotations>\n"
    )
    path = root / "annotations.xml"
    path.write_text(text, encoding="utf-8")
    return path


WRITERS = {
    "folders": write_folders,
    "manifest": write_manifest,
    "labelme": write_labelme,
    "coco": write_coco,
    "cvat": write_cvat,
}
