"""Per-pixel skymaps on the real operator files (Gakona .sav, Poker Flat Az/El FITS) and on
the synthetic sky: reading, geometry, the Camera protocol, attributes, files, selection."""

from __future__ import annotations

import hashlib
import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy.io import readsav

from aurora_xr.errors import (
    CalibrationError,
    FrameSizeError,
    MissingCalibrationError,
    NoFilesFoundError,
    OptionError,
)
from aurora_xr.sky.camera import Camera, camera_from_attrs, camera_kind, require_frame_size
from aurora_xr.sky.lens import Calibration, pixel_to_sky, sky_grids, sky_to_pixel
from aurora_xr.sky.skymap import Skymap, centres_from_corners
from aurora_xr.sky.skymap_choice import SkymapValidityWarning, select_skymap, skymap_index
from aurora_xr.sky.skymap_files import (
    SkymapFileWarning,
    read_azel_fits,
    read_skymap,
    read_skymaps,
    skymap_name_validity,
    write_skymap,
)
from aurora_xr.sky.stations import placeholder_lens

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "real_sequences"
SAV = REAL / "themis_gako_skymap_2011" / "themis_skymap_gako_20110305-+_vXX.sav"
AZ = REAL / "dasc_pkr_fits_20151007" / "PKR_DASC_0558_20150213_Az.FIT"
EL = REAL / "dasc_pkr_fits_20151007" / "PKR_DASC_0558_20150213_El.FIT"


@pytest.fixture(scope="module")
def gako() -> Skymap:
    return read_skymap(SAV)


@pytest.fixture(scope="module")
def dasc() -> Skymap:
    return read_skymap(EL)


@pytest.fixture(scope="module")
def raw_sav() -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return readsav(str(SAV), python_dict=True)["skymap"][0]


# -- the THEMIS .sav skymap ----------------------------------------------------------------
def test_sav_grids_shapes_nans_and_checksum(gako: Skymap, raw_sav: dict) -> None:
    assert (gako.height, gako.width) == (256, 256)
    assert gako.elevation.dtype == np.float32
    assert gako.azimuth.dtype == np.float32
    outside = np.isnan(gako.elevation)
    assert outside.sum() == 16265
    assert np.array_equal(outside, np.isnan(gako.azimuth))
    np.testing.assert_array_equal(gako.elevation, raw_sav["FULL_ELEVATION"])  # index for index
    assert np.nanmax(gako.elevation) == pytest.approx(89.71, abs=0.01)
    assert gako.checksum == hashlib.sha256(SAV.read_bytes()).hexdigest()
    assert gako.name == "themis_skymap_gako_20110305-+_vXX"
    assert "rotated(2)" in gako.orientation
    assert "PGM" in gako.orientation
    with pytest.raises(ValueError, match="read-only"):
        gako.elevation[0, 0] = 1.0


def test_sav_latitude_longitude_are_corner_averaged_centres(gako: Skymap, raw_sav: dict) -> None:
    assert gako.altitudes_km == (90.0, 110.0, 150.0)  # FULL_MAP_ALTITUDE is in metres
    assert gako.latitude is not None
    assert gako.longitude is not None
    assert gako.latitude.shape == gako.longitude.shape == (3, 256, 256)
    la = raw_sav["FULL_MAP_LATITUDE"].astype(np.float64)  # (3, 257, 257) corners
    lo = raw_sav["FULL_MAP_LONGITUDE"].astype(np.float64)  # 0..360 east
    assert la.shape == (3, 257, 257)
    mean_la = (la[:, :-1, :-1] + la[:, 1:, :-1] + la[:, :-1, 1:] + la[:, 1:, 1:]) / 4
    mean_lo = (lo[:, :-1, :-1] + lo[:, 1:, :-1] + lo[:, :-1, 1:] + lo[:, 1:, 1:]) / 4 - 360
    np.testing.assert_allclose(gako.latitude, mean_la, atol=1e-4)
    np.testing.assert_allclose(gako.longitude, mean_lo, atol=1e-4)  # no seam at Gakona
    assert np.isnan(gako.latitude[1]).sum() == 16744  # a NaN corner makes a NaN centre
    lat, lon = gako.geo_grids(110.0)  # type: ignore[misc]
    zx, zy = (round(v) for v in gako.zenith_pixel)
    assert lat[zy, zx] == pytest.approx(62.41, abs=0.02)  # the zenith maps to the site
    assert lon[zy, zx] == pytest.approx(214.84 - 360, abs=0.02)
    assert gako.geo_grids(230.0) is None


def test_sav_validity_and_site(gako: Skymap) -> None:
    assert gako.valid_from == np.datetime64("2011-03-05T08:00:00")  # GENERATION_INFO
    assert gako.valid_to is None  # stop "+": open-ended
    assert gako.validity_text() == "2011-03-05T08:00:00 to open end"
    assert gako.site is not None
    assert (gako.site.code, gako.site.name) == ("GAKO", "Gakona, AK, USA")
    assert (gako.site.latitude, gako.site.longitude, gako.site.altitude_m) == (
        62.41,
        -145.160004,
        0.0,
    )
    assert skymap_name_validity(SAV.name) == ("gako", np.datetime64("2011-03-05"), None)


def test_sav_orientation_north_up_east_left(gako: Skymap) -> None:
    zx, zy = gako.zenith_pixel
    assert (zx, zy) == pytest.approx((124.2, 128.6), abs=0.3)
    c, r = round(zx), round(zy)
    up = np.median([gako.azimuth[r - k, c] for k in range(10, 60)])
    left = np.median([gako.azimuth[r, c - k] for k in range(10, 60)])
    assert up == pytest.approx(22.7, abs=1.0)  # README: up from the centre ≈ 22.7°
    assert left == pytest.approx(112.0, abs=1.5)  # left ≈ 112°: east on the left
    assert gako.up_left_azimuths() == pytest.approx((22.6, 112.6), abs=1.0)
    turned = gako.rotated(2)  # the Berkeley CDF frames' orientation
    np.testing.assert_array_equal(turned.elevation, gako.elevation[::-1, ::-1])
    assert turned.latitude is not None
    assert gako.latitude is not None
    np.testing.assert_array_equal(turned.latitude, gako.latitude[:, ::-1, ::-1])
    assert turned.up_left_azimuths()[0] == pytest.approx(202.6, abs=4.0)
    assert "turned 180°" in turned.orientation
    assert turned.checksum == gako.checksum


# -- the Poker Flat Az/El FITS pair --------------------------------------------------------
def test_fits_pair_zero_outside_becomes_nan(dasc: Skymap) -> None:
    from astropy.io import fits

    az, el = fits.getdata(AZ).astype(np.float32), fits.getdata(EL).astype(np.float32)
    outside = (az == 0) & (el == 0)
    assert outside.sum() == 105322
    assert (dasc.height, dasc.width) == (512, 512)
    assert np.array_equal(np.isnan(dasc.elevation), outside)
    np.testing.assert_array_equal(dasc.elevation[~outside], el[~outside])
    np.testing.assert_array_equal(dasc.azimuth[~outside], np.mod(az[~outside], 360))
    assert np.nanmin(dasc.elevation) == pytest.approx(10.0)
    assert dasc.name == "PKR_DASC_0558_20150213"
    assert dasc.valid_from == np.datetime64("2015-02-13")
    assert dasc.valid_to is None
    assert dasc.checksum == hashlib.sha256(AZ.read_bytes() + EL.read_bytes()).hexdigest()
    assert dasc.latitude is None
    assert dasc.site is None
    assert read_azel_fits(AZ).checksum == dasc.checksum  # either half finds the pair
    assert dasc.zenith_pixel == pytest.approx((243.0, 248.5), abs=0.5)  # CENTERX/Y 243, 249


def test_fits_pair_needs_both_halves(tmp_path: Path) -> None:
    lone = tmp_path / "CAM_20200101_Az.FIT"
    lone.write_bytes(AZ.read_bytes())
    with pytest.raises(NoFilesFoundError, match="EL half"):
        read_skymap(lone)
    odd = tmp_path / "CAM.FIT"
    odd.write_bytes(AZ.read_bytes())
    with pytest.raises(OptionError, match=r"_Az\.FIT and <name>_El\.FIT"):
        read_skymap(odd)


# -- geometry: pixel <-> sky round trips -------------------------------------------------
@pytest.mark.parametrize(("which", "min_el"), [("gako", 3.0), ("dasc", 11.0)])
def test_round_trips_to_a_fraction_of_a_pixel(
    which: str, min_el: float, request: pytest.FixtureRequest
) -> None:
    sm: Skymap = request.getfixturevalue(which)
    yy, xx = np.nonzero(sm.elevation > min_el)
    x, y = sm.sky_to_pixel(sm.elevation[yy, xx], sm.azimuth[yy, xx])
    assert np.max(np.hypot(x - xx, y - yy)) < 1e-3  # pixel centres: exact
    rng = np.random.default_rng(7)
    xf, yf = xx + rng.uniform(-0.5, 0.5, xx.size), yy + rng.uniform(-0.5, 0.5, yy.size)
    el, az = sm.pixel_to_sky(xf, yf)
    ok = np.isfinite(el)
    assert ok.mean() > 0.999
    x2, y2 = sm.sky_to_pixel(el[ok], az[ok])
    assert np.max(np.hypot(x2 - xf[ok], y2 - yf[ok])) < 0.01


def test_pixel_to_sky_on_pixel_centres_and_outside(gako: Skymap) -> None:
    yy, xx = np.nonzero(np.isfinite(gako.elevation))
    el_n, _ = gako.pixel_to_sky(xx, yy, method="nearest")
    np.testing.assert_array_equal(el_n, gako.elevation[yy, xx])
    el_b, az_b = gako.pixel_to_sky(xx, yy)
    np.testing.assert_allclose(el_b, gako.elevation[yy, xx], atol=1e-4)
    dz = np.abs((az_b - gako.azimuth[yy, xx] + 180) % 360 - 180)
    assert np.max(dz[gako.elevation[yy, xx] < 89.5]) < 1e-3
    el, az = gako.pixel_to_sky([0, -3, 300, np.nan], [0, 10, 10, 5])
    assert np.isnan(el).all()
    assert np.isnan(az).all()
    with pytest.raises(OptionError, match="bilinear"):
        gako.pixel_to_sky(1, 1, method="cubic")


def test_directions_outside_the_field_of_view_give_nan(gako: Skymap, dasc: Skymap) -> None:
    x, y = gako.sky_to_pixel([-10.0, -30.0, np.nan, 45.0], [0.0, 90.0, 0.0, np.nan])
    assert np.isnan(x).all()
    assert np.isnan(y).all()
    x, y = dasc.sky_to_pixel([5.0, 8.0, 30.0], [0.0, 100.0, 200.0])  # DASC stops at 10°
    assert np.isnan(x[:2]).all()
    assert np.isfinite(x[2])
    assert gako.sky_to_pixel(np.zeros((2, 3)) + 45, np.zeros((2, 3)))[0].shape == (2, 3)


def test_horizon_radius_is_the_scale_of_the_lens_circle(gako: Skymap, dasc: Skymap) -> None:
    assert 115 < gako.horizon_radius < 135  # 256-pixel frame filled by the sky circle
    assert dasc.horizon_radius == pytest.approx(np.pi / 2 / 0.00625, abs=1.0)  # XSCALE


def test_skymap_of_a_lens_inverts_like_the_lens() -> None:
    lens = Calibration(width=120, height=100, zenith_x=61.3, zenith_y=48.7, lens_radius=45.0,
                       rotation_deg=20.0, projection="equisolid")  # fmt: skip
    sm = Skymap(*sky_grids(lens), name="synthetic")
    el = np.linspace(6.0, 88.0, 50)
    az = np.linspace(0.0, 359.0, 50)
    x_l, y_l = sky_to_pixel(el, az, lens)
    x_s, y_s = sm.sky_to_pixel(el, az)
    assert np.max(np.hypot(x_s - x_l, y_s - y_l)) < 0.05
    el_l, _ = pixel_to_sky(x_l, y_l, lens)
    el_s, _ = sm.pixel_to_sky(x_l, y_l)
    np.testing.assert_allclose(el_s, el_l, atol=0.05)
    assert sm.horizon_radius == pytest.approx(45.0, abs=0.1)
    assert sm.zenith_pixel == pytest.approx((61.3, 48.7), abs=0.01)


def test_skymap_survives_pickling_without_its_lookup(gako: Skymap) -> None:
    gako.sky_to_pixel(45.0, 0.0)  # builds the k-d tree
    blob = pickle.dumps(gako)
    assert len(blob) < 4 * gako.latitude.nbytes  # type: ignore[union-attr]
    back = pickle.loads(blob)
    np.testing.assert_allclose(back.sky_to_pixel(45.0, 10.0), gako.sky_to_pixel(45.0, 10.0))


def test_skymap_validates_its_arrays() -> None:
    with pytest.raises(CalibrationError, match=r"one \(H, W\) shape"):
        Skymap(np.zeros((4, 4)), np.zeros((4, 5)))
    with pytest.raises(CalibrationError, match=r"-90\.\.90"):
        Skymap(np.full((3, 3), 95.0), np.zeros((3, 3)))
    with pytest.raises(CalibrationError, match="fewer than 4 valid"):
        Skymap(np.full((3, 3), np.nan), np.zeros((3, 3)))
    with pytest.raises(CalibrationError, match="both latitude and longitude"):
        Skymap(np.zeros((3, 3)), np.zeros((3, 3)), latitude=np.zeros((1, 3, 3)))
    with pytest.raises(CalibrationError, match="ends"):
        Skymap(np.zeros((3, 3)), np.zeros((3, 3)), valid_from=np.datetime64("2020-01-02"),
               valid_to=np.datetime64("2020-01-01"))  # fmt: skip
    sm = Skymap(np.full((3, 3), 45.0), np.full((3, 3), 370.0))
    assert np.all(sm.azimuth == 10.0)
    assert len(sm.checksum) == 64


def test_centres_from_corners_across_the_zero_meridian() -> None:
    lat = np.array([[70.0, 70.0], [71.0, 71.0]])
    lon = np.array([[359.5, 0.5], [359.0, 1.0]])
    c_lat, c_lon = centres_from_corners(lat, lon)
    assert c_lat[0, 0] == pytest.approx(70.5)
    assert c_lon[0, 0] == pytest.approx(0.0, abs=1e-6)


# -- the Camera protocol and attributes --------------------------------------------------
def test_both_kinds_are_cameras(gako: Skymap) -> None:
    lens = placeholder_lens("JBS", 64, 48)
    assert isinstance(lens, Camera)
    assert isinstance(gako, Camera)
    assert (lens.kind, gako.kind) == ("lens", "skymap")
    assert lens.horizon_radius == lens.lens_radius
    assert lens.zenith_pixel == pytest.approx((lens.zenith_x, lens.zenith_y))
    el, az = lens.sky_grids()
    el0, az0 = sky_grids(lens)
    np.testing.assert_array_equal(el, el0)
    np.testing.assert_array_equal(az, az0)
    np.testing.assert_array_equal(lens.pixel_to_sky(3, 4)[0], pixel_to_sky(3, 4, lens)[0])
    np.testing.assert_array_equal(lens.sky_to_pixel(40, 5)[1], sky_to_pixel(40, 5, lens)[1])


def test_attributes_rebuild_the_skymap_from_the_cube_grids(gako: Skymap) -> None:
    attrs = gako.to_attrs()
    assert attrs["calibration_kind"] == "skymap"
    assert camera_kind(attrs) == "skymap"
    assert attrs["calibration_checksum"] == gako.checksum
    assert attrs["calibration_valid_to"] == ""
    assert attrs["calibration_altitudes_km"] == [
        90.0,
        110.0,
        150.0,
    ]
    el, az = gako.sky_grids()
    back = camera_from_attrs(attrs, el, az, latitude=gako.latitude, longitude=gako.longitude)
    assert isinstance(back, Skymap)
    assert (back.name, back.checksum, back.valid_from, back.valid_to) == (
        gako.name,
        gako.checksum,
        gako.valid_from,
        None,
    )
    assert back.altitudes_km == gako.altitudes_km
    assert back.to_attrs() == attrs
    with pytest.raises(MissingCalibrationError, match="elevation and azimuth grids"):
        camera_from_attrs(attrs)
    with pytest.raises(FrameSizeError, match="256x256"):
        camera_from_attrs(attrs, el[:, :200], az[:, :200])
    lens = placeholder_lens("JBS", 32, 32)
    assert camera_kind(lens.to_attrs()) == "lens"
    assert camera_kind({"title": "x"}) is None
    assert camera_from_attrs(lens.to_attrs()) == lens
    with pytest.raises(CalibrationError, match="kind = 'skymap'"):
        Skymap.from_attrs(lens.to_attrs(), el, az)


def test_frame_size_must_match_the_skymap(gako: Skymap) -> None:
    require_frame_size(gako, 256, 256)
    with pytest.raises(FrameSizeError, match=r"256x256 \(rows x columns\).*270x320"):
        require_frame_size(gako, 270, 320)


# -- files of arrays ---------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".npz", ".nc"])
def test_written_arrays_read_back(gako: Skymap, tmp_path: Path, suffix: str) -> None:
    path = write_skymap(gako, tmp_path / f"gako{suffix}")
    back = read_skymap(path)
    np.testing.assert_array_equal(back.elevation, gako.elevation)
    np.testing.assert_array_equal(back.azimuth, gako.azimuth)
    np.testing.assert_array_equal(back.latitude, gako.latitude)  # type: ignore[arg-type]
    assert (back.name, back.checksum, back.altitudes_km) == (
        gako.name,
        gako.checksum,
        gako.altitudes_km,
    )
    assert (back.valid_from, back.valid_to, back.orientation) == (
        gako.valid_from,
        None,
        gako.orientation,
    )
    assert back.site == gako.site
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind
    with pytest.raises(OptionError, match="ending in"):
        write_skymap(gako, tmp_path / "gako.txt")


# -- choosing by validity ----------------------------------------------------------------
def _fake(name: str, start: str, stop: str | None = None, el: float = 45.0) -> Skymap:
    return Skymap(
        np.full((4, 4), el),
        np.zeros((4, 4)),
        name=name,
        valid_from=np.datetime64(start),
        valid_to=None if stop is None else np.datetime64(stop),
    )


def test_selection_by_validity_from_a_folder(tmp_path: Path) -> None:
    write_skymap(_fake("themis_skymap_abcd_20200101-20201231_v01", "2020-01-01", "2021-01-01",
                       40.0), tmp_path / "a.npz")  # fmt: skip
    write_skymap(_fake("themis_skymap_abcd_20210601-+_v01", "2021-06-01", None, 50.0),
                 tmp_path / "b.nc")  # fmt: skip
    (tmp_path / "notes.txt").write_text("not a skymap", encoding="utf-8")
    maps = read_skymaps(tmp_path)
    assert [m.valid_from for m in maps] == [
        np.datetime64("2020-01-01"),
        np.datetime64("2021-06-01"),
    ]
    assert maps[1].name == "themis_skymap_abcd_20210601-+_v01"
    times = np.array(["2020-03-01T12:00", "2022-02-02T00:00", "2020-12-31T23:59"], "M8[ns]")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert skymap_index(maps, times).tolist() == [0, 1, 0]
    assert select_skymap(maps, "2023-01-01T00:00:00").valid_from == np.datetime64("2021-06-01")

    gap = np.array(["2021-02-01T00:00", "2021-05-20T00:00"], "M8[ns]")  # between the two
    with pytest.warns(SkymapValidityWarning) as record:
        assert skymap_index(maps, gap).tolist() == [0, 1]
    messages = sorted(str(w.message) for w in record)
    assert "2021-02-01T00:00:00" in messages[0]
    assert "2020-01-01T00:00:00 to 2021-01-01" in messages[0]
    assert "31.0 days away" in messages[0]
    assert "2021-05-20T00:00:00" in messages[1]
    assert "2021-06-01T00:00:00 to open end" in messages[1]

    with pytest.warns(SkymapValidityWarning, match=r"2019-12-01T00:00:00 and 1 other"):
        skymap_index(maps, np.array(["2019-12-01", "2019-12-31"], "M8[ns]"))


def test_selection_prefers_the_latest_covering_skymap_and_checks_input() -> None:
    old = _fake("old", "2010-01-01")
    new = _fake("new", "2015-01-01")
    assert skymap_index([new, old], ["2012-01-01T00:00", "2016-01-01T00:00"]).tolist() == [1, 0]
    with pytest.raises(OptionError, match="at least one skymap"):
        skymap_index([], ["2012-01-01"])
    with pytest.raises(OptionError, match="NaT"):
        skymap_index([old], np.array(["NaT"], "M8[ns]"))


def test_real_sav_chosen_for_the_earlier_cdf_frames_with_a_warning(gako: Skymap) -> None:
    with pytest.warns(SkymapValidityWarning, match=r"2011-01-06T17:00:00.*57\.6 days away"):
        assert select_skymap([gako], np.datetime64("2011-01-06T17:00:00")) is gako


def test_folders_and_names(tmp_path: Path) -> None:
    assert [m.name for m in read_skymaps(SAV.parent)] == [SAV.stem]  # the CDFs are ignored
    assert [m.name for m in read_skymaps(EL.parent)] == ["PKR_DASC_0558_20150213"]
    assert skymap_name_validity("rego_skymap_gill_20150301-20151231_v01.sav") == (
        "gill",
        np.datetime64("2015-03-01"),
        np.datetime64("2016-01-01"),
    )
    assert skymap_name_validity("PKR_DASC_0558_20150213_Az.FIT") is None
    (tmp_path / "broken_skymap.sav").write_bytes(b"not an IDL save file")
    with (
        pytest.raises(NoFilesFoundError, match="no readable skymap"),
        pytest.warns(SkymapFileWarning, match="broken_skymap.sav"),
    ):
        read_skymaps(tmp_path)
    write_skymap(_fake("ok", "2020-01-01"), tmp_path / "ok.npz")
    with pytest.warns(SkymapFileWarning, match="broken_skymap.sav"):
        assert [m.name for m in read_skymaps(tmp_path)] == ["ok"]
    with pytest.raises(NoFilesFoundError, match="does not exist"):
        read_skymaps(tmp_path / "missing")
    with pytest.raises(OptionError, match="expected a skymap file"):
        read_skymap(Path(__file__))


def test_netcdf4_arrays_written_elsewhere_are_read(tmp_path: Path) -> None:
    import xarray as xr

    lens = placeholder_lens("JBS", 40, 30)
    el, az = sky_grids(lens)
    path = tmp_path / "user_skymap.nc"
    xr.Dataset(
        {"elevation": (("y", "x"), el), "azimuth": (("y", "x"), az)},
        attrs={"name": "user map", "valid_from": "2019-10-01T00:00:00"},
    ).to_netcdf(path, engine="netcdf4", format="NETCDF4")
    sm = read_skymap(path)
    np.testing.assert_array_equal(sm.elevation, el)
    assert sm.name == "user map"
    assert sm.valid_from == np.datetime64("2019-10-01T00:00:00")
    assert sm.checksum == hashlib.sha256(path.read_bytes()).hexdigest()
    assert sm.latitude is None
