"""Figures of aurora_xr.plot: baseline images and structural checks.

All data are made here, deterministically: a small fisheye cube with a
green arc near the magnetic-north horizon, a ring grid of cells, and an
occurrence product for two methods. ``scripts/make_baselines.py`` renders the
``BASELINES`` cases below into ``tests/plot/baseline/``.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dask.array as da
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import xarray as xr
from matplotlib.testing.compare import compare_images

from aurora_xr import plot
from aurora_xr.analysis.keograms import keogram, resolve_north_azimuth
from aurora_xr.errors import (
    MissingDimensionError,
    MissingVariableError,
    OptionError,
)
from aurora_xr.sky.lens import Calibration, sky_grids
from aurora_xr.sky.shell import sky_to_geo
from aurora_xr.sky.stations import get_station
from tests.conftest import raise_if_dask_computes

ROOT = Path(__file__).resolve().parents[2]
BASELINE_DIR = ROOT / "tests" / "plot" / "baseline"
BASELINE_DPI = 60
TOLERANCE = 1.0  # RMS of 0..255 pixel values (matplotlib and its fonts are pinned)

NORTH = 68.4  # geographic azimuth of magnetic north at JBS, 110 km, 2020 (AACGM-v2)
STATION = get_station("JBS")
RING_EDGES = (0.0, 16.0, 32.0, 48.0, 64.0, 80.0)  # zenith angle, degrees
RING_COUNTS = (4, 8, 12, 16, 20)
N_CELLS = sum(RING_COUNTS)


# -- hand-made data ------------------------------------------------------------------
def make_calibration(
    size: int = 96, *, rotation: float = 20.0, mirrored: bool = False
) -> Calibration:
    centre = (size - 1) / 2.0
    return Calibration(
        width=size,
        height=size,
        zenith_x=centre,
        zenith_y=centre,
        lens_radius=size / 2.0 - 2.0,
        rotation_deg=rotation,
        east_clockwise=mirrored,
    )


def _north_component(el: np.ndarray, az: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Zenith-angle components towards magnetic north and magnetic east."""
    azm = np.radians((az - NORTH) % 360.0)
    r = 90.0 - el
    return r * np.cos(azm), r * np.sin(azm)


def make_cube(
    n_times: int = 6, size: int = 96, *, rotation: float = 20.0, mirrored: bool = False
) -> xr.Dataset:
    """A deterministic sky: airglow, stars, a green arc drifting from the magnetic-north
    horizon towards the zenith, its FCN mask."""
    cal = make_calibration(size, rotation=rotation, mirrored=mirrored)
    el, az = sky_grids(cal)
    inside = np.isfinite(el)
    eln = np.where(inside, el, 0.0)
    azn = np.where(inside, az, 0.0)
    north, east = _north_component(eln, azn)
    rng = np.random.default_rng(7)
    stars = np.zeros((size, size))
    sy, sx = rng.integers(0, size, 60), rng.integers(0, size, 60)
    stars[sy, sx] = rng.uniform(60, 200, 60)
    frames, masks = [], []
    for t in range(n_times):
        centre = 52.0 - 4.0 * t
        band = np.exp(-(((north - centre) / 6.0) ** 2)) * np.exp(-((east / 75.0) ** 4))
        upper = np.exp(-(((north - centre + 7.0) / 4.0) ** 2)) * np.exp(-((east / 75.0) ** 4))
        glow = (90.0 - eln) / 90.0
        r = 10 + 20 * glow**2 + 60 * upper + 0.5 * stars
        g = 12 + 28 * glow**2 + 190 * band + 0.6 * stars
        b = 24 + 18 * glow**2 + 25 * band + 0.7 * stars
        rgb = np.stack([r, g, b], axis=-1)
        rgb[~inside] = 0.0
        frames.append(np.clip(rgb, 0, 255).astype(np.uint8))
        masks.append((band > 0.4) & inside)
    times = np.datetime64("2020-07-02T07:00:00", "ns") + np.arange(n_times) * np.timedelta64(
        60, "s"
    )
    ds = xr.Dataset(
        {
            "image": (("time", "y", "x", "channel"), np.stack(frames)),
            "aurora_mask": (("time", "y", "x"), np.stack(masks)),
        },
        coords={
            "time": times,
            "channel": ["R", "G", "B"],
            "elevation": (("y", "x"), el),
            "azimuth": (("y", "x"), az),
        },
        attrs={
            **STATION.to_attrs(),
            **cal.scaled(size, size).to_attrs(),
            "Conventions": "CF-1.8",
            "title": "hand-made test sky",
        },
    )
    return ds


def make_cells(*, altitude_km: float = 110.0) -> xr.Dataset:
    """A ring grid of 60 cells above 10° elevation with the names of cells.cell_grid."""
    el_v, az_v, el_c, az_c, ring = [], [], [], [], []
    for k, n in enumerate(RING_COUNTS):
        z0, z1 = RING_EDGES[k], RING_EDGES[k + 1]
        for j in range(n):
            a0, a1 = 360.0 * j / n, 360.0 * (j + 1) / n
            el_v.append([90 - z0, 90 - z0, 90 - z1, 90 - z1])
            az_v.append([a0, a1, a1, a0])
            el_c.append(90 - (z0 + z1) / 2)
            az_c.append((a0 + a1) / 2)
            ring.append(k)
    el_v_a, az_v_a = np.asarray(el_v), np.asarray(az_v)
    lat_v, lon_v = sky_to_geo(
        el_v_a, (az_v_a + NORTH) % 360, STATION.latitude, STATION.longitude, altitude_km=altitude_km
    )
    lat_c, lon_c = sky_to_geo(
        np.asarray(el_c),
        (np.asarray(az_c) + NORTH) % 360,
        STATION.latitude,
        STATION.longitude,
        altitude_km=altitude_km,
    )
    return xr.Dataset(
        coords={
            "cell_elevation": ("cell", np.asarray(el_c, np.float32)),
            "cell_azimuth_mag": ("cell", np.asarray(az_c, np.float32)),
            "cell_lat": ("cell", lat_c.astype(np.float32)),
            "cell_lon": ("cell", lon_c.astype(np.float32)),
            "cell_ring": ("cell", np.asarray(ring, np.int16)),
            "cell_vertices_elevation": (("cell", "vertex"), el_v_a.astype(np.float32)),
            "cell_vertices_azimuth_mag": (("cell", "vertex"), az_v_a.astype(np.float32)),
            "cell_vertices_lat": (("cell", "vertex"), lat_v.astype(np.float32)),
            "cell_vertices_lon": (("cell", "vertex"), lon_v.astype(np.float32)),
        },
        attrs={
            "magnetic_north_azimuth": NORTH,
            "altitude_km": altitude_km,
            "min_elevation": 10.0,
            **STATION.to_attrs(),
        },
    )


def make_difference(cube: xr.Dataset, cells: xr.Dataset) -> xr.DataArray:
    """(time, cell) detections: cells whose centre lies on the arc, on frames 1.."""
    north, _ = _north_component(
        cells["cell_elevation"].values.astype(float),
        (cells["cell_azimuth_mag"].values + NORTH) % 360,
    )
    det = []
    for t in range(cube.sizes["time"]):
        centre = 52.0 - 4.0 * t
        det.append((np.abs(north - centre) < 9.0) & (t % 2 == 1))
    return xr.DataArray(
        np.asarray(det),
        dims=("time", "cell"),
        coords={"time": cube["time"].values},
        name="difference_detection",
    )


def make_occurrence(cells: xr.Dataset | None = None) -> xr.Dataset:
    """Occurrence product on (detector, mlt, cell): FCN rates ~5x the difference method's,
    highest near the magnetic-north horizon in the evening; a few cells unobserved."""
    cells = make_cells() if cells is None else cells
    el = cells["cell_elevation"].values.astype(float)
    azm = cells["cell_azimuth_mag"].values.astype(float)
    north = (90 - el) * np.cos(np.radians(azm))
    east = (90 - el) * np.sin(np.radians(azm))
    mlt = np.arange(24) + 0.5
    phase = 2 * np.pi * (mlt[:, None] - 8.0) / 24.0
    centre = 35.0 + 30.0 * np.cos(phase)
    fcn = 0.05 + 0.55 * np.exp(-(((north[None, :] - centre) / 22.0) ** 2)) * (
        1.0 - 0.3 * np.tanh(east[None, :] / 40.0) * np.sin(phase)
    )
    diff = fcn / (3.0 + 3.0 * np.clip(north[None, :] / 80.0, 0.0, 1.0))
    n_cells = el.size
    n_obs = np.full((24, n_cells), 240, dtype=np.int32)
    n_obs[10:14, (north < -40) & (east > 0)] = 0  # cells never observed around noon
    rate = np.stack([fcn, diff]).astype(np.float32)
    n_aur = np.rint(rate * n_obs).astype(np.int32)
    rate = np.where(n_obs[None] > 0, n_aur / np.maximum(n_obs[None], 1), np.nan)
    occ = xr.Dataset(
        {
            "occurrence_rate": (("detector", "mlt", "cell"), rate.astype(np.float32)),
            "n_aurora": (("detector", "mlt", "cell"), n_aur),
            "n_observed": (("detector", "mlt", "cell"), np.stack([n_obs, n_obs])),
        },
        coords={
            "detector": ["fcn", "difference"],
            "mlt": mlt,
            **{
                k: v
                for k, v in cells.variables.items()
                if "cell" in v.dims and not {"y", "x"} & set(v.dims)
            },
        },
        attrs={
            **cells.attrs,
            "time_coverage_start": "2020-05-01T00:00:00",
            "time_coverage_end": "2020-08-31T23:59:00",
        },
    )
    occ["occurrence_rate"].attrs = {"long_name": "occurrence rate", "units": "1"}
    return occ


def make_comparison() -> xr.Dataset:
    occ = make_occurrence()
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = occ["occurrence_rate"]
        ratio = rate.sel({"detector": "fcn"}, drop=True) / rate.sel(
            {"detector": "difference"}, drop=True
        )
    return occ.assign(rate_ratio=ratio.astype(np.float32))


def make_mlat_grid() -> xr.DataArray:
    """A hand-made magnetic latitude field around JBS (circles about a pole)."""
    lat = np.linspace(-90, -55, 71)
    lon = np.linspace(100, 230, 131)
    pole_lat, pole_lon = -74.0, 126.0
    la, lo = np.radians(lat)[:, None], np.radians(lon)[None, :]
    p1, l1 = np.radians(pole_lat), np.radians(pole_lon)
    cosd = np.sin(p1) * np.sin(la) + np.cos(p1) * np.cos(la) * np.cos(lo - l1)
    mlat = -(90.0 - np.degrees(np.arccos(np.clip(cosd, -1, 1))))
    return xr.DataArray(mlat, dims=("lat", "lon"), coords={"lat": lat, "lon": lon})


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def cube() -> xr.Dataset:
    return make_cube()


@pytest.fixture(scope="module")
def cells() -> xr.Dataset:
    return make_cells()


@pytest.fixture(scope="module")
def occ() -> xr.Dataset:
    return make_occurrence()


# -- baseline figures ---------------------------------------------------------------
def fig_sky() -> Any:
    cube, cells = make_cube(), make_cells()
    ax = plot.plot_sky(
        cube, time=3, cells=cells, difference=make_difference(cube, cells), contrast=1.5
    )
    return ax.get_figure()


def fig_three_panel() -> Any:
    cube, cells = make_cube(), make_cells()
    return plot.plot_three_panel(cube, 3, cells=cells, difference=make_difference(cube, cells))


def fig_occurrence() -> Any:
    return plot.plot_occurrence(make_occurrence(), mlt=11, detector="fcn").get_figure()


def fig_occurrence_grid() -> Any:
    return plot.plot_occurrence_grid(make_occurrence(), panel_size=0.9)


def fig_comparison() -> Any:
    return plot.plot_comparison(make_comparison(), mlt=20)


def fig_cell_map() -> Any:
    ax = plot.plot_cell_map(
        make_occurrence(),
        mlt=20,
        detector="fcn",
        coastlines=False,
        magnetic_latitudes=make_mlat_grid(),
    )
    return ax.get_figure()


def fig_keogram() -> Any:
    return plot.plot_keogram(make_cube(n_times=12), north_azimuth=NORTH).get_figure()


BASELINES: dict[str, Callable[[], Any]] = {
    "sky": fig_sky,
    "three_panel": fig_three_panel,
    "occurrence": fig_occurrence,
    "occurrence_grid": fig_occurrence_grid,
    "comparison": fig_comparison,
    "cell_map": fig_cell_map,
    "keogram": fig_keogram,
}


def render(name: str, path: Path) -> None:
    """Draw the baseline case ``name`` into ``path`` (PNG at BASELINE_DPI)."""
    with (
        plt.style.context("default"),
        matplotlib.rc_context({"savefig.dpi": BASELINE_DPI, "figure.dpi": BASELINE_DPI}),
    ):
        fig = BASELINES[name]()
        fig.savefig(path, dpi=BASELINE_DPI, metadata={"Software": None})
        plt.close(fig)


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_figure_matches_baseline(name: str, tmp_path: Path) -> None:
    expected = BASELINE_DIR / f"{name}.png"
    assert expected.exists(), f"missing baseline {expected}; run scripts/make_baselines.py"
    actual = tmp_path / f"{name}.png"
    render(name, actual)
    result = compare_images(str(expected), str(actual), tol=TOLERANCE)
    assert result is None, result


def test_baselines_are_small() -> None:
    total = sum(p.stat().st_size for p in BASELINE_DIR.glob("*.png"))
    assert 0 < total < 1_000_000


# -- helpers for structural tests ------------------------------------------------------
def _by_gid(fig_or_ax: Any, gid: str) -> list[Any]:
    return [a for a in fig_or_ax.findobj() if a.get_gid() == gid]


def _one(fig_or_ax: Any, gid: str) -> Any:
    found = _by_gid(fig_or_ax, gid)
    assert len(found) == 1, f"expected one artist {gid!r}, found {len(found)}"
    return found[0]


def _n_polygons(ax: Any) -> int:
    return sum(len(c.get_paths()) for g in ("cells", "cells_not_observed") for c in _by_gid(ax, g))


def _bright_spot(ax: Any) -> tuple[float, float]:
    """Display coordinates of the brightest pixel of the sky image."""
    im = _one(ax, "sky_image")
    arr = np.asarray(im.get_array())
    left, right, _bottom, top = im.get_extent()
    iy, ix = np.unravel_index(np.argmax(arr[..., :3].sum(axis=-1)), arr.shape[:2])
    n = arr.shape[0]
    step = (right - left) / n
    return left + (ix + 0.5) * step, top - (iy + 0.5) * step


def _dot_cube(el: float, az: float, *, rotation: float, mirrored: bool) -> xr.Dataset:
    cube = make_cube(n_times=1, size=97, rotation=rotation, mirrored=mirrored)
    cal = Calibration.from_attrs(cube.attrs)
    from aurora_xr.sky.lens import sky_to_pixel

    px, py = sky_to_pixel(el, az, cal)
    img = np.zeros_like(cube["image"].values)
    img[0, int(np.rint(py)), int(np.rint(px)), :] = 255
    return cube.assign(image=(cube["image"].dims, img))


# -- sky view --------------------------------------------------------------------------
@pytest.mark.parametrize(("rotation", "mirrored"), [(0.0, False), (20.0, False), (-35.0, True)])
@pytest.mark.parametrize(("az_mag", "expected"), [(0.0, (0.0, 45.0)), (90.0, (-45.0, 0.0))])
def test_sky_view_puts_magnetic_north_up_and_east_left(
    rotation: float, mirrored: bool, az_mag: float, expected: tuple[float, float]
) -> None:
    # a single lit pixel at elevation 45° in the given magnetic direction
    cube = _dot_cube(45.0, (NORTH + az_mag) % 360, rotation=rotation, mirrored=mirrored)
    ax = plot.plot_sky(cube, north_azimuth=NORTH, overlays=())
    x, y = _bright_spot(ax)
    pixel = 90.0 / 46.0  # display units per camera pixel
    assert abs(x - expected[0]) <= 1.5 * pixel
    assert abs(y - expected[1]) <= 1.5 * pixel


def test_sky_view_compass_and_elevation_circles(cube: xr.Dataset, cells: xr.Dataset) -> None:
    ax = plot.plot_sky(cube, cells=cells)
    n, e, s, w = (_one(ax, f"compass_{k}").get_position() for k in "NESW")
    assert n[0] == pytest.approx(0.0, abs=1e-9)
    assert n[1] > 90
    assert e[0] < -90
    assert abs(e[1]) < 1e-9
    assert s[1] < -90
    assert w[0] > 90
    radii = sorted(_one(ax, f"elevation_{el}").get_radius() for el in range(10, 90, 10))
    # equidistant lens: circles every 10° of elevation are 10 display units apart
    np.testing.assert_allclose(radii, np.arange(10, 90, 10), atol=1e-9)
    assert "JBS" in ax.get_title()
    assert "2020-07-02 07:00:00 UT" in ax.get_title()


def test_sky_view_selects_frame_and_overlays(cube: xr.Dataset, cells: xr.Dataset) -> None:
    from aurora_xr.sky.resample import apply_view, magnetic_view_indices

    diff = make_difference(cube, cells)
    ax = plot.plot_sky(cube, time="2020-07-02T07:03:10", cells=cells, difference=diff)
    assert "07:03:00" in ax.get_title()
    overlay = np.asarray(_one(ax, "fcn_mask").get_array())
    index = magnetic_view_indices(Calibration.from_attrs(cube.attrs), NORTH)
    expected = apply_view(cube["aurora_mask"].values[3], index, fill_value=False)
    np.testing.assert_array_equal(overlay[..., 3] > 0, expected)
    hits = _one(ax, "difference_cells")
    assert len(hits.get_paths()) == int(diff.isel(time=3).sum())
    assert len(_one(ax, "cell_grid").get_paths()) == N_CELLS
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["FCN mask", "difference cells"]


def test_sky_view_without_detection_for_the_frame(cube: xr.Dataset, cells: xr.Dataset) -> None:
    diff = make_difference(cube, cells).isel(time=slice(1, None))  # no pair ends at frame 0
    ax = plot.plot_sky(cube, time=0, cells=cells, difference=diff)
    assert _by_gid(ax, "difference_cells") == []
    assert any("no difference detection" in t.get_text() for t in ax.texts)


def test_sky_view_bad_requests(cube: xr.Dataset, cells: xr.Dataset) -> None:
    with pytest.raises(MissingVariableError, match="aurora_mask"):
        plot.plot_sky(cube.drop_vars("aurora_mask"), overlays=("fcn",), north_azimuth=NORTH)
    with pytest.raises(OptionError, match="difference"):
        plot.plot_sky(cube, overlays="difference", north_azimuth=NORTH)
    with pytest.raises(OptionError, match="overlays"):
        plot.plot_sky(cube, overlays=("clouds",), north_azimuth=NORTH)
    with pytest.raises(OptionError, match="out of range"):
        plot.plot_sky(cube, time=99, north_azimuth=NORTH)
    with pytest.raises(OptionError, match="contrast"):
        plot.plot_sky(cube, contrast=0.0, north_azimuth=NORTH)


def test_sky_view_draws_into_given_axes(cube: xr.Dataset) -> None:
    _fig, axes = plt.subplots(1, 2)
    out = plot.plot_sky(cube.isel(time=2), ax=axes[1], north_azimuth=NORTH)
    assert out is axes[1]
    assert _by_gid(axes[0], "sky_image") == []
    assert len(_by_gid(axes[1], "sky_image")) == 1


def test_three_panel(cube: xr.Dataset, cells: xr.Dataset) -> None:
    fig = plot.plot_three_panel(cube, 3, cells=cells, difference=make_difference(cube, cells))
    axes = [a for a in fig.axes if _by_gid(a, "sky_image")]
    assert len(axes) == 3
    assert [a.get_title()[:3] for a in axes] == ["(a)", "(b)", "(c)"]
    assert [len(_by_gid(a, "difference_cells")) for a in axes] == [0, 1, 0]
    assert [len(_by_gid(a, "fcn_mask")) for a in axes] == [0, 0, 1]


def _lazy_cube(cube: xr.Dataset, log: list[tuple[str, int]]) -> xr.Dataset:
    """The cube with image and mask made block by block (one frame per block), logged."""
    out = cube.copy()
    for name in ("image", "aurora_mask"):
        values = cube[name].values

        def block(block_info: Any = None, _v: np.ndarray = values, _n: str = name) -> np.ndarray:
            start, stop = block_info[None]["array-location"][0]
            log.append((_n, start))
            return _v[start:stop]

        chunks = ((1,) * values.shape[0], *((s,) for s in values.shape[1:]))
        out[name] = (cube[name].dims, da.map_blocks(block, chunks=chunks, dtype=values.dtype))
    return out


def test_sky_views_compute_only_the_frame_shown(cube: xr.Dataset, cells: xr.Dataset) -> None:
    log: list[tuple[str, int]] = []
    lazy = _lazy_cube(cube, log)
    diff = make_difference(cube, cells).chunk(time=1)
    with raise_if_dask_computes(max_computes=1):
        plot.plot_sky(lazy, time=4, cells=cells, difference=diff)
    assert sorted(log) == [("aurora_mask", 4), ("image", 4)]
    log.clear()
    with raise_if_dask_computes(max_computes=1):
        plot.plot_three_panel(lazy, 2, cells=cells, difference=diff)
    assert sorted(log) == [("aurora_mask", 2), ("image", 2)]


# -- occurrence maps -------------------------------------------------------------------
def test_occurrence_map_cells_colours_and_colourbar(occ: xr.Dataset) -> None:
    ax = plot.plot_occurrence(occ, mlt=11, detector="fcn")
    rate = occ["occurrence_rate"].sel({"detector": "fcn"}).isel(mlt=11).values.astype(float)
    assert _n_polygons(ax) == N_CELLS
    coll = _one(ax, "cells")
    ok = np.isfinite(rate)
    assert len(coll.get_paths()) == ok.sum()
    ax.get_figure().canvas.draw()
    expected = matplotlib.colormaps["viridis"](coll.norm(rate[ok]))
    np.testing.assert_allclose(coll.get_facecolors(), expected, atol=1e-6)
    assert coll.norm.vmin == 0.0
    assert coll.norm.vmax == pytest.approx(np.nanmax(rate))
    nan_coll = _one(ax, "cells_not_observed")
    assert len(nan_coll.get_paths()) == (~ok).sum() > 0
    np.testing.assert_allclose(
        nan_coll.get_facecolor()[0], matplotlib.colors.to_rgba(plot._style.NAN_FACE)
    )
    assert nan_coll.get_hatch() == plot._style.NAN_HATCH
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["not observed"]
    assert ax.get_title() == "FCN · MLT 11–12"
    cbar = coll.colorbar
    assert cbar is not None
    assert cbar.ax.get_ylim() == pytest.approx((0.0, np.nanmax(rate)))
    n = _one(ax, "compass_N").get_position()
    assert n[1] > 90
    assert n[0] == pytest.approx(0.0, abs=1e-9)


def test_occurrence_map_options(occ: xr.Dataset, cells: xr.Dataset) -> None:
    a = plot.plot_occurrence(occ, mlt=7, detector="difference", vmax=0.5, cmap="magma")
    b = plot.plot_occurrence(occ, mlt=7.99, detector="difference")
    assert a.get_title() == b.get_title() == "Difference method · MLT 07–08"
    assert _one(a, "cells").norm.vmax == 0.5
    assert _one(a, "cells").get_cmap().name == "magma"
    assert plot.plot_occurrence(occ, mlt=-0.5, detector="fcn").get_title().endswith("23–24")
    bare = occ.drop_vars([v for v in occ.coords if str(v).startswith("cell_vertices")])
    with pytest.raises(MissingVariableError, match="cells="):
        plot.plot_occurrence(bare, mlt=1, detector="fcn")
    assert _n_polygons(plot.plot_occurrence(bare, mlt=1, detector="fcn", cells=cells)) == N_CELLS
    with pytest.raises(OptionError, match="detector="):
        plot.plot_occurrence(occ, mlt=3)
    with pytest.raises(OptionError, match="not in the product"):
        plot.plot_occurrence(occ, mlt=3, detector="cnn")
    by_year = xr.concat([occ, occ], dim="year").assign_coords(year=[2019, 2020])
    with pytest.raises(MissingDimensionError, match="year"):
        plot.plot_occurrence(by_year, mlt=3, detector="fcn")
    ax = plot.plot_occurrence(by_year, mlt=3, detector="fcn", sel={"year": 2020})
    assert _n_polygons(ax) == N_CELLS


def test_occurrence_grid(occ: xr.Dataset) -> None:
    fig = plot.plot_occurrence_grid(occ)
    panels = [a for a in fig.axes if str(a.get_gid()).startswith("mlt_")]
    assert len(panels) == 2 * 24
    assert all(_n_polygons(a) == N_CELLS for a in panels)
    norms = {id(_one(a, "cells").norm) for a in panels}
    assert len(norms) == 1  # one shared colour scale
    vmax = float(np.nanmax(occ["occurrence_rate"].values))
    assert _one(panels[0], "cells").norm.vmax == pytest.approx(vmax)
    texts = [t.get_text() for t in fig.texts]
    assert "FCN" in texts
    assert "Difference method" in texts
    assert len(fig.axes) == 2 * 24 + 1  # panels and one colour bar
    one = plot.plot_occurrence_grid(occ, detectors="difference", ncols=4)
    assert len([a for a in one.axes if str(a.get_gid()).startswith("mlt_")]) == 24


def test_comparison(occ: xr.Dataset) -> None:
    cmp = make_comparison()
    fig = plot.plot_comparison(cmp, mlt=20)
    maps = [a for a in fig.axes if _by_gid(a, "cells")]
    assert len(maps) == 3
    ratio = _one(maps[2], "cells").norm
    assert isinstance(ratio, matplotlib.colors.LogNorm)
    assert ratio.vmin * ratio.vmax == pytest.approx(1.0)
    grid = plot.plot_comparison(cmp)
    assert len([a for a in grid.axes if str(a.get_gid()).startswith("mlt_")]) == 24


def test_comparison_ratio_tells_zero_rates_from_missing_ones() -> None:
    cmp = make_comparison()
    rate = cmp["occurrence_rate"].values.copy()  # (detector, mlt, cell)
    i = int(np.argmin(np.abs(cmp["mlt"].values - 20.5)))
    fcn, diff = rate[0, i], rate[1, i]
    fcn[:4], diff[:4] = [0.0, 0.2, 0.0, np.nan], [0.0, 0.0, 0.1, 0.1]
    fcn[4:], diff[4:] = 0.1, 0.2  # every other cell: ratio 0.5
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(rate[1] > 0, rate[0] / rate[1], np.nan)
    cmp = cmp.assign(
        occurrence_rate=cmp["occurrence_rate"].copy(data=rate),
        rate_ratio=cmp["rate_ratio"].copy(data=ratio.astype(np.float32)),
    )
    fig = plot.plot_comparison(cmp, mlt=20)
    ax = [a for a in fig.axes if _by_gid(a, "cells")][2]
    # 0/0 is observed with no aurora, not "not observed"
    assert len(_one(ax, "cells_no_aurora").get_paths()) == 1
    assert len(_one(ax, "cells_not_observed").get_paths()) == 1  # the NaN FCN rate
    coloured = _one(ax, "cells")
    norm = coloured.norm
    values = np.asarray(coloured.get_array())
    assert values.size == N_CELLS - 2
    assert values[0] > norm.vmax  # FCN only: beyond the top of the colour bar
    assert values[1] < norm.vmin  # difference only: below the bottom
    assert np.allclose(values[2:], 0.5)
    labels = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    assert labels == ["not observed", "no aurora in either method"]
    grid = plot.plot_comparison(cmp)
    panel = next(a for a in grid.axes if a.get_gid() == f"mlt_0_{i}")
    assert len(_one(panel, "cells_no_aurora").get_paths()) == 1
    assert "no aurora in either method" in [
        t.get_text() for leg in grid.legends for t in leg.get_texts()
    ]


# -- cell map --------------------------------------------------------------------------
@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    import cartopy.io

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a network access was attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(cartopy.io.Downloader, "acquire_resource", refuse)


@pytest.fixture
def map_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    import cartopy

    data = tmp_path / "cartopy"
    data.mkdir()
    monkeypatch.setitem(cartopy.config, "data_dir", data)
    monkeypatch.setitem(cartopy.config, "pre_existing_data_dir", tmp_path / "none")
    return data


def _write_coastline(data_dir: Path, resolution: str = "50m") -> Path:
    import shapefile

    folder = data_dir / "shapefiles" / "natural_earth" / "physical"
    folder.mkdir(parents=True)
    stem = folder / f"ne_{resolution}_coastline"
    with shapefile.Writer(str(stem), shapeType=shapefile.POLYLINE) as w:
        w.field("featurecla", "C")
        w.line([[(150.0, -77.0), (160.0, -75.5), (170.0, -74.0), (180.0, -76.0)]])
        w.record("Coastline")
    return stem.with_suffix(".shp")


@pytest.mark.usefixtures("no_network")
def test_cell_map_warns_without_natural_earth(map_data_dir: Path, occ: xr.Dataset) -> None:
    assert plot.natural_earth_path() is None
    with pytest.warns(plot.MissingMapDataWarning, match="coastlines"):
        ax = plot.plot_cell_map(occ, mlt=20, detector="fcn", magnetic_latitudes=False)
    assert _by_gid(ax, "coastlines") == []
    assert _n_polygons(ax) == N_CELLS
    assert ax.get_title() == "JBS · FCN · MLT 20–21 · cells at 110 km"


@pytest.mark.usefixtures("no_network")
def test_cell_map_draws_coastlines_from_disk(map_data_dir: Path, cells: xr.Dataset) -> None:
    path = _write_coastline(map_data_dir)
    assert plot.natural_earth_path() == path
    ax = plot.plot_cell_map(
        cells, magnetic_latitudes=make_mlat_grid(), projection="SouthPolarStereo"
    )
    coast = _one(ax, "coastlines")
    assert len(list(coast._feature.geometries())) == 1
    assert _n_polygons(ax) == N_CELLS
    assert _by_gid(ax, "magnetic_latitude")


def test_cell_map_magnetic_latitudes_from_aacgm(occ: xr.Dataset) -> None:
    ax = plot.plot_cell_map(occ, coastlines=False, mlat_levels=[-85, -80, -75])
    cs = _one(ax, "magnetic_latitude")
    assert list(cs.levels) == [-85, -80, -75]
    # the -80° circle passes within a few km of JBS (AACGM latitude -79.9° at 110 km)
    import cartopy.crs as ccrs

    sx, sy = ax.projection.transform_point(STATION.longitude, STATION.latitude, ccrs.PlateCarree())
    paths = cs.get_paths()
    d = min(
        np.hypot(p.vertices[:, 0] - sx, p.vertices[:, 1] - sy).min()
        for p in paths[1:2]
        if len(p.vertices)
    )
    assert d < 25_000  # metres in the projection plane
    with pytest.raises(OptionError, match="when="):
        plot.plot_cell_map(occ.drop_attrs(), coastlines=False)


# -- keogram ---------------------------------------------------------------------------
@pytest.mark.parametrize("north", [0.0, 90.0])
def test_keogram_reads_the_pixels_along_the_meridian(north: float) -> None:
    cube = make_cube(n_times=3, size=97, rotation=0.0)  # zenith (48, 48), lens radius 46.5
    rng = np.random.default_rng(3)
    img = rng.integers(0, 256, cube["image"].shape, dtype=np.uint8)
    cube = cube.assign(image=(cube["image"].dims, img))
    keo = keogram(cube, north_azimuth=north, n_samples=93)
    assert keo.dims == ("time", "position", "channel")
    assert keo.dtype == np.uint8
    k = np.arange(93)
    # north at the top of the image (rotation 0) or, for north = east, to the left
    rows, cols = (2 + k, np.full(93, 48)) if north == 0.0 else (np.full(93, 48), 2 + k)
    np.testing.assert_array_equal(keo.values, img[:, rows, cols, :])
    np.testing.assert_allclose(keo["meridian_angle"].values, np.linspace(90, -90, 93))
    assert keo["elevation"].values[46] == 90.0
    assert keo.attrs["magnetic_north_azimuth"] == north


def test_keogram_is_lazy(cube: xr.Dataset) -> None:
    lazy = cube.chunk(time=2)
    with raise_if_dask_computes():
        keo = keogram(lazy, north_azimuth=NORTH)
    assert keo.chunks is not None
    assert keo.chunks[0] == (2, 2, 2)
    np.testing.assert_array_equal(keo.values, keogram(cube, north_azimuth=NORTH).values)


def test_plot_keogram_draws_the_keogram(cube: xr.Dataset) -> None:
    keo = keogram(cube, north_azimuth=NORTH)
    ax = plot.plot_keogram(keo)
    mesh = _one(ax, "keogram")
    arr = np.asarray(mesh.get_array()).reshape(keo.sizes["position"], cube.sizes["time"], 4)
    np.testing.assert_allclose(arr[..., :3], np.transpose(keo.values, (1, 0, 2)) / 255.0, atol=1e-6)
    assert ax.get_yticklabels()[0].get_text() == "N 0°"
    assert ax.get_ylim()[1] > ax.get_ylim()[0]  # north at the top
    gap = xr.concat([cube, cube.assign_coords(time=cube.time + np.timedelta64(1, "h"))], "time")
    mesh = _one(plot.plot_keogram(gap, north_azimuth=NORTH), "keogram")
    arr = np.asarray(mesh.get_array()).reshape(-1, 2 * cube.sizes["time"] + 1, 4)
    assert (arr[:, 6, 3] == 0).all()  # the hour without frames stays empty
    assert (arr[:, 5, 3] == 1).all()
    sub = plot.plot_keogram(gap, north_azimuth=NORTH, time=slice("2020-07-02T08", None))
    assert "08:00" in sub.get_title()


def test_keogram_computes_only_the_time_range(cube: xr.Dataset) -> None:
    log: list[tuple[str, int]] = []
    lazy = _lazy_cube(cube, log)
    with raise_if_dask_computes(max_computes=1):
        plot.plot_keogram(
            lazy, north_azimuth=NORTH, time=slice("2020-07-02T07:01", "2020-07-02T07:02")
        )
    assert sorted(log) == [("image", 1), ("image", 2)]


# -- north azimuth, imports ------------------------------------------------------------
def test_resolve_north_azimuth(cube: xr.Dataset, cells: xr.Dataset) -> None:
    assert resolve_north_azimuth(cube, north_azimuth=400.0) == 40.0
    assert (
        resolve_north_azimuth(cube, cells=cells.assign_attrs(magnetic_north_azimuth=12.0)) == 12.0
    )
    computed = resolve_north_azimuth(cube)  # AACGM-v2 via aurora_xr.geo.aacgm
    assert computed == pytest.approx(NORTH, abs=0.1)


def test_importing_plot_leaves_cartopy_unloaded() -> None:
    code = "import sys, aurora_xr.plot; print('cartopy' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.strip()
    assert out == "False"


def test_when_for_magnetic_latitudes_comes_from_attrs(occ: xr.Dataset) -> None:
    from aurora_xr.plot.basemap import magnetic_epoch as _when

    assert _when(occ, None) == "2020-05-01T00:00:00"
    assert _when(occ, 2021) == 2021


def test_occurrence_map_on_a_lazy_product(occ: xr.Dataset) -> None:
    lazy = occ.chunk(mlt=1)
    with raise_if_dask_computes(max_computes=2):
        ax = plot.plot_occurrence(lazy, mlt=5, detector="fcn")
    assert _n_polygons(ax) == N_CELLS
