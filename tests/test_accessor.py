"""The .aurora accessor forwards to the public functions, on in-memory and chunked cubes."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import aurora_xr
from aurora_xr.analysis import cube_occurrence
from aurora_xr.cube import frames
from aurora_xr.cube import grid as cells_mod
from aurora_xr.detect import difference
from aurora_xr.detect.segmentation import ChannelThresholdPredictor
from tests.conftest import raise_if_dask_computes


@pytest.fixture(scope="module")
def cube() -> xr.Dataset:
    return aurora_xr.synthetic_cube(start="2020-06-21T07:00", n_frames=6, size=112, seed=3)


@pytest.fixture(scope="module", params=["memory", "chunked"])
def ds(request: pytest.FixtureRequest, cube: xr.Dataset) -> xr.Dataset:
    return cube if request.param == "memory" else cube.chunk({"time": 2})


@pytest.fixture(scope="module")
def grid(cube: xr.Dataset) -> xr.Dataset:
    return cells_mod.cell_grid(cube)


def test_accessor_is_registered_on_dataset_and_dataarray(cube: xr.Dataset) -> None:
    assert isinstance(cube.aurora, aurora_xr.accessor.AuroraDatasetAccessor)
    assert isinstance(cube["image"].aurora, aurora_xr.accessor.AuroraDataArrayAccessor)


def test_accessor_methods_borrow_the_function_docstrings() -> None:
    acc = aurora_xr.accessor.AuroraDatasetAccessor
    assert acc.segment.__doc__ == aurora_xr.segment.__doc__
    assert acc.cells.__doc__ == cells_mod.cell_grid.__doc__
    assert acc.occurrence_map.__doc__ == cube_occurrence.occurrence_from_cube.__doc__


def test_cells_and_mlt_forward(ds: xr.Dataset, grid: xr.Dataset) -> None:
    with raise_if_dask_computes():
        got = ds.aurora.cells()
        mlt = ds.aurora.mlt()
    xr.testing.assert_identical(got, grid)
    np.testing.assert_array_equal(mlt.values, frames.mlt(ds).values)
    assert mlt.sizes == {"time": 6}


def test_segment_and_difference_forward_lazily(ds: xr.Dataset, grid: xr.Dataset) -> None:
    predictor = ChannelThresholdPredictor(low=30.0, high=60.0)
    with raise_if_dask_computes():
        seg = ds.aurora.segment(predictor)
        det = ds.aurora.difference_detect(cells=grid, lag="1min")
    expected = aurora_xr.segment(ds, predictor)
    xr.testing.assert_identical(seg.compute(), expected.compute())
    xr.testing.assert_identical(
        det.compute(), difference.difference_detect(ds, cells=grid, lag="1min").compute()
    )
    direct = predictor(np.asarray(ds["image"].values))
    np.testing.assert_array_equal(seg["aurora_probability"].values, direct)


def test_occurrence_map_forwards(ds: xr.Dataset, grid: xr.Dataset) -> None:
    predictor = ChannelThresholdPredictor(low=30.0, high=60.0)
    seg = ds.aurora.segment(predictor)
    with raise_if_dask_computes():
        occ = seg.aurora.occurrence_map(detector="fcn", cells=grid)
    assert occ["occurrence_rate"].dims == ("mlt", "cell")
    expected = cube_occurrence.occurrence_from_cube(seg, detector="fcn", cells=grid)
    xr.testing.assert_identical(occ.compute(), expected.compute())


def test_to_netcdf_picks_the_product_writer(tmp_path, cube: xr.Dataset, grid: xr.Dataset) -> None:  # type: ignore[no-untyped-def]
    seg = cube.aurora.segment(ChannelThresholdPredictor(low=30.0, high=60.0))
    occ = seg.aurora.occurrence_map(detector="fcn", cells=grid).compute()
    path = occ.aurora.to_netcdf(tmp_path / "occ.nc")
    back = aurora_xr.open_product(path)
    np.testing.assert_array_equal(back["n_observed"].values, occ["n_observed"].values)
    cube_path = cube.aurora.to_netcdf(tmp_path / "cube.nc")
    reopened = aurora_xr.open_cube(cube_path)
    np.testing.assert_array_equal(reopened["image"].values, cube["image"].values)
