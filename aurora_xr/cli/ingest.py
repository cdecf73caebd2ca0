"""The ``ingest`` subcommand of ``aurora-xr``: camera files -> NetCDF-4 image cubes.

Examples::

    aurora-xr ingest trex_gill_nir_20220307/ cubes/                 # site and times from headers
    aurora-xr ingest thg_l1_asf_gako_2011010617_v01.cdf cubes/ \\
        --skymap themis_skymap_gako_20110305-+_vXX.sav               # per-pixel calibration
    aurora-xr ingest kho/ cubes/ --station KHO --time-pattern %Y-%m-%d_%H-%M-%S
    aurora-xr ingest oculus/ cubes/ --site 38.99,-76.94,50 --utc-offset -5
    aurora-xr ingest archive/ cubes/ --station JBS --calibration placeholder:JBS --workers 2
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from .commands import EXIT_OK, EXIT_SKIPPED, Subcommand, say
from .options import positive_int

__all__ = ["COMMANDS"]

_SHOW_SKIPPED = 10
_SHOW_NOTES = 5
_ADDRESS = re.compile(r"[a-z][a-z0-9+]*://\S+|[\w.\-]+:\d+")


def _address(text: str) -> str:
    if _ADDRESS.fullmatch(text):
        return text
    raise argparse.ArgumentTypeError(
        f"expected the address of a running dask.distributed scheduler (tcp://host:8786); "
        f"found {text!r}"
    )


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "src", help="camera file, or folder searched for them (JPEG/PNG/TIFF, PGM, FITS, CDF, ...)"
    )
    parser.add_argument("dest", help="folder of the NetCDF-4 cubes (created if missing)")
    where = parser.add_argument_group(
        "site (required unless the file headers give it; a header position wins)"
    )
    where.add_argument("--station", default=None, metavar="CODE", help="catalogue site code")
    where.add_argument(
        "--site", default=None, metavar="LAT,LON[,ALT_M]", help="any other place (deg, deg E, m)"
    )
    where.add_argument(
        "--station-file", default=None, metavar="FILE", help="TOML/JSON file of sites"
    )
    cal = parser.add_argument_group("calibration (none: a cube without elevation/azimuth)")
    cal.add_argument(
        "--calibration",
        default=None,
        metavar="JSON",
        help="lens calibration as JSON (Calibration fields or calibration_* attributes, as "
        "a star calibration writes them), or placeholder:CODE for a station's placeholder "
        "lens scaled to the frame size (placeholder:JBS)",
    )
    cal.add_argument(
        "--skymap",
        default=None,
        metavar="FILE_OR_FOLDER",
        help="per-pixel skymap(s): IDL .sav, either file of an Az/El FITS pair, .npz/.nc, or "
        "a folder of them (each frame gets the one valid at its time)",
    )
    when = parser.add_argument_group("times")
    when.add_argument(
        "--time-pattern",
        default="%Y%m%d_%H%M%S",
        help="strftime pattern of the time in file names, for files whose header has no "
        "time (default: %(default)s)",
    )
    when.add_argument(
        "--utc-offset",
        default=None,
        metavar="HOURS",
        help="hours east of UTC of a camera that stamps local time (-5 for EST); applies to "
        "FITS header times and times in file names",
    )
    files = parser.add_argument_group("files and outputs")
    files.add_argument(
        "--glob", default="**/*", help="files considered, relative to SRC (default: %(default)s)"
    )
    files.add_argument(
        "--format", default=None, help="read every file with this format (default: by extension)"
    )
    files.add_argument(
        "--frame-suffix",
        default=None,
        help="only files ending with this are frames, e.g. _rgb.png",
    )
    files.add_argument(
        "--period",
        default="1D",
        help="period of one output file: 1D (days), 6h, 7D, 1MS (months), 1YS "
        "(default: %(default)s)",
    )
    files.add_argument(
        "--chunk-frames",
        type=positive_int,
        default=64,
        help="frames read and written per batch (default: %(default)s)",
    )
    files.add_argument(
        "--compression",
        default="zlib",
        choices=("zlib", "zstd", "none"),
        help="codec of the frames (default: %(default)s; zstd writes ~4x faster but needs an "
        "HDF5 with the zstd plugin to read)",
    )
    files.add_argument(
        "--report", default=None, help="also write the JSON report here (always DEST/...)"
    )
    run = parser.add_argument_group("parallel runs (one task per output file)")
    run.add_argument(
        "--workers", type=positive_int, default=1, help="worker processes (default: 1)"
    )
    run.add_argument(
        "--scheduler",
        type=_address,
        default=None,
        metavar="ADDRESS",
        help="address of a running dask.distributed scheduler whose workers see SRC and DEST",
    )


def _run(args: argparse.Namespace) -> int:
    from ..io.ingest_report import REPORT_NAME
    from ..io.ingestion import ingest

    report = ingest(
        args.src,
        args.dest,
        station=args.station,
        site=args.site,
        station_file=args.station_file,
        calibration=args.calibration,
        skymap=args.skymap,
        time_pattern=args.time_pattern,
        utc_offset=args.utc_offset,
        glob=args.glob,
        period=args.period,
        format=args.format,
        chunk_frames=args.chunk_frames,
        frame_suffix=args.frame_suffix,
        workers=args.workers,
        scheduler=args.scheduler,
        compression=args.compression,
        progress=args.progress,
        report_path=args.report,
    )
    print(f"ingest: {report.summary()}")
    for note in report.notes[:_SHOW_NOTES]:
        say(f"  note: {note}")
    if not report.skipped:
        return EXIT_OK
    for path, reason in report.skipped[:_SHOW_SKIPPED]:
        say(f"  skipped {path}: {reason}")
    more = report.n_skipped - _SHOW_SKIPPED
    where = Path(args.dest) / REPORT_NAME
    say(f"  ... and {more} more; see {where}" if more > 0 else f"  (report: {where})")
    return EXIT_SKIPPED


COMMANDS: dict[str, Subcommand] = {
    "ingest": Subcommand(
        "turn camera files (JPEG/PNG/TIFF, PGM, FITS, THEMIS CDF, KHO .img) into NetCDF-4 "
        "image cubes, one per UT period",
        _arguments,
        _run,
    ),
}
