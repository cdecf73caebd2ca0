"""The recipe of the reference model, as a smoke run: scripts/train_reference.py --quick."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import numpy as np
import torch

from aurora_xr.model import Predictor
from aurora_xr.model.checkpoint import file_checksum, read_metadata, read_tensors

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "train_reference.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("train_reference", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_run_trains_scores_and_exports_in_float16(tmp_path: Path) -> None:
    script = _script()
    target = tmp_path / "reference.safetensors"
    code = script.main(
        ["--quick", "--out-dir", str(tmp_path / "run"), "--no-progress", "--export-to", str(target)]
    )
    assert code == 0
    record = json.loads((tmp_path / "run" / "quality.json").read_text())
    assert record["training"]["frames"] == 32
    assert record["training"]["steps"] >= 1
    for scores in (record["scores"], record["export"]["scores"]):
        default, randomised = scores["default_sky"], scores["randomised"]
        assert default["n_frames"] == 8
        assert randomised["n_frames"] == 8
        for key in ("iou", "f1", "precision", "recall"):
            assert 0.0 <= default["pixel"][key] <= 1.0
            assert 0.0 <= default["cells"][key] <= 1.0
        assert set(default["forms"]) == {"dynamic", "stationary"}
        assert (
            default["images"]["tp"]
            + default["images"]["fn"]
            + default["images"]["fp"]
            + (default["images"]["tn"])
            == 8
        )
    assert record["export"]["sha256"] == file_checksum(target)
    tensors, _, _ = read_tensors(target)
    floats = [t for t in tensors.values() if t.is_floating_point()]
    assert floats
    assert all(t.dtype == torch.float16 for t in floats)
    meta = read_metadata(target)
    assert meta.architecture == "lraspp_mobilenet_v3_large"
    assert meta.extra["stored_dtype"] == "float16"
    assert meta.preprocessing.levels == "robust"
    assert meta.extra["train_options"]["augment"]["grey"] == 0.3  # the "real_sky" recipe
    # the float16 file predicts what the float32 checkpoint predicts, to float16 rounding
    frames = np.random.default_rng(1).integers(0, 256, (2, 64, 64, 3), dtype=np.uint8)
    best = Predictor(tmp_path / "run" / "best.safetensors", device="cpu")(frames)
    half = Predictor(target, device="cpu")(frames)
    np.testing.assert_allclose(half, best, atol=0.02)
