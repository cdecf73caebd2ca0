"""The equal-area sky cell grid and the pixel -> cell labels.

Construction (our documented assumption; the body of Jee et al. 2021 was not
available): the part of the emission shell (radius ``R + h``) seen above
``min_elevation`` is a spherical cap around the point over the station, of
angular radius ``beta_max`` at Earth's centre. Its area is
``2π (R + h)² (1 - cos beta_max)``. The cap is cut into concentric rings around
the zenith; ring ``j`` holds ``n_j`` cells and its outer edge ``beta_j`` follows
the cumulative cell count ``C_j``::

    1 - cos(beta_j) = (1 - cos(beta_max)) * C_j / n_cells

so that every cell (a ring sector of ``360° / n_j`` in azimuth) has exactly the
same area on the shell. The ring counts grow with radius so that the cells are
roughly square on the shell (radial extent ≈ arc length); the central cap is
one cell (or a few sectors). Sectors are measured in azimuth from *magnetic*
north (the direction of increasing AACGM latitude over the station, see
:func:`aurora_xr.geo.aacgm.magnetic_north_azimuth`), through magnetic east;
sector 0 of every ring is centred on magnetic north. Cells are numbered ring by
ring from the zenith outwards, and by increasing magnetic azimuth in a ring.

The numpy kernel (:func:`layout_cells`, :class:`CellLayout`,
:func:`label_pixels`) knows nothing of xarray; :func:`cell_grid` builds the
cell-grid Dataset of an image cube.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike, NDArray

from ..errors import CellLayoutError
from ..sky.shell import EARTH_RADIUS_KM, destination, earth_angle, elevation_from_earth_angle

__all__ = ["CellLayout", "cell_grid", "label_pixels", "layout_cells"]

_MAX_CAP_CELLS = 6


@dataclass(frozen=True)
class CellLayout:
    """An equal-area layout of sky cells in rings around the zenith.

    Build it with :func:`layout_cells`.

    Parameters
    ----------
    n_cells : int
        Number of cells.
    min_elevation : float
        Lowest elevation covered (degrees).
    altitude_km, site_altitude_km : float
        Heights of the emission shell and of the camera.
    ring_counts : tuple of int
        Cells in each ring, the central cap first.
    ring_edges : tuple of float
        Outer edge of each ring as the angle at Earth's centre (degrees); the last
        one is ``beta_max``.
    """

    n_cells: int
    min_elevation: float
    altitude_km: float
    site_altitude_km: float
    ring_counts: tuple[int, ...]
    ring_edges: tuple[float, ...]

    # -- sizes ----------------------------------------------------------------
    @property
    def n_rings(self) -> int:
        """Number of rings, the central cap included."""
        return len(self.ring_counts)

    @property
    def beta_max(self) -> float:
        """Angle at Earth's centre (degrees) of the outer edge (``min_elevation``)."""
        return self.ring_edges[-1]

    @property
    def shell_radius_km(self) -> float:
        """Radius of the emission shell."""
        return EARTH_RADIUS_KM + self.altitude_km

    @property
    def total_area_km2(self) -> float:
        """Area of the shell cap covered by the cells."""
        r = self.shell_radius_km
        return 2.0 * math.pi * r * r * (1.0 - math.cos(math.radians(self.beta_max)))

    @property
    def cell_area_km2(self) -> float:
        """Area of every cell (they are all equal)."""
        return self.total_area_km2 / self.n_cells

    @property
    def first_cell(self) -> NDArray[np.int64]:
        """Index of the first cell of each ring."""
        return np.concatenate([[0], np.cumsum(self.ring_counts)[:-1]]).astype(np.int64)

    def _inner_edges(self) -> NDArray[np.float64]:
        return np.concatenate([[0.0], np.asarray(self.ring_edges[:-1], dtype=float)])

    def cell_ring(self) -> NDArray[np.int32]:
        """Ring of each cell (0 is the central cap)."""
        return np.repeat(np.arange(self.n_rings), self.ring_counts).astype(np.int32)

    def cell_sector(self) -> NDArray[np.int32]:
        """Position of each cell within its ring (0 is centred on magnetic north)."""
        return np.concatenate([np.arange(n) for n in self.ring_counts]).astype(np.int32)

    # -- cells ------------------------------------------------------------------
    def cell_bounds(self) -> tuple[NDArray[np.float64], ...]:
        """Inner and outer earth angle and first and last magnetic azimuth of each cell.

        Returns
        -------
        beta_in, beta_out, az_start, az_end : (n_cells,) ndarray
            Degrees; ``az_end - az_start = 360 / n_j`` (``az_start`` may be negative).
        """
        ring = self.cell_ring()
        sector = self.cell_sector().astype(float)
        counts = np.asarray(self.ring_counts, dtype=float)[ring]
        width = 360.0 / counts
        beta_in = self._inner_edges()[ring]
        beta_out = np.asarray(self.ring_edges, dtype=float)[ring]
        return beta_in, beta_out, (sector - 0.5) * width, (sector + 0.5) * width

    def cell_centres(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Earth angle (degrees) and magnetic azimuth (degrees) of the cell centres.

        The centre lies at the middle azimuth of the cell and at the earth angle
        that halves its area. A single central cap cell is centred on the zenith
        (earth angle 0, azimuth 0).
        """
        beta_in, beta_out, a0, a1 = self.cell_bounds()
        one_minus_cos = 0.5 * (
            (1.0 - np.cos(np.radians(beta_in))) + (1.0 - np.cos(np.radians(beta_out)))
        )
        beta = np.degrees(np.arccos(1.0 - one_minus_cos))
        azimuth = np.mod(0.5 * (a0 + a1), 360.0)
        if self.ring_counts[0] == 1:
            beta[0] = 0.0
            azimuth[0] = 0.0
        return beta, azimuth

    def cell_vertices(self, per_edge: int = 8) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Boundary of each cell as ``4 * per_edge`` vertices (earth angle, magnetic azimuth).

        Each of the four edges (inner arc, far radial edge, outer arc, near
        radial edge) is sampled at ``per_edge`` points, so that curved edges
        can be drawn in any projection; the polygon closes on its first vertex.
        A single central cap cell is a circle of ``4 * per_edge`` vertices.

        Returns
        -------
        beta, azimuth_mag : (n_cells, 4 * per_edge) ndarray
            Degrees.
        """
        m = int(per_edge)
        if m < 1:
            raise CellLayoutError(f"expected per_edge >= 1; found {per_edge}")
        beta_in, beta_out, a0, a1 = (v[:, None] for v in self.cell_bounds())
        f = np.arange(m)[None, :] / m
        ones = np.ones_like(f)
        beta = np.concatenate(
            [
                beta_in * ones,
                beta_in + (beta_out - beta_in) * f,
                beta_out * ones,
                beta_out + (beta_in - beta_out) * f,
            ],
            axis=1,
        )
        azimuth = np.concatenate(
            [a0 + (a1 - a0) * f, a1 * ones, a1 + (a0 - a1) * f, a0 * ones], axis=1
        )
        if self.ring_counts[0] == 1:
            beta[0] = self.ring_edges[0]
            azimuth[0] = np.arange(4 * m) * 360.0 / (4 * m)
        return beta, np.mod(azimuth, 360.0)

    # -- labels -----------------------------------------------------------------
    def label(self, elevation: ArrayLike, azimuth_mag: ArrayLike) -> NDArray[np.int32]:
        """Cell of lines of sight; ``-1`` below ``min_elevation`` or where NaN.

        Parameters
        ----------
        elevation : array_like
            Degrees.
        azimuth_mag : array_like
            Azimuth from magnetic north through magnetic east, degrees.

        Returns
        -------
        ndarray of int32
            Cell index of the broadcast shape.
        """
        el, az = np.broadcast_arrays(
            np.asarray(elevation, dtype=np.float64), np.asarray(azimuth_mag, dtype=np.float64)
        )
        with np.errstate(invalid="ignore"):
            valid = np.isfinite(el) & (el >= self.min_elevation)
        az = np.where(np.isfinite(az), az, 0.0)  # e.g. an undefined azimuth at the zenith
        beta = earth_angle(np.where(valid, el, 90.0), self.altitude_km, self.site_altitude_km)
        edges = np.asarray(self.ring_edges, dtype=float)
        ring = np.minimum(np.searchsorted(edges, beta, side="left"), self.n_rings - 1)
        counts = np.asarray(self.ring_counts, dtype=np.int64)[ring]
        width = 360.0 / counts
        sector = np.floor(np.mod(az + 0.5 * width, 360.0) / width)
        sector = np.mod(sector.astype(np.int64), counts)
        cell = self.first_cell[ring] + sector
        return np.where(valid, cell, -1).astype(np.int32)


def _ring_edges(counts: NDArray[np.int64], n_cells: int, beta_max: float) -> NDArray[np.float64]:
    """Outer earth angle (degrees) of each ring from the cumulative cell counts."""
    frac = np.cumsum(counts) / n_cells
    one_minus_cos = (1.0 - math.cos(math.radians(beta_max))) * frac
    edges = np.degrees(np.arccos(np.clip(1.0 - one_minus_cos, -1.0, 1.0)))
    edges[-1] = beta_max
    return np.asarray(edges, dtype=float)


def _squareness(counts: NDArray[np.int64], n_cells: int, beta_max: float) -> tuple[float, float]:
    """Worst and mean |log(radial extent / arc length)| of the cells off the cap."""
    edges = _ring_edges(counts, n_cells, beta_max)
    inner = np.concatenate([[0.0], edges[:-1]])
    radial = np.radians(edges - inner)
    mid = np.radians(0.5 * (edges + inner))
    arc = 2.0 * np.pi * np.sin(mid) / counts
    logs = np.abs(np.log(radial / arc))
    if counts[0] == 1:
        logs[0] = 0.0  # a round cap cell is as compact as a cell can be
    else:  # sectors of the cap: radius against the arc at half radius
        logs[0] = abs(math.log(counts[0] / math.pi))
    return float(logs.max()), float(np.sum(logs * counts) / n_cells)


def _choose_ring_counts(n_cells: int, beta_max: float) -> NDArray[np.int64]:
    """Ring counts (cap first) that sum to ``n_cells`` with the squarest cells."""
    if n_cells <= 2:
        return np.array([n_cells], dtype=np.int64)
    best: tuple[tuple[float, float], NDArray[np.int64]] | None = None
    max_rings = math.ceil(math.sqrt(n_cells)) + 2
    for cap in range(1, min(n_cells, _MAX_CAP_CELLS) + 1):
        rho0 = math.sqrt(cap / n_cells)  # equal-area radius (1 at the edge)
        for rings in range(0, max_rings + 1):
            if rings == 0:
                if cap != n_cells:
                    continue
                counts = np.array([cap], dtype=np.int64)
            else:
                radii = rho0 + (1.0 - rho0) * np.arange(1, rings + 1) / rings
                cumulative = np.rint(n_cells * radii**2).astype(np.int64)
                cumulative[-1] = n_cells
                counts = np.diff(np.concatenate([[cap], cumulative]))
                counts = np.concatenate([[cap], counts])
                if np.any(counts < 1):
                    continue
            score = _squareness(counts, n_cells, beta_max)
            if best is None or score < best[0]:
                best = (score, counts)
    assert best is not None  # one cap cell and sqrt(n) rings always qualify
    return best[1]


def layout_cells(
    n_cells: int = 400,
    *,
    min_elevation: float = 10.0,
    altitude_km: float = 110.0,
    site_altitude_km: float = 0.0,
) -> CellLayout:
    """Lay out ``n_cells`` equal-area cells on the emission shell above ``min_elevation``.

    Parameters
    ----------
    n_cells : int
        Number of cells (>= 1).
    min_elevation : float
        Lowest elevation covered, degrees in ``[0, 90)``.
    altitude_km : float
        Height of the emission shell.
    site_altitude_km : float
        Height of the camera (below the shell).

    Returns
    -------
    CellLayout

    Raises
    ------
    CellLayoutError
        For a cell count or options that cannot be laid out.

    Examples
    --------
    >>> layout = layout_cells(400)
    >>> sum(layout.ring_counts), layout.ring_counts[:3]
    (400, (3, 10, 16))
    >>> round(layout.cell_area_km2)
    2045
    """
    if isinstance(n_cells, bool) or not isinstance(n_cells, int | np.integer):
        raise CellLayoutError(f"expected a whole number of cells; found {n_cells!r}")
    n = int(n_cells)
    if n < 1:
        raise CellLayoutError(f"expected at least 1 cell; found n_cells={n}")
    if not 0.0 <= float(min_elevation) < 90.0:
        raise CellLayoutError(f"expected min_elevation in [0, 90) degrees; found {min_elevation}")
    if not float(altitude_km) > float(site_altitude_km):
        raise CellLayoutError(
            f"expected the emission shell ({altitude_km} km) above the camera "
            f"({site_altitude_km} km)"
        )
    beta_max = float(earth_angle(float(min_elevation), float(altitude_km), float(site_altitude_km)))
    counts = _choose_ring_counts(n, beta_max)
    edges = _ring_edges(counts, n, beta_max)
    return CellLayout(
        n_cells=n,
        min_elevation=float(min_elevation),
        altitude_km=float(altitude_km),
        site_altitude_km=float(site_altitude_km),
        ring_counts=tuple(int(c) for c in counts),
        ring_edges=tuple(float(e) for e in edges),
    )


def label_pixels(
    elevation: ArrayLike, azimuth_mag: ArrayLike, layout: CellLayout
) -> NDArray[np.int32]:
    """Cell index of every pixel; ``-1`` below ``min_elevation`` or outside the lens.

    Parameters
    ----------
    elevation : (H, W) array_like
        Degrees, NaN outside the lens circle.
    azimuth_mag : (H, W) array_like
        Azimuth from magnetic north through magnetic east, degrees.
    layout : CellLayout
        The cell layout.

    Returns
    -------
    (H, W) ndarray of int32
    """
    return layout.label(elevation, azimuth_mag)


def _check_every_cell_seen(labels: NDArray[np.int32], layout: CellLayout) -> NDArray[np.int64]:
    counts = np.bincount(labels[labels >= 0].ravel(), minlength=layout.n_cells)
    empty = np.flatnonzero(counts == 0)
    if empty.size:
        raise CellLayoutError(
            f"{layout.n_cells} cells cannot be laid out on this image: {empty.size} cells "
            f"contain no pixel (e.g. cell {int(empty[0])}, ring "
            f"{int(layout.cell_ring()[empty[0]])}); {int(counts.sum())} pixels lie above "
            f"{layout.min_elevation}°. Use fewer cells or larger frames."
        )
    return counts


def cell_grid(
    ds: xr.Dataset | xr.DataArray,
    *,
    n_cells: int = 400,
    min_elevation: float = 10.0,
    altitude_km: float = 110.0,
    when: Any = None,
    vertices_per_edge: int = 8,
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
    from .aacgm import (
        _calibration_of,
        _site,
        aacgm_coords,
        cube_epoch,
        magnetic_north_azimuth,
        sky_grids_of,
    )

    cal = _calibration_of(ds, y_dim, x_dim)
    code, lat0, lon0, site_km = _site(ds)
    epoch = cube_epoch(ds, when, time_dim=time_dim)
    layout = layout_cells(
        n_cells, min_elevation=min_elevation, altitude_km=altitude_km, site_altitude_km=site_km
    )
    north = magnetic_north_azimuth(lat0, lon0, when=epoch, altitude_km=altitude_km)
    el, az = sky_grids_of(ds, cal, y_dim=y_dim, x_dim=x_dim)
    labels = layout.label(el, np.mod(az - north, 360.0))
    pixel_count = _check_every_cell_seen(labels, layout)

    def on_shell(beta: NDArray[np.float64], az_mag: NDArray[np.float64]) -> dict[str, Any]:
        az_geo = np.mod(az_mag + north, 360.0)
        lat, lon = destination(lat0, lon0, az_geo, beta)
        mlat, mlon = aacgm_coords(lat, lon, altitude_km=altitude_km, when=epoch)
        return {
            "elevation": elevation_from_earth_angle(beta, altitude_km, site_km),
            "azimuth_mag": az_mag,
            "azimuth": az_geo,
            "lat": lat,
            "lon": lon,
            "mlat": mlat,
            "mlon": mlon,
        }

    centre = on_shell(*layout.cell_centres())
    corners = on_shell(*layout.cell_vertices(vertices_per_edge))
    deg = "degree"
    meaning = {
        "elevation": ("elevation of the line of sight", deg),
        "azimuth_mag": ("azimuth from magnetic north through magnetic east", deg),
        "azimuth": ("geographic azimuth from north through east", deg),
        "lat": ("geographic latitude on the emission shell", "degrees_north"),
        "lon": ("geographic longitude on the emission shell", "degrees_east"),
        "mlat": ("AACGM-v2 magnetic latitude", deg),
        "mlon": ("AACGM-v2 magnetic longitude", deg),
    }
    data: dict[Hashable, Any] = {}
    for key, (long_name, units) in meaning.items():
        data[f"cell_{key}"] = (
            cell_dim,
            centre[key].astype(np.float32),
            {"units": units, "long_name": f"cell centre: {long_name}"},
        )
    for key, (long_name, units) in meaning.items():
        data[f"cell_vertices_{key}"] = (
            (cell_dim, vertex_dim),
            corners[key].astype(np.float32),
            {"units": units, "long_name": f"cell boundary: {long_name}"},
        )
    data["cell_area_km2"] = (
        cell_dim,
        np.full(layout.n_cells, layout.cell_area_km2, dtype=np.float64),
        {"units": "km2", "long_name": "cell area on the emission shell"},
    )
    data["cell_ring"] = (
        cell_dim,
        layout.cell_ring(),
        {"long_name": "ring of the cell (0: around the zenith)"},
    )
    data["cell_pixel_count"] = (
        cell_dim,
        pixel_count.astype(np.int32),
        {"long_name": "number of pixels in the cell"},
    )
    data["cell_index"] = (
        (y_dim, x_dim),
        labels,
        {
            "long_name": "equal-area cell of the pixel",
            "flag_values": np.int32(-1),
            "flag_meanings": "outside_grid",
        },
    )
    attrs: dict[str, Any] = {
        **{k: v for k, v in ds.attrs.items() if str(k).startswith(("station_", "calibration_"))},
        "n_cells": int(layout.n_cells),
        "min_elevation": float(min_elevation),
        "altitude_km": float(altitude_km),
        "site_altitude_km": float(site_km),
        "magnetic_north_azimuth": float(north),
        "epoch": epoch.isoformat(),
        "ring_counts": list(layout.ring_counts),
        "ring_edges_earth_angle_deg": list(layout.ring_edges),
        "cell_area_km2": float(layout.cell_area_km2),
        "layout": (
            "equal-area rings around the zenith on the emission shell; sectors from "
            "magnetic north (AACGM-v2); sector 0 centred on magnetic north"
        ),
        "station_code": code,
    }
    return xr.Dataset(data, coords={cell_dim: np.arange(layout.n_cells)}, attrs=attrs)
