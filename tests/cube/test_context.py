"""The cube context: resolved once from coordinates and attributes, never from the frames."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import xarray as xr

from aurora_xr.cube import build, context
from aurora_xr.cube.context import CubeContext, cube_context
from aurora_xr.errors import (
    MissingCalibrationError,
    MissingDimensionError,
    MissingVariableError,
    OptionError,
    SchemaError,
)
from aurora_xr.geo.aacgm import magnetic_north_azimuth
from aurora_xr.sky.lens import Calibration, sky_grids
from tests.conftest import raise_if_dask_computes

TIMES = np.array(
    ["2019-12-31T23:00", "2020-03-01T00:00", "2020-06-21T00:00", "2020-06-21T00:01"], "M8[ns]"
)


@pytest.fixture(scope="module")
def cube() -> xr.Dataset:
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, size=(4, 24, 32, 3), dtype=np.uint8)
    return build.cube_from_frames(frames, TIMES)


def test_context_reads_the_cube(cube: xr.Dataset) -> None:
    ctx = cube_context(cube)
    assert ctx.shape == (24, 32)
    assert ctx.channels == ("R", "G", "B")
    np.testing.assert_array_equal(ctx.times, TIMES)
    assert ctx.chunks is None
    assert ctx.calibration == Calibration.from_attrs(cube.attrs)
    assert ctx.site == ("JBS", -74.62, 164.22, pytest.approx(0.03))
    assert set(ctx.attrs) == {k for k in cube.attrs if k.startswith(("station_", "calibration_"))}
    assert ctx.station_attrs["station_code"] == "JBS"
    el, _ = ctx.sky_grids
    np.testing.assert_array_equal(el, cube["elevation"].values.astype(np.float64))
    np.testing.assert_array_equal(ctx.sky_mask, np.isfinite(cube["elevation"].values))


def test_context_of_a_chunked_cube_computes_nothing(cube: xr.Dataset) -> None:
    lazy = cube.chunk({"time": 2})  # makes elevation/azimuth lazy too
    assert lazy["elevation"].chunks is not None
    with raise_if_dask_computes():
        ctx = cube_context(lazy)
        el, az = ctx.sky_grids
    assert ctx.chunks == (2, 2)
    expected_el, expected_az = sky_grids(Calibration.from_attrs(cube.attrs))
    np.testing.assert_array_equal(el, expected_el.astype(np.float64))
    np.testing.assert_array_equal(az, expected_az.astype(np.float64))


def test_epoch_and_magnetic_north(cube: xr.Dataset) -> None:
    ctx = cube_context(cube)
    # frames span 2019-12-31 .. 2020-06-21: the middle time is in 2020
    assert ctx.epoch() == dt.datetime(2020, 7, 2)
    assert ctx.epoch(2018) == dt.datetime(2018, 7, 2)
    north = ctx.magnetic_north(altitude_km=110.0)
    assert north == magnetic_north_azimuth(-74.62, 164.22, when=2020, altitude_km=110.0)
    assert ctx.frames(1, 3).times.tolist() == TIMES[1:3].tolist()
    assert ctx.frames(1, 3).chunks is None


def test_missing_parts_raise_when_asked(cube: xr.Dataset) -> None:
    bare = cube.copy()
    bare.attrs = {}
    ctx = cube_context(bare)  # a cube without attributes still resolves
    with pytest.raises(SchemaError, match="station"):
        ctx.require_site()
    with pytest.raises(MissingCalibrationError, match="calibration"):
        ctx.require_calibration()
    per_frame = cube_context(xr.DataArray(np.zeros(4), dims="time", coords={"time": TIMES}))
    assert per_frame.shape is None
    with pytest.raises(MissingDimensionError, match=r"\('y', 'x'\).*\('time',\)"):
        per_frame.require_shape()
    no_time = cube_context(cube["elevation"])
    with pytest.raises(MissingVariableError, match="'time'"):
        no_time.require_times()
    with pytest.raises(OptionError, match="cell grid"):
        no_time.require_cells()
    with pytest.raises(SchemaError, match="xarray"):
        cube_context(np.zeros((2, 2)))  # type: ignore[arg-type]


def test_the_frames_variable_is_checked_when_the_caller_reads_frames(cube: xr.Dataset) -> None:
    renamed = cube.rename(image="frames")
    cube_context(renamed)  # only coordinates are needed
    with pytest.raises(MissingVariableError, match="'image'"):
        cube_context(renamed, require_image=True)
    assert cube_context(renamed, image_var="frames", require_image=True).channels == (
        "R",
        "G",
        "B",
    )


def test_a_context_is_immutable_and_carries_cells(cube: xr.Dataset) -> None:
    ctx = cube_context(cube)
    with pytest.raises(AttributeError):
        ctx.shape = (1, 1)  # type: ignore[misc]
    labels = xr.DataArray(np.zeros((24, 32), np.int32), dims=("y", "x"))
    with_cells = ctx.with_cells(context.CellIndex(labels, 1, None))
    assert ctx.cells is None
    assert with_cells.require_cells().n_cells == 1
    assert isinstance(with_cells, CubeContext)
    assert context.context_of(cube, with_cells) is with_cells
