"""The six-year run: a synthetic JBS archive 2018-2023, the whole pipeline on dask.distributed.

The archive has the station's real night lengths: on ``--nights-per-month`` dates of every month
from 2018 to 2023, a frame every ``--cadence`` seconds (60: the camera's) whenever the Sun is
more than 10 degrees below the horizon at Jang Bogo (:func:`aurora_xr.sun_elevation`), 64 x 64
pixels, written as PNG files in a camera archive by :func:`aurora_xr.write_synthetic_archive`
(about 134 000 frames with the defaults). Then, on a ``LocalCluster`` of 2 worker processes (one
thread each), stage by stage: ingest to daily NetCDF-4 cubes, segmentation into a resumable store,
the difference method, the occurrence maps of both detectors per year, MLT hour and cell, and the
products written (see ``_archive_pipeline.py``). It records

* per-stage wall time and frames/s, peak RSS of every worker, and the networks each worker
  loaded (``model_loads``: 1 per worker, never per task);
* the dask performance report (HTML) and a task-stream figure of the run;
* ``speedup_2_workers``: the same frames with 1 and with 2 workers, whole pipeline, and per
  stage (``--scaling-frames``: the whole archive, the default, or its first eighth);
* ``equal_to_serial``: the occurrence product of a serial run (dask's synchronous scheduler,
  one process, ingest included) of one year of the archive (``--serial-year``, default the
  first; the whole archive in ``--quick``) against that year of the six-year product, exactly
  (``n_aurora`` and ``n_observed`` of both detectors);
* ``rss_8x_over_1x``: peak RSS per worker on the whole archive over that on its first eighth,
  same chunks (goal <= 1.1);
* per-frame costs at 512 x 512 on one core (``_archive_costs.py``), for the extrapolation table
  of ``docs/scaling.md``.

The model is a small ``lraspp_mobilenet_v3_large`` trained here on 64-px synthetic nights
(``--model demo``), the package's reference model when it has one and it is fast enough
(``--model auto``), or, in ``--quick`` only, a channel threshold (no network).

Usage::

    python benchmarks/bench_archive.py --quick        # one year, 1 night a month: about a minute
    python benchmarks/bench_archive.py                # the six-year run (under 40 minutes, 2 cores)
    python benchmarks/bench_archive.py --docs         # also copy the figures to docs/_static/

Outputs go to ``artifacts/bench_archive/{quick,full}/`` (git-ignored): the archive, the runs,
``performance_report.html``, ``task_stream.png``, ``nights.png`` and ``result.json``. The last
line printed is one JSON object with the figures, ratios and checks.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import cloudpickle
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _archive_costs  # noqa: E402
import _archive_figures  # noqa: E402
import _archive_model  # noqa: E402
import _archive_nights as nights_mod  # noqa: E402
import _archive_pipeline  # noqa: E402

ROOT = HERE.parent
DOCS_STATIC = ROOT / "docs" / "_static" / "scaling"


def _log(*parts: Any) -> None:
    print(*parts, flush=True)


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _cluster(workers: int) -> Any:
    from dask.distributed import Client, LocalCluster

    for name in ("distributed.nanny", "distributed.sizeof"):
        logging.getLogger(name).setLevel(logging.ERROR)
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        memory_limit="4GiB",
    )
    return cluster, Client(cluster)


def _run_on_cluster(
    workers: int, archive: Path, work: Path, *, report: Path | None = None, **kw: Any
) -> dict[str, Any]:
    """One pipeline run on a fresh LocalCluster; the performance report when ``report``."""
    from dask.distributed import get_task_stream, performance_report

    shutil.rmtree(work, ignore_errors=True)
    cluster, client = _cluster(workers)
    try:
        client.run(lambda: None)  # workers up
        _log(f"run on {workers} worker(s): {kw['frames']} frames (load {_load()})")
        if report is None:
            return _archive_pipeline.run_pipeline(archive, work, client=client, log=_log, **kw)
        with performance_report(filename=str(report)), get_task_stream(client) as stream:
            out = _archive_pipeline.run_pipeline(archive, work, client=client, log=_log, **kw)
        out["task_stream"] = stream.data
        return out
    finally:
        client.close()
        cluster.close()


def _totals(run: dict[str, Any]) -> dict[str, Any]:
    stages = run["stages"]
    wall = sum(s["wall_s"] for s in stages.values())
    peaks: dict[str, float] = {}
    for stage in stages.values():
        for i, value in enumerate(stage["peak_rss_mb"].values()):
            peaks[f"worker_{i + 1}"] = max(peaks.get(f"worker_{i + 1}", 0.0), value)
    return {"wall_s": round(wall, 1), "peak_rss_mb": peaks}


def _equal(a: Any, b: Any) -> bool:
    return all(
        a[name].dims == b[name].dims and np.array_equal(a[name].values, b[name].values)
        for name in ("n_aurora", "n_observed")
    )


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2020 only, a night a month")
    parser.add_argument("--first-year", type=int, default=2018)
    parser.add_argument("--last-year", type=int, default=2023)
    parser.add_argument("--nights-per-month", type=int, default=4)
    parser.add_argument("--cadence", type=int, default=60, help="seconds between frames")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--chunk", type=int, default=256, help="frames per dask chunk")
    parser.add_argument("--region", type=int, default=2048, help="frames per store region")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--n-cells", type=int, default=100, help="cells (64 px fit about 100)")
    parser.add_argument("--model", choices=("auto", "demo", "reference", "threshold"))
    parser.add_argument("--scaling-frames", choices=("all", "eighth"), default=None)
    parser.add_argument("--serial-year", type=int, default=None)
    parser.add_argument("--no-costs", action="store_true", help="skip the 512-px costs")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--docs", action="store_true", help="copy figures to docs/_static")
    args = parser.parse_args(argv)
    if args.quick:
        args.first_year = args.last_year = 2020
        args.nights_per_month, args.cadence = 1, 120
        args.chunk, args.region = 128, 512
        args.model = args.model or "threshold"
        args.scaling_frames = args.scaling_frames or "all"
    args.model = args.model or "auto"
    if args.model == "threshold" and not args.quick:
        parser.error("--model threshold is for --quick runs only")
    args.scaling_frames = args.scaling_frames or "all"
    args.serial_year = args.serial_year or args.first_year
    if args.out is None:
        args.out = ROOT / "artifacts" / "bench_archive" / ("quick" if args.quick else "full")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    t_start = time.perf_counter()
    cloudpickle.register_pickle_by_value(_archive_pipeline)  # workers need not import it
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "benchmark": "bench_archive",
        "quick": args.quick,
        "machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.python_version()}",
        "load_start": _load(),
    }
    # -- the archive ------------------------------------------------------------------------
    nights = nights_mod.plan_archive(
        args.first_year,
        args.last_year,
        nights_per_month=args.nights_per_month,
        cadence_s=args.cadence,
    )
    archive = out / "archive"
    written = nights_mod.write_archive(
        archive, nights, size=args.size, cadence_s=args.cadence, log=_log
    )
    frames = written["frames"]
    days = nights_mod.sample_days(args.first_year, args.last_year, args.nights_per_month)
    by_day = {str(n.day): n.times.size for n in nights}
    counts = [by_day.get(str(d), 0) for d in days]
    result["archive"] = {
        **written,
        "years": [args.first_year, args.last_year],
        "nights_per_month": args.nights_per_month,
        "dates_sampled": len(days),
        "dates_without_dark": counts.count(0),
        "cadence_s": args.cadence,
        "size": args.size,
        "frames_per_night_max": max(counts),
    }
    _log(
        f"archive: {frames} frames on {len(nights)} nights of {len(days)} dates "
        f"({written['nights_written']} written in {written['write_s']} s)"
    )
    _archive_figures.nights_figure(days, counts, args.cadence, out / "nights.png")
    eighth = nights_mod.first_share(nights, 1 / 8)
    year = [n for n in nights if str(n.day).startswith(str(args.serial_year))]
    short_frames = nights_mod.link_subset(archive, out / "archive_eighth", eighth)
    year_frames = nights_mod.link_subset(archive, out / "archive_year", year)

    # -- the model --------------------------------------------------------------------------
    sample = np.stack(
        [np.asarray(f) for f in _first_frames(archive, nights[0], args.batch_size * 2)]
    )
    predictor, result["model"] = _archive_model.choose_model(
        args.model, out / "model", sample, batch_size=args.batch_size, log=_log
    )
    kw = {
        "predictor": predictor,
        "chunk": args.chunk,
        "region_frames": args.region,
        "n_cells": args.n_cells,
    }
    runs = out / "runs"
    # -- the six-year run, then its first eighth, on 2 workers --------------------------------
    main_run = _run_on_cluster(
        2, archive, runs / "all_2w", report=out / "performance_report.html", frames=frames, **kw
    )
    # the parts of the archive are binned into the whole archive's cells (one AACGM epoch)
    kw["grid_epoch"] = main_run["grid_epoch"]
    result["grid_epoch"] = main_run["grid_epoch"]
    short_run = _run_on_cluster(
        2, out / "archive_eighth", runs / "eighth_2w", frames=short_frames, **kw
    )
    # -- 1 worker, for the scaling ----------------------------------------------------------
    if args.scaling_frames == "all":
        one = _run_on_cluster(1, archive, runs / "all_1w", frames=frames, **kw)
        two = main_run
    else:
        one = _run_on_cluster(
            1, out / "archive_eighth", runs / "eighth_1w", frames=short_frames, **kw
        )
        two = short_run
    # -- the serial reference run -------------------------------------------------------------
    _log(
        f"serial run (synchronous scheduler, one process): {year_frames} frames of "
        f"{args.serial_year} (load {_load()})"
    )
    shutil.rmtree(runs / "serial", ignore_errors=True)
    serial = _archive_pipeline.run_pipeline(
        out / "archive_year", runs / "serial", client=None, frames=year_frames, log=_log, **kw
    )
    # -- checks and figures -------------------------------------------------------------------
    result.update(
        _summary(main_run, short_run, one, two, serial, frames, short_frames, year_frames, args)
    )
    result["costs_512"] = (
        None if args.no_costs else _archive_costs.costs_512(quick=args.quick, log=_log)
    )
    if result["costs_512"] is not None:
        efficiency = {k: v / 2 for k, v in result["scaling"]["speedup_by_stage"].items()}
        result["extrapolation"] = _archive_costs.extrapolation(result["costs_512"], efficiency)
    _archive_figures.task_stream_figure(
        main_run["task_stream"],
        main_run["stages"],
        main_run["stage_starts"],
        out / "task_stream.png",
        title=f"bench_archive: {frames} frames of {args.size} x {args.size}, 2 workers "
        f"(1 thread each), {result['model']['model']} model",
    )
    result["wall_total_s"] = round(time.perf_counter() - t_start, 1)
    result["load_end"] = _load()
    (out / "result.json").write_text(json.dumps(result, indent=1, default=str))
    if args.docs:
        DOCS_STATIC.mkdir(parents=True, exist_ok=True)
        for name in ("task_stream.png", "nights.png"):
            shutil.copy2(out / name, DOCS_STATIC / name)
        (DOCS_STATIC / "archive_run.json").write_text(json.dumps(result, indent=1, default=str))
    _log(f"outputs in {out}")
    print(json.dumps(result, default=str))
    return 0 if result["checks"]["all_pass"] else 1


def _first_frames(archive: Path, night: Any, n: int) -> list[Any]:
    from PIL import Image

    files = sorted((archive / night.folder).rglob("*_rgb.png"))[:n]
    return [np.asarray(Image.open(f)) for f in files]


def _summary(
    main_run: dict[str, Any],
    short_run: dict[str, Any],
    one: dict[str, Any],
    two: dict[str, Any],
    serial: dict[str, Any],
    frames: int,
    short_frames: int,
    year_frames: int,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """The figures, ratios and checks of the runs."""
    year = args.serial_year
    equal = all(
        _equal(main_run["occurrence"][d].sel(year=[year]), serial["occurrence"][d])
        for d in ("fcn", "difference")
    )
    totals = {
        name: _totals(run)
        for name, run in (("all_2w", main_run), ("eighth_2w", short_run), ("scaling_1w", one))
    }
    long_peak = max(totals["all_2w"]["peak_rss_mb"].values())
    short_peak = max(totals["eighth_2w"]["peak_rss_mb"].values())
    rss_ratio = long_peak / short_peak
    speedups = {
        s: round(one["stages"][s]["wall_s"] / two["stages"][s]["wall_s"], 3)
        for s in _archive_pipeline.STAGES
    }
    speedup = _totals(one)["wall_s"] / _totals(two)["wall_s"]
    loads = main_run["model_loads"]
    key = "networks" if args.model != "threshold" else "predictor"
    per_worker = [
        v["networks"] if key == "networks" else sum(v["predictor_loads"].values())
        for v in loads.values()
    ]
    n_aurora = {d: int(main_run["occurrence"][d]["n_aurora"].sum()) for d in ("fcn", "difference")}
    n_obs = {d: int(main_run["occurrence"][d]["n_observed"].sum()) for d in ("fcn", "difference")}
    checks = {
        "completed": True,
        "equal_to_serial": bool(equal),
        "rss_flat_8x": bool(rss_ratio <= 1.1),
        "models_loaded_once_per_worker": all(n == 1 for n in per_worker),
    }
    checks["all_pass"] = all(checks.values())
    return {
        "frames": frames,
        "stages": main_run["stages"],
        "total": totals["all_2w"],
        "products": main_run["products"],
        "cell_frames": {"n_aurora": n_aurora, "n_observed": n_obs},
        "model_loads": loads,
        "loads_per_worker": per_worker,
        "scaling": {
            "frames": frames if args.scaling_frames == "all" else short_frames,
            "one_worker": {s: one["stages"][s]["wall_s"] for s in _archive_pipeline.STAGES},
            "two_workers": {s: two["stages"][s]["wall_s"] for s in _archive_pipeline.STAGES},
            "speedup_by_stage": speedups,
        },
        "speedup_2_workers": round(speedup, 3),
        "memory": {
            "frames_long": frames,
            "frames_short": short_frames,
            "peak_rss_mb_long": totals["all_2w"]["peak_rss_mb"],
            "peak_rss_mb_short": totals["eighth_2w"]["peak_rss_mb"],
            "short_stages": short_run["stages"],
        },
        "rss_8x_over_1x": round(rss_ratio, 3),
        "frames_ratio_long_over_short": round(frames / short_frames, 2),
        "serial": {"year": year, "frames": year_frames, "stages": serial["stages"]},
        "checks": checks,
    }


if __name__ == "__main__":
    raise SystemExit(main())
