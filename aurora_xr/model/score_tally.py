"""Confusion counts of an evaluation, gathered camera by camera (numpy only, no torch).

:class:`ScoreTally` takes the probabilities a model gave for a group of frames
of one camera, with their truth, lens mask and (synthetic sky) form of
aurora, and adds up the confusion counts that :func:`aurora_xr.model.evaluate`
reports: pixels inside the lens, equal-area cells, whole frames by the one
image-level rule (:func:`~aurora_xr.model.image_rule.has_aurora`, applied to
the prediction and to the truth alike), and the recall of the truth's dynamic
and stationary forms, per pixel and per cell (a cell's form is the majority
form of its truth pixels, ties dynamic, as :func:`aurora_xr.compare_methods`
splits them).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .image_rule import has_aurora, sky_fraction
from .metrics import cell_fractions, cell_labels, confusion_counts, scores

__all__ = ["DYNAMIC", "STATIONARY", "ScoreTally"]

DYNAMIC, STATIONARY = 1, 2
"""Codes of ``aurora_kind``: 0 none, 1 dynamic, 2 stationary."""

_FORMS = ("dynamic", "stationary")


class ScoreTally:
    """Confusion counts of pixels, cells, frames and forms, added group by group.

    Parameters
    ----------
    cell_index : (H, W) int ndarray or None
        Cell of every pixel (-1 outside); None: no cell scores.
    min_fraction : float
        A cell is auroral when at least this share of its pixels is.
    image_fraction : float
        A frame shows aurora when at least this share of its sky does.
    threshold : float
        Probability at or above which a pixel is aurora.
    """

    def __init__(
        self,
        cell_index: NDArray[np.int64] | None,
        *,
        min_fraction: float,
        image_fraction: float,
        threshold: float,
    ) -> None:
        self.index = cell_index
        self.min_fraction = float(min_fraction)
        self.image_fraction = float(image_fraction)
        self.threshold = float(threshold)
        self.pixel = np.zeros(4, dtype=np.int64)
        self.cells = np.zeros(4, dtype=np.int64)
        self.images = np.zeros(4, dtype=np.int64)
        self.form_counts: dict[str, NDArray[np.int64]] = {}

    def add(
        self,
        probabilities: NDArray[Any],
        truth: NDArray[np.bool_],
        lens: NDArray[np.bool_] | None,
        kinds: NDArray[Any] | None = None,
    ) -> list[tuple[tuple[int, int, int, int], dict[str, Any]]]:
        """Add frames ``(k, H, W)`` of one camera; per frame its pixel counts and table columns."""
        probs = np.asarray(probabilities)
        pred = probs >= self.threshold
        present = has_aurora(
            probs, lens, min_fraction=self.image_fraction, threshold=self.threshold
        )
        true_present = has_aurora(truth, lens, min_fraction=self.image_fraction)
        fractions = sky_fraction(probs, lens, threshold=self.threshold)
        sky: NDArray[np.bool_] | bool = True if lens is None else lens
        cells = None
        if self.index is not None:
            cells_true, has_pixels = cell_labels(
                truth & sky, self.index, min_fraction=self.min_fraction
            )
            cells_pred, _ = cell_labels(pred, self.index, min_fraction=self.min_fraction)
            cells = (cells_true, cells_pred, has_pixels)
        rows = []
        for k in range(pred.shape[0]):
            counts = confusion_counts(pred[k], truth[k], lens)
            self.pixel += counts
            self.images += confusion_counts(present[k : k + 1], true_present[k : k + 1])
            extra: dict[str, Any] = {
                "sky_fraction": float(fractions[k]),
                "aurora_present": bool(present[k]),
                "truth_present": bool(true_present[k]),
            }
            if cells is not None:
                ccounts = confusion_counts(cells[1][k], cells[0][k], cells[2])
                self.cells += ccounts
                cs = scores(*ccounts)
                extra.update(
                    cell_f1=cs["f1"],
                    cell_iou=cs["iou"],
                    n_cells_true=ccounts[0] + ccounts[2],
                    n_cells_predicted=ccounts[0] + ccounts[1],
                )
            rows.append((counts, extra))
        if kinds is not None:
            self._add_forms(pred, truth & sky, np.asarray(kinds), cells)
        return rows

    def _count(self, key: str, hit: NDArray[np.bool_], form: NDArray[np.bool_]) -> None:
        tally = self.form_counts.setdefault(key, np.zeros(2, dtype=np.int64))
        tally += (int(np.count_nonzero(hit & form)), int(np.count_nonzero(form)))

    def _add_forms(
        self,
        pred: NDArray[np.bool_],
        truth: NDArray[np.bool_],
        kinds: NDArray[Any],
        cells: tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_]] | None,
    ) -> None:
        stationary_px = kinds == STATIONARY
        self._count("pixel_dynamic", pred, truth & ~stationary_px)
        self._count("pixel_stationary", pred, truth & stationary_px)
        if cells is None or self.index is None:
            return
        cells_true, cells_pred, _ = cells
        dynamic, _ = cell_fractions(truth & (kinds == DYNAMIC), self.index)
        stationary, _ = cell_fractions(truth & stationary_px, self.index)
        mostly_stationary = np.nan_to_num(stationary) > np.nan_to_num(dynamic)
        self._count("cell_dynamic", cells_pred, cells_true & ~mostly_stationary)
        self._count("cell_stationary", cells_pred, cells_true & mostly_stationary)

    def form_scores(self) -> dict[str, dict[str, float | int]]:
        """Recall of each form: ``{"stationary": {"pixel_recall", "pixel_n_true", ...}}``."""
        out: dict[str, dict[str, float | int]] = {}
        for key, (hits, total) in sorted(self.form_counts.items()):
            level, form = key.split("_")
            entry = out.setdefault(form, {})
            entry[f"{level}_recall"] = float(hits / total) if total else float("nan")
            entry[f"{level}_n_true"] = int(total)
        return out

    def totals(self) -> dict[str, dict[str, Any] | None]:
        """Scores of the pixels, the cells (None without a cell index) and the frames."""
        return {
            "pixel": scores(*(int(v) for v in self.pixel)),
            "cells": None if self.index is None else scores(*(int(v) for v in self.cells)),
            "images": scores(*(int(v) for v in self.images)),
        }
