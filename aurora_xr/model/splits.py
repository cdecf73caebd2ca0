"""Which labelled frames train, which validate and which test: by night (numpy only).

Frames of one night are nearly the same picture: an arc drifts for an hour across frames
taken a minute apart. A split by frame puts its neighbours on both sides, and the
validation score measures memory, not skill. So labelled frames are split **by night**:
every frame of a night goes to the same part.

* A **night** runs from local noon to local noon at the site (mean solar time,
  ``UT + longitude / 15 h``; UT noon to noon when the site is unknown) and is named by the
  date on which it starts (:func:`~aurora_xr._times.night_of`).
* Nights are shuffled with the seed and dealt out so that the parts come close to the
  proportions (by default the paper's 1201/150/151 of 1502 frames, 80/10/10): each night
  goes to the part furthest below its share of frames; with three nights or more, the
  validation and test parts get at least one night each (:func:`split_groups`).
* A ``split`` column given with the labels (a manifest's ``split`` column, CVAT's
  ``subset``) wins: ``train``, ``val`` (``valid``, ``validation``, ``dev``) or ``test``,
  any case. Values ``""`` and ``default`` (CVAT's subset when none was set) mean "not
  given"; when no frame gives one, the split is by night.
* Frames without a time cannot be put in a night: a label set with such frames is refused
  (:class:`~aurora_xr.errors.OptionError`) unless its labels give the split, or
  ``split_by="folder"`` groups the frames by the folder of their image file instead.

:func:`split_source` applies the rule to a frame source; :func:`part_indices` finds the
frames of one part again from what a checkpoint recorded (its ``split`` metadata).
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import AuroraXrWarning, OptionError
from .data import DEFAULT_SPLIT, split_indices
from .frame_groups import assigned_parts, group_keys

__all__ = [
    "PARTS",
    "SPLIT_BY",
    "FrameSplit",
    "part_indices",
    "split_groups",
    "split_source",
]

PARTS = ("train", "val", "test")
"""The parts of a split, in the order of :class:`FrameSplit`'s index arrays."""

SPLIT_BY = ("auto", "night", "folder", "labels", "frame")
"""How frames are grouped before they are split (see :func:`split_source`)."""


def split_groups(
    groups: Sequence[Hashable], *, fractions: Sequence[float] = DEFAULT_SPLIT, seed: int = 0
) -> NDArray[np.int8]:
    """Deal whole groups (nights) out to train, validation and test.

    Parameters
    ----------
    groups : (n,) sequence of hashable
        The group of each frame.
    fractions : 3 numbers
        Proportions of frames (train, val, test); normalised by their sum.
    seed : int
        Seeds the order in which the groups are dealt.

    Returns
    -------
    (n,) int8 ndarray
        The part of each frame: 0 train, 1 validation, 2 test. All frames of a group share
        a part. Groups are taken in a seeded random order, and each goes to the part whose
        frames fall furthest below their share (``n * fraction``); with three groups or
        more, every part of positive proportion first gets one group.

    Examples
    --------
    >>> split_groups(["a"] * 8 + ["b"] + ["c"], fractions=(8, 1, 1), seed=0).tolist()
    [0, 0, 0, 0, 0, 0, 0, 0, 1, 2]
    """
    shares = _shares(fractions)
    keys = [str(g) for g in groups]
    names, inverse, counts = np.unique(
        np.asarray(keys, dtype=object), return_inverse=True, return_counts=True
    )
    n = len(keys)
    part_of_group = np.zeros(len(names), dtype=np.int8)
    if n == 0:
        return part_of_group[inverse]
    order = np.random.default_rng(int(seed)).permutation(len(names))
    filled = np.zeros(3)
    first = 0
    wanted = [p for p in (1, 2) if shares[p] > 0]
    if len(names) >= 3:
        for part in wanted:
            part_of_group[order[first]] = part
            filled[part] += counts[order[first]]
            first += 1
    targets = n * shares
    for g in order[first:]:
        part = int(np.argmax(targets - filled))  # ties: train, then validation
        part_of_group[g] = part
        filled[part] += counts[g]
    return part_of_group[inverse]


def _shares(fractions: Sequence[float]) -> NDArray[np.float64]:
    try:
        values = np.array([float(f) for f in fractions], dtype=float)
    except (TypeError, ValueError) as exc:
        raise OptionError(f"split must be 3 numbers (train, val, test), found {fractions}") from exc
    if values.shape != (3,) or values.min() < 0 or values[0] <= 0 or not np.isfinite(values).all():
        raise OptionError(
            "split must be 3 proportions >= 0 (train, val, test) with a positive training "
            f"share, found {fractions}"
        )
    return values / values.sum()


@dataclass(frozen=True)
class FrameSplit:
    """The frames of each part, and how they were chosen.

    Attributes
    ----------
    train, val, test : int64 ndarrays
        Sorted frame indices of each part.
    by : str
        ``"night"``, ``"folder"``, ``"labels"`` or ``"frame"``.
    groups : dict
        For ``"night"`` and ``"folder"``: the groups (night dates, folders) of each part.
    longitude : float or None
        The site's east longitude that local nights were counted with (None: UT).
    """

    train: NDArray[np.int64]
    val: NDArray[np.int64]
    test: NDArray[np.int64]
    by: str
    groups: dict[str, list[str]] = field(default_factory=dict)
    longitude: float | None = None

    @property
    def sizes(self) -> tuple[int, int, int]:
        """Frames in train, validation, test."""
        return len(self.train), len(self.val), len(self.test)

    def part(self, name: str) -> NDArray[np.int64]:
        """The frames of part ``name`` (``"train"``, ``"val"``, ``"test"``)."""
        if name not in PARTS:
            raise OptionError(f"a split part is one of {PARTS}, found {name!r}")
        return (self.train, self.val, self.test)[PARTS.index(name)]

    def describe(self) -> str:
        """One line: how the frames were split, and into how many groups."""
        sizes = "/".join(str(s) for s in self.sizes)
        if self.by in ("night", "folder"):
            counts = "/".join(str(len(self.groups.get(p, []))) for p in PARTS)
            if self.by == "folder":
                where = ""
            elif self.longitude is None:
                where = " (UT noon to noon)"
            else:
                where = f" (local noon to noon, longitude {self.longitude:g})"
            return f"by {self.by}{where}: {sizes} frames in {counts} {self.by}s"
        if self.by == "labels":
            return f"as the labels' split column says: {sizes} frames"
        return f"by frame (seeded): {sizes} frames"

    def to_metadata(self, fractions: Sequence[float], seed: int) -> dict[str, Any]:
        """What a checkpoint records of the split (JSON-safe)."""
        out: dict[str, Any] = {
            "fractions": [float(f) for f in fractions],
            "seed": int(seed),
            "sizes": list(self.sizes),
        }
        if self.by != "frame":
            out["by"] = self.by
            out["longitude"] = self.longitude
            if self.groups:
                out["groups"] = {p: list(self.groups.get(p, [])) for p in PARTS}
        return out


def split_source(
    src: Any,
    *,
    fractions: Sequence[float] = DEFAULT_SPLIT,
    seed: int = 0,
    by: str = "auto",
    longitude: float | None = None,
) -> FrameSplit:
    """Split the frames of a source into train, validation and test.

    Parameters
    ----------
    src : FrameSource
        The labelled frames. A label set's source carries ``times``, ``sources`` (image
        files) and ``assigned_split`` (the labels' split column, or None).
    fractions : 3 numbers
        Proportions (train, val, test) of frames; default the paper's 1201/150/151.
    seed : int
        Seeds the split.
    by : {"auto", "night", "folder", "labels", "frame"}
        ``"auto"``: the labels' split column when they give one, else by night for a label
        set, by frame (as :func:`~aurora_xr.model.data.split_indices`) for an image cube or
        a synthetic frame folder. ``"night"``: whole nights (every frame needs a time);
        ``"folder"``: whole folders of image files; ``"labels"``: the labels' split column;
        ``"frame"``: a seeded split of single frames.
    longitude : float, optional
        East longitude of the site: nights from local noon (default: UT noon).

    Returns
    -------
    FrameSplit

    Raises
    ------
    OptionError
        For an unknown ``by``, frames without a time in a night split, or a split column
        that is incomplete or names no part.
    """
    if by not in SPLIT_BY:
        raise OptionError(f"split_by must be one of {SPLIT_BY}, found {by!r}")
    shares = _shares(fractions)
    assigned_values = getattr(src, "assigned_split", None)
    assigned = None if assigned_values is None else assigned_parts(assigned_values)
    if by == "auto":
        if assigned is not None:
            by = "labels"
        else:
            by = "night" if getattr(src, "times", None) is not None else "frame"
    if by == "labels":
        if assigned is None:
            raise OptionError(
                "split_by='labels' needs a split column in the labels (manifest "
                "image,mask,split or CVAT subsets); these labels give none"
            )
        parts = assigned.astype(np.int8)
        return _frame_split(parts, by="labels")
    if by == "frame":
        train, val, test = split_indices(len(src), fractions=fractions, seed=seed)
        return FrameSplit(train=train, val=val, test=test, by="frame")
    keys = group_keys(src, by, longitude)
    parts = split_groups(keys, fractions=list(shares), seed=seed)
    groups = {
        name: sorted({k for k, p in zip(keys, parts, strict=True) if p == i})
        for i, name in enumerate(PARTS)
    }
    result = _frame_split(parts, by=by, groups=groups, longitude=longitude)
    if len(set(keys)) < 3 and (shares[1] > 0 or shares[2] > 0):
        warnings.warn(
            f"the {len(src)} labelled frames come from {len(set(keys))} {by}(s): too few to "
            "hold some out, so there are no validation or test frames. Label frames of more "
            f"{by}s (or pass split_by='frame', which lets neighbouring frames leak)",
            AuroraXrWarning,
            stacklevel=3,
        )
    return result


def _frame_split(
    parts: NDArray[np.int8],
    *,
    by: str,
    groups: dict[str, list[str]] | None = None,
    longitude: float | None = None,
) -> FrameSplit:
    train, val, test = (np.flatnonzero(parts == i).astype(np.int64) for i in range(3))
    return FrameSplit(
        train=train, val=val, test=test, by=by, groups=groups or {}, longitude=longitude
    )


def part_indices(src: Any, split_info: Mapping[str, Any] | None, part: str) -> NDArray[np.int64]:
    """The frames of ``src`` in part ``part`` of the split a checkpoint recorded.

    Parameters
    ----------
    src : FrameSource
        The labelled frames (the set the checkpoint was trained on, or a grown copy).
    split_info : mapping or None
        The checkpoint's ``split`` metadata (:meth:`FrameSplit.to_metadata`); None: the
        default proportions, seed 0, by frame.
    part : {"train", "val", "test"}

    Returns
    -------
    int64 ndarray
        For a split by night or folder, the frames of the nights (folders) recorded for
        that part; for the labels' split, the frames whose split column names it; else the
        seeded split by frame with the recorded proportions and seed.
    """
    if part not in PARTS:
        raise OptionError(f"a split part is one of {PARTS}, found {part!r}")
    info = dict(split_info or {})
    by = str(info.get("by", "frame"))
    if by in ("night", "folder") and isinstance(info.get("groups"), Mapping):
        longitude = info.get("longitude")
        keys = group_keys(src, by, None if longitude is None else float(longitude))
        wanted = set(info["groups"].get(part, []))
        return np.array([i for i, k in enumerate(keys) if k in wanted], dtype=np.int64)
    if by == "labels":
        return split_source(src, by="labels").part(part)
    fractions = info.get("fractions") or DEFAULT_SPLIT
    seed = int(info.get("seed", 0))
    return split_indices(len(src), fractions=fractions, seed=seed)[PARTS.index(part)]
