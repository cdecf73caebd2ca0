"""Tests of aurora_xr.detect.difference (Jee et al. 2021 difference method)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from aurora_xr.detect.difference import DEFAULT_THRESHOLDS, difference_detect
from aurora_xr.detect.difference_kernels import partner_indices
from aurora_xr.errors import OptionError
from tests._pipeline_cubes import cell_grid_of, make_cube, square_cells
from tests.conftest import raise_if_dask_computes

T0 = np.datetime64("2020-06-20T00:00", "ns")


def minutes(*values: float) -> np.ndarray:
    return T0 + (np.asarray(values) * 60e9).astype("timedelta64[ns]")


def test_partner_indices_exact_with_gaps() -> None:
    times = minutes(0, 1, 2, 3, 5, 6, 7)
    index, observed = partner_indices(times, "2min")
    np.testing.assert_array_equal(observed, [False, False, True, True, True, False, True])
    np.testing.assert_array_equal(index, [0, 1, 0, 1, 3, 5, 4])
    index, observed = partner_indices(times, np.timedelta64(1, "m"))
    np.testing.assert_array_equal(observed, [False, True, True, True, False, True, True])


def test_partner_indices_tolerance() -> None:
    times = minutes(0, 1.05, 2.0, 3.2, 4.0)
    _, observed = partner_indices(times, "2min")
    np.testing.assert_array_equal(observed, [False, False, True, False, True])
    index, observed = partner_indices(times, "2min", tolerance="10s")
    # 3.2 -> 1.2 (nearest 1.05, 9 s away); 4.0 -> 2.0 exact
    np.testing.assert_array_equal(observed, [False, False, True, True, True])
    np.testing.assert_array_equal(index[2:], [0, 1, 2])
    with pytest.raises(OptionError, match="positive lag"):
        partner_indices(times, "-2min")
    with pytest.raises(OptionError, match="time interval"):
        partner_indices(times, "two minutes")


def flat_cube(n: int = 8, chunks: int | None = None) -> xr.Dataset:
    """Constant frames (20 everywhere) with exact changes placed by the tests."""
    ds = make_cube(n, 16, noise=0)
    return ds.chunk({"time": chunks}) if chunks else ds


def test_statistics_exact() -> None:
    ds = flat_cube(4)
    image = ds.image.values.copy()
    # frame 2 vs frame 0: +8 in R on 8 of the 16 pixels of cell 5 (rows 4-7, cols 4-7)
    image[2, 4:6, 4:8, 0] += 8
    # frame 3 vs frame 1: -6 in G on all 16 pixels of cell 0, +4 on cell 15 in R
    image[3, 0:4, 0:4, 1] -= 6
    image[3, 12:16, 12:16, 0] += 4
    ds = ds.assign(image=(ds.image.dims, image))
    cells = square_cells(16, 4)
    expected = {
        "mean_abs": (4.0, 6.0, 4.0),
        "abs_mean": (4.0, 6.0, 4.0),
        "rms": (np.sqrt(32.0), 6.0, 4.0),
    }
    for statistic, (c5, c0, c15) in expected.items():
        out = difference_detect(ds, cells=cells, statistic=statistic, threshold=100)
        stat = out.difference_statistic
        assert stat.dims == ("time", "cell", "channel")
        assert list(stat.channel.values) == ["R", "G"]
        assert np.isnan(stat.isel(time=[0, 1])).all()
        frame2 = stat.isel(time=2).values
        np.testing.assert_allclose(frame2[5], [c5, 0.0], rtol=1e-6)
        assert np.count_nonzero(frame2) == 1
        frame3 = stat.isel(time=3).values
        np.testing.assert_allclose(frame3[0], [0.0, c0], rtol=1e-6)
        np.testing.assert_allclose(frame3[15], [c15, 0.0], rtol=1e-6)
        assert np.count_nonzero(frame3) == 2

    out = difference_detect(ds, cells=cells, threshold={"R": 3.9, "G": 6.0})
    det = out.difference_detection.values
    assert det.dtype == bool
    assert out.difference_detection.dims == ("time", "cell")
    assert set(zip(*np.nonzero(det), strict=True)) == {(2, 5), (3, 15)}  # G 6.0 is not > 6.0
    np.testing.assert_array_equal(out.difference_observed.values, [False, False, True, True])
    assert out.attrs["difference_threshold_R"] == 3.9
    assert out.attrs["detector"] == "difference"
    assert out.attrs["difference_lag"] == "2min"


def test_frames_without_partner_not_observed() -> None:
    times = minutes(0, 1, 2, 10, 11, 12, 13)
    ds = make_cube(times=times, size=16, noise=30, seed=2)
    out = difference_detect(ds, cells=square_cells(16, 4), threshold=0.0)
    observed = out.difference_observed.values
    np.testing.assert_array_equal(observed, [False, False, True, False, False, True, True])
    det = out.difference_detection.values
    assert not det[~observed].any()
    assert det[observed].all()  # threshold 0 and noisy frames: every observed cell detects
    assert np.isnan(out.difference_statistic.values[~observed]).all()


def test_partner_across_chunk_boundary() -> None:
    ds = flat_cube(9)
    image = ds.image.values.copy()
    image[3, 8:12, 0:4, 1] += 10  # frame 3 (2nd chunk) vs frame 1 (1st chunk): G cell 8
    image[6, 0:4, 8:12, 0] += 12  # frame 6 (3rd chunk) vs frame 4 (2nd chunk): R cell 2
    ds = ds.assign(image=(ds.image.dims, image)).chunk({"time": 3})
    cells = square_cells(16, 4)
    out = difference_detect(ds, cells=cells, threshold=5.0)
    assert out.difference_detection.chunks == ((3, 3, 3), (16,))
    det = out.difference_detection.compute().values
    # each change is seen at its own frame and again (negated) two frames later
    assert set(zip(*np.nonzero(det), strict=True)) == {(3, 8), (5, 8), (6, 2), (8, 2)}
    stat = out.difference_statistic.compute()
    assert float(stat.sel(channel="G").isel(time=3, cell=8)) == 10.0
    assert float(stat.sel(channel="R").isel(time=6, cell=2)) == 12.0


@pytest.mark.parametrize("statistic", ["mean_abs", "abs_mean", "rms"])
def test_chunked_identical_to_in_memory(statistic: str) -> None:
    ds = make_cube(11, 16, noise=8, seed=7)
    cells = cell_grid_of(square_cells(16, 4, border=1))
    eager = difference_detect(ds, cells=cells, statistic=statistic)
    lazy = difference_detect(ds.chunk({"time": 4}), cells=cells, statistic=statistic)
    assert lazy.difference_detection.chunks is not None
    xr.testing.assert_identical(lazy.compute(), eager)
    assert "cell_mlat" in eager.coords
    np.testing.assert_array_equal(eager.cell.values, np.arange(16))


@pytest.mark.parametrize("chunks", [1, (1, 3, 2, 1, 1, 5)])
def test_chunks_shorter_than_the_lag(chunks: int | tuple[int, ...]) -> None:
    times = minutes(0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13)
    ds = make_cube(times=times, size=16, noise=8, seed=9)
    cells = square_cells(16, 4)
    eager = difference_detect(ds, cells=cells, lag="3min")
    lazy = difference_detect(ds.chunk({"time": chunks}), cells=cells, lag="3min")
    xr.testing.assert_identical(lazy.compute(), eager)
    np.testing.assert_array_equal(
        eager.difference_observed.values, [0, 0, 0, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1]
    )


def test_difference_detect_is_lazy() -> None:
    ds = make_cube(12, 16, noise=8, chunks=5)
    with raise_if_dask_computes():
        out = difference_detect(ds, cells=square_cells(16, 4), lag="1min")
        det = out.difference_detection
        det.sum()
    assert det.chunks == ((5, 5, 2), (16,))


def test_uint16_defaults_scaled() -> None:
    ds = flat_cube(3)
    image = ds.image.values.astype(np.uint16) * 257
    default = DEFAULT_THRESHOLDS["mean_abs"]
    image[2, 0:4, 0:4, 0] += round(257 * (default["R"] + 1))  # cell 0: above in R
    image[2, 0:4, 4:8, 0] += round(257 * (default["R"] - 1))  # cell 1: below in R
    image[2, 0:4, 8:12, 1] += round(257 * (default["G"] + 1))  # cell 2: above in G
    ds16 = ds.assign(image=(ds.image.dims, image))
    out = difference_detect(ds16, cells=square_cells(16, 4))
    assert out.attrs["difference_threshold_R"] == pytest.approx(default["R"] * 65535 / 255)
    assert out.attrs["difference_threshold_G"] == pytest.approx(default["G"] * 65535 / 255)
    np.testing.assert_array_equal(np.flatnonzero(out.difference_detection.values[2]), [0, 2])


def test_bad_options() -> None:
    ds = flat_cube(3)
    cells = square_cells(16, 4)
    with pytest.raises(OptionError, match="statistic"):
        difference_detect(ds, cells=cells, statistic="median")
    with pytest.raises(OptionError, match="channels"):
        difference_detect(ds, cells=cells, channels=("R", "N"))
    with pytest.raises(OptionError, match="missing"):
        difference_detect(ds, cells=cells, threshold={"R": 3})
    with pytest.raises(OptionError, match="2 thresholds"):
        difference_detect(ds, cells=cells, threshold=[1, 2, 3])
    with pytest.raises(OptionError, match="positive lag"):
        difference_detect(ds, cells=cells, lag=pd.Timedelta(0))
