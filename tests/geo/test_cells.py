"""The equal-area cell grid (aurora_xr.geo.cells)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from aurora_xr.cube.grid import cell_grid
from aurora_xr.errors import CellLayoutError, FrameSizeError
from aurora_xr.geo import aacgm
from aurora_xr.geo.cells import CellLayout, label_pixels, layout_cells
from aurora_xr.sky.lens import sky_grids
from aurora_xr.sky.shell import EARTH_RADIUS_KM, earth_angle, elevation_from_earth_angle
from aurora_xr.sky.stations import get_station, placeholder_lens
from tests.conftest import raise_if_dask_computes

JBS = get_station("JBS")


def make_cube(size: int = 160, *, n_frames: int = 4, chunks: int = 0) -> xr.Dataset:
    """A blank JBS cube (uint8 zeros) with sky coordinates from the calibration."""
    cal = placeholder_lens("JBS", size, size)
    el, az = sky_grids(cal)
    times = np.datetime64("2020-06-20T00:00", "ns") + np.arange(n_frames) * np.timedelta64(60, "s")
    ds = xr.Dataset(
        {"image": (("time", "y", "x", "channel"), np.zeros((n_frames, size, size, 3), np.uint8))},
        coords={
            "time": times,
            "channel": ["R", "G", "B"],
            "elevation": (("y", "x"), el),
            "azimuth": (("y", "x"), az),
        },
        attrs={**JBS.to_attrs(), **cal.to_attrs(), "Conventions": "CF-1.8"},
    )
    return ds.chunk({"time": chunks}) if chunks else ds


@pytest.fixture(scope="module")
def grid() -> xr.Dataset:
    return cell_grid(make_cube())


def shell_areas(layout: CellLayout, n: int = 1500) -> np.ndarray:
    """Cell areas (km²) by midpoint quadrature on the shell, independent of the layout.

    The shell cap is sampled on a Cartesian grid in the plane tangent to the
    shell over the station (orthographic projection: ``X = sin(beta) sin(az)``,
    ``Y = sin(beta) cos(az)``); the area element on the sphere is
    ``(R + h)² dX dY / cos(beta)``. Grid lines are not aligned with the cell
    edges, so the edge errors average out.
    """
    r = EARTH_RADIUS_KM + layout.altitude_km
    extent = np.sin(np.radians(layout.beta_max)) * 1.001
    step = 2.0 * extent / n
    axis = -extent + step * (np.arange(n) + 0.5)
    xx, yy = np.meshgrid(axis, axis)
    s = np.hypot(xx, yy)
    inside = s < 1.0
    beta = np.degrees(np.arcsin(np.where(inside, s, 0.0)))
    az_mag = np.degrees(np.arctan2(xx, yy))
    elevation = elevation_from_earth_angle(beta, layout.altitude_km, layout.site_altitude_km)
    labels = label_pixels(np.where(inside, elevation, np.nan), az_mag, layout)
    weight = r * r * step * step / np.cos(np.radians(beta))
    keep = labels >= 0
    return np.bincount(labels[keep], weights=weight[keep], minlength=layout.n_cells)


# -- layout ---------------------------------------------------------------------------------
def test_default_layout_has_400_equal_cells_of_about_2045_km2() -> None:
    layout = layout_cells()
    assert layout.n_cells == 400
    assert sum(layout.ring_counts) == 400
    assert layout.beta_max == pytest.approx(float(earth_angle(10.0, 110.0)))
    areas = shell_areas(layout)
    assert areas.sum() == pytest.approx(818_000.0, rel=0.005)  # SCIENCE.md
    assert np.abs(areas / areas.mean() - 1.0).max() < 0.01
    assert areas.mean() == pytest.approx(2045.0, rel=0.005)


@pytest.mark.parametrize(
    ("n_cells", "min_elevation", "altitude"), [(100, 15.0, 230.0), (37, 0.0, 110.0)]
)
def test_other_layouts_are_equal_area_numerically(
    n_cells: int, min_elevation: float, altitude: float
) -> None:
    layout = layout_cells(n_cells, min_elevation=min_elevation, altitude_km=altitude)
    areas = shell_areas(layout, n=1000)
    assert np.abs(areas / areas.mean() - 1.0).max() < 0.01
    assert areas.mean() == pytest.approx(layout.cell_area_km2, rel=0.005)


def test_rings_grow_and_cells_are_roughly_square() -> None:
    layout = layout_cells(400)
    counts = np.asarray(layout.ring_counts)
    assert counts[0] <= 6
    assert np.all(np.diff(counts) > 0)
    edges = np.asarray(layout.ring_edges)
    inner = np.concatenate([[0.0], edges[:-1]])
    radial = np.radians(edges - inner)
    arc = 2.0 * np.pi * np.sin(np.radians(0.5 * (edges + inner))) / counts
    aspect = (radial / arc)[1:]
    assert np.all((aspect > 0.8) & (aspect < 1.25))


@settings(max_examples=40, deadline=None)
@given(
    n_cells=st.integers(1, 1500),
    min_elevation=st.floats(0.0, 60.0),
    altitude=st.floats(90.0, 400.0),
)
def test_any_count_is_laid_out_exactly(n_cells: int, min_elevation: float, altitude: float) -> None:
    layout = layout_cells(n_cells, min_elevation=min_elevation, altitude_km=altitude)
    assert sum(layout.ring_counts) == n_cells
    assert min(layout.ring_counts) >= 1
    assert np.all(np.diff(layout.ring_edges) > 0)
    # 1 - cos(edge) follows the cumulative count exactly: equal areas
    one_minus_cos = 1.0 - np.cos(np.radians(layout.ring_edges))
    expected = one_minus_cos[-1] * np.cumsum(layout.ring_counts) / n_cells
    np.testing.assert_allclose(one_minus_cos, expected, rtol=1e-9)
    # cell centres fall in their own cells
    beta, az = layout.cell_centres()
    el = elevation_from_earth_angle(beta, altitude)
    np.testing.assert_array_equal(layout.label(el, az), np.arange(n_cells))


@settings(max_examples=40, deadline=None)
@given(
    el=st.lists(st.floats(-5.0, 90.0), min_size=1, max_size=50),
    az=st.floats(-720.0, 720.0),
)
def test_labels_are_consistent_with_cell_bounds(el: list[float], az: float) -> None:
    layout = layout_cells(400)
    elevation = np.asarray(el)
    azimuth = np.full(elevation.shape, az)
    labels = layout.label(elevation, azimuth)
    assert labels.dtype == np.int32
    np.testing.assert_array_equal(labels < 0, elevation < layout.min_elevation)
    beta_in, beta_out, a0, a1 = layout.cell_bounds()
    ok = labels >= 0
    beta = earth_angle(elevation[ok], 110.0)
    cell = labels[ok]
    assert np.all(beta >= beta_in[cell] - 1e-9)
    assert np.all(beta <= beta_out[cell] + 1e-9)
    offset = np.mod(azimuth[ok] - a0[cell], 360.0)
    single_cap = (cell == 0) & (layout.ring_counts[0] == 1)
    assert np.all((offset <= (a1 - a0)[cell] + 1e-9) | single_cap)


def test_vertices_outline_the_cells() -> None:
    layout = layout_cells(400)
    beta, az = layout.cell_vertices(per_edge=6)
    assert beta.shape == az.shape == (400, 24)
    # points pulled slightly from each vertex towards the cell centre stay in the cell
    beta_c, az_c = layout.cell_centres()
    d_az = (az_c[:, None] - az + 180.0) % 360.0 - 180.0
    inner_beta = beta + 0.02 * (beta_c[:, None] - beta)
    inner_az = az + 0.02 * d_az
    labels = layout.label(elevation_from_earth_angle(inner_beta, 110.0), inner_az)
    assert np.all(labels == np.arange(400)[:, None])


# -- the cell grid of a cube ------------------------------------------------------------------
def test_cell_grid_contents(grid: xr.Dataset) -> None:
    assert grid.sizes["cell"] == 400
    assert grid["cell_index"].dims == ("y", "x")
    assert grid["cell_index"].dtype == np.int32
    for name in (
        "cell_mlat",
        "cell_mlon",
        "cell_elevation",
        "cell_azimuth_mag",
        "cell_azimuth",
        "cell_lat",
        "cell_lon",
        "cell_area_km2",
        "cell_ring",
    ):
        assert grid[name].dims == ("cell",), name
    for name in ("elevation", "azimuth_mag", "azimuth", "lat", "lon", "mlat", "mlon"):
        assert grid[f"cell_vertices_{name}"].dims == ("cell", "vertex")
        assert grid.sizes["vertex"] == 32
    attrs = grid.attrs
    assert attrs["n_cells"] == 400
    assert attrs["min_elevation"] == 10.0
    assert attrs["altitude_km"] == 110.0
    assert attrs["epoch"] == "2020-07-02T00:00:00"
    north = aacgm.magnetic_north_azimuth(JBS.latitude, JBS.longitude, when=2020)
    assert attrs["magnetic_north_azimuth"] == pytest.approx(north)
    np.testing.assert_allclose(grid["cell_area_km2"], grid["cell_area_km2"][0])
    np.testing.assert_allclose(
        grid["cell_azimuth"], (grid["cell_azimuth_mag"] + north) % 360.0, atol=1e-3
    )
    # the magnetic frame: cell centres on magnetic north lie north of the station in AACGM
    first_ring = grid["cell_ring"] == 1
    sector0 = int(np.flatnonzero(first_ring.values)[0])
    assert float(grid["cell_azimuth_mag"][sector0]) == 0.0
    zenith_mlat = float(
        aacgm.aacgm_coords(JBS.latitude, JBS.longitude, altitude_km=110.0, when=2020)[0]
    )
    assert float(grid["cell_mlat"][sector0]) > zenith_mlat
    assert float(grid["cell_elevation"].min()) > 10.0
    assert int(grid["cell_pixel_count"].sum()) == int((grid["cell_index"] >= 0).sum())


def test_every_pixel_above_min_elevation_in_exactly_one_cell(grid: xr.Dataset) -> None:
    el, az = sky_grids(placeholder_lens("JBS", 160, 160))
    labels = grid["cell_index"].values
    above = np.isfinite(el) & (el >= 10.0)
    np.testing.assert_array_equal(labels >= 0, above)
    assert labels.max() == 399
    assert np.all(labels[~above] == -1)
    assert set(np.unique(labels[above])) == set(range(400))  # every cell has pixels
    # each pixel's line of sight lies inside the bounds of its cell
    layout = layout_cells(400, site_altitude_km=0.03)
    beta_in, beta_out, a0, a1 = layout.cell_bounds()
    cell = labels[above]
    beta = earth_angle(el[above].astype(float), 110.0, 0.03)
    az_mag = (az[above] - grid.attrs["magnetic_north_azimuth"]) % 360.0
    assert np.all((beta >= beta_in[cell] - 1e-6) & (beta <= beta_out[cell] + 1e-6))
    offset = np.mod(az_mag - a0[cell], 360.0)
    assert np.all((offset <= (a1 - a0)[cell] + 1e-4) | (layout.ring_counts[0] == 1))


def test_cell_grid_is_lazy_on_a_chunked_cube(grid: xr.Dataset) -> None:
    ds = make_cube(chunks=2)
    with raise_if_dask_computes():
        lazy = cell_grid(ds)
    xr.testing.assert_identical(lazy, grid)


# -- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize("n_cells", [0, -5, 2.5, True, "400"])
def test_impossible_cell_counts(n_cells: object) -> None:
    with pytest.raises(CellLayoutError, match="cell"):
        layout_cells(n_cells)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_elevation": 90.0}, "min_elevation"),
        ({"min_elevation": -1.0}, "min_elevation"),
        ({"altitude_km": 0.0, "site_altitude_km": 0.5}, "above the camera"),
    ],
)
def test_impossible_layout_options(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(CellLayoutError, match=message):
        layout_cells(400, **kwargs)


def test_too_many_cells_for_the_image() -> None:
    with pytest.raises(CellLayoutError, match="contain no pixel"):
        cell_grid(make_cube(48))
    assert cell_grid(make_cube(48), n_cells=50).sizes["cell"] == 50


def test_frame_size_mismatch() -> None:
    ds = make_cube(64)
    ds.attrs.update(placeholder_lens("JBS", 512, 512).to_attrs())
    with pytest.raises(FrameSizeError, match="512x512"):
        cell_grid(ds)


def test_dimension_names_are_parameters() -> None:
    ds = make_cube(96).rename({"y": "row", "x": "col"})
    out = cell_grid(ds, n_cells=60, y_dim="row", x_dim="col", cell_dim="box", vertex_dim="v")
    assert out["cell_index"].dims == ("row", "col")
    assert out["cell_vertices_lat"].dims == ("box", "v")
    assert out.sizes["box"] == 60


def test_an_undefined_azimuth_at_the_zenith_still_gets_a_cell() -> None:
    layout = layout_cells(400)
    labels = layout.label(np.array([90.0, 89.9, 9.0, np.nan]), np.array([np.nan] * 4))
    assert labels[0] >= 0
    assert labels[1] >= 0
    assert list(labels[2:]) == [-1, -1]
