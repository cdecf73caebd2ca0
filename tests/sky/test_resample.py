"""Resampled views from either kind of calibration: the analytic lens and the per-pixel skymap
(the real Gakona .sav and Poker Flat Az/El skymaps, and a skymap made from a lens)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aurora_xr.errors import CalibrationError
from aurora_xr.sky.lens import Calibration
from aurora_xr.sky.resample import (
    apply_view,
    magnetic_view_indices,
    view_calibration,
    view_indices,
)
from aurora_xr.sky.skymap import Skymap
from aurora_xr.sky.skymap_files import read_skymap

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "real_sequences"
SAV = REAL / "themis_gako_skymap_2011" / "themis_skymap_gako_20110305-+_vXX.sav"
EL = REAL / "dasc_pkr_fits_20151007" / "PKR_DASC_0558_20150213_El.FIT"
NORTH = 21.7  # about the azimuth of magnetic north over Alaska (AACGM-v2, 110 km)


@pytest.fixture(scope="module", params=["gakona", "dasc"])
def skymap(request: pytest.FixtureRequest) -> Skymap:
    return read_skymap(SAV if request.param == "gakona" else EL)


def _lens(rotation: float = 20.0, projection: str = "equisolid") -> Calibration:
    return Calibration(
        width=97,
        height=97,
        zenith_x=48.0,
        zenith_y=48.0,
        lens_radius=46.5,
        rotation_deg=rotation,
        projection=projection,
    )


def _vectors(el: np.ndarray, az: np.ndarray) -> np.ndarray:
    e, a = np.radians(np.asarray(el, float)), np.radians(np.asarray(az, float))
    return np.stack([np.cos(e) * np.sin(a), np.cos(e) * np.cos(a), np.sin(e)], axis=-1)


def _turn(a: float, b: np.ndarray) -> np.ndarray:
    """Signed difference of azimuths ``b - a`` in (-180, 180]."""
    return (np.asarray(b) - a + 180.0) % 360.0 - 180.0


# -- the view's calibration -------------------------------------------------------------------
def test_view_of_a_lens_keeps_its_projection_and_scale() -> None:
    lens = _lens(projection="equisolid")
    view = view_calibration(lens, 68.4)
    assert view.projection == "equisolid"
    assert (view.width, view.height, view.lens_radius) == (95, 95, 47.0)  # 2 * ceil(46.5) + 1
    assert view.rotation_deg == pytest.approx(360.0 - 68.4)
    assert not view.east_clockwise


def test_view_of_a_skymap_is_equidistant_at_its_horizon_radius(skymap: Skymap) -> None:
    view = view_calibration(skymap, NORTH)
    size = 2 * int(np.ceil(skymap.horizon_radius)) + 1
    assert isinstance(view, Calibration)
    assert (view.width, view.height, view.projection) == (size, size, "equidistant")
    assert view.zenith_x == view.zenith_y == view.lens_radius == (size - 1) / 2
    up = view.sky_to_pixel(45.0, NORTH)
    assert (float(up[0]), float(up[1])) == pytest.approx(((size - 1) / 2, (size - 1) / 4))
    with pytest.raises(CalibrationError, match="3x3"):
        view_calibration(skymap, NORTH, size=2)


# -- which camera pixel each view pixel sees ---------------------------------------------------
def test_skymap_view_pixels_see_the_skymap_directions(skymap: Skymap) -> None:
    view = view_calibration(skymap, NORTH)
    index = view_indices(skymap, view)
    assert index.shape == (view.height, view.width)
    assert index.dtype == np.int64
    v_el, v_az = view.sky_grids()
    seen = index >= 0
    s_el = skymap.elevation.ravel()[index[seen]]
    s_az = skymap.azimuth.ravel()[index[seen]]
    assert np.isfinite(s_el).all()  # never a pixel outside the field of view
    # nearest neighbour: within a camera pixel of the view's direction (Gakona ~0.7°/px,
    # DASC ~0.36°/px), measured as the angle between the two lines of sight
    separation = np.degrees(
        np.arccos(
            np.clip(np.sum(_vectors(s_el, s_az) * _vectors(v_el[seen], v_az[seen]), -1), -1, 1)
        )
    )
    assert separation.max() < 90.0 / skymap.horizon_radius
    # every view pixel above the skymap's lowest elevation finds a camera pixel
    lowest = float(np.nanmin(skymap.elevation))
    assert not (~seen & (v_el > max(lowest, 0.0) + 0.5)).any()
    assert (~seen[np.isfinite(v_el) & (v_el < lowest - 0.5)]).all()


def test_skymap_view_puts_north_up_and_east_left(skymap: Skymap) -> None:
    index = magnetic_view_indices(skymap, NORTH)
    centre = (index.shape[0] - 1) // 2
    up = index[: centre - 3, centre]  # the column above the zenith
    left = index[centre, : centre - 3]  # the row left of it
    for pixels, expected in ((up, NORTH), (left, NORTH + 90.0)):
        pixels = pixels[pixels >= 0]
        el = skymap.elevation.ravel()[pixels]
        az = skymap.azimuth.ravel()[pixels]
        assert pixels.size > 0.6 * centre
        off = _turn(expected, az[el < 80.0])
        assert np.abs(np.median(off)) < 0.2
        assert np.abs(off).max() < 2.0


def test_a_turned_skymap_turns_its_view_sources_with_it(skymap: Skymap) -> None:
    view = view_calibration(skymap, NORTH)
    frame = np.arange(skymap.height * skymap.width).reshape(skymap.height, skymap.width)
    straight = apply_view(frame, view_indices(skymap, view), fill_value=-1)
    turned = apply_view(np.rot90(frame, 2), view_indices(skymap.rotated(2), view), fill_value=-1)
    np.testing.assert_array_equal(turned >= 0, straight >= 0)
    assert (turned == straight).mean() > 0.9999  # ties at half pixels may round apart


def test_lens_and_its_skymap_give_the_same_view() -> None:
    lens = _lens(rotation=20.0, projection="equidistant")
    el, az = lens.sky_grids()
    skymap = Skymap(elevation=el, azimuth=az, name="from the lens")
    assert skymap.horizon_radius == pytest.approx(lens.lens_radius, abs=1e-6)
    view = view_calibration(lens, 68.4)
    assert view_calibration(skymap, 68.4) == view
    from_lens = view_indices(lens, view)
    from_skymap = view_indices(skymap, view)
    both = (from_lens >= 0) & (from_skymap >= 0)
    np.testing.assert_array_equal(from_skymap[both], from_lens[both])
    assert not ((from_skymap >= 0) & (from_lens < 0)).any()
    # only at the horizon does the lens take pixels (on its rim) that the skymap made
    # from it leaves out: beyond its last calibrated pixel, or one outside the circle
    rim = (from_lens >= 0) & (from_skymap < 0)
    assert 0 < rim.sum() < 0.02 * both.sum()
    assert view.sky_grids()[0][rim].max() < 2.5
