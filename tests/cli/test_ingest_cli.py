"""``aurora-xr ingest`` on the real camera folders of ../shared/real_sequences (issue 20).

Each test runs the command through :func:`aurora_xr.cli.main` and checks frame count, dtype,
size, header times (to 1 s, against the cadence the README states or the time in the file
name) and the site. Synthetic-archive CLI runs (options, errors) are at the end.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import xarray as xr
from PIL import Image

from aurora_xr import cli
from aurora_xr.io import open_cube
from aurora_xr.io.ingest_report import REPORT_NAME
from aurora_xr.sky.skymap_choice import SkymapValidityWarning as ValidityWarning
from tests.io.test_ingestion import DAY1, DAY2, make_archive

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "real_sequences"
GAKO = REAL / "themis_gako_skymap_2011"
GAKO_SAV = GAKO / "themis_skymap_gako_20110305-+_vXX.sav"
GAKO_CDF = GAKO / "thg_l1_asf_gako_2011010617_v01.cdf"
DASC = REAL / "dasc_pkr_fits_20151007"
SECOND = np.timedelta64(1, "s")


def run(*argv: str | Path) -> int:
    return cli.main(["ingest", *map(str, argv), "--no-progress"])


def cubes(dest: Path) -> dict[str, xr.Dataset]:
    return {p.name: open_cube(p) for p in sorted(dest.glob("*.nc"))}


def assert_cadence(times: np.ndarray, starts: list[str], n: int, step_s: float) -> None:
    """Times within 1 s of ``start + k * step`` for k < n, for each start (one per file)."""
    expected = np.concatenate(
        [
            np.datetime64(s, "ns") + (np.arange(n) * step_s * 1e9).astype("timedelta64[ns]")
            for s in starts
        ]
    )
    assert times.shape == expected.shape
    assert np.all(np.abs(times - expected) <= SECOND), times - expected


# -- the "done when" folders -----------------------------------------------------------------
def test_trex_nir_50_frames_header_times_and_site(tmp_path: Path) -> None:
    assert run(REAL / "trex_gill_nir_20220307", tmp_path) == cli.EXIT_OK
    (name, ds), *others = cubes(tmp_path).items()
    assert not others
    assert name == "GILL_844.6nm_20220307.nc"
    assert dict(ds.image.sizes) == {"time": 50, "y": 256, "x": 256, "channel": 1}
    assert ds.image.dtype == np.uint16
    assert ds.channel.values.tolist() == ["844.6nm"]
    minutes = [f"2022-03-07T06:0{m}:00" for m in range(5)]
    assert_cadence(ds.time.values, minutes, 10, 6.0)
    # the TREx header's position wins over the catalogue's (2.6 km away) and is noted
    assert (ds.attrs["station_code"], ds.attrs["station_latitude"]) == ("GILL", 56.376723)
    assert ds.attrs["station_longitude"] == -94.643664
    assert "catalogue position" in ds.attrs["station_position_note"]
    assert "elevation" not in ds.variables
    assert "calibration_kind" not in ds.attrs
    assert ds["exposure_options"].dims == ("time",)  # every header key is a variable
    report = json.loads((tmp_path / REPORT_NAME).read_text())
    assert report["n_frames_added"] == 50
    assert report["skipped"] == []
    assert any("2.6 km" in n for n in report["notes"])


def test_trex_blueline_20_frames_of_270_by_320(tmp_path: Path) -> None:
    assert run(REAL / "trex_gill_blueline_20220308", tmp_path) == cli.EXIT_OK
    (ds,) = cubes(tmp_path).values()
    assert dict(ds.image.sizes) == {"time": 20, "y": 270, "x": 320, "channel": 1}
    assert ds.image.dtype == np.uint16
    assert_cadence(ds.time.values, ["2022-03-08T06:00:00"], 20, 3.0)
    assert ds.attrs["station_code"] == "GILL"


def test_themis_60_frames_and_a_rerun_adds_nothing(tmp_path: Path) -> None:
    src = REAL / "themis_gill_pgm_20140310"
    assert run(src, tmp_path) == cli.EXIT_OK
    (ds,) = cubes(tmp_path).values()
    assert dict(ds.image.sizes) == {"time": 60, "y": 256, "x": 256, "channel": 1}
    assert ds.channel.values.tolist() == ["white"]
    starts = [f"2014-03-10T06:0{m}:00" for m in range(3)]
    assert_cadence(ds.time.values, starts, 20, 3.0)
    assert (ds.attrs["station_latitude"], ds.attrs["station_longitude"]) == (56.3539, -94.6557)
    assert ds.attrs["pixel_aspect_ratio"] == pytest.approx(0.5181)
    path = tmp_path / "GILL_20140310.nc"
    before = path.stat().st_mtime_ns
    assert run(src, tmp_path) == cli.EXIT_OK
    again = json.loads((tmp_path / REPORT_NAME).read_text())
    assert (again["n_frames_added"], again["n_frames_present"]) == (0, 60)
    assert path.stat().st_mtime_ns == before


def test_rainbow_10_frames_with_non_square_pixels(tmp_path: Path) -> None:
    assert run(REAL / "rainbow_rabb_pgm_20130205", tmp_path) == cli.EXIT_OK
    (name, ds), *_ = cubes(tmp_path).items()
    assert name == "RABB_mosaic_20130205.nc"
    assert dict(ds.image.sizes) == {"time": 10, "y": 256, "x": 512, "channel": 1}
    assert_cadence(ds.time.values, ["2013-02-05T05:00:00"], 10, 6.0)
    assert ds.attrs["pixel_aspect_ratio"] == pytest.approx(0.5122)
    assert (ds.attrs["station_code"], ds.attrs["station_latitude"]) == ("RABB", 58.17)


def _dasc_name_times() -> list[np.datetime64]:
    out = []
    for p in sorted(DASC.glob("PKR_DASC_0*_2015*.FITS")):
        d, t = p.stem.split("_")[3:5]
        out.append(np.datetime64(f"{d[:4]}-{d[4:6]}-{d[6:]}T{t[:2]}:{t[2:4]}:{t[4:]}", "ns"))
    return sorted(out)


def test_dasc_four_frames_one_cube_per_filter_times_and_site_from_the_header(
    tmp_path: Path,
) -> None:
    assert run(DASC, tmp_path) == cli.EXIT_OK
    found = cubes(tmp_path)
    assert sorted(found) == [
        "PKR_427.8nm_20151007.nc",
        "PKR_557.7nm_20151007.nc",
        "PKR_630.0nm_20151007.nc",
    ]
    times = np.sort(np.concatenate([ds.time.values for ds in found.values()]))
    assert times.size == 4
    assert np.all(np.abs(times - np.array(_dasc_name_times())) <= SECOND)
    for ds in found.values():
        assert ds.image.dtype == np.uint16
        assert ds.sizes["y"] == ds.sizes["x"] == 512
        assert (ds.attrs["station_latitude"], ds.attrs["station_longitude"]) == (65.126, -147.479)
        assert float(ds["exposure_s"][0]) > 0
    report = json.loads((tmp_path / REPORT_NAME).read_text())
    assert report["skipped"] == []  # the Az/El calibration files are not frames
    assert report["n_ignored"] == 2


@pytest.mark.parametrize("skymap", ["PKR_DASC_0558_20150213_El.FIT", "."])
def test_dasc_with_its_az_el_pair(tmp_path: Path, skymap: str) -> None:
    assert run(DASC, tmp_path, "--skymap", DASC / skymap) == cli.EXIT_OK  # a file or its folder
    from astropy.io import fits

    el = np.asarray(fits.getdata(DASC / "PKR_DASC_0558_20150213_El.FIT"), np.float32)
    az = np.asarray(fits.getdata(DASC / "PKR_DASC_0558_20150213_Az.FIT"), np.float32)
    outside = (el == 0) & (az == 0)
    for ds in cubes(tmp_path).values():
        assert ds.attrs["calibration_kind"] == "skymap"
        assert ds.attrs["calibration_name"] == "PKR_DASC_0558_20150213"
        np.testing.assert_array_equal(np.isnan(ds.elevation.values), outside)
        np.testing.assert_array_equal(ds.elevation.values[~outside], el[~outside])
        np.testing.assert_array_equal(ds.azimuth.values[~outside], np.mod(az[~outside], 360))
        assert ds.attrs["frame_rotation_deg"] == 0


def test_gakona_cdf_with_its_skymap_one_orientation_and_geo_coords(tmp_path: Path) -> None:
    import cdflib

    with pytest.warns(ValidityWarning, match="2011-01-06T17:00:00.*2011-03-05T08:00:00"):
        assert run(GAKO_CDF, tmp_path, "--skymap", GAKO_SAV) == cli.EXIT_OK
    ds = open_cube(tmp_path / "GAKO_20110106.nc")
    raw = cdflib.CDF(str(GAKO_CDF)).varget("thg_asf_gako")
    assert dict(ds.image.sizes) == {"time": 23, "y": 256, "x": 256, "channel": 1}
    assert ds.image.dtype == np.uint16
    unix = cdflib.CDF(str(GAKO_CDF)).varget("thg_asf_gako_time")
    np.testing.assert_allclose(ds.time.values.astype(np.int64) / 1e9, unix, atol=1.0)
    # frames turned 180 degrees to the raw skymap's orientation; grids are the raw skymap's
    np.testing.assert_array_equal(ds.image.values[..., 0], raw[:, ::-1, ::-1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sm = scipy.io.readsav(str(GAKO_SAV), python_dict=True)["skymap"][0]
    np.testing.assert_array_equal(ds.elevation.values, sm["FULL_ELEVATION"])
    np.testing.assert_array_equal(ds.azimuth.values, np.mod(sm["FULL_AZIMUTH"], 360))
    assert ds.attrs["frame_rotation_deg"] == 180
    assert "turned 180 degrees" in ds.attrs["frame_orientation"]
    assert ds.attrs["station_code"] == "GAKO"
    assert ds.attrs["station_latitude"] == pytest.approx(62.41, abs=0.01)
    geo = ds.aurora.geo_coords(altitude_km=110)
    lat, lon = sm["FULL_MAP_LATITUDE"][1], sm["FULL_MAP_LONGITUDE"][1]
    centre_lat = (lat[:-1, :-1] + lat[1:, :-1] + lat[:-1, 1:] + lat[1:, 1:]) / 4
    centre_lon = (lon[:-1, :-1] + lon[1:, :-1] + lon[:-1, 1:] + lon[1:, 1:]) / 4
    centre_lon = np.mod(centre_lon + 180, 360) - 180
    assert geo.latitude.attrs["source"] == "skymap"
    np.testing.assert_array_equal(np.isnan(geo.latitude.values), np.isnan(centre_lat))
    ok = np.isfinite(centre_lat)
    assert np.max(np.abs(geo.latitude.values[ok] - centre_lat[ok])) < 0.01
    assert np.max(np.abs(geo.longitude.values[ok] - centre_lon[ok])) < 0.01


def test_kho_img_with_a_station_and_a_time_pattern(tmp_path: Path) -> None:
    src = REAL / "kho_keosentry_img"
    assert run(src, tmp_path, "--station", "KHO", "--time-pattern", "%Y-%m-%d_%H-%M-%S") == 0
    found = cubes(tmp_path)
    assert sorted(found) == ["KHO_844.6nm_20171218.nc", "KHO_844.6nm_20201211.nc"]
    ds = found["KHO_844.6nm_20201211.nc"]
    np.testing.assert_array_equal(ds.time.values, [np.datetime64("2020-12-11T20:09:36", "ns")])
    assert dict(ds.image.sizes) == {"time": 1, "y": 512, "x": 512, "channel": 1}
    assert ds.image.dtype == np.uint16
    assert (ds.attrs["station_code"], ds.attrs["station_altitude_m"]) == ("KHO", 520.0)


def test_kho_without_a_station_says_what_to_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = REAL / "kho_keosentry_img"
    assert run(src, tmp_path, "--time-pattern", "%Y-%m-%d_%H-%M-%S") == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert "no site is known" in err
    assert "--station CODE" in err
    assert "--site" in err
    assert not list(tmp_path.glob("*.nc"))


def test_oculus_with_a_site_and_a_utc_offset(tmp_path: Path) -> None:
    src = REAL / "oculus_umd_fits_20151108"
    code = run(src, tmp_path, "--site", "38.99,-76.94,50", "--utc-offset", "-5")
    assert code == cli.EXIT_OK
    (name, ds), *_ = cubes(tmp_path).items()
    assert name == "SITE_20151108.nc"
    # TIME-OBS is EST: 05:11:52 local is 10:11:52 UT (the Moon and planets are up then)
    expected = np.array(["2015-11-08T10:11:52", "2015-11-08T10:12:22"], "datetime64[ns]")
    np.testing.assert_array_equal(ds.time.values, expected)
    assert dict(ds.image.sizes) == {"time": 2, "y": 1040, "x": 1392, "channel": 1}
    assert ds.attrs["utc_offset_h"] == -5.0
    assert (ds.attrs["station_latitude"], ds.attrs["station_altitude_m"]) == (38.99, 50.0)


def test_jpegs_without_a_station_fail_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for i in range(2):
        Image.fromarray(np.full((8, 8, 3), 40 * i, np.uint8)).save(src / f"2014022119204{i}.jpg")
    code = run(src, tmp_path / "nc", "--time-pattern", "%Y%m%d%H%M%S")
    err = capsys.readouterr().err
    assert code == cli.EXIT_ERROR
    assert err.startswith("aurora-xr ingest: error: no site is known for ")
    assert "never a default site" in err
    assert "--skymap FILE_OR_FOLDER" in err
    assert not (tmp_path / "nc").exists()


# -- the synthetic archive through the command line ------------------------------------------
JBS = ["--station", "JBS", "--calibration", "placeholder:JBS"]


def test_ingest_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_archive(tmp_path / "src", DAY1 + DAY2)
    assert run(tmp_path / "src", tmp_path / "nc", *JBS) == cli.EXIT_OK
    out, err = capsys.readouterr()
    assert out.strip().startswith("ingest: 7 frames added to 2 file(s)")
    assert err == ""
    assert open_cube(tmp_path / "nc").sizes["time"] == 7


def test_ingest_options_and_skipped_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "src"
    make_archive(src, DAY1)
    (src / "2020-06-21" / "JBS_20200621_235900_rgb.png").write_bytes(b"")
    argv = ["--period", "1MS", "--frame-suffix", "_rgb.png", "--chunk-frames", "2"]
    code = run(src, tmp_path / "nc", *JBS, *argv, "--report", tmp_path / "report.json")
    out, err = capsys.readouterr()
    assert code == cli.EXIT_SKIPPED == 3
    assert "1 file(s) skipped" in out
    assert "JBS_20200621_235900_rgb.png: empty file (0 bytes)" in err
    assert (tmp_path / "nc" / "JBS_202006.nc").is_file()
    assert json.loads((tmp_path / "report.json").read_text())["n_skipped"] == 1


def test_ingest_with_a_calibration_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_archive(tmp_path / "src", DAY1)
    cal = tmp_path / "cal.json"
    fields = {"width": 64, "height": 48, "zenith_x": 31.5, "zenith_y": 23.5, "lens_radius": 22.0}
    cal.write_text(json.dumps({**fields, "rotation_deg": 15.0}))
    argv: list[str | Path] = [tmp_path / "src", tmp_path / "nc", "--station", "JBS"]
    assert run(*argv, "--calibration", cal) == 0
    assert open_cube(tmp_path / "nc").attrs["calibration_rotation_deg"] == 15.0
    cal.write_text('{"width": 64}')
    assert run(*argv, "--calibration", cal) == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "Calibration fields" in err


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["{tmp}/missing", "{tmp}/nc", "--station", "JBS"], "expected a folder of frames"),
        (["{tmp}/src", "{tmp}/nc", "--station", "XYZ"], "unknown station 'XYZ'"),
        (["{tmp}/src", "{tmp}/nc", "--station", "JBS", "--period", "1ME"], "period must be"),
        (["{tmp}/src", "{tmp}/nc", "--calibration", "{tmp}/no.json"], "no.json"),
        (["{tmp}/src", "{tmp}/nc", "--site", "91,0"], "latitude must lie in -90..90"),
        (["{tmp}/src", "{tmp}/nc", "--station", "JBS", "--calibration", "x"], "placeholder:"),
        (["{tmp}/src", "{tmp}/nc", "--site", "1,2", "--utc-offset", "x"], "offset"),
    ],
)
def test_errors_are_one_line_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], needle: str
) -> None:
    make_archive(tmp_path / "src", DAY1[:1])
    code = cli.main(["ingest", *[a.format(tmp=tmp_path) for a in argv], "--no-progress"])
    err = capsys.readouterr().err
    assert code == cli.EXIT_ERROR
    assert err.startswith("aurora-xr ingest: error: ")
    assert needle in err
    assert err.count("\n") == 1


def test_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["ingest"]) == cli.EXIT_USAGE
    assert cli.main(["ingest", "a", "b", "--workers", "0"]) == cli.EXIT_USAGE
    assert cli.main(["ingest", "a", "b", "--scheduler", "not an address"]) == cli.EXIT_USAGE
    assert cli.main(["ingest", "a", "b", "--compression", "lz4"]) == cli.EXIT_USAGE
    capsys.readouterr()
    assert cli.main(["ingest", "--help"]) == 0
    assert "--skymap FILE_OR_FOLDER" in capsys.readouterr().out
