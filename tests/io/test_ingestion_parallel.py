"""Parallel, resumable ingest (issue 18 item 1): workers, a dask cluster, a killed worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import netCDF4
import numpy as np
import psutil
import pytest
from PIL import Image

from aurora_xr import cli
from aurora_xr.io import ingest
from aurora_xr.io.ingest_report import REPORT_NAME

JBS: dict[str, Any] = {"station": "JBS", "calibration": "placeholder:JBS"}
ROOT = Path(__file__).resolve().parents[2]


def archive(root: Path, n: int, *, shape: tuple[int, int] = (48, 64), step_s: int = 300) -> None:
    """``n`` random PNG frames every ``step_s`` seconds from 2020-06-21, a mask on every 5th."""
    rng = np.random.default_rng(0)
    start = np.datetime64("2020-06-21T00:00:00")
    for i in range(n):
        when = (start + np.timedelta64(i * step_s, "s")).astype(object)
        name = when.strftime("JBS_%Y%m%d_%H%M%S")
        folder = root / when.strftime("%Y/%m/%d")
        folder.mkdir(parents=True, exist_ok=True)
        frame = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
        Image.fromarray(frame).save(folder / f"{name}_rgb.png", compress_level=1)
        if i % 5 == 0:
            Image.fromarray((frame[..., 1] > 128).astype(np.uint8) * 255).save(
                folder / f"{name}_mask.png"
            )
    bad = root / "2020/06/21"
    (bad / "JBS_20200621_000100_rgb.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    (bad / "JBS_20200621_000200_rgb.png").write_bytes(b"")


def stored(folder: Path) -> dict[str, dict[str, np.ndarray]]:
    """Every output's variables as stored (raw, undecoded), by file name."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for path in sorted(folder.glob("*.nc")):
        with netCDF4.Dataset(path) as nc:
            nc.set_auto_maskandscale(False)
            out[path.name] = {name: np.asarray(var[:]) for name, var in nc.variables.items()}
            attrs = {k: nc.getncattr(k) for k in nc.ncattrs() if k != "history"}
            out[path.name]["attrs"] = np.array(repr(sorted(attrs.items())))
    return out


def assert_same_outputs(a: Path, b: Path) -> None:
    left, right = stored(a), stored(b)
    assert sorted(left) == sorted(right)
    for name in left:
        assert sorted(left[name]) == sorted(right[name]), name
        for var in left[name]:
            np.testing.assert_array_equal(left[name][var], right[name][var], err_msg=var)


def test_parallel_equals_serial_and_reports_bad_files_once(tmp_path: Path) -> None:
    src = tmp_path / "src"
    archive(src, 36, step_s=2 * 3600)  # three days
    serial = ingest(src, tmp_path / "serial", period="6h", progress=False, **JBS)
    parallel = ingest(
        src, tmp_path / "parallel", period="6h", workers=2, chunk_frames=2, progress=False, **JBS
    )
    assert serial.n_frames_added == parallel.n_frames_added == 36
    assert len(serial.written) == 12
    assert parallel.workers == 2
    assert [Path(p).name for p in parallel.written] == [Path(p).name for p in serial.written]
    assert parallel.skipped == serial.skipped
    assert len(parallel.skipped) == 2  # the broken and the empty file, once each
    assert_same_outputs(tmp_path / "serial", tmp_path / "parallel")
    again = ingest(src, tmp_path / "parallel", period="6h", workers=2, progress=False, **JBS)
    assert (again.n_frames_added, again.n_frames_present, len(again.unchanged)) == (0, 36, 12)


def test_real_multi_frame_files_in_parallel_equal_serial(tmp_path: Path) -> None:
    src = ROOT.parent / "shared" / "real_sequences" / "themis_gill_pgm_20140310"
    ingest(src, tmp_path / "serial", period="1min", progress=False)
    report = ingest(src, tmp_path / "parallel", period="1min", workers=2, progress=False)
    assert len(report.written) == 3
    assert_same_outputs(tmp_path / "serial", tmp_path / "parallel")


def test_a_dask_distributed_scheduler_writes_the_same_files(tmp_path: Path) -> None:
    from distributed import LocalCluster

    src = tmp_path / "src"
    archive(src, 8, step_s=6 * 3600)
    ingest(src, tmp_path / "serial", progress=False, **JBS)
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        address = cluster.scheduler_address
        argv = ["ingest", str(src), str(tmp_path / "dask"), "--station", "JBS"]
        argv += ["--calibration", "placeholder:JBS", "--scheduler", address, "--no-progress"]
        code = cli.main(argv)
    assert code == cli.EXIT_SKIPPED  # the two bad files
    assert_same_outputs(tmp_path / "serial", tmp_path / "dask")


def _workers(main: psutil.Process) -> list[psutil.Process]:
    """Worker processes: grandchildren of the ingest (children of its fork server)."""
    return [p for p in main.children(recursive=True) if p.ppid() != main.pid]


def test_an_ingest_whose_worker_is_killed_resumes_to_identical_files(tmp_path: Path) -> None:
    src = tmp_path / "src"
    archive(src, 240, shape=(120, 160), step_s=360)  # 10 frames per hour for a day
    reference = ingest(src, tmp_path / "reference", period="1h", progress=False, **JBS)
    assert len(reference.written) == 24
    dest = tmp_path / "dest"
    argv = [sys.executable, "-m", "aurora_xr.cli", "ingest", str(src), str(dest)]
    argv += ["--station", "JBS", "--calibration", "placeholder:JBS", "--period", "1h"]
    argv += ["--workers", "2", "--chunk-frames", "2", "--no-progress"]
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    main = psutil.Process(proc.pid)
    killed = None
    deadline = time.monotonic() + 120
    while killed is None and time.monotonic() < deadline and proc.poll() is None:
        writing = dest.is_dir() and any(p.name.endswith(".tmp") for p in dest.iterdir())
        workers = _workers(main) if writing else []
        if workers:
            killed = workers[0].pid
            os.kill(killed, signal.SIGKILL)
        time.sleep(0.005)
    _, err = proc.communicate(timeout=120)
    assert killed is not None, "the ingest finished before a worker could be killed"
    assert proc.returncode == cli.EXIT_ERROR
    assert "a worker process stopped" in err.decode()
    finished = sorted(p.name for p in dest.glob("*.nc"))
    assert len(finished) < 24  # interrupted: some outputs are missing
    report = ingest(src, dest, period="1h", workers=2, progress=False, **JBS)
    assert report.n_frames_present + report.n_frames_added == 240
    assert not [p.name for p in dest.iterdir() if p.name.startswith(".")]
    assert (dest / REPORT_NAME).is_file()
    assert_same_outputs(tmp_path / "reference", dest)


@pytest.mark.parametrize("workers", [0, -1, 1.5, True])
def test_workers_must_be_a_positive_integer(tmp_path: Path, workers: object) -> None:
    archive(tmp_path / "src", 1)
    with pytest.raises(Exception, match="workers must be a positive integer"):
        ingest(tmp_path / "src", tmp_path / "nc", workers=workers, progress=False, **JBS)  # type: ignore[arg-type]
