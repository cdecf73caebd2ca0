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

This numpy kernel (:func:`layout_cells`, :class:`CellLayout`,
:func:`label_pixels`) knows nothing of xarray; :func:`aurora_xr.cube.grid.cell_grid`
builds the cell-grid Dataset of an image cube.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import CellLayoutError
from ..sky.shell import EARTH_RADIUS_KM, earth_angle

__all__ = ["CellLayout", "check_every_cell_seen", "label_pixels", "layout_cells"]

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


def check_every_cell_seen(labels: NDArray[np.int32], layout: CellLayout) -> NDArray[np.int64]:
    """Pixels per cell of a label image; :class:`CellLayoutError` if a cell has none."""
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
