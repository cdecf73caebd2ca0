"""The ``aurora-xr`` command line: one module per command group.

:mod:`~aurora_xr.cli.program` builds the parser and runs a subcommand;
:mod:`~aurora_xr.cli.commands` holds the subcommand record and the exit codes,
:mod:`~aurora_xr.cli.options` the argument types and shared arguments,
:mod:`~aurora_xr.cli.scheduling` the dask scheduler, :mod:`~aurora_xr.cli.inputs` the
cubes and predictors a command opens, :mod:`~aurora_xr.cli.labelled` labelled sources and
:mod:`~aurora_xr.cli.output` the summary lines. The command groups: ``ingest``,
``model`` (train, evaluate), ``segmentation`` (segment), ``analysis`` (occurrence,
compare), ``calibrate`` and ``demo``.

Layer rule: ``cli`` is the top layer; it may import every other layer.
"""

from __future__ import annotations

from .program import (
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
