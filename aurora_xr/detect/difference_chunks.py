"""The difference method over a cube's time chunks: each chunk with the tail of the one before.

The partners of a chunk's frames lie in the chunk itself or in the last frames of the
chunk before it (chunks shorter than the largest partner distance are merged first), so
every task reads its own chunk and that tail only: the dask scheduler streams through
the cube with a couple of chunks in memory, and the graph keeps one layer per step
whatever the number of chunks. An in-memory cube is processed in blocks of frames.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dask.array as da
import numpy as np
from numpy.typing import NDArray

from .difference_kernels import chunk_statistic_kernel

__all__ = ["blocked_statistic", "lazy_statistic"]


def _pieces(
    starts: Sequence[int] | NDArray[Any],
    stops: Sequence[int] | NDArray[Any],
    partner_idx: NDArray[np.intp],
) -> list[tuple[int, int, int, NDArray[np.intp]]]:
    """For each block: its start, stop, prefix start and local partner positions."""
    out = []
    for start, stop in zip(starts, stops, strict=True):
        first = int(min(start, partner_idx[start:stop].min())) if stop > start else start
        local = (partner_idx[start:stop] - first).astype(np.intp)
        out.append((int(start), int(stop), first, local))
    return out


def _merge_short_chunks(chunks: Sequence[int], depth: int) -> tuple[int, ...]:
    """Chunks along time merged so that every chunk but the last has ``depth`` frames or more."""
    out: list[int] = []
    run = 0
    for size in chunks:
        run += size
        if run >= depth:
            out.append(run)
            run = 0
    if run:
        if out:
            out[-1] += run
        else:
            out.append(run)
    return tuple(out)


def _tail(block: NDArray[Any], size: NDArray[Any]) -> NDArray[Any]:
    n = int(np.asarray(size).reshape(-1)[0])
    return block[block.shape[0] - n :] if n else block[:0]


def lazy_statistic(
    image: da.Array,
    partner_idx: NDArray[np.intp],
    observed: NDArray[np.bool_],
    cell_index: NDArray[Any],
    kwargs: dict[str, Any],
) -> da.Array:
    """The kernel on every time chunk with the tail of the chunk before it.

    The partners of chunk ``k`` lie in chunk ``k`` or in the last few frames
    of chunk ``k - 1`` (chunks shorter than the largest partner distance are
    merged first). Each task reads its own chunk and that tail only, so the
    dask scheduler streams through the cube with a couple of chunks in memory,
    and the graph keeps one layer per step whatever the number of chunks.
    """
    n = int(image.shape[0])
    own = np.arange(n)
    depth = int(np.max(own - partner_idx)) if n else 0
    chunks = image.chunks[0]
    if depth and min(chunks[:-1], default=depth) < depth:
        image = image.rechunk({0: _merge_short_chunks(chunks, depth)})
        chunks = image.chunks[0]
    bounds = np.cumsum((0, *chunks))
    pieces = _pieces(bounds[:-1], bounds[1:], partner_idx)
    need = [start - first for start, _, first, _ in pieces]  # frames wanted from the previous chunk
    tail_sizes = (*need[1:], 0)  # what each chunk must hand on to the next
    tails = da.blockwise(
        _tail,
        "tyxk",
        image,
        "tyxk",
        da.from_array(np.asarray(tail_sizes, dtype=np.int64), chunks=1),
        "t",
        align_arrays=False,
        concatenate=True,
        adjust_chunks={"t": tail_sizes},
        dtype=image.dtype,
        meta=np.empty((0, 0, 0, 0), dtype=image.dtype),
    )
    empty = da.zeros((0, *image.shape[1:]), dtype=image.dtype, chunks=-1)
    local = da.from_array(np.concatenate([p[3] for p in pieces]), chunks=(chunks,))
    seen = da.from_array(np.asarray(observed, dtype=bool), chunks=(chunks,))
    labels = da.from_array(np.asarray(cell_index), chunks=-1)
    n_cells, n_channels = kwargs["n_cells"], len(kwargs["channel_idx"])

    def apply(frames: da.Array, prefix: da.Array, where: da.Array, ok: da.Array) -> da.Array:
        return da.blockwise(
            chunk_statistic_kernel,
            "tcs",
            frames,
            "tyxk",
            prefix,
            "tyxk",
            where,
            "t",
            ok,
            "t",
            labels,
            "yx",
            new_axes={"c": n_cells, "s": n_channels},
            align_arrays=False,
            concatenate=True,
            dtype=np.float32,
            meta=np.empty((0, 0, 0), dtype=np.float32),
            **kwargs,
        )

    # chunk 0 has no earlier frames; chunk k >= 1 pairs with the tail of chunk k - 1
    first = apply(image.blocks[:1], empty, local.blocks[:1], seen.blocks[:1])
    if len(chunks) == 1:
        return first
    rest = apply(image.blocks[1:], tails.blocks[:-1], local.blocks[1:], seen.blocks[1:])
    return da.concatenate([first, rest], axis=0)


def blocked_statistic(
    image: NDArray[Any],
    partner_idx: NDArray[np.intp],
    observed: NDArray[np.bool_],
    cell_index: NDArray[Any],
    kwargs: dict[str, Any],
    block: int = 64,
) -> NDArray[np.float32]:
    """The kernel over an in-memory cube, ``block`` frames at a time (bounded memory)."""
    n = image.shape[0]
    starts = list(range(0, n, block))
    stops = [min(s + block, n) for s in starts]
    parts = [
        chunk_statistic_kernel(
            image[start:stop],
            image[first:start],
            local,
            observed[start:stop],
            cell_index,
            **kwargs,
        )
        for start, stop, first, local in _pieces(starts, stops, partner_idx)
    ]
    if not parts:
        return np.zeros((0, kwargs["n_cells"], len(kwargs["channel_idx"])), dtype=np.float32)
    return np.concatenate(parts, axis=0)
