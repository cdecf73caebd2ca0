"""The rasterisation kernels, exactly on small shapes and against PIL and pycocotools.

Agreement measured here (and quoted in docs/labels.md):

* pycocotools (``pixel_origin="corner"``): identical for axis-aligned integer rectangles;
  for any polygon, a pixel differs only when its centre lies within 0.2 pixel of an edge
  (pycocotools rounds vertices and edge crossings to 1/5 pixel).
* PIL ``ImageDraw.polygon`` (``pixel_origin="centre"``): PIL fills a superset of ours for
  integer vertices (it also paints the outline, closed edges); the extra pixels have centres
  within 0.8 pixel of an edge. For fractional vertices (PIL moves them to integers) the
  differences stay within 1.7 pixel of an edge.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image, ImageDraw
from pycocotools import mask as coco_mask

from aurora_xr.errors import OptionError
from aurora_xr.labels import ellipse_mask, polygon_mask, rectangle_corners
from aurora_xr.labels.raster import image_extent, polygon_block
from aurora_xr.labels.shapes import BlockMask
from tests.labels._label_sets import edge_distance

H, W = 64, 64

# pycocotools' decode predates numpy 2's __array__ copy keyword (harmless)
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def coco(xy: NDArray[np.float64], height: int = H, width: int = W) -> NDArray[np.bool_]:
    rle = coco_mask.frPyObjects([np.asarray(xy, dtype=np.float64).ravel().tolist()], height, width)
    return np.asarray(coco_mask.decode(rle)[..., 0], dtype=bool)


def pil_polygon(xy: NDArray[np.float64], height: int = H, width: int = W) -> NDArray[np.bool_]:
    img = Image.new("L", (width, height), 0)
    ImageDraw.Draw(img).polygon([(float(x), float(y)) for x, y in xy], fill=1)
    return np.asarray(img).astype(bool)


def random_polygons(n: int, seed: int) -> list[NDArray[np.float64]]:
    """Star-shaped random polygons of 3 to 12 vertices inside a 64x64 frame."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        k = int(rng.integers(3, 13))
        angle = np.sort(rng.uniform(0, 2 * np.pi, k))
        radius = rng.uniform(5, 28, k)
        cx, cy = rng.uniform(20, 44, 2)
        out.append(np.c_[cx + radius * np.cos(angle), cy + radius * np.sin(angle)])
    return out


# -- exact small cases --------------------------------------------------------------------
def test_square_takes_the_pixels_whose_centres_are_inside() -> None:
    mask = polygon_mask([(1, 1), (5, 1), (5, 4), (1, 4)], 6, 7)
    expected = np.zeros((6, 7), dtype=bool)
    expected[1:4, 1:5] = True
    np.testing.assert_array_equal(mask, expected)


def test_centre_origin_is_the_corner_rule_shifted_by_half_a_pixel() -> None:
    for xy in random_polygons(20, seed=3):
        np.testing.assert_array_equal(
            polygon_mask(xy, H, W, pixel_origin="centre"), polygon_mask(xy + 0.5, H, W)
        )
    # centres at integers: the square [1, 4] holds centres 1, 2, 3 (4 is on the far edge)
    mask = polygon_mask([(1, 1), (4, 1), (4, 4), (1, 4)], 6, 6, pixel_origin="centre")
    assert np.argwhere(mask).min(axis=0).tolist() == [1, 1]
    assert np.argwhere(mask).max(axis=0).tolist() == [3, 3]


def test_shared_edges_give_each_pixel_to_exactly_one_polygon() -> None:
    # centres exactly on the shared slanted edge and on the outer edges (origin "centre")
    left = [(0, 0), (6, 0), (2, 8), (0, 8)]
    right = [(6, 0), (10, 0), (10, 8), (2, 8)]
    a = polygon_mask(left, 10, 12, pixel_origin="centre")
    b = polygon_mask(right, 10, 12, pixel_origin="centre")
    whole = polygon_mask([(0, 0), (10, 0), (10, 8), (0, 8)], 10, 12, pixel_origin="centre")
    assert not (a & b).any()
    np.testing.assert_array_equal(a | b, whole)
    assert whole.sum() == 10 * 8


def test_self_intersecting_polygon_uses_the_even_odd_rule() -> None:
    angles = np.deg2rad(-90 + 144 * np.arange(5))
    star = np.c_[32 + 25 * np.cos(angles), 32 + 25 * np.sin(angles)]
    mask = polygon_mask(star, H, W)
    assert not mask[32, 32]  # the pentagon in the middle is crossed twice
    assert mask[12, 32]  # a point of the star
    assert mask.sum() > 200


def test_polygons_are_clipped_to_the_frame_and_degenerate_ones_are_empty() -> None:
    mask = polygon_mask([(-10, -10), (5, -10), (5, 3), (-10, 3)], 8, 8)
    expected = np.zeros((8, 8), dtype=bool)
    expected[:3, :5] = True
    np.testing.assert_array_equal(mask, expected)
    assert not polygon_mask([(1, 1), (5, 5)], 8, 8).any()
    assert not polygon_mask([(1, 1), (5, 1), (3, 1)], 8, 8).any()  # zero area
    top, left, block = polygon_block([(2, 3), (6, 3), (6, 7), (2, 7)], 10, 10)
    assert (top, left, block.shape) == (3, 2, (4, 4))
    assert block.all()


def test_options_are_checked() -> None:
    with pytest.raises(OptionError, match="pixel_origin must be one of"):
        polygon_mask([(0, 0), (1, 0), (1, 1)], 4, 4, pixel_origin="middle")
    assert image_extent(4, 6, "corner") == (0.0, 6.0, 0.0, 4.0)
    assert image_extent(4, 6, "centre") == (-0.5, 5.5, -0.5, 3.5)


# -- against pycocotools -----------------------------------------------------------------
def test_integer_rectangles_match_pycocotools_exactly() -> None:
    rng = np.random.default_rng(1)
    for _ in range(50):
        x0, y0 = rng.integers(0, 40, 2)
        x1, y1 = x0 + rng.integers(1, 24), y0 + rng.integers(1, 24)
        xy = np.array(rectangle_corners(x0, y0, x1, y1))
        np.testing.assert_array_equal(polygon_mask(xy, H, W), coco(xy))


@pytest.mark.parametrize("grid", [True, False], ids=["fifth-pixel vertices", "any vertices"])
def test_pycocotools_differs_only_within_a_fifth_of_a_pixel_of_an_edge(grid: bool) -> None:
    n_diff, perimeter, n_identical = 0, 0.0, 0
    for xy in random_polygons(150, seed=0):
        if grid:
            xy = np.round(xy * 5) / 5
        ours, theirs = polygon_mask(xy, H, W), coco(xy)
        rows, cols = np.nonzero(ours != theirs)
        n_identical += rows.size == 0
        n_diff += rows.size
        perimeter += float(np.hypot(*(np.roll(xy, -1, axis=0) - xy).T).sum())
        if rows.size:
            assert edge_distance(cols + 0.5, rows + 0.5, xy).max() <= 0.2
    # a few pixels per polygon, along the outline only
    assert n_diff / perimeter < 0.08
    assert n_identical > 0


# -- against PIL -------------------------------------------------------------------------
def test_pil_adds_its_outline_for_integer_vertices() -> None:
    n_diff, perimeter = 0, 0.0
    for xy in random_polygons(150, seed=1):
        xy = np.round(xy)
        ours = polygon_mask(xy, H, W, pixel_origin="centre")
        theirs = pil_polygon(xy)
        assert not (ours & ~theirs).any()  # PIL's fill holds every pixel of ours
        rows, cols = np.nonzero(theirs & ~ours)
        n_diff += rows.size
        perimeter += float(np.hypot(*(np.roll(xy, -1, axis=0) - xy).T).sum())
        if rows.size:
            assert edge_distance(cols.astype(float), rows.astype(float), xy).max() <= 0.8
    assert 0.2 < n_diff / perimeter < 0.45


def test_pil_rectangles_add_exactly_their_right_column_and_bottom_row() -> None:
    xy = np.array(rectangle_corners(3, 5, 20, 14))
    ours = polygon_mask(xy, 32, 32, pixel_origin="centre")
    theirs = pil_polygon(xy, 32, 32)
    assert ours.sum() == 17 * 9
    assert theirs.sum() == 18 * 10
    np.testing.assert_array_equal(theirs[:14, :20], ours[:14, :20])


def test_pil_with_fractional_vertices_differs_within_two_pixels_of_an_edge() -> None:
    for xy in random_polygons(100, seed=2):
        ours = polygon_mask(xy, H, W, pixel_origin="centre")
        rows, cols = np.nonzero(ours != pil_polygon(xy))
        if rows.size:
            assert edge_distance(cols.astype(float), rows.astype(float), xy).max() <= 1.7


# -- ellipses, boxes, run lengths --------------------------------------------------------
def test_circle_holds_the_centres_within_its_radius() -> None:
    cx, cy, r = 30.3, 28.7, 11.2
    yy, xx = np.mgrid[0:H, 0:W] + 0.5
    np.testing.assert_array_equal(ellipse_mask(cx, cy, r, r, H, W), np.hypot(xx - cx, yy - cy) <= r)
    assert not ellipse_mask(cx, cy, 0.0, 3.0, H, W).any()
    # clipped at the frame edge
    assert ellipse_mask(0.0, 0.0, 3.0, 3.0, H, W).sum() == np.sum(
        np.hypot(xx[:4, :4], yy[:4, :4]) <= 3.0
    )


def test_ellipse_rotation_turns_the_axes() -> None:
    flat = ellipse_mask(32, 32, 20, 6, H, W)
    turned = ellipse_mask(32, 32, 6, 20, H, W, angle_deg=90)
    np.testing.assert_array_equal(flat, turned)
    tilted = ellipse_mask(32, 32, 20, 6, H, W, angle_deg=45)
    assert abs(int(tilted.sum()) - int(flat.sum())) < 10
    assert tilted[42, 42]
    assert not flat[42, 42]


def test_pil_ellipse_differs_within_two_pixels_of_the_circle() -> None:
    rng = np.random.default_rng(4)
    yy, xx = np.mgrid[0:H, 0:W].astype(float)
    for _ in range(60):
        cx, cy = rng.uniform(16, 48, 2)
        r = rng.uniform(3, 14)
        ours = ellipse_mask(cx, cy, r, r, H, W, pixel_origin="centre")
        img = Image.new("L", (W, H), 0)
        ImageDraw.Draw(img).ellipse([cx - r, cy - r, cx + r, cy + r], fill=1)
        rows, cols = np.nonzero(ours != np.asarray(img).astype(bool))
        if rows.size:
            off = np.abs(np.hypot(xx[rows, cols] - cx, yy[rows, cols] - cy) - r)
            assert off.max() <= 1.7


def test_rotated_boxes_keep_their_area() -> None:
    corners = rectangle_corners(10, 20, 40, 30, angle_deg=30)
    np.testing.assert_allclose(corners.mean(axis=0), [25, 25])
    sides = np.hypot(*(np.roll(corners, -1, axis=0) - corners).T)
    np.testing.assert_allclose(sides, [30, 10, 30, 10])
    assert abs(int(polygon_mask(corners, H, W).sum()) - 300) < 30
    np.testing.assert_array_equal(
        rectangle_corners(40, 30, 10, 20), rectangle_corners(10, 20, 40, 30)
    )


@pytest.mark.parametrize(
    ("counts", "expected"),
    [((3, 1), [0, 0, 0, 1]), ((0, 2, 2), [1, 1, 0, 0]), ((1,), [0, 0, 0, 0])],
)
def test_cvat_run_lengths_start_with_background(
    counts: tuple[int, ...], expected: list[int]
) -> None:
    # the examples of CVAT's own encoder (cvat-core mask2Rle / rle2Mask)
    block = BlockMask(0, 0, 4, 1, "aurora", True, counts=counts).block()
    np.testing.assert_array_equal(block[0], np.array(expected, dtype=bool))
    two_rows = BlockMask(0, 0, 3, 2, "aurora", True, counts=(1, 3, 2)).block()
    np.testing.assert_array_equal(two_rows, [[False, True, True], [True, False, False]])
