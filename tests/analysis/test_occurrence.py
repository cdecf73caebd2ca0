"""Tests of cell detections, MLT binning, occurrence maps, usable frames and products."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from aurora_xr.analysis.cube_occurrence import occurrence_from_cube
from aurora_xr.analysis.detections import cell_detections, cell_fraction
from aurora_xr.analysis.occurrence import occurrence_map
from aurora_xr.detect.usable import usable_frames
from aurora_xr.errors import (
    DtypeError,
    MissingDimensionError,
    MissingVariableError,
    OptionError,
)
from aurora_xr.geo.binning import (
    SEASONS,
    group_count_kernel,
    group_sum_kernel,
    grouped_sum,
    mlt_bin_edges,
    mlt_bin_index,
    season_index,
)
from aurora_xr.io.products import open_product, prepare_product, to_netcdf
from tests._pipeline_cubes import cell_grid_of, make_cube, square_cells
from tests.conftest import raise_if_dask_computes

# ---------------------------------------------------------------------------
# binning


def test_mlt_bins_exact_with_wrap_and_edges() -> None:
    values = [0.0, 0.999999, 1.0, 12.5, 23.999999, 24.0, -0.5, 25.5, 48.0, np.nan]
    np.testing.assert_array_equal(mlt_bin_index(values, 24), [0, 0, 1, 12, 23, 0, 23, 1, 0, -1])
    np.testing.assert_array_equal(mlt_bin_index([0.0, 2.999, 3.0, 21.0, 23.99], 8), [0, 0, 1, 7, 7])
    np.testing.assert_allclose(mlt_bin_edges(4), [0, 6, 12, 18, 24])
    with pytest.raises(OptionError):
        mlt_bin_edges(0)
    with pytest.raises(OptionError):
        mlt_bin_edges(2.5)  # type: ignore[arg-type]


def test_season_index() -> None:
    times = pd.to_datetime(
        [
            "2019-12-31",
            "2020-01-15",
            "2020-02-29",
            "2020-03-01",
            "2020-06-21",
            "2020-08-31",
            "2020-09-01",
            "2020-11-30",
        ]
    )
    np.testing.assert_array_equal(season_index(times.values), [0, 0, 0, 1, 2, 2, 3, 3])
    assert SEASONS == ("DJF", "MAM", "JJA", "SON")


def test_group_sum_matches_add_at() -> None:
    rng = np.random.default_rng(1)
    n, c, g = 20000, 7, 30
    values = rng.random((n, c)) < 0.3
    group = rng.integers(-1, g, n)
    expected = np.zeros((g, c), np.int64)
    keep = group >= 0
    np.add.at(expected, group[keep], values[keep].astype(np.int64))
    np.testing.assert_array_equal(group_sum_kernel(values, group, g), expected)
    np.testing.assert_array_equal(
        group_count_kernel(group, g), np.bincount(group[keep], minlength=g)
    )
    import dask.array as da

    lazy = grouped_sum(da.from_array(values, chunks=(3000, c)), group, g)
    np.testing.assert_array_equal(lazy.compute(), expected)
    counts = rng.integers(0, 255, (n, c)).astype(np.int64)  # wider values: float64 path
    expected = np.zeros((g, c), np.int64)
    np.add.at(expected, group[keep], counts[keep])
    np.testing.assert_array_equal(group_sum_kernel(counts, group, g), expected)


# ---------------------------------------------------------------------------
# occurrence_map on hand-made detections

TIMES = pd.date_range("2020-06-20T00:00", periods=6, freq="1min").values


def hand_detections(chunks: int | None = None) -> xr.DataArray:
    det = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [1, 1, 1], [0, 0, 1], [1, 0, 1]], dtype=bool)
    out = xr.DataArray(
        det,
        dims=("time", "cell"),
        coords={"time": TIMES, "cell": [0, 1, 2]},
        name="fcn_detection",
        attrs={"detector": "fcn", "min_fraction": 0.1, "model_checksum": "abc"},
    )
    return out.chunk({"time": chunks}) if chunks else out


MLT = np.array([0.5, 23.99, 24.0, 6.0, 6.5, 13.0])
USABLE = np.array([True, True, True, True, False, True])


@pytest.mark.parametrize("chunks", [None, 2])
def test_occurrence_counts_exact(chunks: int | None) -> None:
    det = hand_detections(chunks)
    mlt = xr.DataArray(MLT, dims="time", coords={"time": TIMES})
    usable = xr.DataArray(
        USABLE, dims="time", coords={"time": TIMES}, attrs={"filters": "hand-made"}
    )
    occ = occurrence_map(det, mlt=mlt, usable=usable, mlt_bins=4)
    assert occ.occurrence_rate.dims == ("mlt", "cell")
    if chunks:
        assert occ.n_aurora.chunks is not None
    occ = occ.compute()
    # bins of 6 h: frames 0, 2 (24 h wraps) -> bin 0; 1 -> bin 3; 3 -> bin 1; 4 unusable; 5 -> bin 2
    np.testing.assert_array_equal(occ.n_observed.values[:, 0], [2, 1, 1, 1])
    np.testing.assert_array_equal(occ.n_aurora.values, [[1, 1, 0], [1, 1, 1], [1, 0, 1], [1, 1, 0]])
    np.testing.assert_allclose(occ.occurrence_rate.values[0], [0.5, 0.5, 0.0])
    assert occ.occurrence_rate.dtype == np.float32
    assert occ.n_aurora.dtype == np.int64
    assert occ.n_observed.dtype == np.int64
    np.testing.assert_allclose(occ.mlt.values, [3, 9, 15, 21])
    np.testing.assert_allclose(occ.mlt_bounds.values, [[0, 6], [6, 12], [12, 18], [18, 24]])
    assert occ.attrs["detector"] == "fcn"
    assert occ.attrs["model_checksum"] == "abc"
    assert occ.attrs["usable_filters"] == "hand-made"
    assert occ.attrs["n_frames"] == 6
    assert occ.attrs["time_coverage_start"] == "2020-06-20T00:00:00"
    assert occ.attrs["time_coverage_end"] == "2020-06-20T00:05:00"
    assert occ.attrs["mlt_bins"] == 4


def test_occurrence_nan_where_unobserved_and_observed_flags() -> None:
    det = hand_detections()
    occ = occurrence_map(det, mlt=MLT, mlt_bins=24)
    assert np.isnan(occ.occurrence_rate.values[5]).all()
    assert (occ.n_observed.values[5] == 0).all()
    observed = np.array([False, True, True, True, True, True])
    occ = occurrence_map(det, mlt=MLT, observed=observed, mlt_bins=4)
    np.testing.assert_array_equal(occ.n_observed.values[:, 0], [1, 2, 1, 1])
    np.testing.assert_array_equal(occ.n_aurora.values[0], [0, 1, 0])
    per_cell = xr.DataArray(np.ones((6, 3), bool), dims=("time", "cell"))
    per_cell[0, 2] = False
    per_cell[3, 0] = False
    occ = occurrence_map(det, mlt=MLT, observed=per_cell, mlt_bins=4)
    np.testing.assert_array_equal(occ.n_observed.values[0], [2, 2, 1])
    np.testing.assert_array_equal(occ.n_observed.values[1], [1, 2, 2])
    np.testing.assert_array_equal(occ.n_aurora.values[1], [0, 1, 2])


def test_occurrence_by_year_and_season() -> None:
    times = pd.to_datetime(
        [
            "2019-12-31T23:00",
            "2020-01-01T01:00",
            "2020-06-01T00:00",
            "2020-06-02T00:00",
            "2021-03-05T00:00",
            "2021-12-01T00:00",
        ]
    ).values
    det = xr.DataArray(
        np.array([[1], [1], [0], [1], [1], [0]], bool),
        dims=("time", "cell"),
        coords={"time": times},
    )
    mlt = np.array([1.0, 1.0, 1.0, 13.0, 13.0, 13.0])
    by_year = occurrence_map(det, mlt=mlt, mlt_bins=2, by="year")
    assert by_year.n_aurora.dims == ("year", "mlt", "cell")
    np.testing.assert_array_equal(by_year.year.values, [2019, 2020, 2021])
    np.testing.assert_array_equal(by_year.n_observed.values[..., 0], [[1, 0], [2, 1], [0, 2]])
    np.testing.assert_array_equal(by_year.n_aurora.values[..., 0], [[1, 0], [1, 1], [0, 1]])
    by_season = occurrence_map(det, mlt=mlt, mlt_bins=2, by="season")
    assert list(by_season.season.values) == ["DJF", "MAM", "JJA", "SON"]
    np.testing.assert_array_equal(
        by_season.n_observed.values[..., 0], [[2, 1], [0, 1], [1, 1], [0, 0]]
    )
    assert np.isnan(by_season.occurrence_rate.values[3]).all()
    assert "DJF" in by_season.attrs["seasons"]
    with pytest.raises(OptionError, match="by"):
        occurrence_map(det, mlt=mlt, by="month")


def test_occurrence_bad_input() -> None:
    det = hand_detections()
    with pytest.raises(MissingDimensionError, match="one value per frame"):
        occurrence_map(det, mlt=MLT[:4])
    with pytest.raises(DtypeError):
        occurrence_map(det.astype(int), mlt=MLT)
    with pytest.raises(MissingDimensionError):
        occurrence_map(det.rename(cell="pixel"), mlt=MLT)
    with pytest.raises(DtypeError):
        occurrence_map(det, mlt=MLT, usable=np.ones(6))


def test_occurrence_map_is_lazy() -> None:
    det = hand_detections(2)
    mlt = xr.DataArray(MLT, dims="time").chunk(3)
    with raise_if_dask_computes():
        occ = occurrence_map(
            det, mlt=mlt, usable=xr.DataArray(USABLE, dims="time").chunk(2), mlt_bins=4
        )
    eager = occurrence_map(det.compute(), mlt=MLT, usable=USABLE, mlt_bins=4)
    xr.testing.assert_identical(occ.compute(), eager)


# ---------------------------------------------------------------------------
# cell detections from a mask


def masked_cube(chunks: int | None = None) -> xr.Dataset:
    ds = make_cube(3, 16)
    mask = np.zeros((3, 16, 16), bool)
    mask[0, 0, 0:2] = True  # 2 of the 16 pixels of cell 0 (0.125)
    mask[1, 0, 4] = True  # 1 of 16 of cell 1 (0.0625)
    mask[2, 4:8, 4:8] = True  # all of cell 5
    ds = ds.assign(
        aurora_mask=(
            ("time", "y", "x"),
            mask,
            {"model_name": "m", "model_checksum": "c", "threshold": 0.5},
        )
    )
    return ds.chunk({"time": chunks}) if chunks else ds


@pytest.mark.parametrize("chunks", [None, 2])
def test_cell_detections_exact(chunks: int | None) -> None:
    ds = masked_cube(chunks)
    cells = cell_grid_of(square_cells(16, 4))
    frac = cell_fraction(ds, cells=cells).compute()
    assert frac.dtype == np.float32
    assert float(frac[0, 0]) == 0.125
    assert float(frac[1, 1]) == 0.0625
    assert float(frac[2, 5]) == 1.0
    det = cell_detections(ds, cells=cells, min_fraction=0.0625)
    assert det.name == "fcn_detection"
    assert det.dims == ("time", "cell")
    assert set(zip(*np.nonzero(det.values), strict=True)) == {(0, 0), (1, 1), (2, 5)}
    det = cell_detections(ds, cells=cells, min_fraction=0.1).compute()
    assert set(zip(*np.nonzero(det.values), strict=True)) == {(0, 0), (2, 5)}
    assert det.attrs["model_checksum"] == "c"
    assert det.attrs["min_fraction"] == 0.1
    assert det.attrs["detector"] == "fcn"
    assert "cell_mlat" in det.coords
    with pytest.raises(OptionError):
        cell_detections(ds, cells=cells, min_fraction=0.0)
    with pytest.raises(MissingVariableError, match="segment the cube"):
        cell_detections(ds.drop_vars("aurora_mask"), cells=cells)


def test_cell_detections_lazy_and_border() -> None:
    ds = masked_cube(1)
    cells = square_cells(16, 4, border=1)  # corner cells lose pixels; -1 is ignored
    with raise_if_dask_computes():
        det = cell_detections(ds, cells=cells, min_fraction=0.2)
    # cell 0 keeps 9 pixels (rows/cols 1-3); its set pixels lie on row 0, outside the grid
    assert not bool(det.compute()[0, 0])
    frac = cell_fraction(ds, cells=cells).compute()
    assert float(frac[0, 0]) == 0.0
    assert float(frac[2, 5]) == 1.0


# ---------------------------------------------------------------------------
# from a cube, usable frames, products


def aurora_cube(chunks: int | None = None) -> xr.Dataset:
    # 2020-06-20 12:00-12:09 UT at JBS: the sun is below -10 deg at noon UT in June
    ds = make_cube(10, 16, start="2020-06-20T12:00", background=40, noise=2)
    mask = np.zeros((10, 16, 16), bool)
    mask[:, 0:4, 0:4] = True  # cell 0 always auroral
    mask[::2, 12:16, 12:16] = True  # cell 15 every other frame
    image = ds.image.values.copy()
    image[7] = 0  # a blank frame
    image[8, :, :, 1] = 255  # a saturated frame
    ds = ds.assign(image=(ds.image.dims, image), aurora_mask=(("time", "y", "x"), mask))
    return ds.chunk({"time": chunks}) if chunks else ds


def test_usable_frames() -> None:
    flags = usable_frames(aurora_cube(4))
    assert flags.usable.chunks is not None
    flags = flags.compute()
    np.testing.assert_array_equal(flags.usable.values, [True] * 7 + [False, False, True])
    assert (flags.sun_elevation < -10).all()
    assert float(flags.saturated_fraction[8]) == 1.0
    assert float(flags.sky_mean[7]) == 0.0
    assert "sun_elevation < -10" in flags.usable.attrs["filters"]
    with_cloud = aurora_cube().assign(cloud_fraction=("time", np.linspace(0, 0.9, 10)))
    flags = usable_frames(with_cloud, max_cloud_fraction=0.5, max_sun_elevation=None)
    np.testing.assert_array_equal(flags.usable.values, [1, 1, 1, 1, 1, 1, 0, 0, 0, 0])
    with pytest.raises(MissingVariableError, match="cloud_fraction"):
        usable_frames(aurora_cube(), max_cloud_fraction=0.5)
    flags = usable_frames(aurora_cube(), max_moon_elevation=90.0, max_sun_elevation=None)
    assert "moon_elevation" in flags
    assert flags.usable.values.sum() == 8


@pytest.mark.parametrize("chunks", [None, 3])
def test_occurrence_from_cube_fcn(chunks: int | None) -> None:
    ds = aurora_cube(chunks)
    cells = cell_grid_of(square_cells(16, 4))
    with raise_if_dask_computes():
        occ = occurrence_from_cube(ds, detector="fcn", cells=cells, mlt_bins=24)
    occ = occ.compute()
    mlt = occ.n_observed.sum("cell") / 16
    assert int(mlt.sum()) == 8  # the blank and the saturated frame are left out
    assert int(occ.n_aurora.sel(cell=0).sum()) == 8
    assert int(occ.n_aurora.sel(cell=15).sum()) == 4  # frames 0, 2, 4, 6 (8 is saturated)
    assert int(occ.n_aurora.sel(cell=5).sum()) == 0
    assert occ.attrs["station_code"] == "JBS"
    assert occ.attrs["detector"] == "fcn"
    assert "cell_mlat" in occ.coords
    # 12:00 UT at JBS is about 03:45 MLT
    busy = occ.mlt.values[occ.n_observed.sum("cell").values > 0]
    assert set(busy) <= {3.5, 4.5}


def test_occurrence_from_cube_difference_and_errors() -> None:
    ds = aurora_cube(5)
    cells = square_cells(16, 4)
    occ = occurrence_from_cube(
        ds, detector="difference", cells=cells, usable=False, mlt_bins=1
    ).compute()
    assert int(occ.n_observed.values[0, 0]) == 8  # frames 2..9 have a partner
    assert occ.attrs["detector"] == "difference"
    assert occ.attrs["difference_lag"] == "2min"
    with pytest.raises(OptionError, match="expected detector one of"):
        occurrence_from_cube(ds, detector="magic", cells=cells)
    with pytest.raises(TypeError, match="'method'"):  # renamed, no shim
        occurrence_from_cube(ds, method="difference", cells=cells)  # type: ignore[call-arg]
    with pytest.raises(MissingVariableError, match="model"):
        occurrence_from_cube(ds.drop_vars("aurora_mask"), detector="fcn", cells=cells)


@pytest.mark.parametrize("by", [None, "season"])
def test_product_round_trip(tmp_path: Path, by: str | None) -> None:
    ds = aurora_cube(4)
    occ = occurrence_from_cube(ds, detector="fcn", cells=cell_grid_of(square_cells(16, 4)), by=by)
    path = to_netcdf(occ, tmp_path / "occ.nc")
    back = open_product(path)
    written = prepare_product(occ).compute()
    assert back.attrs.pop("history").endswith("aurora_xr.io.products.to_netcdf")
    written.attrs.pop("history")
    xr.testing.assert_identical(back, written)
    for name, var in back.variables.items():
        if name != "mlt_bounds":
            assert "units" in var.attrs or var.dtype.kind in "OUS", name
        assert "long_name" in var.attrs, name
    assert back.attrs["Conventions"] == "CF-1.8"
    assert back.mlt.attrs["bounds"] == "mlt_bounds"
    assert not list(tmp_path.glob(".*tmp"))


def test_products_carry_the_cell_grid_geometry(tmp_path: Path) -> None:
    from aurora_xr import synthetic_cube
    from aurora_xr.analysis.compare import compare_methods
    from aurora_xr.detect.segmentation import ChannelThresholdPredictor

    ds = synthetic_cube(start="2020-06-19T06:00", n_frames=4, cadence="2min", size=64, seed=1)
    grid = ds.aurora.cells(n_cells=100)
    occ = occurrence_from_cube(ds, detector="difference", cells=grid)
    cmp = compare_methods(ds, ChannelThresholdPredictor(), cells=grid)
    back = open_product(to_netcdf(cmp, tmp_path / "cmp.nc"))
    for product in (occ, cmp, back):
        assert product.attrs["magnetic_north_azimuth"] == pytest.approx(
            grid.attrs["magnetic_north_azimuth"]
        )
        assert product.attrs["cell_altitude_km"] == grid.attrs["altitude_km"] == 110.0
        assert product.attrs["cell_area_km2"] == pytest.approx(grid.attrs["cell_area_km2"])
        assert product.attrs["cell_epoch"] == grid.attrs["epoch"]
