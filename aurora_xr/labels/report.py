"""What reading a label set did: frames read, files skipped, shapes ignored, and why."""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xarray as xr

from ..errors import MissingVariableError

__all__ = ["REPORT_ATTR", "LabelReport", "label_report"]

REPORT_ATTR = "label_report"
"""Dataset attribute holding the report of :func:`aurora_xr.labels.read_labels` as JSON."""

PathLike = str | os.PathLike[str]


@dataclass
class LabelReport:
    """What :func:`~aurora_xr.labels.read_labels` read, skipped and ignored.

    Nothing is dropped silently: every file or shape that did not become part of a frame's
    mask is listed with the reason.

    Attributes
    ----------
    source : str
        The label source (folder or file).
    format : str
        The format read (``"folders"``, ``"labelme"``, ``"coco"``, ``"cvat"``, ``"manifest"``).
    n_frames : int
        Frames in the returned Dataset.
    n_label_files : int
        Label files read (mask images, JSON, XML or CSV files).
    shapes : dict of str to int
        Shapes painted into the masks, per label name.
    n_empty : int
        Frames whose labels hold no aurora shape (their masks are all False), for the formats
        with drawn shapes; mask-image formats count nothing here.
    ignored : list of (str, str)
        ``(file, reason)`` for each shape or entry that was read but left out of the masks
        (lines, points, tags, labels mapped to None).
    skipped : list of (str, str)
        ``(file, reason)`` for each file or frame left out of the Dataset.
    notes : list of str
        Other facts worth knowing (embedded images used, frames without annotations).
    """

    source: str
    format: str
    n_frames: int = 0
    n_label_files: int = 0
    shapes: dict[str, int] = field(default_factory=dict)
    n_empty: int = 0
    ignored: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def skip(self, path: PathLike, reason: str) -> None:
        """Record a file or frame left out of the Dataset."""
        self.skipped.append((os.fspath(path), reason))

    def ignore(self, path: PathLike, reason: str) -> None:
        """Record a shape or entry left out of a mask."""
        self.ignored.append((os.fspath(path), reason))

    def note(self, text: str) -> None:
        """Record a fact for the reader of the report."""
        self.notes.append(text)

    def count(self, labels: list[str]) -> None:
        """Count painted shapes by label name."""
        counts = Counter(self.shapes)
        counts.update(labels)
        self.shapes = dict(sorted(counts.items()))

    @property
    def ok(self) -> bool:
        """True when nothing was skipped or ignored."""
        return not self.skipped and not self.ignored

    def summary(self) -> str:
        """One line for people."""
        text = (
            f"{self.n_frames} labelled frames read from {self.n_label_files} {self.format} "
            f"label file(s) in {self.source}"
        )
        if self.shapes:
            text += "; shapes: " + ", ".join(f"{k} {v}" for k, v in self.shapes.items())
        if self.skipped:
            text += f"; {len(self.skipped)} skipped"
        if self.ignored:
            text += f"; {len(self.ignored)} shape(s) or entries ignored"
        return text

    def __str__(self) -> str:
        lines = [self.summary()]
        if self.n_empty:
            lines.append(f"  {self.n_empty} frame(s) have no aurora shape (empty masks)")
        lines += [f"  note: {text}" for text in self.notes]
        lines += [f"  skipped {path}: {reason}" for path, reason in self.skipped]
        lines += [f"  ignored {path}: {reason}" for path, reason in self.ignored]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "source": self.source,
            "format": self.format,
            "n_frames": self.n_frames,
            "n_label_files": self.n_label_files,
            "shapes": dict(self.shapes),
            "n_empty": self.n_empty,
            "ignored": [{"path": p, "reason": r} for p, r in self.ignored],
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
            "notes": list(self.notes),
        }

    def to_json(self, path: PathLike | None = None) -> str:
        """The report as JSON text; also written to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=1)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    @classmethod
    def from_json(cls, text: str) -> LabelReport:
        """The report written by :meth:`to_json`."""
        data = json.loads(text)
        return cls(
            source=data["source"],
            format=data["format"],
            n_frames=int(data["n_frames"]),
            n_label_files=int(data["n_label_files"]),
            shapes={str(k): int(v) for k, v in data["shapes"].items()},
            n_empty=int(data["n_empty"]),
            ignored=[(d["path"], d["reason"]) for d in data["ignored"]],
            skipped=[(d["path"], d["reason"]) for d in data["skipped"]],
            notes=[str(t) for t in data["notes"]],
        )


def label_report(ds: xr.Dataset) -> LabelReport:
    """The :class:`LabelReport` that :func:`~aurora_xr.labels.read_labels` attached to ``ds``.

    Raises
    ------
    MissingVariableError
        If ``ds`` carries no ``label_report`` attribute.
    """
    text = ds.attrs.get(REPORT_ATTR)
    if not isinstance(text, str):
        raise MissingVariableError(
            f"expected a Dataset from read_labels with a {REPORT_ATTR!r} attribute; found "
            f"attributes {sorted(ds.attrs)}"
        )
    return LabelReport.from_json(text)
