"""Tests of training, augmentation, the split, metrics and evaluation (aurora_xr.model)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import xarray as xr

from aurora_xr.errors import (
    CheckpointError,
    FrameSizeError,
    NoFilesFoundError,
    OptionError,
    SchemaError,
)
from aurora_xr.model import (
    Augmentation,
    CubeSource,
    FolderSource,
    Predictor,
    build_model,
    evaluate,
    load_checkpoint,
    load_model,
    split_indices,
    train,
)
from aurora_xr.model.augment import augment_batch, warp_about_zenith
from aurora_xr.model.checkpoint import read_tensors, save_tensors
from aurora_xr.model.evaluation import evaluate_frames
from aurora_xr.model.metrics import cell_labels, confusion_counts, scores
from aurora_xr.model.optimisation import segmentation_loss, train_step
from aurora_xr.sky.lens import Calibration, sky_grids
from tests.conftest import raise_if_dask_computes

LRASPP = "lraspp_mobilenet_v3_large"
SIZE = 40


def tiny_cube(n: int = 20, size: int = SIZE, seed: int = 0) -> xr.Dataset:
    """A small labelled cube: dark noisy sky, bright green bands as aurora."""
    rng = np.random.default_rng(seed)
    half = (size - 1) / 2
    cal = Calibration(
        width=size, height=size, zenith_x=half, zenith_y=half, lens_radius=size / 2 - 2
    )
    el, az = sky_grids(cal)
    lens = np.isfinite(el)
    yy, xx = np.mgrid[0:size, 0:size]
    image = rng.integers(0, 30, (n, size, size, 3)).astype(np.uint8)
    truth = np.zeros((n, size, size), bool)
    for i in range(n):
        if i % 4 == 0:
            continue
        angle = rng.uniform(0, np.pi)
        dist = (xx - half) * np.cos(angle) + (yy - half) * np.sin(angle)
        truth[i] = (np.abs(dist - rng.uniform(-8, 8)) < rng.uniform(2, 5)) & lens
        image[i, truth[i], 1] = 200
    image[:, ~lens] = 0
    return xr.Dataset(
        {
            "image": (("time", "y", "x", "channel"), image),
            "aurora_truth": (("time", "y", "x"), truth),
        },
        coords={
            "time": pd.date_range("2020-06-01", periods=n, freq="min"),
            "channel": ["R", "G", "B"],
            "elevation": (("y", "x"), el),
            "azimuth": (("y", "x"), az),
        },
        attrs=cal.to_attrs(),
    )


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():  # type: ignore[no-untyped-def]
    """One intra-op thread: tiny networks gain nothing from more, and shared CPUs lose a lot."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def cube() -> xr.Dataset:
    return tiny_cube()


def _train_tiny(cube: xr.Dataset, out: Path, **options):  # type: ignore[no-untyped-def]
    kwargs = {
        "arch": LRASPP,
        "out_dir": out,
        "epochs": 2,
        "batch_size": 4,
        "image_size": 32,
        "split": (0.6, 0.2, 0.2),
        "lr": 3e-3,
        "progress": False,
        "patience": None,
        "seed": 7,
    }
    kwargs.update(options)
    return train(cube, **kwargs)


# -- the split ----------------------------------------------------------------------------
def test_split_has_paper_proportions_and_is_reproducible() -> None:
    train_idx, val_idx, test_idx = split_indices(1502, seed=3)
    assert (len(train_idx), len(val_idx), len(test_idx)) == (1201, 150, 151)
    together = np.concatenate([train_idx, val_idx, test_idx])
    np.testing.assert_array_equal(np.sort(together), np.arange(1502))
    again = split_indices(1502, seed=3)
    for a, b in zip((train_idx, val_idx, test_idx), again, strict=True):
        np.testing.assert_array_equal(a, b)
    other = split_indices(1502, seed=4)
    assert not np.array_equal(other[2], test_idx)
    sizes = [len(p) for p in split_indices(3004, seed=0)]
    assert sizes == [2402, 300, 302]
    assert [len(p) for p in split_indices(20, fractions=(0.6, 0.2, 0.2))] == [12, 4, 4]
    assert [len(p) for p in split_indices(5)] == [3, 1, 1]
    with pytest.raises(OptionError, match="3 numbers"):
        split_indices(10, fractions=(1, 2))
    with pytest.raises(OptionError, match="positive training share"):
        split_indices(10, fractions=(0, 1, 1))


# -- augmentation -------------------------------------------------------------------------
def test_rotation_turns_about_the_zenith() -> None:
    a = np.zeros((9, 9), np.float32)
    a[1, 6] = 1.0
    a[4, 8] = 0.5
    t = torch.from_numpy(a)[None, None]
    quarter = warp_about_zenith(t, zenith=(4, 4), angles_deg=torch.tensor([90.0]))
    np.testing.assert_allclose(quarter[0, 0].numpy(), np.rot90(a), atol=1e-6)
    mirrored = warp_about_zenith(
        t, zenith=(4, 4), angles_deg=torch.tensor([0.0]), flips=torch.tensor([True])
    )
    np.testing.assert_allclose(mirrored[0, 0].numpy(), a[:, ::-1], atol=1e-6)
    # an off-centre zenith stays where it is; a point 3 px right of it goes 3 px up
    b = np.zeros((9, 12), np.float32)
    b[3, 5] = 1.0
    b[3, 8] = 1.0
    turned = warp_about_zenith(
        torch.from_numpy(b)[None, None], zenith=(5, 3), angles_deg=torch.tensor([90.0])
    )[0, 0].numpy()
    assert sorted(map(tuple, np.argwhere(turned > 0.99))) == [(0, 5), (3, 5)]


def test_augmentation_keeps_image_and_mask_aligned(cube: xr.Dataset) -> None:
    truth = torch.from_numpy(cube.aurora_truth.values[1:5].astype(np.float32))[:, None]
    lens = torch.from_numpy(np.isfinite(cube.elevation.values).astype(np.float32))
    weights = lens.expand_as(truth).clone()
    images = torch.cat([truth * 0.8, torch.zeros_like(truth), weights * 0.1], dim=1)
    gen = torch.Generator().manual_seed(0)
    zenith = ((SIZE - 1) / 2, (SIZE - 1) / 2)
    out_img, out_mask, out_w = augment_batch(
        images,
        truth,
        weights,
        zenith=zenith,
        generator=gen,
        options=Augmentation(brightness=0.0, contrast=0.0),
    )
    assert not torch.equal(out_mask, truth)  # it did move
    np.testing.assert_array_equal((out_img[:, 0] >= 0.4).numpy(), (out_mask[:, 0] >= 0.5).numpy())
    outside = (out_w == 0).expand_as(out_img)
    assert torch.all(out_img[outside] == 0)
    assert torch.all(out_mask[out_w == 0] == 0)
    # the lens circle is kept (a turn about the zenith maps it onto itself)
    assert torch.all(out_w <= lens)
    assert (lens - out_w[0, 0]).sum() <= 0.03 * lens.sum()
    # with brightness/contrast the masks are the same, the images are not
    jittered = augment_batch(
        images, truth, weights, zenith=zenith, generator=torch.Generator().manual_seed(0)
    )
    assert torch.equal(jittered[1], out_mask)
    assert not torch.equal(jittered[0], out_img)
    assert float(jittered[0].min()) >= 0
    assert float(jittered[0].max()) <= 1


# -- loss and steps -----------------------------------------------------------------------
def test_segmentation_loss_ignores_outside_lens() -> None:
    target = torch.zeros(1, 1, 4, 4)
    target[..., :2, :] = 1
    perfect = (target * 2 - 1) * 20
    weight = torch.ones_like(target)
    assert float(segmentation_loss(perfect, target, weight)) < 1e-6
    wrong_outside = perfect.clone()
    wrong_outside[..., 3, 3] = 20.0
    weight[..., 3, 3] = 0
    assert float(segmentation_loss(wrong_outside, target, weight)) < 1e-6
    assert float(segmentation_loss(wrong_outside, target)) > 0.1


def test_few_training_steps_lower_the_loss(cube: xr.Dataset) -> None:
    torch.manual_seed(0)
    model = build_model(LRASPP)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    frames = torch.from_numpy(cube.image.values[1:5].astype(np.float32) / 255)
    frames = frames.permute(0, 3, 1, 2).contiguous()
    target = torch.from_numpy(cube.aurora_truth.values[1:5].astype(np.float32))[:, None]
    losses = [train_step(model, optimizer, frames, target) for _ in range(12)]
    assert np.mean(losses[-3:]) < 0.8 * np.mean(losses[:3])


# -- metrics ------------------------------------------------------------------------------
def test_pixel_and_cell_scores_exact() -> None:
    assert scores(0, 0, 0, 5)["iou"] == 1.0
    assert scores(0, 0, 3, 5)["precision"] == 0.0
    assert scores(0, 2, 0, 5)["recall"] == 0.0
    pred = np.array([[1, 1, 0, 0], [0, 0, 0, 0]], bool)
    truth = np.array([[1, 0, 1, 0], [0, 0, 0, 1]], bool)
    valid = np.array([[1, 1, 1, 1], [1, 1, 1, 0]], bool)
    assert confusion_counts(pred, truth, valid) == (1, 1, 1, 4)
    cells = np.array([[0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, -1, -1, -1, 3, 3]])
    masks = np.zeros((1, 2, 10), bool)
    masks[0, 0, 0] = True  # 1 of 10 pixels: exactly 0.1
    masks[0, 1, 5:] = True  # outside the grid, and 2 of 2 pixels of cell 3
    auroral, has_pixels = cell_labels(masks, cells, min_fraction=0.1)
    assert auroral.tolist() == [[True, False, False, True]]
    assert has_pixels.tolist() == [True, True, False, True]
    auroral, _ = cell_labels(masks, cells, min_fraction=0.11)
    assert auroral.tolist() == [[False, False, False, True]]
    with pytest.raises(FrameSizeError, match="cell_index"):
        cell_labels(masks, cells[:, :4])


def test_evaluate_frames_with_an_oracle(cube: xr.Dataset) -> None:
    source = CubeSource(cube)
    lens = source.lens_mask

    def oracle(frames, lens_mask=None):  # type: ignore[no-untyped-def]
        idx = [int(np.flatnonzero((cube.image.values == f).all(axis=(1, 2, 3)))[0]) for f in frames]
        return cube.aurora_truth.values[idx].astype(np.float32)

    cell_index = np.where(lens, (np.arange(SIZE * SIZE).reshape(SIZE, SIZE) // 100), -1)
    result = evaluate_frames(oracle, source, range(8), threshold=0.5, cell_index=cell_index)
    assert result.pixel["iou"] == 1.0
    assert result.pixel["fp"] == 0
    assert result.cells is not None
    assert result.cells["f1"] == 1.0
    assert len(result.frames) == 8
    assert result.frames[0]["id"].startswith("2020-06-01T00:00")
    assert result.to_dataframe().shape[0] == 8

    def empty(frames, lens_mask=None):  # type: ignore[no-untyped-def]
        return np.zeros(frames.shape[:3], np.float32)

    nothing = evaluate_frames(empty, source, range(8), threshold=0.5)
    assert nothing.pixel["tp"] == 0
    assert nothing.pixel["fn"] == int(cube.aurora_truth.values[:8].sum())
    assert nothing.pixel["recall"] == 0.0


# -- sources ------------------------------------------------------------------------------
def test_folder_source(tmp_path: Path, cube: xr.Dataset) -> None:
    from PIL import Image

    for i in range(4):
        Image.fromarray(cube.image.values[i]).save(tmp_path / f"f{i:02d}_rgb.png")
        Image.fromarray(cube.aurora_truth.values[i].astype(np.uint8) * 255).save(
            tmp_path / f"f{i:02d}_mask.png"
        )
    lens = np.isfinite(cube.elevation.values)
    Image.fromarray(lens.astype(np.uint8) * 255).save(tmp_path / "lens_mask.png")
    source = FolderSource(tmp_path)
    assert len(source) == 4
    assert source.ids == ["f00", "f01", "f02", "f03"]
    frames, masks = source.read([2, 0])
    np.testing.assert_array_equal(frames, cube.image.values[[2, 0]])
    np.testing.assert_array_equal(masks, cube.aurora_truth.values[[2, 0]])
    np.testing.assert_array_equal(source.lens_mask, lens)
    assert source.checksum() == FolderSource(tmp_path).checksum()
    # a calibration in the archive's sidecar wins over lens_mask.png
    cal = Calibration(width=SIZE, height=SIZE, zenith_x=20, zenith_y=19, lens_radius=12)
    (tmp_path / "synthetic_archive.json").write_text(json.dumps({"calibration": cal.to_attrs()}))
    assert FolderSource(tmp_path).lens_mask.sum() == np.isfinite(sky_grids(cal)[0]).sum()
    (tmp_path / "f00_mask.png").unlink()
    with pytest.raises(SchemaError, match=r"_mask\.png"):
        FolderSource(tmp_path)


def test_cube_source_reads_a_dask_cube_per_batch(cube: xr.Dataset) -> None:
    lazy = cube.chunk({"time": 5})
    with raise_if_dask_computes(max_computes=1):  # the lens circle only
        source = CubeSource(lazy)
    with raise_if_dask_computes(max_computes=2):  # frames and masks of one batch
        frames, masks = source.read([3, 7])
    np.testing.assert_array_equal(frames, cube.image.values[[3, 7]])
    np.testing.assert_array_equal(masks, cube.aurora_truth.values[[3, 7]])
    assert source.checksum() == CubeSource(cube).checksum()


def test_cube_source_errors(cube: xr.Dataset) -> None:
    with pytest.raises(SchemaError, match="aurora_truth"):
        CubeSource(cube.drop_vars("aurora_truth"))
    assert CubeSource(cube).checksum() == CubeSource(cube.copy()).checksum()


# -- train / resume / evaluate --------------------------------------------------------------
def test_train_end_to_end_and_evaluate(tmp_path: Path, cube: xr.Dataset) -> None:
    result = _train_tiny(cube, tmp_path / "run")
    assert result.stopped == "completed"
    assert result.split_sizes == (12, 4, 4)
    assert result.steps == 6  # 12 frames, batches of 4, 2 epochs
    assert [row["epoch"] for row in result.history] == [1, 2]
    assert {"train_loss", "val_iou", "val_f1", "lr"} <= set(result.history[0])
    assert result.best_checkpoint.is_file()
    assert result.last_checkpoint.is_file()
    meta = load_checkpoint(result.best_checkpoint).metadata
    assert meta.architecture == LRASPP
    assert meta.input_size == (32, 32)
    assert meta.training_data_checksum == result.data_checksum
    assert meta.split == {"fractions": [0.6, 0.2, 0.2], "seed": 7, "sizes": [12, 4, 4]}
    assert set(meta.metrics) == {"val", "test", "image_level"}
    assert meta.preprocessing.lens_circle is not None
    saved = json.loads((tmp_path / "run" / "history.json").read_text())
    assert saved["stopped"] == "completed"
    # a cube is split by frame, as before; the report scores every part
    assert result.split == "by frame (seeded): 12/4/4 frames"
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert [report["parts"][p]["n_frames"] for p in ("train", "val", "test")] == [12, 4, 4]
    assert report["parts"]["test"]["pixel"] == meta.metrics["test"]
    assert report["info"]["split_by"] == "frame"
    assert (tmp_path / "run" / "worst_frames.png").is_file()

    cells = np.where(
        np.isfinite(cube.elevation.values), np.arange(SIZE * SIZE).reshape(SIZE, SIZE) // 80, -1
    )
    out_json = tmp_path / "eval.json"
    ev = evaluate(result.best_checkpoint, cube, cell_index=cells, out_json=out_json, device="cpu")
    assert ev.info["n_frames"] == 4
    assert ev.info["split"] == "test"
    assert ev.pixel["tp"] + ev.pixel["fn"] == int(
        cube.aurora_truth.values[split_indices(20, fractions=(0.6, 0.2, 0.2), seed=7)[2]].sum()
    )
    written = json.loads(out_json.read_text())
    assert set(written) == {"info", "pixel", "cells", "images", "forms", "frames"}
    assert len(written["frames"]) == 4
    assert "cell_f1" in written["frames"][0]
    assert ev.pixel["iou"] == pytest.approx(meta.metrics["test"]["iou"])
    everything = evaluate(load_model(result.best_checkpoint, device="cpu"), cube, split="all")
    assert everything.info["n_frames"] == 20
    with pytest.raises(OptionError, match="split"):
        evaluate(result.best_checkpoint, cube, split="holdout")


def test_resume_gives_the_same_run(tmp_path: Path, cube: xr.Dataset) -> None:
    straight = _train_tiny(cube, tmp_path / "a")
    first = _train_tiny(cube, tmp_path / "b", max_steps=2)
    assert first.stopped == "max_steps"
    assert first.steps == 2
    assert first.history[0]["partial"] is True
    resumed = _train_tiny(cube, tmp_path / "b")
    assert resumed.stopped == "completed"
    assert resumed.steps == straight.steps
    a = load_checkpoint(straight.last_checkpoint).state_dict
    b = load_checkpoint(resumed.last_checkpoint).state_dict
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-5, atol=1e-6)
    again = _train_tiny(cube, tmp_path / "b")  # finished: nothing more to do
    assert again.steps == straight.steps
    with pytest.raises(OptionError, match="lr"):
        _train_tiny(cube, tmp_path / "b", lr=1e-2)
    # another network: the options are checked before any tensor is loaded into it
    with pytest.raises(OptionError, match=r"other options \(arch"):
        _train_tiny(cube, tmp_path / "b", arch="deeplabv3_mobilenet_v3_large")
    # a damaged state of the same run: a clear error naming the file, not torch's RuntimeError
    state_path = tmp_path / "b" / "train_state.safetensors"
    tensors, meta, _ = read_tensors(state_path)
    key = next(k for k in tensors if k.startswith("model.") and k.endswith(".weight"))
    tensors[key] = torch.zeros(1)
    save_tensors(tensors, state_path, meta)
    with pytest.raises(CheckpointError, match=r"train_state\.safetensors does not fit the network"):
        _train_tiny(cube, tmp_path / "b")
    fresh = _train_tiny(cube, tmp_path / "b", lr=1e-2, resume=False, epochs=1)
    assert fresh.steps == 3


def test_batchnorm_momentum_is_set_for_training(tmp_path: Path, cube: xr.Dataset) -> None:
    key = "backbone.0.1.running_mean"  # first BatchNorm of MobileNetV3 (momentum 0.01)
    means = {}
    for momentum in (0.1, None):
        run = _train_tiny(
            cube, tmp_path / str(momentum), epochs=1, max_steps=1, bn_momentum=momentum
        )
        means[momentum] = load_checkpoint(run.last_checkpoint).state_dict[key]
    # one step from zero: running_mean = momentum x batch mean
    torch.testing.assert_close(means[0.1], means[None] * 10, rtol=1e-4, atol=1e-7)


def test_train_options_are_checked(tmp_path: Path, cube: xr.Dataset) -> None:
    with pytest.raises(OptionError, match="epochs"):
        train(cube, arch=LRASPP, out_dir=tmp_path, epochs=0)
    with pytest.raises(OptionError, match="schedule"):
        train(cube, arch=LRASPP, out_dir=tmp_path, schedule="step")
    with pytest.raises(OptionError, match="architecture"):
        train(cube, arch="unet", out_dir=tmp_path)
    with pytest.raises(NoFilesFoundError, match="found no file or folder"):
        train(tmp_path / "missing", arch=LRASPP, out_dir=tmp_path)


def test_predictor_on_trained_checkpoint_is_zero_outside_lens(
    tmp_path: Path, cube: xr.Dataset
) -> None:
    result = _train_tiny(cube, tmp_path / "run", epochs=1, max_steps=1)
    pred = Predictor(result.best_checkpoint, device="cpu")
    probs = pred(cube.image.values[:3])
    lens = np.isfinite(cube.elevation.values)
    assert probs.shape == (3, SIZE, SIZE)
    # the lens circle recorded at training time masks the frame edge
    assert np.all(probs[:, ~lens][:, :] == 0) or np.mean(probs[:, ~lens] == 0) > 0.97


def test_precision_auto_is_bf16_where_the_cpu_computes_it(tmp_path: Path, cube: xr.Dataset) -> None:
    from aurora_xr.model.devices import native_bf16

    flags: set[str] = set()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("flags"):
                flags.update(line.split(":", 1)[1].split())
        assert native_bf16(torch.device("cpu")) == bool({"avx512_bf16", "amx_tile"} & flags)
    run = _train_tiny(cube, tmp_path / "auto", precision="auto", max_steps=2, epochs=1)
    assert run.steps == 2
    assert np.isfinite(run.history[0]["train_loss"])
    with pytest.raises(OptionError, match="'fp32', 'bf16' or 'auto'"):
        _train_tiny(cube, tmp_path / "fp16", precision="fp16")
