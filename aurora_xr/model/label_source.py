"""A label set as a frame source for training and evaluation (numpy only, no torch).

:class:`LabelSource` gives the frames and masks of a label set read by
:func:`aurora_xr.read_labels` (``image (frame, y, x, channel)``, ``mask (frame, y, x)``,
per-frame ``source``, ``time`` and maybe ``split``) to :func:`~aurora_xr.model.train` and
:func:`~aurora_xr.model.evaluate`, a batch at a time. The label set's dask arrays are
computed a chunk at a time, and the decoded chunks are kept (up to ``cache_bytes``), so a
batch of frames from many chunks decodes each chunk once per run, not once per batch.

**The lens.** The lens mask comes from a camera calibration when one is given (the lens
circle of :class:`~aurora_xr.sky.lens.Calibration`, scaled to the frames), or an explicit
``lens_mask``; otherwise from the frames' own bright disc: the 20th percentile of up to
16 frames spread over the set, whose rim is fitted with a circle that silhouettes only cut
into (:func:`aurora_xr.sky.lens_circles.sky_disc`). Frames whose sky fills them (no dark
surround) have no lens mask: every pixel counts.
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ..errors import CalibrationError, DtypeError, FrameSizeError, MissingVariableError
from ..sky.lens import Calibration
from ..sky.lens_circles import sky_disc
from ..sky.obstructions import stack_percentile
from .lens_masks import check_lens_mask, lens_mask_from_calibration

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["DISC_FRAMES", "LabelSource", "lens_mask_from_frames"]

DISC_FRAMES = 16
"""Frames sampled (evenly over the set) to find the lens disc."""

_DEFAULT_CACHE = 2 << 30


def lens_mask_from_frames(frames: NDArray[Any]) -> NDArray[np.bool_] | None:
    """The lens mask of frames from their bright disc, or None where the sky fills them.

    Parameters
    ----------
    frames : (n, H, W, C) ndarray
        Frames of one camera (8 or 16 bit, grey or colour).

    Returns
    -------
    (H, W) bool ndarray or None
        True inside the circle of :func:`~aurora_xr.sky.lens_circles.sky_disc` fitted to
        the 20th percentile of the frames; None when that circle holds the whole frame.
    """
    arr = np.asarray(frames)
    height, width = arr.shape[1:3]
    cx, cy, radius = sky_disc(stack_percentile(arr, 20.0))
    yy, xx = np.mgrid[0:height, 0:width]
    mask = np.hypot(xx - cx, yy - cy) <= radius
    return None if mask.all() else mask


class LabelSource:
    """The frames and masks of a label set (:func:`aurora_xr.read_labels`), read per batch.

    Parameters
    ----------
    ds : xarray.Dataset
        ``image (frame, y, x, channel)`` uint8/uint16 with channels R, G, B or one band,
        ``mask (frame, y, x)`` bool; optional per-frame ``source``, ``time`` and ``split``.
        Dask-backed variables are computed a chunk at a time.
    calibration : Calibration, optional
        Gives the lens circle (scaled to the frame size).
    lens_mask : (H, W) bool ndarray, optional
        The lens mask itself (True inside).
    lens : {"auto", "none"}
        Without a calibration or mask: ``"auto"`` finds the lens from the frames' bright
        disc (:func:`lens_mask_from_frames`), ``"none"`` counts every pixel.
    cache_bytes : int
        Decoded chunks kept in memory (least recently used dropped first).
    frame_dim, y_dim, x_dim, channel_dim, image_var, mask_var : str
        Names in ``ds``.
    """

    def __init__(
        self,
        ds: xr.Dataset,
        *,
        calibration: Calibration | None = None,
        lens_mask: NDArray[np.bool_] | None = None,
        lens: str = "auto",
        cache_bytes: int = _DEFAULT_CACHE,
        frame_dim: str = "frame",
        y_dim: str = "y",
        x_dim: str = "x",
        channel_dim: str = "channel",
        image_var: str = "image",
        mask_var: str = "mask",
    ) -> None:
        for name in (image_var, mask_var):
            if name not in ds.variables:
                raise MissingVariableError(
                    f"expected a label set with {image_var!r} and {mask_var!r} (as "
                    f"aurora_xr.read_labels gives); found {sorted(map(str, ds.variables))}"
                )
        image = ds[image_var].transpose(frame_dim, y_dim, x_dim, channel_dim)
        if channel_dim in image.coords:
            names = [str(v) for v in image[channel_dim].values]
            if sorted(names) == ["B", "G", "R"] and names != ["R", "G", "B"]:
                image = image.sel({channel_dim: ["R", "G", "B"]})
        if image.sizes[channel_dim] not in (1, 3):
            raise FrameSizeError(
                f"expected 3 channels (R, G, B) or one in {image_var}; found "
                f"{image.sizes[channel_dim]}"
            )
        if image.dtype not in (np.uint8, np.uint16):
            raise DtypeError(f"expected {image_var} of dtype uint8 or uint16; found {image.dtype}")
        self._image = image.data
        self._mask = ds[mask_var].transpose(frame_dim, y_dim, x_dim).data
        self._n = int(image.sizes[frame_dim])
        self._shape = (int(image.sizes[y_dim]), int(image.sizes[x_dim]))
        self.attrs = dict(ds.attrs)
        self.sources: list[str] | None = _per_frame(ds, "source", frame_dim)
        times = _per_frame(ds, "time", frame_dim)
        self.times = (
            np.full(self._n, np.datetime64("NaT"), dtype="datetime64[ns]")
            if times is None
            else np.asarray(times, dtype="datetime64[ns]")
        )
        self.assigned_split: list[str] | None = _per_frame(ds, "split", frame_dim)
        self._ids = _frame_ids(self.sources, self._n)
        self._cache: OrderedDict[int, tuple[NDArray[Any], NDArray[np.bool_]]] = OrderedDict()
        self._cache_bytes = int(cache_bytes)
        self.lens_origin, self._lens = self._find_lens(calibration, lens_mask, lens)

    # -- the FrameSource protocol -------------------------------------------------------
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
        return self._n

    def read(self, indices: Sequence[int]) -> tuple[NDArray[Any], NDArray[np.bool_]]:
        idx = np.asarray(indices, dtype=np.int64)
        if not hasattr(self._image, "chunks") or not hasattr(self._mask, "chunks"):
            return np.asarray(self._image[idx]), np.asarray(self._mask[idx], dtype=bool)
        bounds = np.cumsum((0, *self._image.chunks[0]))
        blocks = np.searchsorted(bounds, idx, side="right") - 1
        self._load_blocks(sorted(set(blocks.tolist()) - set(self._cache)), bounds)
        frames = np.empty((len(idx), *self._shape, self._image.shape[3]), self._image.dtype)
        masks = np.empty((len(idx), *self._shape), dtype=bool)
        for k, (i, b) in enumerate(zip(idx.tolist(), blocks.tolist(), strict=True)):
            images, truth = self._cache[b]
            self._cache.move_to_end(b)
            frames[k] = images[i - bounds[b]]
            masks[k] = truth[i - bounds[b]]
        self._trim()
        return frames, masks

    def checksum(self) -> str:
        """SHA-256 of the label set's ``label_checksum`` and the frames' files, in order.

        A label set without ``label_checksum`` is hashed by its pixels and masks.
        """
        digest = hashlib.sha256()
        label_sum = self.attrs.get("label_checksum")
        if label_sum is not None and self.sources is not None:
            digest.update(str(label_sum).encode())
            for name in self.sources:
                digest.update(b"\0" + name.encode())
            return digest.hexdigest()
        digest.update(repr((self._n, self._shape, str(self._image.dtype))).encode())
        for start in range(0, self._n, 64):
            frames, masks = self.read(range(start, min(start + 64, self._n)))
            digest.update(np.ascontiguousarray(frames).tobytes())
            digest.update(np.packbits(masks).tobytes())
        return digest.hexdigest()

    # -- what a run records -------------------------------------------------------------
    def provenance(self) -> dict[str, Any]:
        """What a checkpoint records of the label set (JSON-safe)."""
        keys = ("label_checksum", "label_format", "label_source", "label_map", "pixel_origin")
        out: dict[str, Any] = {k: self.attrs[k] for k in keys if k in self.attrs}
        out["n_frames"] = self._n
        out["lens"] = self.lens_origin
        return out

    # -- internals ----------------------------------------------------------------------
    def _find_lens(
        self, calibration: Calibration | None, lens_mask: NDArray[np.bool_] | None, lens: str
    ) -> tuple[str, NDArray[np.bool_] | None]:
        if lens_mask is not None:
            return "mask", check_lens_mask(lens_mask, self._shape, name="lens_mask")
        if calibration is not None:
            try:
                return "calibration", lens_mask_from_calibration(calibration, *self._shape)
            except (ValueError, ZeroDivisionError) as exc:
                raise CalibrationError(
                    f"cannot scale the calibration ({calibration.width} x {calibration.height}) "
                    f"to the frames ({self._shape[1]} x {self._shape[0]}): {exc}"
                ) from exc
        if lens == "none":
            return "none", None
        if lens != "auto":
            raise CalibrationError(f"lens must be 'auto' or 'none'; found {lens!r}")
        sample = np.unique(np.linspace(0, self._n - 1, min(self._n, DISC_FRAMES)).round())
        frames, _ = self.read(sample.astype(np.int64).tolist())
        mask = lens_mask_from_frames(frames)
        return ("frames", mask) if mask is not None else ("none", None)

    def _load_blocks(self, blocks: list[int], bounds: NDArray[np.int64]) -> None:
        if not blocks:
            return
        import dask

        parts = [
            (self._image[bounds[b] : bounds[b + 1]], self._mask[bounds[b] : bounds[b + 1]])
            for b in blocks
        ]
        computed = dask.compute(*parts)
        for b, (images, truth) in zip(blocks, computed, strict=True):
            self._cache[b] = (np.asarray(images), np.asarray(truth, dtype=bool))

    def _trim(self) -> None:
        total = sum(a.nbytes + m.nbytes for a, m in self._cache.values())
        while total > self._cache_bytes and len(self._cache) > 1:
            _, (images, truth) = self._cache.popitem(last=False)
            total -= images.nbytes + truth.nbytes


def _per_frame(ds: xr.Dataset, name: str, frame_dim: str) -> Any:
    """A per-frame coordinate or variable as a list (None when ``ds`` has none)."""
    if name not in ds.variables or ds[name].dims != (frame_dim,):
        return None
    values = ds[name].values
    return values if np.issubdtype(values.dtype, np.datetime64) else [str(v) for v in values]


def _frame_ids(sources: list[str] | None, n: int) -> list[str]:
    """Frame ids: the image files relative to their common folder (else the positions)."""
    if sources is None:
        return [str(i) for i in range(n)]
    try:
        root = os.path.commonpath([str(PurePath(s).parent) for s in sources])
    except ValueError:  # paths on different drives, or relative beside absolute
        return list(sources)
    ids = [os.path.relpath(s, root) if root else s for s in sources]
    return ids if len(set(ids)) == len(ids) else list(sources)
