"""Check the acceptance of issue 5 on a synthetic archive with any checkpoint.

The paper's finding, with known truth: the FCN's occurrence rates clearly
higher than the difference method's, FCN cell recall on stationary forms
>= 0.9 while the difference method's is <= 0.3, and the largest increase in
the equatorward cells. Prints the figures as JSON.

Usage::

    .venv/bin/aurora-xr demo                      # writes demo_output/cubes
    python scripts/check_acceptance.py demo_output/cubes artifacts/fcn192/best.safetensors
"""

from __future__ import annotations

import argparse
import json
import time

import dask

import aurora_xr
from aurora_xr.cells import cell_grid
from aurora_xr.demo import comparison_summary
from aurora_xr.model import load_model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cubes", help="folder of NetCDF image cubes with aurora_truth")
    parser.add_argument("checkpoint", help="segmentation checkpoint (.safetensors)")
    parser.add_argument("--precision", default="bf16", help="fp32 or bf16 (CPU autocast)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lag", default="2min")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    ds = aurora_xr.open_cube(args.cubes, chunks={"time": 180})
    cells = cell_grid(ds)
    model = load_model(args.checkpoint)
    predictor = model.predictor(batch_size=args.batch_size, precision=args.precision)
    cmp = aurora_xr.compare_methods(aurora_xr.segment(ds, predictor), cells=cells, lag=args.lag)
    with dask.config.set(scheduler="threads"):
        cmp = cmp.compute()
    summary = comparison_summary(cmp)
    out: dict[str, float | int | str | bool] = {
        "checkpoint": str(args.checkpoint),
        "architecture": model.metadata.architecture,
        "frames": int(ds.sizes["time"]),
        **summary,
    }
    out["met"] = bool(
        summary["ratio_fcn_over_difference"] > 1.2
        and summary["recall_fcn_stationary"] >= 0.9
        and summary["recall_difference_stationary"] <= 0.3
        and summary.get("gain_equatorward_low_cells", 0.0)
        > summary.get("gain_poleward_low_cells", 0.0)
    )
    out["seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
