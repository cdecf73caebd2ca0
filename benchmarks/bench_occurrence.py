"""Benchmark: occurrence maps from 1.5 million frames, and memory against archive length.

Run with ``python benchmarks/bench_occurrence.py [--quick]``. Prints

1. the time of :func:`aurora_xr.analysis.occurrence.occurrence_map` on 1.5 million x
   400 detections (one frame a minute from 2018-01-01, 70 % of the frames
   usable) held in memory, and dask-chunked (65,536 and 4,096 frames per
   chunk, threaded scheduler), against a naive ``np.add.at`` baseline measured
   in the same run on the same data, with the ratio and a check that the counts
   are equal;
2. the peak resident memory (``VmHWM``) of a child process that runs the whole lazy
   pipeline (segmentation with :class:`~aurora_xr.detect.segmentation.ChannelThresholdPredictor`,
   cell detections, the difference method, usable frames, station MLT, both
   occurrence maps) on a lazily generated archive of 128x128 frames, for an
   archive 1x and 8x as long with the same 64-frame chunks.

``--quick`` uses 300,000 frames for part 1 and a 512-frame short archive for part 2. The
last line printed is one JSON object with the times, ``naive_over_in_memory`` and
``rss_8x_over_1x`` (goal <= 1.1).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import dask
import numpy as np
import xarray as xr

N_FRAMES = 1_500_000
N_CELLS = 400
SHORT = 1536


def detections_benchmark(n_frames: int = N_FRAMES) -> dict[str, float]:
    from aurora_xr.analysis.occurrence import occurrence_map
    from aurora_xr.geo.binning import mlt_bin_index
    from aurora_xr.geo.mlt import station_mlt

    rng = np.random.default_rng(0)
    times = np.datetime64("2018-01-01T00:00", "ns") + np.arange(n_frames) * np.timedelta64(60, "s")
    t0 = time.perf_counter()
    mlt = station_mlt(times, -74.62, 164.22)
    t_mlt = time.perf_counter() - t0
    det = rng.random((n_frames, N_CELLS), dtype=np.float32) < 0.05
    usable = rng.random(n_frames) < 0.7
    det_da = xr.DataArray(
        det, dims=("time", "cell"), coords={"time": times}, attrs={"detector": "fcn"}
    )
    print(
        f"occurrence map from {n_frames:,} x {N_CELLS} detections "
        f"({det.nbytes / 1e6:.0f} MB of bool), 24 MLT bins"
    )
    print(f"  station MLT of all frames (geo.mlt.station_mlt): {t_mlt:6.2f} s")

    t0 = time.perf_counter()
    occ = occurrence_map(det_da, mlt=mlt, usable=usable)
    t_mem = time.perf_counter() - t0
    print(f"  occurrence_map, in memory                : {t_mem:6.2f} s")
    t0 = time.perf_counter()
    occurrence_map(det_da, mlt=mlt, usable=usable, by="year")
    t_year = time.perf_counter() - t0
    print(f"  occurrence_map, in memory, by year       : {t_year:6.2f} s")
    figures = {
        "frames": n_frames,
        "station_mlt_s": round(t_mlt, 3),
        "in_memory_s": round(t_mem, 3),
        "in_memory_by_year_s": round(t_year, 3),
    }
    for chunk in (65_536, 4_096):
        lazy = det_da.chunk({"time": chunk})
        t0 = time.perf_counter()
        with dask.config.set(scheduler="threads"):
            got = occurrence_map(lazy, mlt=mlt, usable=usable).compute()
        t_lazy = time.perf_counter() - t0
        np.testing.assert_array_equal(got.n_aurora.values, occ.n_aurora.values)
        print(f"  occurrence_map, dask chunks of {chunk:6,}   : {t_lazy:6.2f} s")
        figures[f"dask_chunks_{chunk}_s"] = round(t_lazy, 3)

    t0 = time.perf_counter()
    group = mlt_bin_index(mlt, 24)
    keep = usable & (group >= 0)
    naive = np.zeros((24, N_CELLS), np.int64)
    rows = np.flatnonzero(keep)
    np.add.at(naive, (group[rows][:, None], np.arange(N_CELLS)[None, :]), det[rows])
    t_naive = time.perf_counter() - t0
    np.testing.assert_array_equal(naive, occ.n_aurora.values)
    print(
        f"  naive np.add.at baseline                 : {t_naive:6.2f} s"
        f"   -> ratio {t_naive / t_mem:5.1f}x (counts equal)"
    )
    figures["naive_s"] = round(t_naive, 3)
    figures["naive_over_in_memory"] = round(t_naive / t_mem, 2)
    return figures


CHILD = r"""
import json, sys, time
import dask, dask.array as da, numpy as np, pandas as pd, xarray as xr
from aurora_xr import cell_grid
from aurora_xr import occurrence_from_cube
from aurora_xr.detect.segmentation import ChannelThresholdPredictor
from aurora_xr.sky.stations import get_station, placeholder_lens

n, size, chunk = int(sys.argv[1]), 128, 64

def high_water_mb():
    # VmHWM: peak resident set of this process image (reset by exec, unlike ru_maxrss)
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")

def frames(block_info=None):
    loc = block_info[None]["array-location"][0]
    shape = block_info[None]["chunk-shape"]
    rng = np.random.default_rng(loc[0])
    return rng.integers(0, 120, shape, dtype=np.uint8)

image = da.map_blocks(frames, chunks=((chunk,) * (n // chunk), (size,), (size,), (3,)),
                      dtype=np.uint8, meta=np.empty((0, 0, 0, 0), np.uint8))
station = get_station("JBS")
cal = placeholder_lens("JBS", size, size)
times = pd.date_range("2020-06-01", periods=n, freq="1min").values
cube = xr.Dataset({"image": (("time", "y", "x", "channel"), image)},
                  coords={"time": times, "channel": ["R", "G", "B"]},
                  attrs={**station.to_attrs(), **cal.to_attrs()})
grid = cell_grid(cube)
before = high_water_mb()
t0 = time.perf_counter()
model = ChannelThresholdPredictor(low=60.0, high=110.0)
maps = [occurrence_from_cube(cube, detector=m, model=model, cells=grid)
        for m in ("fcn", "difference")]
with dask.config.set(scheduler="threads", num_workers=2):
    out = dask.compute(*maps)
elapsed = time.perf_counter() - t0
peak = high_water_mb()
print(json.dumps({"n": n, "before_mb": before, "peak_mb": peak,
                  "seconds": elapsed, "image_mb": image.nbytes / 1e6,
                  "n_observed": int(out[0].n_observed.sum())}))
"""


def memory_benchmark(short: int = SHORT) -> dict[str, float]:
    print("peak memory of the whole lazy pipeline (both methods, 128x128 frames, 64-frame chunks)")
    peaks = {}
    for factor in (1, 8):
        n = short * factor
        run = subprocess.run(
            [sys.executable, "-c", CHILD, str(n)], capture_output=True, text=True, check=True
        )
        res = json.loads(run.stdout.strip().splitlines()[-1])
        print(
            f"  {factor}x: {n:6,} frames ({res['image_mb']:6.0f} MB of frames): "
            f"peak RSS {res['peak_mb']:6.0f} MB (after imports and grid "
            f"{res['before_mb']:5.0f} MB), {res['seconds']:5.1f} s"
        )
        peaks[factor] = res
    return {
        "frames_1x": short,
        "frames_8x": short * 8,
        "peak_rss_mb_1x": round(peaks[1]["peak_mb"], 1),
        "peak_rss_mb_8x": round(peaks[8]["peak_mb"], 1),
        "pipeline_1x_s": round(peaks[1]["seconds"], 2),
        "pipeline_8x_s": round(peaks[8]["seconds"], 2),
        "rss_8x_over_1x": round(peaks[8]["peak_mb"] / peaks[1]["peak_mb"], 3),
    }


def main(argv: list[str] | None = None) -> None:
    """Run both parts and print the figures; the last line is one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer frames (< 3 minutes)")
    args = parser.parse_args(argv)
    result: dict[str, object] = {
        "benchmark": "bench_occurrence",
        "quick": args.quick,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    result["memory"] = memory_benchmark(512 if args.quick else SHORT)
    result["detections"] = detections_benchmark(300_000 if args.quick else N_FRAMES)
    result["naive_over_in_memory"] = result["detections"]["naive_over_in_memory"]  # type: ignore[index]
    result["rss_8x_over_1x"] = result["memory"]["rss_8x_over_1x"]  # type: ignore[index]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
