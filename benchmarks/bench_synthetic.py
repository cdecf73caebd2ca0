"""Speed of the synthetic sky on one core (frames per second).

For each frame size it times, on the same frame times and in the same run:

* ``synthetic``   the full generator (default options: clouds, moon, aurora),
* ``static-only`` the sky without aurora, clouds or moon (airglow, Milky Way,
  stars, light dome, silhouette, noise): the floor of any frame,
* ``noise-only``  drawing the sensor noise alone for the same frames with
  numpy (``standard_normal`` + rounding to uint8): the cost of the cheapest
  possible "frame".

It prints frames/s by wall clock and by process CPU time (the latter is
steadier on a shared machine) and the ratios to the baselines. The process
is pinned to one CPU core where the OS allows it; per-process caches (static
layers, magnetic coordinates, textures) are warmed before timing, as they are
in any long run.

Usage::

    .venv/bin/python benchmarks/bench_synthetic.py [--frames 240] [--sizes 256 512]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402

from aurora_xr.datasets import frame_times, synthetic_cube  # noqa: E402

START = "2020-06-21T00:00"


def _timed(func: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Best wall and CPU seconds of ``repeat`` calls."""
    best_wall, best_cpu = np.inf, np.inf
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        func()
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return best_wall, best_cpu


def bench(size: int, n_frames: int, repeat: int) -> dict[str, tuple[float, float]]:
    """frames/s (wall, cpu) of the generator and of the baselines at one size."""
    cadence = f"{max(1, (24 * 60) // n_frames)}min"  # frames spread over a day: all MLTs
    kw = dict(start=START, n_frames=n_frames, cadence=cadence, size=size)
    synthetic_cube(start=START, n_frames=2, size=size, moon=True)  # warm the caches
    synthetic_cube(**kw)  # type: ignore[arg-type]
    rng = np.random.default_rng(0)

    def noise_only() -> None:
        out = np.empty((n_frames, size, size, 3), np.uint8)
        for i in range(n_frames):
            frame = rng.standard_normal((size, size, 3), dtype=np.float32)
            frame *= 3.0
            frame += 25.5
            np.clip(frame, 0, 255, out=frame)
            out[i] = frame

    runs = {
        "synthetic": lambda: synthetic_cube(**kw),  # type: ignore[arg-type]
        "static-only": lambda: synthetic_cube(
            **kw,
            clouds=0.0,
            moon=False,
            activity=0.0,  # type: ignore[arg-type]
        ),
        "noise-only": noise_only,
    }
    result = {}
    for name, func in runs.items():
        wall, cpu = _timed(func, repeat)
        result[name] = (n_frames / wall, n_frames / cpu)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=240)
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        print(f"pinned to CPU core {core}")
    times = frame_times(start=START, n_frames=args.frames, cadence="6min")
    print(f"{args.frames} frames from {times[0]} spread over one day, best of {args.repeat}")
    for size in args.sizes:
        res = bench(size, args.frames, args.repeat)
        syn, stat, noise = res["synthetic"], res["static-only"], res["noise-only"]
        print(
            f"{size}x{size}: synthetic {syn[0]:7.1f} frames/s (cpu {syn[1]:7.1f}) | "
            f"static-only {stat[0]:7.1f} (cpu {stat[1]:7.1f}) | "
            f"noise-only {noise[0]:7.1f} (cpu {noise[1]:7.1f})"
        )
        print(
            f"{'':>{len(str(size)) * 2 + 2}} ratio synthetic/static-only {syn[1] / stat[1]:.2f}, "
            f"synthetic/noise-only {syn[1] / noise[1]:.2f} (cpu time)"
        )


if __name__ == "__main__":
    main()
