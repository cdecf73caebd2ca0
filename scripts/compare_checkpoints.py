"""Score checkpoints on held-out synthetic nights, to choose between training runs.

The synthetic test set of ``scripts/train_reference.py`` (default-sky seeds 1000 and 1001,
randomised seeds from 100000) reports a model; it must not also choose it. This script
scores checkpoints on nights that neither the test set nor any training run of the
reference model uses: 400 frames of the default sky (4 nights, seeds 980-983, from 25
June, activity 1) and 400 frames of the randomised sky (40 nights, seeds 99000-99039).
The run with the higher mean of the two pixel IoUs is the better on the synthetic sky;
the real frames are the other half of the choice (see docs/concepts/reference_model.md):
with ``--real`` each checkpoint also runs on every real frame of
``docs/_scripts/reference_model_figures.py`` (``../shared``), and its row gets the
largest share of sky flagged on the frames without aurora, how many of those are under
1 %, and how many frames with aurora :func:`aurora_xr.has_aurora` finds.

Usage::

    .venv/bin/python scripts/compare_checkpoints.py [--real] A.safetensors B.safetensors ...

Prints one line per checkpoint and one JSON line with all of them. About a minute and a
half per checkpoint on one core.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

DEFAULT_FIRST_SEED = 980
RANDOM_FIRST_SEED = 99_000
FIGURES = Path(__file__).resolve().parents[1] / "docs" / "_scripts" / "reference_model_figures.py"


def figures() -> ModuleType:
    """``docs/_scripts/reference_model_figures.py``: the real frames and how they are run."""
    if str(FIGURES.parent) not in sys.path:
        sys.path.insert(0, str(FIGURES.parent))
    import reference_model_figures

    return reference_model_figures


def real_frame_summary(model: Any, frames: list[Any]) -> dict[str, Any]:
    """A model on the real frames: the worst clear sky, clear skies under 1 %, auroras found."""
    rows = figures().run(frames, model)
    clear = [r for r in rows if r["content"] == "no aurora"]
    aurora = [r for r in rows if r["content"] == "aurora"]
    return {
        "clear_max_flagged": round(max(r["sky_fraction"] for r in clear), 4),
        "clear_under_1pc": f"{sum(r['sky_fraction'] < 0.01 for r in clear)}/{len(clear)}",
        "aurora_found": f"{sum(r['has_aurora'] for r in aurora)}/{len(aurora)}",
    }


def held_out_default_sky(n_frames: int = 400) -> Any:
    """The held-out nights of the default sky, 100 frames a night, as one cube."""
    from aurora_xr.datasets import synthetic_nights

    return synthetic_nights(
        n_frames,
        max(1, n_frames // 100),
        first_seed=DEFAULT_FIRST_SEED,
        first_day=np.datetime64("2020-06-25"),
        size=256,
        activity=1.0,
    ).load()


def held_out_randomised(n_frames: int = 400) -> list[Any]:
    """The held-out nights of the randomised sky, 10 frames a night: a cube per camera."""
    from aurora_xr.datasets import randomised_nights

    return randomised_nights(
        n_frames, max(1, n_frames // 10), first_seed=RANDOM_FIRST_SEED, size=256
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", type=Path, nargs="+")
    parser.add_argument("--frames", type=int, default=400, help="frames of each sky")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--real", action="store_true", help="also the real frames of ../shared")
    parser.add_argument("--shared", type=Path, default=FIGURES.parents[3] / "shared")
    args = parser.parse_args(argv)
    from aurora_xr.cube.grid import cell_grid
    from aurora_xr.model import Predictor, evaluate

    default, random = held_out_default_sky(args.frames), held_out_randomised(args.frames)
    real = figures().real_frames(args.shared) if args.real else []
    cells = cell_grid(default, n_cells=400)["cell_index"].values
    scores: dict[str, dict[str, Any]] = {}
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
        if real:
            row.update(real_frame_summary(model, real))
        scores[str(path)] = row
        print(f"{path}: {row} ({time.perf_counter() - t0:.0f} s)", flush=True)
    print(json.dumps(scores))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
