"""Speed of the synthetic sky on one core (frames per second and milliseconds per frame).

For each frame size it times, on the same frame times and in the same run:

* ``synthetic``   the full generator (default options: clouds, moon, aurora),
* ``static-only`` the sky without aurora, clouds or moon (airglow, Milky Way,
  stars, light dome, silhouette, noise): the floor of any frame,
* ``noise-only``  drawing the sensor noise alone for the same frames with
  numpy (``standard_normal`` + rounding to uint8): the cost of the cheapest
  possible "frame";
* ``randomised``  the randomised sky (``realism="randomised"``): the same
  frame times shared out over five cameras in the training mix's proportion
  (three colour, two single-channel), each camera's layers warmed first as
  the default sky's are;
* ``randomised-colour`` the same with five colour cameras (the dearer kind);
* ``randomised-nights`` :func:`~aurora_xr.datasets.randomised_nights` with
  20 frames per night, every night a new camera, at the default sky's
  auroral activity (1): the cost per frame of a training set, per-camera
  set-up included (cold, but for the process-wide tables warmed once).

It prints frames/s and ms/frame by wall clock and by process CPU time (the
latter is steadier on a shared machine) and the ratios to the baselines. The
process is pinned to one CPU core where the OS allows it; per-process caches
(static layers, magnetic coordinates, textures) are warmed before timing, as
they are in any long run. Each figure is the best of ``--repeat`` runs of
``--frames`` frames spread over one day (all MLTs, day and night).

``--against TREE`` also times the renderer of another source tree (for example
an earlier commit, unpacked with ``git archive COMMIT | tar -x -C TREE``) in a
subprocess with the same settings, and prints the per-frame cost of this tree
relative to it (the "at most 2x today's time per frame" check of a richer sky):
``randomised`` of this tree over ``synthetic`` of the other.

The last line of the output is one JSON object with every figure.

Usage::

    .venv/bin/python benchmarks/bench_synthetic.py [--frames 240] [--sizes 256 512]
    .venv/bin/python benchmarks/bench_synthetic.py --quick            # 256 x 256 only, short
    .venv/bin/python benchmarks/bench_synthetic.py --quick --against /tmp/aurora_xr_ref
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

import aurora_xr  # noqa: E402
from aurora_xr.datasets import frame_times, synthetic_cube  # noqa: E402

START = "2020-06-21T00:00"
RUNS = ("synthetic", "static-only", "noise-only")
RANDOMISED_RUNS = ("randomised", "randomised-colour", "randomised-nights")
_CAMERAS = ("colour", "single", "colour", "single", "colour")


def _has_randomised_sky() -> bool:
    import inspect

    return "realism" in inspect.signature(synthetic_cube).parameters


def _timed(func: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Best wall and CPU seconds of ``repeat`` calls."""
    best_wall, best_cpu = np.inf, np.inf
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        func()
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return best_wall, best_cpu


def _cadence(n_frames: int) -> str:
    """Frames spread over one day, so that every MLT and the day/night cycle are sampled."""
    return f"{max(1, (24 * 60) // n_frames)}min"


def _figures(n_frames: int, wall: float, cpu: float) -> dict[str, float]:
    return {
        "frames_per_s_wall": n_frames / wall,
        "frames_per_s_cpu": n_frames / cpu,
        "ms_per_frame_wall": 1e3 * wall / n_frames,
        "ms_per_frame_cpu": 1e3 * cpu / n_frames,
    }


def bench(size: int, n_frames: int, repeat: int) -> dict[str, dict[str, float]]:
    """Figures (see :func:`_figures`) of the generator and of the baselines at one size."""
    kw: dict[str, Any] = dict(start=START, n_frames=n_frames, cadence=_cadence(n_frames), size=size)
    synthetic_cube(start=START, n_frames=2, size=size, moon=True)  # warm the caches
    synthetic_cube(**kw)
    rng = np.random.default_rng(0)

    def noise_only() -> None:
        out = np.empty((n_frames, size, size, 3), np.uint8)
        for i in range(n_frames):
            frame = rng.standard_normal((size, size, 3), dtype=np.float32)
            frame *= 3.0
            frame += 25.5
            np.clip(frame, 0, 255, out=frame)
            out[i] = frame

    runs: dict[str, Callable[[], object]] = {
        "synthetic": lambda: synthetic_cube(**kw),
        "static-only": lambda: synthetic_cube(**kw, clouds=0.0, moon=False, activity=0.0),
        "noise-only": noise_only,
    }
    if _has_randomised_sky():
        runs.update(_randomised_runs(size, n_frames))
    return {name: _figures(n_frames, *_timed(func, repeat)) for name, func in runs.items()}


def _randomised_runs(size: int, n_frames: int) -> dict[str, Callable[[], object]]:
    """The randomised sky: a warm mix of five cameras, five colour cameras, cold nights."""
    from aurora_xr.datasets import randomised_nights

    per = n_frames // len(_CAMERAS)
    counts = [per + (1 if k < n_frames % len(_CAMERAS) else 0) for k in range(len(_CAMERAS))]

    def mix(kinds: tuple[str, ...]) -> Callable[[], object]:
        def run() -> None:
            for seed, (kind, count) in enumerate(zip(kinds, counts, strict=True)):
                synthetic_cube(start=START, n_frames=count, cadence=_cadence(count), size=size,
                               seed=seed, realism="randomised", camera=kind)  # fmt: skip

        for seed, kind in enumerate(kinds):  # warm each camera's layers
            synthetic_cube(start=START, n_frames=2, size=size, seed=seed, realism="randomised",
                           camera=kind)  # fmt: skip
        return run

    nights = max(1, n_frames // 20)
    first = iter(range(10_000, 10_000_000, nights))  # a new set of cameras for every repeat
    randomised_nights(4, 4, first_seed=9_999_000, size=size)  # warm the shared tables

    return {
        "randomised": mix(_CAMERAS),
        "randomised-colour": mix(("colour",) * len(_CAMERAS)),
        "randomised-nights": lambda: randomised_nights(
            n_frames, nights, first_seed=next(first), size=size, activity=1.0
        ),
    }


def _print_size(size: int, res: dict[str, dict[str, float]]) -> None:
    syn, stat, noise = (res[name] for name in RUNS)
    to_static = syn["frames_per_s_cpu"] / stat["frames_per_s_cpu"]
    to_noise = syn["frames_per_s_cpu"] / noise["frames_per_s_cpu"]
    pad = " " * (len(str(size)) * 2 + 2)
    print(
        f"{size}x{size}: synthetic {syn['frames_per_s_wall']:7.1f} frames/s "
        f"(cpu {syn['frames_per_s_cpu']:7.1f}) | "
        f"static-only {stat['frames_per_s_wall']:7.1f} (cpu {stat['frames_per_s_cpu']:7.1f}) | "
        f"noise-only {noise['frames_per_s_wall']:7.1f} (cpu {noise['frames_per_s_cpu']:7.1f})"
    )
    print(
        f"{pad} per frame: synthetic {syn['ms_per_frame_wall']:6.2f} ms "
        f"(cpu {syn['ms_per_frame_cpu']:6.2f} ms) | static-only "
        f"{stat['ms_per_frame_wall']:6.2f} ms (cpu {stat['ms_per_frame_cpu']:6.2f} ms) | "
        f"noise-only {noise['ms_per_frame_wall']:6.2f} ms (cpu {noise['ms_per_frame_cpu']:6.2f} ms)"
    )
    print(
        f"{pad} ratio synthetic/static-only {to_static:.2f}, synthetic/noise-only "
        f"{to_noise:.2f} (frames/s, cpu time)"
    )
    for name in RANDOMISED_RUNS:
        if name in res:
            r = res[name]
            print(
                f"{pad} {name}: {r['ms_per_frame_wall']:6.2f} ms/frame "
                f"(cpu {r['ms_per_frame_cpu']:6.2f} ms), "
                f"{r['ms_per_frame_cpu'] / syn['ms_per_frame_cpu']:.2f}x the default sky (cpu)"
            )


def _run_against(tree: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The JSON result of this benchmark run on the aurora_xr of another source tree."""
    if not (tree / "aurora_xr" / "__init__.py").is_file():
        raise SystemExit(f"--against: expected a source tree holding aurora_xr/; found {tree}")
    cmd = [sys.executable, __file__, "--frames", str(args.frames), "--repeat", str(args.repeat)]
    cmd += ["--sizes", *(str(s) for s in args.sizes)]
    env = {**os.environ, "PYTHONPATH": str(tree.resolve())}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    print(f"against {tree}:")
    print("\n".join("  " + line for line in done.stdout.strip().splitlines()[:-1]))
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=240)
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--quick", action="store_true", help="a short run: 120 frames at 256 x 256, best of 2"
    )
    parser.add_argument(
        "--against",
        type=Path,
        default=None,
        help="also time the aurora_xr of this source tree and give the ratio of the costs",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.frames, args.sizes, args.repeat = 120, [256], 2
    reference = _run_against(args.against, args) if args.against is not None else None
    if hasattr(os, "sched_setaffinity"):
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        print(f"pinned to CPU core {core}")
    print(f"aurora_xr from {Path(aurora_xr.__file__).parent}")
    times = frame_times(start=START, n_frames=args.frames, cadence=_cadence(args.frames))
    print(
        f"{args.frames} frames from {times[0]} every {_cadence(args.frames)}, best of {args.repeat}"
    )
    result: dict[str, Any] = {
        "benchmark": "synthetic",
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "aurora_xr": str(Path(aurora_xr.__file__).parent),
        "frames": args.frames,
        "repeat": args.repeat,
        "sizes": {},
    }
    for size in args.sizes:
        res = bench(size, args.frames, args.repeat)
        _print_size(size, res)
        result["sizes"][str(size)] = res
        ratios_here = {
            f"synthetic/{base}": res["synthetic"]["frames_per_s_cpu"]
            / res[base]["frames_per_s_cpu"]
            for base in ("static-only", "noise-only")
        }
        for name in RANDOMISED_RUNS:
            if name in res:  # cost per frame over the default sky's, same run
                ratios_here[f"{name}/synthetic"] = (
                    res[name]["ms_per_frame_cpu"] / res["synthetic"]["ms_per_frame_cpu"]
                )
        result.setdefault("ratios", {})[str(size)] = ratios_here
    if reference is not None:
        ratios = {}
        for size in args.sizes:
            ours = result["sizes"][str(size)]["synthetic"]
            theirs = reference["sizes"][str(size)]["synthetic"]
            ratios[str(size)] = {
                kind: ours[f"ms_per_frame_{kind}"] / theirs[f"ms_per_frame_{kind}"]
                for kind in ("wall", "cpu")
            }
            print(
                f"{size}x{size}: synthetic ms/frame this tree / {args.against}: "
                f"{ratios[str(size)]['cpu']:.2f} (cpu), {ratios[str(size)]['wall']:.2f} (wall)"
            )
            for name in RANDOMISED_RUNS:
                if name in result["sizes"][str(size)]:
                    mine = result["sizes"][str(size)][name]["ms_per_frame_cpu"]
                    ratios[str(size)][f"{name}/their synthetic (cpu)"] = (
                        mine / theirs["ms_per_frame_cpu"]
                    )
                    print(
                        f"{size}x{size}: {name} ms/frame this tree / synthetic of "
                        f"{args.against}: {mine / theirs['ms_per_frame_cpu']:.2f} (cpu)"
                    )
        result["against"] = {"tree": str(args.against), "result": reference, "ratio": ratios}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
