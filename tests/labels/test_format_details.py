"""Details of each label format: the less common shapes, entries and mistakes."""

from __future__ import annotations

import base64
import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aurora_xr.errors import FrameSizeError, NoFilesFoundError, SchemaError
from aurora_xr.labels import detect_format, label_report, read_labels
from tests.labels import _label_sets as sets

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def _png(mask: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(mask.astype(np.uint8)).save(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def test_labelme_mask_shapes_and_single_files(tmp_path: Path) -> None:
    sets.write_images(tmp_path)
    block = np.zeros((5, 7), dtype=bool)
    block[1:4, 2:6] = True
    shape = sets.labelme_shape("aurora", [[10, 20], [16, 24]], "mask")
    shape["mask"] = _png(block)
    path = tmp_path / "JBS_20200621_010000.json"
    path.write_text(json.dumps(sets.labelme_doc(sets.FRAMES[0], [shape])), encoding="utf-8")
    assert detect_format(path) == "labelme"
    mask = read_labels(path).mask[0].values
    expected = np.zeros((sets.H, sets.W), dtype=bool)
    expected[20:25, 10:17] = block
    np.testing.assert_array_equal(mask, expected)
    shape["points"] = [[44, 20], [50, 24]]  # runs past the right edge
    path.write_text(json.dumps(sets.labelme_doc(sets.FRAMES[0], [shape])), encoding="utf-8")
    with pytest.raises(SchemaError, match=r"mask of 7x5 at x=44, y=20 runs outside the 48x40"):
        read_labels(path)


def test_labelme_unknown_shape_types_and_json_that_is_not_labelme(tmp_path: Path) -> None:
    source = sets.write_labelme(tmp_path / "lm")
    (source / "notes.json").write_text(json.dumps({"comment": "not labels"}), encoding="utf-8")
    ds = read_labels(source, label_map=sets.LABEL_MAP)
    assert ds.sizes["frame"] == 3
    assert label_report(ds).skipped == [
        (str(source / "notes.json"), "not a LabelMe file (no 'shapes' list)")
    ]
    doc = sets.labelme_doc(sets.FRAMES[0], [sets.labelme_shape("aurora", [[1, 1]], "cuboid")])
    (source / "JBS_20200621_010000.json").write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(SchemaError, match="unknown shape_type 'cuboid'"):
        read_labels(source, label_map=sets.LABEL_MAP)


def test_coco_details(tmp_path: Path) -> None:
    path = sets.write_coco(tmp_path / "coco")
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["annotations"].append(
        {"id": 9, "image_id": 12, "category_id": 1, "bbox": [1, 1, 4, 4], "segmentation": []}
    )
    path.write_text(json.dumps(doc), encoding="utf-8")
    ds = read_labels(path, label_map=sets.LABEL_MAP)
    assert not ds.mask[2].values.any()
    assert label_report(ds).ignored == [(str(path), "annotation 9 has no segmentation (box only)")]
    doc["annotations"][3]["segmentation"]["size"] = [sets.H, sets.W + 2]
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(FrameSizeError, match=r"annotation 4 .*size 40x50 \(height x width\)"):
        read_labels(path, label_map=sets.LABEL_MAP)
    doc["annotations"][3]["category_id"] = 7
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(SchemaError, match="annotation 4 has unknown category 7"):
        read_labels(path, label_map=sets.LABEL_MAP)
    doc["annotations"][3]["image_id"] = 99
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(SchemaError, match="refers to image id 99, which the file does not list"):
        read_labels(path, label_map=sets.LABEL_MAP)


def test_images_are_found_under_image_root(tmp_path: Path) -> None:
    path = sets.write_coco(tmp_path / "coco")
    moved = tmp_path / "elsewhere"
    (path.parent / "images").rename(moved)
    with pytest.raises(NoFilesFoundError, match="is missing"):
        read_labels(path, label_map=sets.LABEL_MAP)
    ds = read_labels(path, label_map=sets.LABEL_MAP, image_root=moved)
    assert Path(str(ds.source.values[0])).parent == moved


def test_cvat_details(tmp_path: Path) -> None:
    path = sets.write_cvat(tmp_path / "cvat")
    text = path.read_text(encoding="utf-8")
    turned = text.replace('z_order="0"/><polyline', 'z_order="0" rotation="90"/><polyline', 1)
    path.write_text(turned, encoding="utf-8")
    box = read_labels(path, label_map={"arc": True, "*": None}).mask[0].values
    rows, cols = np.nonzero(box)
    # the 14.2 x 14.2 box turned by 90 degrees about its centre covers the same pixels
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (5, 18, 30, 43)
    path.write_text(text.replace("</annotations>", "<track id='0' label='aurora'/></annotations>"))
    with pytest.raises(SchemaError, match="CVAT for video"):
        read_labels(path, label_map=sets.LABEL_MAP)
    path.write_text(text.replace('rle="', 'rle="900, '), encoding="utf-8")
    with pytest.raises(SchemaError, match=r"run lengths add up to \d+ for a \d+x\d+ box"):
        read_labels(path, label_map=sets.LABEL_MAP)


def test_manifest_details(tmp_path: Path) -> None:
    path = sets.write_manifest(tmp_path / "manifest")
    rows = list(csv.reader(path.open(newline="")))
    rows[2][1] = ""  # the second frame has no mask yet
    rows.append(["frames/missing.png", "truth/missing.png", "train"])
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    with pytest.raises(NoFilesFoundError, match=r"manifest.csv line 5: image missing"):
        read_labels(path)
    ds = read_labels(path, errors="skip")
    assert [Path(s).name for s in ds.source.values] == [sets.FRAMES[0], sets.FRAMES[2]]
    assert list(ds.split.values) == ["train", "test"]
    reasons = [reason for _, reason in label_report(ds).skipped]
    assert reasons[0] == f"unlabelled: no mask for frames/{sets.FRAMES[1]}"
    assert "line 5: image missing" in reasons[1]
    path.write_text("picture,truth\na.png,b.png\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="expected a manifest CSV with columns image,mask"):
        read_labels(path)


def test_unpacked_coco_and_cvat_exports_are_read_from_their_folder(tmp_path: Path) -> None:
    for fmt in ("coco", "cvat"):
        folder = sets.WRITERS[fmt](tmp_path / fmt).parent
        assert detect_format(folder) == fmt
        ds = read_labels(folder, label_map=sets.LABEL_MAP)
        assert ds.attrs["label_source"] == str(
            folder / f"annotations.{'json' if fmt == 'coco' else 'xml'}"
        )
        np.testing.assert_array_equal(ds.mask.values, np.stack(sets.truth_masks()))
    single = sets.write_labelme(tmp_path / "one")
    for extra in sorted(single.glob("*.json"))[1:]:
        extra.unlink()
    assert detect_format(single) == "labelme"
