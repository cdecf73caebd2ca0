"""Evaluate a model on labelled frames: pixel and cell scores, a per-frame table, JSON."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ModelError, OptionError
from .cube_source import CubeSource, FrameGroup
from .data import DEFAULT_SPLIT, FrameSource, open_source, split_indices
from .image_rule import MIN_FRACTION
from .loading import LoadedModel
from .metrics import check_cell_index, scores
from .predictor import Predictor
from .score_tally import ScoreTally
from .splits import part_indices

if TYPE_CHECKING:
    import pandas as pd

    from ..sky.lens import Calibration

__all__ = ["EvaluationResult", "evaluate", "evaluate_frames"]

SPLITS = ("train", "val", "test", "all")


@dataclass
class EvaluationResult:
    """Scores of a model on labelled frames.

    Attributes
    ----------
    pixel : dict
        IoU, F1, precision, recall, accuracy and confusion counts over the
        pixels inside the lens circle of all frames (pooled).
    cells : dict or None
        The same over (frame, cell) pairs, a cell being auroral when at least
        ``min_fraction`` of its pixels are (None without a cell index).
    frames : list of dict
        One row per frame: id, pixel scores (and cell scores).
    info : dict
        Model name, checksum, threshold, split, number of frames, ...
    images : dict or None
        The same over frames, a frame showing aurora by the one image-level rule
        (:func:`~aurora_xr.model.image_rule.has_aurora`: at least
        ``image_fraction`` of the sky at ``p >= threshold``), applied to the
        prediction and to the truth.
    forms : dict
        Where the source knows the form of the aurora (``aurora_kind`` of the
        synthetic sky): ``{"dynamic": {...}, "stationary": {...}}`` with the
        recall of the truth's pixels of that form (``pixel_recall``) and of the
        truth's auroral cells whose pixels are mostly of that form
        (``cell_recall``, as :func:`aurora_xr.compare_methods` splits them;
        ties count as dynamic).
    """

    pixel: dict[str, Any]
    cells: dict[str, Any] | None
    frames: list[dict[str, Any]] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    images: dict[str, Any] | None = None
    forms: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary."""
        return {
            "info": self.info,
            "pixel": self.pixel,
            "cells": self.cells,
            "images": self.images,
            "forms": self.forms,
            "frames": self.frames,
        }

    def to_json(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_dict` as JSON (atomically)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "w") as fh:
                json.dump(self.to_dict(), fh, indent=1)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

    def to_dataframe(self) -> pd.DataFrame:
        """The per-frame table as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame(self.frames)


def _frame_row(
    frame_id: str, tp: int, fp: int, fn: int, tn: int, extra: dict[str, Any]
) -> dict[str, Any]:
    s = scores(tp, fp, fn, tn)
    row: dict[str, Any] = {"id": frame_id}
    row.update({k: s[k] for k in ("iou", "f1", "precision", "recall", "accuracy")})
    row.update({"n_true": tp + fn, "n_predicted": tp + fp})
    row.update(extra)
    return row


def _groups(source: FrameSource, part: list[int]) -> list[Any]:
    """The frames of ``part`` grouped by camera, each with its own lens mask (and forms)."""
    if hasattr(source, "read_groups"):
        return list(source.read_groups(part, kinds=True))
    frames, truth = source.read(part)
    return [FrameGroup(list(range(len(part))), frames, truth, source.lens_mask, None)]


def evaluate_frames(
    predictor: Any,
    source: FrameSource,
    indices: Sequence[int],
    *,
    threshold: float,
    cell_index: np.ndarray | None = None,
    min_fraction: float = 0.1,
    image_fraction: float = MIN_FRACTION,
    batch_size: int = 8,
    progress: bool = False,
) -> EvaluationResult:
    """Score ``predictor`` on the frames ``indices`` of ``source`` (the kernel of :func:`evaluate`).

    ``predictor`` is called as ``predictor(frames, lens_mask=...)`` with the
    lens mask of the frames' camera when the source knows it (for a list of
    cubes, each camera's own, on its raw frames), else ``predictor(frames)``.
    Image-level scores apply :func:`~aurora_xr.model.image_rule.has_aurora`
    (``image_fraction`` of the sky) to the prediction and to the truth alike.
    """
    from tqdm.auto import tqdm

    index = None if cell_index is None else check_cell_index(cell_index, source.frame_shape)
    ids = source.ids
    tally = ScoreTally(
        index, min_fraction=min_fraction, image_fraction=image_fraction, threshold=threshold
    )
    order = [int(i) for i in indices]
    rows: list[dict[str, Any]] = [{} for _ in order]
    bar = tqdm(total=len(order), desc="evaluate", unit="frame", disable=not progress)
    for start in range(0, len(order), batch_size):
        part = order[start : start + batch_size]
        for group in _groups(source, part):
            lens = group.lens_mask
            frames = group.frames
            probs = predictor(frames, lens_mask=lens) if lens is not None else predictor(frames)
            added = tally.add(np.asarray(probs), group.masks, lens, group.kinds)
            for pos, (counts, extra) in zip(group.positions, added, strict=True):
                rows[start + pos] = _frame_row(ids[part[pos]], *counts, extra)
        bar.update(len(part))
    bar.close()
    info: dict[str, Any] = {
        "n_frames": len(order),
        "threshold": float(threshold),
        "min_fraction": float(min_fraction) if index is not None else None,
        "image_fraction": float(image_fraction),
        "n_cells": None if index is None else int(index.max()) + 1,
        "lens_masked": source.lens_mask is not None or hasattr(source, "read_groups"),
    }
    totals = tally.totals()
    return EvaluationResult(
        pixel=totals["pixel"] or {},
        cells=totals["cells"],
        frames=rows,
        info=info,
        images=totals["images"],
        forms=tally.form_scores(),
    )


def _as_predictor(
    model: Any, *, device: str, batch_size: int | None, tta: str | None = None
) -> Predictor:
    options: dict[str, Any] = {"device": device}
    if batch_size is not None:
        options["batch_size"] = batch_size
    if tta is not None:
        options["tta"] = tta
    if isinstance(model, Predictor):
        return model if tta is None else model.with_tta(tta)
    if isinstance(model, LoadedModel):
        return model.predictor(**options)
    if isinstance(model, str | os.PathLike):
        return Predictor(model, **options)
    from torch import nn

    if isinstance(model, nn.Module):
        return Predictor.from_module(model, **options)
    raise ModelError(
        "expected a checkpoint path, a LoadedModel, a Predictor or a torch nn.Module to "
        f"evaluate; found {type(model).__name__}"
    )


def evaluate(
    checkpoint_or_predictor: Any,
    source: Any,
    *,
    split: str = "test",
    fractions: Sequence[float] | None = None,
    seed: int | None = None,
    cell_index: np.ndarray | None = None,
    min_fraction: float = 0.1,
    image_fraction: float = MIN_FRACTION,
    threshold: float | None = None,
    out_json: str | os.PathLike[str] | None = None,
    device: str = "auto",
    batch_size: int | None = None,
    tta: str | None = None,
    calibration: Calibration | None = None,
    image_var: str = "image",
    truth_var: str = "aurora_truth",
    time_dim: str = "time",
    y_dim: str = "y",
    x_dim: str = "x",
    channel_dim: str = "channel",
    progress: bool = False,
) -> EvaluationResult:
    """Pixel and cell scores of a model on labelled frames.

    Parameters
    ----------
    checkpoint_or_predictor : path, Predictor, LoadedModel or torch.nn.Module
        The model (a module is wrapped by :meth:`.Predictor.from_module`
        with the default preprocessing).
    source : path, xarray.Dataset or list of xarray.Dataset
        A folder of ``<name>_rgb.png``/``<name>_mask.png`` frames, an image
        cube with ``aurora_truth``, a list of such cubes (cameras of any kind,
        e.g. :func:`aurora_xr.datasets.randomised_nights`: each scored with its
        own lens), or a frame source.
    split : {"test", "val", "train", "all"}
        Which frames: a part of the split the checkpoint was trained with (its
        nights, folders or label column when it was split so; else the seeded
        split by frame with its proportions and seed), or all frames (for data
        the model never saw, e.g. synthetic nights with other seeds).
    fractions, seed : optional
        Override the split's proportions and seed.
    cell_index : (H, W) int ndarray, optional
        Cell label per pixel at the frame size (-1 outside the grid), e.g.
        ``cell_grid(...)["cell_index"].values``: adds cell-level scores.
    min_fraction : float
        A cell is auroral when at least this fraction of its pixels are.
    image_fraction : float
        A frame shows aurora when at least this fraction of its sky does (the
        one image-level rule, :func:`~aurora_xr.model.image_rule.has_aurora`;
        default 0.01).
    threshold : float, optional
        Probability threshold (default: the model's, 0.5).
    out_json : path, optional
        Write the result there as JSON.
    device, batch_size : optional
        Where and how many frames at a time (for paths and LoadedModels).
    tta : {"none", "flip", "dihedral"}, optional
        Test-time augmentation (see :mod:`aurora_xr.model.tta`); default: the
        predictor's own, ``"none"`` for a path or a LoadedModel.
    calibration : Calibration, optional
        Lens circle for a folder source without ``lens_mask.png``.
    image_var, truth_var, time_dim, y_dim, x_dim, channel_dim : str
        Names in a cube source.
    progress : bool
        Show a progress bar.

    Returns
    -------
    EvaluationResult
        ``.pixel``, ``.cells``, ``.images`` (image level), ``.forms`` (recall
        by form of aurora, where the cubes have ``aurora_kind``), ``.frames``
        (per-frame table), ``.info``.
    """
    if split not in SPLITS:
        raise OptionError(f"split must be one of {SPLITS}, found {split!r}")
    predictor = _as_predictor(
        checkpoint_or_predictor, device=device, batch_size=batch_size, tta=tta
    )
    if isinstance(source, list | tuple):
        source = CubeSource(
            list(source),
            image_var=image_var,
            truth_var=truth_var,
            time_dim=time_dim,
            y_dim=y_dim,
            x_dim=x_dim,
            channel_dim=channel_dim,
            calibration=calibration,
        )
    src = open_source(
        source,
        calibration=calibration,
        image_var=image_var,
        truth_var=truth_var,
        time_dim=time_dim,
        y_dim=y_dim,
        x_dim=x_dim,
        channel_dim=channel_dim,
    )
    meta = predictor.metadata
    split_info = dict((meta.split if meta is not None else None) or {})
    if split == "all":
        indices = np.arange(len(src))
        used_fractions: list[float] | None = None
        used_seed: int | None = None
    else:
        chosen = fractions or split_info.get("fractions") or DEFAULT_SPLIT
        used_fractions = [float(f) for f in chosen]
        used_seed = int(seed if seed is not None else split_info.get("seed", 0))
        if fractions is None and seed is None and split_info.get("by") not in (None, "frame"):
            # the checkpoint's own split by night, folder or label column: its parts exactly
            indices = part_indices(src, split_info, split)
        else:
            parts = split_indices(len(src), fractions=used_fractions, seed=used_seed)
            indices = parts[("train", "val", "test").index(split)]
        if len(indices) == 0:
            raise OptionError(
                f"the {split!r} split of {len(src)} frames with proportions {used_fractions} "
                "is empty; use split='all' or more frames"
            )
    order = [int(i) for i in indices]
    thr = predictor.threshold if threshold is None else float(threshold)
    result = evaluate_frames(
        predictor,
        src,
        order,
        threshold=thr,
        cell_index=cell_index,
        min_fraction=min_fraction,
        image_fraction=image_fraction,
        batch_size=predictor.batch_size,
        progress=progress,
    )
    result.info.update(
        {
            "model": predictor.name,
            "checksum": predictor.checksum,
            "checkpoint": None if predictor.path is None else str(predictor.path),
            "split": split,
            "tta": predictor.tta,
            "split_fractions": used_fractions,
            "split_seed": used_seed,
            "source": (
                str(source) if isinstance(source, str | os.PathLike) else type(source).__name__
            ),
        }
    )
    if out_json is not None:
        result.to_json(out_json)
    return result
