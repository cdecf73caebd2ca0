"""The report of a training run: scores per split part, the worst frames, as files.

After the last epoch, :func:`~aurora_xr.model.train` scores its best checkpoint on every
part of the split (train, validation, test) at the frames' own size and writes, in its
``out_dir``:

``report.json``
    Per part: frames, pixel IoU, F1, precision, recall and accuracy (pooled over the
    pixels inside the lens), and the image-level accuracy, precision, recall and F1 (one
    decision per frame by the image-level rule, against the frame's image-level label or,
    without one, the same rule on its labelled mask). Also: how the split was made (by
    night, ...), the label set (checksum, format, source), the initial weights, the
    checkpoint and its SHA-256, and the worst frames.
``frames.csv``
    One row per frame: its part, pixel scores, aurora pixels labelled and predicted, and
    the image-level truth and decision.
``worst_frames.png``
    The held-out frames (validation and test; the training frames when none are held
    out) with the lowest IoU, with the labelled outline in cyan and the predicted one in
    magenta (:mod:`aurora_xr.model.report_figure`).
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .evaluation import evaluate_frames
from .image_rule import MIN_FRACTION
from .image_truth import ImageTruth, image_level_scores
from .report_figure import tiles_figure
from .splits import PARTS, FrameSplit

__all__ = ["REPORT_FILES", "TrainReport", "write_train_report"]

REPORT_FILES = ("report.json", "frames.csv", "worst_frames.png")
"""The files of a training report, in the run's folder."""

_PIXEL_KEYS = ("iou", "f1", "precision", "recall", "accuracy")
_FRAME_COLUMNS = (
    "id",
    "part",
    "iou",
    "f1",
    "precision",
    "recall",
    "n_true",
    "n_predicted",
    "aurora_true",
    "aurora_predicted",
    "truth_from",
)


@dataclass
class TrainReport:
    """Scores of a trained network on each part of its split, and where they were written.

    Attributes
    ----------
    parts : dict
        Per part (``"train"``, ``"val"``, ``"test"``): ``n_frames``, ``pixel`` (IoU, F1,
        ... and confusion counts) and ``image`` (image-level accuracy, ..., ``n_frames``
        decided), or None for an empty part.
    worst : list of dict
        The frames of the figure, worst first.
    frames : list of dict
        One row per frame (as in ``frames.csv``).
    info : dict
        The checkpoint, split, label set, initial weights and image-level rule.
    path, figure : pathlib.Path or None
        ``report.json`` and ``worst_frames.png``.
    """

    parts: dict[str, dict[str, Any] | None]
    worst: list[dict[str, Any]]
    frames: list[dict[str, Any]]
    info: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    figure: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary (what ``report.json`` holds)."""
        return {
            "info": self.info,
            "parts": self.parts,
            "worst_frames": self.worst,
            "figure": None if self.figure is None else self.figure.name,
        }

    def summary(self) -> list[str]:
        """One line per part, for people."""
        lines = []
        for name in PARTS:
            part = self.parts.get(name)
            if not part:
                lines.append(f"{name:5s}: no frames")
                continue
            pix, img = part["pixel"], part["image"]
            image = (
                f"image-level accuracy {img['accuracy']:.3f} ({img['n_frames']} frames)"
                if img
                else "image-level: no frames"
            )
            lines.append(
                f"{name:5s}: {part['n_frames']} frames, pixel IoU {pix['iou']:.3f} "
                f"F1 {pix['f1']:.3f}, {image}"
            )
        return lines


def _score_part(
    predictor: Any,
    src: Any,
    indices: NDArray[np.int64],
    part: str,
    *,
    threshold: float,
    image_fraction: float,
    image_truth: ImageTruth | None,
    batch_size: int,
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The scores of one part and its per-frame rows (by :func:`.evaluate_frames`)."""
    if len(indices) == 0:
        return None, []
    result = evaluate_frames(
        predictor,
        src,
        indices.tolist(),
        threshold=threshold,
        image_fraction=image_fraction,
        batch_size=batch_size,
    )
    labelled = None if image_truth is None else image_truth.values[indices]
    rows = []
    for k, (i, row) in enumerate(zip(indices.tolist(), result.frames, strict=True)):
        given = -1 if labelled is None else int(labelled[k])
        rows.append(
            {
                **{c: row[c] for c in ("id", "iou", "f1", "precision", "recall")},
                "part": part,
                "n_true": row["n_true"],
                "n_predicted": row["n_predicted"],
                "aurora_true": bool(row["truth_present"]) if given < 0 else bool(given),
                "aurora_predicted": bool(row["aurora_present"]),
                "truth_from": "mask" if given < 0 else "image_labels",
                "index": i,
            }
        )
    image = image_level_scores(
        [r["aurora_predicted"] for r in rows],
        [r["truth_present"] for r in result.frames],
        labelled,
    )
    return {"n_frames": len(rows), "pixel": result.pixel, "image": image}, rows


def _worst(rows: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    held_out = [r for r in rows if r["part"] != "train"] or rows
    ranked = sorted(held_out, key=lambda r: (r["iou"], -(r["n_true"] + r["n_predicted"])))
    return ranked[:count]


def write_train_report(
    predictor: Any,
    src: Any,
    split: FrameSplit,
    out_dir: str | os.PathLike[str],
    *,
    threshold: float,
    image_fraction: float = MIN_FRACTION,
    image_truth: ImageTruth | None = None,
    batch_size: int = 8,
    n_worst: int = 8,
    info: Mapping[str, Any] | None = None,
) -> TrainReport:
    """Score ``predictor`` on every part of ``split`` and write the report files.

    Parameters
    ----------
    predictor : callable
        ``(n, H, W, C)`` frames -> ``(n, H, W)`` probabilities (a
        :class:`~aurora_xr.model.Predictor` on the best checkpoint).
    src : FrameSource
        The labelled frames.
    split : FrameSplit
        The parts (:func:`~aurora_xr.model.splits.split_source`).
    out_dir : path
        Where ``report.json``, ``frames.csv`` and ``worst_frames.png`` go.
    threshold : float
        Probability at or above which a pixel is aurora.
    image_fraction : float
        The image-level rule (:func:`~aurora_xr.model.image_rule.has_aurora`): a frame
        shows aurora when at least this share of its sky is at ``p >= threshold``.
    image_truth : ImageTruth, optional
        Image-level labels (:func:`~aurora_xr.model.image_truth.join_image_labels`); a
        frame without one is judged by the rule on its labelled mask.
    batch_size, n_worst : int
        Frames per call of the predictor; frames in the figure.
    info : mapping, optional
        More to record in ``report.json`` (checkpoint, label set, initial weights, ...).

    Returns
    -------
    TrainReport
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rule_name = f"has_aurora(min_fraction={image_fraction:g}, threshold={threshold:g})"
    parts: dict[str, dict[str, Any] | None] = {}
    rows: list[dict[str, Any]] = []
    for name in PARTS:
        parts[name], part_rows = _score_part(
            predictor,
            src,
            split.part(name),
            name,
            threshold=threshold,
            image_fraction=image_fraction,
            image_truth=image_truth,
            batch_size=batch_size,
        )
        rows.extend(part_rows)
    worst = _worst(rows, n_worst)
    figure = _figure(predictor, src, worst, out / REPORT_FILES[2], threshold) if worst else None
    for row in rows:
        row.pop("index")
    report_info = dict(info or {})
    report_info.update(
        split=split.describe(),
        split_by=split.by,
        split_groups=split.groups or None,
        image_rule=rule_name,
        image_truth=(
            "the rule on each frame's labelled mask" if image_truth is None else image_truth.origin
        ),
        lens=getattr(src, "lens_origin", "given" if src.lens_mask is not None else "none"),
    )
    report = TrainReport(parts=parts, worst=worst, frames=rows, info=report_info, figure=figure)
    report.path = _write_json(out / REPORT_FILES[0], report.to_dict())
    _write_csv(out / REPORT_FILES[1], rows)
    return report


def _frames_with_lens(src: Any, indices: list[int]) -> list[tuple[Any, Any, Any]]:
    """``(frame, truth, lens)`` of each frame, raw, with its camera's lens mask."""
    if hasattr(src, "read_groups"):  # cameras of several kinds: each with its own lens
        out: list[tuple[Any, Any, Any]] = [None] * len(indices)  # type: ignore[list-item]
        for group in src.read_groups(indices):
            for k, pos in enumerate(group.positions):
                out[pos] = (group.frames[k], group.masks[k], group.lens_mask)
        return out
    frames, truth = src.read(indices)
    return [(frames[k], truth[k], src.lens_mask) for k in range(len(indices))]


def _figure(
    predictor: Any, src: Any, worst: list[dict[str, Any]], path: Path, threshold: float
) -> Path:
    shown = _frames_with_lens(src, [int(r["index"]) for r in worst])
    predicted = []
    for frame, _, lens in shown:
        probs = (
            predictor(frame[None], lens_mask=lens) if lens is not None else predictor(frame[None])
        )
        predicted.append(np.asarray(probs)[0] >= threshold)
    captions = [f"{_short(r['id'])}  {r['part']}  IoU {r['iou']:.2f}" for r in worst]
    return tiles_figure(
        [f for f, _, _ in shown],
        [t for _, t, _ in shown],
        predicted,
        captions,
        path,
        lenses=[lens for _, _, lens in shown],
        title=f"The {len(worst)} frames with the lowest IoU",
    )


def _short(name: str, width: int = 26) -> str:
    """A frame's id for a caption: a time without its zero fractions, a long name's tail."""
    name = re.sub(r"(T\d\d:\d\d:\d\d)\.0+$", r"\1", name)
    return name if len(name) <= width else "..." + name[-(width - 3) :]


def _write_json(path: Path, data: Any) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=1, default=str))
    os.replace(tmp, path)
    return path


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(_FRAME_COLUMNS), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()}
            )
    os.replace(tmp, path)
    return path
