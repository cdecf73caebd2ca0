"""Calibration from stars on real frames: the KHO cameras and THEMIS Gakona with its skymap."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from aurora_xr.sky.lens import pixel_to_sky, sky_grids, sky_to_pixel
from aurora_xr.sky.starcal import (
    StarCalibration,
    TooFewStarsError,
    angular_distance_deg,
    calibrate_from_stars,
)

SHARED = Path(__file__).resolve().parents[3] / "shared"
KHO = (78.148, 16.043, 520.0)
GAKONA = (62.41, 214.84, 0.0)
KHO_JPG = SHARED / "reference_frames" / "kho_lyr_20201211_2009_clear_stars.jpg"
KHO_IMG = SHARED / "real_sequences" / "kho_keosentry_img" / "W8446B18_2020-12-11_20-09-36.img"
GAKO = SHARED / "real_sequences" / "themis_gako_skymap_2011"
GAKO_CDF = GAKO / "thg_l1_asf_gako_2011010617_v01.cdf"
GAKO_SKYMAP = GAKO / "themis_skymap_gako_20110305-+_vXX.sav"
RAINBOW = (
    SHARED
    / "real_sequences"
    / "rainbow_rabb_pgm_20130205"
    / "20130205_0500_rabb_rainbow-08_full.pgm.gz"
)


def read_kho_img(path: Path) -> np.ndarray:
    """A KeoSentry ``.img``: 60-byte text header, uint16 nx, ny, bytes/pixel, image, trailer."""
    raw = path.read_bytes()
    nx, ny, depth = np.frombuffer(raw, "<u2", count=3, offset=60)
    assert depth == 2
    return np.frombuffer(raw, "<u2", count=int(nx) * int(ny), offset=66).reshape(ny, nx)


def read_pgm_frames(path: Path) -> tuple[np.ndarray, list[str]]:
    """Concatenated 16-bit P5 images of a gzip PGM, and their ``Image request start``."""
    import gzip
    import re

    raw = gzip.decompress(path.read_bytes())
    frames, times, pos = [], [], 0
    while pos < len(raw):
        assert raw[pos : pos + 2] == b"P5"
        pos, numbers = pos + 2, []
        while len(numbers) < 3:
            pos += len(raw[pos:]) - len(raw[pos:].lstrip())
            if raw[pos : pos + 1] == b"#":
                end = raw.index(b"\n", pos)
                line = raw[pos + 1 : end].decode("latin-1")
                if line.startswith('"Image request start"'):
                    times.append(line.split(None, 3)[-1].replace(" UTC", ""))
                pos = end + 1
            else:
                token = re.match(rb"\d+", raw[pos:])
                assert token is not None
                numbers.append(int(token.group()))
                pos += len(token.group())
        width, height, _ = numbers
        pos += 1
        frames.append(np.frombuffer(raw, ">u2", count=width * height, offset=pos))
        frames[-1] = frames[-1].reshape(height, width)
        pos += 2 * width * height
    return np.stack(frames), times


def read_gakona(first: int, count: int) -> tuple[np.ndarray, np.datetime64]:
    """Median of ``count`` full-resolution CDF frames and their mean mid-exposure time."""
    import cdflib

    cdf = cdflib.CDF(str(GAKO_CDF))
    frames = cdf.varget("thg_asf_gako")[first : first + count]
    start = cdf.varget("thg_asf_gako_time")[first : first + count]
    mid_ms = round((float(np.mean(start)) + 0.5) * 1000)  # 1 s exposures
    return np.median(frames, axis=0), np.datetime64(mid_ms, "ms")


def read_skymap() -> tuple[np.ndarray, np.ndarray, dict]:
    """The operator's elevation and azimuth, turned 180° to the CDF frames' orientation."""
    from scipy.io import readsav

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Not able to verify number of bytes"
        sky = readsav(str(GAKO_SKYMAP), python_dict=True)["skymap"][0]
    site = {k: float(sky[f"SITE_MAP_{k}"]) for k in ("LATITUDE", "LONGITUDE", "ALTITUDE")}
    return sky["FULL_ELEVATION"][::-1, ::-1], sky["FULL_AZIMUTH"][::-1, ::-1], site


@pytest.fixture(scope="module")
def kho_img() -> StarCalibration:
    return calibrate_from_stars(read_kho_img(KHO_IMG), "2020-12-11T20:09:36", KHO)


@pytest.fixture(scope="module")
def kho_jpg() -> StarCalibration:
    from PIL import Image

    with Image.open(KHO_JPG) as im:
        frame = np.asarray(im)
    assert frame.shape == (2832, 2832, 3)
    return calibrate_from_stars(frame, "2020-12-11T20:09:33", KHO)


@pytest.fixture(scope="module")
def gakona() -> StarCalibration:
    frame, time = read_gakona(7, 9)
    return calibrate_from_stars(frame, time, GAKONA)


def test_kho_keosentry_frame_matches_many_stars(kho_img: StarCalibration) -> None:
    assert kho_img.n_matches >= 30
    assert kho_img.rms_deg < 0.2
    assert kho_img.worst_deg < 1.0
    assert kho_img.rms_px < 0.5
    assert {"Polaris", "Vega", "Capella", "Mars"} <= set(kho_img.names.tolist())
    cal = kho_img.calibration
    assert not cal.east_clockwise  # looking up: east counter-clockwise from north
    assert cal.tilt_deg < 2.0
    assert cal.pixel_aspect == pytest.approx(1.0, abs=0.01)


def test_kho_sony_frame_matches_many_stars(kho_jpg: StarCalibration) -> None:
    assert kho_jpg.n_matches >= 30
    assert kho_jpg.rms_deg < 0.06
    assert kho_jpg.worst_deg < 0.15
    assert not kho_jpg.calibration.east_clockwise
    assert kho_jpg.calibration.lens_radius == pytest.approx(1360.0, rel=0.03)


@pytest.mark.parametrize("name", ["kho_img", "kho_jpg"])
def test_kho_zenith_and_pole_land_where_the_stars_say(
    name: str, request: pytest.FixtureRequest
) -> None:
    result: StarCalibration = request.getfixturevalue(name)
    cal, circle = result.calibration, result.circle
    zx, zy = sky_to_pixel(90.0, 0.0, cal)  # the zenith lies near the centre of the disc
    assert np.hypot(zx - circle.x, zy - circle.y) < 0.03 * circle.radius
    i = int(np.nonzero(result.names == "Polaris")[0][0])
    assert result.residual_deg[i] < 0.3
    el, _ = pixel_to_sky(result.x, result.y, cal)
    assert np.all(el > 0.0)


def test_gakona_fit_against_the_operator_skymap(gakona: StarCalibration) -> None:
    el_op, az_op, site = read_skymap()
    assert (site["LATITUDE"], site["LONGITUDE"]) == pytest.approx(GAKONA[:2], abs=0.01)
    assert gakona.n_matches >= 25
    assert gakona.rms_deg < 0.3
    el, az = sky_grids(gakona.calibration)
    above = (el_op > 10.0) & np.isfinite(el)
    assert above.sum() > 0.9 * (el_op > 10.0).sum()
    diff = angular_distance_deg(el[above], az[above], el_op[above], az_op[above])
    # the stars themselves sit about a degree from where the skymap puts them
    assert float(np.median(diff)) < 1.2
    assert float(np.percentile(diff, 90)) < 1.8
    row, col = np.rint(gakona.y).astype(int), np.rint(gakona.x).astype(int)
    star_vs_skymap = angular_distance_deg(
        el_op[row, col], az_op[row, col], gakona.elevation, gakona.azimuth
    )
    assert float(np.nanmedian(star_vs_skymap)) > 3 * float(np.median(gakona.residual_deg))


def test_a_single_gakona_frame_is_enough() -> None:
    frame, time = read_gakona(11, 1)
    result = calibrate_from_stars(frame, time, GAKONA)
    assert result.n_matches >= 20
    assert result.rms_deg < 0.5


def test_a_twilight_thumbnail_is_too_few_stars() -> None:
    import cdflib

    cdf = cdflib.CDF(str(GAKO / "thg_l1_ast_gako_20110505_v01.cdf"))
    thumb = cdf.varget("thg_ast_gako")[0]
    time = np.datetime64(int(cdf.varget("thg_ast_gako_time")[0]), "s")
    with pytest.raises(TooFewStarsError, match=r"found \d+ sources on the frame"):
        calibrate_from_stars(thumb, time, GAKONA)


def test_rainbow_imager_non_square_pixels_are_fitted() -> None:
    frames, times = read_pgm_frames(RAINBOW)
    assert frames.shape == (10, 256, 512)
    time = np.datetime64(times[5].replace(" ", "T"), "ms")
    result = calibrate_from_stars(np.median(frames, axis=0), time, (58.17, -103.66, 0.0))
    assert result.n_matches >= 20
    assert result.rms_deg < 0.6
    assert result.calibration.pixel_aspect == pytest.approx(0.5122, abs=0.015)
    assert result.circle.aspect == pytest.approx(0.52, abs=0.02)  # the sky disc is an ellipse
