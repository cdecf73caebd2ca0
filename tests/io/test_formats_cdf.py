"""Berkeley THEMIS CDF frames (aurora_xr.io.formats.themis_cdf), real and hand-made."""

from __future__ import annotations

from pathlib import Path

import cdflib
import numpy as np
import pytest
from cdflib.cdfwrite import CDF

from aurora_xr.errors import ImageFileError
from aurora_xr.io.formats import identify, read_file, read_file_header

GAKO = Path(__file__).resolve().parents[2].parent / "shared" / "real_sequences"
GAKO = GAKO / "themis_gako_skymap_2011"
ASF = GAKO / "thg_l1_asf_gako_2011010617_v01.cdf"
AST = GAKO / "thg_l1_ast_gako_20110505_v01.cdf"
CDF_UINT2, CDF_DOUBLE = 12, 45


def write_cdf(path: Path, name: str, frames: np.ndarray, times: np.ndarray) -> Path:
    """A THEMIS-like CDF with one image variable, its FILLVAL and its ``_time``."""
    out = CDF(str(path))
    out.write_globalattrs({"Descriptor": {0: "TEST>Test Site"}})
    spec = {"Num_Elements": 1, "Rec_Vary": True, "Var_Type": "zVariable"}
    out.write_var(
        spec | {"Variable": name, "Data_Type": CDF_UINT2, "Dim_Sizes": list(frames.shape[1:])},
        var_attrs={"FILLVAL": [np.uint16(65535), "CDF_UINT2"]},
        var_data=frames,
    )
    out.write_var(
        spec | {"Variable": f"{name}_time", "Data_Type": CDF_DOUBLE, "Dim_Sizes": []},
        var_data=times,
    )
    out.close()
    return path


def test_full_resolution_gakona_frames() -> None:
    result = read_file(ASF)
    assert result.format == "themis_cdf"
    assert result.frames.shape == (23, 256, 256)
    assert result.dtype == np.uint16
    assert result.channels == ("white",)
    np.testing.assert_array_equal(result.frames, cdflib.CDF(str(ASF)).varget("thg_asf_gako"))
    expected = np.datetime64("2011-01-06T17:00:00") + np.arange(23) * np.timedelta64(3, "s")
    np.testing.assert_array_equal(result.times, expected.astype("datetime64[ns]"))
    assert result.metadata["orientation"] == "rot180_vs_skymap"
    assert result.metadata["site_id"] == "gako"
    assert result.metadata["site_name"] == "Gakona Alaska"
    assert result.metadata["thumbnail"] is False
    # the exposure from _tend - _time
    assert np.all(result.frame_metadata["exposure_s"] > 0)
    assert not result.errors


def test_thumbnails_take_the_time_variable_not_the_dummy_epoch() -> None:
    result = read_file(AST)
    assert result.frames.shape == (1075, 32, 32)
    assert result.metadata["thumbnail"] is True
    assert result.times[0] == np.datetime64("2011-05-05T09:14:15")
    assert result.times[-1] == np.datetime64("2011-05-05T10:08:03")
    assert np.all(np.diff(result.times) > np.timedelta64(0, "s"))


def test_header_only_path() -> None:
    head = read_file_header(ASF)
    assert (head.n_frames, head.height, head.width, head.dtype) == (23, 256, 256, np.uint16)
    np.testing.assert_array_equal(head.times, read_file(ASF).times)
    assert head.metadata["orientation"] == "rot180_vs_skymap"


def test_bad_frames_are_skipped_with_reasons(tmp_path: Path) -> None:
    frames = np.arange(4 * 2 * 3, dtype=np.uint16).reshape(4, 2, 3)
    frames[2] = 65535  # all fill
    times = np.array([1.6e9, np.nan, 1.6e9 + 6, 1.6e9 + 9])
    path = write_cdf(tmp_path / "thg_l1_asf_test_2020091312_v01.cdf", "thg_asf_test", frames, times)
    assert identify(path).name == "themis_cdf"
    result = read_file(path)
    np.testing.assert_array_equal(result.frames, frames[[0, 3]])
    np.testing.assert_array_equal(result.index, [0, 3])
    assert [str(e) for e in result.errors] == [
        "frame 1: no valid time (nan)",
        "frame 2: every pixel is FILLVAL 65535",
    ]
    assert result.times[1] == np.datetime64("2020-09-13T12:26:49")
    assert result.metadata["site_name"] == "Test Site"


def test_a_cdf_without_themis_images_is_refused(tmp_path: Path) -> None:
    path = write_cdf(
        tmp_path / "other.cdf", "something", np.zeros((1, 2, 2), np.uint16), np.ones(1)
    )
    with pytest.raises(ImageFileError, match=r"no THEMIS image variable \(thg_asf_<site> or"):
        read_file(path)
