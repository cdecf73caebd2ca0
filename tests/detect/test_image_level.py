"""The one image-level rule: has_aurora (numpy) and frame_flags (xarray, lazy)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from aurora_xr.detect.image_level import (
    MIN_FRACTION,
    PRESENT_VAR,
    SKY_FRACTION_VAR,
    frame_flags,
    has_aurora,
    sky_fraction,
)
from aurora_xr.errors import FrameSizeError, MissingVariableError, OptionError
from tests.conftest import raise_if_dask_computes


def _frames() -> np.ndarray:
    """Five 20 x 20 frames; the sky is the 10 x 20 upper half (200 pixels)."""
    p = np.zeros((5, 20, 20), dtype=np.float32)
    p[1, 0, :2] = 0.5  # 2 of 200 sky pixels at exactly the threshold: 1 %
    p[2, 0, :1] = 0.9  # 1 pixel: 0.5 %
    p[2, 15:, :] = 1.0  # bright, but below the horizon: not sky
    p[3, 0, :2] = 0.4999  # 2 pixels just below the threshold
    p[4, :5, :] = 0.8  # 100 pixels: 50 %
    return p


def _sky() -> np.ndarray:
    sky = np.zeros((20, 20), dtype=bool)
    sky[:10] = True
    return sky


def test_default_rule_is_one_percent_of_the_sky_at_half_probability() -> None:
    assert MIN_FRACTION == 0.01
    p, sky = _frames(), _sky()
    np.testing.assert_array_equal(sky_fraction(p, sky), [0.0, 0.01, 0.005, 0.0, 0.5])
    assert has_aurora(p, sky).tolist() == [False, True, False, False, True]
    # without a lens mask the whole frame (400 pixels) is the sky
    np.testing.assert_array_equal(sky_fraction(p), [0.0, 0.005, 0.2525, 0.0, 0.25])
    assert has_aurora(p).tolist() == [False, False, True, False, True]


def test_min_fraction_and_threshold_are_exact_bounds() -> None:
    p, sky = _frames(), _sky()
    assert has_aurora(p, sky, min_fraction=0.005).tolist() == [False, True, True, False, True]
    assert has_aurora(p, sky, min_fraction=0.5).tolist() == [False, False, False, False, True]
    assert has_aurora(p, sky, min_fraction=0.5000001).tolist() == [False] * 5
    assert has_aurora(p, sky, threshold=0.4999).tolist() == [False, True, False, True, True]
    assert has_aurora(p, sky, threshold=0.81).tolist() == [False, False, False, False, False]
    # one pixel in a hundred, for skies of 100 .. 1000 pixels: float division is exact enough
    for n in range(100, 1001, 100):
        frame = np.zeros((1, 1, n), dtype=np.float32)
        frame[0, 0, : n // 100] = 1.0
        assert bool(has_aurora(frame)[0])
        frame[0, 0, 0] = 0.0
        assert not bool(has_aurora(frame)[0])


def test_masks_single_frames_nan_and_empty_skies() -> None:
    p, sky = _frames(), _sky()
    assert has_aurora(p >= 0.5, sky).tolist() == [False, True, False, False, True]
    single = has_aurora(p[4], sky)
    assert single.shape == ()
    assert bool(single)
    assert float(sky_fraction(p[1], sky)) == 0.01
    nan = np.full((1, 4, 4), np.nan, dtype=np.float32)
    assert has_aurora(nan).tolist() == [False]
    nowhere = np.zeros((20, 20), dtype=bool)
    assert np.isnan(sky_fraction(p, nowhere)).all()
    assert has_aurora(p, nowhere).tolist() == [False] * 5


def test_bad_input_says_what_was_expected() -> None:
    p, sky = _frames(), _sky()
    with pytest.raises(OptionError, match="min_fraction"):
        has_aurora(p, sky, min_fraction=0.0)
    with pytest.raises(OptionError, match="threshold"):
        has_aurora(p, sky, threshold=1.5)
    with pytest.raises(FrameSizeError, match="lens mask"):
        has_aurora(p, sky[:5])
    with pytest.raises(FrameSizeError, match=r"\(n, H, W\)"):
        has_aurora(p[None])


def _segmented(chunks: int | None) -> xr.Dataset:
    p = _frames()
    elevation = np.where(_sky(), 45.0, np.nan).astype(np.float32)
    ds = xr.Dataset(
        {"aurora_probability": (("time", "y", "x"), p, {"threshold": 0.5})},
        coords={
            "time": np.datetime64("2020-06-01T00:00", "ns") + np.arange(5) * np.timedelta64(1, "m"),
            "elevation": (("y", "x"), elevation),
            "azimuth": (("y", "x"), np.zeros((20, 20), np.float32)),
        },
    )
    return ds.chunk({"time": chunks}) if chunks else ds


@pytest.mark.parametrize("chunks", [None, 2])
def test_frame_flags_apply_the_rule_per_frame_lazily(chunks: int | None) -> None:
    ds = _segmented(chunks)
    with raise_if_dask_computes():
        out = frame_flags(ds, lens_mask=_sky())
    present, fraction = out[PRESENT_VAR], out[SKY_FRACTION_VAR]
    assert present.dims == ("time",)
    assert present.dtype == bool
    assert (present.chunks is not None) == (chunks is not None)
    assert present.values.tolist() == [False, True, False, False, True]
    np.testing.assert_array_equal(fraction.values, [0.0, 0.01, 0.005, 0.0, 0.5])
    assert present.attrs["min_fraction"] == 0.01
    assert present.attrs["threshold"] == 0.5
    assert present.attrs["source_variable"] == "aurora_probability"


def test_frame_flags_take_the_sky_from_the_cube_and_any_mask_variable() -> None:
    ds = _segmented(None)
    ds["aurora_truth"] = (("time", "y", "x"), ds.aurora_probability.values >= 0.8)
    # no lens mask given: the sky is where the elevation coordinate is finite
    out = frame_flags(ds)
    assert out[PRESENT_VAR].values.tolist() == [False, True, False, False, True]
    truth = frame_flags(ds, var="aurora_truth")
    assert truth[PRESENT_VAR].values.tolist() == [False, False, False, False, True]
    strict = frame_flags(ds, min_fraction=0.4, threshold=0.9)
    assert strict[PRESENT_VAR].values.tolist() == [False] * 5
    with pytest.raises(MissingVariableError, match="segment it first"):
        frame_flags(ds.drop_vars("aurora_probability"))
