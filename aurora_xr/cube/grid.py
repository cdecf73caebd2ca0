"""The equal-area cell grid of an image cube, and the cells a pipeline uses.

:func:`cell_grid` builds the cell-grid Dataset of DESIGN §2 from the cube's context
(station, calibration, sky grids, epoch) and the numpy layout of
:mod:`aurora_xr.geo.cells`; :func:`resolve_cells` finds the grid to use with a cube
(given, already in the cube, or built here); :func:`cell_coords` gives the grid's
variables on the cell dimension, to attach to detections and products.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from ..errors import CellLayoutError, DtypeError, FrameSizeError, MissingVariableError
from ..geo.aacgm import aacgm_coords
from ..geo.cells import CellLayout, check_every_cell_seen, layout_cells
from ..sky.shell import destination, elevation_from_earth_angle
from .context import CellIndex, CubeContext, Site, context_of

__all__ = ["cell_coords", "cell_grid", "context_cells", "resolve_cells"]

_MEANING = {
    "elevation": ("elevation of the line of sight", "degree"),
    "azimuth_mag": ("azimuth from magnetic north through magnetic east", "degree"),
    "azimuth": ("geographic azimuth from north through east", "degree"),
    "lat": ("geographic latitude on the emission shell", "degrees_north"),
    "lon": ("geographic longitude on the emission shell", "degrees_east"),
    "mlat": ("AACGM-v2 magnetic latitude", "degree"),
    "mlon": ("AACGM-v2 magnetic longitude", "degree"),
}
_LAYOUT_TEXT = (
    "equal-area rings around the zenith on the emission shell; sectors from "
    "magnetic north (AACGM-v2); sector 0 centred on magnetic north"
)


def cell_grid(
    ds: xr.Dataset | xr.DataArray,
    *,
    n_cells: int = 400,
    min_elevation: float = 10.0,
    altitude_km: float = 110.0,
    when: Any = None,
    vertices_per_edge: int = 8,
    context: CubeContext | None = None,
    time_dim: Hashable = "time",
    y_dim: Hashable = "y",
    x_dim: Hashable = "x",
    cell_dim: Hashable = "cell",
    vertex_dim: Hashable = "vertex",
) -> xr.Dataset:
    """The equal-area cell grid of an image cube (DESIGN §2).

    Reads the station, the calibration and the ``elevation``/``azimuth``
    coordinates; never the image data.

    Parameters
    ----------
    ds : xarray.Dataset or DataArray
        An image cube (or a (y, x) variable carrying station and calibration
        attributes).
    n_cells : int
        Number of cells.
    min_elevation : float
        Lowest elevation covered (degrees).
    altitude_km : float
        Height of the emission shell.
    when : year, datetime or datetime64, optional
        AACGM epoch; default mid-year of the year in the middle of the cube's times.
    vertices_per_edge : int
        Boundary points per cell edge (``4 *`` that many vertices per cell).
    time_dim, y_dim, x_dim : hashable
        Dimension names of the cube.
    cell_dim, vertex_dim : hashable
        Dimension names of the cells and of their boundary vertices.
    context : CubeContext, optional
        The cube's context when the caller has resolved it already.

    Returns
    -------
    xarray.Dataset
        On dims ``cell_dim`` (and ``vertex_dim``, ``y_dim``, ``x_dim``): ``cell_mlat``,
        ``cell_mlon``, ``cell_elevation``, ``cell_azimuth_mag``, ``cell_azimuth``,
        ``cell_lat``, ``cell_lon``, ``cell_area_km2``, ``cell_ring``,
        ``cell_pixel_count``, the vertices ``cell_vertices_{elevation,
        azimuth_mag, azimuth, lat, lon, mlat, mlon}`` and the label image
        ``cell_index`` (y, x) int32 (``-1`` outside the grid).

    Raises
    ------
    CellLayoutError
        If the cell count cannot be laid out, or some cell gets no pixel.
    FrameSizeError
        If the frames do not match the calibration.
    """
    ctx = context_of(ds, context, time_dim=time_dim, y_dim=y_dim, x_dim=x_dim)
    ctx.require_calibration()
    site = ctx.require_site()
    epoch = ctx.epoch(when)
    layout = layout_cells(
        n_cells,
        min_elevation=min_elevation,
        altitude_km=altitude_km,
        site_altitude_km=site.altitude_km,
    )
    north = ctx.magnetic_north(altitude_km=altitude_km, when=epoch)
    el, az = ctx.sky_grids
    labels = layout.label(el, np.mod(az - north, 360.0))
    sky_count = check_every_cell_seen(labels, layout)
    if ctx.obstruction is not None:  # hidden pixels belong to no cell
        labels[ctx.obstruction] = -1
    pixel_count = np.bincount(labels[labels >= 0], minlength=layout.n_cells).astype(np.int64)
    shell = _ShellPoints(site, north, altitude_km, epoch)
    data = {
        **_cell_variables(shell(*layout.cell_centres()), (cell_dim,), "cell_", "cell centre"),
        **_cell_variables(
            shell(*layout.cell_vertices(vertices_per_edge)),
            (cell_dim, vertex_dim),
            "cell_vertices_",
            "cell boundary",
        ),
        **_layout_variables(layout, pixel_count, labels, cell_dim, (ctx.dims.y, ctx.dims.x)),
        "cell_visible_fraction": (
            cell_dim,
            (pixel_count / sky_count).astype(np.float32),
            {
                "long_name": "fraction of the cell's pixels not hidden by an obstruction",
                "units": "1",
                "comment": "a cell hidden entirely (0) is never observed",
            },
        ),
    }
    attrs: dict[str, Any] = {
        **ctx.attrs,
        "n_cells": int(layout.n_cells),
        "min_elevation": float(min_elevation),
        "altitude_km": float(altitude_km),
        "site_altitude_km": float(site.altitude_km),
        "magnetic_north_azimuth": float(north),
        "epoch": epoch.isoformat(),
        "ring_counts": list(layout.ring_counts),
        "ring_edges_earth_angle_deg": list(layout.ring_edges),
        "cell_area_km2": float(layout.cell_area_km2),
        "layout": _LAYOUT_TEXT,
        "station_code": site.code,
    }
    return xr.Dataset(data, coords={cell_dim: np.arange(layout.n_cells)}, attrs=attrs)


class _ShellPoints:
    """Sky, geographic and magnetic coordinates of points given on the emission shell."""

    def __init__(self, site: Site, north: float, altitude_km: float, epoch: dt.datetime) -> None:
        self.site, self.north, self.altitude_km, self.epoch = site, north, altitude_km, epoch

    def __call__(
        self, beta: NDArray[np.float64], az_mag: NDArray[np.float64]
    ) -> dict[str, NDArray[np.float64]]:
        """Coordinates of the points at earth angle ``beta`` and magnetic azimuth ``az_mag``."""
        site = self.site
        az_geo = np.mod(az_mag + self.north, 360.0)
        lat, lon = destination(site.latitude, site.longitude, az_geo, beta)
        mlat, mlon = aacgm_coords(lat, lon, altitude_km=self.altitude_km, when=self.epoch)
        return {
            "elevation": elevation_from_earth_angle(beta, self.altitude_km, site.altitude_km),
            "azimuth_mag": az_mag,
            "azimuth": az_geo,
            "lat": lat,
            "lon": lon,
            "mlat": mlat,
            "mlon": mlon,
        }


def _cell_variables(
    points: dict[str, NDArray[np.float64]], dims: tuple[Hashable, ...], prefix: str, what: str
) -> dict[Hashable, Any]:
    return {
        f"{prefix}{key}": (
            dims,
            points[key].astype(np.float32),
            {"units": units, "long_name": f"{what}: {long_name}"},
        )
        for key, (long_name, units) in _MEANING.items()
    }


def _layout_variables(
    layout: CellLayout,
    pixel_count: NDArray[np.int64],
    labels: NDArray[np.int32],
    cell_dim: Hashable,
    image_dims: tuple[Hashable, Hashable],
) -> dict[Hashable, Any]:
    return {
        "cell_area_km2": (
            cell_dim,
            np.full(layout.n_cells, layout.cell_area_km2, dtype=np.float64),
            {"units": "km2", "long_name": "cell area on the emission shell"},
        ),
        "cell_ring": (
            cell_dim,
            layout.cell_ring(),
            {"long_name": "ring of the cell (0: around the zenith)"},
        ),
        "cell_pixel_count": (
            cell_dim,
            pixel_count.astype(np.int32),
            {"long_name": "number of pixels in the cell"},
        ),
        "cell_index": (
            image_dims,
            labels,
            {
                "long_name": "equal-area cell of the pixel",
                "flag_values": np.int32(-1),
                "flag_meanings": "outside_grid",
            },
        ),
    }


def resolve_cells(
    ds: xr.Dataset,
    cells: xr.Dataset | xr.DataArray | None = None,
    *,
    n_cells: int = 400,
    min_elevation: float = 10.0,
    altitude_km: float = 110.0,
    context: CubeContext | None = None,
    time_dim: Hashable = "time",
    y_dim: Hashable = "y",
    x_dim: Hashable = "x",
    cell_dim: Hashable = "cell",
) -> CellIndex:
    """The cell grid to use with a cube.

    Parameters
    ----------
    ds : xarray.Dataset
        The image cube (only its sizes, attributes and coordinates are read).
    cells : xarray.Dataset or xarray.DataArray, optional
        A cell grid (Dataset with ``cell_index``) or a bare ``cell_index``.
        When omitted, the cube's own ``cell_index`` is used if it has one,
        else :func:`cell_grid` builds one with ``n_cells``,
        ``min_elevation`` and ``altitude_km``.
    n_cells, min_elevation, altitude_km : optional
        Options of the grid when it is built here.
    context : CubeContext, optional
        The cube's context when the caller has resolved it already.
    time_dim, y_dim, x_dim, cell_dim : hashable
        Dimension names.

    Returns
    -------
    CellIndex
        A named tuple ``(labels, n_cells, grid)``: ``labels`` the ``(y, x)`` int32
        cell of every pixel (``-1`` outside the grid, in memory), ``n_cells`` the
        number of cells, ``grid`` the grid's variables on ``cell_dim`` (to attach
        as coordinates) if known.
    """
    grid: xr.Dataset | None
    if cells is None:
        if "cell_index" in ds.variables:
            grid = ds
        else:
            grid = cell_grid(
                ds,
                n_cells=n_cells,
                min_elevation=min_elevation,
                altitude_km=altitude_km,
                context=context,
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
    return CellIndex(index, count, grid)


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


def context_cells(
    ds: xr.Dataset,
    context: CubeContext,
    cells: xr.Dataset | xr.DataArray | None = None,
    *,
    n_cells: int = 400,
    min_elevation: float = 10.0,
    altitude_km: float = 110.0,
    cell_dim: Hashable = "cell",
) -> CubeContext:
    """The context with its cell grid: the one it holds, else :func:`resolve_cells` now.

    Entry points of a pipeline call this once; the steps below them then take the
    cells from the context (a grid given explicitly as ``cells`` always wins).
    """
    if context.cells is not None and cells is None:
        return context
    found = resolve_cells(
        ds,
        cells,
        n_cells=n_cells,
        min_elevation=min_elevation,
        altitude_km=altitude_km,
        context=context,
        time_dim=context.dims.time,
        y_dim=context.dims.y,
        x_dim=context.dims.x,
        cell_dim=cell_dim,
    )
    return context.with_cells(found)
