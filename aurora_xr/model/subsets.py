"""Some frames of a frame source, as a frame source of their own (numpy only).

:class:`FrameSubset` lets any step that takes a frame source (evaluation, the report) work
on one part of a split, e.g. the test nights of a label set:
``evaluate(model, FrameSubset(src, part_indices(src, meta.split, "test")), split="all")``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import OptionError

__all__ = ["FrameSubset"]


class FrameSubset:
    """The frames ``indices`` of ``source``, in that order.

    Parameters
    ----------
    source : FrameSource
        The frames (its lens, ids, times, image files and split labels carry over).
    indices : sequence of int
        Positions in ``source``.
    """

    def __init__(self, source: Any, indices: Sequence[int] | NDArray[np.integer[Any]]) -> None:
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        if idx.size and (idx.min() < 0 or idx.max() >= len(source)):
            raise OptionError(
                f"frame positions must lie in 0..{len(source) - 1}; found {idx.min()}..{idx.max()}"
            )
        self.source = source
        self.indices = idx
        self.times = _pick(getattr(source, "times", None), idx)
        self.sources = _pick(getattr(source, "sources", None), idx)
        self.assigned_split = _pick(getattr(source, "assigned_split", None), idx)
        self.lens_origin = getattr(source, "lens_origin", None)

    @property
    def frame_shape(self) -> tuple[int, int]:
        return tuple(self.source.frame_shape)

    @property
    def lens_mask(self) -> NDArray[np.bool_] | None:
        return self.source.lens_mask

    @property
    def ids(self) -> list[str]:
        ids = self.source.ids
        return [ids[i] for i in self.indices]

    def __len__(self) -> int:
        return int(self.indices.size)

    def read(self, indices: Sequence[int]) -> tuple[NDArray[Any], NDArray[np.bool_]]:
        return self.source.read(self.indices[np.asarray(indices, dtype=np.int64)].tolist())

    def checksum(self) -> str:
        """SHA-256 of the source's checksum and the positions taken."""
        digest = hashlib.sha256(str(self.source.checksum()).encode())
        digest.update(self.indices.tobytes())
        return digest.hexdigest()


def _pick(values: Any, idx: NDArray[np.int64]) -> Any:
    if values is None:
        return None
    if isinstance(values, np.ndarray):
        return values[idx]
    return [values[i] for i in idx]
