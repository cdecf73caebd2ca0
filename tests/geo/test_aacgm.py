"""AACGM-v2 coordinates, MLT, the Sun and the Moon, and the geomagnetic view."""

from __future__ import annotations

import datetime as dt
import warnings

import aacgmv2
import numpy as np
import pytest
import xarray as xr

from aurora_xr.analysis.views import to_magnetic_view
from aurora_xr.cube import coords, frames
from aurora_xr.errors import (
    DateRangeError,
    FrameSizeError,
    MissingCalibrationError,
    OptionError,
)
from aurora_xr.geo import aacgm
from aurora_xr.geo import mlt as geo_mlt
from aurora_xr.sky import astronomy
from aurora_xr.sky.lens import sky_grids, sky_to_pixel
from aurora_xr.sky.shell import destination
from aurora_xr.sky.stations import get_station, placeholder_lens
from tests.conftest import raise_if_dask_computes

JBS = get_station("JBS")
LAT0, LON0 = JBS.latitude, JBS.longitude


def make_cube(
    size: int = 48,
    *,
    n_frames: int = 6,
    start: str = "2020-06-20T00:00",
    chunks: int = 0,
    frame_size: int | None = None,
) -> xr.Dataset:
    """A small blank JBS cube (uint8 zeros) with sky coordinates from the calibration."""
    cal = placeholder_lens("JBS", size, size)
    el, az = sky_grids(cal)
    n = frame_size or size
    times = np.datetime64(start, "ns") + np.arange(n_frames) * np.timedelta64(60, "s")
    if frame_size is not None:
        el, az = np.zeros((n, n), np.float32), np.zeros((n, n), np.float32)
    ds = xr.Dataset(
        {"image": (("time", "y", "x", "channel"), np.zeros((n_frames, n, n, 3), np.uint8))},
        coords={
            "time": times,
            "channel": ["R", "G", "B"],
            "elevation": (("y", "x"), el),
            "azimuth": (("y", "x"), az),
        },
        attrs={**JBS.to_attrs(), **cal.to_attrs(), "Conventions": "CF-1.8"},
    )
    return ds.chunk({"time": chunks}) if chunks else ds


def direct_mlt(t: np.datetime64) -> float:
    """MLT over JBS straight from aacgmv2 (station mlon at that very time)."""
    when = dt.datetime.fromisoformat(str(np.asarray(t).astype("datetime64[s]")))
    mlon = aacgmv2.convert_latlon_arr([LAT0], [LON0], 110.0, when, method_code="G2A")[1][0]
    return float(aacgmv2.convert_mlt(mlon, when)[0])


# -- date range -----------------------------------------------------------------------
def test_check_date_range_accepts_the_aacgm_range() -> None:
    aacgm.check_date_range(np.array(["1990-01-01T00:00", "2029-12-31T23:59:59"], "M8[ns]"))
    aacgm.check_date_range(dt.datetime(2020, 7, 2))
    aacgm.check_date_range(np.array([], "M8[ns]"))


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("1989-12-31T23:59:59", "found 1989-12-31T23:59:59"),
        ("2030-01-01T00:00", "found 2030-01-01T00:00:00"),
        ("NaT", "NaT"),
    ],
)
def test_check_date_range_rejects_outside(bad: str, message: str) -> None:
    with pytest.raises(DateRangeError, match=message):
        aacgm.check_date_range(np.array(["2020-01-01", bad], "M8[ns]"))


def test_date_errors_from_every_entry_point() -> None:
    with pytest.raises(DateRangeError, match="found 2031-03-01"):
        geo_mlt.station_mlt(np.array(["2031-03-01"], "M8[ns]"), LAT0, LON0)
    with pytest.raises(DateRangeError):
        aacgm.aacgm_coords(LAT0, LON0, altitude_km=110.0, when=1985)
    with pytest.raises(DateRangeError):
        frames.mlt(make_cube(start="2030-02-01T00:00"))
    with pytest.raises(DateRangeError):
        coords.magnetic_coords(make_cube(start="1989-06-01T00:00"))


# -- AACGM ----------------------------------------------------------------------------
def test_jbs_aacgm_at_110_km_in_2020() -> None:
    mlat, mlon = aacgm.aacgm_coords(LAT0, LON0, altitude_km=110.0, when=2020)
    assert float(mlat) == pytest.approx(-79.89, abs=0.02)
    assert float(mlon) == pytest.approx(-53.98, abs=0.05)


def test_science_example_2020_07_02_0702() -> None:
    when = "2020-07-02T07:02"
    mlat, mlon = aacgm.aacgm_coords(LAT0, LON0, altitude_km=110.0, when=when)
    assert float(mlat) == pytest.approx(-79.886, abs=0.005)
    assert float(mlon) == pytest.approx(-53.976, abs=0.01)
    assert float(geo_mlt.station_mlt([when], LAT0, LON0)[0]) == pytest.approx(22.475, abs=0.005)


def test_aacgm_keeps_shape_and_nan() -> None:
    lat = np.array([[LAT0, np.nan], [-70.0, -80.0]])
    lon = np.array([[LON0, 10.0], [np.nan, 150.0]])
    mlat, mlon = aacgm.aacgm_coords(lat, lon, altitude_km=110.0, when=2020)
    assert mlat.shape == (2, 2)
    assert np.isnan(mlat[0, 1])
    assert np.isnan(mlon[1, 0])
    assert np.isfinite(mlat[[0, 1], [0, 1]]).all()
    with pytest.raises(OptionError, match="altitude"):
        aacgm.aacgm_coords(LAT0, LON0, altitude_km=3000.0, when=2020)


def test_epoch_is_mid_year_for_a_year() -> None:
    assert aacgm.epoch_of(2019) == dt.datetime(2019, 7, 2)
    assert aacgm.epoch_of("2019-03-04T05:06") == dt.datetime(2019, 3, 4, 5, 6)
    assert aacgm.epoch_of(np.datetime64("2021-01-01")) == dt.datetime(2021, 1, 1)


def test_pixel_magnetic_coords_zenith_nan_and_cache() -> None:
    cal = placeholder_lens("JBS", 64, 64)
    el, az = sky_grids(cal)
    mlat, mlon = aacgm.pixel_magnetic_coords(el, az, LAT0, LON0, when=2020)
    assert mlat.dtype == mlon.dtype == np.float32
    assert mlat.shape == (64, 64)
    assert np.array_equal(np.isnan(mlat), np.isnan(el))
    iy, ix = np.unravel_index(np.nanargmax(el), el.shape)
    zen_lat, zen_lon = aacgm.aacgm_coords(LAT0, LON0, altitude_km=110.0, when=2020)
    assert mlat[iy, ix] == pytest.approx(float(zen_lat), abs=0.05)
    assert mlon[iy, ix] == pytest.approx(float(zen_lon), abs=0.2)
    # low elevations reach far: about 10° of magnetic latitude across the sky
    assert np.nanmax(mlat) - np.nanmin(mlat) > 8.0
    mlat[:] = 0.0  # the caller's copy, not the cache
    again, _ = aacgm.pixel_magnetic_coords(el, az, LAT0, LON0, when=2020)
    assert np.nanmax(np.abs(again)) > 70.0


def test_magnetic_north_is_where_mlat_increases() -> None:
    north = aacgm.magnetic_north_azimuth(LAT0, LON0, when=2020)
    assert 0.0 <= north < 360.0
    lat, lon = destination(LAT0, LON0, np.array([north, north + 90.0, north + 180.0]), 1.0)
    mlat, _ = aacgm.aacgm_coords(lat, lon, altitude_km=110.0, when=2020)
    m0 = float(aacgm.aacgm_coords(LAT0, LON0, altitude_km=110.0, when=2020)[0])
    assert mlat[0] - m0 > 0.8  # one degree of arc along magnetic north
    assert abs(mlat[1] - m0) < 0.1  # across it hardly changes
    assert m0 - mlat[2] > 0.8
    assert lat[0] > LAT0  # at JBS magnetic north is equatorward


# -- MLT ---------------------------------------------------------------------------------
def test_station_mlt_matches_aacgmv2_at_random_times() -> None:
    rng = np.random.default_rng(42)
    start = np.datetime64("2018-01-01T00:00", "ns")
    # a dense month (so that MLT is interpolated between nodes) plus random instants
    dense = start + np.arange(0, 40 * 1440) * np.timedelta64(60, "s")
    seconds = rng.integers(0, 3 * 365 * 86400, 120)
    sample = start + seconds.astype("timedelta64[s]").astype("timedelta64[ns]")
    near = dense[rng.integers(0, dense.size, 30)] + np.timedelta64(17, "s")
    times = np.concatenate([dense, sample, near])
    values = geo_mlt.station_mlt(times, LAT0, LON0)
    assert values.dtype == np.float64
    assert values.shape == times.shape
    assert np.all((values >= 0.0) & (values < 24.0))
    check = np.concatenate([sample, near])
    got = values[dense.size :]
    expected = np.array([direct_mlt(t) for t in check])
    err = np.abs((got - expected + 12.0) % 24.0 - 12.0)
    assert err.max() < 0.01


def test_station_mlt_few_times_and_shapes() -> None:
    times = np.array([["2019-05-01T03:00", "2021-11-30T22:15"]], "M8[ns]")
    values = geo_mlt.station_mlt(times, LAT0, LON0)
    assert values.shape == (1, 2)
    expected = [direct_mlt(t) for t in times.ravel()]
    assert values.ravel() == pytest.approx(expected, abs=0.01)
    assert geo_mlt.station_mlt(np.array([], "M8[ns]"), LAT0, LON0).shape == (0,)


def test_magnetic_midnight_at_jbs_near_0830_ut() -> None:
    for day in ("2019-06-21", "2020-12-21"):
        times = np.datetime64(day, "ns") + np.arange(1440) * np.timedelta64(60, "s")
        values = geo_mlt.station_mlt(times, LAT0, LON0)
        wraps = np.flatnonzero(np.diff(values) < -12.0)  # 24 -> 0: magnetic midnight
        assert wraps.size == 1
        minute = int(wraps[0]) + 1
        assert abs(minute - 8.5 * 60) <= 30


def test_mlt_of_mlon_broadcasts_and_agrees_with_station_mlt() -> None:
    times = np.datetime64("2020-03-01", "ns") + np.arange(0, 2000) * np.timedelta64(60, "s")
    _, mlon = aacgm.aacgm_coords(LAT0, LON0, altitude_km=110.0, when=times[1000])
    grid = geo_mlt.mlt_of_mlon(np.array([[float(mlon)], [float(mlon) + 15.0]]), times[None, :])
    assert grid.shape == (2, 2000)
    station = geo_mlt.station_mlt(times, LAT0, LON0)
    assert np.abs((grid[0] - station + 12.0) % 24.0 - 12.0).max() < 0.005
    assert np.allclose((grid[1] - grid[0]) % 24.0, 1.0)


# -- Sun and Moon ---------------------------------------------------------------------------
def _astropy_altaz(times: np.ndarray, body: str) -> tuple[np.ndarray, np.ndarray]:
    import astropy.units as u
    from astropy.coordinates import AltAz, EarthLocation, get_body, get_sun
    from astropy.time import Time

    with astronomy._astropy_offline():
        when = Time(times, scale="utc")
        frame = AltAz(
            obstime=when,
            location=EarthLocation.from_geodetic(LON0 * u.deg, LAT0 * u.deg, 0.0 * u.m),
        )
        coord = get_sun(when) if body == "sun" else get_body("moon", when)
        altaz = coord.transform_to(frame)
    return np.asarray(altaz.alt.deg), np.asarray(altaz.az.deg)


def test_sun_at_jbs_midnight_in_june_and_noon_in_december() -> None:
    # local solar time at JBS is about UT + 10.95 h
    times = np.array(["2020-06-21T13:03", "2020-12-21T01:03"], "M8[ns]")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        el = frames.sun_elevation(times, LAT0, LON0)
    assert el[0] < -30.0  # polar night, deep below the horizon
    assert 30.0 < el[1] < 45.0  # 90 - 74.62 + 23.44 = 38.8 at the solstice noon


def test_sun_and_moon_agree_with_astropy_on_long_arrays() -> None:
    rng = np.random.default_rng(7)
    times = np.datetime64("2020-05-01", "ns") + np.arange(0, 20 * 1440, 2) * np.timedelta64(60, "s")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sun = frames.sun_elevation(times, LAT0, LON0)
        m_el, m_az, m_ill = astronomy.moon_position(times, LAT0, LON0)
    pick = rng.choice(times.size, 60, replace=False)
    s_el, _ = _astropy_altaz(times[pick], "sun")
    ref_el, ref_az = _astropy_altaz(times[pick], "moon")
    assert np.abs(sun[pick] - s_el).max() < 0.01
    assert np.abs(m_el[pick] - ref_el).max() < 0.01
    assert np.abs((m_az[pick] - ref_az + 180.0) % 360.0 - 180.0).max() < 0.02
    assert np.all((m_ill >= 0.0) & (m_ill <= 1.0))


def test_moon_illumination_full_and_new() -> None:
    times = np.array(["2020-07-05T04:44", "2020-07-20T17:33", "2020-07-12T23:29"], "M8[ns]")
    _, _, illum = astronomy.moon_position(times, LAT0, LON0)
    assert illum[0] > 0.99  # full moon
    assert illum[1] < 0.01  # new moon
    assert illum[2] == pytest.approx(0.5, abs=0.03)  # last quarter


def test_sun_elevation_needs_a_site() -> None:
    with pytest.raises(OptionError, match="lat0 and lon0"):
        frames.sun_elevation(np.array(["2020-01-01"], "M8[ns]"))  # type: ignore[call-overload]


# -- public functions on cubes ------------------------------------------------------------
@pytest.mark.parametrize("chunks", [0, 2])
def test_magnetic_coords_on_a_cube(chunks: int) -> None:
    ds = make_cube(chunks=chunks)
    with raise_if_dask_computes():
        out = coords.magnetic_coords(ds)
    assert out["mlat"].dims == ("y", "x")
    assert out["mlat"].dtype == np.float32
    assert out["mlat"].attrs["units"] == "degree"
    assert out["mlat"].attrs["altitude_km"] == 110.0
    assert out["mlon"].attrs["epoch"] == "2020-07-02T00:00:00"
    cal = placeholder_lens("JBS", 48, 48)
    el, az = sky_grids(cal)
    mlat, mlon = aacgm.pixel_magnetic_coords(el, az, LAT0, LON0, site_altitude_km=0.03, when=2020)
    np.testing.assert_array_equal(out["mlat"].values, mlat)
    np.testing.assert_array_equal(out["mlon"].values, mlon)
    assert out["image"].chunks == ds["image"].chunks


@pytest.mark.parametrize("chunks", [0, 3])
def test_mlt_sun_and_moon_on_a_cube(chunks: int) -> None:
    ds = make_cube(start="2020-07-02T07:02", chunks=chunks)
    with raise_if_dask_computes():
        m = frames.mlt(ds)
        sun = frames.sun_elevation(ds)
        moon = frames.moon(ds)
    assert m.name == "mlt"
    assert m.dims == ("time",)
    assert m.attrs["units"] == "h"
    assert float(m[0]) == pytest.approx(22.475, abs=0.01)
    np.testing.assert_array_equal(m["time"].values, ds["time"].values)
    assert sun.dims == ("time",)
    assert sun.attrs["units"] == "degree"
    assert float(sun.max()) < -20.0  # July at JBS
    assert set(moon.data_vars) == {"moon_elevation", "moon_azimuth", "moon_illumination"}
    assert moon["moon_illumination"].dims == ("time",)
    direct = astronomy.moon_position(ds["time"].values, LAT0, LON0, altitude_m=30.0)
    np.testing.assert_allclose(moon["moon_elevation"].values, direct[0])


def test_frame_size_mismatch_is_rejected() -> None:
    ds = make_cube(48, frame_size=32)
    with pytest.raises(FrameSizeError, match="48x48 frames; found frames of 32x32"):
        coords.magnetic_coords(ds)


# -- geomagnetic view ----------------------------------------------------------------------
def test_to_magnetic_view_is_lazy_and_matches_eager() -> None:
    ds = make_cube(64, n_frames=4)
    cal = placeholder_lens("JBS", 64, 64)
    north = aacgm.magnetic_north_azimuth(LAT0, LON0, when=2020)
    image = ds["image"].values.copy()
    x, y = sky_to_pixel(45.0, north, cal)  # marker at magnetic north
    image[:, int(np.rint(y)), int(np.rint(x)), 1] = 200
    ds["image"] = (ds["image"].dims, image)
    ds["aurora_truth"] = (("time", "y", "x"), image[..., 1] > 0)
    eager = to_magnetic_view(ds)
    with raise_if_dask_computes():
        lazy = to_magnetic_view(ds.chunk({"time": 2}))
    assert lazy["image"].chunks is not None
    xr.testing.assert_identical(lazy.compute(), eager)
    size = eager.sizes["y"]
    assert eager["image"].dims == ("time", "y", "x", "channel")
    assert eager.attrs["calibration_width"] == size
    assert eager.attrs["magnetic_north_azimuth"] == pytest.approx(north)
    ys, xs = np.nonzero(eager["aurora_truth"].values[0])
    centre = (size - 1) / 2.0
    assert abs(xs.mean() - centre) <= 1.0
    assert ys.mean() < centre - 5
    # the view's own sky coordinates agree with its calibration
    assert float(eager["azimuth"][0, int(centre)]) == pytest.approx(north, abs=1.0)


def test_to_magnetic_view_on_a_dataarray_needs_a_calibration() -> None:
    ds = make_cube(32, n_frames=2)
    with pytest.raises(MissingCalibrationError):
        to_magnetic_view(ds["image"])
    da = ds["image"].assign_attrs(ds.attrs)
    out = to_magnetic_view(da, north_azimuth=0.0)
    assert isinstance(out, xr.DataArray)
    assert out.dtype == np.uint8
    assert out.attrs["magnetic_north_azimuth"] == 0.0


def test_magnetic_coords_use_the_cube_sky_coordinates_in_memory() -> None:
    ds = make_cube(32)
    el = ds["elevation"].values.copy()
    el[:, :16] = np.nan  # e.g. a horizon mask from the calibration
    ds = ds.assign_coords(elevation=(("y", "x"), el))
    out = coords.magnetic_coords(ds, when=2019)
    assert np.all(np.isnan(out["mlat"].values[:, :16]))
    assert np.isfinite(out["mlat"].values[:, 16:]).sum() > 300
    assert out["mlat"].attrs["epoch"] == "2019-07-02T00:00:00"
