"""Labels on real all-sky frames (copies of ../shared/reference_frames in tmp_path)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dask
import numpy as np
import pytest
from PIL import Image, ImageDraw

from aurora_xr.errors import FrameSizeError
from aurora_xr.labels import label_report, read_labels
from tests.conftest import raise_if_dask_computes
from tests.labels._label_sets import coco_polygon, edge_distance

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference_frames"
MOON = "kho_lyr_20211121_1707_aurora_moon.jpg"  # 2832 x 2832, bright rayed aurora
STARS = "kho_lyr_20201211_2009_clear_stars.jpg"  # same camera, no aurora
TREX = "trex_gill_20211030_0605_aurora.png"  # 553 x 480, green arcs

# drawn by hand on a 1/5 thumbnail of MOON: the upper and the lower auroral band
UPPER = (np.array([(130, 150), (230, 110), (350, 120), (440, 160), (470, 220), (430, 250),
                   (330, 190), (230, 170), (150, 200)]) * 5.0).tolist()  # fmt: skip
LOWER = (np.array([(120, 300), (250, 270), (380, 300), (470, 330), (430, 370), (300, 350),
                   (180, 350)]) * 5.0).tolist()  # fmt: skip
MOON_CENTRE, MOON_RADIUS = (300.0, 1500.0), 350.0


def _shape(label: str, points: list[list[float]], kind: str) -> dict[str, object]:
    return {"label": label, "points": points, "group_id": None, "shape_type": kind, "flags": {}}


@pytest.fixture
def kho_labelme(tmp_path: Path) -> Path:
    folder = tmp_path / "kho"
    folder.mkdir()
    cx, cy = MOON_CENTRE
    docs = {
        MOON: [
            _shape("aurora", UPPER, "polygon"),
            _shape("aurora", LOWER, "polygon"),
            _shape("moon", [[cx, cy], [cx, cy + MOON_RADIUS]], "circle"),
        ],
        STARS: [],
    }
    for name, shapes in docs.items():
        shutil.copy(REFERENCE / name, folder / name)
        doc = {
            "version": "5.5.0",
            "flags": {},
            "shapes": shapes,
            "imagePath": name,
            "imageData": None,
            "imageHeight": 2832,
            "imageWidth": 2832,
        }
        (folder / name).with_suffix(".json").write_text(json.dumps(doc), encoding="utf-8")
    return folder


def test_hand_drawn_labelme_polygons_on_real_frames(kho_labelme: Path) -> None:
    with raise_if_dask_computes():
        ds = read_labels(
            kho_labelme, label_map={"aurora": True, "moon": False}, time_pattern="%Y%m%d_%H%M"
        )
    assert [Path(s).name for s in ds.source.values] == [STARS, MOON]  # sorted by JSON name
    np.testing.assert_array_equal(
        ds.time.values, np.array(["2020-12-11T20:09", "2021-11-21T17:07"], dtype="M8[ns]")
    )
    assert ds.image.shape == (2, 2832, 2832, 3)
    with dask.config.set(scheduler="sync"):
        mask = ds.mask[1].values
        image = ds.image[1].values
        assert not ds.mask[0].values.any()
    np.testing.assert_array_equal(image, np.asarray(Image.open(REFERENCE / MOON)))
    # against pycocotools for the polygons, minus the disc of the moon: on these long edges
    # pycocotools' 1/5-pixel rounding moves a few pixels whose centres touch an edge
    yy, xx = (g + 0.5 for g in np.ogrid[0:2832, 0:2832])
    moon = np.hypot(xx - MOON_CENTRE[0], yy - MOON_CENTRE[1]) <= MOON_RADIUS
    bands = coco_polygon(UPPER, 2832, 2832) | coco_polygon(LOWER, 2832, 2832)
    assert (bands & moon).sum() > 1000  # the moon cuts into the lower band
    rows, cols = np.nonzero(mask != (bands & ~moon))
    near = [edge_distance(cols + 0.5, rows + 0.5, np.array(p)) for p in (UPPER, LOWER)]
    assert np.minimum(*near).max() <= 0.2
    perimeter = sum(np.hypot(*(np.roll(p, -1, 0) - np.array(p)).T).sum() for p in (UPPER, LOWER))
    assert rows.size < 0.08 * perimeter
    # the labelled bands are the green ones: G - R well above the rest of the lens circle
    lens = np.hypot(xx - 1416, yy - 1416) < 1300
    green = image[..., 1].astype(float) - image[..., 0]
    assert green[mask].mean() > green[lens & ~mask].mean() + 15
    report = label_report(ds)
    assert report.shapes == {"aurora": 2, "moon": 1}
    assert report.n_empty == 1


def test_real_frames_of_another_size_are_refused_by_name(kho_labelme: Path) -> None:
    shutil.copy(REFERENCE / TREX, kho_labelme / TREX)
    doc = {"shapes": [], "imagePath": TREX, "imageHeight": 480, "imageWidth": 553}
    (kho_labelme / TREX).with_suffix(".json").write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(FrameSizeError, match=r"1 are not: \S+trex_gill_20211030_0605_aurora\.png"):
        read_labels(kho_labelme, label_map={"aurora": True, "moon": False})


def test_parallel_folders_of_a_real_frame_with_a_pil_drawn_mask(tmp_path: Path) -> None:
    root = tmp_path / "trex"
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    shutil.copy(REFERENCE / TREX, root / "images" / TREX)
    truth = Image.new("L", (553, 480), 0)
    ImageDraw.Draw(truth).polygon([(60, 150), (300, 90), (500, 140), (480, 190), (90, 210)], 255)
    truth.save(root / "masks" / TREX)
    ds = read_labels(root, time_pattern="%Y%m%d_%H%M")
    assert ds.image.shape == (1, 480, 553, 3)
    np.testing.assert_array_equal(ds.mask[0].values, np.asarray(truth) > 0)
    np.testing.assert_array_equal(ds.image[0].values, np.asarray(Image.open(REFERENCE / TREX)))
    assert ds.time.values[0] == np.datetime64("2021-10-30T06:05", "ns")
