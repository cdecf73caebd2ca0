"""The pieces of the six-year run (benchmarks/bench_archive.py) and the SLURM example of the docs.

* the night sampler gives frames only while the Sun is more than 10 degrees below the horizon at
  Jang Bogo, with exact counts for known dates;
* the pipeline on a tiny archive gives the same occurrence products on a LocalCluster of two
  worker processes as in one process with the synchronous scheduler, and each worker loads the
  predictor once;
* the dask-jobqueue configuration of ``docs/scaling.md`` (the YAML file and the Python lines)
  builds a ``SLURMCluster`` whose job script asks for what the page says (nothing is submitted).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import dask
import numpy as np
import pytest
import yaml

import aurora_xr
from aurora_xr.detect.segmentation import ChannelThresholdPredictor

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import _archive_nights as nights  # noqa: E402
import _archive_pipeline as pipeline  # noqa: E402

JBS = aurora_xr.get_station("JBS")


def _sun(times: np.ndarray) -> np.ndarray:
    return aurora_xr.sun_elevation(times, JBS.latitude, JBS.longitude, altitude_m=JBS.altitude_m)


# -- the night sampler --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "count", "first", "last"),
    [
        ("2020-03-15", 317, "2020-03-15T10:35", "2020-03-15T15:51"),
        ("2020-06-21", 1197, "2020-06-21T03:07", "2020-06-21T23:03"),  # midwinter
        ("2020-12-21", 0, None, None),  # polar day: the Sun never sets 10 degrees
    ],
)
def test_dark_times_of_known_dates(
    day: str, count: int, first: str | None, last: str | None
) -> None:
    times = nights.dark_times(day, cadence_s=60)
    assert times.dtype == np.dtype("datetime64[ns]")
    assert times.size == count
    if count:
        assert times[0] == np.datetime64(first)
        assert times[-1] == np.datetime64(last)
        assert np.all(np.diff(times) == np.timedelta64(60, "s"))  # one unbroken night
        assert np.all(_sun(times) < -10.0)
        minute = np.timedelta64(60, "s")
        assert np.all(_sun(np.array([times[0] - minute, times[-1] + minute])) >= -10.0)


def test_dark_times_are_exactly_the_dark_minutes_of_midwinter() -> None:
    day = np.datetime64("2020-06-21", "ns")
    grid = day + np.arange(1440) * np.timedelta64(60, "s")
    dark = _sun(grid) < -10.0
    times = nights.dark_times("2020-06-21", cadence_s=60)
    np.testing.assert_array_equal(times, grid[dark])
    # around midwinter noon (about 01 UT at 164 E) the Sun comes within 10 degrees of the
    # horizon: the UT day holds one dark spell, 03:07 to 23:03
    assert nights.spells(times, 60) == [(np.datetime64("2020-06-21T03:07", "ns"), 1197)]
    every_other = nights.dark_times("2020-06-21", cadence_s=120)
    on_even_minutes = (times - day) % np.timedelta64(120, "s") == np.timedelta64(0, "s")
    np.testing.assert_array_equal(every_other, times[on_even_minutes])
    assert every_other.size == 598


def test_sample_days_and_plan() -> None:
    days = nights.sample_days(2020, 2020, 4)
    assert len(days) == 48
    assert [str(d) for d in days[4:8]] == ["2020-02-04", "2020-02-11", "2020-02-19", "2020-02-26"]
    plan = nights.plan_archive(2020, 2020, nights_per_month=1, cadence_s=120)
    # on the 16th of October to February the Sun stays above -10 degrees all day at 74.6 S
    assert [str(n.day) for n in plan] == [f"2020-{m:02d}-16" for m in range(3, 10)]
    for night in plan:
        assert night.times.size
        assert np.all(_sun(night.times) < -10.0)
        assert np.all(night.times.astype("datetime64[D]") == night.day)
    assert len({n.seed for n in plan}) == len(plan)
    eighth = nights.first_share(plan, 1 / 8)
    assert eighth == plan[: len(eighth)]
    assert sum(n.times.size for n in eighth) >= sum(n.times.size for n in plan) / 8


# -- serial and distributed runs agree --------------------------------------------------------


def _tiny_plan() -> list[nights.Night]:
    """Three short nights: the last 40 dark minutes of three dates, every 2 minutes."""
    out = []
    for k, day in enumerate(("2019-05-10", "2019-07-03", "2020-06-21")):
        times = nights.dark_times(day, cadence_s=120)[-40:]
        out.append(nights.Night(np.datetime64(day), 100 + k, times))
    return out


@pytest.mark.slow
def test_distributed_run_equals_serial_run(tmp_path: Path) -> None:
    import cloudpickle
    from dask.distributed import Client, LocalCluster

    plan = _tiny_plan()
    archive = tmp_path / "archive"
    for night in plan:
        nights.write_night(str(archive), night, 48, 120)
    frames = sum(n.times.size for n in plan)
    kw = {
        "predictor": ChannelThresholdPredictor(),
        "frames": frames,
        "chunk": 16,
        "region_frames": 32,
        "n_cells": 60,
        "log": lambda *a: None,
    }
    serial = pipeline.run_pipeline(archive, tmp_path / "serial", **kw)
    cloudpickle.register_pickle_by_value(pipeline)
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        run = pipeline.run_pipeline(archive, tmp_path / "cluster", client=client, **kw)
    assert list(run["stages"]) == list(pipeline.STAGES)
    for detector in ("fcn", "difference"):
        a, b = run["occurrence"][detector], serial["occurrence"][detector]
        assert list(a["year"].values) == [2019, 2020]
        for name in ("n_aurora", "n_observed"):
            np.testing.assert_array_equal(a[name].values, b[name].values)
        assert int(a["n_observed"].sum()) > 0
        assert Path(run["products"][detector]).is_file()
    assert int(run["occurrence"]["fcn"]["n_aurora"].sum()) > 0
    # every frame is observed by the FCN (all usable); the difference method misses the first
    # frame of each night (no partner 2 minutes earlier)
    cells = run["occurrence"]["fcn"].sizes["cell"]
    assert int(run["occurrence"]["fcn"]["n_observed"].sum()) == frames * cells
    loads = run["model_loads"]
    assert len(loads) == 2
    assert all(v["predictor_loads"] == {"channel_threshold": 1} for v in loads.values())
    for stage in run["stages"].values():
        assert len(stage["peak_rss_mb"]) == 2
        assert all(50 < mb < 4096 for mb in stage["peak_rss_mb"].values())


# -- the SLURM example of docs/scaling.md -----------------------------------------------------

SCALING_PAGE = ROOT / "docs" / "scaling.md"


def _block(language: str, containing: str) -> str:
    text = SCALING_PAGE.read_text(encoding="utf-8")
    blocks = re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)
    found = [b for b in blocks if containing in b]
    assert len(found) == 1, f"expected one {language} block with {containing!r} in scaling.md"
    return found[0]


def test_documented_jobqueue_yaml_builds_the_job_script() -> None:
    from dask_jobqueue import SLURMCluster

    config = yaml.safe_load(_block("yaml", "jobqueue:"))
    slurm = config["jobqueue"]["slurm"]
    # as if the file were ~/.config/dask/jobqueue.yaml: merged over dask-jobqueue's defaults
    merged = {f"jobqueue.slurm.{key}": value for key, value in slurm.items()}
    with dask.config.set(merged):
        options = {"host": "127.0.0.1", "dashboard_address": "127.0.0.1:0"}
        with SLURMCluster(scheduler_options=options) as cluster:
            script = cluster.job_script()
            assert len(cluster.workers) == 0  # nothing submitted
    lines = script.splitlines()
    assert lines[0] == "#!/usr/bin/env bash"
    for directive in (
        f"-J {slurm['name']}",
        f"-p {slurm['queue']}",
        f"-A {slurm['account']}",
        f"-t {slurm['walltime']}",
        "-n 1",
        f"--cpus-per-task={slurm['cores']}",
        *slurm["job-extra-directives"],
    ):
        assert f"#SBATCH {directive}" in lines, directive
    assert slurm["job-extra-directives"] == ["--gres=gpu:1"]  # one GPU per worker job
    for line in slurm["job-script-prologue"]:
        assert line in lines
    # one worker process per job (so one network per GPU), all the job's cores as its threads,
    # started by the python of the environment where aurora_xr is installed
    assert slurm["processes"] == 1
    worker = next(line for line in lines if "distributed.cli.dask_worker" in line)
    assert worker.startswith(f"{slurm['python']} -m distributed.cli.dask_worker ")
    assert f"--nthreads {slurm['cores']}" in worker
    assert "--nworkers" not in worker
    assert f"--local-directory {slurm['local-directory']}" in worker


def test_documented_slurmcluster_call_builds_the_same_job() -> None:
    from dask_jobqueue import SLURMCluster

    call = _block("python", "cluster = SLURMCluster(\n")
    call = call[call.index("cluster = SLURMCluster(") :]
    call = call[: call.index("\n)\n") + 3]
    namespace = {"SLURMCluster": SLURMCluster}
    options = {"host": "127.0.0.1", "dashboard_address": "127.0.0.1:0"}
    with dask.config.set({"jobqueue.slurm.scheduler-options": options}):
        exec(call, namespace)
        cluster = namespace["cluster"]
        try:
            script = cluster.job_script()
            assert len(cluster.workers) == 0
        finally:
            cluster.close()
    lines = script.splitlines()
    for directive in ("-p cpu", "-A my-project", "-n 1", "--cpus-per-task=32", "-t 12:00:00"):
        assert f"#SBATCH {directive}" in lines, directive
    assert "source /path/to/aurora_xr/.venv/bin/activate" in lines
    assert "export OMP_NUM_THREADS=1" in lines
    # 32 single-threaded workers per job: one per core, each loads the network once
    worker = next(line for line in lines if "distributed.cli.dask_worker" in line)
    assert worker.startswith("/path/to/aurora_xr/.venv/bin/python -m distributed.cli.dask_worker")
    assert "--nworkers 32" in worker
    assert "--nthreads 1" in worker
