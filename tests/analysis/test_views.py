"""The geomagnetic view and the keogram of cubes on the real per-pixel calibrations (Gakona
THEMIS frames with the operator's .sav skymap, Poker Flat DASC frames with the Az/El pair),
checked against the skymaps' own azimuth and elevation grids."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import xarray as xr

from aurora_xr.analysis.keograms import keogram
from aurora_xr.analysis.views import to_magnetic_view
from aurora_xr.cube.context import cube_context
from aurora_xr.geo.aacgm import magnetic_north_azimuth, mid_year_epoch
from aurora_xr.sky.lens import Calibration
from aurora_xr.sky.skymap import Skymap
from tests.conftest import raise_if_dask_computes
from tests.plot.skymap_cubes import dasc_cube, dasc_skymap, gakona_cube, gakona_skymap

CASES: dict[str, tuple[Callable[[], xr.Dataset], Callable[[], Skymap]]] = {
    "gakona": (gakona_cube, gakona_skymap),
    "dasc": (dasc_cube, dasc_skymap),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def real(request: pytest.FixtureRequest) -> tuple[xr.Dataset, Skymap]:
    make_cube, make_skymap = CASES[request.param]
    return make_cube(), make_skymap()


def _turn(expected: float, az: np.ndarray) -> np.ndarray:
    """Signed difference ``az - expected`` in degrees, in (-180, 180]."""
    return (np.asarray(az, float) - expected + 180.0) % 360.0 - 180.0


def _north(cube: xr.Dataset) -> float:
    lat, lon = cube.attrs["station_latitude"], cube.attrs["station_longitude"]
    when = mid_year_epoch(cube["time"].values)
    return float(magnetic_north_azimuth(lat, lon, when=when, altitude_km=110.0))


# -- the geomagnetic view ---------------------------------------------------------------------
def test_geomagnetic_view_of_a_skymap_cube_puts_magnetic_north_up(
    real: tuple[xr.Dataset, Skymap],
) -> None:
    cube, skymap = real
    # the skymap's own grids, carried through the view as data
    marked = cube.assign(
        source_azimuth=(("y", "x"), skymap.azimuth),
        source_elevation=(("y", "x"), skymap.elevation),
        source_index=(("y", "x"), np.arange(skymap.elevation.size).reshape(skymap.elevation.shape)),
    )
    view = to_magnetic_view(marked)
    north = _north(cube)
    assert view.attrs["magnetic_north_azimuth"] == pytest.approx(north)
    size = 2 * int(np.ceil(skymap.horizon_radius)) + 1
    assert dict(view["image"].sizes) == {
        "time": cube.sizes["time"],
        "y": size,
        "x": size,
        "channel": 1,
    }
    centre = (size - 1) // 2
    src_az = view["source_azimuth"].values
    src_el = view["source_elevation"].values
    for line, expected in (
        ((slice(0, centre - 3), centre), north),  # straight up: magnetic north
        ((centre, slice(0, centre - 3)), north + 90.0),  # left: magnetic east
        ((slice(centre + 4, None), centre), north + 180.0),  # down: magnetic south
    ):
        az, el = src_az[line], src_el[line]
        keep = np.isfinite(az) & (el < 80.0)
        assert keep.sum() > 0.6 * centre
        off = _turn(expected, az[keep])
        assert abs(float(np.median(off))) < 0.3
        assert np.abs(off).max() < 2.0
    # the view's own coordinates say the same as the skymap, to within a camera pixel
    seen = np.isfinite(src_el)
    step = 90.0 / skymap.horizon_radius
    assert np.abs(view["elevation"].values[seen] - src_el[seen]).max() < step
    # and the frames moved with the grids: a view pixel shows its source pixel's counts
    source = view["source_index"].values
    assert np.array_equal(source >= 0, seen)
    shown = view["image"].values[..., 0][:, seen]
    np.testing.assert_array_equal(
        shown, cube["image"].values[..., 0].reshape(shown.shape[0], -1)[:, source[seen]]
    )
    assert (view["image"].values[:, ~seen] == 0).all()


def test_geomagnetic_view_of_a_skymap_cube_is_a_lens_cube(real: tuple[xr.Dataset, Skymap]) -> None:
    cube, skymap = real
    view = to_magnetic_view(cube, north_azimuth=30.0)
    assert view["image"].dtype == np.uint16
    assert "calibration_kind" not in view.attrs  # the view is an analytic lens
    assert "calibration_checksum" not in view.attrs
    assert view.attrs["view_source_calibration"] == f"skymap {skymap.name}"
    ctx = cube_context(view)
    assert isinstance(ctx.calibration, Calibration)
    assert ctx.calibration.projection == "equidistant"
    el, az = ctx.calibration.sky_grids()
    np.testing.assert_array_equal(view["elevation"].values, el)
    np.testing.assert_array_equal(view["azimuth"].values, az)
    x, _ = ctx.calibration.sky_to_pixel(45.0, 30.0)  # north azimuth 30°: straight up
    assert float(x) == pytest.approx((view.sizes["x"] - 1) / 2)


def test_geomagnetic_view_of_a_lazy_skymap_cube() -> None:
    cube = gakona_cube(6)
    lazy = cube.assign(image=cube["image"].chunk(time=2))
    with raise_if_dask_computes():
        view = to_magnetic_view(lazy, north_azimuth=21.0)
    assert view["image"].chunks is not None
    assert view["image"].chunks[0] == (2, 2, 2)
    xr.testing.assert_identical(view.compute(), to_magnetic_view(cube, north_azimuth=21.0))
    one = to_magnetic_view(cube["image"].assign_attrs(cube.attrs), north_azimuth=21.0)
    assert isinstance(one, xr.DataArray)
    np.testing.assert_array_equal(one.values, view["image"].values)


def test_geomagnetic_view_takes_a_resolved_context() -> None:
    cube = gakona_cube(2)
    ctx = cube_context(cube)
    assert ctx.calibration is not None
    assert ctx.calibration.kind == "skymap"
    given = to_magnetic_view(cube, context=ctx)
    xr.testing.assert_identical(given, to_magnetic_view(cube))


# -- the keogram ------------------------------------------------------------------------------
def test_keogram_of_a_skymap_cube_follows_the_skymap_meridian(
    real: tuple[xr.Dataset, Skymap],
) -> None:
    cube, skymap = real
    north = 25.0
    keo = keogram(cube, north_azimuth=north)
    assert keo.dims == ("time", "position", "channel")
    assert keo.dtype == np.uint16
    px, py = keo["pixel_x"].values, keo["pixel_y"].values
    # every sample is a pixel the skymap calibrates, looking where the keogram says
    el = skymap.elevation[py, px]
    az = skymap.azimuth[py, px]
    assert np.isfinite(el).all()
    step = 90.0 / skymap.horizon_radius
    assert np.abs(el - keo["elevation"].values).max() < step
    north_half = keo["meridian_angle"].values > 10.0
    south_half = keo["meridian_angle"].values < -10.0
    assert np.abs(_turn(north, az[north_half])).max() < 2.0
    assert np.abs(_turn(north + 180.0, az[south_half])).max() < 2.0
    np.testing.assert_array_equal(keo.values, cube["image"].values[:, py, px, :])
    # samples beyond the field of view are left out (the DASC sees down to 10°)
    assert keo["elevation"].values.min() >= np.nanmin(skymap.elevation) - step
    n_default = 2 * int(np.ceil(skymap.horizon_radius)) + 1
    assert keo.sizes["position"] <= n_default
    ctx = cube_context(cube)
    again = keogram(cube, north_azimuth=north, context=ctx)
    xr.testing.assert_identical(again, keo)


def test_keogram_of_a_lazy_skymap_cube() -> None:
    cube = gakona_cube(4)
    lazy = cube.assign(image=cube["image"].chunk(time=2))
    with raise_if_dask_computes():
        keo = keogram(lazy)  # north from AACGM-v2 at the station, no frame read
    assert keo.chunks is not None
    north = keo.attrs["magnetic_north_azimuth"]
    assert north == pytest.approx(_north(cube), abs=0.2)
    np.testing.assert_array_equal(keo.values, keogram(cube, north_azimuth=north).values)
