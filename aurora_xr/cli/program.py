"""The ``aurora-xr`` program: its parser, the registry of subcommands and the entry point.

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
    The files a camera writes (any format of :mod:`aurora_xr.io.formats`) to NetCDF-4
    image cubes, in parallel and resumably.
``train``, ``evaluate``
    Train a segmentation network (resumable) and score a checkpoint.
``segment``
    Segment cubes into a resumable store, region by region.
``occurrence``, ``compare``
    Occurrence products of one detector, or of both compared.
``calibrate``
    A camera's lens from the stars of a clear frame.
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
import sys
from collections.abc import Sequence
from typing import NoReturn

from ..errors import AuroraXrError, OptionError
from . import analysis as _cli_analysis
from . import calibrate as _cli_calibrate
from . import ingest as _cli_ingest
from . import model as _cli_model
from . import segmentation as _cli_segmentation
from .commands import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_SKIPPED,
    EXIT_USAGE,
    PROG,
    Subcommand,
)
from .commands import say as _say
from .inputs import release_files
from .scheduling import SCHEDULERS, compute, dask_scheduler

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
    **_cli_ingest.COMMANDS,
    **_cli_model.COMMANDS,
    **_cli_segmentation.COMMANDS,
    **_cli_analysis.COMMANDS,
    **_cli_calibrate.COMMANDS,
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
