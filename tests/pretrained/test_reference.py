"""The shipped reference model: registry, checksum, offline loading, segment() without a model."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import aurora_xr
from aurora_xr.datasets import synthetic_cube
from aurora_xr.detect.segmentation import segment
from aurora_xr.errors import CheckpointError, OptionError, WeightsNotFoundError
from aurora_xr.pretrained import REGISTRY, file_sha256, pretrained, pretrained_path
from tests.conftest import raise_if_dask_computes

ENTRY = REGISTRY["reference"]
SHIPPED = Path(aurora_xr.__file__).resolve().parent / "pretrained" / ENTRY.filename


def test_the_shipped_file_is_registered_by_its_sha256() -> None:
    assert SHIPPED.is_file()
    assert SHIPPED.stat().st_size <= 20 * 1024 * 1024
    assert file_sha256(SHIPPED) == ENTRY.sha256
    assert pretrained_path("reference") == SHIPPED
    assert ENTRY.architecture == "lraspp_mobilenet_v3_large"


def test_a_tampered_copy_is_refused_and_named(tmp_path: Path) -> None:
    good = tmp_path / "good"
    good.mkdir()
    shutil.copy(SHIPPED, good / ENTRY.filename)
    assert pretrained_path("reference", directory=good) == good / ENTRY.filename
    bad = tmp_path / "bad"
    bad.mkdir()
    data = bytearray(SHIPPED.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit of one weight
    (bad / ENTRY.filename).write_bytes(bytes(data))
    with pytest.raises(CheckpointError) as info:
        pretrained("reference", directory=bad)
    assert str(bad / ENTRY.filename) in str(info.value)
    assert ENTRY.sha256 in str(info.value)
    with pytest.raises(WeightsNotFoundError) as missing:
        pretrained("reference", directory=tmp_path)
    assert str(tmp_path / ENTRY.filename) in str(missing.value)
    with pytest.raises(OptionError, match="reference"):
        pretrained("no_such_model")


def test_pretrained_loads_offline_and_pickles_small() -> None:
    model = aurora_xr.pretrained("reference", device="cpu")  # type: ignore[operator]
    assert model.name == "reference"
    assert model.checksum == ENTRY.sha256
    assert model.architecture == ENTRY.architecture
    assert model.metadata is not None
    assert model.metadata.extra["stored_dtype"] == "float16"
    assert model.preprocessing.levels == "robust"
    frames = np.random.default_rng(0).integers(0, 256, (2, 48, 48, 3), dtype=np.uint8)
    probs = model(frames)
    assert probs.shape == (2, 48, 48)
    assert probs.dtype == np.float32
    assert 0.0 <= probs.min() <= probs.max() <= 1.0
    blob = pickle.dumps(model)
    assert len(blob) < 4096
    again = pickle.loads(blob)
    assert again.name == "reference"
    np.testing.assert_array_equal(again(frames), probs)


def _cube(camera: str) -> xr.Dataset:
    if camera == "default":
        return synthetic_cube(n_frames=4, size=96, seed=3)
    return synthetic_cube(n_frames=4, size=96, seed=3, realism="randomised", camera=camera)


@pytest.mark.parametrize("camera", ["default", "colour", "557.7nm", "white"])
def test_segment_without_a_model_uses_the_reference_model(camera: str) -> None:
    ds = _cube(camera).chunk({"time": 2})
    with raise_if_dask_computes():
        out = segment(ds)
    probs = out.aurora_probability.values
    attrs = out.aurora_probability.attrs
    assert attrs["model_name"] == "reference"
    assert attrs["model_checksum"] == ENTRY.sha256
    assert attrs["model_architecture"] == ENTRY.architecture
    assert probs.shape == ds.image.shape[:3]
    assert 0.0 <= probs.min() <= probs.max() <= 1.0
    outside = ~np.isfinite(ds.elevation.values)
    assert outside.any()
    assert (probs[:, outside] == 0).all()  # the cube's own lens
    model = pretrained("reference", device="cpu", lens_mask=~outside)
    frames = ds.image.values
    if frames.shape[-1] == 3:
        frames = ds.image.sel(channel=["R", "G", "B"]).values
    np.testing.assert_allclose(probs, model(frames), atol=1e-6)
    np.testing.assert_array_equal(out.aurora_mask.values, probs >= 0.5)


def test_the_accessor_segments_without_a_model() -> None:
    ds = _cube("630.0nm")
    out = ds.aurora.segment()
    assert out.aurora_probability.attrs["model_name"] == "reference"
    np.testing.assert_array_equal(
        out.aurora_probability.values, segment(ds).aurora_probability.values
    )


def test_the_shipped_file_is_the_only_weights_file_in_the_repository() -> None:
    import subprocess

    root = Path(aurora_xr.__file__).resolve().parents[1]
    listed = subprocess.run(
        ["git", "ls-files", "*.safetensors", "*.pt", "*.pth", "*.ckpt", "*.onnx"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert listed == [f"aurora_xr/pretrained/{ENTRY.filename}"]
