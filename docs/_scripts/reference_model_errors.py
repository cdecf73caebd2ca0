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


def counts(pred: np.ndarray, truth: np.ndarray, where: np.ndarray) -> dict[str, Any]:
    """True, false and missed pixels of ``pred`` against ``truth`` where ``where`` is set."""
    tp = int((pred & truth & where).sum())
    fp = int((pred & ~truth & where).sum())
    fn = int((~pred & truth & where).sum())
    iou = tp / (tp + fp + fn) if tp + fp + fn else float("nan")
    return {"true": tp, "false": fp, "missed": fn, "iou": round(iou, 4)}


def breakdown(cube: Any, prob: np.ndarray) -> dict[str, Any]:
    """The pixel errors of one cube split by elevation band, aurora area and night."""
    lens = np.isfinite(cube["elevation"].values)
    truth = (cube["aurora_truth"].values > 0) & lens
    pred = (prob >= 0.5) & lens
    elevation = np.where(lens, cube["elevation"].values, -1.0)
    out: dict[str, Any] = {"all": counts(pred, truth, np.broadcast_to(lens, pred.shape))}
    out["elevation"] = {
        f"{lo}-{hi}": counts(
            pred,
            truth,
            np.broadcast_to((elevation >= lo) & (elevation < hi + (hi == 90)), pred.shape),
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


def output_grid_ceiling(cube: Any, stride: int = 8) -> float:
    """Pixel IoU of the truth itself, averaged to the network's output grid and drawn back.

    LR-ASPP's logits are 1/``stride`` of the input size and bilinearly resampled to
    it: the truth, averaged over ``stride`` x ``stride`` blocks, resampled the same way
    and cut at one half, is the best mask such an output can draw.
    """
    import torch
    import torch.nn.functional as F

    lens = np.isfinite(cube["elevation"].values)
    truth = (cube["aurora_truth"].values > 0) & lens
    blocks = F.avg_pool2d(torch.from_numpy(truth.astype(np.float32))[:, None], stride)
    drawn = F.interpolate(blocks, size=truth.shape[1:], mode="bilinear", align_corners=False)
    best = (drawn[:, 0].numpy() >= 0.5) & lens
    return round(float((best & truth).sum() / (best | truth).sum()), 4)


def threshold_sweep(cube: Any, prob: np.ndarray) -> dict[str, float]:
    """Pixel IoU at thresholds 0.3 to 0.9."""
    lens = np.isfinite(cube["elevation"].values)
    truth = (cube["aurora_truth"].values > 0) & lens
    out = {}
    for threshold in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        pred = (prob >= threshold) & lens
        out[f"{threshold:.1f}"] = round(float((pred & truth).sum() / (pred | truth).sum()), 4)
    return out


def draw(cube: Any, prob: np.ndarray, path: Path, n: int = 3) -> None:
    """The ``n`` frames with the most false pixels and the ``n`` with the most missed ones."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lens = np.isfinite(cube["elevation"].values)
    truth = (cube["aurora_truth"].values > 0) & lens
    pred = (prob >= 0.5) & lens
    false = (pred & ~truth).sum(axis=(1, 2))
    missed = (~pred & truth).sum(axis=(1, 2))
    picks = [(int(i), "false") for i in np.argsort(false)[::-1][:n]]
    picks += [(int(i), "missed") for i in np.argsort(missed)[::-1][:n]]
    fig, axes = plt.subplots(2, n, figsize=(3.2 * n, 6.6))
    for ax, (i, why) in zip(axes.ravel(), picks, strict=True):
        green = cube["image"].values[i, ..., 1].astype(np.float32)
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
    from compare_checkpoints import held_out  # the held-out nights
    from train_reference import default_test_cube  # the one statement of the test set

    from aurora_xr.model import Predictor
    from aurora_xr.pretrained import pretrained

    model: Predictor
    if args.checkpoint is None:
        model = pretrained("reference", device="cpu", precision="fp32", num_threads=1)
    else:
        model = Predictor(args.checkpoint, device="cpu", precision="fp32", num_threads=1)
    t0 = time.perf_counter()
    result: dict[str, Any] = {"model_sha256": model.checksum}
    args.out.mkdir(parents=True, exist_ok=True)
    for name, cube in (
        ("test set", default_test_cube(300, 2, 256)),
        ("held-out nights", held_out(400, 0)[0]),
    ):
        lens = np.isfinite(cube["elevation"].values)
        prob = np.asarray(model(cube["image"].values, lens_mask=lens))
        result[name] = breakdown(cube, prob)
        result[name]["thresholds"] = threshold_sweep(cube, prob)
        result[name]["output_grid_ceiling"] = output_grid_ceiling(cube)
        if name == "test set":
            draw(cube, prob, args.out / "errors.png")
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
