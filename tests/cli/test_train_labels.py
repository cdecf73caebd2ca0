"""``aurora-xr train`` and ``evaluate`` on label sets (--labels, --init, --image-labels, ...)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from aurora_xr import cli
from aurora_xr.cli.options import label_map_spec
from tests.model.test_finetune_data import frame_name
from tests.model.test_training import LRASPP, tiny_cube

TINY = ["--arch", LRASPP, "--epochs", "1", "--batch-size", "4", "--image-size", "32"]
TINY += ["--threads", "1", "--no-progress"]
LABEL_MAP = ["--label-map", "arc=1,cloud=0,*=ignore"]
SPLIT = ["--split", "4,1,1", "--station", "JBS", "--seed", "2"]


@pytest.fixture(scope="module")
def labelme(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """24 frames of 6 nights, as LabelMe: an arc (the band's box), a cloud, a tree (ignored)."""
    root = tmp_path_factory.mktemp("labelme")
    cube = tiny_cube(24, seed=5)
    size = cube.sizes["x"]
    for i in range(24):
        name = frame_name(i, 6)
        Image.fromarray(cube.image.values[i]).save(root / f"{name}.png")
        shapes = [
            {"label": "cloud", "points": [[2, 2], [8, 8]], "shape_type": "rectangle"},
            {"label": "tree", "points": [[30, 30], [34, 36]], "shape_type": "rectangle"},
        ]
        ys, xs = np.nonzero(cube.aurora_truth.values[i])
        if xs.size:
            box = [[int(xs.min()), int(ys.min())], [int(xs.max()) + 1, int(ys.max()) + 1]]
            shapes.insert(0, {"label": "arc", "points": box, "shape_type": "rectangle"})
        doc = {
            "version": "5.5.0",
            "shapes": [{**s, "group_id": None, "flags": {}} for s in shapes],
            "imagePath": f"{name}.png",
            "imageData": None,
            "imageHeight": size,
            "imageWidth": size,
        }
        (root / f"{name}.json").write_text(json.dumps(doc))
    return root


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():  # type: ignore[no-untyped-def]
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_label_map_option() -> None:
    assert label_map_spec("aurora=1,arc=yes,cloud=0,*=ignore") == {
        "aurora": True,
        "arc": True,
        "cloud": False,
        "*": None,
    }
    with pytest.raises(argparse.ArgumentTypeError, match="NAME=VALUE"):
        label_map_spec("aurora")
    with pytest.raises(argparse.ArgumentTypeError, match="for label 'arc'; found 'maybe'"):
        label_map_spec("arc=maybe")


def test_train_fine_tune_and_evaluate_a_label_set(
    tmp_path: Path, labelme: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = tmp_path / "base"
    code, out, err = _run(
        ["train", "--labels", str(labelme), *LABEL_MAP, "--out", str(base), *TINY, *SPLIT],
        capsys,
    )
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("labels: 24 labelled frames read from 24 labelme label file(s)")
    assert "shapes: arc 18, cloud 24; 24 shape(s) or entries ignored" in lines[0]
    assert "  split by night (local noon to noon, longitude 164.22): 16/4/4 frames in " in out
    assert f"  report: {base / 'report.json'} (worst frames: {base / 'worst_frames.png'})" in out
    for part, n in (("train", 16), ("val", 4), ("test", 4)):
        assert f"    {part}: {n} frames, pixel IoU " in out
    report = json.loads((base / "report.json").read_text())
    assert report["info"]["labels"]["label_format"] == "labelme"
    assert json.loads(report["info"]["labels"]["label_map"]) == {
        "arc": True,
        "cloud": False,
        "*": None,
    }
    # fine-tune from it: the architecture, input size and levels come from the checkpoint
    tuned = tmp_path / "tuned"
    code, out, err = _run(
        [
            *("train", "--labels", str(labelme), *LABEL_MAP, "--out", str(tuned)),
            *("--init", str(base / "best.safetensors"), "--epochs", "1", "--max-steps", "1"),
            *("--augment", "real_sky", "--levels", "dtype", "--no-progress", "--threads", "1"),
        ],
        capsys,
    )
    assert code == 0, err
    assert f"  {LRASPP}: 1 steps, 1 epoch(s) run, stopped: max_steps;" in out
    meta = json.loads((tuned / "history.json").read_text())
    assert meta["split"].startswith("by night (UT noon to noon)")
    # evaluate the test nights, with image-level labels for some frames
    csv_path = tmp_path / "image_labels.csv"
    names = sorted(p.with_suffix(".png").name for p in labelme.glob("*.json"))
    csv_path.write_text("frame,aurora\n" + "".join(f"{n},1\n" for n in names))
    code, out, err = _run(
        [
            *("evaluate", str(base / "best.safetensors"), "--labels", str(labelme), *LABEL_MAP),
            *("--split", "test", "--image-labels", str(csv_path), "--no-progress"),
            *("--out", str(tmp_path / "ev.json"), "--precision", "fp32"),
        ],
        capsys,
    )
    assert code == 0, err
    assert f"evaluate: {LRASPP} on 4 frame(s) (split: test), threshold 0.50" in out
    assert "  cells: skipped (a label set needs --calibration and --station)" in out
    assert "4 of 4 frames labelled (4 by file name) (the others by their masks)" in out
    written = json.loads((tmp_path / "ev.json").read_text())
    assert written["info"]["split"] == "test"
    assert written["images"]["n_image_labels"] == 4
    assert written["images"]["tp"] + written["images"]["fn"] == 4  # every frame: aurora


@pytest.mark.parametrize(
    ("extra", "code", "needle"),
    [
        (["{cube}"], 1, "either as SOURCE (a frame folder or cubes with aurora_truth) or with "),
        ([], 1, "found both"),
        (["--time-pattern", "none"], 1, "or pass --split-by folder to keep the frames"),
        (["--label-map", "aurora"], 2, "argument --label-map: expected NAME=VALUE pairs"),
        (["--label-format", "yolo"], 2, "argument --label-format: invalid choice: 'yolo'"),
        (["--init", "{tmp}/none.safetensors"], 1, "init: no file"),
    ],
)
def test_label_set_errors(
    tmp_path: Path,
    labelme: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    code: int,
    needle: str,
) -> None:
    argv = ["train", "--labels", str(labelme), *LABEL_MAP, "--out", str(tmp_path / "m"), *TINY]
    if extra == ["{cube}"]:  # neither SOURCE nor --labels
        argv = ["train", "--out", str(tmp_path / "m"), *TINY]
    elif extra == []:  # both
        argv.insert(1, str(labelme))
    else:
        argv += [e.format(tmp=tmp_path) for e in extra]
    got, _out, err = _run(argv, capsys)
    assert got == code
    assert needle in err
    assert "Traceback" not in err


def test_segmenting_commands_take_a_precision(capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("segment", "occurrence", "compare", "evaluate"):
        code, out, _ = _run([name, "--help"], capsys)
        assert code == 0
        assert "--precision {auto,fp32,bf16,fp16}" in out


def test_image_labels_of_a_cube_join_by_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from aurora_xr.io import write_netcdf

    cube = tiny_cube(12, seed=3)
    write_netcdf(cube, tmp_path / "cube.nc")
    nc, model = str(tmp_path / "cube.nc"), str(tmp_path / "m")
    train_argv = ["train", nc, "--out", model, *TINY, "--split", "2,1,1", "--max-steps", "1"]
    code, _, err = _run(train_argv, capsys)
    assert code == 0, err
    stamps = [f"{t:%Y%m%d_%H%M%S}" for t in cube.time.to_index()]
    (tmp_path / "frames.csv").write_text(
        "frame,aurora\n" + "".join(f"cam_{s}.jpg,no\n" for s in stamps)
    )
    csv_path = str(tmp_path / "frames.csv")
    eval_argv = ["evaluate", f"{model}/best.safetensors", nc, "--split", "test", "--cells", "0"]
    code, out, err = _run([*eval_argv, "--image-labels", csv_path, "--no-progress"], capsys)
    assert code == 0, err
    assert f"evaluate: {LRASPP} on 3 frame(s) (split: test)" in out
    assert "frames.csv: 3 of 3 frames labelled (3 by time) (the others by their masks)" in out
