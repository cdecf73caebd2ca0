"""Obstruction masks on the real TREx and THEMIS sequences, drawn masks, their JSON form.

The hand-picked boxes were read off the frames (percentile stacks drawn at 3-5x with a
pixel grid): on TREx Gillam NIR (2022-03-07) a mast at the top, a bar on the left and the
ground below the southern horizon; on THEMIS Gillam (2014-03-10) the trees along the top
of the disc and two tree tops hanging into the sky. "Clear sky" is the lens circle less a
5-pixel rim, less the neighbourhoods of those silhouettes, of the camera housing and of
the guy wires, and less the ground below a horizon line traced by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from aurora_xr.cube.build import cube_from_frames
from aurora_xr.cube.calibrate import with_calibration
from aurora_xr.cube.grid import cell_grid
from aurora_xr.errors import CalibrationError, FrameSizeError
from aurora_xr.io.formats import read_file
from aurora_xr.sky.lens import Calibration
from aurora_xr.sky.obstructions import (
    load_obstruction,
    mask_from_polygons,
    mask_from_rle,
    mask_to_rle,
    obstruction_mask,
    save_obstruction,
    sky_disc,
    stack_percentile,
)
from aurora_xr.sky.starcal import LensCircle

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "real_sequences"
SHAPE = (256, 256)


def disc(cx: float, cy: float, r: float) -> np.ndarray:
    yy, xx = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]]
    return np.hypot(xx - cx, yy - cy) < r


def below(line: list[tuple[int, int]], margin: float) -> np.ndarray:
    """Pixels below a polyline ``(x, y)`` drawn across the frame, less ``margin`` rows."""
    yy, xx = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]]
    px, py = np.asarray(line, dtype=float).T
    return yy > np.interp(xx, px, py) - margin


def frames_of(folder: str) -> np.ndarray:
    return np.concatenate([read_file(p).frames for p in sorted((REAL / folder).glob("*.pgm.gz"))])


# -- TREx Gillam NIR: masts and the horizon -------------------------------------------------
TREX_LENS = (127.8, 129.4, 110.0)  # the lens circle seen on the frames (x, y, radius)
TREX_MAST = (slice(40, 48), slice(158, 161))
TREX_GROUND = (slice(225, 232), slice(100, 125))
TREX_BAR = ([71, 71, 72, 72, 73, 73, 74, 74, 75, 75], [39, 40, 40, 41, 41, 42, 43, 44, 45, 46])
TREX_HORIZON = [(15, 150), (33, 172), (50, 188), (70, 201), (90, 210), (110, 216), (125, 220)]
TREX_HORIZON += [(140, 220), (160, 217), (180, 212), (200, 204), (220, 190), (240, 170)]
TREX_NEAR_SILHOUETTES = [
    ((0, 36), (0, 256)),  # the top of the disc, cut by the housing
    ((25, 60), (140, 172)),  # the mast and its bracket
    ((40, 100), (0, 62)),  # the bar and the small silhouettes on the left
    ((55, 125), (198, 256)),  # the housing's shadow on the right
    ((180, 210), (165, 210)),  # the guy wire
]


@pytest.fixture(scope="module")
def trex() -> np.ndarray:
    frames = frames_of("trex_gill_nir_20220307")
    assert frames.shape == (50, 256, 256)
    return frames


def trex_clear_sky() -> np.ndarray:
    clear = disc(TREX_LENS[0], TREX_LENS[1], TREX_LENS[2] - 5) & ~below(TREX_HORIZON, 4)
    for (r0, r1), (c0, c1) in TREX_NEAR_SILHOUETTES:
        clear[r0:r1, c0:c1] = False
    return clear


def assert_trex_mask(mask: np.ndarray) -> None:
    assert mask.shape == SHAPE
    assert mask.dtype == bool
    assert mask[TREX_MAST].all()
    assert mask[TREX_GROUND].all()
    assert mask[TREX_BAR].all()
    clear = trex_clear_sky()
    assert clear.sum() > 25_000
    assert mask[clear].mean() < 0.02


@pytest.mark.parametrize("n_frames", [50, 10, 1], ids=["5 files", "1 file", "1 frame"])
def test_trex_masts_and_horizon(trex: np.ndarray, n_frames: int) -> None:
    frames = trex[:n_frames] if n_frames > 1 else trex[0]
    assert_trex_mask(obstruction_mask(frames))


def test_trex_field_of_view_from_the_disc_and_given(trex: np.ndarray) -> None:
    x, y, r = sky_disc(stack_percentile(trex))
    assert np.hypot(x - TREX_LENS[0], y - TREX_LENS[1]) < 3.0
    assert r == pytest.approx(TREX_LENS[2], abs=3.0)
    # a star calibration of this camera (aurora-xr calibrate --lens-circle 123,133,105)
    lens = Calibration(
        width=256,
        height=256,
        zenith_x=128.6,
        zenith_y=130.6,
        lens_radius=112.0,
        rotation_deg=350.2,
        east_clockwise=True,
    )
    for fov in (lens, LensCircle(*TREX_LENS), disc(*TREX_LENS)):
        mask = obstruction_mask(trex, field_of_view=fov)
        assert_trex_mask(mask)
        if isinstance(fov, Calibration):
            assert not mask[~np.isfinite(lens.sky_grids()[0])].any()


def test_trex_colour_8_bit_frames_give_the_same_mask(trex: np.ndarray) -> None:
    scaled = trex[:10].astype(float) / np.percentile(trex[:10], 99.9) * 255
    rgb = np.repeat(np.clip(scaled, 0, 255).astype(np.uint8)[..., None], 3, axis=-1)
    mask = obstruction_mask(rgb)
    assert_trex_mask(mask)
    reference = obstruction_mask(trex[:10])
    assert np.mean(mask != reference) < 0.005


# -- THEMIS Gillam: trees -------------------------------------------------------------------
THEMIS_LENS = (132.3, 129.35, 124.6)
THEMIS_TREES = [
    (slice(5, 7), slice(115, 148)),  # the tree line along the top of the disc
    (slice(7, 10), slice(130, 132)),  # two tree tops hanging into the sky
    (slice(7, 10), slice(140, 142)),
]


def test_themis_trees() -> None:
    frames = frames_of("themis_gill_pgm_20140310")
    assert frames.shape == (60, 256, 256)
    clear = disc(THEMIS_LENS[0], THEMIS_LENS[1], THEMIS_LENS[2] - 5)
    clear[0:16, 80:175] = False  # the trees and their neighbourhood
    assert clear.sum() > 40_000
    trees = np.zeros(SHAPE, bool)
    for box in THEMIS_TREES:
        trees[box] = True
    for label, stack in (("3 files", frames), ("1 file", frames[:20]), ("1 frame", frames[0])):
        mask = obstruction_mask(stack)
        # one frame is median-filtered against noise, which thins the tree tops
        assert mask[trees].mean() >= (0.95 if label == "1 frame" else 1.0), label
        assert mask[clear].mean() < 0.02, label
        assert not mask[140:160, 205:225].any()  # the Moon's glare is bright, not hidden


# -- the cube: obstructed pixels belong to no cell ------------------------------------------
def test_the_mask_keeps_obstructed_pixels_out_of_the_cells(trex: np.ndarray) -> None:
    times = np.datetime64("2022-03-07T06:00:00", "ns") + np.arange(10) * np.timedelta64(6, "s")
    cube = cube_from_frames(trex[:10, ..., None], times, station="GILL", channels=["844.6nm"])
    lens = Calibration(width=256, height=256, zenith_x=128.6, zenith_y=130.6, lens_radius=112.0)
    mask = obstruction_mask(trex[:10], field_of_view=lens)
    # few large cells: with more, the southern horizon hides whole cells near 10°
    options = {"n_cells": 20, "min_elevation": 10.0}
    open_grid = cell_grid(with_calibration(cube, lens), **options)
    masked_grid = cell_grid(with_calibration(cube, lens, obstruction=mask), **options)
    open_labels = open_grid.cell_index.values
    labels = masked_grid.cell_index.values
    assert (open_labels[mask] >= 0).sum() > 1000  # the mask hides pixels of cells
    assert np.all(labels[mask] == -1)
    np.testing.assert_array_equal(labels[~mask], open_labels[~mask])
    assert (
        masked_grid.cell_pixel_count.sum()
        == open_grid.cell_pixel_count.sum() - ((open_labels >= 0) & mask).sum()
    )


# -- drawn masks and the JSON form ----------------------------------------------------------
def test_polygons_even_odd_and_union() -> None:
    square = [(1.5, 1.5), (8.5, 1.5), (8.5, 8.5), (1.5, 8.5)]
    hole = [(3.5, 3.5), (3.5, 6.5), (6.5, 6.5), (6.5, 3.5)]
    # one outline around a hole: out along a bridge, round the hole, back along the bridge
    ring = mask_from_polygons((12, 12), [[*square, square[0], *hole, hole[0]]])
    assert ring.sum() == 7 * 7 - 3 * 3
    assert ring[2:9, 2:9].sum() == 40
    assert not ring[4:7, 4:7].any()
    two = mask_from_polygons(
        (12, 12), [square, [(9.5, 9.5), (11.5, 9.5), (11.5, 10.5), (9.5, 10.5)]]
    )
    assert two[2:9, 2:9].all()
    assert two[10, 10:12].all()
    assert two.sum() == 49 + 2
    triangle = mask_from_polygons((12, 12), [[(0, 0), (10, 0), (0, 10)]])
    yy, xx = np.mgrid[0:12, 0:12]
    np.testing.assert_array_equal(triangle, (xx + yy < 10) & (yy >= 0) & (xx >= 0))
    with pytest.raises(CalibrationError, match=r"\(k, 2\) finite vertices"):
        mask_from_polygons((5, 5), [[(0, 0), (1, 1)]])


def test_rle_round_trip_and_json_file(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    for mask in (
        rng.random((37, 53)) < 0.3,
        np.ones((4, 5), bool),
        np.zeros((4, 5), bool),
        mask_from_polygons((64, 64), [[(10, 0), (20, 0), (15, 40)]]),
    ):
        rle = mask_to_rle(mask)
        assert sum(rle["runs"]) == mask.size
        np.testing.assert_array_equal(mask_from_rle(json.loads(json.dumps(rle))), mask)
    path = tmp_path / "cal.json"
    path.write_text(json.dumps({"calibration_width": 64, "star_calibration": {"n": 3}}))
    assert load_obstruction(path) is None
    mask = mask_from_polygons((64, 64), [[(10, 0), (20, 0), (15, 40)]])
    save_obstruction(mask, path)
    data = json.loads(path.read_text())
    assert data["calibration_width"] == 64
    assert data["star_calibration"] == {"n": 3}
    loaded = load_obstruction(path)
    assert loaded is not None
    np.testing.assert_array_equal(loaded, mask)
    save_obstruction(np.zeros((64, 64), bool), tmp_path / "new.json")
    empty = load_obstruction(tmp_path / "new.json")
    assert empty is not None
    assert not empty.any()
    assert json.loads((tmp_path / "new.json").read_text())["obstruction"]["runs"] == [64 * 64]


def test_bad_masks_and_options_say_what_was_expected() -> None:
    with pytest.raises(CalibrationError, match="sum to 2x3 = 6 pixels; found a sum of 5"):
        mask_from_rle({"encoding": "rle-rows", "shape": [2, 3], "runs": [1, 4]})
    with pytest.raises(CalibrationError, match="expected encoding 'rle-rows'; found 'png'"):
        mask_from_rle({"encoding": "png", "shape": [2, 3], "runs": [6]})
    with pytest.raises(CalibrationError, match="'shape'"):
        mask_from_rle({"encoding": "rle-rows", "runs": [6]})
    frames = np.zeros((3, 40, 40), np.uint16)
    with pytest.raises(FrameSizeError, match="field-of-view mask of 40x40"):
        obstruction_mask(frames, field_of_view=np.ones((30, 40), bool))
    with pytest.raises(CalibrationError, match="expected frames of shape"):
        obstruction_mask(np.zeros((2, 3, 40, 40, 3)))
    with pytest.raises(CalibrationError, match=r"local_threshold must lie in 0\.\.1"):
        obstruction_mask(frames, local_threshold=1.5)
    with pytest.raises(CalibrationError, match=r"\(x, y, radius\[, aspect\]\)"):
        obstruction_mask(frames, field_of_view=(1.0, 2.0))
