"""What a subcommand of ``aurora-xr`` is and how it ends: its record, the exit codes, errors.

A :class:`Subcommand` is registered in :data:`aurora_xr.cli.SUBCOMMANDS`; its runner returns
one of the ``EXIT_*`` codes. :func:`say` writes one line on stderr, and :func:`cli_wording`
rewords an error that names a Python argument with the option of the command line.
:mod:`aurora_xr.cli` re-exports the public names.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..errors import AuroraXrError

__all__ = [
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_SKIPPED",
    "EXIT_USAGE",
    "PROG",
    "Subcommand",
    "cli_wording",
    "say",
]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_SKIPPED = 3
EXIT_INTERRUPTED = 130

PROG = "aurora-xr"


@dataclass(frozen=True)
class Subcommand:
    """A subcommand: one-line help, an argument adder and a runner."""

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def say(text: str) -> None:
    """One line on stderr."""
    print(text, file=sys.stderr)


@contextlib.contextmanager
def cli_wording(*replacements: tuple[str, str]) -> Iterator[None]:
    """Reword an error message that names a Python argument (``overwrite=True``).

    The error keeps its class; only messages that contain one of the ``(old,
    new)`` texts are changed.
    """
    try:
        yield
    except AuroraXrError as exc:
        text = str(exc)
        changed = text
        for old, new in replacements:
            changed = changed.replace(old, new)
        if changed == text:
            raise
        raise type(exc)(changed) from exc
