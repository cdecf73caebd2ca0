"""scripts/train_synthetic.py, the recipe of the quality bar, runs end to end (tiny sizes)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "train_synthetic.py"


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("train_synthetic", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["train_synthetic"] = module
    spec.loader.exec_module(module)
    return module


def test_tiny_run_scores_with_and_without_tta(
    script: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    common = ["--tiny", "--out-dir", str(out), "--no-progress", "--threads", "1"]
    assert script.main([*common, "--tta", "flip", "--arch", "lraspp_mobilenet_v3_large"]) == 0
    printed = capsys.readouterr().out
    quality = json.loads((out / "quality.json").read_text())
    assert quality["passed"] is False  # 16 frames, one epoch: far from the bar
    assert set(quality["with_tta"]) == {"flip"}
    plain = json.loads((out / "test_evaluation.json").read_text())
    flip = json.loads((out / "test_evaluation_flip.json").read_text())
    assert plain["info"]["tta"] == "none"
    assert flip["info"]["tta"] == "flip"
    assert plain["info"]["n_frames"] == flip["info"]["n_frames"] == 8
    assert quality["other_seed_pixel"]["iou"] == pytest.approx(plain["pixel"]["iou"])
    assert "with test-time augmentation flip: pixel IoU" in printed
    # --evaluate-only scores the same checkpoint again without training
    before = (out / "best.safetensors").stat().st_mtime_ns
    assert script.main([*common, "--evaluate-only", "--arch", "lraspp_mobilenet_v3_large"]) == 0
    assert (out / "best.safetensors").stat().st_mtime_ns == before
    again = json.loads((out / "quality.json").read_text())
    assert again["other_seed_pixel"] == quality["other_seed_pixel"]
    assert again["with_tta"] == {}
    with pytest.raises(SystemExit):
        script.main(["--tiny", "--out-dir", str(tmp_path / "empty"), "--evaluate-only"])
