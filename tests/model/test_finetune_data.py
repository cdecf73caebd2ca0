"""Label sets as training data: the split by night, LabelSource, the lens, image-level labels."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from PIL import Image

import aurora_xr
from aurora_xr._times import night_of
from aurora_xr.errors import AuroraXrWarning, NoFilesFoundError, OptionError
from aurora_xr.model.data import open_source
from aurora_xr.model.frame_groups import assigned_parts
from aurora_xr.model.image_truth import image_level_scores, join_image_labels
from aurora_xr.model.label_source import LabelSource, lens_mask_from_frames
from aurora_xr.model.lens_masks import lens_mask_from_calibration
from aurora_xr.model.report_figure import mask_outline, tiles_figure
from aurora_xr.model.splits import part_indices, split_groups, split_source
from aurora_xr.sky.lens import Calibration
from tests.conftest import raise_if_dask_computes
from tests.model.test_training import SIZE, tiny_cube

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "real_sequences"


def frame_name(i: int, nights: int) -> str:
    """A camera-style file name: frame ``i`` on night ``i % nights`` (June 2020, 22:00 UT on)."""
    day = np.datetime64("2020-06-01") + np.timedelta64(i % nights, "D")
    minute = 22 * 60 + i // nights
    return f"{str(day).replace('-', '')}_{minute // 60:02d}{minute % 60:02d}00"


def write_label_set(root: Path, cube: xr.Dataset, *, nights: int = 6) -> Path:
    """The frames and truth of ``cube`` as ``images/`` + ``masks/`` PNGs, spread over nights."""
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for i in range(cube.sizes["time"]):
        name = frame_name(i, nights)
        Image.fromarray(cube.image.values[i]).save(root / "images" / f"{name}.png")
        mask = cube.aurora_truth.values[i].astype(np.uint8) * 255
        Image.fromarray(mask).save(root / "masks" / f"{name}.png")
    return root


@pytest.fixture(scope="module")
def cube() -> xr.Dataset:
    return tiny_cube(24, seed=5)


@pytest.fixture(scope="module")
def label_dir(tmp_path_factory: pytest.TempPathFactory, cube: xr.Dataset) -> Path:
    return write_label_set(tmp_path_factory.mktemp("labels"), cube)


# -- nights and the split ---------------------------------------------------------------------
def test_nights_run_from_local_noon() -> None:
    times = ["2020-06-21T11:59", "2020-06-21T12:00", "2020-06-22T03:00", "2020-06-22T11:59"]
    assert [str(d) for d in night_of(times)] == [
        "2020-06-20",
        "2020-06-21",
        "2020-06-21",
        "2020-06-21",
    ]
    # Jang Bogo, 164.2 E: local noon is at 01:03 UT
    assert [str(d) for d in night_of(["2020-06-21T01:00", "2020-06-21T01:10"], 164.2)] == [
        "2020-06-20",
        "2020-06-21",
    ]
    assert np.isnat(night_of(np.array(["NaT"], "datetime64[ns]"))[0])


def test_whole_nights_are_dealt_out_in_the_papers_proportions() -> None:
    rng = np.random.default_rng(0)
    sizes = rng.integers(5, 26, 100)
    groups = np.repeat(np.arange(100), sizes)[:1502]
    parts = split_groups(groups.tolist(), seed=4)
    counts = np.bincount(parts, minlength=3)
    assert counts.sum() == len(groups)
    np.testing.assert_allclose(
        counts / counts.sum(), [1201 / 1502, 150 / 1502, 151 / 1502], atol=0.015
    )
    for g in np.unique(groups):  # no night is cut
        assert len(set(parts[groups == g].tolist())) == 1
    np.testing.assert_array_equal(parts, split_groups(groups.tolist(), seed=4))
    assert not np.array_equal(parts, split_groups(groups.tolist(), seed=5))
    # three nights: one each; validation and test first get a night each
    three = split_groups(["a", "a", "b", "c"], seed=0).tolist()
    assert three[0] == three[1]
    assert sorted(set(three)) == [0, 1, 2]
    assert split_groups(["a", "b", "c"], fractions=(1, 0, 0)).tolist() == [0, 0, 0]


def test_the_labels_own_split_column_is_read() -> None:
    parts = assigned_parts(["train", "Validation", "TEST", "dev", "training"])
    assert parts is not None
    assert parts.tolist() == [0, 1, 2, 1, 0]
    assert assigned_parts(["", "default", "default"]) is None  # CVAT's subset when none was set
    with pytest.raises(OptionError, match=r"found \['holdout'\]"):
        assigned_parts(["train", "holdout"])
    with pytest.raises(OptionError, match="1 of 2 frames have no value"):
        assigned_parts(["train", ""])


def test_a_label_set_is_split_by_night(label_dir: Path) -> None:
    src = LabelSource(aurora_xr.read_labels(label_dir))
    split = split_source(src, fractions=(4, 1, 1), seed=2)
    assert split.by == "night"
    assert split.sizes == (16, 4, 4)
    nights = [str(d) for d in night_of(src.times)]
    for part, name in zip(
        (split.train, split.val, split.test), ("train", "val", "test"), strict=True
    ):
        assert sorted({nights[i] for i in part}) == split.groups[name]
    assert split.describe() == "by night (UT noon to noon): 16/4/4 frames in 4/1/1 nights"
    meta = split.to_metadata((4, 1, 1), 2)
    assert meta["by"] == "night"
    assert meta["groups"] == split.groups
    # a checkpoint's split finds the same frames again, also in a label set that grew
    np.testing.assert_array_equal(part_indices(src, meta, "test"), split.test)
    by_frame = split_source(src, fractions=(4, 1, 1), seed=2, by="frame")
    np.testing.assert_array_equal(
        part_indices(src, {"fractions": [4, 1, 1], "seed": 2}, "val"), by_frame.val
    )
    few = LabelSource(aurora_xr.read_labels(label_dir).isel(frame=[0, 1, 6, 7]), lens="none")
    with pytest.warns(AuroraXrWarning, match="from 2 night"):
        two = split_source(few)
    assert two.sizes == (4, 0, 0)


def test_frames_without_a_time_are_refused_unless_grouped_by_folder(tmp_path: Path) -> None:
    cube = tiny_cube(6, seed=1)
    for k in range(6):
        for sub, data in (("images", cube.image.values[k]), ("masks", cube.aurora_truth.values[k])):
            folder = tmp_path / sub / f"night{k % 3}"
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(data.astype(np.uint8) * (255 if sub == "masks" else 1)).save(
                folder / f"frame{k}.png"
            )
    src = LabelSource(aurora_xr.read_labels(tmp_path))
    with pytest.raises(OptionError, match=r"6 of 6 frames have no time .*split_by='folder'"):
        split_source(src)
    split = split_source(src, by="folder", fractions=(1, 1, 1))
    assert split.sizes == (2, 2, 2)
    folders = sorted(Path(g).name for part in split.groups.values() for g in part)
    assert folders == ["night0", "night1", "night2"]


def test_a_manifest_split_column_wins(tmp_path: Path, label_dir: Path) -> None:
    images = sorted((label_dir / "images").glob("*.png"))[:6]
    rows = [["image", "mask", "split"]]
    for i, path in enumerate(images):
        rows.append(
            [str(path), str(label_dir / "masks" / path.name), ("train", "val", "test")[i % 3]]
        )
    with (tmp_path / "manifest.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    src = LabelSource(aurora_xr.read_labels(tmp_path / "manifest.csv"))
    split = split_source(src)
    assert split.by == "labels"
    assert split.val.tolist() == [1, 4]
    assert split.test.tolist() == [2, 5]
    with pytest.warns(AuroraXrWarning, match="from 2 night"):  # the 6 frames: 2 nights
        assert split_source(src, by="night").by == "night"


# -- LabelSource ------------------------------------------------------------------------------
def test_label_source_reads_each_chunk_once(label_dir: Path, cube: xr.Dataset) -> None:
    ds = aurora_xr.read_labels(label_dir, chunk_frames=4)
    order = np.argsort([frame_name(i, 6) for i in range(24)])  # the files in name order
    cal = Calibration.from_attrs(dict(cube.attrs))
    with raise_if_dask_computes(max_computes=0):
        src = LabelSource(ds, calibration=cal)
    with raise_if_dask_computes(max_computes=1):  # two chunks, in one compute
        frames, masks = src.read([5, 0, 6])
    np.testing.assert_array_equal(frames, cube.image.values[order[[5, 0, 6]]])
    np.testing.assert_array_equal(masks, cube.aurora_truth.values[order[[5, 0, 6]]])
    with raise_if_dask_computes(max_computes=0):  # kept: no decode again
        src.read([1, 7, 3])
    np.testing.assert_array_equal(src.lens_mask, lens_mask_from_calibration(cal, SIZE, SIZE))
    assert src.lens_origin == "calibration"
    assert src.checksum() == LabelSource(ds, lens="none").checksum()
    assert src.checksum() != LabelSource(ds.isel(frame=slice(1, None)), lens="none").checksum()
    assert src.provenance()["label_checksum"] == ds.attrs["label_checksum"]


def test_the_lens_is_found_from_the_frames_bright_disc(label_dir: Path, cube: xr.Dataset) -> None:
    src = open_source(label_dir)  # a path read_labels reads
    assert isinstance(src, LabelSource)
    assert src.lens_origin == "frames"
    truth = np.isfinite(cube.elevation.values)
    assert (src.lens_mask & truth).sum() / (src.lens_mask | truth).sum() > 0.9
    assert LabelSource(aurora_xr.read_labels(label_dir), lens="none").lens_mask is None
    with pytest.raises(NoFilesFoundError, match="found no file or folder"):
        open_source(label_dir / "missing")


def test_the_lens_of_real_frames_is_found(tmp_path: Path) -> None:
    """Poker Flat DASC, 557.7 and 630.0 nm, 16-bit grey, against the camera's own elevations."""
    from astropy.io import fits

    from aurora_xr.io.formats import read_file

    folder = REAL / "dasc_pkr_fits_20151007"
    for sub in ("images", "masks"):
        (tmp_path / sub).mkdir()
    for path in sorted(folder.glob("PKR_DASC_0*_2015*.FITS")):
        frame = np.asarray(read_file(path).frames)[0]
        stamp = path.name.split("_")[3] + "_" + path.name.split("_")[4][:6]
        Image.fromarray(frame.astype(np.uint16)).save(tmp_path / "images" / f"{stamp}.png")
        Image.fromarray(np.zeros(frame.shape, np.uint8)).save(tmp_path / "masks" / f"{stamp}.png")
    src = LabelSource(aurora_xr.read_labels(tmp_path))
    frames, _ = src.read([0])
    assert frames.dtype == np.uint16
    assert frames.shape == (1, 512, 512, 1)
    sky = fits.getdata(folder / "PKR_DASC_0558_20150213_El.FIT") > 0  # elevation >= 10 deg
    assert src.lens_origin == "frames"
    assert (src.lens_mask & sky).sum() / sky.sum() > 0.99  # the whole calibrated sky
    assert src.lens_mask.sum() / sky.sum() < 1.25  # and the horizon ring below 10 deg
    np.testing.assert_array_equal(src.lens_mask, lens_mask_from_frames(src.read([0, 1, 2, 3])[0]))


# -- image-level labels -----------------------------------------------------------------------
def test_image_labels_join_by_file_name_and_time(tmp_path: Path, label_dir: Path) -> None:
    src = LabelSource(aurora_xr.read_labels(label_dir), lens="none")
    names = [Path(s).name for s in src.sources]
    lines = ["frame,aurora", f"{names[0]},yes", f"elsewhere/{names[1]},no"]
    lines.append(f"{names[2].replace('.png', '_cam.jpg')},1")  # the same time, another file
    (tmp_path / "labels.csv").write_text("\n".join(lines) + "\n")
    truth = join_image_labels(src, tmp_path / "labels.csv")
    assert truth.values[:4].tolist() == [1, 0, 1, -1]
    assert (truth.values[3:] == -1).all()
    assert truth.origin.endswith("3 of 24 frames labelled (2 by file name, 1 by time)")
    scores = image_level_scores(
        [True, True, False, False], [False, True, True, False], [1, 0, -1, -1]
    )
    assert scores is not None
    assert (scores["tp"], scores["fp"], scores["fn"], scores["tn"]) == (1, 1, 1, 1)
    assert scores["n_image_labels"] == 2
    assert scores["accuracy"] == 0.5


# -- the report's figure ----------------------------------------------------------------------
def test_the_worst_frames_figure(tmp_path: Path, cube: xr.Dataset) -> None:
    mask = np.zeros((6, 6), bool)
    mask[1:5, 1:4] = True
    edge = mask_outline(mask)
    assert edge.sum() == 10
    assert edge[1, 1]
    assert not edge[2, 2]
    frames = list(cube.image.values[:5])
    truth = list(cube.aurora_truth.values[:5])
    captions = [f"f{i}" for i in range(5)]
    path = tiles_figure(frames, truth, truth, captions, tmp_path / "w.png", tile=64, columns=4)
    with Image.open(path) as img:
        assert img.size == (4 * 64, 60 + 2 * (64 + 30))
        picture = np.asarray(img.convert("RGB"))
    assert ((picture == (255, 0, 255)).all(axis=2)).any()  # prediction outline drawn
