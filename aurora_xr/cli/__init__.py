"""The ``aurora-xr`` command line: one module per command group.

:mod:`~aurora_xr.cli.main` builds the parser and runs a subcommand; ``base`` holds the
shared options, the dask scheduler and the exit codes; ``model`` the ``train`` and
``evaluate`` commands; ``pipeline`` ``segment``, ``occurrence`` and ``compare``;
``demo`` the main job on a synthetic archive.

Layer rule: ``cli`` is the top layer; it may import every other layer.
"""

from __future__ import annotations

from .main import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_SKIPPED,
    EXIT_USAGE,
    SCHEDULERS,
    SUBCOMMANDS,
    Subcommand,
    build_parser,
    compute,
    dask_scheduler,
    main,
)

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
