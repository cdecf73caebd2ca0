"""Choosing between training runs: scripts/compare_checkpoints.py and the error breakdown."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import xarray as xr

from aurora_xr.pretrained import pretrained_path

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_held_out_nights_are_neither_test_nor_training_nights() -> None:
    compare = _load("compare_checkpoints", ROOT / "scripts" / "compare_checkpoints.py")
    train = _load("train_reference", ROOT / "scripts" / "train_reference.py")
    default_seeds = set(range(compare.DEFAULT_FIRST_SEED, compare.DEFAULT_FIRST_SEED + 4))
    random_seeds = set(range(compare.RANDOM_FIRST_SEED, compare.RANDOM_FIRST_SEED + 40))
    assert not default_seeds & set(range(train.TEST_FIRST_SEED, train.TEST_FIRST_SEED + 2))
    assert max(random_seeds) < train.RANDOM_TEST_FIRST_SEED
    # the shipped model's four training stages (docs/concepts/reference_model.md) used
    # default-sky seeds 0-67 and randomised seeds 0-1649
    assert min(default_seeds) >= 68
    assert min(random_seeds) >= 1650


def test_compare_scores_each_checkpoint_alike(capsys: pytest.CaptureFixture[str]) -> None:
    compare = _load("compare_checkpoints", ROOT / "scripts" / "compare_checkpoints.py")
    shipped = pretrained_path("reference")
    assert compare.main(["--frames", "8", "--real", str(shipped), str(shipped)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3
    scores = json.loads(lines[-1])
    assert list(scores) == [str(shipped)]  # the same file once
    row = scores[str(shipped)]
    for key in ("default_pixel_iou", "default_cell_f1", "random_pixel_iou"):
        assert 0.0 <= row[key] <= 1.0
    mean = (row["default_pixel_iou"] + row["random_pixel_iou"]) / 2
    assert row["mean_pixel_iou"] == pytest.approx(mean, abs=1e-4)
    # the real frames of ../shared: 6 without aurora, 8 with (docs/concepts/reference_model.md)
    assert 0.0 <= row["clear_max_flagged"] <= 1.0
    clear, n_clear = map(int, row["clear_under_1pc"].split("/"))
    found, n_aurora = map(int, row["aurora_found"].split("/"))
    assert (n_clear, n_aurora) == (6, 8)
    assert 0 <= clear <= 6
    assert 0 <= found <= 8
    assert (clear == 6) == (row["clear_max_flagged"] < 0.01)


def test_the_error_breakdown_splits_every_pixel_once() -> None:
    errors = _load(
        "reference_model_errors", ROOT / "docs" / "_scripts" / "reference_model_errors.py"
    )
    rng = np.random.default_rng(3)
    n, size = 6, 40
    yy, xx = np.mgrid[:size, :size]
    radius = np.hypot(yy - size / 2 + 0.5, xx - size / 2 + 0.5) / (size / 2)
    elevation = np.where(radius <= 1, 90 * (1 - radius), np.nan)
    truth = rng.random((n, size, size)) < np.linspace(0, 0.8, n)[:, None, None]
    times = np.datetime64("2020-01-01T20:00") + np.array([0, 10, 20, 2000, 2010, 2020]).astype(
        "timedelta64[m]"
    )
    cube = xr.Dataset(
        {"aurora_truth": (("time", "y", "x"), truth.astype(np.uint8))},
        coords={"time": times, "elevation": (("y", "x"), elevation)},
    )
    prob = rng.random((n, size, size)).astype(np.float32)
    result = errors.breakdown(cube, prob)
    total = result["all"]
    lens = np.isfinite(elevation)
    pred = (prob >= 0.5) & lens
    assert total["true"] == int((pred & truth & lens).sum())
    assert total["false"] == int((pred & ~truth & lens).sum())
    assert total["missed"] == int((~pred & truth & lens).sum())
    for split in ("elevation", "aurora_area", "nights"):
        for key in ("true", "false", "missed"):
            assert sum(row[key] for row in result[split].values()) == total[key], split
    assert sum(row["frames"] for row in result["aurora_area"].values()) == n
    assert list(result["nights"]) == ["2020-01-01", "2020-01-03"]  # 20:00 + 2000 min
