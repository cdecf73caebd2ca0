"""Image-level labels (aurora in a frame or not) joined to the frames of a source.

A segmentation network gives each pixel a probability; a scientist asking "was there aurora
in this frame?" needs one answer per frame: the one image-level rule of the package,
:func:`~aurora_xr.model.image_rule.has_aurora` (at least 1 % of the sky at ``p >= 0.5``).
Training reports and evaluation score it against the truth of each frame: the same rule on
the frame's labelled mask, or, where image-level labels are given (a ``frame,aurora`` CSV,
:func:`aurora_xr.read_image_labels`), those labels (:func:`image_level_scores`).

:func:`join_image_labels` finds the label of each frame of a source: by the image file (the
same path, else the same file name when only one label has it), else by the UT time in the
file names.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .frame_groups import source_times
from .metrics import scores

__all__ = ["ImageTruth", "image_level_scores", "join_image_labels"]


class ImageTruth:
    """Image-level labels of a source's frames (-1 where a frame has none).

    Attributes
    ----------
    values : (n,) int8 ndarray
        1 aurora, 0 none, -1 no label for that frame.
    origin : str
        Where they came from (the CSV), with how many frames matched and how.
    """

    def __init__(self, values: NDArray[np.int8], origin: str) -> None:
        self.values = values
        self.origin = origin

    def __len__(self) -> int:
        return len(self.values)


def _frame_files(src: Any) -> list[str] | None:
    sources = getattr(src, "sources", None)
    if sources is None and hasattr(src, "frame_paths"):
        sources = [str(p) for p in src.frame_paths]
    return None if sources is None else [str(s) for s in sources]


def _unique_index(keys: list[Any]) -> dict[Any, int]:
    """key -> position, for the keys that occur once."""
    seen: dict[Any, int] = {}
    twice: set[Any] = set()
    for i, key in enumerate(keys):
        if key in seen:
            twice.add(key)
        seen[key] = i
    return {k: i for k, i in seen.items() if k not in twice}


def join_image_labels(
    src: Any, labels: Any, *, time_pattern: str | None = "%Y%m%d_%H%M%S"
) -> ImageTruth:
    """The image-level label of each frame of ``src``, from a ``frame,aurora`` CSV.

    Parameters
    ----------
    src : FrameSource
        The frames (a label set, a frame folder or an image cube).
    labels : path or xarray.Dataset
        The CSV, or what :func:`aurora_xr.read_image_labels` read from it.
    time_pattern : str or None
        strftime pattern of the time in the CSV's frame names (a path only).

    Returns
    -------
    ImageTruth
        A frame takes the label whose file is its image file (same path), else the one
        whose file name is its file name (when one label has it), else the one with its
        UT time; frames found by none of these have no label (-1).
    """
    from ..labels import read_image_labels

    if isinstance(labels, str | os.PathLike):
        name, ds = str(labels), read_image_labels(labels, time_pattern=time_pattern)
    else:
        name, ds = str(labels.attrs.get("label_source", "the image labels")), labels
    values = np.asarray(ds["has_aurora"].values, dtype=bool)
    csv_paths = [os.path.normpath(os.path.abspath(str(s))) for s in ds["source"].values]
    by_path = _unique_index(csv_paths)
    by_name = _unique_index([Path(p).name for p in csv_paths])
    csv_times = np.asarray(ds["time"].values, dtype="datetime64[ns]")
    by_time = _unique_index([int(t) for t in csv_times.astype(np.int64)])
    nat = int(np.datetime64("NaT", "ns").astype(np.int64))
    files = _frame_files(src)
    times = source_times(src)
    out = np.full(len(src), -1, dtype=np.int8)
    counts = {"path": 0, "file name": 0, "time": 0}
    for i in range(len(src)):
        found = None
        if files is not None:
            path = os.path.normpath(os.path.abspath(files[i]))
            if path in by_path:
                found, how = by_path[path], "path"
            elif Path(path).name in by_name:
                found, how = by_name[Path(path).name], "file name"
        if found is None and times is not None and not np.isnat(times[i]):
            key = int(times[i].astype(np.int64))
            if key != nat and key in by_time:
                found, how = by_time[key], "time"
        if found is not None:
            out[i] = int(values[found])
            counts[how] += 1
    matched = int((out >= 0).sum())
    ways = ", ".join(f"{n} by {how}" for how, n in counts.items() if n)
    origin = f"{name}: {matched} of {len(src)} frames labelled" + (f" ({ways})" if ways else "")
    return ImageTruth(out, origin)


def image_level_scores(
    predicted: Sequence[bool], from_masks: Sequence[bool], labelled: ArrayLike | None = None
) -> dict[str, Any] | None:
    """Image-level accuracy, precision, recall and F1 of per-frame decisions.

    Parameters
    ----------
    predicted : (n,) bools
        The rule on the predicted probabilities.
    from_masks : (n,) bools
        The rule on the labelled masks.
    labelled : (n,) ints, optional
        Image-level labels (1, 0, or -1 for none): they win over ``from_masks``.

    Returns
    -------
    dict or None
        ``accuracy``, ``precision``, ``recall``, ``f1``, ``tp``, ``fp``, ``fn``, ``tn``,
        ``n_frames`` and ``n_image_labels`` (frames judged by an image-level label); None
        without frames.
    """
    pred = np.asarray(predicted, dtype=bool)
    if pred.size == 0:
        return None
    truth = np.asarray(from_masks, dtype=bool)
    n_labels = 0
    if labelled is not None:
        given = np.asarray(labelled, dtype=np.int8)
        truth = np.where(given >= 0, given > 0, truth)
        n_labels = int((given >= 0).sum())
    tp, fp = int((truth & pred).sum()), int((~truth & pred).sum())
    fn, tn = int((truth & ~pred).sum()), int((~truth & ~pred).sum())
    s = scores(tp, fp, fn, tn)
    out: dict[str, Any] = {k: s[k] for k in ("accuracy", "precision", "recall", "f1")}
    out.update(tp=tp, fp=fp, fn=fn, tn=tn, n_frames=int(pred.size), n_image_labels=n_labels)
    return out
