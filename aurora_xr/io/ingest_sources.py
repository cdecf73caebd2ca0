"""Finding the camera files of an ingest and reading their headers (frames with times).

:func:`list_files` sorts the files under the source into frames (any format of the reader
registry :mod:`aurora_xr.io.formats`, chosen by extension, or every file with ``format=``),
truth masks (``*_mask.png``, ``*_kind.png``) and the rest. :func:`scan_files` reads the
headers of a batch of frame files (in a worker process when ingest runs in parallel) into
:class:`SourceFile` records: format, frame size, dtype, channels, file-level metadata (site,
orientation, pixel aspect ratio) and one time per frame, from the header when the file has
one, else from the file name (``time_pattern``). Times that the camera stamps in local time
are shifted by ``utc_offset``: header times by the readers that take the option (FITS), times
in file names here.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import ImageFileError, NoFilesFoundError
from .formats import available_formats, get_format, read_file_header
from .imagefiles import file_role, time_from_name, time_regex
from .ingest_report import frame_label

__all__ = [
    "FileListing",
    "ScanOptions",
    "ScanResult",
    "SourceFile",
    "list_files",
    "scan_files",
]

ROT180 = "rot180_vs_skymap"
"""Reader orientation of frames turned 180° against the operator's raw skymap."""

_SKYMAP_NAME = re.compile(r"(_skymap_|_(az|el)$)", re.IGNORECASE)
_SKYMAP_SUFFIXES = (".sav", ".fit", ".fits", ".fts")


@dataclass(frozen=True)
class ScanOptions:
    """How to read headers and times (picklable, sent to workers).

    Attributes
    ----------
    time_pattern : str
        strftime pattern of the time in file names (used when a header has no time).
    utc_offset : Any
        The ``utc_offset`` option of the readers that take it (None: the file's own times).
    utc_offset_ns : int
        The same offset in ns, subtracted from times found in file names.
    format : str or None
        Read every frame file with this registered format instead of identifying it.
    """

    time_pattern: str = "%Y%m%d_%H%M%S"
    utc_offset: Any = None
    utc_offset_ns: int = 0
    format: str | None = None

    def reader_options(self, fmt: str) -> dict[str, Any]:
        """Options of the reader ``fmt`` (``utc_offset`` for the formats that take it)."""
        if self.utc_offset is not None and "utc_offset" in get_format(fmt).options:
            return {"utc_offset": self.utc_offset}
        return {}


@dataclass
class SourceFile:
    """What the header of one frame file says.

    Attributes
    ----------
    path : str
        The file.
    format : str
        Registered format name.
    height : int
        Rows of a frame as stored.
    width : int
        Columns of a frame as stored.
    channels : tuple of str
        Channel names from the reader.
    dtype : str
        ``"uint8"`` or ``"uint16"``.
    times : ndarray of int64, shape (n,)
        Frame times in ns since 1970 (UTC), in file order of the frames the header counts.
    from_header : bool
        Whether the times come from the header (else from the file name).
    metadata : dict
        File-level metadata of the reader (``orientation``, site, ``pixel_aspect_ratio``...).
    name_time : int or None
        Time in the file name (ns), which pairs the frame with its truth masks.
    bad_frames : tuple of (int, str)
        Frames the header already shows to be bad: position in the file and reason.
    mask : str or None
        Truth mask beside a single-frame file.
    kind : str or None
        Auroral-form image beside a single-frame file.
    """

    path: str
    format: str
    height: int
    width: int
    channels: tuple[str, ...]
    dtype: str
    times: NDArray[np.int64]
    from_header: bool
    metadata: dict[str, Any] = field(default_factory=dict)
    name_time: int | None = None
    mask: str | None = None
    kind: str | None = None
    bad_frames: tuple[tuple[int, str], ...] = ()

    @property
    def rotation(self) -> int:
        """Quarter turns applied on ingest: 2 for frames turned 180° against the skymap."""
        return 2 if self.metadata.get("orientation") == ROT180 else 0

    @property
    def multi_frame(self) -> bool:
        """Whether the file holds several frames."""
        return len(self.times) > 1

    def label(self, index: int | None = None) -> str:
        """``path`` or ``path[frame k]`` (see :func:`frame_label`)."""
        return frame_label(self.path, index if self.multi_frame else None)


@dataclass
class ScanResult:
    """Headers of a batch of files: the good ones, the skipped ones with reasons."""

    sources: list[SourceFile] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class FileListing:
    """The files under the source: frame files, truth files and the number ignored."""

    frames: list[str]
    masks: list[str]
    kinds: list[str]
    n_ignored: int
    calibration_files: list[str]


def _frame_extensions() -> tuple[str, ...]:
    return tuple(e for f in available_formats() for e in f.extensions)


def _is_calibration_file(path: Path, known: frozenset[str]) -> bool:
    if os.path.realpath(path) in known:
        return True
    name = path.name.lower()
    return name.endswith(_SKYMAP_SUFFIXES) and bool(_SKYMAP_NAME.search(Path(name).stem))


def list_files(
    src: Path,
    pattern: str,
    *,
    frame_suffix: str | None,
    format: str | None,
    calibration_files: frozenset[str] = frozenset(),
    skip_folder: Path | None = None,
) -> FileListing:
    """Sort the files under ``src`` (matching ``pattern``) by role.

    Hidden files, files under ``skip_folder`` (the destination) and calibration files (the
    skymaps given, ``*_skymap_*.sav``, Az/El FITS pairs) are not frames; the latter two are
    counted as ignored.

    Raises
    ------
    NoFilesFoundError
        If no frame or truth file is found.
    """
    files = [src] if src.is_file() else sorted(p for p in src.glob(pattern) if p.is_file())
    extensions = None if format is not None else _frame_extensions()
    frames: list[str] = []
    masks: list[str] = []
    kinds: list[str] = []
    calibration: list[str] = []
    ignored = 0
    skip = os.path.realpath(skip_folder) + os.sep if skip_folder is not None else None
    for path in files:
        if path.name.startswith(".") or (skip and os.path.realpath(path).startswith(skip)):
            continue
        if _is_calibration_file(path, calibration_files):
            calibration.append(os.fspath(path))
            ignored += 1
            continue
        role = file_role(path, frame_suffix=frame_suffix, extensions=extensions)
        if role is None:
            ignored += 1
        elif role == "frame":
            frames.append(os.fspath(path))
        else:
            (masks if role == "mask" else kinds).append(os.fspath(path))
    if not frames and not masks and not kinds:
        what = (
            f"files ending with {frame_suffix!r}"
            if frame_suffix
            else "camera files (" + " ".join(sorted(set(_frame_extensions()))) + ")"
        )
        raise NoFilesFoundError(f"expected {what} under {src} matching {pattern!r}; found none")
    return FileListing(frames, masks, kinds, ignored, calibration)


def _name_time(path: str, options: ScanOptions) -> int | None:
    regex = time_regex(options.time_pattern)
    when = time_from_name(Path(path).name, regex, options.time_pattern)
    if when is None:
        return None
    return int(when.astype("datetime64[ns]").astype(np.int64)) - int(options.utc_offset_ns)


def scan_file(path: str, options: ScanOptions) -> SourceFile:
    """The :class:`SourceFile` of one frame file.

    Raises
    ------
    ImageFileError
        When the header cannot be read or no time is found (the message is the reason).
    """
    from .formats import identify

    fmt = options.format or identify(path).name
    header = read_file_header(path, format=fmt, **options.reader_options(fmt))
    name_time = _name_time(path, options)
    if header.n_frames < 1:
        raise ImageFileError("the header counts no frame")
    if header.times is not None:
        times = header.times.astype("datetime64[ns]").astype(np.int64)
        from_header = True
    elif header.n_frames > 1:
        raise ImageFileError(
            f"holds {header.n_frames} frames but no time per frame (a file name gives one time)"
        )
    elif name_time is None:
        raise ImageFileError(
            f"no time in the {fmt} header, and the file name has no time stamp matching "
            f"{options.time_pattern!r}"
        )
    else:
        times = np.array([name_time], dtype=np.int64)
        from_header = False
    return SourceFile(
        path=path,
        format=fmt,
        height=int(header.height),
        width=int(header.width),
        channels=tuple(header.channels),
        dtype=np.dtype(header.dtype).name,
        times=times,
        from_header=from_header,
        metadata=dict(header.metadata),
        name_time=name_time,
        bad_frames=tuple((int(e.index), str(e.reason)) for e in header.errors),
    )


def scan_files(paths: list[str], options: ScanOptions) -> ScanResult:
    """Read the headers of a batch of frame files (a task of a parallel ingest)."""
    out = ScanResult()
    for path in paths:
        try:
            source = scan_file(path, options)
        except ImageFileError as exc:
            out.skipped.append((path, str(exc)))
            continue
        for index, reason in source.bad_frames:
            out.skipped.append((frame_label(path, index), reason))
        out.sources.append(source)
    return out


def pair_truth(
    sources: list[SourceFile], listing: FileListing, options: ScanOptions
) -> list[tuple[str, str]]:
    """Attach ``*_mask.png``/``*_kind.png`` to the single-frame file of the same folder and time.

    Returns the ``(path, reason)`` of truth files that pair with no frame. Masks and kinds
    without a time stamp in their name (``lens_mask.png``) are not a frame's truth and are
    left alone.
    """
    skipped: list[tuple[str, str]] = []
    by_key: dict[tuple[str, int], SourceFile] = {}
    for source in sources:
        if source.name_time is not None and not source.multi_frame:
            by_key.setdefault((os.path.dirname(source.path), source.name_time), source)
    for role, files in (("mask", listing.masks), ("kind", listing.kinds)):
        seen: dict[tuple[str, int], str] = {}
        for path in files:
            when = _name_time(path, options)
            if when is None:
                listing.n_ignored += 1
                continue
            key = (os.path.dirname(path), when)
            stamp = np.datetime64(when, "ns")
            if key in seen:
                skipped.append((path, f"another {role} file for time {stamp} ({seen[key]})"))
                continue
            seen[key] = Path(path).name
            frame = by_key.get(key)
            if role == "mask" and frame is not None:
                frame.mask = path
            elif role == "kind" and frame is not None and frame.mask is not None:
                frame.kind = path
            elif role == "mask":
                skipped.append((path, f"mask without a frame at {stamp} in its folder"))
            else:
                skipped.append((path, "kind file without a frame and mask beside it"))
    return skipped
