"""Sky figures of cubes on the real per-pixel skymaps (Gakona, Poker Flat) and of
single-channel 8- and 16-bit cubes: structural checks, no baselines."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import xarray as xr

from aurora_xr import plot
from aurora_xr.cube.context import cube_context
from aurora_xr.model.levels import frame_levels
from aurora_xr.sky.resample import apply_view, magnetic_view_indices
from aurora_xr.sky.skymap import Skymap
from tests.conftest import raise_if_dask_computes
from tests.plot.skymap_cubes import (
    dasc_cube,
    dasc_skymap,
    gakona_cube,
    gakona_skymap,
    single_band_cube,
)
from tests.plot.test_plot import N_CELLS, _bright_spot, _by_gid, _one, make_cells, make_cube

NORTH = 21.7  # about magnetic north over Alaska (degrees from geographic north)
CASES: dict[str, tuple[Callable[[], xr.Dataset], Callable[[], Skymap]]] = {
    "gakona": (gakona_cube, gakona_skymap),
    "dasc": (dasc_cube, dasc_skymap),
}


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


@pytest.fixture(scope="module", params=sorted(CASES))
def real(request: pytest.FixtureRequest) -> tuple[xr.Dataset, Skymap]:
    make_cube_, make_skymap = CASES[request.param]
    return make_cube_(), make_skymap()


def _image(ax: Any) -> np.ndarray:
    return np.asarray(_one(ax, "sky_image").get_array())


def _expected_grey(
    frame: np.ndarray, sky: np.ndarray, contrast: float = 1.0, *, sampled: bool = False
) -> np.ndarray:
    """The documented stretch: black at the 1st percentile of the sky, white at the 99.5th,
    the span at least a tenth of the sensor's full scale, times contrast.

    Written out on every sky pixel (exact for frames of at most 128 x 128 pixels); on
    larger frames the levels come from the pixels that the model's levels sample.
    """
    if sampled:
        black, span = (float(v[0]) for v in frame_levels(frame[None, ..., None], lens=sky))
    else:
        black, white = np.percentile(frame[sky].astype(float), [1.0, 99.5])
        bits = next(b for b in (8, 10, 12, 14, 16) if white <= 2**b - 1)
        full = 255.0 if frame.dtype == np.uint8 else 2.0**bits - 1
        span = max(white - black, 0.1 * full)
    return np.clip((frame.astype(float) - black) / span * contrast, 0.0, 1.0)


# -- cubes on the real skymaps ------------------------------------------------------------------
@pytest.mark.parametrize(("az_mag", "expected"), [(0.0, (0.0, 45.0)), (90.0, (-45.0, 0.0))])
def test_sky_view_of_a_skymap_cube_puts_magnetic_north_up(
    real: tuple[xr.Dataset, Skymap], az_mag: float, expected: tuple[float, float]
) -> None:
    cube, skymap = real
    # one lit camera pixel that the skymap says looks 45° up in the given magnetic direction
    x, y = skymap.sky_to_pixel(45.0, (NORTH + az_mag) % 360.0)
    row, col = int(np.rint(y)), int(np.rint(x))
    image = np.zeros_like(cube["image"].values)
    image[:, row, col, 0] = 60000
    lit = cube.assign(image=(cube["image"].dims, image))
    ax = plot.plot_sky(lit, north_azimuth=NORTH, overlays=())
    sx, sy = _bright_spot(ax)
    pixel = 90.0 / skymap.horizon_radius  # display units per camera pixel
    assert abs(sx - expected[0]) <= 1.5 * pixel
    assert abs(sy - expected[1]) <= 1.5 * pixel


def test_sky_view_of_a_skymap_cube(real: tuple[xr.Dataset, Skymap]) -> None:
    cube, skymap = real
    ax = plot.plot_sky(cube, time=1)  # magnetic north from AACGM-v2 at the station
    size = 2 * int(np.ceil(skymap.horizon_radius)) + 1
    rgba = _image(ax)
    assert rgba.shape == (size, size, 4)
    # single channel: grey, R = G = B
    np.testing.assert_array_equal(rgba[..., 0], rgba[..., 1])
    np.testing.assert_array_equal(rgba[..., 0], rgba[..., 2])
    # opaque exactly where the view finds a pixel the skymap calibrates
    north = (-_one(ax, "geographic_north").get_marker()[2]) % 360.0
    index = magnetic_view_indices(skymap, north)
    np.testing.assert_array_equal(rgba[..., 3] > 0, index >= 0)
    # and shows it through the grey stretch of that frame's sky pixels
    frame = cube["image"].values[1, ..., 0]
    sky = np.isfinite(skymap.elevation)
    grey = apply_view(_expected_grey(frame, sky, sampled=True), index)
    # the sampled levels are those of the whole sky to within a few counts
    exact = apply_view(_expected_grey(frame, sky), index)
    assert np.abs(exact - grey)[index >= 0].max() < 0.02
    seen = index >= 0
    assert np.abs(rgba[..., 0][seen] - grey[seen]).max() <= 1.0 / 255.0 + 1e-6
    assert rgba[..., 0][seen].max() == 1.0  # the brightest sky saturates
    # the view is equidistant: circles every 10° are 10 display units apart
    radii = sorted(_one(ax, f"elevation_{el}").get_radius() for el in range(10, 90, 10))
    np.testing.assert_allclose(radii, np.arange(10, 90, 10), atol=1e-9)
    title = ax.get_title()
    assert title.startswith(str(cube.attrs["station_code"]))
    assert str(cube["time"].values[1])[11:19] in title


def test_three_panel_of_a_skymap_cube_with_overlays() -> None:
    cube, skymap = gakona_cube(3), gakona_skymap()
    mask = np.broadcast_to(np.nan_to_num(skymap.elevation) > 60.0, (3, 256, 256))
    cube = cube.assign(aurora_mask=(("time", "y", "x"), mask.copy()))
    cells = make_cells().assign_attrs(magnetic_north_azimuth=NORTH)
    diff = xr.DataArray(
        np.arange(3 * N_CELLS).reshape(3, N_CELLS) % 4 == 0,
        dims=("time", "cell"),
        coords={"time": cube["time"].values},
    )
    fig = plot.plot_three_panel(cube, 2, cells=cells, difference=diff)
    axes = [a for a in fig.axes if _by_gid(a, "sky_image")]
    assert len(axes) == 3
    index = magnetic_view_indices(skymap, NORTH)
    overlay = np.asarray(_one(axes[2], "fcn_mask").get_array())
    np.testing.assert_array_equal(overlay[..., 3] > 0, apply_view(mask[2], index, fill_value=False))
    hits = _one(axes[1], "difference_cells")
    assert len(hits.get_paths()) == int(diff.isel(time=2).sum())
    # cells in the equidistant view: the outer ring's edge (zenith angle 80°) at radius 80
    grid = _one(axes[1], "cell_grid")
    radii = np.concatenate([np.hypot(*p.vertices.T) for p in grid.get_paths()])
    assert radii.max() == pytest.approx(80.0, abs=1e-6)


def test_sky_view_of_a_lazy_skymap_cube_reads_one_frame() -> None:
    cube = gakona_cube(6)
    log: list[int] = []
    values = cube["image"].values

    def block(block_info: Any = None) -> np.ndarray:
        start, stop = block_info[None]["array-location"][0]
        log.append(start)
        return values[start:stop]

    import dask.array as dsa

    chunks = ((1,) * values.shape[0], *((s,) for s in values.shape[1:]))
    lazy = cube.assign(
        image=(cube["image"].dims, dsa.map_blocks(block, chunks=chunks, dtype=values.dtype))
    )
    ctx = cube_context(lazy)
    with raise_if_dask_computes(max_computes=1):
        ax = plot.plot_sky(lazy, time=4, north_azimuth=NORTH, context=ctx)
    assert log == [4]
    eager = plot.plot_sky(cube, time=4, north_azimuth=NORTH)
    np.testing.assert_array_equal(_image(ax), _image(eager))


def test_keogram_figure_of_a_skymap_cube_is_grey() -> None:
    cube = gakona_cube(4)
    ax = plot.plot_keogram(cube, north_azimuth=NORTH)
    keo = plot.keograms._keogram(cube, north_azimuth=NORTH)
    values = keo.values[..., 0].T  # (position, time)
    arr = np.asarray(_one(ax, "keogram").get_array()).reshape(*values.shape, 4)
    np.testing.assert_array_equal(arr[..., 0], arr[..., 2])
    expected = _expected_grey(values, np.ones(values.shape, bool), sampled=True)
    assert np.abs(arr[..., 0] - expected).max() <= 1.0 / 255.0 + 1e-6


def test_views_are_reused_for_equal_calibrations() -> None:
    from aurora_xr.plot._sky_view import geomagnetic_view

    first = gakona_skymap()
    rebuilt = Skymap.from_attrs(first.to_attrs(), first.elevation, first.azimuth)  # as a cube does
    view = geomagnetic_view(first, NORTH)
    assert geomagnetic_view(rebuilt, NORTH) is view  # no second inverse lookup while browsing
    assert geomagnetic_view(first, NORTH + 1.0) is not view
    turned = geomagnetic_view(first.rotated(1), NORTH)  # same checksum, other grids
    assert turned is not view
    assert not np.array_equal(turned[1], view[1])


# -- single-channel frames --------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.uint16, np.uint8])
def test_single_channel_frames_are_shown_through_the_grey_stretch(dtype: type) -> None:
    cube = single_band_cube(dtype=dtype)
    ctx = cube_context(cube)
    frame = cube["image"].values[2, ..., 0]
    ax = plot.plot_sky(cube, time=2, north_azimuth=0.0)
    rgba = _image(ax)
    index = magnetic_view_indices(ctx.require_calibration(), 0.0)
    seen = index >= 0
    expected = apply_view(_expected_grey(frame, ctx.sky_mask), index)
    np.testing.assert_array_equal(rgba[..., 0], rgba[..., 1])
    assert np.abs(rgba[..., 0][seen] - expected[seen]).max() <= 1.0 / 255.0 + 1e-6
    # the star saturates; the zenith, the darkest part of this sky, is black
    assert rgba[..., 0].max() == 1.0
    centre = (index.shape[0] - 1) // 2
    assert rgba[centre, centre, 0] == 0.0
    brighter = plot.plot_sky(cube, time=2, north_azimuth=0.0, contrast=2.0)
    doubled = apply_view(_expected_grey(frame, ctx.sky_mask, contrast=2.0), index)
    assert np.abs(_image(brighter)[..., 0][seen] - doubled[seen]).max() <= 1.0 / 255.0 + 1e-6


def test_a_dark_empty_sky_is_not_stretched_into_noise() -> None:
    cube = single_band_cube(n_times=1)
    rng = np.random.default_rng(5)
    frame = (1000 + rng.integers(-20, 21, (97, 97))).astype(np.uint16)  # 10-bit counts
    dark = cube.assign(image=(cube["image"].dims, frame[None, ..., None]))
    ax = plot.plot_sky(dark, north_azimuth=0.0)
    grey = _image(ax)[..., 0][_image(ax)[..., 3] > 0]
    # a span of 40 counts, shown on a span of a tenth of 1023: at most 40 % grey
    assert grey.max() <= 40.0 / 102.3 + 1.0 / 255.0
    assert grey.min() == 0.0


def test_single_frame_of_a_single_band_cube() -> None:
    cube = single_band_cube()
    whole = plot.plot_sky(cube, time=1, north_azimuth=0.0)
    one = plot.plot_sky(cube.isel(time=1), north_azimuth=0.0)
    np.testing.assert_array_equal(_image(one), _image(whole))
    bare = cube.isel(time=1).drop_vars("time")  # a frame without a time
    ax = plot.plot_sky(bare, north_azimuth=0.0)
    assert ax.get_title() == "JBS"
    np.testing.assert_array_equal(_image(ax), _image(whole))


def test_colour_channels_are_shown_in_rgb_order_whatever_the_cube_order() -> None:
    cube = make_cube(n_times=2)
    stored_bgr = cube.isel(channel=[2, 1, 0])
    assert list(stored_bgr["channel"].values) == ["B", "G", "R"]
    a = plot.plot_sky(cube, north_azimuth=NORTH, overlays=())
    b = plot.plot_sky(stored_bgr, north_azimuth=NORTH, overlays=())
    np.testing.assert_array_equal(_image(a), _image(b))
