"""Obstruction masks drawn by hand and stored with the calibration (numpy only).

* :func:`mask_from_polygons`: the pixels inside polygons drawn over a frame (e.g. in
  an image editor or with matplotlib), for masts and buildings a frame-based mask
  misses;
* :func:`mask_to_rle`, :func:`mask_from_rle`: a mask as JSON-ready runs;
* :func:`save_obstruction`, :func:`load_obstruction`: the mask under the key
  ``"obstruction"`` of a calibration JSON (the file ``aurora-xr calibrate`` writes and
  ``aurora-xr ingest --calibration`` reads), beside the ``calibration_*`` attributes.

The JSON form
-------------
``{"encoding": "rle-rows", "shape": [H, W], "runs": [n0, n1, n2, ...]}``: the mask
read row by row (C order) as alternating runs of open and obstructed pixels, starting
with open (``n0`` may be 0); the runs sum to ``H * W``. A mask of a horizon and a few
masts takes a few runs per row: a few kB for a 512x512 frame.

Examples
--------
>>> mask = mask_from_polygons((256, 256), [[(150, 30), (165, 30), (160, 60), (150, 60)]])
>>> save_obstruction(mask, "calibration.json")  # doctest: +SKIP
>>> ds = ds.aurora.with_calibration(cal, obstruction=load_obstruction("calibration.json"))
... # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import CalibrationError

__all__ = [
    "OBSTRUCTION_KEY",
    "load_obstruction",
    "mask_from_polygons",
    "mask_from_rle",
    "mask_to_rle",
    "save_obstruction",
]

OBSTRUCTION_KEY = "obstruction"
"""Key of the obstruction mask in a calibration JSON."""

_ENCODING = "rle-rows"


def mask_from_polygons(shape: tuple[int, int], polygons: Sequence[ArrayLike]) -> NDArray[np.bool_]:
    """A mask of the pixels inside drawn polygons.

    Parameters
    ----------
    shape : (H, W)
        Frame size in rows and columns.
    polygons : sequence of (k, 2) array_like
        Each polygon's vertices ``(x, y)`` in pixels (column, row; pixel centres at
        integers, as :mod:`aurora_xr.sky.lens`), in drawing order; each closes itself.

    Returns
    -------
    (H, W) ndarray of bool
        True at pixels whose centre lies inside any polygon (even-odd rule within a
        polygon, so a polygon drawn around a hole leaves it open).

    Examples
    --------
    >>> mask_from_polygons((4, 6), [[(0.5, 0.5), (3.5, 0.5), (3.5, 2.5), (0.5, 2.5)]]).astype(int)
    array([[0, 0, 0, 0, 0, 0],
           [0, 1, 1, 1, 0, 0],
           [0, 1, 1, 1, 0, 0],
           [0, 0, 0, 0, 0, 0]])
    """
    height, width = (int(v) for v in shape)
    mask = np.zeros((height, width), dtype=bool)
    rows = np.arange(height, dtype=float)
    cols = np.arange(width, dtype=float)
    for polygon in polygons:
        xy = np.asarray(polygon, dtype=float)
        if xy.ndim != 2 or xy.shape[1] != 2 or xy.shape[0] < 3 or not np.isfinite(xy).all():
            raise CalibrationError(
                f"expected each polygon as (k, 2) finite vertices (x, y), k >= 3; found "
                f"shape {xy.shape}"
            )
        x0, y0 = xy[:, 0], xy[:, 1]
        x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
        # an edge crosses the row y when y lies in [min(y0, y1), max(y0, y1))
        lo, hi = np.minimum(y0, y1), np.maximum(y0, y1)
        crosses = (rows[:, None] >= lo[None]) & (rows[:, None] < hi[None])
        r, e = np.nonzero(crosses)
        t = (rows[r] - y0[e]) / (y1[e] - y0[e])
        xc = x0[e] + t * (x1[e] - x0[e])
        # a pixel is inside when an odd number of crossings lie at or left of its centre
        first = np.searchsorted(cols, xc, side="left")  # first column at or right of xc
        toggles = np.zeros((height, width + 1), dtype=np.int32)
        np.add.at(toggles, (r, np.clip(first, 0, width)), 1)
        mask ^= (np.cumsum(toggles, axis=1)[:, :width] % 2).astype(bool)
    return mask


# -- the JSON form --------------------------------------------------------------------------
def mask_to_rle(mask: ArrayLike) -> dict[str, Any]:
    """The JSON-ready run-length encoding of a mask (see the module docstring).

    Examples
    --------
    >>> mask_to_rle(np.array([[0, 1, 1], [1, 0, 0]], bool))
    {'encoding': 'rle-rows', 'shape': [2, 3], 'runs': [1, 3, 2]}
    """
    arr = np.asarray(mask, dtype=bool)
    if arr.ndim != 2:
        raise CalibrationError(f"expected a (H, W) mask; found shape {arr.shape}")
    flat = arr.ravel()
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate([[0], change, [flat.size]])
    runs = np.diff(bounds).tolist()
    if flat.size and flat[0]:
        runs = [0, *runs]
    return {"encoding": _ENCODING, "shape": [int(arr.shape[0]), int(arr.shape[1])], "runs": runs}


def mask_from_rle(data: dict[str, Any]) -> NDArray[np.bool_]:
    """A mask from :func:`mask_to_rle`'s encoding.

    Raises
    ------
    CalibrationError
        If the encoding is malformed.
    """
    try:
        encoding = data["encoding"]
        height, width = (int(v) for v in data["shape"])
        runs = np.asarray(data["runs"], dtype=np.int64)
    except (KeyError, TypeError, ValueError) as exc:
        raise CalibrationError(
            f"expected an obstruction mask as {{'encoding': {_ENCODING!r}, 'shape': [H, W], "
            f"'runs': [...]}}; found {exc!r}"
        ) from exc
    if encoding != _ENCODING:
        raise CalibrationError(f"expected encoding {_ENCODING!r}; found {encoding!r}")
    if runs.ndim != 1 or np.any(runs < 0) or int(runs.sum()) != height * width:
        raise CalibrationError(
            f"the obstruction runs must be >= 0 and sum to {height}x{width} = "
            f"{height * width} pixels; found a sum of {int(runs.sum())}"
        )
    values = np.arange(runs.size) % 2 == 1
    return np.repeat(values, runs).reshape(height, width)


def save_obstruction(mask: ArrayLike, path: str | Path) -> None:
    """Store a mask under ``"obstruction"`` in a calibration JSON (created if missing).

    The file's other keys (the ``calibration_*`` attributes, the star calibration)
    are kept; an obstruction it holds is replaced.
    """
    p = Path(path)
    data: dict[str, Any] = {}
    if p.exists():
        data = _read_json(p)
    data[OBSTRUCTION_KEY] = mask_to_rle(mask)
    p.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def load_obstruction(source: str | Path | dict[str, Any]) -> NDArray[np.bool_] | None:
    """The obstruction mask of a calibration JSON (a file or its dict); None if it has none.

    Examples
    --------
    >>> load_obstruction({"obstruction": mask_to_rle(np.eye(2, dtype=bool))}).tolist()
    [[True, False], [False, True]]
    """
    data = source if isinstance(source, dict) else _read_json(Path(source))
    entry = data.get(OBSTRUCTION_KEY)
    return None if entry is None else mask_from_rle(entry)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CalibrationError(f"expected JSON in {path}; found invalid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise CalibrationError(f"expected a JSON object in {path}; found {type(data).__name__}")
    return data
