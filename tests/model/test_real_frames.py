"""Real camera files through the one preprocessing: a THEMIS PGM and a colour JPEG, as read.

Issue 22: a 16-bit single-channel THEMIS frame and an 8-bit colour JPEG are both segmented
without a conversion by hand. The files are in ``../shared`` (CI has it).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from aurora_xr.cube.build import cube_from_frames
from aurora_xr.detect.segmentation import segment
from aurora_xr.io.formats.registry import read_file
from aurora_xr.model import Predictor, Preprocessing, build_model, save_checkpoint
from aurora_xr.model.preprocess import prepare_frames

SHARED = Path(__file__).resolve().parents[3] / "shared"
THEMIS = SHARED / "real_sequences" / "themis_gill_pgm_20140310"
THEMIS = THEMIS / "20140310_0600_gill_themis19_full.pgm.gz"
KHO = SHARED / "reference_frames" / "kho_lyr_20211121_1707_aurora_moon.jpg"


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    net = build_model("lraspp_mobilenet_v3_large")
    meta = {"preprocessing": Preprocessing(input_size=(128, 128)).to_dict()}
    return save_checkpoint(net, tmp_path_factory.mktemp("real") / "net.safetensors", meta)


def _as_cube_frames(frames: np.ndarray) -> np.ndarray:
    """``(n, H, W)`` single-channel frames get the channel axis a cube gives them."""
    return frames[..., None] if frames.ndim == 3 else frames


def test_a_themis_frame_is_stretched_by_its_own_levels() -> None:
    themis = read_file(THEMIS)
    frames = _as_cube_frames(themis.frames[:2])
    assert frames.dtype == np.uint16
    assert frames.shape[-1] == 1
    robust, _ = prepare_frames(frames, Preprocessing())
    legacy, _ = prepare_frames(frames, Preprocessing(levels="dtype"))
    # by the dtype's maximum the sky sits in a few percent of the range; the robust levels
    # spread it over [0, 1] (a little of the sky is clipped at each end)
    assert float(np.percentile(legacy, 99)) < 0.25
    assert float(np.percentile(robust, 1)) == 0.0
    assert float(np.percentile(robust, 99.9)) == 1.0
    assert 0.05 < float(np.median(robust)) < 0.95


@pytest.mark.parametrize("path", [THEMIS, KHO], ids=["themis_pgm_16bit_grey", "kho_jpeg_colour"])
def test_real_files_are_segmented_as_read(checkpoint: Path, path: Path) -> None:
    read = read_file(path)
    frames = _as_cube_frames(read.frames[:2])
    n, height, width, channels = frames.shape
    cube = cube_from_frames(
        frames,
        np.datetime64("2020-01-01T00:00") + np.arange(n).astype("timedelta64[m]"),
        channels=read.channels,
    )
    out = segment(cube, checkpoint, device="cpu", batch_size=2)
    probs = out.aurora_probability.values
    assert probs.shape == (n, height, width)
    assert probs.dtype == np.float32
    assert np.isfinite(probs).all()
    assert 0.0 <= probs.min() <= probs.max() <= 1.0
    direct = Predictor(checkpoint, device="cpu", batch_size=2)(frames)
    np.testing.assert_allclose(probs, direct, rtol=0, atol=1e-6)
    assert channels == (1 if path == THEMIS else 3)
