"""Shared fixtures and helpers for the aurora_xr tests."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import dask
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


class CountingScheduler:
    """A dask scheduler that counts computes and fails past ``max_computes``."""

    def __init__(self, max_computes: int = 0) -> None:
        self.total_computes = 0
        self.max_computes = max_computes

    def __call__(self, dsk, keys, **kwargs):  # type: ignore[no-untyped-def]
        self.total_computes += 1
        if self.total_computes > self.max_computes:
            raise RuntimeError(f"Too many computes: {self.total_computes} > {self.max_computes}")
        return dask.get(dsk, keys, **kwargs)


@contextlib.contextmanager
def raise_if_dask_computes(max_computes: int = 0) -> Iterator[CountingScheduler]:
    """Fail if anything inside computes a dask graph (more than ``max_computes`` times)."""
    scheduler = CountingScheduler(max_computes)
    with dask.config.set(scheduler=scheduler):
        yield scheduler


@pytest.fixture
def no_compute():  # type: ignore[no-untyped-def]
    with raise_if_dask_computes() as sched:
        yield sched
