"""From frame records to a lazy labelled Dataset: dask arrays of delayed per-frame reads."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dask
import dask.array as da
import numpy as np
import xarray as xr
from dask.base import tokenize
from numpy.typing import NDArray

from ..errors import OptionError
from .pixels import decode_image, decode_mask, name_times
from .records import FrameRecord, ImageRef, MaskFile
from .shapes import Shape, paint

__all__ = ["CHANNELS_RGB", "DEFAULT_CHUNK_FRAMES", "assemble", "label_checksum"]

DEFAULT_CHUNK_FRAMES = 8
CHANNELS_RGB = ("R", "G", "B")
Y_DIM, X_DIM, CHANNEL_DIM = "y", "x", "channel"


def _read_image(ref: ImageRef, channels: int) -> NDArray[np.unsignedinteger]:
    source: Path | bytes = ref.read_bytes() if ref.embedded_in is not None else ref.path
    return decode_image(source, channels)


def _read_images(
    refs: Sequence[ImageRef], shape: tuple[int, int, int], dtype: str
) -> NDArray[np.unsignedinteger]:
    out = np.empty((len(refs), *shape), dtype=dtype)
    for i, ref in enumerate(refs):
        frame = _read_image(ref, shape[2])
        if frame.shape != shape:  # the file changed since it was scanned
            raise OSError(f"{ref.path}: decoded {frame.shape}, its header said {shape}")
        out[i] = frame
    return out


def _read_mask(
    source: MaskFile | tuple[Shape, ...], shape: tuple[int, int], origin: str
) -> NDArray[np.bool_]:
    if isinstance(source, MaskFile):
        return decode_mask(source.path, shape)
    return paint(source, *shape, pixel_origin=origin)


def _read_masks(
    sources: Sequence[MaskFile | tuple[Shape, ...]], shape: tuple[int, int], origin: str
) -> NDArray[np.bool_]:
    out = np.empty((len(sources), *shape), dtype=bool)
    for i, source in enumerate(sources):
        out[i] = _read_mask(source, shape, origin)
    return out


def label_checksum(records: Sequence[FrameRecord], *, pixel_origin: str) -> str:
    """SHA-256 of the label set: per frame, the image name and size, and the label content.

    Mask files are hashed by content, drawn shapes by their coordinates and labels; image
    files by name and byte size only (hashing every image would read the whole set).
    """
    digest = hashlib.sha256(f"pixel_origin={pixel_origin}\n".encode())
    for rec in records:
        try:
            size = rec.image.path.stat().st_size if rec.image.embedded_in is None else -1
        except OSError:
            size = -1
        digest.update(f"{rec.image.path.name}\0{size}\0{rec.split}\0".encode())
        if isinstance(rec.mask, MaskFile):
            digest.update(rec.mask.path.read_bytes())
            continue
        for shape in rec.mask:
            digest.update(f"{type(shape).__name__}\0{shape.label}\0{shape.aurora}\0".encode())
            for value in vars(shape).values():
                if isinstance(value, np.ndarray):
                    digest.update(np.ascontiguousarray(value, dtype=np.float64).tobytes())
                elif isinstance(value, float | int | tuple | bytes | dict):
                    digest.update(repr(value).encode())
    return digest.hexdigest()


def assemble(
    records: Sequence[FrameRecord],
    *,
    pixel_origin: str,
    time_pattern: str | None,
    chunk_frames: int = DEFAULT_CHUNK_FRAMES,
    grey_band: str = "white",
    frame_dim: str = "frame",
    attrs: dict[str, Any] | None = None,
) -> xr.Dataset:
    """The labelled Dataset of uniform records, lazily (nothing decoded until computed).

    ``image`` and ``mask`` are dask arrays with one task per ``chunk_frames`` frames for the
    images and one for the masks; each task reads its frames one by one.
    """
    if not isinstance(chunk_frames, int | np.integer) or chunk_frames < 1:
        raise OptionError(f"chunk_frames must be a positive integer; found {chunk_frames!r}")
    if not records:
        raise OptionError("no frames to assemble")
    info = records[0].info
    shape3 = (info.height, info.width, info.channels)
    token = tokenize(
        [(os.fspath(r.image.path), os.fspath(r.label_file)) for r in records], pixel_origin
    )
    images = []
    masks = []
    for start in range(0, len(records), int(chunk_frames)):
        part = records[start : start + int(chunk_frames)]
        refs = tuple(r.image for r in part)
        sources = tuple(r.mask for r in part)
        read_images = dask.delayed(_read_images, pure=True)(
            refs, shape3, info.dtype, dask_key_name=f"label-images-{token}-{start}"
        )
        read_masks = dask.delayed(_read_masks, pure=True)(
            sources, info.shape, pixel_origin, dask_key_name=f"label-masks-{token}-{start}"
        )
        images.append(da.from_delayed(read_images, (len(part), *shape3), dtype=info.dtype))
        masks.append(da.from_delayed(read_masks, (len(part), *info.shape), dtype=bool))
    image = da.concatenate(images, axis=0)
    mask = da.concatenate(masks, axis=0)

    names = [r.image.path.name for r in records]
    channels = list(CHANNELS_RGB) if info.channels == 3 else [grey_band]
    coords: dict[str, Any] = {
        "source": (frame_dim, np.array([os.fspath(r.image.path) for r in records], dtype=str)),
        "time": (frame_dim, name_times(names, time_pattern)),
        "label_file": (frame_dim, np.array([os.fspath(r.label_file) for r in records], dtype=str)),
        CHANNEL_DIM: (CHANNEL_DIM, np.array(channels, dtype=str)),
    }
    if any(r.split is not None for r in records):
        coords["split"] = (frame_dim, np.array([r.split or "" for r in records], dtype=str))
    ds = xr.Dataset(
        {
            "image": ((frame_dim, Y_DIM, X_DIM, CHANNEL_DIM), image),
            "mask": ((frame_dim, Y_DIM, X_DIM), mask),
        },
        coords=coords,
        attrs=dict(attrs or {}),
    )
    ds["image"].attrs["long_name"] = "labelled frame as stored in its file"
    ds["mask"].attrs["long_name"] = "aurora mask (True = aurora)"
    ds["mask"].attrs["pixel_origin"] = pixel_origin
    ds["time"].attrs["long_name"] = "UT time read from the image file name (NaT: none)"
    ds["source"].attrs["long_name"] = "image file"
    ds["label_file"].attrs["long_name"] = "file holding the frame's labels"
    return ds
