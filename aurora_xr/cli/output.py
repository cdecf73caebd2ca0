"""What the ``aurora-xr`` subcommands print and write: summary numbers and output paths."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..errors import OptionError

__all__ = ["fmt", "output_path", "scores_line"]


def fmt(value: Any, digits: int = 3) -> str:
    """A number for a summary line (``n/a`` for None and NaN)."""
    if value is None:
        return "n/a"
    number = float(value)
    return "n/a" if math.isnan(number) else f"{number:.{digits}f}"


def scores_line(scores: dict[str, Any] | None) -> str:
    """IoU, F1, precision, recall and accuracy on one line."""
    if not scores:
        return "n/a"
    names = (
        ("iou", "IoU"),
        ("f1", "F1"),
        ("precision", "precision"),
        ("recall", "recall"),
        ("accuracy", "accuracy"),
    )
    return "  ".join(f"{label} {fmt(scores.get(key))}" for key, label in names if key in scores)


def output_path(path: str) -> Path:
    """An output file path whose folder exists (created if needed)."""
    target = Path(path).expanduser()
    if target.is_dir():
        raise OptionError(f"expected an output file path; found the folder {target}")
    target.parent.mkdir(parents=True, exist_ok=True)
    return target
