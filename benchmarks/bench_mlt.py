"""Benchmark: station MLT for 1.5 million frames, and pixel AACGM coordinates.

Run with ``python benchmarks/bench_mlt.py [--quick]``. Prints

* the time of :func:`aurora_xr.geo.mlt.station_mlt` on 1.5 million one-minute
  timestamps from 2018-01-01 (to late 2020);
* two baselines measured in the same run on a 2,000-timestamp sample and
  extrapolated to 1.5 million: ``aacgmv2.convert_mlt`` called once on the
  whole sample (station magnetic longitude precomputed), and the naive
  per-frame loop (``convert_latlon`` + ``convert_mlt`` for every frame);
* the largest difference between the fast MLT and the direct calls;
* the time of :func:`aurora_xr.geo.aacgm.pixel_magnetic_coords` for a 512x512
  grid (first call, and again from the per-epoch cache).

``--quick`` samples 500 timestamps for the baselines instead of 2,000 (the fast MLT
still runs on all 1.5 million). The last line printed is one JSON object with the
times and the ratios ``array_call_over_fast`` and ``per_frame_over_fast``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time

import aacgmv2
import numpy as np

from aurora_xr.geo import aacgm
from aurora_xr.geo import mlt as geo_mlt
from aurora_xr.sky.lens import sky_grids
from aurora_xr.sky.stations import get_station, placeholder_lens

N_FRAMES = 1_500_000
N_SAMPLE = 2_000


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the figures; the last line is one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller baseline sample")
    args = parser.parse_args(argv)
    n_sample = 500 if args.quick else N_SAMPLE
    station = get_station("JBS")
    lat0, lon0 = station.latitude, station.longitude
    start = np.datetime64("2018-01-01T00:00", "ns")
    times = start + np.arange(N_FRAMES) * np.timedelta64(60, "s")
    print(f"station_mlt: {N_FRAMES:,} one-minute times, {times[0]} .. {times[-1]}")

    geo_mlt.station_mlt(times[:10], lat0, lon0)  # warm up imports and coefficient files
    t0 = time.perf_counter()
    fast = geo_mlt.station_mlt(times, lat0, lon0)
    t_fast = time.perf_counter() - t0
    print(f"  aurora_xr.geo.mlt.station_mlt          : {t_fast:8.2f} s")

    rng = np.random.default_rng(0)
    pick = np.sort(rng.choice(N_FRAMES, n_sample, replace=False))
    sample = [dt.datetime.fromisoformat(str(np.datetime64(t, "s"))) for t in times[pick]]
    mlon = float(aacgm.aacgm_coords(lat0, lon0, altitude_km=110.0, when=2019)[1])

    t0 = time.perf_counter()
    aacgmv2.convert_mlt(np.full(n_sample, mlon), np.array(sample, dtype=object))
    t_vec = (time.perf_counter() - t0) * N_FRAMES / n_sample
    print(
        f"  aacgmv2.convert_mlt, one array call   : {t_vec:8.2f} s (extrapolated)"
        f"  -> ratio {t_vec / t_fast:6.1f}x"
    )

    t0 = time.perf_counter()
    direct = np.empty(n_sample)
    for i, when in enumerate(sample):
        m = aacgmv2.convert_latlon_arr([lat0], [lon0], 110.0, when, method_code="G2A")[1][0]
        direct[i] = aacgmv2.convert_mlt(m, when)[0]
    t_loop = (time.perf_counter() - t0) * N_FRAMES / n_sample
    print(
        f"  aacgmv2 per frame (latlon + mlt)      : {t_loop:8.2f} s (extrapolated)"
        f"  -> ratio {t_loop / t_fast:6.1f}x"
    )
    err = np.abs((fast[pick] - direct + 12.0) % 24.0 - 12.0)
    print(f"  largest |fast - direct| on the sample : {err.max():.5f} h")

    cal = placeholder_lens("JBS", 512, 512)
    el, az = sky_grids(cal)
    t0 = time.perf_counter()
    aacgm.pixel_magnetic_coords(el, az, lat0, lon0, altitude_km=110.0, when=2020)
    t_pix = time.perf_counter() - t0
    t0 = time.perf_counter()
    aacgm.pixel_magnetic_coords(el, az, lat0, lon0, altitude_km=110.0, when=2020)
    t_cached = time.perf_counter() - t0
    n_sky = int(np.isfinite(el).sum())
    print(
        f"pixel_magnetic_coords 512x512 ({n_sky:,} sky pixels): {t_pix:.2f} s, "
        f"cached {t_cached * 1000:.1f} ms"
    )
    result = {
        "benchmark": "bench_mlt",
        "quick": args.quick,
        "frames": N_FRAMES,
        "baseline_sample": n_sample,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "station_mlt_s": round(t_fast, 3),
        "array_call_s_extrapolated": round(t_vec, 2),
        "per_frame_s_extrapolated": round(t_loop, 1),
        "array_call_over_fast": round(t_vec / t_fast, 1),
        "per_frame_over_fast": round(t_loop / t_fast, 1),
        "max_error_h": float(err.max()),
        "pixel_coords_512_s": round(t_pix, 3),
        "pixel_coords_512_cached_ms": round(t_cached * 1000, 2),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
