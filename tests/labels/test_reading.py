"""read_labels: laziness, pixel layouts, times, label maps, bad labels and the report."""

from __future__ import annotations

import json
from pathlib import Path

import dask
import numpy as np
import pytest
from PIL import Image

import aurora_xr.labels.assembly as assembly
from aurora_xr.errors import (
    AuroraXrError,
    FrameSizeError,
    NoFilesFoundError,
    OptionError,
    SchemaError,
)
from aurora_xr.labels import (
    LabelReport,
    detect_format,
    label_report,
    read_image_labels,
    read_labels,
)
from tests.conftest import raise_if_dask_computes
from tests.labels import _label_sets as sets

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def labelme_folder(root: Path, n: int = 4, *, size: tuple[int, int] = (20, 24)) -> Path:
    """``n`` RGB PNG frames with one aurora rectangle each (rows 2-5, columns 3-9)."""
    root.mkdir(parents=True, exist_ok=True)
    height, width = size
    for i in range(n):
        name = f"JBS_20200621_0{i}0000.png"
        pixels = np.random.default_rng(i).integers(0, 256, (height, width, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / name)
        doc = sets.labelme_doc(name, [sets.labelme_shape("aurora", [[3, 2], [10, 6]], "rectangle")])
        doc["imageHeight"], doc["imageWidth"] = height, width
        (root / name).with_suffix(".json").write_text(json.dumps(doc), encoding="utf-8")
    return root


def edit_labelme(path: Path, **changes: object) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc.update(changes)
    path.write_text(json.dumps(doc), encoding="utf-8")


# -- laziness ---------------------------------------------------------------------------
def test_nothing_is_decoded_until_computed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = sets.write_coco(tmp_path / "coco")
    calls: list[str] = []
    decode_image, paint = assembly.decode_image, assembly.paint

    def counting_decode(src, channels):  # type: ignore[no-untyped-def]
        calls.append("image")
        return decode_image(src, channels)

    def counting_paint(shapes, height, width, *, pixel_origin):  # type: ignore[no-untyped-def]
        calls.append("mask")
        return paint(shapes, height, width, pixel_origin=pixel_origin)

    monkeypatch.setattr(assembly, "decode_image", counting_decode)
    monkeypatch.setattr(assembly, "paint", counting_paint)
    with raise_if_dask_computes():
        ds = read_labels(source, label_map=sets.LABEL_MAP, chunk_frames=2)
        per_frame = ds.mask.sum(("y", "x"))
        bright = ds.image.mean(("y", "x", "channel"))
    assert calls == []
    assert ds.image.data.chunks[0] == (2, 1)
    assert ds.mask.data.chunks[0] == (2, 1)
    with dask.config.set(scheduler="sync"):
        counts = per_frame.values
        bright.values  # noqa: B018
    assert counts.tolist() == [int(m.sum()) for m in sets.truth_masks()]
    assert calls.count("image") == 3
    assert calls.count("mask") == 3


def test_masks_compute_without_decoding_images(tmp_path: Path) -> None:
    ds = read_labels(labelme_folder(tmp_path / "lm"))
    for path in tmp_path.glob("lm/*.png"):
        path.write_bytes(b"")  # the images are gone; the masks need only the JSON files
    assert ds.mask.sum().compute().item() == 4 * 4 * 7
    with pytest.raises(AuroraXrError, match="empty file"):
        ds.image.compute()


# -- pixel layouts and coordinates ------------------------------------------------------
def test_grey_and_16_bit_images_keep_one_channel_and_their_dtype(tmp_path: Path) -> None:
    root = tmp_path / "grey"
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True)
    values = np.arange(20 * 24, dtype=np.uint16).reshape(20, 24) * 100
    Image.fromarray(values).save(root / "images" / "a.png")
    mask = np.zeros((20, 24), dtype=np.uint8)
    mask[5:9, 2:4] = 1
    Image.fromarray(mask).save(root / "masks" / "a.png")
    ds = read_labels(root, grey_band="557.7nm", frame_dim="sample")
    assert ds.image.dims == ("sample", "y", "x", "channel")
    assert ds.image.dtype == np.uint16
    assert list(ds.channel.values) == ["557.7nm"]
    np.testing.assert_array_equal(ds.image[0, ..., 0].values, values)
    assert int(ds.mask.sum()) == 8
    assert np.isnat(ds.time.values[0])


def test_time_pattern_and_nat(tmp_path: Path) -> None:
    source = labelme_folder(tmp_path / "lm", n=2)
    np.testing.assert_array_equal(
        read_labels(source).time.values,
        np.array(["2020-06-21T00", "2020-06-21T01"], dtype="M8[ns]"),
    )
    # a pattern is found anywhere in the name, never cut out of a longer run of digits
    np.testing.assert_array_equal(
        read_labels(source, time_pattern="%Y%m%d").time.values,
        np.array(["2020-06-21", "2020-06-21"], dtype="M8[ns]"),
    )
    assert np.isnat(read_labels(source, time_pattern="%Y%m%d_%H").time.values).all()
    assert np.isnat(read_labels(source, time_pattern=None).time.values).all()
    assert np.isnat(read_labels(source, time_pattern="%Y-%m-%d").time.values).all()
    with pytest.raises(OptionError, match="must give the date"):
        read_labels(source, time_pattern="%H%M")


def test_labelme_image_found_by_name_or_embedded(tmp_path: Path) -> None:
    source = labelme_folder(tmp_path / "lm", n=2)
    first = source / "JBS_20200621_000000.json"
    edit_labelme(first, imagePath="..\\elsewhere\\JBS_20200621_000000.png")  # found by name
    second = source / "JBS_20200621_010000.png"
    encoded = __import__("base64").b64encode(second.read_bytes()).decode("ascii")
    edit_labelme(second.with_suffix(".json"), imagePath="gone.png", imageData=encoded)
    expected = np.asarray(Image.open(second))
    second.unlink()
    ds = read_labels(source)
    np.testing.assert_array_equal(ds.image[1].values, expected)
    assert Path(str(ds.source.values[1])).name == "gone.png"
    assert any("embedded imageData" in note for note in label_report(ds).notes)
    assert int(ds.mask.sum()) == 2 * 4 * 7


def test_cvat_subsets_become_the_split(tmp_path: Path) -> None:
    path = sets.write_cvat(tmp_path / "cvat")
    text = path.read_text(encoding="utf-8").replace('<image id="1"', '<image subset="test" id="1"')
    path.write_text(text, encoding="utf-8")
    ds = read_labels(path, label_map=sets.LABEL_MAP)
    assert list(ds.split.values) == ["", "test", ""]


# -- label maps -------------------------------------------------------------------------
def test_label_map_true_false_none_and_others(tmp_path: Path) -> None:
    source = sets.write_labelme(tmp_path / "lm")
    with pytest.raises(SchemaError, match=r"JBS_20200621_010000.json \(shape 1, rectangle 'arc'\)"):
        read_labels(source)  # default map knows only "aurora"
    ignored = read_labels(source, label_map={"aurora": True, "*": None})
    report = label_report(ignored)
    assert sorted(reason for _, reason in report.ignored) == [
        "shape 1 label 'arc' mapped to None",
        "shape 2 label 'cloud' mapped to None",
    ]
    np.testing.assert_array_equal(ignored.mask[0].values, sets.coco_polygon(sets.P1))
    everything = read_labels(source, label_map={"*": True})
    union = sets.coco_polygon(sets.P1) | sets.coco_polygon(sets.rect_corners(sets.RECT))
    np.testing.assert_array_equal(everything.mask[0].values, union | sets.disc(*sets.CIRCLE))
    with pytest.raises(OptionError, match="label_map\\['arc'\\] must be True"):
        read_labels(source, label_map={"arc": "yes"})  # type: ignore[dict-item]


def test_shapes_are_painted_in_order(tmp_path: Path) -> None:
    source = labelme_folder(tmp_path / "lm", n=1)
    path = source / "JBS_20200621_000000.json"
    shapes = [
        sets.labelme_shape("cloud", [[0, 0], [24, 20]], "rectangle"),
        sets.labelme_shape("aurora", [[3, 2], [10, 6]], "rectangle"),
        sets.labelme_shape("aurora", [[1, 1], [2, 2]], "linestrip"),
    ]
    edit_labelme(path, shapes=shapes)
    ds = read_labels(source, label_map=sets.LABEL_MAP)
    assert int(ds.mask.sum()) == 4 * 7  # the aurora drawn over the cloud stays
    assert label_report(ds).ignored == [
        (str(path), "shape 2 (linestrip 'aurora') marks no area"),
    ]
    edit_labelme(path, shapes=shapes[1::-1])
    assert int(read_labels(source, label_map=sets.LABEL_MAP).mask.sum()) == 0


# -- bad labels -------------------------------------------------------------------------
def test_polygon_outside_the_image_is_refused_beyond_half_a_pixel(tmp_path: Path) -> None:
    source = labelme_folder(tmp_path / "lm", n=1)
    path = source / "JBS_20200621_000000.json"
    edge = [[-0.5, -0.5], [24.5, -0.5], [24.5, 20.5]]
    edit_labelme(path, shapes=[sets.labelme_shape("aurora", edge, "polygon")])
    assert int(read_labels(source).mask.sum()) > 0
    beyond = [[-0.6, 0], [10, 0], [10, 10]]
    edit_labelme(path, shapes=[sets.labelme_shape("aurora", beyond, "polygon")])
    with pytest.raises(SchemaError, match=r"JBS_20200621_000000.json .*x=-0.6, y=0 outside"):
        read_labels(source)
    # with pixel centres at integers the image spans [-0.5, 23.5]: -0.6 is within tolerance
    assert int(read_labels(source, pixel_origin="centre").mask.sum()) > 0


def test_mask_of_another_size_is_refused(tmp_path: Path) -> None:
    root = sets.write_folders(tmp_path / "folders")
    sets.write_mask(root / "masks" / sets.FRAMES[1], np.zeros((sets.H + 1, sets.W), dtype=bool))
    with pytest.raises(FrameSizeError, match=r"masks/JBS_20200621_010100.png: mask size 48x41"):
        read_labels(root)
    ds = read_labels(root, errors="skip")
    assert ds.sizes["frame"] == 2
    assert "mask size 48x41 differs" in label_report(ds).skipped[0][1]


def test_missing_images_are_refused_and_unlabelled_images_reported(tmp_path: Path) -> None:
    root = sets.write_folders(tmp_path / "folders")
    (root / "masks" / sets.FRAMES[2]).unlink()
    (root / "images" / "notes.txt").write_text("not an image")
    ds = read_labels(root)
    report = label_report(ds)
    assert ds.sizes["frame"] == 2
    assert report.skipped == [
        (
            str(root / "images" / sets.FRAMES[2]),
            "unlabelled: no mask masks/JBS_20200621_010200.* for it",
        )
    ]
    assert report.ignored == [
        (str(root / "images" / "notes.txt"), "not an image file the readers know")
    ]
    (root / "images" / sets.FRAMES[0]).unlink()
    with pytest.raises(NoFilesFoundError, match=r"masks/JBS_20200621_010000.png: image missing"):
        read_labels(root)
    coco = sets.write_coco(tmp_path / "coco")
    (coco.parent / "images" / sets.FRAMES[1]).unlink()
    with pytest.raises(NoFilesFoundError, match=r"annotations.json \(image id 11, .*\): image"):
        read_labels(coco, label_map=sets.LABEL_MAP)


def test_unknown_labels_in_coco_and_cvat_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match=r"annotations.json .*annotation 2 \('arc'\).*unknown"):
        read_labels(sets.write_coco(tmp_path / "coco"))
    with pytest.raises(SchemaError, match=r"annotations.xml \(image .*<box> 1 'arc'.*unknown"):
        read_labels(sets.write_cvat(tmp_path / "cvat"))


def test_frames_of_different_sizes_are_refused_naming_the_odd_files(tmp_path: Path) -> None:
    source = labelme_folder(tmp_path / "lm", n=3)
    labelme_folder(source / "odd", n=1, size=(30, 24))
    with pytest.raises(
        FrameSizeError, match=r"3 frames are 24x20 RGB uint8, 1 are not: .*odd/JBS_\S+png \(24x30"
    ):
        read_labels(source)
    ds = read_labels(source, errors="skip")
    assert ds.sizes["frame"] == 3
    assert (
        label_report(ds).skipped[0][1]
        == "24x30 RGB uint8 differs from the 24x20 RGB uint8 of most frames"
    )


def test_skip_keeps_good_frames_and_lists_bad_ones(tmp_path: Path) -> None:
    source = labelme_folder(tmp_path / "lm", n=3)
    (source / "JBS_20200621_010000.json").write_text("{not json", encoding="utf-8")
    edit_labelme(source / "JBS_20200621_020000.json", imageHeight=99)
    with pytest.raises(SchemaError, match=r"JBS_20200621_010000\.json: not a readable JSON"):
        read_labels(source)
    ds = read_labels(source, errors="skip")
    assert [Path(s).name for s in ds.source.values] == ["JBS_20200621_000000.png"]
    reasons = [reason for _, reason in label_report(ds).skipped]
    assert "not a readable JSON file" in reasons[0]
    assert "imageHeight x imageWidth 99x24 differs" in reasons[1]
    with pytest.raises(OptionError, match="errors must be one of"):
        read_labels(source, errors="ignore")


def test_sources_and_formats_are_checked(tmp_path: Path) -> None:
    with pytest.raises(NoFilesFoundError, match="found no"):
        read_labels(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SchemaError, match="expected a folder with images/ and masks/"):
        read_labels(tmp_path / "empty")
    (tmp_path / "x.txt").write_text("x")
    with pytest.raises(SchemaError, match=r"found a \.txt"):
        detect_format(tmp_path / "x.txt")
    (tmp_path / "labels.csv").write_text("frame,aurora\na.png,1\n")
    with pytest.raises(SchemaError, match=r"read it with aurora_xr\.labels\.read_image_labels"):
        read_labels(tmp_path / "labels.csv")
    source = labelme_folder(tmp_path / "lm", n=1)
    with pytest.raises(OptionError, match="format must be 'auto' or one of"):
        read_labels(source, format="voc")
    with pytest.raises(OptionError, match="chunk_frames must be a positive integer"):
        read_labels(source, chunk_frames=0)


# -- the report and image-level labels --------------------------------------------------
def test_report_round_trips_and_prints(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ds = read_labels(sets.write_cvat(tmp_path / "cvat"), label_map=sets.LABEL_MAP, verbose=True)
    printed = capsys.readouterr().out
    report = label_report(ds)
    assert printed.strip() == str(report)
    assert LabelReport.from_json(report.to_json(tmp_path / "r.json")) == report
    assert json.loads((tmp_path / "r.json").read_text())["n_frames"] == 3
    assert not report.ok
    with pytest.raises(AuroraXrError, match="label_report"):
        label_report(ds.drop_attrs())


def test_image_level_labels(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    path.write_text(
        "frame,aurora,note\n"
        "night1/JBS_20200621_010000.jpg,1,arc\n"
        "JBS_20200621_010100.jpg,no,\n"
        "\n"
        "other.jpg,TRUE,\n",
        encoding="utf-8",
    )
    ds = read_image_labels(path)
    assert ds.has_aurora.values.tolist() == [True, False, True]
    assert ds.frame_name.values.tolist()[0] == "night1/JBS_20200621_010000.jpg"
    assert ds.source.values.tolist()[1] == str(tmp_path / "JBS_20200621_010100.jpg")
    assert ds.time.values[0] == np.datetime64("2020-06-21T01:00", "ns")
    assert np.isnat(ds.time.values[2])
    path.write_text("frame,aurora\na.jpg,1\na.jpg,0\n", encoding="utf-8")
    with pytest.raises(SchemaError, match=r"line 3: frame 'a\.jpg' is listed again"):
        read_image_labels(path)
    path.write_text("frame,aurora\na.jpg,maybe\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="line 2: aurora must be 1/0"):
        read_image_labels(path)
    path.write_text("image,mask\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="expected image-level labels with columns frame,aurora"):
        read_image_labels(path)
