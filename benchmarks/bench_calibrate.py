"""Benchmark: calibration from stars on the 2832x2832 KHO colour frame (issue 21: < 60 s).

Run with ``python benchmarks/bench_calibrate.py [--quick] [--figures DIR]``. Prints

* the time of :func:`aurora_xr.sky.starcal.calibrate_from_stars` on
  ``../shared/reference_frames/kho_lyr_20201211_2009_clear_stars.jpg`` (best of
  3, or 1 with ``--quick``), split into its stages (lens circle, point sources,
  catalogue, search and fit), with the stars matched and the residuals;
* a baseline measured in the same run: the full-resolution median filter a
  naive background subtraction would use (31x31 pixels, timed on a quarter-side
  crop and scaled by the area), and the ratio of the two;
* the same calibration on the 512x512 KHO KeoSentry frame and the 256x256
  THEMIS Gakona frame (median of 9), for scale;
* the time of :func:`aurora_xr.sky.lens.sky_grids` for the fitted 2832x2832 lens
  (what ingest computes once per calibration);
* the time of :func:`aurora_xr.sky.obstructions.obstruction_mask` on the 50 TREx Gillam
  frames (256x256, 16-bit) and on the 2832x2832 colour frame, against a baseline measured
  in the same run: the per-pixel percentile over the frames alone (the least any
  sequence-based mask must do), and the ratio of the two.

``--figures DIR`` also writes the calibration figure of each frame there.
The last line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from scipy import ndimage

from aurora_xr.io.formats import read_file
from aurora_xr.sky.lens import sky_grids
from aurora_xr.sky.obstructions import obstruction_mask
from aurora_xr.sky.starcal import (
    calibrate_from_stars,
    catalogue_stars,
    find_lens_circle,
    find_point_sources,
    luminance,
)

SHARED = Path(__file__).resolve().parents[2] / "shared"
KHO = (78.148, 16.043, 520.0)
GAKONA = (62.41, 214.84, 0.0)
LIMIT_S = 60.0


def _best(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _frames() -> dict[str, tuple[np.ndarray, Any, tuple[float, float, float]]]:
    with Image.open(SHARED / "reference_frames" / "kho_lyr_20201211_2009_clear_stars.jpg") as im:
        jpg = np.asarray(im)
    raw = SHARED / "real_sequences" / "kho_keosentry_img" / "W8446B18_2020-12-11_20-09-36.img"
    data = raw.read_bytes()
    img = np.frombuffer(data, "<u2", count=512 * 512, offset=66).reshape(512, 512)
    import cdflib

    cdf = cdflib.CDF(
        str(
            SHARED
            / "real_sequences"
            / "themis_gako_skymap_2011"
            / "thg_l1_asf_gako_2011010617_v01.cdf"
        )
    )
    frames = cdf.varget("thg_asf_gako")[7:16]
    start = float(np.mean(cdf.varget("thg_asf_gako_time")[7:16])) + 0.5
    gako = np.median(frames, axis=0)
    return {
        "kho_sony_2832": (jpg, "2020-12-11T20:09:33", KHO),
        "kho_keosentry_512": (img, "2020-12-11T20:09:36", KHO),
        "themis_gakona_256": (gako, np.datetime64(int(start * 1000), "ms"), GAKONA),
    }


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repeat (CI smoke run)")
    parser.add_argument("--figures", type=Path, help="write the calibration figures here")
    parser.add_argument(
        "--catalogue",
        default="ephem",
        choices=("ephem", "hipparcos", "auto"),
        help="star catalogue (default: ephem, the same on every installation)",
    )
    args = parser.parse_args()
    repeats = 1 if args.quick else 3
    frames = _frames()
    figures: dict[str, Any] = {
        "limit_s": LIMIT_S,
        "repeats": repeats,
        "catalogue": args.catalogue,
        "frames": {},
    }

    jpg, when, site = frames["kho_sony_2832"]
    stages = {
        "lens_circle": lambda: find_lens_circle(jpg),
        "point_sources": lambda: find_point_sources(jpg),
        "catalogue": lambda: catalogue_stars(when, site, catalogue=args.catalogue),
    }
    print(f"KHO Sony a7s frame {jpg.shape}, best of {repeats}:")
    for name, fn in stages.items():
        seconds, _ = _best(fn, repeats)
        figures[f"stage_{name}_s"] = round(seconds, 3)
        print(f"  {name:32s} {seconds:8.2f} s")
    for name, (frame, when, site) in frames.items():
        seconds, result = _best(
            lambda f=frame, w=when, s=site: calibrate_from_stars(f, w, s, catalogue=args.catalogue),
            repeats if name == "kho_sony_2832" else max(repeats, 3),
        )
        figures["frames"][name] = {
            "shape": list(frame.shape),
            "seconds": round(seconds, 3),
            "n_sources": result.n_sources,
            "n_matches": result.n_matches,
            "rms_deg": round(result.rms_deg, 4),
            "worst_deg": round(result.worst_deg, 4),
            "rms_px": round(result.rms_px, 3),
            "worst_px": round(result.worst_px, 3),
        }
        print(f"  calibrate_from_stars {name:20s} {seconds:8.2f} s   {result.summary()}")
        if name == "kho_sony_2832":
            kho = result
        if args.figures is not None:
            import matplotlib

            matplotlib.use("Agg")
            from aurora_xr.plot.starcal import plot_star_calibration

            args.figures.mkdir(parents=True, exist_ok=True)
            ax = plot_star_calibration(result, frame)
            ax.figure.savefig(args.figures / f"starcal_{name}.png", dpi=120)
            result.to_json(args.figures / f"starcal_{name}.json")

    plane = luminance(jpg)
    crop = plane[: plane.shape[0] // 4, : plane.shape[1] // 4]
    t_crop, _ = _best(lambda: ndimage.median_filter(crop, size=31), 1)
    t_naive = t_crop * plane.size / crop.size
    t_cal = figures["frames"]["kho_sony_2832"]["seconds"]
    figures["baseline_median_filter_31_s"] = round(t_naive, 2)
    figures["ratio_baseline_over_calibrate"] = round(t_naive / t_cal, 2)
    figures["ratio_calibrate_over_limit"] = round(t_cal / LIMIT_S, 3)
    print(
        f"baseline: 31x31 median filter of the full frame {t_naive:8.2f} s (from a crop)"
        f"   -> whole calibration is {t_naive / t_cal:5.2f}x faster; "
        f"{t_cal:.1f} s of the {LIMIT_S:.0f} s limit"
    )
    t_grid, _ = _best(lambda: sky_grids(kho.calibration), 1)
    figures["sky_grids_2832_s"] = round(t_grid, 2)
    print(f"sky_grids of the fitted 2832x2832 lens: {t_grid:.2f} s")
    trex = np.concatenate(
        [
            read_file(p).frames
            for p in sorted((SHARED / "real_sequences" / "trex_gill_nir_20220307").glob("*.gz"))
        ]
    )
    for name, stack in (("trex_50x256", trex), ("kho_sony_2832", jpg[None])):
        t_mask, mask = _best(lambda s=stack: obstruction_mask(s), repeats)
        t_pct, _ = _best(lambda s=stack: np.percentile(s, 20.0, axis=0), repeats)
        figures[f"obstruction_{name}_s"] = round(t_mask, 3)
        figures[f"obstruction_{name}_baseline_percentile_s"] = round(t_pct, 3)
        figures[f"obstruction_{name}_masked_fraction"] = round(float(mask.mean()), 4)
        print(
            f"obstruction_mask {name:14s} {t_mask:6.2f} s (percentile alone {t_pct:.2f} s, "
            f"ratio {t_mask / t_pct:.1f}); {mask.mean():.1%} masked"
        )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
