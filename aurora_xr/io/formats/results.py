"""What a camera-format reader returns: :class:`FrameFile`, :class:`FileHeader`, errors.

Every reader of the registry (:mod:`aurora_xr.io.formats.registry`) returns the same result,
whatever the file format:

* the frames exactly as the camera wrote them: ``(n, H, W)`` for a single-channel camera or
  ``(n, H, W, 3)`` for an RGB one, ``uint8`` or ``uint16`` in the machine's byte order, rows in
  file order (no flip, no rotation, no scaling beyond the format's own definition);
* the channel names (``("R", "G", "B")`` or one band name such as ``("white",)``,
  ``("557.7nm",)``);
* the per-frame times (``datetime64[ns]``, naive UTC) when the file holds them, else ``None``
  (the ingest loop then takes the time from the file name);
* per-frame metadata (one 1-D array per key, one value per frame) and file-level metadata;
* the frames that could not be read, each with its reason: a file with several frames loses
  only its bad frames.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ...errors import ImageFileError

__all__ = ["FileHeader", "FrameError", "FrameFile"]

_DTYPES = (np.dtype(np.uint8), np.dtype(np.uint16))


@dataclass(frozen=True)
class FrameError:
    """A frame of a multi-frame file that could not be read.

    Attributes
    ----------
    index : int
        Position of the frame in the file (0-based, counting every frame the file holds or
        seems to hold).
    reason : str
        What was expected and what was found.
    """

    index: int
    reason: str

    def __str__(self) -> str:
        return f"frame {self.index}: {self.reason}"


def _check_times(times: NDArray[np.datetime64] | None, n: int, what: str) -> None:
    if times is None:
        return
    if times.dtype != np.dtype("datetime64[ns]") or times.shape != (n,):
        raise ImageFileError(
            f"{what}: expected times of dtype datetime64[ns] and shape ({n},); "
            f"found {times.dtype} {times.shape}"
        )


def _check_dtype(dtype: np.dtype[Any], what: str) -> None:
    if dtype not in _DTYPES or not dtype.isnative:
        raise ImageFileError(f"{what}: expected native uint8 or uint16 frames; found {dtype.str}")


@dataclass
class FrameFile:
    """The frames of one camera file, with times and metadata.

    Attributes
    ----------
    path : pathlib.Path
        The file read.
    format : str
        Name of the registered format that read it (e.g. ``"pnm"``, ``"fits"``).
    frames : numpy.ndarray of uint8 or uint16, shape (n, H, W) or (n, H, W, 3)
        The good frames in file order, exactly as the camera wrote them.
    channels : tuple of str
        ``("R", "G", "B")`` for ``(n, H, W, 3)`` frames, else one band name.
    times : numpy.ndarray of datetime64[ns], shape (n,), or None
        Per-frame UTC times (exposure start) from the file itself; ``None`` when the file holds
        none (the time must come from the file name).
    frame_metadata : dict of str to numpy.ndarray of shape (n,)
        Per-frame header values: every header key (names in ``snake_case``) plus, where known,
        the common names ``exposure_s``, ``filter``, ``ccd_temperature_c``.
    metadata : dict of str to Any
        File-level facts: ``orientation`` always (``"as_written"`` or ``"rot180_vs_skymap"``),
        and where the file gives them ``site_latitude``, ``site_longitude``,
        ``site_altitude_m``, ``site_id``, ``camera``, ``pixel_aspect_ratio``,
        ``optical_center``, ...
    errors : list of FrameError
        Frames of the file that were skipped, with the reason.
    index : numpy.ndarray of int64, shape (n,)
        Position in the file of each frame kept (``0..n-1`` when no frame was skipped).
    """

    path: Path
    format: str
    frames: NDArray[np.unsignedinteger[Any]]
    channels: tuple[str, ...]
    times: NDArray[np.datetime64] | None
    frame_metadata: dict[str, NDArray[Any]] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    errors: list[FrameError] = field(default_factory=list)
    index: NDArray[np.int64] | None = None

    def __post_init__(self) -> None:
        what = f"reader {self.format!r} on {Path(self.path).name}"
        self.path = Path(self.path)
        self.channels = tuple(self.channels)
        frames = self.frames
        _check_dtype(frames.dtype, what)
        expected_channels = 3 if frames.ndim == 4 else 1
        if frames.ndim not in (3, 4) or (frames.ndim == 4 and frames.shape[-1] != 3):
            raise ImageFileError(
                f"{what}: expected frames of shape (n, H, W) or (n, H, W, 3); found {frames.shape}"
            )
        if len(self.channels) != expected_channels:
            raise ImageFileError(
                f"{what}: {expected_channels} channel name(s) expected for frames of shape "
                f"{frames.shape}; found {self.channels}"
            )
        n = frames.shape[0]
        _check_times(self.times, n, what)
        for key, values in self.frame_metadata.items():
            if len(values) != n:
                raise ImageFileError(
                    f"{what}: per-frame metadata {key!r} has {len(values)} values for {n} frames"
                )
        self.index = np.arange(n, dtype=np.int64) if self.index is None else self.index
        if self.index.shape != (n,):
            raise ImageFileError(f"{what}: index of shape {self.index.shape} for {n} frames")

    @property
    def n_frames(self) -> int:
        """Number of good frames."""
        return int(self.frames.shape[0])

    @property
    def height(self) -> int:
        """Rows per frame."""
        return int(self.frames.shape[1])

    @property
    def width(self) -> int:
        """Columns per frame."""
        return int(self.frames.shape[2])

    @property
    def dtype(self) -> np.dtype[Any]:
        """``uint8`` or ``uint16``."""
        return self.frames.dtype

    @property
    def is_colour(self) -> bool:
        """Whether the frames are RGB ``(n, H, W, 3)``."""
        return self.frames.ndim == 4

    def channels_last(self) -> NDArray[np.unsignedinteger[Any]]:
        """The frames as ``(n, H, W, C)`` (a view; ``C`` = 1 for a single-channel camera)."""
        return self.frames if self.frames.ndim == 4 else self.frames[..., None]

    def header(self) -> FileHeader:
        """The :class:`FileHeader` summary of this file."""
        return FileHeader(
            path=self.path,
            format=self.format,
            n_frames=self.n_frames,
            height=self.height,
            width=self.width,
            channels=self.channels,
            dtype=self.dtype,
            times=self.times,
            metadata=dict(self.metadata),
            errors=list(self.errors),
        )


@dataclass
class FileHeader:
    """What a file holds, read from its headers only (for planning an ingest).

    Attributes
    ----------
    path : pathlib.Path
        The file.
    format : str
        Name of the registered format.
    n_frames : int
        Number of frames the file holds (not counting frames already known to be bad).
    height, width : int
        Frame size in rows and columns.
    channels : tuple of str
        Channel names, as :attr:`FrameFile.channels`.
    dtype : numpy.dtype
        ``uint8`` or ``uint16``.
    times : numpy.ndarray of datetime64[ns], shape (n_frames,), or None
        Per-frame times when the headers hold them.
    metadata : dict of str to Any
        File-level metadata, as :attr:`FrameFile.metadata`.
    errors : list of FrameError
        Frames already known to be bad from the headers.
    """

    path: Path
    format: str
    n_frames: int
    height: int
    width: int
    channels: tuple[str, ...]
    dtype: np.dtype[Any]
    times: NDArray[np.datetime64] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    errors: list[FrameError] = field(default_factory=list)

    def __post_init__(self) -> None:
        what = f"reader {self.format!r} on {Path(self.path).name} (header)"
        self.path = Path(self.path)
        self.channels = tuple(self.channels)
        self.dtype = np.dtype(self.dtype)
        _check_dtype(self.dtype, what)
        _check_times(self.times, self.n_frames, what)

    @property
    def frame_shape(self) -> tuple[int, ...]:
        """``(H, W)`` or ``(H, W, 3)``."""
        if len(self.channels) == 3:
            return (self.height, self.width, 3)
        return (self.height, self.width)


def no_good_frame(errors: list[FrameError], *, limit: int = 3) -> ImageFileError:
    """The error of a file none of whose frames could be read."""
    shown = "; ".join(str(e) for e in errors[:limit])
    more = f" (and {len(errors) - limit} more)" if len(errors) > limit else ""
    if len(errors) == 1:
        return ImageFileError(errors[0].reason)
    return ImageFileError(f"no readable frame among {len(errors)}: {shown}{more}")


def metadata_columns(rows: Sequence[Mapping[str, Any]]) -> dict[str, NDArray[Any]]:
    """Per-frame metadata as columns: one 1-D array per key, keys in order of first appearance.

    A column whose values are all numbers (bools excluded) becomes float64 with NaN where a
    frame lacks the key; any other column becomes a string array with ``""`` where missing.
    """
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row))
    out: dict[str, NDArray[Any]] = {}
    for key in keys:
        values = [row.get(key) for row in rows]
        present = [v for v in values if v is not None]
        numeric = all(
            isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)
            for v in present
        )
        if numeric:
            out[key] = np.array([np.nan if v is None else float(v) for v in values], np.float64)
        else:
            out[key] = np.array(["" if v is None else str(v) for v in values], dtype=str)
    return out
