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

:func:`open_source` opens either from what a caller passes;
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
) -> FrameSource:
    """A :class:`FrameSource` from a folder path, an image cube or a source."""
    if isinstance(source, FolderSource | CubeSource):
        return source
    if isinstance(source, str | os.PathLike):
        return FolderSource(source, calibration=calibration)
    import xarray as xr

    if isinstance(source, xr.Dataset):
        return CubeSource(
            source,
            image_var=image_var,
            truth_var=truth_var,
            time_dim=time_dim,
            y_dim=y_dim,
            x_dim=x_dim,
            channel_dim=channel_dim,
            calibration=calibration,
        )
    raise OptionError(
        "expected a folder of <name>_rgb.png/<name>_mask.png files or an image cube "
        f"(xarray.Dataset) with aurora_truth; found {type(source).__name__}"
    )
