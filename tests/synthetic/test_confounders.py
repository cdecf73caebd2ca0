"""The confounders of the randomised sky: each one drawn, visible, and never aurora in the truth."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
import xarray as xr

from aurora_xr.datasets import CONDITIONS, CameraModel, NightScene, synthetic_cube
from aurora_xr.synthetic import Landscape, LightSource
from aurora_xr.synthetic.ephemeris import sun_altaz
from aurora_xr.synthetic.overlays import Overlay, overlay_for

SIZE = 64
DARK = "2020-06-21T14:00"  # JBS, polar night, moon down, sun about -33 deg

PLAIN_CAMERA = CameraModel(
    key=7,
    hot_fraction=0.0,
    landscape=Landscape(key=5, hills=0.05, masts=0, buildings=0),
)
PLAIN_NIGHT = NightScene()


def _time_with_sun(lo: float, hi: float, day: str = "2020-03-20") -> np.datetime64:
    """A time at JBS on ``day`` with the sun between ``lo`` and ``hi`` degrees."""
    grid = np.datetime64(f"{day}T00:00", "ns") + np.arange(0, 24 * 60, 5).astype("timedelta64[m]")
    el, _ = sun_altaz(grid.astype(np.int64), -74.62, 164.22)
    pick = np.flatnonzero((el > lo) & (el < hi))
    assert pick.size, (lo, hi)
    return grid[pick[pick.size // 2]]


def _cube(
    *,
    camera: CameraModel = PLAIN_CAMERA,
    scene: NightScene = PLAIN_NIGHT,
    start: Any = DARK,
    n_frames: int = 2,
    **kw: Any,
) -> xr.Dataset:
    kw.setdefault("moon", False)
    return synthetic_cube(
        start=start,
        n_frames=n_frames,
        size=SIZE,
        seed=21,
        realism="randomised",
        camera=camera,
        scene=scene,
        **kw,
    )


ZODIACAL = _time_with_sun(-21.0, -18.5, "2020-05-01")


@pytest.fixture(scope="module")
def plain() -> xr.Dataset:
    return _cube(activity=0.0)


CASES: dict[str, dict[str, Any]] = {
    "moon": dict(moon=True),
    "haze": dict(scene=NightScene(haze=120.0, haze_depth=0.5)),
    "light_dome": dict(
        scene=NightScene(domes=(LightSource(40.0, 0.0, 25.0, 12.0, 250.0, "sodium"),))
    ),
    "lamps": dict(scene=NightScene(lamps=(LightSource(200.0, 3.0, 0.0, 2.0, 3000.0, "led"),))),
    "clouds": dict(scene=NightScene(clouds=0.9, cloud_opacity=1.0, haze=20.0)),
    "cirrus": dict(scene=NightScene(cirrus=1.0), moon=True),
    "frost": dict(scene=NightScene(frost=0.5, haze=30.0)),
    "snow": dict(scene=NightScene(snow=0.4, haze=30.0)),
    "zodiacal": dict(scene=NightScene(zodiacal=40.0), start=ZODIACAL),
    "meteor": dict(force={"meteor": 3.0}),
    "satellite": dict(force={"satellite": 3.0}),
    "aircraft": dict(force={"aircraft": 1.0}),
    "cosmic_rays": dict(camera=dataclasses.replace(PLAIN_CAMERA, cosmic_rate=40.0)),
    "overlay": dict(camera=dataclasses.replace(PLAIN_CAMERA, overlay=4)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_confounder_is_drawn_visible_and_never_aurora(name: str, plain: xr.Dataset) -> None:
    kw = dict(CASES[name])
    start = kw.pop("start", DARK)
    ds = _cube(activity=0.0, start=start, **kw)
    k = list(CONDITIONS).index(name)
    assert (ds.conditions.values[:, k] > 0).all(), name  # recorded as drawn in every frame
    # visible: it changes the frame (against the same camera and night without it)
    base = plain if start == DARK else _cube(activity=0.0, start=start, moon=kw.get("moon", False))
    change = np.abs(ds.image.values.astype(int) - base.image.values.astype(int))
    assert change.max() >= (3 if name == "zodiacal" else 20), name  # zodiacal light is faint
    # never aurora: no aurora is drawn, and the truth stays empty (exact)
    assert not ds.aurora_truth.values.any()
    assert not ds.aurora_kind.values.any()


@pytest.mark.parametrize(
    "change",
    [
        dict(jpeg_quality=60),
        dict(blur_px=1.0),
        dict(upsample=2),
        dict(gamma=2.2),
        dict(hot_fraction=1e-3),
        dict(vignetting=0.6),
        dict(mirrored=True, rotation_deg=137.0),
        dict(radius_frac=1.25, offset=(0.05, -0.04)),
        dict(radius_frac=0.5),
        dict(bits=16, bias=900.0, sky_level=3000.0),
    ],
)
def test_camera_effects_change_the_frame_and_never_make_aurora(
    change: dict[str, Any], plain: xr.Dataset
) -> None:
    camera = dataclasses.replace(PLAIN_CAMERA, **change)
    ds = _cube(camera=camera, activity=0.0, scene=NightScene(haze=5.0))
    assert not ds.aurora_truth.values.any()
    if camera.bits == 8:
        assert not np.array_equal(ds.image.values, plain.image.values)
    else:
        assert ds.image.dtype == np.uint16
        assert ds.image.values.max() <= 2**16 - 1
    lens = np.isfinite(ds.elevation.values)
    cal = camera.calibration(SIZE, SIZE)
    assert ds.attrs["calibration_lens_radius"] == pytest.approx(cal.lens_radius)
    assert bool(ds.attrs["calibration_east_clockwise"]) == camera.mirrored
    if camera.radius_frac > 1.0:  # the lens circle is cut by the frame
        assert lens.all(axis=0).any() or lens[0].any() or lens[:, 0].any()
    if camera.radius_frac <= 0.5:  # well inside: dark all round
        assert not lens[0].any()
        assert not lens[-1].any()
        assert not lens[:, 0].any()


def test_confounders_hide_aurora_but_never_add_truth() -> None:
    """With aurora on, truth lies where the aurora is visible; thick cloud and saturating
    haze take it away, transients and lamps never add to it."""
    start = "2020-06-21T07:50"  # evening and midnight sectors: arcs
    bright = NightScene(activity=3.0)
    clear = _cube(scene=bright, start=start, n_frames=4)
    assert clear.aurora_truth.values.any()
    lamps = dataclasses.replace(
        bright, lamps=(LightSource(120.0, 2.0, 0.0, 2.0, 3000.0, "sodium"),), meteor_rate=1.0
    )
    lit = _cube(scene=lamps, start=start, n_frames=4, force={"satellite": 2.0})
    assert not (lit.aurora_truth.values & ~clear.aurora_truth.values).any()
    cloudy = _cube(
        scene=dataclasses.replace(bright, clouds=1.0, cloud_opacity=1.0), start=start, n_frames=4
    )
    assert cloudy.aurora_truth.values.sum() < 0.2 * clear.aurora_truth.values.sum()


def test_overlays_hide_the_aurora_under_them() -> None:
    camera = dataclasses.replace(PLAIN_CAMERA, overlay=4, radius_frac=1.3)
    ds = _cube(camera=camera, scene=NightScene(activity=3.0), start="2020-06-21T07:50", n_frames=4)
    overlay = overlay_for(4, camera.calibration(SIZE, SIZE), camera.key, "JBS")
    assert isinstance(overlay, Overlay)
    for t, truth in zip(ds.time.values.astype(np.int64), ds.aurora_truth.values, strict=True):
        alpha, _ = overlay.frame_alpha(int(t))
        assert not (truth & Overlay.covers(alpha)).any()


def test_twilight_is_a_gradient_blue_overhead_orange_towards_the_sun() -> None:
    start = _time_with_sun(-13.0, -10.0)
    camera = dataclasses.replace(PLAIN_CAMERA, auto_exposure=2.0)
    ds = _cube(activity=0.0, start=start, n_frames=1, camera=camera)
    k = list(CONDITIONS).index("twilight")
    assert ds.conditions.values[0, k] > 0
    assert not ds.aurora_truth.values.any()
    _sun_el, sun_az = sun_altaz(np.array([start]).astype("datetime64[ns]").astype(np.int64),
                               -74.62, 164.22)  # fmt: skip
    img = ds.image.values[0].astype(float)
    el, az = ds.elevation.values, ds.azimuth.values
    d_az = np.abs((az - sun_az[0] + 180.0) % 360.0 - 180.0)
    towards = (el > 5) & (el < 25) & (d_az < 40)
    away = (el > 5) & (el < 25) & (d_az > 140)
    overhead = el > 70
    assert img[towards].mean() > img[overhead].mean() + 10  # brighter at the solar horizon
    red_blue = img[..., 0] / np.maximum(img[..., 2], 1.0)
    assert red_blue[towards].mean() > red_blue[overhead].mean() + 0.15  # orange there
    assert red_blue[overhead].mean() < 1.0  # blue overhead
    assert img[towards].mean() > img[away].mean()


def test_zodiacal_light_is_a_cone_along_the_ecliptic_above_the_sun() -> None:
    from aurora_xr.sky.stations import get_station
    from aurora_xr.synthetic.ephemeris import local_sidereal_time
    from aurora_xr.synthetic.sky_glow import zodiacal_light
    from aurora_xr.synthetic.static import static_sky

    static = static_sky(get_station("JBS"), 96, 96)
    t = np.array([ZODIACAL]).astype("datetime64[ns]").astype(np.int64)
    sun_el, sun_az = sun_altaz(t, -74.62, 164.22)
    lst = float(local_sidereal_time(t, 164.22)[0])
    ((name, cone),) = zodiacal_light(static, (float(sun_el[0]), float(sun_az[0])), lst, 30.0)
    assert name == "zodiacal"
    assert cone.max() == pytest.approx(30.0, rel=1e-4)
    assert np.median(cone[static.sky]) < 10.0  # a cone, not a veil
    peak = np.unravel_index(np.argmax(cone), cone.shape)
    d_az = abs((static.az[peak] - sun_az[0] + 180.0) % 360.0 - 180.0)
    assert d_az < 60.0  # it rises above the sun's azimuth
    assert zodiacal_light(static, (-40.0, 0.0), lst, 30.0) == []  # too deep: none
    assert zodiacal_light(static, (-10.0, 0.0), lst, 30.0) == []  # twilight outshines it
