"""Tests of the synthetic sky (aurora_xr.datasets / aurora_xr.synthetic)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr
from PIL import Image
from scipy import ndimage

from aurora_xr import get_station
from aurora_xr.cube.schema import validate_cube
from aurora_xr.datasets import (
    ARCHIVE_SIDECAR,
    DEFAULT_TIME_PATTERN,
    archive_path,
    frame_times,
    synthetic_cube,
    write_synthetic_archive,
)
from aurora_xr.errors import DateRangeError, OptionError, StationError
from aurora_xr.geo.mlt import station_mlt
from aurora_xr.sky.lens import pixel_to_sky, sky_grids
from aurora_xr.sky.stations import placeholder_lens
from aurora_xr.synthetic import ephemeris
from aurora_xr.synthetic.auroral_forms import occurrence_rate
from aurora_xr.synthetic.static import star_catalogue
from tests.conftest import raise_if_dask_computes

SIDEREAL_MINUTES = 1436.0681
ACTIVE = "2020-06-21T07:50"  # evening/midnight sector at JBS: dynamic and stationary forms


@pytest.fixture(scope="module")
def small() -> xr.Dataset:
    return synthetic_cube(start=ACTIVE, n_frames=12, size=96, seed=3)


@pytest.fixture(scope="module")
def active() -> xr.Dataset:
    """Clear, moonless frames with a stationary arc and dynamic forms."""
    return synthetic_cube(start=ACTIVE, n_frames=24, size=128, clouds=0.0, moon=False)


# -- data model ---------------------------------------------------------------------
def test_data_model(small: xr.Dataset) -> None:
    ds = small
    assert ds.image.dims == ("time", "y", "x", "channel")
    assert ds.image.dtype == np.uint8
    assert ds.image.shape == (12, 96, 96, 3)
    assert list(ds.channel.values) == ["R", "G", "B"]
    assert ds.aurora_truth.dims == ("time", "y", "x")
    assert ds.aurora_truth.dtype == bool
    assert ds.aurora_kind.dims == ("time", "y", "x")
    assert ds.aurora_kind.dtype == np.uint8
    assert set(np.unique(ds.aurora_kind.values)) <= {0, 1, 2}
    assert np.array_equal(ds.aurora_kind.values > 0, ds.aurora_truth.values)
    assert ds.time.dtype == np.dtype("datetime64[ns]")
    assert np.all(np.diff(ds.time.values) == np.timedelta64(60, "s"))
    assert ds.moon_up.dims == ("time",)
    assert ds.cloud_fraction.dtype == np.float32
    assert set(ds.coords) == {"time", "channel", "elevation", "azimuth"}
    assert "y" not in ds.coords
    assert "x" not in ds.coords
    cal = placeholder_lens("JBS", 96, 96)
    el, az = sky_grids(cal)
    assert ds.elevation.dims == ("y", "x")
    assert ds.elevation.dtype == np.float32
    np.testing.assert_array_equal(ds.elevation.values, el)
    np.testing.assert_array_equal(ds.azimuth.values, az)
    attrs = ds.attrs
    assert attrs["Conventions"] == "CF-1.8"
    assert attrs["station_code"] == "JBS"
    assert attrs["station_latitude"] == -74.62
    assert attrs["calibration_width"] == 96
    assert attrs["calibration_lens_radius"] == cal.lens_radius
    assert "seed=3" in attrs["source"]
    assert "synthetic_cube" in attrs["source"]
    assert "synthetic_cube" in attrs["history"]
    assert attrs["title"]
    assert json.loads(attrs["synthetic_options"])["seed"] == 3
    assert ds.aurora_truth.attrs["threshold_dn"] == 8.0
    assert validate_cube(ds) == cal


def test_duration_and_time_options() -> None:
    times = frame_times(start="2020-06-21T00:00", duration="10min", cadence="2min")
    assert (
        times.tolist()
        == np.arange(
            np.datetime64("2020-06-21T00:00", "ns"),
            np.datetime64("2020-06-21T00:10", "ns"),
            np.timedelta64(2, "m"),
        ).tolist()
    )
    assert frame_times().size == 60
    aware = frame_times(start="2020-06-21T09:00+09:00", n_frames=1)
    assert aware[0] == np.datetime64("2020-06-21T00:00", "ns")


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"n_frames": 2, "duration": "1h"}, OptionError),
        ({"n_frames": 0}, OptionError),
        ({"cadence": "-1min"}, OptionError),
        ({"clouds": 1.5}, OptionError),
        ({"stationary_fraction": -0.1}, OptionError),
        ({"moon": "yes"}, OptionError),
        ({"moon": 1}, OptionError),
        ({"seed": -1}, OptionError),
        ({"truth_outline_deg": -1.0}, OptionError),
        ({"truth_outline_deg": 45.0}, OptionError),
        ({"size": 8}, OptionError),
        ({"chunks": 0}, OptionError),
        ({"start": "not a date"}, OptionError),
        ({"station": "XYZ"}, StationError),
        ({"start": "2035-01-01"}, DateRangeError),
    ],
)
def test_bad_options(kwargs: dict[str, object], error: type[Exception]) -> None:
    args = {"n_frames": 1, "size": 32, **kwargs}
    with pytest.raises(error):
        synthetic_cube(**args)  # type: ignore[arg-type]


# -- determinism ----------------------------------------------------------------------
def test_same_seed_same_cube_other_seed_other_cube(small: xr.Dataset) -> None:
    again = synthetic_cube(start=ACTIVE, n_frames=12, size=96, seed=3)
    for name in ("image", "aurora_truth", "aurora_kind", "moon_up", "cloud_fraction"):
        np.testing.assert_array_equal(again[name].values, small[name].values)
    other = synthetic_cube(start=ACTIVE, n_frames=12, size=96, seed=4)
    differs = (other.image.values != small.image.values).mean()
    assert differs > 0.3


def test_frame_independent_of_request_and_chunking(small: xr.Dataset) -> None:
    alone = synthetic_cube(start=small.time.values[7], n_frames=1, size=96, seed=3)
    np.testing.assert_array_equal(alone.image.values[0], small.image.values[7])
    np.testing.assert_array_equal(alone.aurora_kind.values[0], small.aurora_kind.values[7])
    with raise_if_dask_computes():
        lazy = synthetic_cube(start=ACTIVE, n_frames=12, size=96, seed=3, chunks={"time": 5})
    assert lazy.image.chunks == ((5, 5, 2), (96,), (96,), (3,))
    assert lazy.aurora_truth.chunks[0] == (5, 5, 2)
    computed = lazy.compute()
    xr.testing.assert_equal(computed, small)
    for name in computed.variables:
        assert computed[name].attrs.keys() == small[name].attrs.keys()
    assert computed.attrs["synthetic_options"] == small.attrs["synthetic_options"]


# -- appearance -----------------------------------------------------------------------
def test_dark_corners_outside_the_lens(small: xr.Dataset) -> None:
    outside = np.isnan(small.elevation.values)
    corners = small.image.values[:, outside].astype(float)
    inside = small.image.values[:, ~outside].astype(float)
    assert np.median(corners) <= 3.0
    assert corners.mean() < 4.0
    assert inside.mean() > 4.0 * corners.mean()


def test_truth_is_brighter_in_green_than_its_surroundings() -> None:
    ds = synthetic_cube(start=ACTIVE, n_frames=10, cadence="3min", size=128, seed=3, clouds=0.3)
    green = ds.image.values[..., 1].astype(float)
    inside = np.isfinite(ds.elevation.values)
    checked = 0
    for i in range(ds.sizes["time"]):
        truth = ds.aurora_truth.values[i]
        if truth.sum() < 50:
            continue
        ring = ndimage.binary_dilation(truth, iterations=3) & ~truth & inside
        assert green[i][truth].mean() > green[i][ring].mean() + 8.0
        checked += 1
    assert checked >= 8


def test_truth_is_the_visible_aurora_outlined_like_a_label() -> None:
    args = {"start": ACTIVE, "n_frames": 8, "cadence": "4min", "size": 128, "seed": 3}
    raw = synthetic_cube(**args, clouds=0.5, truth_outline_deg=0.0)
    ds = synthetic_cube(**args, clouds=0.5)
    assert ds.aurora_truth.attrs["outline_deg"] == 3.75
    np.testing.assert_array_equal(ds.image.values, raw.image.values)  # only the truth differs
    visible, truth = raw.aurora_truth.values, ds.aurora_truth.values
    px = 3.75 * placeholder_lens("JBS", 128, 128).lens_radius / 90.0  # 2.5 px
    near = np.stack([ndimage.distance_transform_edt(~v) <= 3 * px for v in visible])
    assert not (truth & ~near).any()  # the outline stays within 3 sigma of visible aurora
    pieces_raw = sum(ndimage.label(v)[1] for v in visible)
    pieces = sum(ndimage.label(t)[1] for t in truth)
    assert pieces_raw >= 40  # the clouds break the visible aurora up ...
    assert pieces <= pieces_raw / 3  # ... and the label outlines it in a few regions
    assert 0.8 < truth.sum() / visible.sum() < 1.25  # with about the same area
    kind = ds.aurora_kind.values
    assert np.array_equal(kind > 0, truth)
    assert set(np.unique(kind[truth])) == {1, 2}


def test_stationary_forms_hold_still_while_dynamic_forms_change(active: xr.Dataset) -> None:
    green = active.image.values[..., 1].astype(float)
    kind = active.aurora_kind.values
    inside = np.isfinite(active.elevation.values)
    still, moving, background = [], [], []
    for i in range(active.sizes["time"] - 1):
        diff = np.abs(green[i + 1] - green[i])
        stat = (kind[i] == 2) & (kind[i + 1] == 2)
        dyn = (kind[i] == 1) & (kind[i + 1] == 1)
        if stat.sum() >= 100:
            still.append(diff[stat].mean())
        if dyn.sum() >= 100:
            moving.append(diff[dyn].mean())
        background.append(diff[(kind[i] == 0) & (kind[i + 1] == 0) & inside].mean())
    assert len(still) >= 15
    assert len(moving) >= 10
    noise = float(np.mean(background))
    assert max(still) < 1.5 * noise  # within the (slightly larger) noise of brighter pixels
    assert np.median(moving) > 3.0 * noise


def test_stars_turn_about_the_south_celestial_pole_at_the_sidereal_rate() -> None:
    minutes = 60
    t0 = np.datetime64("2020-06-21T12:00", "ns")
    ds = synthetic_cube(
        start=t0,
        n_frames=2,
        cadence=f"{minutes}min",
        size=256,
        clouds=0.0,
        moon=False,
        activity=0.0,
    )
    station = get_station("JBS")
    cal = placeholder_lens("JBS", 256, 256)
    cat = star_catalogue()
    ns = ds.time.values.astype(np.int64)
    lst = ephemeris.local_sidereal_time(ns, station.longitude)
    el0, _az0 = ephemeris.equatorial_to_horizontal(cat.ra, cat.dec, lst[0], station.latitude)
    el1, _ = ephemeris.equatorial_to_horizontal(cat.ra, cat.dec, lst[1], station.latitude)
    ok = (el0 > 30) & (el1 > 30) & (cat.mag > 0.0) & (cat.mag < 2.0)
    assert ok.any()
    star = np.flatnonzero(ok)[np.argmin(cat.mag[ok])]
    light = ds.image.values.astype(float).sum(-1)

    def centroid(frame: np.ndarray, el: float, az: float) -> tuple[float, float]:
        from aurora_xr.sky.lens import sky_to_pixel

        x0, y0 = (round(float(v)) for v in sky_to_pixel(el, az, cal))
        win = frame[y0 - 5 : y0 + 6, x0 - 5 : x0 + 6]
        py, px = np.unravel_index(np.argmax(win), win.shape)
        cy, cx = y0 - 5 + py, x0 - 5 + px
        box = frame[cy - 3 : cy + 4, cx - 3 : cx + 4]
        w = np.clip(box - np.median(frame[cy - 8 : cy + 9, cx - 8 : cx + 9]), 0, None)
        yy, xx = np.mgrid[-3:4, -3:4]
        return cx + (w * xx).sum() / w.sum(), cy + (w * yy).sum() / w.sum()

    vectors = []
    for i in range(2):
        el, az = ephemeris.equatorial_to_horizontal(
            cat.ra[star], cat.dec[star], lst[i], station.latitude
        )
        x, y = centroid(light[i], float(el), float(az))
        e, a = (np.radians(float(v)) for v in pixel_to_sky(x, y, cal))
        vectors.append(np.array([np.cos(e) * np.sin(a), np.cos(e) * np.cos(a), np.sin(e)]))
    lat = np.radians(74.62)  # the SCP: elevation 74.62°, azimuth 180° (east, north, up)
    pole = np.array([0.0, -np.cos(lat), np.sin(lat)])
    w0, w1 = (v - (v @ pole) * pole for v in vectors)
    angle = np.degrees(np.arctan2(pole @ np.cross(w0, w1), w0 @ w1))
    assert abs(abs(angle) - 360.0 * minutes / SIDEREAL_MINUTES) < 0.4
    # and the star keeps its distance from the pole
    assert abs(np.degrees(np.arccos(vectors[0] @ pole) - np.arccos(vectors[1] @ pole))) < 0.4


def test_moon_and_clouds_options() -> None:
    kw = dict(start="2020-06-21T12:00", n_frames=2, size=64, activity=0.0)
    dark = synthetic_cube(moon=False, clouds=0.0, **kw)  # type: ignore[arg-type]
    moonlit = synthetic_cube(moon=True, clouds=0.0, **kw)  # type: ignore[arg-type]
    overcast = synthetic_cube(moon=False, clouds=1.0, **kw)  # type: ignore[arg-type]
    assert not dark.moon_up.values.any()
    assert moonlit.moon_up.values.all()
    inside = np.isfinite(dark.elevation.values)
    assert moonlit.image.values[:, inside].mean() > dark.image.values[:, inside].mean() + 10
    assert np.all(dark.cloud_fraction.values == 0.0)
    assert np.all(overcast.cloud_fraction.values == 1.0)


def test_twilight_brightens_the_sky() -> None:
    kw = dict(n_frames=1, size=64, moon=False, clouds=0.0, activity=0.0)
    noon = synthetic_cube(start="2020-06-21T01:00", **kw)  # type: ignore[arg-type]  # sun -8°
    night = synthetic_cube(start="2020-06-21T13:00", **kw)  # type: ignore[arg-type]  # sun -39°
    inside = np.isfinite(noon.elevation.values)
    assert noon.image.values[:, inside].mean() > night.image.values[:, inside].mean() + 10


def test_ephemeris_agrees_with_astropy() -> None:
    coords = pytest.importorskip("astropy.coordinates")
    units = pytest.importorskip("astropy.units")
    atime = pytest.importorskip("astropy.time")
    times = np.array(["2020-06-21T00:00", "2021-03-05T13:20", "2023-11-30T07:45"], "M8[ns]")
    where = coords.EarthLocation(lat=-74.62 * units.deg, lon=164.22 * units.deg)
    t = atime.Time(times.astype("M8[s]").astype(str), scale="utc")
    frame = coords.AltAz(obstime=t, location=where)
    sun = coords.get_sun(t).transform_to(frame)
    moon = coords.get_body("moon", t, where).transform_to(frame)
    ns = times.astype(np.int64)
    el, az = ephemeris.sun_altaz(ns, -74.62, 164.22)
    np.testing.assert_allclose(el, sun.alt.deg, atol=0.05)
    np.testing.assert_allclose(az, sun.az.deg, atol=0.1)
    el, az, _ = ephemeris.moon_altaz(ns, -74.62, 164.22)
    np.testing.assert_allclose(el, moon.alt.deg, atol=0.4)
    np.testing.assert_allclose(az, moon.az.deg, atol=0.6)


# -- occurrence -------------------------------------------------------------------------
def test_occurrence_depends_on_magnetic_local_time() -> None:
    assert occurrence_rate(21.0) > 4 * occurrence_rate(16.0)
    flat = {occurrence_rate(h, mlt_occurrence=False) for h in (0.0, 6.0, 12.0, 18.0)}
    assert len({round(v, 9) for v in flat}) == 1
    ds = synthetic_cube(
        start="2020-06-22T00:00",
        duration="48h",
        cadence="10min",
        size=48,
        clouds=0.0,
        moon=False,
    )
    mlt = station_mlt(ds.time.values, -74.62, 164.22)
    seen = ds.aurora_truth.values.any(axis=(1, 2))
    sector = (mlt // 4).astype(int)
    share = np.array([seen[sector == s].mean() for s in range(6)])
    assert share.max() > 2.0 * share.min()
    assert share[0] > share[3]  # 00-04 MLT (substorms) over 12-16 MLT (quiet afternoon)


# -- archive ----------------------------------------------------------------------------
def test_write_synthetic_archive(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from aurora_xr.io.imagefiles import time_from_name, time_regex

    start = "2020-06-21T23:59"
    paths = write_synthetic_archive(tmp_path, start=start, n_frames=2, size=64, seed=2)
    cube = synthetic_cube(start=start, n_frames=2, size=64, seed=2)
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [
        "JBS/2020/06/21/JBS_20200621_235900_rgb.png",
        "JBS/2020/06/22/JBS_20200622_000000_rgb.png",
    ]
    regex = time_regex(DEFAULT_TIME_PATTERN)
    for i, path in enumerate(paths):
        assert time_from_name(path.name, regex, DEFAULT_TIME_PATTERN) == cube.time.values[i]
        rgb = np.asarray(Image.open(path))
        np.testing.assert_array_equal(rgb, cube.image.values[i])
        mask = np.asarray(
            Image.open(archive_path(tmp_path, "JBS", cube.time.values[i], role="mask"))
        )
        assert mask.ndim == 2
        assert set(np.unique(mask)) <= {0, 255}
        np.testing.assert_array_equal(mask == 255, cube.aurora_truth.values[i])
        kind = np.asarray(Image.open(path.with_name(path.name.replace("_rgb.png", "_kind.png"))))
        np.testing.assert_array_equal(kind, cube.aurora_kind.values[i])
    sidecar = json.loads((tmp_path / ARCHIVE_SIDECAR).read_text())
    assert sidecar["time_pattern"] == DEFAULT_TIME_PATTERN
    assert sidecar["station"]["station_code"] == "JBS"
    assert sidecar["calibration"]["calibration_width"] == 64
    assert sidecar["n_frames"] == 2
    assert sidecar["options"]["seed"] == 2

    jpegs = write_synthetic_archive(
        tmp_path / "j", start=start, n_frames=1, size=64, seed=2, fmt="jpeg", masks=False
    )
    assert jpegs[0].name == "JBS_20200621_235900_rgb.jpg"
    decoded = np.asarray(Image.open(jpegs[0])).astype(float)
    assert np.abs(decoded - cube.image.values[0]).mean() < 5.0  # JPEG of a noisy frame
    assert not list((tmp_path / "j").rglob("*_mask.png"))
    with pytest.raises(OptionError):
        write_synthetic_archive(tmp_path, n_frames=1, size=32, fmt="tiff")


def test_synthetic_nights_stay_in_the_polar_night() -> None:
    """24 nights: 9 days apart from 20 May to 22 July, then the same dates a year later."""
    from aurora_xr.datasets import night_dates, synthetic_nights
    from aurora_xr.errors import OptionError
    from aurora_xr.sky.astronomy import sun_elevation_at
    from aurora_xr.sky.stations import get_station

    lines: list[str] = []
    cube = synthetic_nights(50, 24, first_seed=5, size=32, activity=2.0, log=lines.append)
    assert cube.sizes["time"] == 50
    days = np.unique(cube["time"].values.astype("datetime64[D]"))
    assert list(days) == night_dates(24)
    assert {str(d)[5:] for d in days} == {
        "05-20", "05-29", "06-07", "06-16", "06-25", "07-04", "07-13", "07-22"
    }  # fmt: skip
    assert {str(d)[:4] for d in days} == {"2020", "2021", "2022"}
    # frames shared out evenly (3 for the first two nights), each night over a whole day
    per_day = [int((cube["time"].values.astype("datetime64[D]") == d).sum()) for d in days]
    assert per_day == [3, 3] + [2] * 22
    assert lines[0] == "  night seed=5 2020-05-20: 3 frames every 480 min"
    assert lines[-1] == "  night seed=28 2022-07-22: 2 frames every 720 min"
    # the Sun stays below the horizon on all these days at Jang Bogo (74.6 S)
    jbs = get_station("JBS")
    hours = np.arange(0, 24 * 60, 20).astype("timedelta64[m]")
    times = (days[:, None] + hours[None]).ravel()
    assert sun_elevation_at(times, jbs.latitude, jbs.longitude).max() < 0
    # one night is the synthetic_cube of its seed
    one = synthetic_nights(2, 1, first_seed=7, first_day="2021-06-01", size=32)
    same = synthetic_cube(
        start="2021-06-01T00:00", n_frames=2, cadence="720min", size=32, seed=7, clouds=0.1
    )
    np.testing.assert_array_equal(one["image"].values, same["image"].values)
    with pytest.raises(OptionError, match="n_frames"):
        synthetic_nights(3, 4, size=32)
    with pytest.raises(OptionError, match=">= 1"):
        night_dates(0)
