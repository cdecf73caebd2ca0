"""Train or fine-tune a segmentation network on labelled all-sky frames.

:func:`train` reads frames and masks from a label set (any that
:func:`aurora_xr.read_labels` reads), a folder of synthetic frames or an image cube, a
batch at a time; starts from random, torchvision or aurora_xr weights (``init=``, see
:mod:`~aurora_xr.model.init_weights`); splits the frames by night with the paper's
1201/150/151 proportions (:mod:`~aurora_xr.model.splits`); augments with rotations and
mirrors about the zenith and a brightness/contrast jitter; minimises BCE + Dice inside the
lens circle with AdamW and a one-cycle (or cosine) schedule; scores the validation frames
(IoU, F1, ...) after every epoch; keeps the best checkpoint; stops early; resumes an
interrupted run from its last state; and writes a report. Everything is written without
pickle (safetensors + JSON).

:func:`train` is a short pipeline: check the options (:mod:`~aurora_xr.model.run_options`)
and split the data (:mod:`~aurora_xr.model.training_run`), set up the network, optimiser
and schedule, start or resume the run (:mod:`~aurora_xr.model.train_state`), run the
epochs (:mod:`~aurora_xr.model.epochs`), score the best checkpoint on every part of the
split and write the report (:mod:`~aurora_xr.model.run_results`,
:mod:`~aurora_xr.model.train_report`).

Files in ``out_dir``
--------------------
``best.safetensors``
    The checkpoint with the best validation IoU; its metadata holds the validation
    metrics, at the end the test and image-level metrics, the split (by night: the nights
    of each part), the label set (its ``label_checksum``, format and source) and the
    initial weights.
``last.safetensors``
    The checkpoint after the last epoch.
``train_state.safetensors``
    Weights, AdamW moments and RNG state (tensors) plus epoch, step,
    scheduler, history and options (JSON in the header): what a resumed run
    needs.
``history.json``
    One row per epoch, and the final result.
``report.json``, ``frames.csv``, ``worst_frames.png``
    The report (:mod:`~aurora_xr.model.train_report`): pixel IoU/F1 and image-level
    accuracy per part, every frame's scores, the worst frames with outlines.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from ..errors import OptionError
from ..sky.lens import Calibration
from ..sky.stations import Station, get_station
from .augment import Augmentation
from .data import DEFAULT_SPLIT, open_source
from .devices import resolve_device, resolve_precision
from .epochs import run_epochs
from .image_rule import MIN_FRACTION
from .image_truth import join_image_labels
from .run_results import TrainResult, finish_run, score_best_checkpoint
from .train_state import start_run
from .training_run import set_up_run, split_data, train_options

__all__ = ["TrainResult", "train"]


def train(
    source: Any,
    *,
    arch: str | None = None,
    out_dir: str | os.PathLike[str],
    init: str | os.PathLike[str] | None = None,
    epochs: int = 20,
    batch_size: int = 8,
    lr: float = 3e-4,
    weight_decay: float = 1e-4,
    image_size: int | tuple[int, int] | None = None,
    split: Sequence[float] = DEFAULT_SPLIT,
    split_by: str = "auto",
    station: str | Station | tuple[float, float] | None = None,
    seed: int = 0,
    augment: bool | str | Augmentation = True,
    pretrained: str | os.PathLike[str] | None = None,
    patience: int | None = 5,
    resume: bool = True,
    progress: bool = True,
    max_steps: int | None = None,
    contrast_ratio: float | None = None,
    levels: str | None = None,
    schedule: str = "onecycle",
    dice_weight: float = 1.0,
    threshold: float = 0.5,
    bn_momentum: float | None = 0.1,
    device: str = "auto",
    precision: str = "fp32",
    num_threads: int | None = None,
    calibration: Calibration | None = None,
    report: bool = True,
    image_labels: Any = None,
    image_fraction: float = MIN_FRACTION,
    image_var: str = "image",
    truth_var: str = "aurora_truth",
    time_dim: str = "time",
    y_dim: str = "y",
    x_dim: str = "x",
    channel_dim: str = "channel",
    frame_dim: str = "frame",
    mask_var: str = "mask",
) -> TrainResult:
    """Train (or fine-tune) an aurora segmentation network; keep the best checkpoint.

    Parameters
    ----------
    source : path, xarray.Dataset or frame source
        Labelled frames: a label set read by :func:`aurora_xr.read_labels` (its Dataset,
        or a path it reads with its defaults: ``images/`` + ``masks/`` folders, LabelMe,
        COCO, CVAT, a manifest CSV), a folder of synthetic ``<name>_rgb.png`` frames with
        ``<name>_mask.png`` beside them, or an image cube with ``aurora_truth``; colour or
        single-channel frames, 8- or 16-bit, read a batch at a time.
    arch : str, optional
        Architecture (see :data:`~aurora_xr.model.ARCHITECTURES`); default the ``init``
        checkpoint's, else ``"fcn_resnet50"`` (the paper's).
    out_dir : path
        Where checkpoints, the training state, the history and the report go.
    init : path, optional
        Start from these weights (fine-tuning): an aurora_xr checkpoint of the same
        architecture with one output (all its weights; also its input size, contrast
        ratio and levels unless given here), or a torchvision weights file placed locally,
        e.g. ``fcn_resnet50_coco-1167a1af.pth`` (its 21-class COCO head replaced by a new
        one-output head). See :mod:`~aurora_xr.model.init_weights`.
    epochs, batch_size, lr, weight_decay : numbers
        Schedule length, frames per step, peak learning rate and AdamW
        weight decay.
    image_size : int or (int, int), optional
        Network input size (frames are resized to it; stored in the checkpoint); default
        the ``init`` checkpoint's, else 256.
    split : 3 numbers
        Train/validation/test proportions (default 1201/150/151, the paper's 80/10/10).
    split_by : {"auto", "night", "folder", "labels", "frame"}
        How frames are kept together (see :func:`~aurora_xr.model.splits.split_source`):
        ``"auto"`` is the labels' own split column when they give one, else whole nights
        for a label set (frames without a time are refused; ``"folder"`` keeps the frames
        of each folder together instead), and single frames for an image cube or a
        synthetic folder.
    station : str, Station or (lat, lon), optional
        The camera's site: nights run from local noon to local noon there (default: UT
        noon to noon).
    seed : int
        Seeds the split, the initialisation, the batch order and the
        augmentation: a run is reproducible.
    augment : bool, str or Augmentation
        ``True`` (the ``"basic"`` recipe: rotation and mirror about the zenith,
        brightness/contrast jitter), ``"real_sky"`` (the basic recipe plus the
        domain randomisation for real cameras: colour, levels, gamma, noise,
        resolution, JPEG, grey frames), an :class:`Augmentation`, or ``False``;
        see :mod:`aurora_xr.model.augment`.
    pretrained : None, "coco", "imagenet" or path
        Initial weights of a run without ``init`` (see :func:`~aurora_xr.model.build_model`).
    patience : int or None
        Stop after this many epochs without a better validation IoU.
    resume : bool
        Continue the run in ``out_dir`` from its last state, if any (the
        options must match); False starts afresh.
    progress : bool
        tqdm progress bars.
    max_steps : int, optional
        Stop after this many optimizer steps in all (the state is saved, so
        a later call resumes from there).
    contrast_ratio : float, optional
        The uniform contrast ratio of the preprocessing; default the ``init``
        checkpoint's, else 1.
    levels : {"robust", "dtype"}, optional
        How raw frames come to [0, 1]: the robust per-frame black and white
        levels (any camera, 8 or 16 bits) or the dtype's maximum (as
        checkpoints were trained before levels existed); see
        :mod:`aurora_xr.model.preprocess`. Recorded in the checkpoint. Default the
        ``init`` checkpoint's, else ``"robust"``.
    schedule : {"onecycle", "cosine", "constant"}
        Learning-rate schedule, stepped every batch.
    dice_weight : float
        Weight of the Dice term added to the BCE.
    threshold : float
        Probability threshold stored in the checkpoint and used for the scores.
    bn_momentum : float or None
        Momentum of every BatchNorm layer's running statistics. 0.1 (the
        PyTorch default) lets the statistics follow a short fine-tune; the
        MobileNetV3 networks come with 0.01, whose statistics lag far behind
        in short runs (evaluation-mode outputs then go flat). None keeps the
        architecture's own.
    device, precision, num_threads :
        Where to train (``"auto"``: CUDA when available), ``"fp32"`` or
        ``"bf16"`` autocast (``"auto"``: bf16 where the device computes it
        natively, a GPU with bf16 or a CPU with AVX512-BF16 or AMX, where it
        about doubles the speed; fp32 elsewhere), and torch's CPU thread count.
    calibration : Calibration, optional
        The camera's lens: the lens circle of a label set (else found from the frames'
        bright disc) or of a folder without ``lens_mask.png``.
    report : bool
        Score the best checkpoint on every part and write ``report.json``,
        ``frames.csv`` and ``worst_frames.png`` (False: the test frames only).
    image_labels : path or xarray.Dataset, optional
        Image-level labels (a ``frame,aurora`` CSV, or :func:`aurora_xr.read_image_labels`)
        for the report's image-level scores, joined to the frames by image file or time;
        frames without one are judged by their masks.
    image_fraction : float
        The image-level rule of the report (:func:`~aurora_xr.model.image_rule.has_aurora`):
        a frame shows aurora when at least this share of its sky is at ``p >= threshold``
        (default 0.01).
    image_var, truth_var, time_dim, y_dim, x_dim, channel_dim : str
        Names in a cube source.
    frame_dim, mask_var : str
        Names in a label set.

    Returns
    -------
    TrainResult
        History, best checkpoint path, test metrics, split, report, ...

    Examples
    --------
    Fine-tune the model of the synthetic sky on a station's own labelled frames:

    >>> labels = aurora_xr.read_labels("labelled/", label_map={"aurora": True, "arc": True})
    ... # doctest: +SKIP
    >>> result = aurora_xr.train(labels, init="synthetic/best.safetensors", out_dir="jbs",
    ...                          station="JBS", epochs=10)  # doctest: +SKIP
    >>> result.report["parts"]["test"]["pixel"]["iou"]  # doctest: +SKIP
    """
    options = train_options(
        arch=arch,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        weight_decay=weight_decay,
        image_size=image_size,
        split=split,
        seed=seed,
        augment=augment,
        pretrained=pretrained,
        patience=patience,
        progress=progress,
        max_steps=max_steps,
        contrast_ratio=contrast_ratio,
        levels=levels,
        schedule=schedule,
        dice_weight=dice_weight,
        threshold=threshold,
        bn_momentum=bn_momentum,
        precision=precision,
        init=init,
        split_by=split_by,
        longitude=_longitude(station),
    )
    dev, precision = _device_and_precision(device, precision, num_threads)
    out = Path(out_dir).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    src = open_source(
        source,
        calibration=calibration,
        image_var=image_var,
        truth_var=truth_var,
        time_dim=time_dim,
        y_dim=y_dim,
        x_dim=x_dim,
        channel_dim=channel_dim,
        frame_dim=frame_dim,
        mask_var=mask_var,
    )
    image_truth = None if image_labels is None else join_image_labels(src, image_labels)
    data = split_data(src, options)
    setup = set_up_run(options, data, device=dev, precision=precision, out=out)
    run = start_run(
        setup.state_path,
        setup.model,
        setup.optimizer,
        setup.scheduler,
        setup.config,
        resume=resume,
    )
    stopped = run_epochs(setup, run)
    test_metrics, written = score_best_checkpoint(
        setup, report=report, image_fraction=image_fraction, image_truth=image_truth
    )
    return finish_run(setup, run, stopped, test_metrics, written)


def _longitude(station: str | Station | tuple[float, float] | None) -> float | None:
    """The east longitude of ``station`` (a code, a Station or (lat, lon)); None: unknown."""
    if station is None:
        return None
    if isinstance(station, tuple | list):
        if len(station) != 2:
            raise OptionError(f"station must be a code, a Station or (lat, lon); found {station}")
        return float(station[1])
    return float(get_station(station).longitude)


def _device_and_precision(
    device: str, precision: str, num_threads: int | None
) -> tuple[torch.device, str]:
    """The device and the precision to train in; sets torch's CPU thread count."""
    if num_threads is not None:
        torch.set_num_threads(int(num_threads))
    dev = resolve_device(device)
    return dev, resolve_precision(precision, dev, training=True)
