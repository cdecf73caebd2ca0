"""The ``aurora-xr`` command line (aurora_xr.cli)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from aurora_xr import cli
from aurora_xr.io import open_cube
from tests.test_ingest import DAY1, DAY2, make_archive


def test_ingest_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_archive(tmp_path / "src", DAY1 + DAY2)
    code = cli.main(["ingest", str(tmp_path / "src"), str(tmp_path / "nc"), "--no-progress"])
    out, err = capsys.readouterr()
    assert code == cli.EXIT_OK == 0
    assert out.strip().startswith("ingest: 7 frames added to 2 file(s)")
    assert err == ""
    assert open_cube(tmp_path / "nc").sizes["time"] == 7


def test_ingest_options_and_skipped_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "src"
    make_archive(src, DAY1)
    (src / "2020-06-21" / "JBS_20200621_235900_rgb.png").write_bytes(b"")
    code = cli.main(
        [
            "ingest",
            str(src),
            str(tmp_path / "nc"),
            "--no-progress",
            "--period",
            "1MS",
            "--frame-suffix",
            "_rgb.png",
            "--chunk-frames",
            "2",
            "--report",
            str(tmp_path / "report.json"),
        ]
    )
    out, err = capsys.readouterr()
    assert code == cli.EXIT_SKIPPED == 3
    assert "1 file(s) skipped" in out
    assert "JBS_20200621_235900_rgb.png: empty file (0 bytes)" in err
    assert (tmp_path / "nc" / "JBS_202006.nc").is_file()
    assert json.loads((tmp_path / "report.json").read_text())["n_skipped"] == 1


def test_ingest_with_calibration_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_archive(tmp_path / "src", DAY1)
    cal = tmp_path / "cal.json"
    cal.write_text(
        json.dumps(
            {
                "width": 64,
                "height": 48,
                "zenith_x": 31.5,
                "zenith_y": 23.5,
                "lens_radius": 22.0,
                "rotation_deg": 15.0,
            }
        )
    )
    argv = ["ingest", str(tmp_path / "src"), str(tmp_path / "nc"), "--no-progress"]
    assert cli.main([*argv, "--calibration", str(cal)]) == 0
    assert open_cube(tmp_path / "nc").attrs["calibration_rotation_deg"] == 15.0
    cal.write_text('{"width": 64}')
    assert cli.main([*argv, "--calibration", str(cal)]) == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "Calibration fields" in err


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
