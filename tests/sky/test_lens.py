"""Camera and sky geometry (numpy kernels of aurora_xr.sky.lens)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from aurora_xr.errors import CalibrationError
from aurora_xr.sky.lens import Calibration, pixel_to_sky, sky_grids, sky_to_pixel
from aurora_xr.sky.resample import apply_view, magnetic_view_indices, view_calibration, view_indices
from aurora_xr.sky.shell import (
    EARTH_RADIUS_KM,
    bearing_and_angle,
    destination,
    earth_angle,
    elevation_from_earth_angle,
    geo_to_sky,
    ground_distance_km,
    sky_to_geo,
)
from aurora_xr.sky.stations import get_station, placeholder_lens

JBS = get_station("JBS")
LENSES = {
    "equidistant": Calibration(
        width=512,
        height=480,
        zenith_x=250.3,
        zenith_y=236.8,
        lens_radius=228.0,
        rotation_deg=17.0,
    ),
    "equisolid": Calibration(
        width=512,
        height=512,
        zenith_x=255.5,
        zenith_y=255.5,
        lens_radius=240.0,
        rotation_deg=-33.0,
        projection="equisolid",
    ),
    "polynomial": Calibration(
        width=400,
        height=400,
        zenith_x=201.0,
        zenith_y=198.5,
        lens_radius=190.0,
        rotation_deg=123.0,
        projection="polynomial",
        poly_coeffs=(1.12, -0.08, -0.04),
        east_clockwise=True,
    ),
}


# -- hand-computed geometry ---------------------------------------------------------
def test_zenith_pixel_sees_zenith_and_maps_to_station() -> None:
    cal = placeholder_lens("JBS")
    el, az = pixel_to_sky(cal.zenith_x, cal.zenith_y, cal)
    assert float(el) == pytest.approx(90.0, abs=1e-12)
    lat, lon = sky_to_geo(el, az, JBS.latitude, JBS.longitude, altitude_km=110.0)
    assert float(lat) == pytest.approx(JBS.latitude, abs=1e-9)
    assert float(lon) == pytest.approx(JBS.longitude, abs=1e-9)


@pytest.mark.parametrize(
    ("elevation", "altitude", "km"),
    [
        (10.0, 110.0, 502.0),
        (30.0, 110.0, 183.0),
        (20.0, 110.0, 280.0),
        (15.0, 110.0, 365.0),
        (0.0, 110.0, 1176.0),
        (10.0, 250.0, 959.0),
        (90.0, 110.0, 0.0),
    ],
)
def test_ground_distance_matches_hand_computed_values(
    elevation: float, altitude: float, km: float
) -> None:
    assert float(ground_distance_km(elevation, altitude)) == pytest.approx(km, abs=1.0)


def test_earth_angle_formula_by_hand() -> None:
    # beta = 90 - el - asin(R cos(el) / (R + h)) for el = 10, h = 110
    r = EARTH_RADIUS_KM
    expected = 90.0 - 10.0 - np.degrees(np.arcsin(r * np.cos(np.radians(10.0)) / (r + 110.0)))
    assert float(earth_angle(10.0, 110.0)) == pytest.approx(expected, abs=1e-12)
    assert float(ground_distance_km(10.0, 110.0)) == pytest.approx(
        np.radians(expected) * r, rel=1e-12
    )


def test_lens_radius_is_the_horizon_and_half_radius_is_45_degrees_equidistant() -> None:
    cal = Calibration(width=101, height=101, zenith_x=50, zenith_y=50, lens_radius=50)
    el, _ = pixel_to_sky(np.array([50.0, 50.0, 50.0]), np.array([0.0, 25.0, -1.0]), cal)
    assert el[0] == pytest.approx(0.0, abs=1e-12)
    assert el[1] == pytest.approx(45.0, abs=1e-12)
    assert np.isnan(el[2])  # outside the lens circle


def test_looking_up_east_is_left_of_north_up() -> None:
    cal = Calibration(width=101, height=101, zenith_x=50, zenith_y=50, lens_radius=50)
    x_n, y_n = sky_to_pixel(45.0, 0.0, cal)
    x_e, y_e = sky_to_pixel(45.0, 90.0, cal)
    assert (float(x_n), float(y_n)) == pytest.approx((50.0, 25.0))
    assert (float(x_e), float(y_e)) == pytest.approx((25.0, 50.0))  # east to the left
    turned = cal.rotated(90.0)  # north now points left on the image
    x_n, y_n = sky_to_pixel(45.0, 0.0, turned)
    assert (float(x_n), float(y_n)) == pytest.approx((25.0, 50.0))


# -- round trips --------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(LENSES))
def test_pixel_sky_pixel_round_trip_over_the_whole_frame(name: str) -> None:
    cal = LENSES[name]
    yy, xx = np.mgrid[0 : cal.height, 0 : cal.width]
    el, az = pixel_to_sky(xx, yy, cal)
    inside = np.isfinite(el)
    assert inside.sum() > 0.6 * np.pi * cal.lens_radius**2
    x, y = sky_to_pixel(el[inside], az[inside], cal)
    assert np.max(np.hypot(x - xx[inside], y - yy[inside])) < 0.01


@pytest.mark.parametrize("name", sorted(LENSES))
def test_sky_pixel_sky_round_trip(name: str) -> None:
    cal = LENSES[name]
    rng = np.random.default_rng(3)
    el = rng.uniform(0.5, 89.5, 2000)
    az = rng.uniform(0.0, 360.0, 2000)
    x, y = sky_to_pixel(el, az, cal)
    el2, az2 = pixel_to_sky(x, y, cal)
    assert np.max(np.abs(el2 - el)) < 1e-6
    assert np.max(np.abs((az2 - az + 180.0) % 360.0 - 180.0)) < 1e-6


@st.composite
def calibrations(draw: st.DrawFn) -> Calibration:
    width = draw(st.integers(16, 700))
    height = draw(st.integers(16, 700))
    zx = draw(st.floats(0.0, width - 1.0))
    zy = draw(st.floats(0.0, height - 1.0))
    radius = draw(st.floats(5.0, 600.0))
    projection = draw(st.sampled_from(["equidistant", "equisolid", "polynomial"]))
    coeffs: tuple[float, ...] = ()
    if projection == "polynomial":
        c2 = draw(st.floats(-0.3, 0.3))
        c3 = draw(st.floats(-0.2, 0.2))
        coeffs = (1.0 - c2 - c3, c2, c3)  # reaches the horizon at rho = 1
        t = np.linspace(0.0, 1.0, 1025)
        assume(np.all(np.diff(coeffs[0] * t + c2 * t**2 + c3 * t**3) > 0))
    return Calibration(
        width=width,
        height=height,
        zenith_x=zx,
        zenith_y=zy,
        lens_radius=radius,
        rotation_deg=draw(st.floats(-720.0, 720.0)),
        projection=projection,
        poly_coeffs=coeffs,
        east_clockwise=draw(st.booleans()),
    )


@settings(max_examples=60, deadline=None)
@given(cal=calibrations(), data=st.data())
def test_round_trip_for_random_calibrations(cal: Calibration, data: st.DataObject) -> None:
    n = 200
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    x = rng.uniform(0.0, cal.width - 1.0, n)
    y = rng.uniform(0.0, cal.height - 1.0, n)
    el, az = pixel_to_sky(x, y, cal)
    # the zenith pixel has no azimuth; stay a little away from it
    keep = np.isfinite(el) & (np.hypot(x - cal.zenith_x, y - cal.zenith_y) > 1e-3)
    x2, y2 = sky_to_pixel(el[keep], az[keep], cal)
    assert np.all(np.hypot(x2 - x[keep], y2 - y[keep]) < 0.01)
    assert np.all((el[keep] >= 0.0) & (el[keep] <= 90.0))


@settings(max_examples=60, deadline=None)
@given(
    el=st.floats(0.5, 89.0),
    az=st.floats(0.0, 359.99),
    lat0=st.floats(-89.0, 89.0),
    lon0=st.floats(-180.0, 179.9),
    altitude=st.floats(80.0, 400.0),
    site=st.floats(0.0, 3.0),
)
def test_geo_sky_round_trip(
    el: float, az: float, lat0: float, lon0: float, altitude: float, site: float
) -> None:
    lat, lon = sky_to_geo(el, az, lat0, lon0, altitude_km=altitude, site_altitude_km=site)
    el2, az2 = geo_to_sky(lat, lon, lat0, lon0, altitude_km=altitude, site_altitude_km=site)
    assert float(el2) == pytest.approx(el, abs=1e-6)
    assert abs((float(az2) - az + 180.0) % 360.0 - 180.0) < 1e-5


@settings(max_examples=60, deadline=None)
@given(el=st.floats(0.0, 90.0), altitude=st.floats(80.0, 1000.0), site=st.floats(0.0, 4.0))
def test_earth_angle_inverse(el: float, altitude: float, site: float) -> None:
    beta = earth_angle(el, altitude, site)
    assert float(elevation_from_earth_angle(beta, altitude, site)) == pytest.approx(el, abs=1e-6)


def test_destination_and_bearing_are_inverse() -> None:
    lat, lon = destination(-74.62, 164.22, np.array([0.0, 90.0, 200.0]), np.array([1.0, 2.0, 3.0]))
    bearing, angle = bearing_and_angle(-74.62, 164.22, lat, lon)
    assert angle == pytest.approx([1.0, 2.0, 3.0], abs=1e-9)
    assert bearing == pytest.approx([0.0, 90.0, 200.0], abs=1e-6)


def test_sky_grids_shape_dtype_and_nan_outside() -> None:
    cal = placeholder_lens("JBS", 64, 48)
    el, az = sky_grids(cal)
    assert el.shape == az.shape == (48, 64)
    assert el.dtype == az.dtype == np.float32
    assert np.isnan(el[0, 0])
    assert np.isnan(az[0, 0])
    assert np.nanmax(el) > 85.0


# -- bad calibrations -----------------------------------------------------------------
@pytest.mark.parametrize(("zx", "zy"), [(-1.0, 10.0), (10.0, 64.0), (80.0, 10.0)])
def test_zenith_outside_the_frame_is_rejected(zx: float, zy: float) -> None:
    with pytest.raises(CalibrationError, match="outside the 64x64 frame"):
        Calibration(width=64, height=64, zenith_x=zx, zenith_y=zy, lens_radius=30)


def test_polynomial_must_reach_the_horizon_at_the_lens_radius() -> None:
    with pytest.raises(CalibrationError, match="sum of poly_coeffs"):
        Calibration(
            width=64,
            height=64,
            zenith_x=32,
            zenith_y=32,
            lens_radius=30,
            projection="polynomial",
            poly_coeffs=(0.9, 0.05),
        )


def test_polynomial_without_linear_term_inverts_at_the_zenith() -> None:
    cal = Calibration(
        width=64,
        height=64,
        zenith_x=32,
        zenith_y=32,
        lens_radius=30,
        projection="polynomial",
        poly_coeffs=(0.0, 1.0),
    )
    with np.errstate(all="raise"):
        theta = cal.theta_of_rho(np.array([0.0, 0.25, 1.0]))
    assert theta == pytest.approx([0.0, 45.0, 90.0], abs=1e-9)


# -- geomagnetic view kernel ------------------------------------------------------------
def test_view_calibration_puts_the_azimuth_up_and_east_left() -> None:
    cal = LENSES["polynomial"]  # mirrored camera: the view is not mirrored
    view = view_calibration(cal, 68.4, size=101)
    assert (view.width, view.height, view.zenith_x, view.lens_radius) == (101, 101, 50.0, 50.0)
    x, y = sky_to_pixel(30.0, 68.4, view)  # magnetic north: straight up
    assert (float(x), float(y)) == pytest.approx((50.0, 50.0 - 50.0 * view.rho_of_theta(60.0)))
    x, y = sky_to_pixel(30.0, 68.4 + 90.0, view)  # magnetic east: to the left
    assert float(x) < 50.0
    assert float(y) == pytest.approx(50.0)


def test_magnetic_view_moves_a_marked_pixel_to_the_top() -> None:
    cal = placeholder_lens("JBS", 128, 128)
    north = 68.4
    frame = np.zeros((128, 128, 3), dtype=np.uint8)
    x, y = sky_to_pixel(40.0, north, cal)  # a star at magnetic north, 40° up
    frame[int(np.rint(y)), int(np.rint(x))] = (255, 0, 0)
    x, y = sky_to_pixel(40.0, north + 90.0, cal)  # one at magnetic east
    frame[int(np.rint(y)), int(np.rint(x))] = (0, 255, 0)
    index = magnetic_view_indices(cal, north)
    view = apply_view(frame, index)
    size = index.shape[0]
    assert view.shape == (size, size, 3)
    assert view.dtype == np.uint8
    centre = (size - 1) / 2.0
    ry, rx = np.argwhere(view[..., 0] == 255).mean(axis=0)
    gy, gx = np.argwhere(view[..., 1] == 255).mean(axis=0)
    assert abs(rx - centre) < 1.5
    assert ry < centre - 10
    assert gx < centre - 10
    assert abs(gy - centre) < 1.5


def test_apply_view_on_masks_stacks_and_fill() -> None:
    cal = Calibration(width=9, height=7, zenith_x=4, zenith_y=3, lens_radius=3)
    target = view_calibration(cal, 0.0, size=9)  # same orientation, bigger canvas
    index = view_indices(cal, target)
    assert index.shape == (9, 9)
    assert index.dtype == np.int64
    assert np.all(index[np.isnan(sky_grids(target)[0])] == -1)
    mask = np.arange(63, dtype=float).reshape(7, 9)
    out = apply_view(mask, index, fill_value=np.nan)
    assert out[4, 4] == mask[3, 4]  # zenith to zenith
    assert np.isnan(out[0, 0])
    stack = np.stack([mask, mask + 100.0])[..., None]  # (n, H, W, 1)
    out2 = apply_view(stack, index, yx_axes=(1, 2), fill_value=-5.0)
    assert out2.shape == (2, 9, 9, 1)
    assert out2[1, 4, 4, 0] == mask[3, 4] + 100.0
    assert out2[0, 0, 0, 0] == -5.0
    with pytest.raises(CalibrationError, match="found frames of only"):
        apply_view(np.zeros((3, 3)), index)


# -- optical-axis tilt and non-square pixels ---------------------------------------------
def test_defaults_and_old_attributes_mean_no_tilt_and_square_pixels() -> None:
    for cal in LENSES.values():
        assert (cal.tilt_deg, cal.tilt_azimuth_deg, cal.pixel_aspect) == (0.0, 0.0, 1.0)
        old = {
            k: v
            for k, v in cal.to_attrs().items()
            if k not in ("calibration_tilt_deg", "calibration_tilt_azimuth_deg")
            and k != "calibration_pixel_aspect"
        }
        assert Calibration.from_attrs(old) == cal


def test_tilted_axis_sees_the_tilt_direction_and_the_zenith_moves_opposite() -> None:
    cal = Calibration(
        width=201, height=201, zenith_x=100, zenith_y=100, lens_radius=90, tilt_deg=5.0
    )  # axis leans 5° towards north; north is up on the image
    el, az = pixel_to_sky(100.0, 100.0, cal)
    assert (float(el), float(az)) == pytest.approx((85.0, 0.0), abs=1e-9)
    x, y = sky_to_pixel(90.0, 0.0, cal)  # the zenith: 5° from the axis, towards the south
    assert (float(x), float(y)) == pytest.approx((100.0, 105.0), abs=1e-9)
    x, y = sky_to_pixel(0.0, 0.0, cal)  # northern horizon: 85° from the axis
    assert float(y) == pytest.approx(100.0 - 85.0, abs=1e-9)
    east = Calibration(
        width=201,
        height=201,
        zenith_x=100,
        zenith_y=100,
        lens_radius=90,
        tilt_deg=5.0,
        tilt_azimuth_deg=90.0,
    )
    x, y = sky_to_pixel(90.0, 0.0, east)  # east is left, so the zenith is right of the axis
    assert (float(x), float(y)) == pytest.approx((105.0, 100.0), abs=1e-9)


def test_pixel_aspect_squeezes_the_sky_circle_vertically() -> None:
    cal = Calibration(
        width=401, height=201, zenith_x=200, zenith_y=100, lens_radius=180, pixel_aspect=0.5
    )
    assert [float(v) for v in sky_to_pixel(0.0, 0.0, cal)] == pytest.approx([200.0, 10.0])
    assert [float(v) for v in sky_to_pixel(0.0, 90.0, cal)] == pytest.approx([20.0, 100.0])
    el, _ = pixel_to_sky(np.array([200.0, 200.0]), np.array([55.0, 9.0]), cal)
    assert el[0] == pytest.approx(45.0)
    assert np.isnan(el[1])


@pytest.mark.parametrize("name", sorted(LENSES))
def test_tilted_non_square_round_trip_and_attrs(name: str) -> None:
    cal = dataclasses.replace(LENSES[name], tilt_deg=3.5, tilt_azimuth_deg=212.0, pixel_aspect=0.85)
    assert Calibration.from_attrs(cal.to_attrs()) == cal
    yy, xx = np.mgrid[0 : cal.height : 3, 0 : cal.width : 3]
    el, az = pixel_to_sky(xx, yy, cal)
    inside = np.isfinite(el)
    assert np.all(el[inside] >= 0.0)
    x, y = sky_to_pixel(el[inside], az[inside], cal)
    assert np.max(np.hypot(x - xx[inside], y - yy[inside])) < 0.01


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("tilt_deg", 50.0, "tilt_deg must lie"),
        ("tilt_deg", -1.0, "tilt_deg must lie"),
        ("pixel_aspect", 0.0, "pixel_aspect must lie"),
    ],
)
def test_bad_tilt_or_aspect_is_rejected(field: str, value: float, message: str) -> None:
    with pytest.raises(CalibrationError, match=message):
        dataclasses.replace(LENSES["equidistant"], **{field: value})


@settings(max_examples=60, deadline=None)
@given(
    cal=calibrations(),
    tilt=st.floats(0.0, 15.0),
    tilt_az=st.floats(0.0, 360.0),
    aspect=st.floats(0.4, 2.0),
    data=st.data(),
)
def test_round_trip_for_random_tilted_non_square_calibrations(
    cal: Calibration, tilt: float, tilt_az: float, aspect: float, data: st.DataObject
) -> None:
    cal = dataclasses.replace(cal, tilt_deg=tilt, tilt_azimuth_deg=tilt_az, pixel_aspect=aspect)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    el = rng.uniform(0.0, 90.0, 200)
    az = rng.uniform(0.0, 360.0, 200)
    x, y = sky_to_pixel(el, az, cal)
    el2, az2 = pixel_to_sky(x, y, cal)
    theta_cam = np.hypot(x - cal.zenith_x, (y - cal.zenith_y) / aspect) / cal.lens_radius
    keep = (theta_cam < 0.999) & (el < 89.9)  # inside the lens circle, away from the zenith
    assert np.all(np.abs(el2[keep] - el[keep]) < 1e-6)
    assert np.all(np.abs((az2[keep] - az[keep] + 180.0) % 360.0 - 180.0) < 1e-5)
