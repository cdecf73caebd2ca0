"""Benchmark: the difference method (Jee et al. 2021) in frames per second.

Run with ``python benchmarks/bench_difference.py [--quick]``. For 256x256 and 512x512
frames on the 400-cell grid of JBS it prints the frames per second of

* :func:`aurora_xr.detect.difference.difference_detect` on an in-memory cube;
* the same on a dask-chunked cube (threaded scheduler, 32 frames per chunk);
* a baseline measured in the same run: a plain numpy loop over frames that
  differences each frame with its partner and averages ``|d|`` over the
  pixels of each cell with one fancy-index per cell (400 per frame);

and checks that all three give the same statistic. Frames are random 8-bit
noise (the cost does not depend on the content). ``--quick`` uses a quarter of the
frames. The last line printed is one JSON object with the frames per second and the
ratios ``eager_over_loop`` and ``dask_over_loop`` per size.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable

import dask
import numpy as np
import pandas as pd
import xarray as xr

from aurora_xr.cube.grid import cell_grid
from aurora_xr.detect.difference import difference_detect
from aurora_xr.detect.difference_kernels import partner_indices
from aurora_xr.sky.stations import get_station, placeholder_lens

FRAMES = {256: 480, 512: 192}
CHUNK = 32


def make_cube(size: int, n: int) -> xr.Dataset:
    """A random 8-bit cube on JBS, one frame a minute."""
    rng = np.random.default_rng(size)
    station = get_station("JBS")
    cal = placeholder_lens(station.code, size, size)
    times = pd.date_range("2020-06-20", periods=n, freq="1min").values
    image = rng.integers(0, 60, (n, size, size, 3), dtype=np.uint8)
    return xr.Dataset(
        {"image": (("time", "y", "x", "channel"), image)},
        coords={"time": times, "channel": ["R", "G", "B"]},
        attrs={**station.to_attrs(), **cal.to_attrs()},
    )


def baseline(image: np.ndarray, cell_index: np.ndarray, lag: str, times: np.ndarray) -> np.ndarray:
    """Plain numpy loop: per frame, per cell mean of |frame - partner| in R and G."""
    n_cells = int(cell_index.max()) + 1
    flat = cell_index.ravel()
    pixels = [np.flatnonzero(flat == c) for c in range(n_cells)]
    partner, observed = partner_indices(times, lag)
    out = np.full((image.shape[0], n_cells, 2), np.nan, dtype=np.float32)
    for t in range(image.shape[0]):
        if not observed[t]:
            continue
        d = np.abs(image[t, ..., :2].astype(np.int16) - image[partner[t], ..., :2])
        d = d.reshape(-1, 2)
        for c, where in enumerate(pixels):
            out[t, c] = d[where].mean(axis=0)
    return out


def timed(func: Callable[[], np.ndarray], repeat: int = 2) -> tuple[float, np.ndarray]:
    best, result = np.inf, np.empty(0)
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - t0)
    return best, result


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the figures; the last line is one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a quarter of the frames")
    args = parser.parse_args(argv)
    print(f"difference method, lag 2 min, R and G, 400 cells, {os.cpu_count()} CPUs")
    result: dict[str, object] = {
        "benchmark": "bench_difference",
        "quick": args.quick,
        "chunk": CHUNK,
        "cpu_count": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    for size, n_full in FRAMES.items():
        n = n_full // 4 if args.quick else n_full
        cube = make_cube(size, n)
        grid = cell_grid(cube)
        index = grid["cell_index"].values
        times = cube.time.values

        def eager(cube: xr.Dataset = cube, grid: xr.Dataset = grid) -> np.ndarray:
            out = difference_detect(cube, cells=grid)
            return np.asarray(out.difference_statistic.values)

        def chunked(cube: xr.Dataset = cube, grid: xr.Dataset = grid) -> np.ndarray:
            out = difference_detect(cube.chunk({"time": CHUNK}), cells=grid)
            with dask.config.set(scheduler="threads"):
                return np.asarray(out.difference_statistic.values)

        def loop(
            cube: xr.Dataset = cube, index: np.ndarray = index, times: np.ndarray = times
        ) -> np.ndarray:
            return baseline(cube.image.values, index, "2min", times)

        t_eager, s_eager = timed(eager)
        t_chunk, s_chunk = timed(chunked)
        t_base, s_base = timed(loop, repeat=1)
        np.testing.assert_allclose(s_eager, s_base, rtol=1e-5)
        np.testing.assert_allclose(s_chunk, s_base, rtol=1e-5)
        print(f"  {size}x{size}, {n} frames:")
        print(f"    difference_detect, in memory   : {n / t_eager:8.1f} frames/s")
        print(f"    difference_detect, dask chunks : {n / t_chunk:8.1f} frames/s")
        print(
            f"    plain numpy loop (baseline)    : {n / t_base:8.1f} frames/s"
            f"   -> speed-up {t_base / t_eager:5.1f}x (in memory), "
            f"{t_base / t_chunk:5.1f}x (dask)"
        )
        result[f"frames_{size}"] = n
        result[f"eager_fps_{size}"] = round(n / t_eager, 1)
        result[f"dask_fps_{size}"] = round(n / t_chunk, 1)
        result[f"loop_fps_{size}"] = round(n / t_base, 1)
        result[f"eager_over_loop_{size}"] = round(t_base / t_eager, 2)
        result[f"dask_over_loop_{size}"] = round(t_base / t_chunk, 2)
    result["same_statistic"] = True  # asserted above
    print(json.dumps(result))


if __name__ == "__main__":
    main()
