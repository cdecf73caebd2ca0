"""Drawn labels: shapes, the label map (names -> aurora or not), and painting a frame's mask.

A frame's mask starts all False; its shapes are painted in order (file order, or CVAT's
``z_order``): an aurora shape sets its pixels True, a "not aurora" shape sets them False, so
a cloud drawn over an arc removes that part of the arc. Shapes whose label maps to None are
left out and reported.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from ..errors import LabelError, OptionError
from .pixels import decode_mask
from .raster import ellipse_block, image_extent, polygon_block

__all__ = [
    "BOUNDS_TOLERANCE",
    "DEFAULT_LABEL_MAP",
    "BlockMask",
    "CocoRle",
    "Ellipse",
    "LabelMap",
    "Polygon",
    "Shape",
    "check_inside",
    "paint",
]

BOUNDS_TOLERANCE = 0.5
"""How far (pixels) a vertex may lie outside the image before the label is refused."""

DEFAULT_LABEL_MAP: dict[str, bool | None] = {"aurora": True}
OTHERS = "*"


class Shape(Protocol):
    """A drawn label that can paint itself into a frame-sized mask."""

    @property
    def label(self) -> str:
        """The label name as written in the label file."""
        ...

    @property
    def aurora(self) -> bool:
        """True: the shape marks aurora; False: it marks "not aurora"."""
        ...

    def region(
        self, height: int, width: int, *, pixel_origin: str
    ) -> tuple[int, int, NDArray[np.bool_]]:
        """The pixels the shape covers in a ``height x width`` frame: ``(top, left, block)``.

        ``block`` is a bool array whose pixel ``[0, 0]`` is the frame's ``[top, left]``;
        the shape covers nothing outside it.
        """
        ...


@dataclass(frozen=True, eq=False)
class Polygon:
    """A polygon (also rectangles, as their four corners); ``xy`` is ``(n, 2)`` x, y."""

    xy: NDArray[np.float64]
    label: str
    aurora: bool

    def region(
        self, height: int, width: int, *, pixel_origin: str
    ) -> tuple[int, int, NDArray[np.bool_]]:
        return polygon_block(self.xy, height, width, pixel_origin=pixel_origin)


@dataclass(frozen=True, eq=False)
class Ellipse:
    """An ellipse (a circle when ``rx == ry``), turned by ``angle_deg``."""

    cx: float
    cy: float
    rx: float
    ry: float
    label: str
    aurora: bool
    angle_deg: float = 0.0

    def region(
        self, height: int, width: int, *, pixel_origin: str
    ) -> tuple[int, int, NDArray[np.bool_]]:
        return ellipse_block(
            self.cx,
            self.cy,
            self.rx,
            self.ry,
            height,
            width,
            angle_deg=self.angle_deg,
            pixel_origin=pixel_origin,
        )


@dataclass(frozen=True, eq=False)
class BlockMask:
    """A pixel mask of a box placed at (``left``, ``top``): run lengths or an encoded image.

    ``counts`` are CVAT's run lengths over the box in row order, starting with a run of
    False; ``data`` is an encoded mask image (LabelMe's ``mask`` shapes). One of the two.
    """

    left: int
    top: int
    width: int
    height: int
    label: str
    aurora: bool
    counts: tuple[int, ...] | None = None
    data: bytes | None = None

    def block(self) -> NDArray[np.bool_]:
        """The ``(height, width)`` box of pixels."""
        if self.data is not None:
            return decode_mask(self.data, (self.height, self.width))
        runs = np.asarray(self.counts or (), dtype=np.int64)
        values = np.arange(runs.size) % 2 == 1
        flat = np.zeros(self.height * self.width, dtype=bool)
        flat[: int(runs.sum())] = np.repeat(values, runs)
        return flat.reshape(self.height, self.width)

    def region(
        self, height: int, width: int, *, pixel_origin: str
    ) -> tuple[int, int, NDArray[np.bool_]]:
        return self.top, self.left, self.block()


@dataclass(frozen=True, eq=False)
class CocoRle:
    """A COCO run-length mask (compressed string or uncompressed counts) of the whole frame."""

    rle: Mapping[str, Any]
    label: str
    aurora: bool

    def region(
        self, height: int, width: int, *, pixel_origin: str
    ) -> tuple[int, int, NDArray[np.bool_]]:
        from pycocotools import mask as coco_mask

        rle = dict(self.rle)
        if isinstance(rle["counts"], list):
            rle = coco_mask.frPyObjects(rle, height, width)
        elif isinstance(rle["counts"], str):
            rle["counts"] = rle["counts"].encode("ascii")
        with warnings.catch_warnings():
            # pycocotools 2.0.11 predates numpy 2's __array__ copy keyword; harmless
            warnings.filterwarnings("ignore", "__array__ implementation", DeprecationWarning)
            decoded = coco_mask.decode(rle)
        return 0, 0, np.asarray(decoded, dtype=bool)


def paint(
    shapes: tuple[Shape, ...], height: int, width: int, *, pixel_origin: str
) -> NDArray[np.bool_]:
    """The ``(height, width)`` mask of a frame: its shapes painted in order."""
    mask = np.zeros((height, width), dtype=bool)
    for shape in shapes:
        top, left, block = shape.region(height, width, pixel_origin=pixel_origin)
        view = mask[top : top + block.shape[0], left : left + block.shape[1]]
        view[block[: view.shape[0], : view.shape[1]]] = shape.aurora
    return mask


def check_inside(
    xy: NDArray[np.float64], height: int, width: int, *, pixel_origin: str, where: str, what: str
) -> None:
    """Refuse points further than :data:`BOUNDS_TOLERANCE` outside the image.

    Raises
    ------
    SchemaError
        Naming ``where`` (file and shape) and the first point outside.
    """
    x_min, x_max, y_min, y_max = image_extent(height, width, pixel_origin)
    tol = BOUNDS_TOLERANCE
    points = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    if not np.isfinite(points).all():
        raise LabelError(f"{where}: {what} has a coordinate that is not a finite number")
    outside = (
        (points[:, 0] < x_min - tol)
        | (points[:, 0] > x_max + tol)
        | (points[:, 1] < y_min - tol)
        | (points[:, 1] > y_max + tol)
    )
    if outside.any():
        x, y = points[np.argmax(outside)]
        raise LabelError(
            f"{where}: {what} has a point at x={x:g}, y={y:g} outside the {width}x{height} "
            f"image (x in [{x_min:g}, {x_max:g}], y in [{y_min:g}, {y_max:g}] with "
            f"pixel_origin={pixel_origin!r}, tolerance {tol:g} pixel)"
        )


class LabelMap:
    """Label names -> True (aurora), False (not aurora) or None (ignored, reported).

    Parameters
    ----------
    mapping : mapping of str to bool or None, optional
        Default ``{"aurora": True}``. The key ``"*"`` gives the value of every name not
        listed; without it an unknown name is an error that names the file and the label.
    """

    def __init__(self, mapping: Mapping[str, bool | None] | None = None) -> None:
        if mapping is None:
            mapping = DEFAULT_LABEL_MAP
        if not isinstance(mapping, Mapping):
            raise OptionError(
                f"label_map must be a mapping of label names to True, False or None; "
                f"found {type(mapping).__name__}"
            )
        checked: dict[str, bool | None] = {}
        for name, value in mapping.items():
            if not isinstance(name, str):
                raise OptionError(f"label_map keys must be label names; found {name!r}")
            if value is not None and not isinstance(value, bool | np.bool_):
                raise OptionError(
                    f"label_map[{name!r}] must be True (aurora), False (not aurora) or None "
                    f"(ignore); found {value!r}"
                )
            checked[name] = None if value is None else bool(value)
        self.mapping = checked

    def resolve(self, label: object, where: str) -> bool | None:
        """The value of a label name read in ``where`` (a file, or a file and shape)."""
        name = "" if label is None else str(label)
        if name in self.mapping:
            return self.mapping[name]
        if OTHERS in self.mapping:
            return self.mapping[OTHERS]
        known = ", ".join(repr(k) for k in self.mapping)
        raise LabelError(
            f"{where}: unknown label name {name!r}; the label map knows {known}. Pass "
            f"label_map={{{name!r}: True}} (aurora), False (not aurora) or None (ignore), "
            f'or a "*" entry for every other name'
        )

    def to_json(self) -> str:
        """The mapping as JSON (for the Dataset's attributes)."""
        return json.dumps(self.mapping)
