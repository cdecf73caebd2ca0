"""The GPU benchmark runs here, on the CPU, in its quick form: the script is ready for a GPU."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_gpu_quick_on_the_cpu() -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "bench_gpu.py"),
            "--quick",
            "--device",
            "cpu",
            "--frames",
            "24",
            "--chunk",
            "8",
            "--workers",
            "2",
            "--repeats",
            "1",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        cwd=ROOT,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert "NOTE: no GPU" in done.stdout
    result = json.loads(lines[-1])
    assert result["benchmark"] == "bench_gpu"
    assert result["cpu_only"] is True
    assert result["meets_goal"] is False  # never claimed off a GPU
    assert (result["size"], result["frames"], result["chunk"]) == (64, 24, 8)
    for key in ("decode_fps", "bare_fps", "accessor_fps"):
        assert result[key] > 0
    ratio = result["accessor_fps"] / result["bare_fps"]
    assert abs(result["accessor_over_bare"] - ratio) <= 1e-3 * ratio
