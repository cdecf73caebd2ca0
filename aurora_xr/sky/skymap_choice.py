"""Choosing a skymap for each frame time by validity interval, as the operators' tools do.

Operators publish a new skymap when a camera is moved or re-pointed; each is valid from a
start time until the next one (an open end) or a stated stop. For each time,
:func:`skymap_index` picks the skymap whose interval covers it (the one that starts last
when several do). Where none covers a time it takes the nearest skymap in time and warns,
with a :class:`SkymapValidityWarning` that gives both dates.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._times import as_datetime64
from ..errors import AuroraXrWarning, OptionError
from .skymap import Skymap

__all__ = ["SkymapValidityWarning", "select_skymap", "skymap_index"]

_NS_PER_DAY = 86_400_000_000_000


class SkymapValidityWarning(AuroraXrWarning):
    """No skymap's validity interval covers some frame times; the nearest one is used."""


def skymap_index(skymaps: Sequence[Skymap], times: Any, *, warn: bool = True) -> NDArray[np.intp]:
    """Index into ``skymaps`` of the skymap to use at each time.

    Parameters
    ----------
    skymaps : sequence of Skymap
        Candidates (e.g. from :func:`~aurora_xr.sky.skymap_files.read_skymaps`).
    times : array_like of datetime
        Frame times (UTC; datetime64, datetime or ISO strings), any shape.
    warn : bool
        Issue a :class:`SkymapValidityWarning` for times no skymap covers (one warning
        per chosen skymap, naming the first such time, the count and the skymap's dates).

    Returns
    -------
    ndarray of intp, the shape of ``times``
        For each time, the covering skymap that starts last; where none covers it, the
        skymap nearest in time (the earlier one on a tie).

    Raises
    ------
    OptionError
        If ``skymaps`` is empty or a time is missing (NaT).

    Examples
    --------
    >>> import numpy as np
    >>> a = Skymap(np.full((2, 2), 45.0), np.zeros((2, 2)), name="a",
    ...            valid_from=np.datetime64("2020-01-01"))
    >>> b = Skymap(np.full((2, 2), 45.0), np.zeros((2, 2)), name="b",
    ...            valid_from=np.datetime64("2021-01-01"))
    >>> skymap_index([a, b], ["2020-06-01", "2022-01-01"]).tolist()
    [0, 1]
    """
    if len(skymaps) == 0:
        raise OptionError("expected at least one skymap to choose from; found none")
    t = as_datetime64(times)
    if np.isnat(t).any():
        raise OptionError("expected frame times to choose skymaps for; found NaT (a missing time)")
    flat = t.ravel()
    covers = np.stack([s.covers(flat) for s in skymaps])  # (n_skymaps, n_times)
    far_past = np.datetime64("0001-01-01", "s")
    starts = np.array([s.valid_from or far_past for s in skymaps], dtype="datetime64[s]")
    order = np.argsort(starts, kind="stable")  # the covering skymap that starts last wins
    best = np.full(flat.shape, -1, dtype=np.intp)
    for i in order:
        best = np.where(covers[i], i, best)
    uncovered = best < 0
    if uncovered.any():
        dist = np.stack([s.distance_ns(flat[uncovered]) for s in skymaps])
        nearest = order[np.argmin(dist[order], axis=0)]  # ties: the earlier start
        best[uncovered] = nearest
        if warn:
            _warn_uncovered(skymaps, flat[uncovered], nearest, dist)
    return best.reshape(t.shape)


def _warn_uncovered(
    skymaps: Sequence[Skymap],
    times: NDArray[np.datetime64],
    chosen: NDArray[np.intp],
    dist: NDArray[np.int64],
) -> None:
    for i in np.unique(chosen):
        mine = np.flatnonzero(chosen == i)
        first = mine[np.argmax(dist[i, mine])]  # the frame farthest from the interval
        days = dist[i, first] / _NS_PER_DAY
        others = f" and {mine.size - 1} other frame time(s)" if mine.size > 1 else ""
        warnings.warn(
            f"no skymap's validity interval covers {times[first].astype('datetime64[s]')}"
            f"{others}; using the nearest, {skymaps[i].name} (valid "
            f"{skymaps[i].validity_text()}), {days:.1f} days away",
            SkymapValidityWarning,
            stacklevel=3,
        )


def select_skymap(skymaps: Sequence[Skymap], time: Any, *, warn: bool = True) -> Skymap:
    """The skymap to use at one time (see :func:`skymap_index`)."""
    return skymaps[int(skymap_index(skymaps, np.atleast_1d(as_datetime64(time)), warn=warn)[0])]
