"""The dask scheduler of ``aurora-xr``'s subcommands, and computing under it with progress.

:func:`dask_scheduler` runs a block under dask's local schedulers, a
:class:`dask.distributed.LocalCluster` or a running scheduler; :func:`compute`
computes a lazy result there with a progress bar. Nothing here imports dask or
dask.distributed at import time, so that ``aurora-xr --help`` stays fast.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..errors import OptionError

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["SCHEDULERS", "compute", "dask_scheduler", "default_workers", "worker_threads"]

SCHEDULERS = ("threads", "processes", "synchronous")
"""Scheduler keywords of ``--scheduler`` (besides the address of a running scheduler)."""


def default_workers() -> int:
    """Worker processes of a LocalCluster when ``--workers`` is not given."""
    return max(1, min(os.cpu_count() or 1, 4))


def worker_threads(spec: str, *, workers: int | None) -> int | None:
    """torch threads per LocalCluster worker: the cores shared among the workers.

    None (torch's choice) unless ``spec`` is ``"processes"``.
    """
    if spec != "processes":
        return None
    return max(1, (os.cpu_count() or 1) // (workers or default_workers()))


@contextlib.contextmanager
def dask_scheduler(spec: str, *, workers: int | None = None) -> Iterator[Client | None]:
    """Run the ``with`` block under the dask scheduler named by ``spec``.

    Parameters
    ----------
    spec : str
        ``"threads"`` or ``"synchronous"``: dask's local schedulers (yields
        None). ``"processes"``: a :class:`dask.distributed.LocalCluster` of
        ``workers`` single-threaded worker processes on 127.0.0.1 without a
        dashboard, and a Client on it (safer than dask's multiprocessing
        scheduler for a torch model, which each worker loads once). Anything
        else: the address of a running ``dask.distributed`` scheduler
        (``tcp://host:8786``), connected with ``Client(address)``.
    workers : int, optional
        Worker processes of the LocalCluster (default :func:`default_workers`).

    Yields
    ------
    distributed.Client or None
        The client for ``processes`` and addresses (closed on exit, with the
        cluster it started); None for the local schedulers.

    Raises
    ------
    OptionError
        For a malformed address.
    OSError
        When the scheduler at the address cannot be reached.
    """
    import dask

    if spec in ("threads", "synchronous"):
        with dask.config.set(scheduler=spec):
            yield None
        return
    from distributed import Client, LocalCluster

    with contextlib.ExitStack() as stack:
        if spec == "processes":
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=workers or default_workers(),
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
            )
            client = stack.enter_context(Client(cluster))
        else:
            try:
                client = stack.enter_context(Client(spec))
            except (ValueError, TypeError) as exc:
                raise OptionError(
                    f"expected the address of a dask.distributed scheduler such as "
                    f"tcp://host:8786; found {spec!r} ({exc})"
                ) from exc
        yield client


def compute(obj: Any, *, client: Client | None, desc: str, progress: bool) -> Any:
    """Compute a dask-backed xarray object, with a tqdm bar over its tasks or chunks."""
    from tqdm.auto import tqdm

    if not progress:
        return obj.compute()
    if client is None:
        from tqdm.dask import TqdmCallback

        with TqdmCallback(desc=desc, unit="task", tqdm_class=tqdm):
            return obj.compute()
    from distributed import as_completed, futures_of

    persisted = client.persist(obj)
    futures = futures_of(persisted)
    with tqdm(total=len(futures), desc=desc, unit="chunk") as bar:
        for _ in as_completed(futures):
            bar.update(1)
    return persisted.compute()
