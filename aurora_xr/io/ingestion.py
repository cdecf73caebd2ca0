"""Ingest: a folder tree of JPEG/PNG frames -> NetCDF-4 image cubes.

One file per UT period (a day by default), named ``{STATION}_{LABEL}.nc``:
``JBS_20200621.nc`` for days (and multi-day periods, labelled by their first
day), ``JBS_20200621T06.nc`` / ``JBS_20200621T0630.nc`` for hours / minutes,
``JBS_202006.nc`` for months (``"1MS"``), ``JBS_2020.nc`` for years
(``"1YS"``). Fixed periods are counted from 1970-01-01 00:00 UT, so the
same frame always lands in the same file.

Ingest never loses a good frame because of a bad one: empty, corrupt,
truncated, wrongly sized or unsupported files and names without a time stamp
are skipped and listed, with the reason, in an :class:`IngestReport` (also
written to ``DEST/ingest_report.json``). Frames are read, checked and
appended to the output in batches of ``chunk_frames``, so memory stays
bounded by the batch size whatever the period. Each output is written to a
temporary file and renamed into place when complete; re-running adds only the
frames an output does not hold yet and leaves unchanged outputs untouched.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from numpy.typing import NDArray

from ..cube.build import append_history, package_version
from ..errors import IngestError, OptionError
from ..sky.lens import Calibration, require_calibration
from ..sky.stations import Station, get_station
from .imagefiles import (
    ImageFileError,
    file_role,
    read_frame,
    read_header,
    read_kind,
    read_mask,
    time_from_name,
    time_regex,
)
from .netcdf import (
    CubeAppender,
    FrameBatch,
    NoFilesFoundError,
    atomic_output,
    stack_batches,
    time_encoding,
)

__all__ = ["REPORT_NAME", "IngestReport", "ingest", "output_name", "period_labels"]

REPORT_NAME = "ingest_report.json"
BATCH_BYTES = 256 * 2**20
"""Most bytes of frames held in memory at once (besides ``chunk_frames``)."""
_HEADER_SAMPLE = 256

PathLike = str | os.PathLike[str]


# -- the report ------------------------------------------------------------------
@dataclass
class IngestReport:
    """What an :func:`ingest` run did.

    Attributes
    ----------
    src, dest : str
        Source folder and destination folder.
    station, period : str
        Station code and the period of one output file.
    written : list of str
        Output files created or updated by this run.
    unchanged : list of str
        Existing outputs that already held every good frame found for them.
    n_frames_added : int
        Frames written that the outputs did not hold before.
    n_frames_present : int
        Frames found that the outputs already held (not read again).
    n_ignored : int
        Files that are neither frames nor masks (other extensions or suffix).
    skipped : list of (str, str)
        ``(path, reason)`` for every file not ingested.
    """

    src: str
    dest: str
    station: str
    period: str
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    n_frames_added: int = 0
    n_frames_present: int = 0
    n_ignored: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def n_skipped(self) -> int:
        """Number of files skipped (bad frames, masks, names, duplicates)."""
        return len(self.skipped)

    @property
    def ok(self) -> bool:
        """True when no file was skipped."""
        return not self.skipped

    def skip(self, path: PathLike, reason: str) -> None:
        """Record a skipped file."""
        self.skipped.append((os.fspath(path), reason))

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        data = asdict(self)
        data["skipped"] = [{"path": p, "reason": r} for p, r in self.skipped]
        data["n_skipped"] = self.n_skipped
        data["aurora_xr_version"] = package_version()
        return data

    def to_json(self, path: PathLike) -> Path:
        """Write the report as JSON (atomically) and return the path."""
        target = Path(path)
        with atomic_output(target) as tmp:
            tmp.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        return target

    def summary(self) -> str:
        """One line for people."""
        text = (
            f"{self.n_frames_added} frames added to {len(self.written)} file(s) in {self.dest}"
            f" ({self.n_frames_present} already present)"
        )
        if self.skipped:
            text += f"; {self.n_skipped} file(s) skipped"
        return text


# -- periods -----------------------------------------------------------------------
_EPOCH = np.datetime64("1970-01-01T00:00:00", "ns")


def _period(period: str) -> tuple[np.int64 | None, str]:
    """``(length_ns or None for calendar months/years, label format)``."""
    from pandas.tseries.frequencies import to_offset

    try:
        offset = to_offset(period)
    except (TypeError, ValueError) as exc:
        raise OptionError(
            f"period must be a pandas offset such as '1D', '6h', '1MS' or '1YS'; found {period!r}"
        ) from exc
    if isinstance(offset, pd.offsets.Day | pd.offsets.Tick):
        if isinstance(offset, pd.offsets.Day):
            step = pd.Timedelta(days=offset.n)
        else:
            step = pd.Timedelta(offset)
        ns = np.int64(step.value)
        if ns < 10**9:
            raise OptionError(f"period must be at least one second; found {period!r}")
        day, hour, minute = 86400 * 10**9, 3600 * 10**9, 60 * 10**9
        if ns % day == 0:
            fmt = "%Y%m%d"
        elif ns % hour == 0:
            fmt = "%Y%m%dT%H"
        elif ns % minute == 0:
            fmt = "%Y%m%dT%H%M"
        else:
            fmt = "%Y%m%dT%H%M%S"
        return ns, fmt
    if isinstance(offset, pd.offsets.MonthBegin) and offset.n == 1:
        return None, "%Y%m"
    if isinstance(offset, pd.offsets.YearBegin) and offset.n == 1 and offset.month == 1:
        return None, "%Y"
    raise OptionError(
        "period must be a fixed length ('1D', '7D', '6h', ...), '1MS' (months) or '1YS' "
        f"(years); found {period!r}"
    )


def period_labels(times: NDArray[np.datetime64], period: str = "1D") -> NDArray[np.str_]:
    """The label of the output period of each time (``"20200621"`` for ``"1D"``).

    Examples
    --------
    >>> t = np.array(["2020-06-21T23:59", "2020-06-22T00:00"], "datetime64[ns]")
    >>> period_labels(t).tolist()
    ['20200621', '20200622']
    >>> period_labels(t, "1MS").tolist()
    ['202006', '202006']
    """
    length, fmt = _period(period)
    values = np.asarray(times, dtype="datetime64[ns]")
    if length is not None:
        ns = (values - _EPOCH).astype(np.int64)
        values = _EPOCH + ((ns // length) * length).astype("timedelta64[ns]")
    return np.asarray(pd.DatetimeIndex(values).strftime(fmt), dtype=str)


def output_name(station: str, label: str) -> str:
    """File name of one output, e.g. ``JBS_20200621.nc``."""
    return f"{station}_{label}.nc"


# -- what is on disk -------------------------------------------------------------------
@dataclass
class _Candidate:
    time: np.datetime64
    path: Path
    mask: Path | None = None
    kind: Path | None = None


@dataclass
class _Existing:
    path: Path
    times: NDArray[np.datetime64]
    width: int
    height: int
    dtype: np.dtype[Any]
    calibration: Calibration
    variables: set[str]
    attrs: dict[str, Any]


def _read_existing(path: Path) -> _Existing:
    with xr.open_dataset(path, cache=False) as ds:
        if "image" not in ds.variables or "time" not in ds.coords:
            raise IngestError(f"{path} is not an image cube (no 'image' or 'time')")
        managed = {"image", "aurora_truth", "aurora_kind", "truth_available"}
        extra = {str(n) for n, v in ds.data_vars.items() if "time" in v.dims} - managed
        if extra:
            raise IngestError(
                f"{path} holds per-frame variables ingest does not manage ({', '.join(extra)})"
            )
        image = ds["image"]
        return _Existing(
            path=path,
            times=ds["time"].values.astype("datetime64[ns]"),
            width=int(image.sizes["x"]),
            height=int(image.sizes["y"]),
            dtype=np.dtype(image.dtype),
            calibration=require_calibration(dict(ds.attrs)),
            variables={str(n) for n in ds.data_vars},
            attrs=dict(ds.attrs),
        )


@dataclass
class _Expected:
    width: int | None
    height: int | None
    dtype: np.dtype[Any] | None
    source: str

    def check(self, frame: NDArray[np.generic]) -> None:
        height, width = frame.shape[:2]
        if self.width is None or self.height is None:
            self.width, self.height, self.source = width, height, "the first readable frame"
        if self.dtype is None:
            self.dtype = frame.dtype
        if (width, height) != (self.width, self.height):
            raise ImageFileError(
                f"frame size {width}x{height} differs from {self.width}x{self.height} "
                f"({self.source})"
            )
        if frame.dtype != self.dtype:
            raise ImageFileError(
                f"{8 * frame.dtype.itemsize}-bit frame differs from the "
                f"{8 * self.dtype.itemsize}-bit frames of {self.source}"
            )


def _majority(candidates: list[_Candidate]) -> _Expected:
    count = len(candidates)
    if count == 0:
        return _Expected(None, None, None, "")
    picks = np.unique(np.linspace(0, count - 1, min(count, _HEADER_SAMPLE)).round().astype(int))
    votes: Counter[tuple[int, int, str]] = Counter()
    for i in picks:
        try:
            width, height, dtype = read_header(candidates[int(i)].path)
        except ImageFileError:
            continue
        votes[(width, height, dtype.str)] += 1
    if not votes:
        return _Expected(None, None, None, "")
    (width, height, code), _ = votes.most_common(1)[0]
    return _Expected(width, height, np.dtype(code), "most frames of the station")


# -- writing one period ------------------------------------------------------------------
class _Period:
    """Everything about one output file: existing frames plus new candidates."""

    def __init__(
        self,
        *,
        out: Path,
        candidates: list[_Candidate],
        existing: _Existing | None,
        expected: _Expected,
        station: Station,
        calibration: Calibration | None,
        chunk_frames: int,
        report: IngestReport,
        progress: Any,
    ) -> None:
        self.out = out
        self.candidates = candidates
        self.existing = existing
        self.expected = expected
        self.station = station
        self.calibration = calibration
        self.chunk_frames = chunk_frames
        self.report = report
        self.progress = progress
        present = existing.variables if existing else set()
        self.has_truth = "aurora_truth" in present or any(c.mask for c in candidates)
        self.has_kind = "aurora_kind" in present or any(c.kind for c in candidates)
        self.added = 0

    # pieces from the existing file, in runs of at most chunk_frames
    def _existing_pieces(self, ds: xr.Dataset, start: int, stop: int) -> Iterator[FrameBatch]:
        image = ds["image"]
        frame_bytes = image.dtype.itemsize * int(np.prod(image.shape[1:]))
        step = max(1, min(self.chunk_frames, BATCH_BYTES // max(frame_bytes, 1)))
        for a in range(start, stop, step):
            part = ds.isel(time=slice(a, min(stop, a + step)))
            n, height, width = part.sizes["time"], part.sizes["y"], part.sizes["x"]
            truth = available = kind = None
            if self.has_truth:
                if "aurora_truth" in part:
                    truth = part["aurora_truth"].values.astype(bool)
                    available = (
                        part["truth_available"].values.astype(bool)
                        if "truth_available" in part
                        else np.ones(n, bool)
                    )
                else:
                    truth = np.zeros((n, height, width), bool)
                    available = np.zeros(n, bool)
            if self.has_kind:
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
            )

    def _new_piece(self, group: list[_Candidate]) -> FrameBatch | None:
        """Decode the first good file of frames sharing one time; report the rest."""
        kept: _Candidate | None = None
        frame = None
        orphans: dict[Path, _Candidate] = {}  # truth of bad frames, by folder
        for cand in group:
            self.progress.update(1)
            if kept is not None:
                self.report.skip(cand.path, f"duplicate time {cand.time} (kept {kept.path.name})")
                continue
            try:
                image = read_frame(cand.path)
                self.expected.check(image)
            except ImageFileError as exc:
                self.report.skip(cand.path, str(exc))
                if cand.mask is not None:
                    orphans[cand.path.parent] = cand
                continue
            kept, frame = cand, image
            if kept.mask is None and kept.path.parent in orphans:  # a good duplicate takes it
                spare = orphans.pop(kept.path.parent)
                kept.mask, kept.kind = spare.mask, spare.kind
        for cand in orphans.values():
            for extra in (cand.mask, cand.kind):
                if extra is not None:
                    self.report.skip(extra, "truth of a frame that was skipped")
        if kept is None or frame is None:
            return None
        shape = frame.shape[:2]
        truth = available = kind = None
        if self.has_truth:
            truth, available = np.zeros(shape, bool), np.zeros(1, bool)
            if kept.mask is not None:
                try:
                    truth, available = read_mask(kept.mask, shape), np.ones(1, bool)
                except ImageFileError as exc:
                    self.report.skip(kept.mask, str(exc))
        if self.has_kind:
            kind = np.zeros(shape, np.uint8)
            if kept.kind is not None:
                try:
                    kind = read_kind(kept.kind, shape)
                except ImageFileError as exc:
                    self.report.skip(kept.kind, str(exc))
        self.added += 1
        return FrameBatch(
            np.array([kept.time], "datetime64[ns]"),
            frame[None],
            None if truth is None else truth[None],
            None if kind is None else kind[None],
            available,
        )

    def _pieces(self, ds: xr.Dataset | None) -> Iterator[FrameBatch]:
        old = self.existing.times if self.existing is not None else np.array([], "M8[ns]")
        groups: dict[np.datetime64, list[_Candidate]] = {}
        for cand in self.candidates:
            groups.setdefault(cand.time, []).append(cand)
        i = 0
        for when in sorted(groups):
            j = int(np.searchsorted(old, when))
            if ds is not None and j > i:
                yield from self._existing_pieces(ds, i, j)
            i = j
            piece = self._new_piece(groups[when])
            if piece is not None:
                yield piece
        if ds is not None and len(old) > i:
            yield from self._existing_pieces(ds, i, len(old))

    def run(self, *, src: Path) -> None:
        old = self.existing.times if self.existing is not None else np.array([], "M8[ns]")
        all_times = np.concatenate([old, np.array([c.time for c in self.candidates], "M8[ns]")])
        cal = self.existing.calibration if self.existing is not None else self.calibration
        attrs = self.existing.attrs if self.existing is not None else None
        with atomic_output(self.out) as tmp:
            src_ds = xr.open_dataset(self.existing.path, cache=False) if self.existing else None
            appender: CubeAppender | None = None
            try:
                buffer: list[FrameBatch] = []
                for piece in self._pieces(src_ds):
                    buffer.append(piece)
                    frames = sum(len(p.times) for p in buffer)
                    nbytes = sum(p.image.nbytes for p in buffer)
                    if frames >= self.chunk_frames or nbytes >= BATCH_BYTES:
                        appender = self._flush(appender, buffer, tmp, cal, attrs, all_times)
                        buffer = []
                if buffer:
                    appender = self._flush(appender, buffer, tmp, cal, attrs, all_times)
                if appender is not None:
                    line = f"ingest of {self.added} frames from {src}"
                    appender.close(append_history(attrs or {}, line))
            finally:
                if appender is not None:
                    appender.close(None)
                if src_ds is not None:
                    src_ds.close()
            if self.added == 0:
                raise _NothingNew
        self.report.written.append(os.fspath(self.out))
        self.report.n_frames_added += self.added

    def _flush(
        self,
        appender: CubeAppender | None,
        buffer: list[FrameBatch],
        tmp: Path,
        cal: Calibration | None,
        attrs: dict[str, Any] | None,
        all_times: NDArray[np.datetime64],
    ) -> CubeAppender:
        piece = stack_batches(buffer)
        if appender is None:
            if cal is None:  # size known only now, from the frames themselves
                height, width = piece.image.shape[1:3]
                cal = self.station.calibration(width, height)
            appender = CubeAppender(
                tmp,
                station=self.station,
                calibration=cal,
                attrs=attrs,
                time_enc=time_encoding(all_times),
                chunk_frames=self.chunk_frames,
            )
        appender.append(piece)
        return appender


class _NothingNew(Exception):
    """Raised inside atomic_output to drop a temporary file with no new frames."""


# -- the entry point ----------------------------------------------------------------------
def _scan(
    src: Path,
    pattern: str,
    *,
    time_pattern: str,
    frame_suffix: str | None,
    report: IngestReport,
) -> list[_Candidate]:
    regex = time_regex(time_pattern)
    files = [src] if src.is_file() else sorted(p for p in src.glob(pattern) if p.is_file())
    frames: list[_Candidate] = []
    masks: dict[tuple[Path, np.datetime64], Path] = {}
    kinds: dict[tuple[Path, np.datetime64], Path] = {}
    n_images = 0
    for path in files:
        role = file_role(path, frame_suffix=frame_suffix)
        if role is None:
            report.n_ignored += 1
            continue
        when = time_from_name(path.name, regex, time_pattern)
        if when is None and role != "frame":  # e.g. lens_mask.png: not a frame's truth
            report.n_ignored += 1
            continue
        n_images += 1
        if when is None:
            report.skip(path, f"file name has no time stamp matching {time_pattern!r}")
            continue
        if role == "frame":
            frames.append(_Candidate(when, path))
            continue
        table = masks if role == "mask" else kinds
        key = (path.parent, when)
        if key in table:
            report.skip(path, f"another {role} file for time {when} ({table[key].name})")
        else:
            table[key] = path
    if n_images == 0:
        what = f"files ending with {frame_suffix!r}" if frame_suffix else "JPEG/PNG frames"
        raise NoFilesFoundError(f"expected {what} under {src} matching {pattern!r}; found none")
    by_key: dict[tuple[Path, np.datetime64], _Candidate] = {}
    for cand in frames:
        by_key.setdefault((cand.path.parent, cand.time), cand)
    for key, path in masks.items():
        if key in by_key:
            by_key[key].mask = path
        else:
            report.skip(path, f"mask without a frame at {key[1]} in its folder")
    for key, path in kinds.items():
        if key in by_key and by_key[key].mask is not None:
            by_key[key].kind = path
        else:
            report.skip(path, "kind file without a frame and mask beside it")
    frames.sort(key=lambda c: (c.time, str(c.path)))
    return frames


def ingest(
    src: PathLike,
    dest: PathLike,
    *,
    station: str | Station = "JBS",
    time_pattern: str = "%Y%m%d_%H%M%S",
    glob: str = "**/*",
    period: str = "1D",
    calibration: Calibration | None = None,
    chunk_frames: int = 64,
    frame_suffix: str | None = None,
    progress: bool = True,
    report_path: PathLike | None = None,
) -> IngestReport:
    """Turn a folder tree of JPEG/PNG frames into NetCDF-4 image cubes.

    Parameters
    ----------
    src : str or path-like
        Folder searched for frames (or a single frame file).
    dest : str or path-like
        Folder of the output files (created if missing).
    station : str or Station
        Station of the camera (code or :class:`~aurora_xr.Station`); names the
        outputs and gives the calibration.
    time_pattern : str
        strftime pattern of the UT time found anywhere in a file name.
    glob : str
        Pattern, relative to ``src``, of the files considered.
    period : str
        Period of one output file: a fixed pandas offset (``"1D"``, ``"6h"``,
        ``"7D"``), ``"1MS"`` (calendar months) or ``"1YS"`` (years).
    calibration : Calibration, optional
        Camera calibration; frames of another size are skipped. By default the
        station's camera scaled to the frame size, which is that of the
        existing outputs or else of most frames.
    chunk_frames : int
        Most frames read and appended per batch (a batch also stays below
        :data:`BATCH_BYTES`), and most frames per on-disk chunk (which also
        stays below about 4 MiB).
    frame_suffix : str, optional
        Only files whose names end with this (e.g. ``"_rgb.png"``) are frames;
        by default every ``.jpg``/``.jpeg``/``.png`` that is not a mask.
    progress : bool
        Show a tqdm progress bar.
    report_path : str or path-like, optional
        Also write the report here (it is always written to
        ``DEST/ingest_report.json``).

    Returns
    -------
    IngestReport

    Raises
    ------
    NoFilesFoundError
        If ``src`` does not exist or holds no JPEG/PNG file.
    OptionError
        For an invalid pattern, period or batch size.
    IngestError
        If an existing output was written with another calibration, or is
        not an image cube.

    Notes
    -----
    Grey frames are stored as RGB with R = G = B. Masks ``*_mask.png`` and
    ``*_kind.png`` beside a frame (same folder, same time stamp) become
    ``aurora_truth`` and ``aurora_kind``; when some frames of an output have
    no mask their truth is all False and ``truth_available`` says which
    frames carry one. Of several frames with the same time the first good one
    (by path) is kept and the others are reported as duplicates.
    """
    from tqdm.auto import tqdm

    source = Path(src)
    if not source.exists():
        raise NoFilesFoundError(f"expected a folder of frames; found no {source}")
    out_dir = Path(dest)
    if out_dir.exists() and not out_dir.is_dir():
        raise IngestError(f"expected a destination folder; found the file {out_dir}")
    if not isinstance(chunk_frames, int | np.integer) or chunk_frames < 1:
        raise OptionError(f"chunk_frames must be a positive integer; found {chunk_frames!r}")
    if calibration is not None and not isinstance(calibration, Calibration):
        raise OptionError(f"calibration must be a Calibration; found {type(calibration).__name__}")
    stn = get_station(station)
    code = re.sub(r"[^A-Za-z0-9-]", "-", stn.code)
    _period(period)  # check early
    report = IngestReport(
        src=os.fspath(source), dest=os.fspath(out_dir), station=stn.code, period=period
    )
    frames = _scan(
        source, glob, time_pattern=time_pattern, frame_suffix=frame_suffix, report=report
    )
    out_dir.mkdir(parents=True, exist_ok=True)

    labels = period_labels(np.array([c.time for c in frames], "M8[ns]"), period)
    periods: dict[str, list[_Candidate]] = {}
    for label, cand in zip(labels.tolist(), frames, strict=True):
        periods.setdefault(label, []).append(cand)

    existing: dict[str, _Existing] = {}
    for label in list(periods):
        path = out_dir / output_name(code, label)
        if not path.exists():
            continue
        try:
            info = _read_existing(path)
        except Exception as exc:  # an unreadable output is left alone, never overwritten
            for cand in periods.pop(label):
                report.skip(cand.path, f"not ingested: the existing output {path} is unusable")
            report.skip(path, f"existing output cannot be used ({exc}); left untouched")
            continue
        if calibration is not None and info.calibration != calibration:
            raise IngestError(
                f"{path} was written with calibration {info.calibration}; found the calibration "
                f"{calibration} given now. Ingest into another folder or pass the same one"
            )
        existing[label] = info
        present = set(info.times.astype(np.int64).tolist())
        seen: set[int] = set()
        new: list[_Candidate] = []
        for cand in periods[label]:
            key = int(cand.time.astype("datetime64[ns]").astype(np.int64))
            if key not in present:
                new.append(cand)
            elif key in seen:
                reason = f"duplicate time {cand.time} (the output already holds a frame there)"
                report.skip(cand.path, reason)
            else:
                seen.add(key)
                report.n_frames_present += 1
        periods[label] = new

    if calibration is not None:
        expected = _Expected(calibration.width, calibration.height, None, "the calibration given")
    elif existing:
        first = existing[min(existing)]
        expected = _Expected(
            first.width, first.height, first.dtype, f"the existing {first.path.name}"
        )
    else:
        expected = _majority([c for cands in periods.values() for c in cands])

    total = sum(len(c) for c in periods.values())
    with tqdm(
        total=total, unit="frame", desc=f"ingest {stn.code}", disable=not progress or total == 0
    ) as bar:
        for label in sorted(periods):
            held = existing.get(label)
            out = out_dir / output_name(code, label)
            if not periods[label]:
                if held is not None:
                    report.unchanged.append(os.fspath(out))
                continue
            if held is not None:
                period_expected = _Expected(
                    held.width, held.height, held.dtype, f"the existing {out.name}"
                )
            else:
                period_expected = expected
            job = _Period(
                out=out,
                candidates=periods[label],
                existing=held,
                expected=period_expected,
                station=stn,
                calibration=calibration,
                chunk_frames=int(chunk_frames),
                report=report,
                progress=bar,
            )
            bar.set_postfix_str(out.name, refresh=False)
            try:
                job.run(src=source)
            except _NothingNew:
                if held is not None:
                    report.unchanged.append(os.fspath(out))
    report.to_json(out_dir / REPORT_NAME)
    if report_path is not None:
        report.to_json(report_path)
    return report
