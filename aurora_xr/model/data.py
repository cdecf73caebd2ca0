"""Labelled frames for training and evaluation (numpy only, no torch).

Two sources give frames and aurora masks, a batch at a time:

* :class:`FolderSource`: a folder of ``<name>_rgb.png`` frames, each with a
  ``<name>_mask.png`` beside it (non-zero = aurora), as written by the
  synthetic archive (searched recursively); the lens circle comes from a
  calibration, the archive's ``synthetic_archive.json`` sidecar or a
  ``lens_mask.png``.
* :class:`CubeSource`: an image cube (``xarray.Dataset``) with
  ``aurora_truth``; frames are read (computed) per batch; the lens circle
  comes from the ``elevation`` coordinate (NaN outside) or the calibration
  attributes.

:func:`split_indices` makes the seeded train/validation/test split.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.typing import NDArray

from ..errors import (
    CalibrationError,
    DtypeError,
    FrameSizeError,
    MissingVariableError,
    OptionError,
    SchemaError,
)
from ..sky.lens import Calibration
from .preprocess import lens_mask_from_calibration, lens_mask_from_elevation

if TYPE_CHECKING:
    import xarray as xr

__all__ = [
    "DEFAULT_SPLIT",
    "CubeSource",
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
        """Frames ``(k, H, W, 3)`` (uint8/uint16) and masks ``(k, H, W)`` bool."""
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
        if img.mode not in ("RGB", "L", "1", "P", "RGBA", "LA"):
            return np.asarray(img.convert("RGB"))
        return np.asarray(img)


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
        first = _read_image(frames[0])
        if first.ndim != 3 or first.shape[2] < 3:
            raise FrameSizeError(f"{frames[0]} is not an RGB image (shape {first.shape})")
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
            img = _read_image(self.frame_paths[i])
            if img.ndim != 3 or img.shape[2] < 3:
                raise FrameSizeError(f"{self.frame_paths[i]} is not an RGB image")
            img = img[..., :3]
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


# -- image cube ------------------------------------------------------------------------
class CubeSource:
    """Frames and truth masks of an image cube, read per batch.

    Parameters
    ----------
    ds : xarray.Dataset
        Image cube with ``image`` (time, y, x, channel) and ``aurora_truth``
        (time, y, x); dask-backed variables are computed per batch only.
    image_var, truth_var : str
        Variable names.
    time_dim, y_dim, x_dim, channel_dim : str
        Dimension names.
    calibration : Calibration, optional
        Gives the lens circle when the cube has no ``elevation`` coordinate
        (otherwise the calibration attributes are used, if any).
    """

    def __init__(
        self,
        ds: xr.Dataset,
        *,
        image_var: str = "image",
        truth_var: str = "aurora_truth",
        time_dim: str = "time",
        y_dim: str = "y",
        x_dim: str = "x",
        channel_dim: str = "channel",
        calibration: Calibration | None = None,
    ) -> None:
        for name in (image_var, truth_var):
            if name not in ds.variables:
                raise MissingVariableError(
                    f"expected variable {name!r} in the cube (frames and aurora truth masks); "
                    f"found {sorted(map(str, ds.data_vars))}"
                )
        image = ds[image_var]
        dims = (time_dim, y_dim, x_dim, channel_dim)
        if set(image.dims) != set(dims):
            raise SchemaError(f"expected {image_var} dims {dims}, found {image.dims}")
        image = image.transpose(*dims)
        if channel_dim in image.coords:
            labels = [str(v) for v in image[channel_dim].values]
            if all(c in labels for c in "RGB") and labels != ["R", "G", "B"]:
                image = image.sel({channel_dim: ["R", "G", "B"]})
        if image.sizes[channel_dim] != 3:
            raise FrameSizeError(
                f"expected 3 channels (R, G, B) in {image_var}, found {image.sizes[channel_dim]}"
            )
        if image.dtype not in (np.uint8, np.uint16):
            raise DtypeError(f"expected {image_var} of dtype uint8 or uint16, found {image.dtype}")
        truth = ds[truth_var]
        if set(truth.dims) != {time_dim, y_dim, x_dim}:
            raise SchemaError(
                f"expected {truth_var} dims {(time_dim, y_dim, x_dim)}, found {truth.dims}"
            )
        self._image = image
        self._truth = truth.transpose(time_dim, y_dim, x_dim)
        self._time_dim = time_dim
        self._shape = (int(image.sizes[y_dim]), int(image.sizes[x_dim]))
        lens: NDArray[np.bool_] | None = None
        if calibration is not None:
            lens = lens_mask_from_calibration(calibration, *self._shape)
        elif "elevation" in ds.variables:
            lens = lens_mask_from_elevation(ds["elevation"].transpose(y_dim, x_dim).values)
        else:
            try:
                cal = Calibration.from_attrs(dict(ds.attrs))
            except CalibrationError:
                cal = None
            if cal is not None:
                lens = lens_mask_from_calibration(cal, *self._shape)
        self._lens = lens
        if time_dim in ds.coords:
            self._ids = [str(t) for t in ds[time_dim].values]
        else:
            self._ids = [str(i) for i in range(image.sizes[time_dim])]

    @property
    def frame_shape(self) -> tuple[int, int]:
        return self._shape

    @property
    def lens_mask(self) -> NDArray[np.bool_] | None:
        return self._lens

    @property
    def ids(self) -> list[str]:
        return self._ids

    def __len__(self) -> int:
        return int(self._image.sizes[self._time_dim])

    def read(self, indices: Sequence[int]) -> tuple[NDArray[Any], NDArray[np.bool_]]:
        idx = np.asarray(indices, dtype=np.int64)
        frames = np.asarray(self._image.isel({self._time_dim: idx}).values)
        masks = np.asarray(self._truth.isel({self._time_dim: idx}).values).astype(bool)
        return frames, masks

    def checksum(self, *, block: int = 64) -> str:
        digest = hashlib.sha256()
        digest.update(repr((len(self), self._shape, str(self._image.dtype))).encode())
        for start in range(0, len(self), block):
            frames, masks = self.read(range(start, min(start + block, len(self))))
            digest.update(np.ascontiguousarray(frames).tobytes())
            digest.update(np.packbits(masks).tobytes())
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
