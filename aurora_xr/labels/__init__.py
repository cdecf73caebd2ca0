"""Label sets: frames with hand-drawn aurora masks, read from the formats label tools write.

:func:`read_labels` reads parallel ``images/`` + ``masks/`` folders, LabelMe JSON, COCO
segmentation JSON, CVAT for images XML and manifest CSVs into one lazy Dataset with
``image (frame, y, x, channel)`` and ``mask (frame, y, x)``; :func:`read_image_labels` reads
per-frame aurora / no-aurora labels (``frame,aurora`` CSV) for evaluation. Drawn shapes are
rasterised by :mod:`aurora_xr.labels.raster` with one documented convention.

Layer rule: ``labels`` imports :mod:`aurora_xr.errors`, ``sky``, ``geo``, ``cube`` and
``io``; never ``model``, ``detect`` or anything above them.
"""

from __future__ import annotations

from .imagelevel import read_image_labels
from .raster import PIXEL_ORIGINS, ellipse_mask, polygon_mask, rectangle_corners
from .reading import FORMATS, detect_format, read_labels
from .report import LabelReport, label_report
from .shapes import BOUNDS_TOLERANCE, DEFAULT_LABEL_MAP, LabelMap

__all__ = [
    "BOUNDS_TOLERANCE",
    "DEFAULT_LABEL_MAP",
    "FORMATS",
    "PIXEL_ORIGINS",
    "LabelMap",
    "LabelReport",
    "detect_format",
    "ellipse_mask",
    "label_report",
    "polygon_mask",
    "read_image_labels",
    "read_labels",
    "rectangle_corners",
]
