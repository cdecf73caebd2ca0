"""Segmentation scores at the pixel and the cell level (numpy only).

Conventions: counts are pooled over all frames (and cells) before the ratios
are taken. A ratio whose numerator and denominator are both 0 — nothing to
find and nothing found — scores 1.0; a ratio with only the denominator 0
cannot occur for IoU/F1, and precision (recall) is 0.0 when nothing was
predicted (present) but something was present (predicted).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import FrameSizeError, OptionError

__all__ = [
    "cell_fractions",
    "cell_labels",
    "check_cell_index",
    "confusion_counts",
    "scores",
]


def confusion_counts(
    predicted: np.ndarray, truth: np.ndarray, valid: np.ndarray | None = None
) -> tuple[int, int, int, int]:
    """``(tp, fp, fn, tn)`` of boolean arrays (only where ``valid``, if given).

    Examples
    --------
    >>> confusion_counts(np.array([1, 1, 0, 0], bool), np.array([1, 0, 1, 0], bool))
    (1, 1, 1, 1)
    """
    pred = np.asarray(predicted, dtype=bool)
    true = np.asarray(truth, dtype=bool)
    if pred.shape != true.shape:
        raise FrameSizeError(f"prediction {pred.shape} and truth {true.shape} differ in shape")
    if valid is not None:
        keep = np.broadcast_to(np.asarray(valid, dtype=bool), pred.shape)
        pred = pred[keep]
        true = true[keep]
    tp = int(np.count_nonzero(pred & true))
    fp = int(np.count_nonzero(pred & ~true))
    fn = int(np.count_nonzero(~pred & true))
    tn = int(pred.size - tp - fp - fn)
    return tp, fp, fn, tn


def _ratio(num: int, den: int) -> float:
    return 1.0 if den == 0 else num / den


def scores(tp: int, fp: int, fn: int, tn: int) -> dict[str, Any]:
    """IoU, F1, precision, recall and accuracy from confusion counts.

    Examples
    --------
    >>> s = scores(tp=6, fp=2, fn=2, tn=10)
    >>> s["iou"], s["f1"], s["precision"], s["recall"], s["accuracy"]
    (0.6, 0.75, 0.75, 0.75, 0.8)
    """
    precision = _ratio(tp, tp + fp) if (tp + fp) or not fn else 0.0
    recall = _ratio(tp, tp + fn) if (tp + fn) or not fp else 0.0
    return {
        "iou": _ratio(tp, tp + fp + fn),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "precision": precision,
        "recall": recall,
        "accuracy": _ratio(tp + tn, tp + fp + fn + tn),
        "tp": int(tp),
        "fp": int(fp),
        "fn": int(fn),
        "tn": int(tn),
    }


def check_cell_index(cell_index: np.ndarray, frame_shape: tuple[int, int]) -> NDArray[np.int64]:
    """Validate a ``(y, x)`` cell label image (-1 outside the grid)."""
    index = np.asarray(cell_index)
    if index.shape != tuple(frame_shape):
        raise FrameSizeError(
            f"the cell_index image has shape {index.shape}, the frames are {tuple(frame_shape)}"
        )
    if not np.issubdtype(index.dtype, np.integer):
        raise OptionError(f"cell_index must hold integers (-1 outside), found {index.dtype}")
    if index.size and index.min() < -1:
        raise OptionError(f"cell_index must be >= -1, found {index.min()}")
    return index.astype(np.int64)


def cell_fractions(
    masks: np.ndarray, cell_index: np.ndarray, n_cells: int | None = None
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Fraction of each cell's pixels that are True, per frame.

    Parameters
    ----------
    masks : (n, H, W) bool ndarray
    cell_index : (H, W) int ndarray
        Cell label per pixel, -1 outside the grid.
    n_cells : int, optional
        Number of cells (default ``cell_index.max() + 1``).

    Returns
    -------
    fractions : (n, n_cells) float64
        NaN for cells without pixels.
    pixels : (n_cells,) int64
        Pixels per cell.
    """
    m = np.asarray(masks, dtype=bool)
    index = check_cell_index(cell_index, m.shape[1:3])
    cells = int(index.max()) + 1 if n_cells is None else int(n_cells)
    cells = max(cells, 0)
    inside = index >= 0
    labels = index[inside]
    pixels = np.bincount(labels, minlength=cells)[:cells]
    out = np.empty((m.shape[0], cells), dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        for i, frame in enumerate(m):
            hits = np.bincount(labels, weights=frame[inside], minlength=cells)[:cells]
            out[i] = np.where(pixels > 0, hits / np.maximum(pixels, 1), np.nan)
    return out, pixels


def cell_labels(
    masks: np.ndarray, cell_index: np.ndarray, *, min_fraction: float = 0.1
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Whether each cell is auroral (>= ``min_fraction`` of its pixels), per frame.

    Returns
    -------
    auroral : (n, n_cells) bool
    has_pixels : (n_cells,) bool
        Cells with at least one pixel (the others are never auroral).
    """
    if not 0.0 < float(min_fraction) <= 1.0:
        raise OptionError(f"min_fraction must lie in (0, 1], found {min_fraction}")
    fractions, pixels = cell_fractions(masks, cell_index)
    auroral = np.nan_to_num(fractions, nan=0.0) >= float(min_fraction)
    return auroral, pixels > 0
