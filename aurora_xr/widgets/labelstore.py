"""Where the labelling tool saves: a ``folders`` label set and its COCO export.

``OUT/images/<stem>.<ext>`` holds each labelled frame (a single-frame PNG or JPEG is copied
as it is; other frames are written as PNG: 8-bit RGB or grey, 16-bit grey), and
``OUT/masks/<stem>.png`` its mask (8-bit grey, 0 = background, 255 = aurora): the layout
:func:`aurora_xr.labels.read_labels` reads as ``format="folders"``. ``OUT/coco.json`` holds the
same labels as COCO segmentation: one image per labelled frame (``file_name`` relative to
``images/``), category ``aurora``, drawn polygons as polygons and the rest of each mask as a
compressed run-length mask (pycocotools), so ``read_labels(OUT / "coco.json")`` gives the same
masks. Every file is written to a temporary name and moved into place, so an interrupted save
never leaves half a file.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import DtypeError, LabelError
from .labelframes import FrameEntry
from .labelmasks import coco_segments

__all__ = ["CATEGORY", "COCO_FILE", "LabelStore", "rle_encode"]

COCO_FILE = "coco.json"
CATEGORY = "aurora"


def rle_encode(mask: NDArray[np.bool_]) -> dict[str, Any]:
    """COCO compressed run-length encoding of a mask (``{"size": [H, W], "counts": str}``)."""
    from pycocotools import mask as cocomask

    rle = cocomask.encode(np.asfortranarray(mask, dtype=np.uint8))
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}


def _atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _save_png(array: NDArray[Any], path: Path) -> None:
    from PIL import Image

    arr = np.asarray(array)
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.dtype == np.uint16 and arr.ndim == 3:
        raise DtypeError(
            f"cannot write {path.name}: 16-bit colour frames have no PNG form that the label "
            "readers take (convert them to 8 bit first)"
        )
    if arr.dtype not in (np.uint8, np.uint16):
        raise DtypeError(f"cannot write {path.name}: expected uint8 or uint16; found {arr.dtype}")
    _atomic_write(path, lambda tmp: Image.fromarray(np.ascontiguousarray(arr)).save(tmp, "png"))


class LabelStore:
    """The output folder of a labelling session.

    Parameters
    ----------
    out : path-like
        The folder (created on the first save).
    """

    def __init__(self, out: str | os.PathLike[str]) -> None:
        self.out = Path(out)
        self.images = self.out / "images"
        self.masks = self.out / "masks"
        self.coco_path = self.out / COCO_FILE
        self._records: dict[str, dict[str, Any]] = {}
        self._load_coco()

    def _load_coco(self) -> None:
        if not self.coco_path.is_file():
            return
        try:
            doc = json.loads(self.coco_path.read_text(encoding="utf-8"))
            anns: dict[Any, list[dict[str, Any]]] = {}
            for ann in doc.get("annotations", []):
                anns.setdefault(ann["image_id"], []).append(ann)
            for image in doc["images"]:
                stem = Path(image["file_name"]).stem
                self._records[stem] = {
                    "file_name": image["file_name"],
                    "height": int(image["height"]),
                    "width": int(image["width"]),
                    "annotations": anns.get(image["id"], []),
                }
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise LabelError(
                f"{self.coco_path}: not a COCO file this tool can extend ({exc}); move it away"
            ) from exc

    # -- what is there ---------------------------------------------------------------------
    def mask_path(self, stem: str) -> Path:
        """``masks/<stem>.png``."""
        return self.masks / f"{stem}.png"

    def saved(self, stem: str) -> bool:
        """Whether a mask is saved for ``stem``."""
        return self.mask_path(stem).is_file()

    def saved_stems(self) -> set[str]:
        """Stems with a saved mask."""
        if not self.masks.is_dir():
            return set()
        return {p.stem for p in self.masks.glob("*.png")}

    def read_mask(self, stem: str) -> NDArray[np.bool_]:
        """The saved mask of ``stem`` (nonzero = aurora)."""
        from PIL import Image

        with Image.open(self.mask_path(stem)) as img:
            return np.asarray(img.convert("L")) != 0

    def polygons(self, stem: str) -> list[NDArray[np.float64]]:
        """Polygons of ``stem`` in the COCO export (to export them as polygons again)."""
        out: list[NDArray[np.float64]] = []
        for ann in self._records.get(stem, {}).get("annotations", []):
            seg = ann.get("segmentation")
            if isinstance(seg, list):
                out.extend(np.asarray(p, dtype=np.float64).reshape(-1, 2) for p in seg)
        return out

    # -- writing ---------------------------------------------------------------------------
    def save(
        self,
        entry: FrameEntry,
        frame: NDArray[Any],
        mask: NDArray[np.bool_],
        polygons: list[NDArray[np.float64]],
    ) -> Path:
        """Write the frame, its mask and the updated COCO export; returns the mask file."""
        if entry.copyable and entry.file is not None:
            image_path = self.images / f"{entry.stem}{entry.file.suffix}"
            if not (image_path.exists() and image_path.samefile(entry.file)):
                src = entry.file
                _atomic_write(image_path, lambda tmp: shutil.copyfile(src, tmp))
        else:
            image_path = self.images / f"{entry.stem}.png"
            if not image_path.exists():
                _save_png(frame, image_path)
        for other in self.images.glob(f"{entry.stem}.*"):
            stale = other != image_path and other != entry.file
            if stale and other.suffix.lower() in (".png", ".jpg", ".jpeg"):
                other.unlink()  # one image per stem, or read_labels refuses the pair
        mask_path = self.mask_path(entry.stem)
        _save_png(np.where(mask, np.uint8(255), np.uint8(0)), mask_path)
        self._records[entry.stem] = {
            "file_name": image_path.name,
            "height": int(mask.shape[0]),
            "width": int(mask.shape[1]),
            "annotations": self._annotations(mask, polygons),
        }
        self.write_coco()
        return mask_path

    @staticmethod
    def _annotations(
        mask: NDArray[np.bool_], polygons: list[NDArray[np.float64]]
    ) -> list[dict[str, Any]]:
        kept, remainder = coco_segments(mask, polygons)
        anns: list[dict[str, Any]] = []
        for points, area in kept:
            x0, y0 = points.min(axis=0)
            x1, y1 = points.max(axis=0)
            anns.append(
                {
                    "segmentation": [[float(v) for v in points.reshape(-1)]],
                    "area": area,
                    "bbox": [float(x0), float(y0), float(x1 - x0), float(y1 - y0)],
                    "iscrowd": 0,
                }
            )
        if remainder.any():
            rows = np.flatnonzero(remainder.any(axis=1))
            cols = np.flatnonzero(remainder.any(axis=0))
            anns.append(
                {
                    "segmentation": rle_encode(remainder),
                    "area": int(remainder.sum()),
                    "bbox": [
                        float(cols[0]),
                        float(rows[0]),
                        float(cols[-1] + 1 - cols[0]),
                        float(rows[-1] + 1 - rows[0]),
                    ],
                    "iscrowd": 0,
                }
            )
        return anns

    def write_coco(self) -> Path:
        """Write ``coco.json`` for every saved mask (masks saved by other tools included)."""
        for stem in sorted(self.saved_stems() - set(self._records)):
            images = [p for p in self.images.glob(f"{stem}.*") if p.is_file()]
            if not images:
                continue
            mask = self.read_mask(stem)
            self._records[stem] = {
                "file_name": images[0].name,
                "height": int(mask.shape[0]),
                "width": int(mask.shape[1]),
                "annotations": self._annotations(mask, []),
            }
        doc: dict[str, Any] = {
            "info": {"description": "aurora labels drawn with aurora_xr.widgets.LabelTool"},
            "categories": [{"id": 1, "name": CATEGORY, "supercategory": ""}],
            "images": [],
            "annotations": [],
        }
        for image_id, stem in enumerate(sorted(self._records), start=1):
            rec = self._records[stem]
            doc["images"].append(
                {
                    "id": image_id,
                    "file_name": rec["file_name"],
                    "height": rec["height"],
                    "width": rec["width"],
                }
            )
            for ann in rec["annotations"]:
                doc["annotations"].append(
                    {
                        **{k: v for k, v in ann.items() if k not in ("id", "image_id")},
                        "id": len(doc["annotations"]) + 1,
                        "image_id": image_id,
                        "category_id": 1,
                    }
                )
        text = json.dumps(doc, indent=1)
        _atomic_write(self.coco_path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
        return self.coco_path
