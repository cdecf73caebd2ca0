"""All five label formats read to the same masks for the same drawn shapes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aurora_xr.labels import detect_format, label_report, read_labels
from tests.labels import _label_sets as sets

FORMATS = ["folders", "manifest", "labelme", "coco", "cvat"]


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("label_sets")
    return {name: writer(root / name) for name, writer in sets.WRITERS.items()}


def test_truth_is_not_trivial() -> None:
    first, second, third = sets.truth_masks()
    # the cloud cuts a hole into the aurora polygon; the arc is separate
    assert 300 < first.sum() < 600
    assert (sets.coco_polygon(sets.P1) & sets.disc(*sets.CIRCLE)).sum() > 40
    assert second.sum() > 200
    assert not third.any()


@pytest.mark.parametrize("fmt", FORMATS)
def test_format_is_detected(fmt: str, sources: dict[str, Path]) -> None:
    assert detect_format(sources[fmt]) == fmt


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_reads_the_truth(fmt: str, sources: dict[str, Path]) -> None:
    ds = read_labels(sources[fmt], label_map=sets.LABEL_MAP)
    names = [Path(s).name for s in ds.source.values]
    assert names == sets.FRAMES
    assert ds.mask.dims == ("frame", "y", "x")
    assert ds.image.dims == ("frame", "y", "x", "channel")
    assert ds.image.dtype == np.uint8
    assert ds.mask.dtype == bool
    assert list(ds.channel.values) == ["R", "G", "B"]
    for i, truth in enumerate(sets.truth_masks()):
        np.testing.assert_array_equal(ds.mask[i].values, truth, err_msg=f"{fmt} frame {i}")
        np.testing.assert_array_equal(ds.image[i].values, sets.frame_pixels(i))
    expected = np.array(
        ["2020-06-21T01:00", "2020-06-21T01:01", "2020-06-21T01:02"], dtype="M8[ns]"
    )
    np.testing.assert_array_equal(ds.time.values, expected)
    assert ds.attrs["label_format"] == fmt


def test_all_formats_give_identical_masks(sources: dict[str, Path]) -> None:
    masks = {
        fmt: read_labels(sources[fmt], label_map=sets.LABEL_MAP).mask.values for fmt in FORMATS
    }
    for fmt in FORMATS[1:]:
        np.testing.assert_array_equal(masks[fmt], masks["folders"], err_msg=fmt)


def test_manifest_carries_the_split(sources: dict[str, Path]) -> None:
    ds = read_labels(sources["manifest"])
    assert list(ds.split.values) == ["train", "validation", "test"]
    assert "split" not in read_labels(sources["folders"]).coords


def test_reports_say_what_was_read_and_ignored(sources: dict[str, Path]) -> None:
    labelme = label_report(read_labels(sources["labelme"], label_map=sets.LABEL_MAP))
    assert labelme.n_frames == 3
    assert labelme.n_label_files == 3
    assert labelme.shapes == {"arc": 1, "aurora": 2, "cloud": 1}
    assert labelme.n_empty == 1
    assert labelme.ignored == []
    cvat = label_report(read_labels(sources["cvat"], label_map=sets.LABEL_MAP))
    assert cvat.n_label_files == 1
    assert len(cvat.ignored) == 1
    assert "<polyline> 'aurora' marks no area" in cvat.ignored[0][1]
    coco = label_report(read_labels(sources["coco"], label_map=sets.LABEL_MAP))
    assert any("1 image(s) without annotations" in note for note in coco.notes)
    folders = label_report(read_labels(sources["folders"]))
    assert folders.n_label_files == 3
    assert folders.skipped == []
    assert "3 labelled frames read from 3 folders" in folders.summary()


def test_label_checksum_depends_on_the_labels_only(sources: dict[str, Path]) -> None:
    a = read_labels(sources["labelme"], label_map=sets.LABEL_MAP).attrs["label_checksum"]
    b = read_labels(sources["labelme"], label_map=sets.LABEL_MAP).attrs["label_checksum"]
    c = read_labels(sources["cvat"], label_map=sets.LABEL_MAP).attrs["label_checksum"]
    assert a == b
    assert a != c
    assert len(a) == 64
