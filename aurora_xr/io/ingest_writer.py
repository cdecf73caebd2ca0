"""Writing one output file of ingest: existing frames and new ones, in time order, atomically.

:func:`write_output` runs one :class:`~aurora_xr.io.ingest_plan.OutputJob` (in the calling
process or in a worker): it reads the new frames (a multi-frame file is read once for the
frames of a batch and kept while its frames are being written), merges them in time order
with the frames the output already holds, and writes the result to a temporary file that
replaces the output only when complete. Memory holds one batch of ``chunk_frames`` frames
(and at most :data:`BATCH_BYTES`). It returns what happened as a :class:`JobResult`; the
report is assembled by the caller, so that each bad file is reported exactly once.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from ..cube.build import append_history
from ..errors import ImageFileError
from .appender import CubeAppender, FrameBatch, stack_batches
from .encoding import time_encoding
from .files import atomic_output
from .formats import FrameFile, read_file
from .imagefiles import read_kind, read_mask
from .ingest_plan import FrameRef, OutputJob
from .ingest_report import frame_label

__all__ = ["BATCH_BYTES", "JobResult", "remove_stale_temporaries", "write_output"]

BATCH_BYTES = 256 * 2**20
"""Most bytes of frames held in memory at once (besides ``chunk_frames``)."""

_CACHED_FILES = 2


@dataclass
class JobResult:
    """What writing one output did (sent back from a worker)."""

    out: str
    written: bool = False
    unchanged: bool = False
    added: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)


class _NothingNew(Exception):
    """Raised inside atomic_output to drop a temporary file with no new frames."""


def remove_stale_temporaries(out: Path) -> None:
    """Remove temporary files of ``out`` left by a run that was killed while writing it."""
    for tmp in out.parent.glob(f".{out.name}.*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


class _Files:
    """The last few camera files read, and the files that could not be read."""

    def __init__(self, job: OutputJob, result: JobResult) -> None:
        self.job = job
        self.result = result
        self.cache: OrderedDict[str, FrameFile | None] = OrderedDict()

    def frame(self, ref: FrameRef) -> tuple[NDArray[Any], dict[str, NDArray[Any]]] | None:
        """The frame at ``ref.time`` (turned as planned) with its header values, or None."""
        ff = self._read(ref)
        if ff is None:
            return None
        if ff.times is None:
            i = 0
        else:
            hits = np.flatnonzero(ff.times.astype(np.int64) == ref.time)
            if hits.size == 0:  # a frame bad at read time: reported with its index
                if not ff.errors:
                    when = np.datetime64(ref.time, "ns")
                    self.result.skipped.append((ref.path, f"no frame at {when} when read"))
                return None
            i = int(hits[0])
        frame = ff.channels_last()[i]
        if ref.rotation:
            frame = np.rot90(frame, ref.rotation, axes=(0, 1))
        meta = {k: v[i : i + 1] for k, v in ff.frame_metadata.items()}
        return np.ascontiguousarray(frame), meta

    def _read(self, ref: FrameRef) -> FrameFile | None:
        if ref.path in self.cache:
            self.cache.move_to_end(ref.path)
            return self.cache[ref.path]
        options = self.job.reader_options.get(ref.format, {})
        ff: FrameFile | None
        try:
            ff = read_file(ref.path, format=ref.format, **options)
            known = self.job.known_bad.get(ref.path, frozenset())
            for err in ff.errors:  # those the header showed were reported by the scan
                if err.index not in known:
                    self.result.skipped.append((frame_label(ref.path, err.index), err.reason))
            e = self.job.expected
            height, width = ff.height, ff.width
            if ref.rotation % 2:
                height, width = width, height
            reason = e.misfit(height, width, ff.dtype.name, tuple(ff.channels))
            if reason is not None:
                raise ImageFileError(reason)
        except ImageFileError as exc:
            self.result.skipped.append((ref.path, str(exc)))
            ff = None
        self.cache[ref.path] = ff
        if len(self.cache) > _CACHED_FILES:
            self.cache.popitem(last=False)
        return ff


def _label(ref: FrameRef, ff_index: int | None = None) -> str:
    return frame_label(ref.path, ff_index) if ref.multi else ref.path


class _Writer:
    """One output: merges the existing frames with the new ones."""

    def __init__(self, job: OutputJob, progress: Callable[[int], None] | None) -> None:
        self.job = job
        self.result = JobResult(out=job.out)
        self.files = _Files(job, self.result)
        self.progress = progress or (lambda n: None)
        self.added = 0

    def _existing_pieces(self, ds: xr.Dataset, start: int, stop: int) -> Iterator[FrameBatch]:
        job = self.job
        image = ds["image"]
        frame_bytes = image.dtype.itemsize * int(np.prod(image.shape[1:]))
        step = max(1, min(job.chunk_frames, job.batch_bytes // max(frame_bytes, 1)))
        names = list(job.existing.frame_variables) if job.existing else []
        for a in range(start, stop, step):
            part = ds.isel(time=slice(a, min(stop, a + step)))
            n, height, width = part.sizes["time"], part.sizes["y"], part.sizes["x"]
            truth = available = kind = None
            if job.has_truth:
                if "aurora_truth" in part:
                    truth = part["aurora_truth"].values.astype(bool)
                    available = (
                        part["truth_available"].values.astype(bool)
                        if "truth_available" in part
                        else np.ones(n, bool)
                    )
                else:
                    truth, available = np.zeros((n, height, width), bool), np.zeros(n, bool)
            if job.has_kind:
                kind = (
                    part["aurora_kind"].values.astype(np.uint8)
                    if "aurora_kind" in part
                    else np.zeros((n, height, width), np.uint8)
                )
            yield FrameBatch(
                part["time"].values.astype("datetime64[ns]"),
                part["image"].values,
                truth,
                kind,
                available,
                {name: np.asarray(part[name].values) for name in names},
            )

    def _truth(
        self, kept: FrameRef, spare: FrameRef | None, shape: tuple[int, int]
    ) -> tuple[Any, Any, Any]:
        job = self.job
        mask_path = kept.mask or (spare.mask if spare else None)
        kind_path = kept.kind if kept.mask else (spare.kind if spare else None)
        truth = available = kind = None
        if job.has_truth:
            truth, available = np.zeros(shape, bool), np.zeros(1, bool)
            if mask_path is not None:
                try:
                    truth, available = read_mask(Path(mask_path), shape), np.ones(1, bool)
                except ImageFileError as exc:
                    self.result.skipped.append((mask_path, str(exc)))
        if job.has_kind:
            kind = np.zeros(shape, np.uint8)
            if kind_path is not None:
                try:
                    kind = read_kind(Path(kind_path), shape)
                except ImageFileError as exc:
                    self.result.skipped.append((kind_path, str(exc)))
        return truth, available, kind

    def _new_piece(self, group: list[FrameRef]) -> FrameBatch | None:
        """The first good frame of those sharing one time; the others are reported."""
        kept: FrameRef | None = None
        found: tuple[NDArray[Any], dict[str, NDArray[Any]]] | None = None
        orphans: dict[str, FrameRef] = {}  # truth of bad frames, by folder
        for ref in group:
            self.progress(1)
            if kept is not None:
                when = np.datetime64(ref.time, "ns")
                self.result.skipped.append(
                    (_label(ref), f"duplicate time {when} (kept {Path(kept.path).name})")
                )
                continue
            got = self.files.frame(ref)
            if got is None:
                if ref.mask is not None:
                    orphans[str(Path(ref.path).parent)] = ref
                continue
            kept, found = ref, got
        spare = orphans.pop(str(Path(kept.path).parent), None) if kept and not kept.mask else None
        for ref in orphans.values():
            for extra in (ref.mask, ref.kind):
                if extra is not None:
                    self.result.skipped.append((extra, "truth of a frame that was skipped"))
        if kept is None or found is None:
            return None
        frame, meta = found
        truth, available, kind = self._truth(kept, spare, frame.shape[:2])
        self.added += 1
        return FrameBatch(
            np.array([kept.time], "datetime64[ns]"),
            frame[None],
            None if truth is None else truth[None],
            None if kind is None else kind[None],
            available,
            meta,
        )

    def _pieces(self, ds: xr.Dataset | None) -> Iterator[FrameBatch]:
        old = self.job.existing.times if self.job.existing is not None else np.array([], "i8")
        i = 0
        for group in self.job.candidates:
            j = int(np.searchsorted(old, group[0].time))
            if ds is not None and j > i:
                yield from self._existing_pieces(ds, i, j)
            i = j
            piece = self._new_piece(group)
            if piece is not None:
                yield piece
        if ds is not None and len(old) > i:
            yield from self._existing_pieces(ds, i, len(old))

    def run(self) -> JobResult:
        job = self.job
        out = Path(job.out)
        existing = job.existing
        old = existing.times if existing is not None else np.array([], "i8")
        new = np.array([g[0].time for g in job.candidates], "i8")
        all_times = np.concatenate([old, new]).astype("datetime64[ns]")
        attrs = existing.attrs if existing is not None else job.attrs
        remove_stale_temporaries(out)
        try:
            with atomic_output(out) as tmp:
                src_ds = xr.open_dataset(existing.path, cache=False) if existing else None
                appender = CubeAppender(
                    tmp,
                    channels=job.channels,
                    camera=job.camera,
                    attrs=attrs,
                    time_enc=time_encoding(all_times),
                    chunk_frames=job.chunk_frames,
                    compression=job.compression,
                )
                try:
                    buffer: list[FrameBatch] = []
                    for piece in self._pieces(src_ds):
                        buffer.append(piece)
                        frames = sum(len(p.times) for p in buffer)
                        nbytes = sum(p.image.nbytes for p in buffer)
                        if frames >= job.chunk_frames or nbytes >= job.batch_bytes:
                            appender.append(stack_batches(buffer, known=appender.kinds))
                            buffer = []
                    if buffer:
                        appender.append(stack_batches(buffer, known=appender.kinds))
                    if self.added:
                        line = f"ingest of {self.added} frames from {job.src}"
                        appender.close(append_history(attrs, line))
                finally:
                    appender.close(None)
                    if src_ds is not None:
                        src_ds.close()
                if self.added == 0:
                    raise _NothingNew
        except _NothingNew:
            self.result.unchanged = existing is not None
            return self.result
        self.result.written = True
        self.result.added = self.added
        return self.result


def write_output(job: OutputJob, progress: Callable[[int], None] | None = None) -> JobResult:
    """Write one output file (see the module docstring); ``progress(n)`` counts frames looked at."""
    return _Writer(job, progress).run()
