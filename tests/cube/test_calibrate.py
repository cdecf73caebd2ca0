"""A cube ingested without calibration gets one afterwards, with its obstruction mask."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import aurora_xr
from aurora_xr.cube.build import cube_from_frames
from aurora_xr.cube.calibrate import with_calibration
from aurora_xr.cube.context import cube_context
from aurora_xr.cube.grid import cell_grid
from aurora_xr.errors import CalibrationError, FrameSizeError
from aurora_xr.sky.lens import Calibration, sky_grids
from aurora_xr.sky.skymap import Skymap
from aurora_xr.sky.stations import get_station
from tests.conftest import raise_if_dask_computes

TIMES = np.array(["2020-06-21T00:00", "2020-06-21T00:02"], "M8[ns]")
LENS = Calibration(width=96, height=80, zenith_x=47.5, zenith_y=39.5, lens_radius=38.0)


@pytest.fixture(scope="module")
def bare() -> xr.Dataset:
    """A cube of a known site and an unknown lens, as ingest makes it."""
    cube = cube_from_frames(np.zeros((2, 80, 96), np.uint16), TIMES, calibration=LENS)
    cube = cube.drop_vars(["elevation", "azimuth"])
    cube.attrs = {k: v for k, v in cube.attrs.items() if not k.startswith("calibration_")}
    return cube


def test_with_calibration_sets_the_lens_and_its_grids(bare: xr.Dataset) -> None:
    assert cube_context(bare).calibration is None
    with raise_if_dask_computes():
        cube = with_calibration(bare.chunk({"time": 1}), LENS)
    el, az = sky_grids(LENS)
    np.testing.assert_array_equal(cube["elevation"].values, el)
    np.testing.assert_array_equal(cube["azimuth"].values, az)
    assert cube.attrs["calibration_lens_radius"] == 38.0
    assert cube.attrs["station_code"] == "JBS"
    assert "calibration set" in cube.attrs["history"]
    assert cube_context(cube).calibration == LENS
    by_accessor = bare.aurora.with_calibration(LENS)
    direct = with_calibration(bare, LENS)
    by_accessor.attrs.pop("history")
    direct.attrs.pop("history")
    xr.testing.assert_identical(by_accessor, direct)


def test_a_skymap_calibration_gives_its_own_grids(bare: xr.Dataset) -> None:
    el, az = sky_grids(LENS)
    skymap = Skymap(elevation=el, azimuth=az, name="hand-made", checksum="0" * 64)
    cube = with_calibration(bare, skymap)
    assert cube.attrs["calibration_kind"] == "skymap"
    np.testing.assert_array_equal(cube["elevation"].values, el)
    ctx = cube_context(cube)
    assert ctx.calibration is not None
    assert ctx.calibration.kind == "skymap"


def test_obstructed_pixels_belong_to_no_cell(bare: xr.Dataset) -> None:
    mast = np.zeros((80, 96), bool)
    mast[10:40, 45:50] = True  # a mast from the horizon to near the zenith
    plain = cell_grid(with_calibration(bare, LENS), n_cells=12)
    cube = with_calibration(bare, LENS, obstruction=mast)
    grid = cell_grid(cube, n_cells=12)
    labels = grid["cell_index"].values
    assert np.all(labels[mast] == -1)
    np.testing.assert_array_equal(labels[~mast], plain["cell_index"].values[~mast])
    removed = np.bincount(plain["cell_index"].values[mast & (plain["cell_index"].values >= 0)])
    lost = plain["cell_pixel_count"].values[: removed.size] - removed
    np.testing.assert_array_equal(grid["cell_pixel_count"].values[: removed.size], lost)
    assert not cube_context(cube).sky_mask[mast].any()
    visible = grid["cell_visible_fraction"].values
    np.testing.assert_allclose(visible, grid["cell_pixel_count"] / plain["cell_pixel_count"])
    assert visible.min() < 1.0
    assert visible.max() == 1.0


def test_a_cell_hidden_entirely_is_never_observed(bare: xr.Dataset) -> None:
    hidden = np.zeros((80, 96), bool)
    hidden[:40, :] = True  # the northern half of the frame
    cube = with_calibration(bare, LENS, obstruction=hidden)
    grid = cell_grid(cube, n_cells=12)
    dark = grid["cell_pixel_count"].values == 0
    assert dark.any()
    assert not dark.all()
    mask = xr.zeros_like(cube["image"].isel(channel=0), dtype=bool).rename("aurora_mask")
    mask[:, 60:, :] = True  # aurora in the southern, visible part
    detections = aurora_xr.cell_detections(cube.assign(aurora_mask=mask), cells=grid)
    occ = aurora_xr.occurrence_map(detections, mlt=np.zeros(2), mlt_bins=1)
    assert np.isnan(occ["occurrence_rate"].values[0, dark]).all()
    assert (occ["n_observed"].values[0, dark] == 0).all()
    assert (occ["n_observed"].values[0, ~dark] == 2).all()


def test_bad_calibrations_are_refused(bare: xr.Dataset) -> None:
    with pytest.raises(FrameSizeError, match="80x96"):
        with_calibration(bare, LENS.scaled(64, 64))
    with pytest.raises(FrameSizeError, match="obstruction mask of 80x96"):
        with_calibration(bare, LENS, obstruction=np.zeros((8, 8), bool))
    with pytest.raises(CalibrationError, match="found dict"):
        with_calibration(bare, {"lens_radius": 3})  # type: ignore[arg-type]


def test_the_new_calibration_reaches_the_pipeline(bare: xr.Dataset) -> None:
    cube = with_calibration(bare, LENS)
    assert get_station(cube.attrs["station_code"]).code == "JBS"
    out = aurora_xr.magnetic_coords(cube)
    assert np.isfinite(out["mlat"].values[40, 48])
