"""The ``aurora-xr`` command line.

Each subcommand is a pair of small functions registered in
:data:`SUBCOMMANDS`: one adds its arguments to an ``argparse`` parser, the
other runs it from the parsed arguments and returns an exit code. To add one::

    def _keogram_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("cube")


    def _keogram_run(args: argparse.Namespace) -> int:
        ...
        return EXIT_OK


    SUBCOMMANDS["keogram"] = Subcommand("draw a keogram", _keogram_arguments, _keogram_run)

Every subcommand also gets ``--no-progress`` (``args.progress``) and
``--traceback`` (``args.traceback``).

Subcommands
-----------
``ingest``
    Folder tree of JPEG/PNG frames to NetCDF-4 image cubes.
``train``, ``evaluate``
    Train a segmentation network (resumable) and score a checkpoint.
``segment``
    Segment cubes into a resumable store, region by region.
``occurrence``, ``compare``
    Occurrence products of one method, or of both compared.
``demo``
    The whole job on a synthetic archive.

``segment``, ``occurrence`` and ``compare`` run under the dask scheduler named
by ``--scheduler`` (see :func:`dask_scheduler`).

Exit codes
----------
0
    Success.
1
    Error: bad input, a missing path, an unreadable file or checkpoint, an I/O
    failure. One line on stderr (``aurora-xr CMD: error: ...``), no traceback
    unless ``--traceback``.
2
    Usage error (unknown option, missing argument, an option value of the wrong
    kind). One line on stderr.
3
    Finished, but some input files were skipped (ingest: listed in the report).
130
    Interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from ..errors import AuroraXrError, CalibrationError, OptionError
from ..sky.lens import Calibration
from . import model as _cli_model
from . import pipeline as _cli_pipeline
from .base import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_SKIPPED,
    EXIT_USAGE,
    PROG,
    SCHEDULERS,
    Subcommand,
    compute,
    dask_scheduler,
    release_files,
)
from .base import say as _say

__all__ = [
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_SKIPPED",
    "EXIT_USAGE",
    "SCHEDULERS",
    "SUBCOMMANDS",
    "Subcommand",
    "build_parser",
    "compute",
    "dask_scheduler",
    "main",
]

_SHOW_SKIPPED = 10


# -- ingest ---------------------------------------------------------------------------
def _read_calibration(path: str) -> Calibration:
    """A Calibration from a JSON file: Calibration fields, or ``calibration_*`` attributes."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CalibrationError(
            f"expected a JSON calibration in {path}; found invalid JSON: {exc}"
        ) from exc
    if not isinstance(data, dict):
        raise CalibrationError(f"expected a JSON object in {path}; found {type(data).__name__}")
    if any(str(k).startswith("calibration_") for k in data):
        return Calibration.from_attrs(data)
    try:
        if "poly_coeffs" in data:
            data["poly_coeffs"] = tuple(data["poly_coeffs"])
        return Calibration(**data)
    except TypeError as exc:
        raise CalibrationError(f"expected Calibration fields in {path}; {exc}") from exc


def _ingest_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("src", help="folder tree of JPEG/PNG frames with UT times in their names")
    parser.add_argument("dest", help="folder of the NetCDF-4 cubes (created if missing)")
    parser.add_argument("--station", default="JBS", help="station code (default: %(default)s)")
    parser.add_argument(
        "--time-pattern",
        default="%Y%m%d_%H%M%S",
        help="strftime pattern of the UT time in the file names (default: %(default)s)",
    )
    parser.add_argument(
        "--glob", default="**/*", help="files considered, relative to SRC (default: %(default)s)"
    )
    parser.add_argument(
        "--period",
        default="1D",
        help="period of one output file: 1D (days), 6h, 7D, 1MS (months), 1YS "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--frame-suffix",
        default=None,
        help="only files ending with this are frames, e.g. _rgb.png "
        "(default: every .jpg/.jpeg/.png that is not a _mask.png/_kind.png)",
    )
    parser.add_argument(
        "--calibration",
        default=None,
        metavar="JSON",
        help="camera calibration as JSON (Calibration fields or calibration_* attributes); "
        "default: the station's camera scaled to the frame size",
    )
    parser.add_argument(
        "--chunk-frames",
        type=int,
        default=64,
        help="frames read and written per batch (default: %(default)s)",
    )
    parser.add_argument(
        "--report",
        default=None,
        help="also write the JSON report here (always DEST/ingest_report.json)",
    )


def _ingest_run(args: argparse.Namespace) -> int:
    from ..io.ingestion import REPORT_NAME, ingest

    if args.chunk_frames < 1:
        raise OptionError(f"--chunk-frames must be >= 1; found {args.chunk_frames}")
    calibration = _read_calibration(args.calibration) if args.calibration else None
    report = ingest(
        args.src,
        args.dest,
        station=args.station,
        time_pattern=args.time_pattern,
        glob=args.glob,
        period=args.period,
        calibration=calibration,
        chunk_frames=args.chunk_frames,
        frame_suffix=args.frame_suffix,
        progress=args.progress,
        report_path=args.report,
    )
    print(f"ingest: {report.summary()}")
    if not report.skipped:
        return EXIT_OK
    for path, reason in report.skipped[:_SHOW_SKIPPED]:
        _say(f"  skipped {path}: {reason}")
    more = report.n_skipped - _SHOW_SKIPPED
    where = Path(args.dest) / REPORT_NAME
    _say(f"  ... and {more} more; see {where}" if more > 0 else f"  (report: {where})")
    return EXIT_SKIPPED


def _demo_arguments(parser: argparse.ArgumentParser) -> None:
    from .demo import DemoConfig

    defaults = DemoConfig()
    parser.add_argument("--out", default="demo_output", help="output folder (default: %(default)s)")
    parser.add_argument(
        "--days", type=float, default=defaults.days, help="UT days of frames (%(default)s)"
    )
    parser.add_argument(
        "--size", type=int, default=defaults.size, help="frame size in pixels (%(default)s)"
    )
    parser.add_argument("--seed", type=int, default=defaults.seed, help="archive seed")
    parser.add_argument(
        "--arch", default=defaults.arch, help="segmentation architecture (%(default)s)"
    )
    parser.add_argument(
        "--epochs", type=int, default=defaults.epochs, help="training epochs (%(default)s)"
    )
    parser.add_argument(
        "--train-frames",
        type=int,
        default=defaults.train_frames,
        help="synthetic training frames (%(default)s)",
    )
    parser.add_argument(
        "--checkpoint",
        default=None,
        help="segment with this trained model instead of training one (.safetensors)",
    )
    parser.add_argument(
        "--precision",
        default=defaults.predict_precision,
        choices=("fp32", "bf16", "fp16", "auto"),
        help="segmentation precision (%(default)s; auto: bf16 where native)",
    )
    parser.add_argument("--no-figures", dest="figures", action="store_false", help="skip figures")


def _demo_run(args: argparse.Namespace) -> int:
    from .demo import DemoConfig, run_demo

    for name in ("days", "size", "epochs", "train_frames"):
        if getattr(args, name) <= 0:
            raise OptionError(
                f"--{name.replace('_', '-')} must be > 0; found {getattr(args, name)}"
            )
    config = DemoConfig(
        days=args.days,
        size=args.size,
        seed=args.seed,
        arch=args.arch,
        epochs=args.epochs,
        train_frames=args.train_frames,
        figures=args.figures,
        checkpoint=args.checkpoint,
        predict_precision=args.precision,
    )
    run_demo(args.out, config=config, progress=args.progress)
    return EXIT_OK


SUBCOMMANDS: dict[str, Subcommand] = {
    "ingest": Subcommand(
        "turn a folder of JPEG/PNG frames into NetCDF-4 image cubes (one per UT day)",
        _ingest_arguments,
        _ingest_run,
    ),
    **_cli_model.COMMANDS,
    **_cli_pipeline.COMMANDS,
    "demo": Subcommand(
        "the main job on a synthetic archive: generate, ingest, train, segment, "
        "detect with both methods, occurrence maps, compare, write products",
        _demo_arguments,
        _demo_run,
    ),
}


# -- the command ------------------------------------------------------------------------
def _version() -> str:
    from ..cube.build import package_version

    return package_version()


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr (exit 2)."""

    def error(self, message: str) -> NoReturn:
        text = " ".join(message.split())
        self.exit(EXIT_USAGE, f"{self.prog}: error: {text} (see: {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``aurora-xr`` parser with every registered subcommand."""
    common = _Parser(add_help=False)
    common.add_argument(
        "--no-progress", dest="progress", action="store_false", help="no progress bars"
    )
    common.add_argument(
        "--traceback", action="store_true", help="show the full traceback on errors"
    )
    parser = _Parser(
        prog=PROG,
        description="Aurora in all-sky camera images: ingest, train, segment, occurrence maps.",
        epilog="exit codes: 0 ok, 1 error, 2 usage error, 3 finished with skipped files, "
        "130 interrupted",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, command in SUBCOMMANDS.items():
        child = sub.add_parser(name, help=command.help, description=command.help, parents=[common])
        command.add_arguments(child)
    return parser


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if isinstance(exc, OSError) and not isinstance(exc, AuroraXrError) and exc.strerror:
        text = f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return text or type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``aurora-xr`` with ``argv`` (default: ``sys.argv[1:]``); return the exit code.

    Errors of the input (:class:`~aurora_xr.errors.AuroraXrError`, :class:`OSError`,
    and a missing optional dependency) are one line on stderr and exit code 1;
    ``--traceback`` raises them instead.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    command = SUBCOMMANDS[args.command]
    try:
        return int(command.run(args))
    except KeyboardInterrupt:
        _say(f"{PROG} {args.command}: interrupted")
        return EXIT_INTERRUPTED
    except (AuroraXrError, OSError, ImportError) as exc:
        if args.traceback:
            raise
        _say(f"{PROG} {args.command}: error: {_one_line(exc)}")
        return EXIT_ERROR
    finally:
        release_files()


if __name__ == "__main__":  # pragma: no cover - python -m aurora_xr.cli
    sys.exit(main())
