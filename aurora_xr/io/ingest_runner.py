"""Running the tasks of an ingest: in this process, in worker processes, or on a dask cluster.

:class:`TaskRunner` maps a picklable function over picklable tasks (batches of files to scan,
output files to write) and yields ``(index, result)`` as tasks complete:

* ``workers=1``: in the calling process, in order;
* ``workers=N``: a pool of N processes (``forkserver`` where the platform has it, else
  ``spawn``; a script that calls ingest with workers must guard its entry point with
  ``if __name__ == "__main__":``, as for any multiprocessing);
* ``scheduler="tcp://host:8786"``: the workers of a running dask.distributed scheduler (which
  must see the source and destination folders); a task whose worker dies is retried by dask.

A worker process that dies (killed, out of memory) stops the run with an
:class:`~aurora_xr.errors.IngestError`; every output finished before is complete (outputs are
renamed into place only when written), and running ingest again resumes.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any, NoReturn, TypeVar

from ..errors import IngestError, OptionError

__all__ = ["TaskRunner"]

T = TypeVar("T")
R = TypeVar("R")

_PRELOAD = ["aurora_xr.io.ingest_warmup"]
_STOP_S = 10.0


def _context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(_PRELOAD)
        return ctx
    return multiprocessing.get_context("spawn")


def _serve(conn: Connection) -> None:
    """A worker process: run ``(fn, task)`` pairs until ``None``; send back each outcome."""
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        fn, task = job
        try:
            conn.send((True, fn(task)))
        except BaseException as exc:  # sent back and raised in the caller
            try:
                conn.send((False, exc))
            except Exception:  # an exception that cannot be pickled
                conn.send((False, IngestError("".join(traceback.format_exception(exc)))))


class _Pool:
    """Worker processes, each fed one task at a time through its own pipe.

    No queue or lock is shared between workers, so a worker that dies (killed, out of
    memory) cannot leave the others or the caller waiting: its death is seen at once.
    """

    def __init__(self, workers: int) -> None:
        ctx = _context()
        self.procs: list[Any] = []
        self.conns: list[Connection] = []
        for _ in range(workers):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_serve, args=(child,), daemon=True)
            proc.start()
            child.close()
            self.procs.append(proc)
            self.conns.append(parent)

    def map(self, fn: Callable[[T], R], tasks: Sequence[T], what: str) -> Iterator[tuple[int, R]]:
        todo = list(enumerate(tasks))[::-1]
        busy: dict[int, int] = {}  # worker -> task index

        def feed(w: int) -> None:
            if todo:
                i, task = todo.pop()
                try:
                    self.conns[w].send((fn, task))
                except OSError:
                    self._broken(what)
                busy[w] = i

        for w in range(len(self.procs)):
            feed(w)
        while busy:
            waiting: dict[Any, int] = {self.conns[w]: w for w in busy}
            waiting.update({self.procs[w].sentinel: w for w in busy})
            for obj in wait(list(waiting)):
                w = waiting[obj]
                if w not in busy:
                    continue
                try:
                    if not self.conns[w].poll(0):  # only its sentinel: it died
                        self._broken(what)
                    ok, value = self.conns[w].recv()
                except (EOFError, OSError):  # died before answering
                    self._broken(what)
                i = busy.pop(w)
                if not ok:
                    raise value
                feed(w)
                yield i, value

    def _broken(self, what: str) -> NoReturn:
        self.close(wait=False)
        raise IngestError(
            f"a worker process stopped (killed or out of memory) while running a {what}; "
            "the outputs finished so far are complete and no partial output is left in "
            "place: run ingest again to resume"
        )

    def close(self, *, wait: bool = True) -> None:
        for proc, conn in zip(self.procs, self.conns, strict=True):
            if wait and proc.is_alive():
                with contextlib.suppress(OSError):
                    conn.send(None)
        for proc in self.procs:
            if wait:
                proc.join(_STOP_S)
            if proc.is_alive():
                proc.terminate()
                proc.join(_STOP_S)
        for conn in self.conns:
            conn.close()
        self.procs, self.conns = [], []


class TaskRunner:
    """Where the tasks of an ingest run (see the module docstring); a context manager.

    Parameters
    ----------
    workers : int
        Worker processes (1: in this process).
    scheduler : str, optional
        Address of a dask.distributed scheduler; overrides ``workers``.
    """

    def __init__(self, *, workers: int = 1, scheduler: str | None = None) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise OptionError(f"workers must be a positive integer; found {workers!r}")
        self.workers = workers
        self.scheduler = scheduler
        self._pool: _Pool | None = None
        self._starting: threading.Thread | None = None
        self._start_error: BaseException | None = None
        self._client: Any = None

    @property
    def parallel(self) -> bool:
        """Whether tasks run outside this process."""
        return self.scheduler is not None or self.workers > 1

    def __enter__(self) -> TaskRunner:
        if self.scheduler is not None:
            from distributed import Client

            try:
                self._client = Client(self.scheduler, timeout="20s", set_as_default=False)
            except OSError as exc:
                raise IngestError(
                    f"expected a running dask.distributed scheduler at {self.scheduler}; "
                    f"cannot connect ({exc})"
                ) from exc
        elif self.workers > 1:  # started in the background while the caller scans the files
            self._starting = threading.Thread(target=self._start_pool, daemon=True)
            self._starting.start()
        return self

    def _start_pool(self) -> None:
        try:
            self._pool = _Pool(self.workers)
        except BaseException as exc:  # raised in the caller by _ready
            self._start_error = exc

    def _ready(self) -> _Pool | None:
        if self._starting is not None:
            self._starting.join()
            self._starting = None
            if self._start_error is not None:
                raise self._start_error
        return self._pool

    def __exit__(self, *exc: object) -> None:
        if self._starting is not None:
            self._starting.join()
            self._starting = None
        if self._pool is not None:
            self._pool.close(wait=exc[0] is None)
            self._pool = None
        if self._client is not None:
            self._client.close()
            self._client = None

    def map(
        self,
        fn: Callable[[T], R],
        tasks: Sequence[T],
        *,
        what: str = "task",
        local: bool = False,
    ) -> Iterator[tuple[int, R]]:
        """``(index, fn(tasks[index]))`` for every task, in order of completion.

        ``local=True`` runs them in this process (e.g. while the worker processes start).
        """
        if local:
            for i, task in enumerate(tasks):
                yield i, fn(task)
            return
        if self._client is not None:
            yield from self._map_distributed(fn, tasks)
            return
        pool = self._ready()
        if pool is not None:
            yield from pool.map(fn, tasks, what)
        else:
            for i, task in enumerate(tasks):
                yield i, fn(task)

    def _map_distributed(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[tuple[int, R]]:
        from distributed import as_completed

        futures = [self._client.submit(fn, task, pure=False) for task in tasks]
        index = {f.key: i for i, f in enumerate(futures)}
        try:
            for future in as_completed(futures, loop=self._client.loop):
                yield index[future.key], future.result()
        finally:
            for future in futures:
                future.release()
