"""Labelled frames for training and evaluation (numpy only, no torch).

Two sources give frames and aurora masks, a batch at a time:

* :class:`FolderSource`: a folder of ``<name>_rgb.png`` frames, each with a
  ``<name>_mask.png`` beside it (non-zero = aurora), as written by the
  synthetic archive (searched recursively); the lens circle comes from a
  calibration, the archive's ``synthetic_archive.json`` sidecar or a
  ``lens_mask.png``.
* :class:`~aurora_xr.model.cube_source.CubeSource`: an image cube
  (``xarray.Dataset``) with ``aurora_truth``; frames are read (computed) per
  batch; the lens circle comes from the ``elevation`` coordinate (NaN
  outside) or the calibration attributes.
* :class:`~aurora_xr.model.label_source.LabelSource`: a label set read by
  :func:`aurora_xr.read_labels` (``images/`` + ``masks/``, LabelMe, COCO, CVAT,
  manifest CSV).

:func:`open_source` opens any of them from what a caller passes;
:func:`split_indices` makes the seeded train/validation/test split.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from ..errors import CalibrationError, FrameSizeError, OptionError, SchemaError
from ..sky.lens import Calibration
from .cube_source import CubeSource
from .lens_masks import lens_mask_from_calibration

__all__ = [
    "DEFAULT_SPLIT",
    "FolderSource",
    "FrameSource",
    "open_source",
    "split_indices",
]

DEFAULT_SPLIT: tuple[float, float, float] = (1201, 150, 151)
"""Train/validation/test proportions of the paper's 1502 labelled frames."""


def split_indices(
    n: int, *, fractions: Sequence[float] = DEFAULT_SPLIT, seed: int = 0
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """A seeded, reproducible train/validation/test split of ``n`` frames.

    Parameters
    ----------
    n : int
        Number of frames.
    fractions : 3 numbers
        Proportions (train, validation, test); normalised by their sum.
        The default (1201, 150, 151) splits 1502 frames exactly like the paper.
    seed : int
        Seed of the random permutation.

    Returns
    -------
    train, val, test : int64 ndarrays
        Sorted frame indices; together a partition of ``range(n)``. The
        validation and test sizes are the rounded proportions (at least one
        frame each when their proportion is positive and ``n >= 3``); the
        training set takes the rest.

    Examples
    --------
    >>> [len(part) for part in split_indices(1502, seed=1)]
    [1201, 150, 151]
    """
    if not isinstance(n, int | np.integer) or n < 0:
        raise OptionError(f"n must be an int >= 0, found {n!r}")
    try:
        f_train, f_val, f_test = (float(f) for f in fractions)
    except (TypeError, ValueError) as exc:
        raise OptionError(f"split must be 3 numbers (train, val, test), found {fractions}") from exc
    if min(f_train, f_val, f_test) < 0 or f_train <= 0:
        raise OptionError(
            f"split proportions must be >= 0 with a positive training share, found {fractions}"
        )
    total = f_train + f_val + f_test
    sizes = []
    for f in (f_val, f_test):
        k = int(np.floor(n * f / total + 0.5))
        if f > 0 and n >= 3:
            k = max(k, 1)
        sizes.append(k)
    n_val, n_test = sizes
    if n_val + n_test >= n:
        n_val, n_test = (min(n_val, max(n - 1, 0) // 2), min(n_test, max(n - 1, 0) // 2))
    order = np.random.default_rng(int(seed)).permutation(n)
    val = np.sort(order[:n_val])
    test = np.sort(order[n_val : n_val + n_test])
    train = np.sort(order[n_val + n_test :])
    return train.astype(np.int64), val.astype(np.int64), test.astype(np.int64)


class FrameSource(Protocol):
    """Labelled frames that can be read a batch at a time."""

    @property
    def frame_shape(self) -> tuple[int, int]:
        """``(height, width)`` of every frame."""
        ...

    @property
    def lens_mask(self) -> NDArray[np.bool_] | None:
        """True inside the lens circle (None: the whole frame)."""
        ...

    @property
    def ids(self) -> list[str]:
        """One identifier per frame (file stem or time)."""
        ...

    def __len__(self) -> int: ...

    def read(self, indices: Sequence[int]) -> tuple[NDArray[Any], NDArray[np.bool_]]:
        """Frames ``(k, H, W, C)`` (uint8/uint16, C 1 or 3) and masks ``(k, H, W)`` bool."""
        ...

    def checksum(self) -> str:
        """SHA-256 of the frames and masks."""
        ...


# -- folder of images ----------------------------------------------------------------
_IMAGE_SUFFIXES = (".png", ".tif", ".tiff", ".jpg", ".jpeg")


def _read_image(path: Path) -> NDArray[Any]:
    from PIL import Image

    with Image.open(path) as img:
        if img.mode in ("I;16", "I;16B", "I;16L", "I"):
            return np.asarray(img, dtype=np.uint16)
        if img.mode not in ("RGB", "L", "1", "RGBA", "LA"):  # palette, CMYK, ...: colour
            return np.asarray(img.convert("RGB"))
        return np.asarray(img)


def _as_frame(img: NDArray[Any], path: Path) -> NDArray[Any]:
    """An image as ``(H, W, C)``: grey as one channel, colour as R, G, B (alpha dropped)."""
    if img.ndim == 2:
        return img[:, :, None]
    if img.ndim == 3 and img.shape[2] in (1, 2):  # grey (with alpha)
        return img[:, :, :1]
    if img.ndim == 3 and img.shape[2] >= 3:
        return img[:, :, :3]
    raise FrameSizeError(f"{path} is neither a grey nor an RGB image (shape {img.shape})")


_ARCHIVE_SIDECAR = "synthetic_archive.json"  # written by aurora_xr.datasets.write_synthetic_archive


def _sidecar_calibration(root: Path) -> Calibration:
    """The camera calibration recorded in an archive's JSON sidecar."""
    path = root / _ARCHIVE_SIDECAR
    try:
        data = json.loads(path.read_text())
        return Calibration.from_attrs(dict(data["calibration"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CalibrationError(f"cannot read the calibration in {path}: {exc}") from exc


class FolderSource:
    """Frames ``<name>_rgb.<ext>`` with masks ``<name>_mask.<ext>`` in one folder.

    Parameters
    ----------
    folder : path
        The folder (searched recursively).
    calibration : Calibration, optional
        Gives the lens circle; otherwise the calibration in a
        ``synthetic_archive.json`` sidecar at the folder root does, or a
        ``lens_mask.png`` (non-zero inside) there; otherwise the whole frame
        counts.
    """

    def __init__(self, folder: str | os.PathLike[str], *, calibration: Calibration | None = None):
        root = Path(folder).expanduser()
        if not root.is_dir():
            raise OptionError(f"expected a folder of *_rgb.png frames, found no folder {root}")
        frames: list[Path] = []
        masks: list[Path] = []
        missing: list[str] = []
        for path in sorted(root.rglob("*_rgb.*")):
            if path.suffix.lower() not in _IMAGE_SUFFIXES:
                continue
            stem = path.name[: -len("_rgb" + path.suffix)]
            candidates = [path.with_name(f"{stem}_mask{s}") for s in _IMAGE_SUFFIXES]
            found = [c for c in candidates if c.is_file()]
            if not found:
                missing.append(path.name)
                continue
            frames.append(path)
            masks.append(found[0])
        if missing:
            raise SchemaError(
                f"{len(missing)} frames in {root} have no <name>_mask.png beside them "
                f"(e.g. {missing[:3]})"
            )
        if not frames:
            raise SchemaError(f"expected <name>_rgb.png frames with masks in {root}; found none")
        self.root = root
        self.frame_paths = frames
        self.mask_paths = masks
        first = _as_frame(_read_image(frames[0]), frames[0])
        self._channels = int(first.shape[2])
        self._shape = (int(first.shape[0]), int(first.shape[1]))
        lens: NDArray[np.bool_] | None = None
        if calibration is not None:
            lens = lens_mask_from_calibration(calibration, *self._shape)
        elif (root / _ARCHIVE_SIDECAR).is_file():
            lens = lens_mask_from_calibration(_sidecar_calibration(root), *self._shape)
        elif (root / "lens_mask.png").is_file():
            raw = _read_image(root / "lens_mask.png")
            lens = np.asarray(raw.any(axis=2) if raw.ndim == 3 else raw > 0, dtype=bool)
            if lens.shape != self._shape:
                raise FrameSizeError(
                    f"lens_mask.png has shape {lens.shape}, the frames are {self._shape}"
                )
        self._lens = lens

    @property
    def frame_shape(self) -> tuple[int, int]:
        return self._shape

    @property
    def lens_mask(self) -> NDArray[np.bool_] | None:
        return self._lens

    @property
    def ids(self) -> list[str]:
        return [p.name[: -len("_rgb" + p.suffix)] for p in self.frame_paths]

    def __len__(self) -> int:
        return len(self.frame_paths)

    def read(self, indices: Sequence[int]) -> tuple[NDArray[Any], NDArray[np.bool_]]:
        frames = []
        masks = []
        for i in indices:
            img = _as_frame(_read_image(self.frame_paths[i]), self.frame_paths[i])
            if img.shape[2] != self._channels:
                raise FrameSizeError(
                    f"{self.frame_paths[i].name} has {img.shape[2]} channels, the first frame "
                    f"{self._channels}"
                )
            raw = _read_image(self.mask_paths[i])
            mask = np.asarray(raw.any(axis=2) if raw.ndim == 3 else raw > 0, dtype=bool)
            if img.shape[:2] != self._shape or mask.shape != self._shape:
                raise FrameSizeError(
                    f"{self.frame_paths[i].name} or its mask is {img.shape[:2]}/{mask.shape}, "
                    f"expected {self._shape} like the first frame"
                )
            frames.append(img)
            masks.append(mask)
        return np.stack(frames), np.stack(masks)

    def checksum(self) -> str:
        digest = hashlib.sha256()
        for frame, mask in zip(self.frame_paths, self.mask_paths, strict=True):
            for path in (frame, mask):
                digest.update(path.name.encode())
                digest.update(path.read_bytes())
        return digest.hexdigest()


def _is_frame_source(source: Any) -> bool:
    """Whether ``source`` already is a frame source (a :class:`FrameSource` object)."""
    return all(
        hasattr(source, name) for name in ("read", "ids", "lens_mask", "frame_shape", "checksum")
    ) and hasattr(source, "__len__")


def _has_frame_folder(path: Path) -> bool:
    """Whether ``path`` is a folder of synthetic-layout ``<name>_rgb.*`` frames."""
    if not path.is_dir():
        return False
    return any(p.suffix.lower() in _IMAGE_SUFFIXES for p in path.rglob("*_rgb.*"))


def open_source(
    source: Any,
    *,
    calibration: Calibration | None = None,
    image_var: str = "image",
    truth_var: str = "aurora_truth",
    time_dim: str = "time",
    y_dim: str = "y",
    x_dim: str = "x",
    channel_dim: str = "channel",
    mask_var: str = "mask",
    frame_dim: str = "frame",
) -> FrameSource:
    """A :class:`FrameSource` from what a caller passes.

    * a frame source (:class:`FolderSource`, :class:`CubeSource`,
      :class:`~aurora_xr.model.label_source.LabelSource`, or any object with the methods
      of :class:`FrameSource`) is returned as it is;
    * a label set from :func:`aurora_xr.read_labels` (a Dataset with ``mask_var`` along
      ``frame_dim``) becomes a :class:`~aurora_xr.model.label_source.LabelSource`;
    * another Dataset is an image cube with ``truth_var``, and a list of them the cubes of
      several cameras: a :class:`CubeSource`;
    * a path: a folder of ``<name>_rgb.png`` frames with masks (the synthetic layout) is a
      :class:`FolderSource`; any other path is read by :func:`aurora_xr.read_labels` with its
      defaults (``images/`` + ``masks/`` folders, LabelMe, COCO, CVAT, manifest CSV); to
      choose its options, call ``read_labels`` and pass the Dataset.

    ``calibration`` gives the lens circle of folders and label sets (a label set's lens is
    otherwise found from its frames' bright disc).
    """
    if _is_frame_source(source):
        return source
    from .label_source import LabelSource

    if isinstance(source, str | os.PathLike):
        path = Path(source).expanduser()
        if not path.exists():
            from ..errors import NoFilesFoundError

            raise NoFilesFoundError(
                f"expected labelled frames (a label set, or a folder of <name>_rgb.png frames "
                f"with masks); found no file or folder {path}"
            )
        if _has_frame_folder(path):
            return FolderSource(path, calibration=calibration)
        return LabelSource(_read_label_set(path), calibration=calibration)
    import xarray as xr

    cube_options: dict[str, Any] = {
        "image_var": image_var,
        "truth_var": truth_var,
        "time_dim": time_dim,
        "y_dim": y_dim,
        "x_dim": x_dim,
        "channel_dim": channel_dim,
        "calibration": calibration,
    }
    several = isinstance(source, list | tuple) and len(source) > 0
    if several and all(isinstance(ds, xr.Dataset) for ds in source):  # cubes of cameras
        return CubeSource(list(source), **cube_options)
    if isinstance(source, xr.Dataset):
        if mask_var in source.variables and frame_dim in source.dims:
            return LabelSource(
                source,
                calibration=calibration,
                frame_dim=frame_dim,
                y_dim=y_dim,
                x_dim=x_dim,
                channel_dim=channel_dim,
                image_var=image_var,
                mask_var=mask_var,
            )
        return CubeSource(source, **cube_options)
    raise OptionError(
        "expected a folder of <name>_rgb.png/<name>_mask.png files, a label set (a path "
        "read_labels reads, or its Dataset), an image cube (xarray.Dataset) with aurora_truth "
        f"or a frame source; found {type(source).__name__}"
    )


def _read_label_set(path: Path) -> Any:
    """The label set at ``path`` (read_labels' defaults), with the layouts that were expected."""
    from ..errors import LabelError, NoFilesFoundError
    from ..labels import read_labels

    try:
        return read_labels(path)
    except (LabelError, NoFilesFoundError) as exc:
        if path.is_dir() and not any(path.iterdir()):
            raise SchemaError(
                f"expected <name>_rgb.png frames with <name>_mask.png masks or a label set "
                f"(images/ + masks/, LabelMe, COCO, CVAT, manifest CSV) in {path}; found an "
                "empty folder"
            ) from exc
        raise
