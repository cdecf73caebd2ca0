"""Which frame to label next: model uncertainty, spread over nights, MLT and sky conditions.

Active learning for a labelling session. A frame is worth labelling when the model is unsure
of it (:func:`frame_uncertainty`: the mean binary entropy of its aurora probability inside the
lens, or the fraction of lens pixels near 0.5), and when frames like it are not labelled yet:
frames are grouped into *strata* by night, MLT bin and sky condition, and
:func:`rank_for_labelling` picks greedily, again and again, the most uncertain frame of the
least covered stratum (fewest frames labelled or picked so far). The result spreads the labels
over the nights, magnetic local times and conditions of the archive instead of spending them
on one stormy night. Everything here is numpy and works without the widget.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._times import night_of
from ..errors import OptionError
from ..geo.mlt import station_mlt

__all__ = [
    "UNCERTAINTY_METHODS",
    "frame_uncertainty",
    "labelling_strata",
    "rank_for_labelling",
]

UNCERTAINTY_METHODS = ("entropy", "margin")
UNKNOWN = "unknown"


def frame_uncertainty(
    probability: ArrayLike,
    *,
    lens: ArrayLike | None = None,
    method: str = "entropy",
    band: float = 0.1,
) -> NDArray[np.float64]:
    """How unsure the model is of each frame.

    Parameters
    ----------
    probability : (n, H, W) or (H, W) array_like of float
        Aurora probability in [0, 1] (NaN pixels are left out).
    lens : (H, W) array_like of bool, optional
        The pixels inside the lens (default: all).
    method : {"entropy", "margin"}
        ``"entropy"``: mean binary entropy ``-p log2 p - (1 - p) log2 (1 - p)`` over the lens,
        in bits (0 for a sure frame, 1 when every pixel is 0.5). ``"margin"``: the fraction
        of lens pixels with ``|p - 0.5| < band``.
    band : float
        Half-width of the band around 0.5 for ``"margin"``.

    Returns
    -------
    (n,) ndarray of float64
        NaN for a frame with no valid pixel.

    Examples
    --------
    >>> frame_uncertainty(np.full((1, 2, 2), 0.5)).tolist()
    [1.0]
    >>> frame_uncertainty([[[0.0, 1.0], [0.45, 0.9]]], method="margin").tolist()
    [0.25]
    """
    p = np.asarray(probability, dtype=np.float64)
    if p.ndim == 2:
        p = p[None]
    if p.ndim != 3:
        raise OptionError(f"expected probabilities (n, H, W) or (H, W); found shape {p.shape}")
    if method not in UNCERTAINTY_METHODS:
        raise OptionError(f"method must be one of {UNCERTAINTY_METHODS}; found {method!r}")
    inside = np.ones(p.shape[1:], dtype=bool) if lens is None else np.asarray(lens, dtype=bool)
    if inside.shape != p.shape[1:]:
        raise OptionError(f"lens shape {inside.shape} differs from the frames' {p.shape[1:]}")
    valid = np.isfinite(p) & inside[None]
    q = np.clip(np.where(valid, p, 0.5), 0.0, 1.0)
    if method == "entropy":
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = -(q * np.log2(q)) - (1.0 - q) * np.log2(1.0 - q)
        values = np.nan_to_num(terms, nan=0.0)
    else:
        values = (np.abs(q - 0.5) < band).astype(np.float64)
    count = valid.sum(axis=(1, 2))
    total = np.where(valid, values, 0.0).sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def labelling_strata(
    times: ArrayLike | None = None,
    *,
    n: int | None = None,
    station: tuple[float, float] | None = None,
    mlt: ArrayLike | None = None,
    mlt_bins: int = 8,
    conditions: Sequence[Hashable] | None = None,
) -> list[tuple[Hashable, Hashable, Hashable]]:
    """The stratum ``(night, MLT bin, condition)`` of each frame.

    Parameters
    ----------
    times : (n,) array_like of datetime64, optional
        UT times (NaT where unknown): nights from :func:`~aurora_xr._times.night_of`, and
        MLT when ``station`` is given and ``mlt`` is not.
    n : int, optional
        Number of frames, when ``times`` is None.
    station : tuple of float, optional
        The camera's position ``(latitude, longitude)`` in degrees: local nights, and MLT by
        AACGM-v2 at 110 km.
    mlt : (n,) array_like of float, optional
        Magnetic local time of each frame (hours; NaN where unknown).
    mlt_bins : int
        Equal MLT bins over 24 h (bin ``k`` covers ``[24 k / mlt_bins, 24 (k + 1) / mlt_bins)``).
    conditions : sequence of hashable, optional
        A sky condition per frame (``"moon"``, ``"cloudy"``, ...).

    Returns
    -------
    list of (night, MLT bin, condition)
        ``"unknown"`` where a part is not known.
    """
    if times is None and n is None:
        raise OptionError("give times or n (the number of frames)")
    t = None if times is None else np.asarray(times, dtype="datetime64[ns]").reshape(-1)
    count = int(t.size) if t is not None else int(n or 0)
    if mlt_bins < 1:
        raise OptionError(f"expected mlt_bins >= 1; found {mlt_bins}")
    nights: list[Hashable] = [UNKNOWN] * count
    if t is not None:
        lon = None if station is None else station[1]
        nights = [UNKNOWN if np.isnat(d) else str(d) for d in night_of(t, lon)]
    hours = np.full(count, np.nan)
    if mlt is not None:
        hours = np.asarray(mlt, dtype=np.float64).reshape(-1)
    elif t is not None and station is not None:
        known = ~np.isnat(t)
        if known.any():
            hours[known] = station_mlt(t[known], station[0], station[1])
    if hours.size != count:
        raise OptionError(f"expected {count} MLT values; found {hours.size}")
    bins: list[Hashable] = [
        UNKNOWN if not np.isfinite(h) else int(np.floor(h % 24.0 / 24.0 * mlt_bins)) % mlt_bins
        for h in hours
    ]
    conds: list[Hashable] = [UNKNOWN] * count if conditions is None else list(conditions)
    if len(conds) != count:
        raise OptionError(f"expected {count} conditions; found {len(conds)}")
    return list(zip(nights, bins, conds, strict=True))


def rank_for_labelling(
    uncertainty: ArrayLike,
    *,
    strata: Sequence[Hashable] | None = None,
    labelled: ArrayLike | None = None,
    count: int | None = None,
) -> NDArray[np.int64]:
    """The unlabelled frames in the order to label them.

    Greedy: each step takes the stratum with the fewest frames labelled or already picked
    (ties: the one whose best remaining frame is more uncertain, then the one whose best
    frame comes first) and picks its most uncertain unlabelled frame (ties: the first).

    Parameters
    ----------
    uncertainty : (n,) array_like of float
        Per-frame uncertainty (:func:`frame_uncertainty`); NaN for frames not scored, which
        come after every scored frame of their stratum. Without a model pass zeros: the
        ranking then only spreads the frames over the strata, in frame order.
    strata : sequence of hashable, optional
        Stratum of each frame (:func:`labelling_strata`); default one stratum.
    labelled : (n,) array_like of bool, optional
        Frames labelled already: they count for their stratum and are never picked.
    count : int, optional
        Return at most this many frames.

    Returns
    -------
    ndarray of int64
        Frame positions, first to label first.

    Examples
    --------
    >>> rank_for_labelling([0.2, 0.9, 0.5, 0.1], strata=["a", "a", "b", "b"]).tolist()
    [1, 2, 0, 3]
    >>> rank_for_labelling([0.2, 0.9, 0.5, 0.1], strata=["a", "a", "b", "b"],
    ...                    labelled=[False, False, True, False]).tolist()
    [1, 0, 3]
    """
    u = np.asarray(uncertainty, dtype=np.float64).reshape(-1)
    n = u.size
    keys: list[Any] = [0] * n if strata is None else list(strata)
    done = np.zeros(n, dtype=bool) if labelled is None else np.asarray(labelled, dtype=bool)
    if len(keys) != n or done.shape != (n,):
        raise OptionError(
            f"expected {n} strata and labelled flags; found {len(keys)} and {done.shape[0]}"
        )
    ids: dict[Any, int] = {}
    stratum = np.array([ids.setdefault(k, len(ids)) for k in keys], dtype=np.int64)
    coverage = np.bincount(stratum[done], minlength=len(ids))
    # each stratum's unlabelled frames, best first: scored before unscored, most uncertain first
    order = np.lexsort((np.arange(n), -np.nan_to_num(u, nan=-np.inf), np.isnan(u), stratum))
    pools: list[list[int]] = [[] for _ in ids]
    for i in order[~done[order]]:
        pools[stratum[i]].append(int(i))
    for pool in pools:
        pool.reverse()  # pop() from the end gives the best

    def entry(s: int) -> tuple[int, float, int, int]:
        best = pools[s][-1]
        score = -u[best] if np.isfinite(u[best]) else np.inf
        return int(coverage[s]), float(score), best, s

    heap = [entry(s) for s in range(len(pools)) if pools[s]]
    heapq.heapify(heap)
    limit = int((~done).sum()) if count is None else max(0, min(int(count), int((~done).sum())))
    picked: list[int] = []
    while heap and len(picked) < limit:
        s = heapq.heappop(heap)[3]
        picked.append(pools[s].pop())
        coverage[s] += 1
        if pools[s]:
            heapq.heappush(heap, entry(s))
    return np.asarray(picked, dtype=np.int64)
