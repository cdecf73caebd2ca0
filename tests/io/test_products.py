"""Tests of aurora_xr.io.products: the CF attributes of the ``detector`` coordinate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from aurora_xr.io.products import open_product, prepare_product, to_netcdf

DETECTOR_CF = {
    "long_name": "detection method",
    "comment": "fcn: cells of the FCN segmentation's aurora_mask; "
    "difference: the frame-difference method of Jee et al. (2021)",
}
RATE = np.array([[0.25, 0.5, np.nan], [0.05, 0.0, np.nan]], np.float32)


def _product() -> xr.Dataset:
    return xr.Dataset(
        {"occurrence_rate": (("detector", "cell"), RATE, {"units": "1"})},
        coords={"detector": ["fcn", "difference"], "cell": [0, 1, 2]},
    )


def test_detector_coordinate_gets_cf_attributes_and_round_trips(tmp_path: Path) -> None:
    product = _product()
    assert product.detector.attrs == {}
    prepared = prepare_product(product)
    assert prepared.detector.attrs == DETECTOR_CF
    assert product.detector.attrs == {}  # the caller's Dataset is left alone
    back = open_product(to_netcdf(product, tmp_path / "product.nc"))
    assert back.detector.dims == ("detector",)
    assert back.detector.dtype.kind == "U"
    assert back.detector.values.tolist() == ["fcn", "difference"]
    assert back.detector.attrs == DETECTOR_CF
    np.testing.assert_array_equal(back.occurrence_rate.sel(detector="difference").values, RATE[1])
    np.testing.assert_array_equal(back.occurrence_rate.sel(detector="fcn").values, RATE[0])


def test_own_detector_attributes_win_and_a_single_detector_round_trips(tmp_path: Path) -> None:
    product = _product()
    product["detector"].attrs["comment"] = "my own note"
    back = open_product(to_netcdf(product, tmp_path / "own.nc"))
    assert back.detector.attrs == {"long_name": "detection method", "comment": "my own note"}
    # one row selected (as the demo writes occurrence_fcn.nc): a scalar coordinate
    one = _product().sel(detector="difference")
    back = open_product(to_netcdf(one, tmp_path / "one.nc"))
    assert back.detector.dims == ()
    assert back.detector.item() == "difference"
    assert back.detector.attrs == DETECTOR_CF
    np.testing.assert_array_equal(back.occurrence_rate.values, RATE[1])
