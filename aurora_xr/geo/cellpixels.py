"""Per-cell sums of pixel values: the numpy kernel shared by both detectors.

A cell label image ``cell_index`` (``(H, W)`` integers, ``-1`` outside the
grid) is turned once into a :class:`CellPixels`: the flat indices of the
labelled pixels sorted by cell and the offset where each cell starts. A sum
over every cell of every frame is then one gather and one
:func:`numpy.add.reduceat` along the pixel axis: no Python loop over cells or
frames, and no ``np.add.at``.

:func:`resolve_cells` is the xarray side: it finds the cell grid of a cube
(given, already in the cube, or built by :func:`aurora_xr.geo.cells.cell_grid`).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import DTypeLike, NDArray

from ..errors import CellLayoutError, DtypeError, FrameSizeError, MissingVariableError

__all__ = ["CellPixels", "cell_coords", "cell_pixels", "resolve_cells"]


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


def resolve_cells(
    ds: xr.Dataset,
    cells: xr.Dataset | xr.DataArray | None = None,
    *,
    n_cells: int = 400,
    min_elevation: float = 10.0,
    altitude_km: float = 110.0,
    time_dim: Hashable = "time",
    y_dim: Hashable = "y",
    x_dim: Hashable = "x",
    cell_dim: Hashable = "cell",
) -> tuple[xr.DataArray, int, xr.Dataset | None]:
    """The cell grid to use with a cube.

    Parameters
    ----------
    ds : xarray.Dataset
        The image cube (only its sizes, attributes and coordinates are read).
    cells : xarray.Dataset or xarray.DataArray, optional
        A cell grid (Dataset with ``cell_index``) or a bare ``cell_index``.
        When omitted, the cube's own ``cell_index`` is used if it has one,
        else :func:`aurora_xr.geo.cells.cell_grid` builds one with ``n_cells``,
        ``min_elevation`` and ``altitude_km``.

    Returns
    -------
    cell_index : xarray.DataArray
        ``(y, x)`` int32 labels, ``-1`` outside the grid, in memory.
    n_cells : int
        Number of cells.
    grid : xarray.Dataset or None
        The grid's variables on ``cell_dim`` (to attach as coordinates), if known.
    """
    grid: xr.Dataset | None
    if cells is None:
        if "cell_index" in ds.variables:
            grid = ds
        else:
            from . import cells as cells_module

            grid = cells_module.cell_grid(
                ds,
                n_cells=n_cells,
                min_elevation=min_elevation,
                altitude_km=altitude_km,
                time_dim=time_dim,
                y_dim=y_dim,
                x_dim=x_dim,
            )
        index = grid["cell_index"]
    elif isinstance(cells, xr.DataArray):
        grid, index = None, cells
    elif isinstance(cells, xr.Dataset):
        if "cell_index" not in cells.variables:
            raise MissingVariableError(
                "expected a cell grid with a 'cell_index' (y, x) variable; found "
                + (", ".join(map(str, cells.variables)) or "no variables")
            )
        grid, index = cells, cells["cell_index"]
    else:
        raise CellLayoutError(
            f"expected cells as an xarray Dataset or DataArray; found {type(cells).__name__}"
        )
    if tuple(index.dims) != (y_dim, x_dim):
        raise CellLayoutError(
            f"expected cell_index on dims ({y_dim!r}, {x_dim!r}); found {tuple(index.dims)}"
        )
    sizes = (ds.sizes.get(y_dim), ds.sizes.get(x_dim))
    if tuple(index.shape) != sizes:
        raise FrameSizeError(
            f"cell_index is {index.shape[0]}x{index.shape[1]} (y, x); the frames are "
            f"{sizes[0]}x{sizes[1]}"
        )
    if not np.issubdtype(index.dtype, np.integer):
        raise DtypeError(f"expected an integer cell_index; found dtype {index.dtype}")
    values = np.asarray(index.values, dtype=np.int32)
    if grid is not None and cell_dim in grid.dims:
        count = int(grid.sizes[cell_dim])
    else:
        count = int(values.max()) + 1 if values.size else 0
    if values.size and int(values.max()) >= count:
        raise CellLayoutError(
            f"cell_index holds label {int(values.max())} but the grid has {count} cells"
        )
    if count == 0:
        raise CellLayoutError("the cell grid has no cells (cell_index is -1 everywhere)")
    index = xr.DataArray(values, dims=(y_dim, x_dim), name="cell_index", attrs=index.attrs)
    return index, count, grid


def cell_coords(
    grid: xr.Dataset | None,
    *,
    cell_dim: Hashable = "cell",
    exclude_dims: tuple[Hashable, ...] = ("time", "y", "x"),
    cell_only: bool = False,
) -> dict[Hashable, xr.Variable]:
    """The grid's variables on ``cell_dim`` (and e.g. a vertex dim), to attach as coordinates.

    Variables that also lie on any of ``exclude_dims`` (time, image rows and
    columns) or on the dims of the grid's ``cell_index`` are left out; the
    ``cell_dim`` coordinate itself is always included (``0 .. n-1`` if the grid
    has none). ``cell_only=True`` keeps only variables on ``cell_dim`` alone
    (what a DataArray on (time, cell) can carry).
    """
    if grid is None or cell_dim not in grid.dims:
        return {}
    excluded = set(exclude_dims)
    if "cell_index" in grid.variables:
        excluded |= set(grid["cell_index"].dims)
    out: dict[Hashable, xr.Variable] = {
        cell_dim: xr.Variable((cell_dim,), np.arange(grid.sizes[cell_dim]))
    }
    for name, var in grid.variables.items():
        if cell_dim in var.dims and not set(var.dims) & excluded:
            if cell_only and var.dims != (cell_dim,):
                continue
            out[name] = var
    return out
