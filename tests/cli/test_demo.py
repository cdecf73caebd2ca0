"""The main job (``aurora-xr demo``) runs end to end on a tiny synthetic archive."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from aurora_xr import open_product
from aurora_xr.cli import main
from aurora_xr.cli.demo import DemoConfig, run_demo

TINY = DemoConfig(
    start="2020-06-19T06:00",
    days=0.1,
    size=112,
    train_frames=32,
    epochs=1,
    batch_size=8,
    figures=True,
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    lines: list[str] = []
    out = tmp_path_factory.mktemp("demo")
    return run_demo(out, config=TINY, progress=False, say=lines.append), lines


def test_demo_writes_products_figures_and_summary(demo) -> None:  # type: ignore[no-untyped-def]
    result, lines = demo
    for path in [*result.products.values(), *result.figures.values()]:
        assert Path(path).stat().st_size > 0
    cmp = open_product(result.products["comparison"])
    assert list(cmp["detector"].values) == ["fcn", "difference"]
    assert cmp.sizes["cell"] == 400
    assert cmp.sizes["mlt"] == 24
    frames = round(0.1 * 24 * 30)
    assert result.summary["frames"] == frames
    for detector in ("fcn", "difference"):
        occ = open_product(result.products[f"occurrence_{detector}"])
        assert occ.attrs["detector"] == detector
        rate = occ["occurrence_rate"].values
        finite = rate[np.isfinite(rate)]
        assert finite.size > 0
        assert ((finite >= 0) & (finite <= 1)).all()
    saved = json.loads((result.out_dir / "summary.json").read_text())
    assert saved["summary"]["frames"] == frames
    assert any("ratio FCN / difference" in line for line in lines)
    assert 0.0 <= result.summary["recall_difference_stationary"] <= 1.0
    # the shipped reference model on the same frames, beside the demo's own model
    for key in ("reference_rate", "reference_recall_stationary", "reference_recall_dynamic"):
        assert 0.0 <= result.summary[key] <= 1.0
    precision = result.summary["reference_precision_all"]  # undefined when nothing is flagged
    assert 0.0 <= precision <= 1.0 if result.summary["reference_rate"] > 0 else np.isnan(precision)
    assert "reference_rate_fcn" not in result.summary
    assert "reference model (dask)" in result.timings
    assert any(line.startswith("  shipped reference model") for line in lines)


def test_demo_reuses_archive_cubes_and_model(demo) -> None:  # type: ignore[no-untyped-def]
    result, _ = demo
    model = result.out_dir / "model" / "best.safetensors"
    stamp = model.stat().st_mtime_ns
    again = run_demo(result.out_dir, config=TINY, progress=False, say=lambda _: None)
    assert model.stat().st_mtime_ns == stamp
    assert "write synthetic archive" not in again.timings
    assert again.summary["frames"] == result.summary["frames"]


def test_demo_with_a_given_checkpoint_trains_nothing(  # type: ignore[no-untyped-def]
    demo, tmp_path: Path
) -> None:
    from dataclasses import replace

    from aurora_xr.model.checkpoint import file_checksum

    result, _ = demo
    model = result.out_dir / "model" / "best.safetensors"
    lines: list[str] = []
    config = replace(TINY, checkpoint=str(model), predict_precision="auto", figures=False)
    again = run_demo(tmp_path / "given", config=config, progress=False, say=lines.append)
    assert not any(name.startswith("train") for name in again.timings)
    assert not (tmp_path / "given" / "model").exists()
    assert any(f"from {model}" in line for line in lines)
    cmp = open_product(again.products["comparison"])
    assert cmp.attrs["model_checksum"] == file_checksum(model)
    assert again.summary["frames"] == result.summary["frames"]


def test_demo_refuses_to_mix_runs_of_other_settings(demo) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from aurora_xr.errors import OptionError

    result, _ = demo
    archive = result.out_dir / "archive"
    stamp = archive.stat().st_mtime_ns
    with pytest.raises(OptionError, match=r"size=112 \(asked 128\).*another output folder"):
        run_demo(result.out_dir, config=replace(TINY, size=128), progress=False, say=print)
    with pytest.raises(OptionError, match=r"epochs=1 \(asked 2\)"):
        run_demo(result.out_dir, config=replace(TINY, epochs=2), progress=False, say=print)
    assert archive.stat().st_mtime_ns == stamp
    saved = json.loads((result.out_dir / "demo_config.json").read_text())
    assert saved["size"] == 112
    assert saved["arch"] == TINY.arch


def test_demo_command_rejects_a_missing_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere.safetensors"
    assert main(["demo", "--out", str(tmp_path / "out"), "--checkpoint", str(missing)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "nowhere.safetensors" in err[0]
    assert not (tmp_path / "out" / "archive").exists()


def test_demo_command_rejects_bad_sizes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--days", "0"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "--days must be > 0" in err[0]
