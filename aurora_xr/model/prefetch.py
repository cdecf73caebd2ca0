"""Work ahead in a background thread: the reader that keeps a GPU fed (no torch).

:func:`prefetched` runs ``work(item)`` for the items of a sequence in one
background thread, at most ``depth`` items ahead of the consumer, and yields
the results in order. The predictor uses it on CUDA to copy the next batch
of frames into pinned memory and start its transfer while the GPU computes
the current one (:mod:`aurora_xr.model.inference`); the dask scheduler does
the same one level up, decoding the next chunks from NetCDF in its other
threads while a chunk is on the GPU.

An exception in ``work`` is raised in the consumer, at the item where it
happened; a consumer that stops early (``break``, an exception of its own)
stops the thread before the generator returns, so no work is left running.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from ..errors import OptionError

__all__ = ["prefetched"]

T = TypeVar("T")
R = TypeVar("R")

_DONE = object()


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def prefetched(items: Sequence[T], work: Callable[[T], R], *, depth: int = 2) -> Iterator[R]:
    """``work(item)`` for every item, computed up to ``depth`` items ahead, in order.

    Parameters
    ----------
    items : sequence
        What to work on.
    work : callable
        Called in the background thread, once per item, in order.
    depth : int
        Results that may wait for the consumer (>= 1); one more may be in
        the making. While the consumer holds item ``k``, ``work`` has been
        called for item ``k + depth + 1`` at most.

    Yields
    ------
    The results, in the order of ``items``.

    Examples
    --------
    >>> list(prefetched([1, 2, 3], lambda v: v * 10))
    [10, 20, 30]
    """
    if not isinstance(depth, int) or depth < 1:
        raise OptionError(f"depth must be an int >= 1, found {depth!r}")
    results: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                value: object = work(item)
                while not stop.is_set():
                    try:
                        results.put(value, timeout=0.05)
                        break
                    except queue.Full:
                        continue
        except BaseException as exc:  # handed to the consumer
            _put_until_stopped(results, _Failure(exc), stop)
            return
        _put_until_stopped(results, _DONE, stop)

    thread = threading.Thread(target=produce, name="aurora_xr-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            value = results.get()
            if value is _DONE:
                return
            if isinstance(value, _Failure):
                raise value.exc
            yield value  # type: ignore[misc]
    finally:
        stop.set()
        thread.join()


def _put_until_stopped(results: queue.Queue[object], value: object, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            results.put(value, timeout=0.05)
            return
        except queue.Full:
            continue
