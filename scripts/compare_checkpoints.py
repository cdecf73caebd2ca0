"""Score checkpoints on held-out synthetic nights, to choose between training runs.

The synthetic test set of ``scripts/train_reference.py`` (default-sky seeds 1000 and 1001,
randomised seeds from 100000) reports a model; it must not also choose it. This script
scores checkpoints on nights that neither the test set nor any training run of the
reference model uses: 400 frames of the default sky (4 nights, seeds 980-983, from 25
June, activity 1) and 400 frames of the randomised sky (40 nights, seeds 99000-99039).
The run with the higher mean of the two pixel IoUs is the better on the synthetic sky;
the real frames (``docs/_scripts/reference_model_figures.py --checkpoint FILE``) are the
other half of the choice (see docs/concepts/reference_model.md).

Usage::

    .venv/bin/python scripts/compare_checkpoints.py A.safetensors B.safetensors ...

Prints one line per checkpoint and one JSON line with all of them. About a minute and a
half per checkpoint on one core.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_FIRST_SEED = 980
RANDOM_FIRST_SEED = 99_000


def held_out(n_default: int = 400, n_random: int = 400) -> tuple[Any, list[Any]]:
    """The held-out nights: one default-sky cube and the randomised cameras' cubes."""
    from aurora_xr.datasets import randomised_nights, synthetic_nights

    default = synthetic_nights(
        n_default,
        max(1, n_default // 100),
        first_seed=DEFAULT_FIRST_SEED,
        first_day=np.datetime64("2020-06-25"),
        size=256,
        activity=1.0,
    ).load()
    if not n_random:
        return default, []
    random = randomised_nights(
        n_random, max(1, n_random // 10), first_seed=RANDOM_FIRST_SEED, size=256
    )
    return default, random


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", type=Path, nargs="+")
    parser.add_argument("--frames", type=int, default=400, help="frames of each sky")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    from aurora_xr.cube.grid import cell_grid
    from aurora_xr.model import Predictor, evaluate

    default, random = held_out(args.frames, args.frames)
    cells = cell_grid(default, n_cells=400)["cell_index"].values
    scores: dict[str, dict[str, float]] = {}
    for path in args.checkpoints:
        t0 = time.perf_counter()
        model = Predictor(path, device="cpu", precision="fp32", num_threads=args.threads)
        d = evaluate(model, default, split="all", cell_index=cells)
        r = evaluate(model, random, split="all")
        row = {
            "default_pixel_iou": round(d.pixel["iou"], 4),
            "default_cell_f1": round((d.cells or {}).get("f1", float("nan")), 4),
            "random_pixel_iou": round(r.pixel["iou"], 4),
        }
        row["mean_pixel_iou"] = round((row["default_pixel_iou"] + row["random_pixel_iou"]) / 2, 4)
        scores[str(path)] = row
        print(f"{path}: {row} ({time.perf_counter() - t0:.0f} s)", flush=True)
    print(json.dumps(scores))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
