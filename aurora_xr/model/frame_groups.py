"""What holds labelled frames together in a split: their night, folder or split label.

:func:`~aurora_xr._times.night_of` names the night of each frame (local noon to noon at the
site, UT noon to noon when the site is unknown); :func:`folder_keys` the folder of its image file;
:func:`assigned_parts` reads the labels' own ``split`` column; :func:`group_keys` gives the
groups of a frame source for :func:`~aurora_xr.model.splits.split_source` (numpy only).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePath
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._times import night_of
from ..errors import OptionError

__all__ = ["assigned_parts", "folder_keys", "group_keys", "source_times"]

_ALIASES = {
    "train": 0,
    "training": 0,
    "val": 1,
    "valid": 1,
    "validation": 1,
    "dev": 1,
    "test": 2,
    "testing": 2,
}
_NOT_GIVEN = frozenset({"", "default", "none", "nan"})


def folder_keys(sources: Sequence[str]) -> list[str]:
    """The folder of each image file (``split_by="folder"``)."""
    return [str(PurePath(str(s)).parent) for s in sources]


def assigned_parts(values: Sequence[Any]) -> NDArray[np.int8] | None:
    """The part each frame's ``split`` value names (0 train, 1 val, 2 test), or None.

    None when no frame gives a value (all empty or ``default``).

    Raises
    ------
    OptionError
        For a value that names no part, or when some frames give one and others not.
    """
    text = [str(v).strip().lower() for v in values]
    given = [t not in _NOT_GIVEN for t in text]
    if not any(given):
        return None
    unknown = sorted({t for t, g in zip(text, given, strict=True) if g and t not in _ALIASES})
    if unknown:
        raise OptionError(
            f"the labels' split column must say train, val or test; found {unknown[:5]} "
            "(pass split_by='night' to split by night instead)"
        )
    missing = given.count(False)
    if missing:
        raise OptionError(
            f"{missing} of {len(text)} frames have no value in the labels' split column; give "
            "every frame train, val or test, or pass split_by='night' to split by night"
        )
    return np.array([_ALIASES[t] for t in text], dtype=np.int8)


def source_times(src: Any) -> NDArray[np.datetime64] | None:
    """The frame times of a source (its ``times``, or ids that are times), or None."""
    times = getattr(src, "times", None)
    if times is not None:
        return np.asarray(times, dtype="datetime64[ns]")
    try:
        parsed = np.array([np.datetime64(str(i), "ns") for i in src.ids])
    except ValueError:
        return None
    return parsed if len(parsed) == len(src) else None


def group_keys(src: Any, by: str, longitude: float | None) -> list[str]:
    """The night (or folder) of every frame of ``src``."""
    if by == "folder":
        sources = getattr(src, "sources", None)
        if sources is None:
            raise OptionError(
                "split_by='folder' needs the image file of every frame (a label set); "
                f"this {type(src).__name__} has none"
            )
        return folder_keys(sources)
    times = source_times(src)
    if times is None:
        raise OptionError(
            f"split_by='night' needs the time of every frame; this {type(src).__name__} has none"
        )
    missing = np.isnat(times)
    if missing.any():
        ids = [src.ids[i] for i in np.flatnonzero(missing)[:3]]
        raise OptionError(
            f"{int(missing.sum())} of {len(times)} frames have no time (e.g. {ids}), so they "
            "cannot be split by night: read the labels with the time_pattern of their file "
            "names, give a split column (manifest: image,mask,split), or pass "
            "split_by='folder' to keep the frames of each folder together"
        )
    return [str(k) for k in night_of(times, longitude)]
