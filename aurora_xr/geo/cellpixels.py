"""Per-cell sums of pixel values: the numpy kernel shared by both detectors.

A cell label image ``cell_index`` (``(H, W)`` integers, ``-1`` outside the
grid) is turned once into a :class:`CellPixels`: the flat indices of the
labelled pixels sorted by cell and the offset where each cell starts. A sum
over every cell of every frame is then one gather and one
:func:`numpy.add.reduceat` along the pixel axis: no Python loop over cells or
frames, and no ``np.add.at``. :func:`aurora_xr.cube.grid.resolve_cells` finds the
label image of a cube.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

from ..errors import CellLayoutError, DtypeError, FrameSizeError

__all__ = ["CellPixels", "cell_pixels"]


@dataclass(frozen=True, eq=False)
class CellPixels:
    """Pixels of an image grouped by cell.

    Attributes
    ----------
    n_cells : int
        Number of cells (labels ``0 .. n_cells - 1``).
    order : (P,) ndarray of intp
        Flat indices (row-major over ``(H, W)``) of the labelled pixels, sorted by cell.
    starts : (K,) ndarray of intp
        Offset in ``order`` where each non-empty cell starts.
    nonempty : (K,) ndarray of intp
        Labels of the non-empty cells, ascending.
    counts : (n_cells,) ndarray of int64
        Number of pixels of each cell (0 for an empty cell).
    n_pixels : int
        ``H * W``.
    """

    n_cells: int
    order: NDArray[np.intp]
    starts: NDArray[np.intp]
    nonempty: NDArray[np.intp]
    counts: NDArray[np.int64]
    n_pixels: int

    @classmethod
    def from_index(cls, cell_index: NDArray[Any], n_cells: int | None = None) -> CellPixels:
        """Build the layout of a ``(H, W)`` label image (``-1`` or below: no cell)."""
        labels = np.asarray(cell_index)
        if labels.ndim != 2:
            raise FrameSizeError(f"expected a 2-D cell_index (y, x); found shape {labels.shape}")
        if not np.issubdtype(labels.dtype, np.integer):
            raise DtypeError(f"expected an integer cell_index; found dtype {labels.dtype}")
        flat = labels.ravel().astype(np.int64, copy=False)
        top = int(flat.max()) + 1 if flat.size else 0
        if n_cells is None:
            n_cells = top
        if top > n_cells:
            raise CellLayoutError(
                f"cell_index holds label {top - 1} but the grid has only {n_cells} cells"
            )
        inside = np.flatnonzero(flat >= 0)
        order = inside[np.argsort(flat[inside], kind="stable")]
        sorted_labels = flat[order]
        counts = np.bincount(sorted_labels, minlength=n_cells).astype(np.int64)
        nonempty = np.flatnonzero(counts).astype(np.intp)
        starts = np.searchsorted(sorted_labels, nonempty, side="left").astype(np.intp)
        return cls(
            n_cells=int(n_cells),
            order=order.astype(np.intp),
            starts=starts,
            nonempty=nonempty,
            counts=counts,
            n_pixels=int(flat.size),
        )

    def gather(self, values: NDArray[Any], channels: Sequence[int] | None = None) -> NDArray[Any]:
        """The labelled pixels of ``values``, sorted by cell.

        Parameters
        ----------
        values : (T, P) or (T, P, K) ndarray
            Flattened frames (``P = H * W``).
        channels : sequence of int, optional
            For 3-D ``values``: the positions on the last axis to keep, gathered
            in the same pass.

        Returns
        -------
        (T, len(order)) or (T, len(order), len(channels)) ndarray
        """
        if channels is None or values.ndim == 2:
            return np.take(values, self.order, axis=1)
        t, p, k = values.shape
        flat_index = self.order[:, None] * k + np.asarray(channels, dtype=np.intp)[None, :]
        return np.take(values.reshape(t, p * k), flat_index, axis=1)

    def sums(self, gathered: NDArray[Any], *, dtype: DTypeLike = np.int64) -> NDArray[Any]:
        """Per-cell sums of already gathered values.

        Parameters
        ----------
        gathered : (T, len(order), ...) ndarray
            Output of :meth:`gather` (or any values in the same pixel order).
        dtype : dtype
            Accumulator type (bool and small integer inputs need a wider one).

        Returns
        -------
        (T, n_cells, ...) ndarray
            Sums per frame and cell; 0 for empty cells.
        """
        shape = (gathered.shape[0], self.n_cells, *gathered.shape[2:])
        out = np.zeros(shape, dtype=dtype)
        if self.nonempty.size and gathered.shape[0]:
            source = gathered.view(np.uint8) if gathered.dtype == np.bool_ else gathered
            out[:, self.nonempty] = np.add.reduceat(source, self.starts, axis=1, dtype=dtype)
        return out

    def means(self, gathered: NDArray[Any], *, dtype: DTypeLike = np.int64) -> NDArray[np.float64]:
        """Per-cell means (NaN for empty cells) of gathered values, summed in ``dtype``."""
        total = self.sums(gathered, dtype=dtype)
        counts = self.counts.reshape((1, -1) + (1,) * (gathered.ndim - 2))
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(total / counts, dtype=np.float64)


def cell_pixels(cell_index: NDArray[Any], n_cells: int | None = None) -> CellPixels:
    """A :class:`CellPixels`, cached per process for label images seen before.

    Dask tasks receive the small label image and rebuild the layout; the cache
    makes that a hash instead of an argsort for every chunk.
    """
    labels = np.ascontiguousarray(np.asarray(cell_index), dtype=np.int32)
    digest = hashlib.blake2b(labels.tobytes(), digest_size=16).digest()
    ident = (digest, labels.shape, n_cells)
    with _LOCK:
        layout = _CELL_PIXELS.get(ident)
    if layout is None:
        layout = CellPixels.from_index(labels, n_cells)
        with _LOCK:
            if len(_CELL_PIXELS) >= 8:
                _CELL_PIXELS.pop(next(iter(_CELL_PIXELS)))
            _CELL_PIXELS[ident] = layout
    return layout


_LOCK = threading.Lock()
_CELL_PIXELS: dict[tuple[bytes, tuple[int, ...], int | None], CellPixels] = {}
