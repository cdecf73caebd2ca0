"""Tests of aurora_xr.analysis.compare.compare_methods on a hand-made sky with known truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from aurora_xr.analysis.compare import compare_methods
from aurora_xr.analysis.skill import truth_kind_kernel
from aurora_xr.detect.segmentation import ChannelThresholdPredictor
from aurora_xr.errors import MissingVariableError
from aurora_xr.io.products import open_product, to_netcdf
from tests._pipeline_cubes import cell_grid_of, make_cube, square_cells
from tests.conftest import raise_if_dask_computes

N = 8
PREDICTOR = ChannelThresholdPredictor(channel="G", low=50.0, high=100.0)


def sky(chunks: int | None = None) -> xr.Dataset:
    """A stationary arc filling cell 0 in every frame (identical frames), and a dynamic
    form that jumps between cells 12..15 (cell 12 + t % 4), on a flat dark sky."""
    ds = make_cube(N, 16, noise=0, background=20, start="2020-06-20T12:00")
    image = ds.image.values.copy()
    truth = np.zeros((N, 16, 16), bool)
    kind = np.zeros((N, 16, 16), np.uint8)
    truth[:, 0:4, 0:4] = True
    kind[:, 0:4, 0:4] = 2
    for t in range(N):
        col = 4 * (t % 4)
        truth[t, 12:16, col : col + 4] = True
        kind[t, 12:16, col : col + 4] = 1
    image[truth, 1] = 120
    ds = ds.assign(
        image=(ds.image.dims, image),
        aurora_truth=(("time", "y", "x"), truth),
        aurora_kind=(("time", "y", "x"), kind),
    )
    return ds.chunk({"time": chunks}) if chunks else ds


CELLS = cell_grid_of(square_cells(16, 4))


def test_truth_kind_kernel_majority() -> None:
    truth = np.ones((1, 2, 4), bool)
    kind = np.array([[[1, 2, 2, 1], [2, 2, 1, 0]]], np.uint8)
    index = np.array([[0, 0, 1, 1], [0, 0, 1, 2]])
    # cell 0: 1 dynamic, 3 stationary -> 2; cell 1: 2 dynamic, 1 stationary -> 1;
    # cell 2: kind 0 only -> 0
    np.testing.assert_array_equal(truth_kind_kernel(truth, kind, index, n_cells=3), [[2, 1, 0]])
    kind[0, 1, 2] = 0  # cell 1 now 1 dynamic, 1 stationary: a tie counts as dynamic
    np.testing.assert_array_equal(truth_kind_kernel(truth, kind, index, n_cells=3), [[2, 1, 0]])


def test_difference_misses_stationary_fcn_finds_it() -> None:
    out = compare_methods(sky(), PREDICTOR, cells=CELLS, usable=False, mlt_bins=24)
    assert list(out.detector.values) == ["fcn", "difference"]
    assert list(out.form.values) == ["all", "dynamic", "stationary"]
    recall = out.recall.to_pandas()
    assert recall.loc["fcn", "stationary"] == 1.0
    assert recall.loc["fcn", "dynamic"] == 1.0
    assert recall.loc["difference", "stationary"] == 0.0
    assert recall.loc["difference", "dynamic"] == 1.0
    # 6 compared frames (2..7): the FCN finds both forms; the difference method finds the
    # dynamic form where it arrived and flags the cell it left (a false positive)
    tp = out.n_true_positive.to_pandas()
    assert tp.loc["fcn"].tolist() == [12, 6, 6]
    assert tp.loc["difference"].tolist() == [6, 6, 0]
    assert out.n_false_positive.sel({"detector": "fcn", "form": "all"}) == 0
    assert out.n_false_positive.sel({"detector": "difference", "form": "all"}) == 6
    assert out.n_false_negative.sel({"detector": "difference", "form": "stationary"}) == 6
    assert float(out.precision.sel({"detector": "difference", "form": "all"})) == 0.5
    assert float(out.f1.sel({"detector": "difference", "form": "all"})) == 0.5
    assert float(out.f1.sel({"detector": "fcn", "form": "all"})) == 1.0
    # agreement
    assert int(out.n_compared_frames) == 6
    assert out.n_only_fcn.sel(cell=0) == 6
    assert out.n_both.sel(cell=0) == 0
    # cell 12 holds the dynamic form at t = 0 and 4; of the compared frames 2..7 the
    # difference method flags it at t = 2 and 6 (left) and 4 (arrived)
    assert out.n_both.sel(cell=12) == 1
    assert out.n_only_difference.sel(cell=12) == 2
    assert out.n_neither.sel(cell=12) == 3
    assert float(out.agreement.sel(cell=12)) == pytest.approx(4 / 6)
    assert float(out.agreement.sel(cell=5)) == 1.0
    frame = out.frame_agreement.values
    assert np.isnan(frame[:2]).all()
    np.testing.assert_allclose(frame[2:], 14 / 16)  # cell 0 and the cell just left differ
    # occurrence on the detector dimension
    assert out.occurrence_rate.dims == ("detector", "mlt", "cell")
    n_obs = out.n_observed.sum("mlt").sel(cell=0)
    assert n_obs.values.tolist() == [8, 6]
    rate = (out.n_aurora.sum("mlt") / out.n_observed.sum("mlt")).sel(cell=0)
    assert rate.values.tolist() == [1.0, 0.0]
    assert np.isnan(out.rate_ratio.sel(cell=0)).all()  # the difference rate is 0 there
    fcn_rate = out.occurrence_rate.sel({"detector": "fcn"}, drop=True)
    diff_rate = out.occurrence_rate.sel({"detector": "difference"}, drop=True)
    ratio = (fcn_rate / diff_rate).where(diff_rate > 0)
    xr.testing.assert_allclose(out.rate_ratio, ratio.astype(np.float32))
    assert int((out.rate_ratio > 0).sum()) > 0
    assert float(out.overall_rate.sel({"detector": "fcn"})) == pytest.approx(16 / 128)
    assert float(out.overall_rate.sel({"detector": "difference"})) == pytest.approx(12 / 96)
    assert float(out.overall_rate_ratio) == pytest.approx(1.0)
    assert out.attrs["detector"] == "fcn,difference"
    assert out.attrs["model_name"] == "channel_threshold"
    assert out.attrs["difference_lag"] == "2min"


def test_detector_dimension_selects_by_keyword_and_survives_netcdf(tmp_path: Path) -> None:
    out = compare_methods(sky(), PREDICTOR, cells=CELLS, usable=False, mlt_bins=4)
    assert "method" not in out.variables
    # the old name clashed with the fill-method argument of Dataset.sel; `detector` is a label
    fcn = out.sel(detector="fcn")
    xr.testing.assert_identical(fcn, out.isel(detector=0))
    assert fcn.detector.item() == "fcn"
    assert fcn.n_true_positive.values.tolist() == [12, 6, 6]
    assert fcn.recall.values.tolist() == [1.0, 1.0, 1.0]
    difference = out.sel(detector="difference")
    xr.testing.assert_identical(difference, out.isel(detector=1))
    assert difference.recall.values.tolist() == [0.5, 1.0, 0.0]
    attrs = out.detector.attrs
    assert attrs == {
        "long_name": "detection method",
        "comment": "fcn: cells of the FCN segmentation's aurora_mask; "
        "difference: the frame-difference method of Jee et al. (2021)",
    }
    back = open_product(to_netcdf(out, tmp_path / "compare.nc"))
    assert back.detector.dims == ("detector",)
    assert back.detector.values.tolist() == ["fcn", "difference"]
    assert back.detector.attrs == attrs
    assert back.occurrence_rate.dims == ("detector", "mlt", "cell")
    xr.testing.assert_equal(back.sel(detector="fcn").n_aurora, fcn.n_aurora)
    xr.testing.assert_equal(back.sel(detector="difference").f1, difference.f1)
    assert back.attrs["detector"] == "fcn,difference"


def test_compare_uses_existing_mask_and_needs_one() -> None:
    ds = sky()
    truth_mask = ds.assign(aurora_mask=ds.aurora_truth)
    out = compare_methods(truth_mask, cells=CELLS, usable=False)
    assert out.recall.sel({"detector": "fcn"}).values.tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(MissingVariableError, match="model"):
        compare_methods(ds, cells=CELLS, usable=False)


def test_compare_lazy_and_chunked_equals_in_memory(tmp_path: Path) -> None:
    with raise_if_dask_computes():
        lazy = compare_methods(sky(3), PREDICTOR, cells=CELLS, mlt_bins=4)
    assert lazy.n_true_positive.chunks is not None
    eager = compare_methods(sky(), PREDICTOR, cells=CELLS, mlt_bins=4)
    computed = lazy.compute()
    xr.testing.assert_identical(computed, eager)
    path = to_netcdf(lazy, tmp_path / "compare.nc")
    back = open_product(path)
    back.attrs.pop("history")
    from aurora_xr.io.products import prepare_product

    expected = prepare_product(eager)
    expected.attrs.pop("history")
    xr.testing.assert_identical(back, expected)


def test_compare_on_synthetic_sky_with_real_grid() -> None:
    datasets = pytest.importorskip("aurora_xr.datasets")
    cube = datasets.synthetic_cube(start="2020-06-21T06:00", n_frames=8, size=128, seed=4, chunks=4)
    truth_as_mask = cube.assign(aurora_mask=cube.aurora_truth)
    with raise_if_dask_computes():
        out = compare_methods(truth_as_mask, mlt_bins=24)
    assert out.sizes["cell"] == 400
    assert "cell_vertices_mlat" in out.coords
    out = out.compute()
    # the truth itself as the "FCN": perfect wherever there is truth aurora
    fcn = out.sel({"detector": "fcn"})
    assert (fcn.n_false_positive == 0).all()
    assert (fcn.n_false_negative == 0).all()
    assert int(out.n_compared_frames) <= 6
    np.testing.assert_array_equal(
        out.n_observed.sum("mlt").values.max(axis=1)[1], int(out.n_compared_frames)
    )
