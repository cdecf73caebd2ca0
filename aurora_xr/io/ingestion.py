"""Ingest: the files a camera writes -> NetCDF-4 image cubes, one per UT period.

Any format of the reader registry (:mod:`aurora_xr.io.formats`: JPEG/PNG/TIFF, gzipped
multi-frame PGM of THEMIS/TREx/Rainbow, FITS, Berkeley THEMIS CDF, KHO ``.img``, or one a
third party registers). Each frame gets its time from the file header when the file has one,
else from the file name (``time_pattern``); ``utc_offset`` shifts the times of cameras that
stamp local time. Frames keep the camera's channels (a single-channel camera makes a
single-channel cube), size (non-square frames too), dtype and per-frame header values (one
``(time,)`` variable per header key).

The steps (modules): find the files and read their headers
(:mod:`~aurora_xr.io.ingest_sources`); resolve the site and calibration
(:mod:`~aurora_xr.io.ingest_camera`); plan one job per output file
(:mod:`~aurora_xr.io.ingest_plan`, names in :mod:`~aurora_xr.io.ingest_periods`); write each
output atomically (:mod:`~aurora_xr.io.ingest_writer`), in this process, in worker processes
or on a dask cluster (:mod:`~aurora_xr.io.ingest_runner`); report
(:mod:`~aurora_xr.io.ingest_report`).

Guarantees: one output per UT period (and site and band); outputs are written to a temporary
file and renamed into place when complete; re-running adds only the frames an output does not
hold yet and leaves unchanged outputs untouched (also after a run that was killed); a bad file
or frame never costs a good one and is reported once; memory stays bounded by one batch of
``chunk_frames`` frames per worker.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import IngestError, NoFilesFoundError, OptionError
from ..sky.lens import Calibration
from ..sky.skymap import Skymap
from ..sky.stations import Station
from .appender import COMPRESSIONS
from .formats import get_format, utc_offset_ns
from .imagefiles import time_regex
from .ingest_camera import camera_setup
from .ingest_periods import check_period, output_name, period_labels
from .ingest_plan import OutputJob, plan_outputs
from .ingest_report import REPORT_NAME, IngestReport
from .ingest_runner import TaskRunner
from .ingest_sources import ScanOptions, SourceFile, list_files, pair_truth, scan_files
from .ingest_writer import BATCH_BYTES, JobResult, write_output

__all__ = ["BATCH_BYTES", "REPORT_NAME", "IngestReport", "ingest", "output_name", "period_labels"]

PathLike = str | os.PathLike[str]
_SCAN_BATCH = 256
_LOCAL_SCAN_FILES = 20_000


def _check_options(
    source: Path, out_dir: Path, chunk_frames: Any, compression: str, format: str | None
) -> None:
    if not source.exists():
        raise NoFilesFoundError(f"expected a folder of frames; found no {source}")
    if out_dir.exists() and not out_dir.is_dir():
        raise IngestError(f"expected a destination folder; found the file {out_dir}")
    if isinstance(chunk_frames, bool) or not isinstance(chunk_frames, int) or chunk_frames < 1:
        raise OptionError(f"chunk_frames must be a positive integer; found {chunk_frames!r}")
    if compression not in COMPRESSIONS:
        raise OptionError(
            f"compression must be one of {', '.join(COMPRESSIONS)}; found {compression!r}"
        )
    if format is not None:
        get_format(format)


def _scan(
    runner: TaskRunner, frames: list[str], options: ScanOptions, report: IngestReport
) -> list[SourceFile]:
    # headers are read here while worker processes start, unless there are very many
    local = runner.scheduler is None and len(frames) < _LOCAL_SCAN_FILES
    size = _SCAN_BATCH if runner.parallel and not local else max(1, len(frames))
    batches = [frames[i : i + size] for i in range(0, len(frames), size)] or [[]]
    scan = functools.partial(scan_files, options=options)
    results: dict[int, Any] = dict(runner.map(scan, batches, what="header scan", local=local))
    sources: list[SourceFile] = []
    shared: dict[str, dict[str, Any]] = {}
    for i in range(len(batches)):
        for path, reason in results[i].skipped:
            report.skip(path, reason)
        for source in results[i].sources:  # one metadata dict per distinct header
            source.metadata = shared.setdefault(
                repr(sorted(source.metadata.items())), source.metadata
            )
            sources.append(source)
    return sources


def _merge(report: IngestReport, job: OutputJob, result: JobResult) -> None:
    for path, reason in result.skipped:
        report.skip(path, reason)
    if result.written:
        report.written.append(result.out)
        report.n_frames_added += result.added
    elif result.unchanged:
        report.unchanged.append(result.out)


def _write(
    runner: TaskRunner, jobs: list[OutputJob], report: IngestReport, *, progress: bool, desc: str
) -> None:
    from tqdm.auto import tqdm

    total = sum(job.n_candidates for job in jobs)
    done: dict[int, JobResult] = {}
    with tqdm(total=total, unit="frame", desc=desc, disable=not progress or total == 0) as bar:
        try:
            if runner.parallel:
                for i, result in runner.map(write_output, jobs, what="write of an output"):
                    done[i] = result
                    bar.update(jobs[i].n_candidates)
            else:
                for i, job in enumerate(jobs):
                    bar.set_postfix_str(Path(job.out).name, refresh=False)
                    done[i] = write_output(job, bar.update)
        finally:
            for i in sorted(done):
                _merge(report, jobs[i], done[i])


def ingest(
    src: PathLike,
    dest: PathLike,
    *,
    station: str | Station | None = None,
    site: str | Station | None = None,
    station_file: PathLike | None = None,
    calibration: Calibration | Skymap | str | os.PathLike[str] | None = None,
    skymap: PathLike | Skymap | Sequence[Skymap] | None = None,
    time_pattern: str = "%Y%m%d_%H%M%S",
    utc_offset: Any = None,
    glob: str = "**/*",
    period: str = "1D",
    format: str | None = None,
    chunk_frames: int = 64,
    frame_suffix: str | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    compression: str = "zlib",
    progress: bool = True,
    report_path: PathLike | None = None,
) -> IngestReport:
    """Turn a folder of camera files into NetCDF-4 image cubes, one per UT period.

    Parameters
    ----------
    src : str or path-like
        Folder searched for camera files (or a single file).
    dest : str or path-like
        Folder of the output files (created if missing).
    station : str or Station, optional
        The site: a catalogue code (``"GILL"``, ``"KHO"``; aliases work) or a
        :class:`~aurora_xr.Station`. A position in a file's own header wins (the difference
        is noted). With ``site``, a code of your own for that place.
    site : str or Station, optional
        ``"LAT,LON[,ALT_M]"`` (degrees north, degrees east, metres) for a place not in the
        catalogue.
    station_file : str or path-like, optional
        A TOML/JSON file of sites (:func:`~aurora_xr.sky.sites.read_station_file`); its only
        site, or the one ``station`` names, or the one a header's site id names.
    calibration : Calibration, Skymap, str or path-like, optional
        A lens (a :class:`~aurora_xr.Calibration` or a JSON file of one, as a star
        calibration writes it) or ``"placeholder:CODE"`` (the placeholder lens of a station,
        e.g. ``"placeholder:JBS"``, scaled to the frame size). Frames of another size than a
        lens are skipped.
    skymap : path-like, Skymap or sequence of Skymap, optional
        Per-pixel calibrations: an IDL ``.sav``, either file of an Az/El FITS pair, an
        ``.npz``/``.nc`` of arrays, or a folder of them; each frame gets the skymap whose
        validity covers it (else the nearest in time, with a warning naming both dates).
    time_pattern : str
        strftime pattern of the time in file names, for files whose header has none.
    utc_offset : float, str or timedelta, optional
        Hours east of UTC of a camera that stamps local time (``-5`` for EST): applied to
        FITS header times and to times in file names.
    glob : str
        Pattern, relative to ``src``, of the files considered.
    period : str
        Period of one output file: ``"1D"``, ``"6h"``, ``"7D"``, ``"1MS"`` (months) or
        ``"1YS"`` (years).
    format : str, optional
        Read every file (except ``*_mask.png``/``*_kind.png``) with this registered format;
        by default files are chosen by extension and identified by content.
    chunk_frames : int
        Most frames read and appended per batch (a batch also stays below
        :data:`BATCH_BYTES`), and most frames per on-disk chunk.
    frame_suffix : str, optional
        Only files whose names end with this (e.g. ``"_rgb.png"``) are frames.
    workers : int
        Worker processes writing outputs in parallel (one task per output file).
    scheduler : str, optional
        Address of a dask.distributed scheduler (``"tcp://host:8786"``) whose workers write
        the outputs instead.
    compression : {"zlib", "zstd", "none"}
        Codec of the frames (see :data:`~aurora_xr.io.appender.COMPRESSIONS`).
    progress : bool
        Show a tqdm progress bar.
    report_path : str or path-like, optional
        Also write the report here (it is always written to ``DEST/ingest_report.json``).

    Returns
    -------
    IngestReport

    Raises
    ------
    NoFilesFoundError
        If ``src`` does not exist or holds no camera file.
    StationError
        For an unknown station code, or frames whose site nothing gives (the message says
        what to pass; there is no default site or calibration).
    OptionError
        For an invalid pattern, period, site, batch size or number of workers.
    FrameSizeError
        If the skymaps fit none of the frames.
    IngestError
        If an existing output was written with another calibration or is not an image cube,
        an output would mix two skymaps, or a worker process died (run again to resume).

    Notes
    -----
    Outputs are named ``{SITE}_{LABEL}.nc`` (``{SITE}_{BAND}_{LABEL}.nc`` for a band-named
    single channel, see :mod:`~aurora_xr.io.ingest_periods`). Frames of the Berkeley THEMIS
    CDF files are turned 180° so that they pair with the operator's raw skymap (the cube's
    ``frame_orientation`` says so). Masks ``*_mask.png`` and ``*_kind.png`` beside a frame
    (same folder, same time stamp) become ``aurora_truth`` and ``aurora_kind``. Of several
    frames with one time, the first good one (by path) is kept and the others are reported.

    Examples
    --------
    >>> report = ingest("themis_gill/", "cubes/")  # doctest: +SKIP
    >>> report = ingest(
    ...     "kho/", "cubes/", station="KHO", time_pattern="%Y-%m-%d_%H-%M-%S"
    ... )  # doctest: +SKIP
    """
    source, out_dir = Path(src), Path(dest)
    _check_options(source, out_dir, chunk_frames, compression, format)
    check_period(period)
    offset_ns = utc_offset_ns(utc_offset) if utc_offset is not None else 0
    time_regex(time_pattern)  # a bad pattern fails before any work
    scan = ScanOptions(time_pattern, utc_offset, offset_ns, format)
    setup = camera_setup(
        station=station,
        site=site,
        station_file=station_file,
        calibration=calibration,
        skymap=skymap,
    )
    report = IngestReport(
        src=os.fspath(source),
        dest=os.fspath(out_dir),
        station=setup.station.code if setup.station is not None else "",
        period=period,
        workers=0 if scheduler is not None else int(workers),
    )
    listing = list_files(
        source,
        glob,
        frame_suffix=frame_suffix,
        format=format,
        calibration_files=setup.calibration_files,
        skip_folder=out_dir if out_dir.exists() else None,
    )
    with TaskRunner(workers=workers, scheduler=scheduler) as runner:
        sources = _scan(runner, listing.frames, scan, report)
        for path, reason in pair_truth(sources, listing, scan):
            report.skip(path, reason)
        report.n_ignored = listing.n_ignored
        options = {s.format: scan.reader_options(s.format) for s in sources}
        jobs = plan_outputs(
            sources,
            setup,
            dest=out_dir,
            period=period,
            reader_options=options,
            chunk_frames=int(chunk_frames),
            batch_bytes=BATCH_BYTES,
            compression=compression,
            src=os.fspath(source),
            report=report,
        )
        if utc_offset is not None:
            for job in jobs:
                job.attrs.setdefault("utc_offset_h", offset_ns / 3.6e12)
        out_dir.mkdir(parents=True, exist_ok=True)
        try:
            _write(runner, jobs, report, progress=progress, desc=f"ingest {report.station}")
        finally:
            report.to_json(out_dir / REPORT_NAME)
            if report_path is not None:
                report.to_json(report_path)
    return report
