"""The labelling tool's Python side: rendering, drawing, undo, saving, COCO, ranking.

The browser side (the canvas, real mouse events) is in ``test_labeltool_browser.py``; here
the tool is driven through the same messages the browser sends and through its methods.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from PIL import Image

import aurora_xr
from aurora_xr.errors import AuroraXrError, OptionError
from aurora_xr.io.formats import read_file
from aurora_xr.labels import polygon_mask, read_labels
from aurora_xr.model.preprocess import apply_contrast, scale_to_unit
from aurora_xr.widgets import LabelTool
from aurora_xr.widgets.labelcanvas import ACTIONS, KEYMAP, shortcuts_html
from aurora_xr.widgets.labelmasks import FrameLabels, coco_segments, stroke_mask
from aurora_xr.widgets.labelrender import overlay_rgba, stretch_frame, stretch_table
from tests.conftest import raise_if_dask_computes

SHARED = Path(__file__).resolve().parents[3] / "shared"
THEMIS = SHARED / "real_sequences/themis_gill_pgm_20140310/20140310_0600_gill_themis19_full.pgm.gz"
TREX = SHARED / "reference_frames/trex_gill_20211030_0605_aurora.png"
SQUARE = [(10.0, 10.0), (40.0, 10.0), (40.0, 30.0), (10.0, 30.0)]
N, H, W = 4, 48, 64


def _folder(path: Path, n: int = N) -> Path:
    rng = np.random.default_rng(7)
    path.mkdir(parents=True)
    for k in range(n):
        frame = rng.integers(0, 120, (H, W, 3)).astype(np.uint8)
        Image.fromarray(frame).save(path / f"JBS_20200621_0{k}0000.png")
    return path


class LevelPredictor:
    """Probability of frame ``k`` (its first pixel's red value) as a constant map."""

    threshold = 0.5

    def __init__(self, levels: dict[int, float]) -> None:
        self.levels = levels
        self.calls = 0

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        self.calls += 1
        out = np.empty(frames.shape[:3], dtype=np.float32)
        for i, f in enumerate(frames):
            out[i] = self.levels.get(int(f[0, 0, 0]), 0.0)
        return out


@pytest.fixture
def tool(tmp_path: Path) -> LabelTool:
    return LabelTool(_folder(tmp_path / "frames"), out=tmp_path / "out")


# -- rendering -------------------------------------------------------------------------------
def test_stretch_is_the_uniform_contrast_of_the_model() -> None:
    rng = np.random.default_rng(0)
    for dtype, top in ((np.uint8, 255), (np.uint16, 65535)):
        frame = rng.integers(0, top + 1, (5, 6, 3)).astype(dtype)
        for ratio in (0.5, 1.0, 3.7):
            expected = np.rint(apply_contrast(scale_to_unit(frame), ratio).astype(np.float64) * 255)
            np.testing.assert_allclose(stretch_frame(frame, ratio), expected, atol=1)
    assert stretch_table(np.uint16, 16.0)[[0, 4096, 2048, 65535]].tolist() == [0, 255, 128, 255]
    grey = np.array([[[0], [4096]]], dtype=np.uint16)
    assert stretch_frame(grey, 8.0).tolist() == [[[0, 0, 0], [128, 128, 128]]]
    with pytest.raises(AuroraXrError):
        stretch_frame(np.zeros((2, 2), np.float32), 1.0)
    with pytest.raises(OptionError):
        stretch_table(np.uint8, 0.0)


def test_overlay_shows_the_mask_over_the_prelabel() -> None:
    mask = np.zeros((5, 5), bool)
    mask[1:4, 1:4] = True
    p = np.zeros((5, 5), np.float32)
    p[:, 4] = 0.9
    rgba = overlay_rgba(mask, p, threshold=0.5)
    assert rgba.shape == (5, 5, 4)
    assert rgba.dtype == np.uint8
    assert tuple(rgba[2, 2]) == (0, 230, 255, 90)  # fill
    assert tuple(rgba[1, 1]) == (0, 255, 255, 255)  # outline
    assert tuple(rgba[0, 4]) == (255, 120, 0, 150)  # pre-label above threshold
    assert rgba[0, 0, 3] == 0  # nothing
    assert overlay_rgba(mask, None)[0, 4, 3] == 0


# -- drawing ---------------------------------------------------------------------------------
def test_stroke_paints_centres_within_the_radius() -> None:
    line = stroke_mask([(1.0, 2.5), (7.0, 2.5)], 1.0, 5, 8)
    expected = np.zeros((5, 8), bool)
    expected[2, 1:7] = True  # centres 1.5 .. 6.5 on the line
    expected[1, 1:7] = expected[3, 1:7] = True  # one pixel above and below: distance 1
    expected[2, 0] = expected[2, 7] = True  # the round caps: centres 0.5 and 7.5
    np.testing.assert_array_equal(line, expected)
    assert not stroke_mask([(100.0, 100.0)], 3.0, 5, 5).any()
    with pytest.raises(OptionError):
        stroke_mask([(1.0, 1.0)], 0.0, 5, 5)


def test_frame_labels_edits_and_undo() -> None:
    labels = FrameLabels(H, W, undo_depth=3)
    square = polygon_mask(SQUARE, H, W, pixel_origin="corner")
    assert square.sum() == 30 * 20
    labels.add_polygon(SQUARE)
    np.testing.assert_array_equal(labels.mask, square)
    labels.paint([(50.0, 40.0)], 2.0)
    labels.add_polygon([(0, 0), (20, 0), (20, 20), (0, 20)], erase=True)
    assert labels.mask[:20, :20].sum() == 0
    assert labels.mask.sum() == 600 - 100 + 12
    assert labels.dirty
    assert len(labels.polygons) == 1
    assert labels.undo()
    assert labels.mask.sum() == 600 + 12
    assert labels.undo()
    assert (labels.mask == square).all()
    assert labels.undo()
    assert not labels.mask.any()
    assert labels.polygons == []
    assert not labels.undo()
    for _ in range(5):
        labels.paint([(5.0, 5.0)], 1.0)
    assert sum(labels.undo() for _ in range(6)) == 3  # undo_depth
    # vertices beyond the frame are clipped to it
    labels = FrameLabels(H, W)
    labels.add_polygon([(-30, -30), (W + 30, -30), (W + 30, H + 30), (-30, H + 30)])
    assert labels.mask.all()
    np.testing.assert_array_equal(labels.polygons[0], [[0, 0], [W, 0], [W, H], [0, H]])
    with pytest.raises(OptionError):
        labels.add_polygon([(0, 0), (1, 1)])


def test_coco_segments_keep_whole_polygons_and_rle_the_rest() -> None:
    labels = FrameLabels(H, W)
    labels.add_polygon(SQUARE)
    labels.add_polygon([(45, 5), (60, 5), (60, 20)])
    labels.paint([(5.0, 40.0), (20.0, 40.0)], 3.0)
    labels.paint([(58.0, 8.0)], 1.5, erase=True)  # cuts the triangle
    kept, rest = coco_segments(labels.mask, labels.polygons)
    assert len(kept) == 1
    assert kept[0][1] == 600
    assert (polygon_mask(kept[0][0], H, W) | rest == labels.mask).all()
    assert not (polygon_mask(kept[0][0], H, W) & rest).any()


# -- the tool ---------------------------------------------------------------------------------
def test_tool_navigation_progress_and_messages(tool: LabelTool) -> None:
    assert tool.index == 0
    assert tool.stem == "JBS_20200621_000000"
    assert tool.progress_count == (0, N)
    assert "labelled 0 / 4" in tool.progress.value
    assert tool.canvas.frame_bytes[:2] == b"\xff\xd8"  # JPEG
    assert tool.canvas.overlay_bytes[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tool.canvas.width, tool.canvas.height) == (W, H)
    tool._on_message(None, {"type": "polygon", "seq": 5, "points": SQUARE}, [])
    assert tool.canvas.ack == 5
    assert tool.mask.sum() == 600
    tool._on_message(None, {"type": "stroke", "seq": 6, "points": [[50, 40]], "radius": 2}, [])
    assert tool.canvas.ack == 6
    assert tool.mask.sum() == 612
    tool._on_message(None, {"type": "action", "action": "undo"}, [])
    assert tool.mask.sum() == 600
    assert "unsaved" in tool.readout.value
    # a bad edit is shown, not raised, and the browser's drawing is still acknowledged
    tool._on_message(None, {"type": "polygon", "seq": 7, "points": [[1, 1]]}, [])
    assert isinstance(tool.last_error, OptionError)
    assert "3 finite vertices" in tool.status.value
    assert tool.canvas.ack == 7
    tool._on_message(None, {"type": "action", "action": "next"}, [])  # autosave
    assert tool.index == 1
    assert tool.progress_count == (1, N)
    assert (tool.store.masks / "JBS_20200621_000000.png").is_file()
    tool.previous()
    assert tool.index == 0
    assert tool.mask.sum() == 600
    assert not tool.labels.dirty
    tool.show(-1)
    tool.next()
    assert tool.index == N - 1
    with pytest.raises(OptionError):
        tool.show(N)
    tool.do("zoom_in")
    assert tool.canvas.zoom == pytest.approx(1.25)
    tool.do("zoom_fit")
    assert tool.canvas.zoom == 1.0
    tool.do("radius_up")
    assert tool.radius_slider.value == pytest.approx(7.5)
    with pytest.raises(OptionError):
        tool.do("fly")


def test_every_key_has_an_action_and_help() -> None:
    js = (Path(aurora_xr.__file__).parent / "widgets" / "labelcanvas.js").read_text()
    local = set(re.findall(r"^\s{4}(\w+): ", js.split("const local = {")[1].split("};")[0], re.M))
    python = {
        "next", "previous", "save", "undo", "accept", "toggle_overlay", "next_to_label",
        "radius_down", "radius_up", "zoom_in", "zoom_out", "zoom_fit",
    }  # fmt: skip
    assert set(KEYMAP.values()) <= local | python
    assert set(KEYMAP.values()) == set(ACTIONS)
    text = shortcuts_html()
    for key in ("<kbd>s</kbd>", "<kbd>Ctrl+z</kbd>", "<kbd>o</kbd>", "<kbd>n</kbd>"):
        assert key in text
    for word in ("save", "next frame", "undo", "pre-label"):
        assert word in (LabelTool.__doc__ or "") or word in text


def test_save_writes_exact_masks_and_a_coco_export_that_reads_back(tool: LabelTool) -> None:
    tool.add_polygon(SQUARE)
    tool.paint([(50.0, 40.0), (55.0, 42.0)], 3.0)
    first = tool.save()
    expected = polygon_mask(SQUARE, H, W, pixel_origin="corner") | stroke_mask(
        [(50.0, 40.0), (55.0, 42.0)], 3.0, H, W
    )
    saved = np.asarray(Image.open(first))
    assert saved.dtype == np.uint8
    assert set(np.unique(saved)) == {0, 255}
    np.testing.assert_array_equal(saved == 255, expected)
    assert saved[10, 10] == 255
    assert saved[29, 39] == 255
    assert saved[30, 10] == 0
    assert saved[10, 40] == 0
    assert saved[9, 10] == 0
    tool.show(2)
    tool.save()  # an empty frame: labelled, no aurora
    doc = json.loads(tool.store.coco_path.read_text())
    assert [i["file_name"] for i in doc["images"]] == [
        "JBS_20200621_000000.png",
        "JBS_20200621_020000.png",
    ]
    kinds = [type(a["segmentation"]).__name__ for a in doc["annotations"]]
    assert kinds == ["list", "dict"]  # the polygon as drawn, the brush stroke as RLE
    assert doc["annotations"][0]["segmentation"] == [
        [10.0, 10.0, 40.0, 10.0, 40.0, 30.0, 10.0, 30.0]
    ]
    assert isinstance(doc["annotations"][1]["segmentation"]["counts"], str)
    folders = read_labels(tool.store.out)
    coco = read_labels(tool.store.coco_path, format="coco")
    for ds in (folders, coco):
        np.testing.assert_array_equal(ds["mask"].values[0], expected)
        assert not ds["mask"].values[1].any()
        assert str(ds["time"].values[0]) == "2020-06-21T00:00:00.000000000"
    np.testing.assert_array_equal(folders["image"].values, coco["image"].values)
    original = np.asarray(Image.open(tool.frames.entries[0].file))
    np.testing.assert_array_equal(folders["image"].values[0], original)


def test_a_new_session_resumes_and_keeps_polygons(tmp_path: Path) -> None:
    frames = _folder(tmp_path / "frames")
    first = LabelTool(frames, out=tmp_path / "out")
    first.add_polygon(SQUARE)
    first.save()
    again = LabelTool(frames, out=tmp_path / "out")
    assert again.index == 1  # the first unlabelled frame
    assert again.progress_count == (1, N)
    again.show(0)
    assert again.mask.sum() == 600
    assert len(again.labels.polygons) == 1
    again.paint([(45.0, 40.0)], 2.0)
    again.save()
    doc = json.loads((tmp_path / "out" / "coco.json").read_text())
    assert [type(a["segmentation"]).__name__ for a in doc["annotations"]] == ["list", "dict"]
    # masks/ under images/'s parent is the default output folder
    assert LabelTool(tmp_path / "out" / "images").store.out == tmp_path / "out"
    with pytest.raises(OptionError, match="out="):
        LabelTool(frames)


def test_editing_a_label_set_from_read_labels(tmp_path: Path) -> None:
    tool = LabelTool(_folder(tmp_path / "frames"), out=tmp_path / "out")
    tool.add_polygon(SQUARE)
    tool.save()
    ds = read_labels(tmp_path / "out")
    with raise_if_dask_computes(max_computes=2):  # one frame and its mask, nothing more
        edit = LabelTool(ds, out=tmp_path / "edited")
    assert edit.progress_count == (1, 1)
    assert edit.mask.sum() == 600
    edit.add_polygon([(0, 0), (10, 0), (10, 10)], erase=True)
    edit.save()
    again = read_labels(tmp_path / "edited")
    assert again["mask"].values[0].sum() == 600 - 0  # the triangle missed the square
    edit.add_polygon([(0, 0), (20, 0), (20, 20), (0, 20)], erase=True)
    edit.save()
    assert read_labels(tmp_path / "edited")["mask"].values[0].sum() == 600 - 100


def test_cube_source_is_lazy_and_gives_strata(tmp_path: Path) -> None:
    cube = aurora_xr.synthetic_cube(
        start="2020-06-21T06:00", n_frames=6, cadence="2h", size=48, seed=1, clouds=0.0, chunks=2
    )
    with raise_if_dask_computes(max_computes=3):
        tool = LabelTool(cube, out=tmp_path / "out")
    assert tool.stem == "JBS_20200621_060000"
    nights = [s[0] for s in tool._strata]
    # JBS at 164.22 E: local time is UT + 10.95 h, so 06:00 .. 16:00 UT (16:57 .. 02:57
    # local) is the night starting on 2020-06-21
    assert nights == ["2020-06-21"] * 6
    mlt_bins = [s[1] for s in tool._strata]
    expected = np.floor(aurora_xr.geo.mlt.station_mlt(cube.time.values, -74.62, 164.22) / 3)
    assert mlt_bins == expected.astype(int).tolist()
    tool.add_polygon(SQUARE)
    tool.save()
    ds = read_labels(tmp_path / "out")
    np.testing.assert_array_equal(ds["image"].values[0], cube["image"].values[0])
    assert ds["mask"].values[0].sum() == 600


def test_real_themis_file_16_bit_grey(tmp_path: Path) -> None:
    tool = LabelTool([THEMIS], out=tmp_path / "out", contrast=8.0)
    assert len(tool.frames) == 20
    assert tool.stem == "20140310_0600_gill_themis19_full_000_20140310_060000"
    raw = read_file(THEMIS).frames
    shown = stretch_frame(raw[0], 8.0)
    assert shown.shape == (256, 256, 3)
    assert (shown[..., 0] == shown[..., 2]).all()
    tool.show(3)
    tool.add_polygon([(64, 64), (192, 64), (128, 200)])
    tool.save()
    ds = read_labels(tmp_path / "out")
    assert ds["image"].dtype == np.uint16
    assert ds.sizes["channel"] == 1
    np.testing.assert_array_equal(ds["image"].values[0, ..., 0], raw[3])
    np.testing.assert_array_equal(
        ds["mask"].values[0], polygon_mask([(64, 64), (192, 64), (128, 200)], 256, 256)
    )
    assert str(ds["time"].values[0])[:19] == "2014-03-10T06:00:09"


def test_real_trex_frame_is_copied(tmp_path: Path) -> None:
    tool = LabelTool([TREX], out=tmp_path / "out")
    tool.paint([(100.0, 100.0), (300.0, 200.0)], 10.0)
    tool.save()
    copied = tmp_path / "out" / "images" / TREX.name
    assert copied.read_bytes() == TREX.read_bytes()
    ds = read_labels(tool.store.coco_path)
    np.testing.assert_array_equal(
        ds["mask"].values[0], stroke_mask([(100.0, 100.0), (300.0, 200.0)], 10.0, 480, 553)
    )


# -- ranking in the tool (the ranking itself: test_labeltool_ranking.py) -----------------
def test_next_frame_to_label_follows_the_model(tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    folder.mkdir()
    times = ["20200621_000000", "20200621_010000", "20200622_000000", "20200622_010000"]
    for k, when in enumerate(times):  # frame k is told apart by its first pixel (k)
        frame = np.full((H, W, 3), 40, dtype=np.uint8)
        frame[0, 0, 0] = k
        Image.fromarray(frame).save(folder / f"JBS_{when}.png")
    # probabilities 0.5 (most uncertain) .. 0.99 (sure)
    model = LevelPredictor({0: 0.99, 1: 0.5, 2: 0.6, 3: 0.9})
    tool = LabelTool(folder, model, out=tmp_path / "out", station=(0.0, 0.0), mlt_bins=1)
    assert tool.index == 0
    assert tool.overlay_toggle.value
    # nights 2020-06-20 (frames 0, 1) and 2020-06-21 (2, 3): 1 first, then 2, then 3, then 0
    assert tool.ranking().tolist() == [1, 2, 3, 0]
    assert model.calls == 4  # frame 0 once for the overlay, then 1, 2, 3
    assert tool.next_to_label() == 1
    tool.save()
    assert tool.ranking().tolist() == [2, 3, 0]
    assert tool.next_to_label() == 2
    assert tool.accept() == H * W  # 0.6 >= 0.5 everywhere
    tool.toggle_overlay()
    assert not tool.overlay_toggle.value
    tool.do("toggle_overlay")
    assert tool.overlay_toggle.value
    without = LabelTool(folder, out=tmp_path / "out2")
    assert without.ranking().tolist() == [0, 2, 1, 3]  # spread over nights only
    with pytest.raises(OptionError, match="no model"):
        without.accept()


def test_bad_sources(tmp_path: Path) -> None:
    with pytest.raises(AuroraXrError):
        LabelTool(tmp_path / "nothing", out=tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(AuroraXrError, match="no camera files"):
        LabelTool(tmp_path / "empty", out=tmp_path / "out")
    with pytest.raises(AuroraXrError):
        LabelTool(xr.Dataset(), out=tmp_path / "out")
    with pytest.raises(AuroraXrError):
        LabelTool(42, out=tmp_path / "out")
    with pytest.raises(OptionError):
        LabelTool(_folder(tmp_path / "f"), out=tmp_path / "out", image_format="gif")
