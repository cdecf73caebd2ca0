"""The ``aurora-xr`` command line (aurora_xr.cli)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aurora_xr import cli
from tests.io.test_ingestion import DAY1, make_archive


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["ingest", "{tmp}/missing", "{tmp}/nc"], "expected a folder of frames; found no"),
        (["ingest", "{tmp}/src", "{tmp}/nc", "--station", "XYZ"], "unknown station 'XYZ'"),
        (["ingest", "{tmp}/src", "{tmp}/nc", "--period", "1ME"], "period must be"),
        (["ingest", "{tmp}/src", "{tmp}/nc", "--calibration", "{tmp}/no.json"], "no.json"),
    ],
)
def test_errors_are_one_line_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], needle: str
) -> None:
    make_archive(tmp_path / "src", DAY1[:1])
    code = cli.main([a.format(tmp=tmp_path) for a in argv] + ["--no-progress"])
    _out, err = capsys.readouterr()
    assert code == cli.EXIT_ERROR == 1
    assert err.startswith("aurora-xr ingest: error: ")
    assert needle in err
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert not (tmp_path / "nc" / "JBS_20200621.nc").exists()


def test_traceback_option_reraises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        cli.main(["ingest", str(tmp_path / "missing"), str(tmp_path / "nc"), "--traceback"])


def test_usage_errors_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == cli.EXIT_USAGE == 2
    assert cli.main(["ingest"]) == 2
    assert "required: src, dest" in capsys.readouterr().err
    assert cli.main(["ingest", "a", "b", "--chunk-frames", "many"]) == 2
    assert cli.main(["frobnicate"]) == 2
    assert cli.main(["--help"]) == 0
    assert "ingest" in capsys.readouterr().out
    assert cli.main(["ingest", "--help"]) == 0
    assert "--time-pattern" in capsys.readouterr().out


def test_subcommand_registry_builds_parsers() -> None:
    seen: list[str] = []

    def add(parser: object) -> None:
        seen.append("added")

    def run(args: object) -> int:
        seen.append("ran")
        return 0

    cli.SUBCOMMANDS["noop"] = cli.Subcommand("does nothing", add, run)  # type: ignore[arg-type]
    try:
        assert cli.main(["noop"]) == 0
    finally:
        del cli.SUBCOMMANDS["noop"]
    assert seen == ["added", "ran"]


def test_module_runs_as_a_program() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "aurora_xr.cli", "--version"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0
    assert done.stdout.startswith("aurora-xr ")


# -- train, evaluate, segment, occurrence, compare -------------------------------------------
LRASPP = "lraspp_mobilenet_v3_large"
START = "2020-06-21T10:00"  # polar night at JBS, with aurora in the synthetic sky
N_FRAMES = 8


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    """One intra-op thread: tiny networks gain nothing from more, and shared CPUs lose a lot."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a tiny cube, a checkpoint and broken inputs (made once per module)."""
    import aurora_xr
    from aurora_xr.model import train
    from aurora_xr.model.checkpoint import read_tensors, save_tensors

    root = tmp_path_factory.mktemp("cli_data")
    cube = aurora_xr.synthetic_cube(
        start=START, n_frames=N_FRAMES, size=112, seed=3, cadence="2min"
    )
    aurora_xr.write_netcdf(cube, root / "cube.nc")
    result = train(
        cube,
        arch=LRASPP,
        out_dir=root / "model",
        image_size=64,
        max_steps=2,
        batch_size=4,
        epochs=1,
        progress=False,
    )
    os.replace(result.best_checkpoint, root / "model.safetensors")
    # unreadable inputs
    (root / "corrupt.nc").write_bytes((root / "cube.nc").read_bytes()[:3000])
    (root / "random.safetensors").write_bytes(np.random.default_rng(0).bytes(4096))
    tensors, meta, _ = read_tensors(root / "model.safetensors")
    other = json.loads(meta["aurora_xr"])
    other["architecture"] = "fcn_resnet50"  # the header lies: the tensors are lraspp's
    save_tensors(tensors, root / "other_arch.safetensors", {**meta, "aurora_xr": json.dumps(other)})
    bad_shape = dict(tensors)
    name = next(k for k in bad_shape if k.endswith("low_classifier.weight"))
    bad_shape[name] = bad_shape[name][:, :-1]  # same names, a tensor of the wrong shape
    save_tensors(bad_shape, root / "bad_shape.safetensors", meta)
    save_tensors(tensors, root / "plain.safetensors", {})  # safetensors, not aurora_xr
    import torch

    torch.save(tensors, root / "pickled.pt")
    # a state dict of another architecture for --pretrained
    torch.save({"backbone.layer4.2.conv3.weight": torch.zeros(1)}, root / "fcn_weights.pt")
    # lraspp weights with a backbone tensor of the wrong shape: torch's load_state_dict fails
    bad_backbone = dict(tensors)
    bad_backbone["backbone.0.0.weight"] = bad_backbone["backbone.0.0.weight"][:, :2]
    torch.save(bad_backbone, root / "bad_backbone.pt")
    aurora_xr.write_netcdf(cube.drop_vars(["aurora_truth", "aurora_kind"]), root / "notruth.nc")
    return root


@pytest.fixture(scope="module")
def store(data: Path) -> Path:
    """The cube segmented into a store of two regions with the CLI (threads)."""
    code = cli.main(
        [
            "segment",
            str(data / "cube.nc"),
            "--model",
            str(data / "model.safetensors"),
            "--out",
            str(data / "store"),
            "--region-frames",
            "4",
            "--no-progress",
        ]
    )
    assert code == 0
    return data / "store"


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    "name", ["ingest", "train", "evaluate", "segment", "occurrence", "compare", "demo"]
)
def test_every_subcommand_has_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run([name, "--help"], capsys)
    assert code == 0
    assert out.startswith(f"usage: aurora-xr {name}")
    assert "--no-progress" in out
    assert "--traceback" in out
    expected = {
        "train": [
            "--out",
            "--arch",
            "--epochs",
            "--batch-size",
            "--lr",
            "--image-size",
            "--seed",
            "--pretrained",
            "--patience",
            "--no-resume",
            "--max-steps",
            "--contrast-ratio",
            "--device",
            "--threads",
        ],
        "evaluate": ["--split", "--cells", "--min-fraction", "--out", "--tta"],
        "segment": [
            "--model",
            "--out",
            "--threshold",
            "--batch-size",
            "--tta",
            "--device",
            "--scheduler",
            "--region-frames",
            "--overwrite",
            "--workers",
        ],
        "occurrence": [
            "--detector",
            "--out",
            "--model",
            "--segmentation",
            "--mlt-bins",
            "--by",
            "--lag",
            "--min-fraction",
            "--cells",
            "--min-elevation",
            "--altitude-km",
            "--max-moon-elevation",
            "--max-cloud-fraction",
            "--scheduler",
            "--device",
        ],
        "compare": [
            "--model",
            "--segmentation",
            "--out",
            "--figure",
            "--scheduler",
            "--lag",
            "--tta",
        ],
    }.get(name, [])
    for option in expected:
        assert option in out, option


def test_top_level_help_lists_the_commands_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["--help"], capsys)
    assert code == 0
    names = [
        "ingest",
        "train",
        "evaluate",
        "segment",
        "occurrence",
        "compare",
        "calibrate",
        "demo",
    ]
    assert list(cli.SUBCOMMANDS) == names
    positions = [out.index(f"    {n}") for n in names]
    assert positions == sorted(positions)


def test_architecture_choices_are_the_registry() -> None:
    from aurora_xr.cli.options import ARCHITECTURE_NAMES
    from aurora_xr.model import ARCHITECTURES

    assert set(ARCHITECTURE_NAMES) == set(ARCHITECTURES)


def test_train_on_a_cube_resumes_and_refuses_another_architecture(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "train",
        str(data / "cube.nc"),
        "--out",
        str(tmp_path / "m"),
        "--arch",
        LRASPP,
        "--image-size",
        "64",
        "--batch-size",
        "2",
        "--epochs",
        "1",
        "--max-steps",
        "2",
        "--threads",
        "1",
        "--no-progress",
    ]
    code, out, err = _run(argv, capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f"best checkpoint: {tmp_path / 'm' / 'best.safetensors'}"
    assert "2 steps, 1 epoch(s) run, stopped: max_steps; frames train/val/test 6/1/1" in out
    assert "best epoch 1: validation IoU " in out
    assert "test pixels: IoU " in out
    history = json.loads((tmp_path / "m" / "history.json").read_text())
    assert history["steps"] == 2
    # a second run resumes: the 2 steps are done, nothing more is trained
    code, out, err = _run(argv, capsys)
    assert code == 0, err
    assert "2 steps" in out
    # the run in --out is lraspp's: another architecture is a one-line error
    code, out, err = _run([*argv[:5], "fcn_resnet50", *argv[6:]], capsys)
    assert code == 1
    assert err == (
        f"aurora-xr train: error: {tmp_path / 'm'} holds a {LRASPP} run "
        "(train_state.safetensors), not fcn_resnet50; pass --no-resume to start afresh or "
        "use another --out\n"
    )
    # other options with the same architecture: train's own check, in command-line words
    code, out, err = _run([*argv, "--lr", "0.01"], capsys)
    assert code == 1
    assert "other options (lr); pass --no-resume to start afresh" in err
    assert err.count("\n") == 1


def test_train_and_evaluate_a_frame_folder(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import aurora_xr

    folder = tmp_path / "archive"
    aurora_xr.write_synthetic_archive(
        folder, start=START, n_frames=5, cadence="2min", size=112, seed=3
    )
    code, out, err = _run(
        [
            "train",
            str(folder),
            "--out",
            str(tmp_path / "m"),
            "--arch",
            LRASPP,
            "--image-size",
            "64",
            "--max-steps",
            "1",
            "--split",
            "3,1,1",
            "--no-progress",
        ],
        capsys,
    )
    assert code == 0, err
    assert "frames train/val/test 3/1/1" in out
    code, out, err = _run(
        [
            "evaluate",
            str(tmp_path / "m" / "best.safetensors"),
            str(folder),
            "--split",
            "all",
            "--cells",
            "100",
            "--out",
            str(tmp_path / "e" / "metrics.json"),
            "--no-progress",
        ],
        capsys,
    )
    assert code == 0, err
    assert out.splitlines()[0] == f"evaluate: {LRASPP} on 5 frame(s) (split: all), threshold 0.50"
    assert "  cells (100, min fraction 0.10): IoU " in out
    saved = json.loads((tmp_path / "e" / "metrics.json").read_text())
    assert saved["info"]["n_frames"] == 5
    assert saved["info"]["n_cells"] == 100
    assert len(saved["frames"]) == 5
    # the same frames as a cube give the same pixel and cell scores: the folder's cell grid
    # (station and calibration from the archive's sidecar) is the cube's
    with aurora_xr.open_cube(data / "cube.nc") as cube:
        aurora_xr.write_netcdf(cube.isel(time=slice(0, 5)), tmp_path / "five.nc")
    code, out, err = _run(
        [
            "evaluate",
            str(tmp_path / "m" / "best.safetensors"),
            str(tmp_path / "five.nc"),
            "--split",
            "all",
            "--cells",
            "100",
            "--out",
            str(tmp_path / "five.json"),
            "--no-progress",
        ],
        capsys,
    )
    assert code == 0, err
    same = json.loads((tmp_path / "five.json").read_text())
    assert same["pixel"] == saved["pixel"]
    assert same["cells"] == saved["cells"]
    # without the sidecar: the station's camera, the epoch from the file names
    (folder / "synthetic_archive.json").unlink()
    code, out, err = _run(
        [
            "evaluate",
            str(tmp_path / "m" / "best.safetensors"),
            str(folder),
            "--split",
            "all",
            "--cells",
            "100",
            "--station",
            "JBS",
            "--no-progress",
        ],
        capsys,
    )
    assert code == 0, err
    assert "  cells (100, min fraction 0.10): IoU " in out


def test_evaluate_a_cube(data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "metrics.json"
    code, out, err = _run(
        [
            "evaluate",
            str(data / "model.safetensors"),
            str(data / "cube.nc"),
            "--out",
            str(target),
            "--no-progress",
        ],
        capsys,
    )
    assert code == 0, err
    assert err == ""
    lines = out.splitlines()
    assert lines[0] == f"evaluate: {LRASPP} on 1 frame(s) (split: test), threshold 0.50"
    assert lines[1].startswith("  pixels: IoU ")
    assert lines[2].startswith("  cells (400, min fraction 0.10): IoU ")
    saved = json.loads(target.read_text())
    assert saved["info"]["split"] == "test"
    assert saved["info"]["n_cells"] == 400
    assert set(saved["pixel"]) >= {"iou", "f1", "precision", "recall"}
    pixels = saved["pixel"]
    assert pixels["tp"] + pixels["fp"] + pixels["fn"] + pixels["tn"] > 0
    # --cells 0: no cell scores; another threshold
    code, out, err = _run(
        [
            "evaluate",
            str(data / "model.safetensors"),
            str(data / "cube.nc"),
            "--cells",
            "0",
            "--split",
            "all",
            "--threshold",
            "0.3",
            "--no-progress",
        ],
        capsys,
    )
    assert code == 0, err
    assert "on 8 frame(s) (split: all), threshold 0.30" in out
    assert "cells" not in out
    # --tta flip: two passes averaged, recorded in the JSON
    code, out, err = _run(
        [
            "evaluate",
            str(data / "model.safetensors"),
            str(data / "cube.nc"),
            "--tta",
            "flip",
            "--out",
            str(tmp_path / "flip.json"),
            "--no-progress",
        ],
        capsys,
    )
    assert code == 0, err
    assert out.splitlines()[0].endswith("threshold 0.50, test-time augmentation flip")
    flipped = json.loads((tmp_path / "flip.json").read_text())
    assert flipped["info"]["tta"] == "flip"
    assert saved["info"]["tta"] == "none"
    code, _, err = _run(
        ["evaluate", str(data / "model.safetensors"), str(data / "cube.nc"), "--tta", "spin"],
        capsys,
    )
    assert code == 2
    assert "argument --tta: invalid choice: 'spin'" in err


def test_segment_writes_a_store_that_resumes(
    data: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from aurora_xr import open_segmentation_store

    seg = open_segmentation_store(store)
    assert seg.sizes["time"] == N_FRAMES
    assert seg["aurora_mask"].dtype == bool
    assert seg["aurora_probability"].attrs["model_name"] == LRASPP
    assert sorted(p.name for p in store.glob("region_*.nc")) == [
        "region_000000.nc",
        "region_000001.nc",
    ]
    argv = [
        "segment",
        str(data / "cube.nc"),
        "--model",
        str(data / "model.safetensors"),
        "--out",
        str(store),
        "--region-frames",
        "4",
        "--no-progress",
    ]
    code, out, err = _run(argv, capsys)
    assert code == 0, err
    assert out.splitlines() == [
        f"segment: {N_FRAMES} frames in 2 region(s) in {store} (0 written now, 2 kept)",
        f"  model {LRASPP}, threshold 0.50",
    ]
    # other settings: refused in command-line words, then --overwrite starts again
    other = tmp = data / "store_other"
    code, _, _ = _run([*argv[:5], str(other), "--region-frames", "4", "--no-progress"], capsys)
    assert code == 0
    code, out, err = _run([*argv[:5], str(tmp), "--region-frames", "8", "--no-progress"], capsys)
    assert code == 1
    assert err == (
        f"aurora-xr segment: error: the store in {tmp} was made with other settings "
        "(region_frames); pass --overwrite to start it again\n"
    )
    code, out, err = _run(
        [
            *argv[:5],
            str(tmp),
            "--region-frames",
            "8",
            "--overwrite",
            "--threshold",
            "0.4",
            "--batch-size",
            "3",
            "--no-progress",
        ],
        capsys,
    )
    assert code == 0, err
    assert f"in 1 region(s) in {tmp} (1 written now, 0 kept)" in out
    assert "threshold 0.40" in out
    assert open_segmentation_store(tmp)["aurora_mask"].attrs["threshold"] == 0.4


def test_segment_with_a_local_cluster_of_processes(
    data: Path, store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from aurora_xr import open_segmentation_store

    target = tmp_path / "store"
    code, out, err = _run(
        [
            "segment",
            str(data / "cube.nc"),
            "--model",
            str(data / "model.safetensors"),
            "--out",
            str(target),
            "--region-frames",
            "4",
            "--chunk-frames",
            "2",
            "--scheduler",
            "processes",
            "--workers",
            "2",
            "--no-progress",
        ],
        capsys,
    )
    assert code == 0, err
    assert f"in 2 region(s) in {target} (2 written now, 0 kept)" in out
    ours = open_segmentation_store(target).load()
    threads = open_segmentation_store(store).load()
    np.testing.assert_allclose(ours["aurora_probability"], threads["aurora_probability"], atol=1e-5)


def test_occurrence_of_both_methods(
    data: Path, store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from aurora_xr import open_product

    fcn_path = tmp_path / "out" / "occurrence_fcn.nc"
    code, out, err = _run(
        [
            "occurrence",
            str(data / "cube.nc"),
            "--detector",
            "fcn",
            "--segmentation",
            str(store),
            "--out",
            str(fcn_path),
            "--mlt-bins",
            "12",
            "--cells",
            "100",
            "--no-progress",
        ],
        capsys,
    )
    assert code == 0, err
    first = out.splitlines()[0]
    assert first.startswith("occurrence (fcn): overall rate ")
    assert first.endswith(f"; {N_FRAMES} of {N_FRAMES} frames used; 12 MLT bins x 100 cells")
    fcn = open_product(fcn_path)
    assert fcn["occurrence_rate"].dims == ("mlt", "cell")
    assert fcn.sizes == {"mlt": 12, "cell": 100, "nv": 2} | {
        d: fcn.sizes[d] for d in fcn.sizes if d not in ("mlt", "cell", "nv")
    }
    assert int(fcn["n_observed"].max("cell").sum()) == N_FRAMES
    assert fcn.attrs["model_name"] == LRASPP
    # the difference method, by season, with the progress bar on
    diff_path = tmp_path / "occurrence_difference.nc"
    code, out, err = _run(
        [
            "occurrence",
            str(data / "cube.nc"),
            "--detector",
            "difference",
            "--lag",
            "2min",
            "--by",
            "season",
            "--out",
            str(diff_path),
        ],
        capsys,
    )
    assert code == 0, err
    assert "occurrence:" in err
    assert "100%" in err
    assert f"{N_FRAMES - 1} of {N_FRAMES} frames used" in out  # the first frame has no partner
    diff = open_product(diff_path)
    assert diff["occurrence_rate"].dims == ("season", "mlt", "cell")
    assert list(diff["season"].values) == ["DJF", "MAM", "JJA", "SON"]
    assert int(diff["n_aurora"].sum()) > 0


def test_occurrence_with_a_model_and_filters(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from aurora_xr import open_product

    target = tmp_path / "occ.nc"
    code, out, err = _run(
        [
            "occurrence",
            str(data / "cube.nc"),
            "--detector",
            "fcn",
            "--model",
            str(data / "model.safetensors"),
            "--out",
            str(target),
            "--max-cloud-fraction",
            "0",
            "--scheduler",
            "synchronous",
            "--device",
            "cpu",
            "--no-progress",
        ],
        capsys,
    )
    assert code == 0, err
    assert f"; 0 of {N_FRAMES} frames used;" in out  # every synthetic frame has some cloud
    assert "note: no frame was usable" in err
    assert np.isnan(open_product(target)["occurrence_rate"]).all()


def test_compare_writes_the_product_and_a_figure(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from aurora_xr import open_product

    target, figure = tmp_path / "cmp.nc", tmp_path / "fig" / "cmp.png"
    code, out, err = _run(
        [
            "compare",
            str(data / "cube.nc"),
            "--model",
            str(data / "model.safetensors"),
            "--out",
            str(target),
            "--figure",
            str(figure),
            "--cells",
            "100",
            "--no-progress",
        ],
        capsys,
    )
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("compare: overall occurrence rate fcn ")
    assert ", ratio fcn/difference " in lines[0]
    assert f"{N_FRAMES - 1} compared (with a partner at 2min)" in lines[1]
    assert "against the truth" in lines[2]
    rows = [line.split() for line in lines[3:9]]
    assert [r[:2] for r in rows] == [
        [m, f] for m in ("fcn", "difference") for f in ("all", "dynamic", "stationary")
    ]
    assert all(r[2] == "precision" and r[4] == "recall" and r[6] == "F1" for r in rows)
    assert lines[-2:] == [f"  wrote {target}", f"  wrote {figure}"]
    cmp = open_product(target)
    assert list(cmp["detector"].values) == ["fcn", "difference"]
    assert cmp["occurrence_rate"].dims == ("detector", "mlt", "cell")
    assert cmp["f1"].dims == ("detector", "form")
    diff_rate = float(cmp["overall_rate"].sel({"detector": "difference"}))
    assert f"difference {diff_rate:.4f}" in lines[0]
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_compare_from_a_store_on_a_running_scheduler(
    data: Path, store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from distributed import LocalCluster

    from aurora_xr import open_product

    with LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        code, _out, err = _run(
            [
                "compare",
                str(data / "cube.nc"),
                "--segmentation",
                str(store),
                "--out",
                str(tmp_path / "cmp.nc"),
                "--cells",
                "100",
                "--scheduler",
                cluster.scheduler_address,
            ],
            capsys,
        )
    assert code == 0, err
    assert "compare:" in err
    assert "chunk" in err
    cmp = open_product(tmp_path / "cmp.nc")
    assert cmp.sizes["detector"] == 2
    assert cmp.attrs["model_name"] == LRASPP


def test_unreachable_scheduler_is_a_one_line_error(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import dask

    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        code, _out, err = _run(
            [
                "occurrence",
                str(data / "cube.nc"),
                "--detector",
                "difference",
                "--out",
                str(tmp_path / "o.nc"),
                "--scheduler",
                "tcp://127.0.0.1:9",
                "--no-progress",
            ],
            capsys,
        )
    assert code == 1
    assert err.startswith("aurora-xr occurrence: error: ")
    assert "tcp://127.0.0.1:9" in err
    assert err.count("\n") == 1
    assert not (tmp_path / "o.nc").exists()


# -- every command's errors ------------------------------------------------------------------
_CKPT = "{data}/model.safetensors"
_CUBE = "{data}/cube.nc"

ERROR_CASES: list[tuple[list[str], int, str]] = [
    # missing paths
    (["train", "{tmp}/missing.nc", "--out", "{tmp}/m"], 1, "found no '{tmp}/missing.nc'"),
    (["train", "{tmp}/empty", "--out", "{tmp}/m"], 1, "aurora_truth in {tmp}/empty; found neither"),
    (["evaluate", _CKPT, "{tmp}/missing.nc"], 1, "found no '{tmp}/missing.nc'"),
    (["evaluate", "{tmp}/none.safetensors", _CUBE], 1, "checkpoint file not found"),
    (["segment", "{tmp}/missing.nc", "--model", _CKPT, "--out", "{tmp}/s"], 1, "found no"),
    (
        ["segment", _CUBE, "--model", "{tmp}/none.safetensors", "--out", "{tmp}/s"],
        1,
        "checkpoint file not found",
    ),
    (
        ["occurrence", "{tmp}/missing.nc", "--detector", "difference", "--out", "{tmp}/o.nc"],
        1,
        "found no",
    ),
    (
        [
            "occurrence",
            _CUBE,
            "--detector",
            "fcn",
            "--segmentation",
            "{tmp}/nostore",
            "--out",
            "{tmp}/o.nc",
        ],
        1,
        "expected a segmentation store in {tmp}/nostore",
    ),
    (["compare", "{tmp}/missing.nc", "--model", _CKPT, "--out", "{tmp}/o.nc"], 1, "found no"),
    (
        ["compare", _CUBE, "--model", "{tmp}/none.safetensors", "--out", "{tmp}/o.nc"],
        1,
        "checkpoint file not found",
    ),
    (
        ["train", _CUBE, "--out", "{tmp}/m", "--arch", LRASPP, "--pretrained", "{tmp}/no.pt"],
        1,
        "pretrained weights file not found",
    ),
    # bad option values: usage errors
    (
        ["occurrence", _CUBE, "--detector", "foo", "--out", "{tmp}/o.nc"],
        2,
        "argument --detector: invalid choice: 'foo'",
    ),
    (
        ["occurrence", _CUBE, "--detector", "fcn", "--mlt-bins", "0", "--out", "{tmp}/o.nc"],
        2,
        "argument --mlt-bins: expected an integer >= 1; found '0'",
    ),
    (
        ["compare", _CUBE, "--model", _CKPT, "--out", "{tmp}/o.nc", "--scheduler", "bogus"],
        2,
        "argument --scheduler: expected threads, processes, synchronous or the address",
    ),
    (
        ["segment", _CUBE, "--model", _CKPT, "--out", "{tmp}/s", "--scheduler", "bogus"],
        2,
        "argument --scheduler",
    ),
    (
        ["occurrence", _CUBE, "--detector", "difference", "--lag", "soon", "--out", "{tmp}/o.nc"],
        2,
        "argument --lag: expected a positive time step",
    ),
    (
        ["occurrence", _CUBE, "--detector", "fcn", "--min-fraction", "0", "--out", "{tmp}/o.nc"],
        2,
        "expected a fraction in (0, 1]",
    ),
    (
        ["compare", _CUBE, "--model", _CKPT, "--out", "{tmp}/o.nc", "--by", "month"],
        2,
        "argument --by: invalid choice",
    ),
    (
        ["segment", _CUBE, "--model", _CKPT, "--out", "{tmp}/s", "--threshold", "1.5"],
        2,
        "argument --threshold: expected a number in [0, 1]",
    ),
    (
        ["segment", _CUBE, "--model", _CKPT, "--out", "{tmp}/s", "--device", "tpu"],
        2,
        "argument --device: expected auto, cpu, cuda or cuda:N",
    ),
    (
        ["segment", _CUBE, "--model", _CKPT, "--out", "{tmp}/s", "--region-frames", "0"],
        2,
        "argument --region-frames",
    ),
    (["train", _CUBE, "--out", "{tmp}/m", "--arch", "unet"], 2, "invalid choice: 'unet'"),
    (["train", _CUBE, "--out", "{tmp}/m", "--split", "1,2"], 2, "expected three proportions"),
    (["train", _CUBE, "--out", "{tmp}/m", "--lr", "-1"], 2, "argument --lr"),
    (["train", _CUBE], 2, "the following arguments are required: --out"),
    (["evaluate", _CKPT, _CUBE, "--split", "dev"], 2, "argument --split: invalid choice"),
    (["evaluate", _CKPT, _CUBE, "--cells", "-1"], 2, "argument --cells"),
    (["occurrence", _CUBE, "--out", "{tmp}/o.nc"], 2, "required: --detector"),
    (
        [
            "occurrence",
            _CUBE,
            "--detector",
            "fcn",
            "--model",
            _CKPT,
            "--segmentation",
            "{tmp}/s",
            "--out",
            "{tmp}/o.nc",
        ],
        2,
        "not allowed with argument --model",
    ),
    # bad option combinations: OptionError
    (
        ["occurrence", _CUBE, "--detector", "fcn", "--out", "{tmp}/o.nc"],
        1,
        "the FCN method needs --model CHECKPOINT or --segmentation STORE_DIR",
    ),
    (["compare", _CUBE, "--out", "{tmp}/o.nc"], 1, "needs --model CHECKPOINT or --segmentation"),
    (
        ["occurrence", _CUBE, "--detector", "difference", "--model", _CKPT, "--out", "{tmp}/o.nc"],
        1,
        "--model and --segmentation are for --detector fcn",
    ),
    (
        ["occurrence", _CUBE, "--detector", "difference", "--out", "{tmp}"],
        1,
        "expected an output file path; found the folder",
    ),
    # unreadable inputs
    (["train", "{data}/corrupt.nc", "--out", "{tmp}/m"], 1, "cannot be opened as NetCDF"),
    (["evaluate", _CKPT, "{data}/corrupt.nc"], 1, "cannot be opened as NetCDF"),
    (
        ["segment", "{data}/corrupt.nc", "--model", _CKPT, "--out", "{tmp}/s"],
        1,
        "cannot be opened as NetCDF",
    ),
    (
        ["occurrence", "{data}/corrupt.nc", "--detector", "difference", "--out", "{tmp}/o.nc"],
        1,
        "cannot be opened as NetCDF",
    ),
    (
        ["compare", "{data}/corrupt.nc", "--model", _CKPT, "--out", "{tmp}/o.nc"],
        1,
        "cannot be opened as NetCDF",
    ),
    (["evaluate", "{data}/random.safetensors", _CUBE], 1, "is not a safetensors checkpoint"),
    (
        ["segment", _CUBE, "--model", "{data}/random.safetensors", "--out", "{tmp}/s"],
        1,
        "is not a safetensors checkpoint",
    ),
    (
        [
            "occurrence",
            _CUBE,
            "--detector",
            "fcn",
            "--model",
            "{data}/random.safetensors",
            "--out",
            "{tmp}/o.nc",
        ],
        1,
        "is not a safetensors checkpoint",
    ),
    (
        ["compare", _CUBE, "--model", "{data}/random.safetensors", "--out", "{tmp}/o.nc"],
        1,
        "is not a safetensors checkpoint",
    ),
    (
        ["evaluate", "{data}/other_arch.safetensors", _CUBE],
        1,
        f"says architecture fcn_resnet50, but its tensors are those of {LRASPP}",
    ),
    (
        ["segment", _CUBE, "--model", "{data}/other_arch.safetensors", "--out", "{tmp}/s"],
        1,
        f"says architecture fcn_resnet50, but its tensors are those of {LRASPP}",
    ),
    (
        ["compare", _CUBE, "--model", "{data}/bad_shape.safetensors", "--out", "{tmp}/o.nc"],
        1,
        f"do not fit architecture {LRASPP}",
    ),
    (
        [
            "occurrence",
            _CUBE,
            "--detector",
            "fcn",
            "--model",
            "{data}/plain.safetensors",
            "--out",
            "{tmp}/o.nc",
        ],
        1,
        "is a safetensors file but not an aurora_xr checkpoint",
    ),
    (["evaluate", "{data}/pickled.pt", _CUBE], 1, "never unpickles files"),
    (
        [
            "train",
            _CUBE,
            "--out",
            "{tmp}/m",
            "--arch",
            LRASPP,
            "--pretrained",
            "{data}/fcn_weights.pt",
        ],
        1,
        f"holds fcn_resnet50 weights, which do not fit {LRASPP}",
    ),
    (
        [
            "occurrence",
            _CUBE,
            "--detector",
            "fcn",
            "--segmentation",
            "{data}/cube.nc",
            "--out",
            "{tmp}/o.nc",
        ],
        1,
        "found no manifest",
    ),
    (
        [
            "train",
            _CUBE,
            "--out",
            "{tmp}/m",
            "--arch",
            LRASPP,
            "--pretrained",
            "{data}/bad_backbone.pt",
        ],
        1,
        "{data}/bad_backbone.pt does not fit architecture lraspp_mobilenet_v3_large: 1 tensors "
        "of the wrong shape (e.g. ['backbone.0.0.weight (16, 2, 3, 3) != (16, 3, 3, 3)'])",
    ),
    (
        ["train", _CUBE, "--out", "{tmp}/badrun", "--arch", LRASPP],
        1,
        "train_state.safetensors is not a safetensors checkpoint",
    ),
    (["train", "{data}/notruth.nc", "--out", "{tmp}/m"], 1, "expected variable 'aurora_truth'"),
    (["evaluate", _CKPT, "{data}/notruth.nc"], 1, "expected variable 'aurora_truth'"),
    (
        ["evaluate", _CKPT, "{tmp}/undated", "--split", "all"],
        1,
        "cannot tell the AACGM epoch of the cell grid from the file names",
    ),
]


@pytest.mark.parametrize(
    ("argv", "code", "needle"),
    ERROR_CASES,
    ids=[f"{c[0][0]}-{i}" for i, c in enumerate(ERROR_CASES)],
)
def test_errors_of_every_command_are_one_line(
    data: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    code: int,
    needle: str,
) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "badrun").mkdir()
    (tmp_path / "badrun" / "train_state.safetensors").write_bytes(b"\x00" * 64)
    undated = tmp_path / "undated"
    undated.mkdir()
    pixels = np.zeros((16, 16, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(undated / "a_rgb.png")
    Image.fromarray(pixels[..., 0]).save(undated / "a_mask.png")
    filled = [a.format(data=data, tmp=tmp_path) for a in argv] + ["--no-progress"]
    got, out, err = _run(filled, capsys)
    assert got == code, err
    assert err.startswith(f"aurora-xr {argv[0]}: error: ")
    assert needle.format(data=data, tmp=tmp_path) in err
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert out == ""
    assert not (tmp_path / "o.nc").exists()


@pytest.mark.skipif(
    __import__("torch").cuda.is_available(), reason="checks the error without a GPU"
)
def test_cuda_without_a_gpu_is_an_option_error(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(
        [
            "segment",
            str(data / "cube.nc"),
            "--model",
            str(data / "model.safetensors"),
            "--out",
            str(tmp_path / "s"),
            "--device",
            "cuda",
            "--no-progress",
        ],
        capsys,
    )
    assert code == 1
    assert err == (
        "aurora-xr segment: error: device 'cuda' was asked for, but CUDA is not available\n"
    )


def test_traceback_option_reraises_for_the_new_commands(data: Path, tmp_path: Path) -> None:
    from aurora_xr.errors import CheckpointError, SchemaError

    with pytest.raises(CheckpointError, match="not a safetensors checkpoint"):
        cli.main(
            ["evaluate", str(data / "random.safetensors"), str(data / "cube.nc"), "--traceback"]
        )
    with pytest.raises(SchemaError, match="cannot be opened as NetCDF"):
        cli.main(
            [
                "occurrence",
                str(data / "corrupt.nc"),
                "--detector",
                "difference",
                "--out",
                str(tmp_path / "o.nc"),
                "--traceback",
            ]
        )


def test_torch_errors_while_loading_become_checkpoint_errors(
    data: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import aurora_xr.model

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("Error(s) in loading state_dict for LRASPP:\n\tsize mismatch")

    monkeypatch.setattr(aurora_xr.model, "load_model", broken)
    code, _, err = _run(
        ["evaluate", str(data / "model.safetensors"), str(data / "cube.nc"), "--no-progress"],
        capsys,
    )
    assert code == 1
    assert err == (
        f"aurora-xr evaluate: error: cannot load the model in {data / 'model.safetensors'}: "
        "RuntimeError: Error(s) in loading state_dict for LRASPP: size mismatch\n"
    )


@pytest.mark.parametrize(
    ("raised", "code", "message"),
    [
        (KeyboardInterrupt(), 130, "aurora-xr segment: interrupted\n"),
        (
            ImportError("aurora_xr.model.Predictor needs torch, torchvision and safetensors"),
            1,
            "aurora-xr segment: error: aurora_xr.model.Predictor needs torch, torchvision and "
            "safetensors\n",
        ),
    ],
)
def test_interrupt_and_missing_dependency(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    raised: BaseException,
    code: int,
    message: str,
) -> None:
    def run(args: object) -> int:
        raise raised

    command = cli.SUBCOMMANDS["segment"]
    monkeypatch.setitem(
        cli.SUBCOMMANDS, "segment", cli.Subcommand(command.help, command.add_arguments, run)
    )
    got, out, err = _run(["segment", "c.nc", "--model", "m", "--out", "s"], capsys)
    assert got == code
    assert err == message
    assert out == ""
    assert cli.EXIT_INTERRUPTED == 130


def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["frobnicate"], capsys)
    assert code == 2
    assert err.startswith("aurora-xr: error: argument COMMAND: invalid choice: 'frobnicate'")
    assert err.endswith(") (see: aurora-xr --help)\n")
    assert err.count("\n") == 1
    code, _, err = _run(["segment", "c.nc", "--model", "m"], capsys)
    assert code == 2
    assert err == (
        "aurora-xr segment: error: the following arguments are required: --out "
        "(see: aurora-xr segment --help)\n"
    )


def test_scheduler_context_sets_the_local_schedulers() -> None:
    import dask

    for name in ("threads", "synchronous"):
        with cli.dask_scheduler(name) as client:
            assert client is None
            assert dask.config.get("scheduler") == name


def test_compare_without_truth_prints_no_scores(
    data: Path, store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from aurora_xr import open_product

    code, out, err = _run(
        [
            "compare",
            str(data / "notruth.nc"),
            "--segmentation",
            str(store),
            "--out",
            str(tmp_path / "cmp.nc"),
            "--cells",
            "100",
            "--no-progress",
        ],
        capsys,
    )
    assert code == 0, err
    assert len(out.splitlines()) == 3
    assert "against the truth" not in out
    cmp = open_product(tmp_path / "cmp.nc")
    assert "f1" not in cmp
    assert "occurrence_rate" in cmp


def test_a_store_of_other_frames_is_refused(
    data: Path, store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import aurora_xr

    with aurora_xr.open_cube(data / "cube.nc") as cube:
        aurora_xr.write_netcdf(cube.isel(time=slice(0, 5)), tmp_path / "five.nc")
    code, out, err = _run(
        [
            "occurrence",
            str(tmp_path / "five.nc"),
            "--detector",
            "fcn",
            "--segmentation",
            str(store),
            "--out",
            str(tmp_path / "o.nc"),
            "--no-progress",
        ],
        capsys,
    )
    assert code == 1
    assert err == (
        f"aurora-xr occurrence: error: the segmentation store {store} holds {N_FRAMES} frames "
        "2020-06-21T10:00:00 .. 2020-06-21T10:14:00; the cubes hold 5 frames "
        "2020-06-21T10:00:00 .. 2020-06-21T10:08:00 (run 'aurora-xr segment' on these cubes "
        "into it)\n"
    )
    assert out == ""
