"""Where the reference model errs on the synthetic sky: by elevation, by aurora size, by night.

The shipped model ``aurora_xr.pretrained("reference")`` (or ``--checkpoint``) on the
synthetic test set of ``scripts/train_reference.py`` (the default sky, seeds 1000 and
1001) and on held-out nights of the same sky that neither training nor the test set
uses (those of ``scripts/compare_checkpoints.py``: seeds 980-983, from 25 June),
threshold 0.5, pixels inside the lens. The pixel errors are split:

* by elevation band (0-15, 15-30, 30-60, 60-90 degrees): where on the lens they lie;
* by the frame's area of visible aurora (none, under 500 pixels, ... , over 5000):
  which frames they come from (a frame with more than 5000 of its 256 x 256 pixels
  aurora is mostly sky-wide diffuse aurora);
* by night (the frames of a night start on the date given): how much one night's
  score differs from another's.

Outputs in ``--out`` (default ``docs/_static/reference_model``): ``errors.json``,
``errors.png`` (the three frames with the most false pixels and the three with the most
missed ones: the green band with the truth outlined in green and the mask in magenta)
and the tables in Markdown on stdout. With them: the pixel IoU at thresholds from 0.3 to
0.9, the truth's own IoU on the network's stride-8 output grid (what the output can draw
at best) and, with ``--tta``, the test set's scores with ``tta="dihedral"``. About a
minute on one core (three with ``--tta``).

Usage::

    .venv/bin/python docs/_scripts/reference_model_errors.py [--checkpoint FILE] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "_static" / "reference_model"
BANDS = ((0, 15), (15, 30), (30, 60), (60, 90))
AREAS = ((0, 1), (1, 500), (500, 2000), (2000, 5000), (5000, None))


def lens_and_truth(cube: Any) -> tuple[np.ndarray, np.ndarray]:
    """The lens (finite elevation) and the truth inside it, (time, y, x)."""
    lens = np.isfinite(cube["elevation"].values)
    return lens, (cube["aurora_truth"].values > 0) & lens


def counts(pred: np.ndarray, truth: np.ndarray, where: np.ndarray) -> dict[str, Any]:
    """True, false and missed pixels of ``pred`` against ``truth`` where ``where`` is set."""
    from aurora_xr.model.metrics import confusion_counts, scores

    tp, fp, fn, tn = confusion_counts(pred, truth, where)
    return {"true": tp, "false": fp, "missed": fn, "iou": round(scores(tp, fp, fn, tn)["iou"], 4)}


def breakdown(cube: Any, prob: np.ndarray) -> dict[str, Any]:
    """The pixel errors of one cube split by elevation band, aurora area and night."""
    lens, truth = lens_and_truth(cube)
    pred = prob >= 0.5
    elevation = np.where(lens, cube["elevation"].values, -1.0)
    out: dict[str, Any] = {"all": counts(pred, truth, lens)}
    out["elevation"] = {
        f"{lo}-{hi}": counts(
            pred, truth, (elevation >= lo) & (elevation < (np.inf if hi == 90 else hi))
        )
        for lo, hi in BANDS
    }
    area = truth.sum(axis=(1, 2))
    out["aurora_area"] = {}
    for lo, hi in AREAS:
        frames = (area >= lo) & (area < (hi if hi is not None else np.inf))
        key = f"{lo}-{hi}" if hi is not None else f">={lo}"
        out["aurora_area"][key] = {
            "frames": int(frames.sum()),
            **counts(pred, truth, frames[:, None, None] & lens),
        }
    times = cube["time"].values
    # a night is a run of frames without a gap of 6 hours (the synthetic nights are days apart)
    night = np.concatenate([[0], np.cumsum(np.diff(times) > np.timedelta64(6, "h"))])
    out["nights"] = {
        str(times[night == k][0])[:10]: counts(pred, truth, (night == k)[:, None, None] & lens)
        for k in np.unique(night)
    }
    return out


def output_grid_ceiling(lens: np.ndarray, truth: np.ndarray, stride: int = 8) -> float:
    """Pixel IoU of the truth itself, averaged to the network's output grid and drawn back.

    LR-ASPP's logits are 1/``stride`` of the input size and bilinearly resampled to
    it: the truth, averaged over ``stride`` x ``stride`` blocks, resampled the same way
    and cut at one half, is the best mask such an output can draw.
    """
    import torch
    import torch.nn.functional as F

    blocks = F.avg_pool2d(torch.from_numpy(truth.astype(np.float32))[:, None], stride)
    drawn = F.interpolate(blocks, size=truth.shape[1:], mode="bilinear", align_corners=False)
    return float(counts(drawn[:, 0].numpy() >= 0.5, truth, lens)["iou"])


def threshold_sweep(lens: np.ndarray, truth: np.ndarray, prob: np.ndarray) -> dict[str, float]:
    """Pixel IoU at thresholds 0.3 to 0.9."""
    thresholds = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
    return {f"{t:.1f}": float(counts(prob >= t, truth, lens)["iou"]) for t in thresholds}


def draw(
    cube: Any, lens: np.ndarray, truth: np.ndarray, prob: np.ndarray, path: Path, n: int = 3
) -> None:
    """The ``n`` frames with the most false pixels and the ``n`` with the most missed ones."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pred = (prob >= 0.5) & lens
    images = cube["image"].values
    false = (pred & ~truth).sum(axis=(1, 2))
    missed = (~pred & truth).sum(axis=(1, 2))
    picks = [(int(i), "false") for i in np.argsort(false)[::-1][:n]]
    picks += [(int(i), "missed") for i in np.argsort(missed)[::-1][:n]]
    fig, axes = plt.subplots(2, n, figsize=(3.2 * n, 6.6))
    for ax, (i, why) in zip(axes.ravel(), picks, strict=True):
        green = images[i, ..., 1].astype(np.float32)
        lo, hi = np.percentile(green[lens], (1, 99.5))
        ax.imshow(np.where(lens, green, lo), cmap="gray", vmin=lo, vmax=hi)
        ax.contour(truth[i], [0.5], colors="lime", linewidths=0.8)
        ax.contour(pred[i], [0.5], colors="magenta", linewidths=0.8)
        ax.set_title(f"{why}: {false[i]} false, {missed[i]} missed", fontsize=8)
        ax.set_axis_off()
    fig.tight_layout()
    fig.savefig(path, dpi=80, bbox_inches="tight")
    plt.close(fig)


def markdown(result: dict[str, Any]) -> str:
    """The breakdown of each cube as Markdown tables."""
    lines: list[str] = []
    for name, part in result.items():
        if not isinstance(part, dict) or "all" not in part:
            continue
        lines += [
            f"**{name}**: pixel IoU {part['all']['iou']}; by threshold {part['thresholds']}; "
            f"the truth on the stride-8 output grid {part['output_grid_ceiling']}",
            "",
        ]
        lines += [
            "| split | frames | true | false | missed | IoU |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        rows = [(f"elevation {k} deg", "", r) for k, r in part["elevation"].items()]
        rows += [(f"aurora area {k} px", r["frames"], r) for k, r in part["aurora_area"].items()]
        rows += [(f"night of {k}", "", r) for k, r in part["nights"].items()]
        for label, frames, r in rows:
            counted = f"{r['true']} | {r['false']} | {r['missed']} | {r['iou']}"
            lines.append(f"| {label} | {frames} | {counted} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=None, help="another checkpoint")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--tta", action="store_true", help='also score tta="dihedral" on the test set (8 passes)'
    )
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "scripts"))
    from compare_checkpoints import held_out_default_sky  # the held-out nights
    from reference_model_figures import load_model  # this script's folder
    from train_reference import default_test_cube  # the one statement of the test set

    model = load_model(args.checkpoint)
    t0 = time.perf_counter()
    result: dict[str, Any] = {"model_sha256": model.checksum}
    args.out.mkdir(parents=True, exist_ok=True)
    for name, cube in (
        ("test set", default_test_cube(300, 2, 256)),
        ("held-out nights", held_out_default_sky(400)),
    ):
        lens, truth = lens_and_truth(cube)
        prob = np.asarray(model(cube["image"].values, lens_mask=lens))
        result[name] = breakdown(cube, prob)
        result[name]["thresholds"] = threshold_sweep(lens, truth, prob)
        result[name]["output_grid_ceiling"] = output_grid_ceiling(lens, truth)
        if name == "test set":
            draw(cube, lens, truth, prob, args.out / "errors.png")
            if args.tta:
                tta = model.with_tta("dihedral")
                again = np.asarray(tta(cube["image"].values, lens_mask=lens))
                result[name]["dihedral_tta"] = breakdown(cube, again)["all"]
    (args.out / "errors.json").write_text(json.dumps(result, indent=1))
    print(markdown(result))
    print(f"in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
