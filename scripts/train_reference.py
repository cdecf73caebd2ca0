"""Train the shipped reference model, score it, and export it (issue 22, items 4 and 6).

The recipe
----------
1. Training data, one list of cubes (:class:`aurora_xr.model.CubeSource`, which
   reads cameras of different lenses, channels and bit depths side by side):

   * ``--random-frames`` frames of the randomised sky, from ``--random-nights``
     nights (seeds 0, 1, ...): every night a new camera (40 % single-channel:
     white light, 557.7, 630.0 or 427.8 nm; 8 to 16 bits; its own lens, landscape
     and overlays) under a new night of confounders (Moon, twilight, lit haze,
     light domes, lamps, clouds, frost and snow, transients) at activity 3
     (:func:`aurora_xr.datasets.randomised_nights`);
   * ``--default-frames`` frames of the default sky, from ``--default-nights``
     nights (seeds 0, 1, ...; from 20 May, activity 2), the sky of the tests,
     the demo and the synthetic test set (as ``scripts/train_synthetic.py``
     trains on it), so that the model loses nothing there.

2. Training: :func:`aurora_xr.model.train` of ``lraspp_mobilenet_v3_large``
   from scratch (no downloadable weights) at 256 px, with the robust levels and
   the ``"real_sky"`` augmentation (rotation, mirror and zoom about the zenith,
   brightness, contrast, colour, black level, gamma, noise, resolution, JPEG,
   grey frames), BCE + Dice, AdamW with a one-cycle schedule, fp32 (on this
   CPU the depthwise convolutions of MobileNetV3 train faster in fp32 than in
   bf16), a checkpoint every epoch (``last.safetensors``, and the resumable
   state: run the same command again to go on after a crash), the best by
   validation IoU kept. 8 % of the frames validate; the tests below use nights
   the run never saw.

3. Test sets (other seeds):

   * the **synthetic test set** of ``scripts/train_synthetic.py``: 300 frames of
     the default sky from two nights, seeds 1000 and 1001, from 19 June, natural
     activity, 256 px; pixel IoU and F1, cell F1 over the 400 equal-area cells (a
     cell is auroral when >= 10 % of its pixels are), recall of the stationary
     forms per pixel and per cell, image-level scores with
     :func:`aurora_xr.has_aurora` (aurora when >= 1 % of the sky is);
   * the **demo's comparison**: ``--demo-days`` of the archive of ``aurora-xr demo``
     (from 19 June, a frame every 2 minutes, 128 px, seed 2020), segmented and
     compared with the difference method by :func:`aurora_xr.compare_methods`,
     which gives the FCN's cell recall by form as the demo reports it (issue 22:
     "stationary-form recall >= 0.9; the demo model reaches 0.77");
   * a **randomised test set**: ``--random-test-frames`` frames of
     ``--random-test-nights`` randomised nights, seeds from 100000; each camera's
     frames scored with its own lens.

   The bar (issue 22): pixel IoU >= 0.80, cell F1 >= 0.90 and stationary recall
   >= 0.9 (the lower of the test set's cell recall and the demo comparison's).

4. Export: the best checkpoint with its tensors in float16 (half the bytes; the
   scores are measured again on the exported file) as
   ``aurora_xr/pretrained/reference.safetensors``, with its SHA-256 for the
   registry :data:`aurora_xr.pretrained.REGISTRY`.

Usage::

    .venv/bin/python scripts/train_reference.py                       # the full recipe
    .venv/bin/python scripts/train_reference.py --train-only          # train (resumes)
    .venv/bin/python scripts/train_reference.py --evaluate-only --export   # score, export
    .venv/bin/python scripts/train_reference.py --quick --out-dir /tmp/q   # smoke test (~1 min)

A run interrupted resumes where it stopped when started again with the same options.
The shipped file was made in three stages, each starting from the last one's best
checkpoint (``--init``); the exact commands, their wall times and the scores are in
``docs/concepts/reference_model.md``.
The record of every run is ``quality.json`` in ``--out-dir``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

ROOT = Path(__file__).resolve().parents[1]
ARCH = "lraspp_mobilenet_v3_large"
BAR = {"pixel_iou": 0.80, "cell_f1": 0.90, "stationary_recall": 0.90}
TEST_FIRST_SEED = 1000
"""First seed of the default sky's test nights (``scripts/train_synthetic.py``)."""
RANDOM_TEST_FIRST_SEED = 100_000
"""First seed of the randomised test nights; training nights use seeds below it."""
EXPORT = ROOT / "aurora_xr" / "pretrained" / "reference.safetensors"


def training_cubes(args: argparse.Namespace, log: Any = print) -> list[xr.Dataset]:
    """The training mix: randomised nights, then the default sky's nights."""
    from aurora_xr.datasets import randomised_nights, synthetic_nights

    t0 = time.perf_counter()
    cubes = randomised_nights(
        args.random_frames,
        args.random_nights,
        first_seed=args.random_first_seed,
        size=args.frame_size,
        activity=args.random_activity,
        single_channel_fraction=args.single_channel_fraction,
    )
    cubes = [c.drop_vars(["conditions"], errors="ignore") for c in cubes]
    log(f"  {args.random_frames} randomised frames in {time.perf_counter() - t0:.0f} s")
    if args.default_frames:
        t0 = time.perf_counter()
        default = synthetic_nights(
            args.default_frames,
            args.default_nights,
            first_seed=args.default_first_seed,
            first_day=np.datetime64("2020-05-20"),
            size=args.frame_size,
            activity=2.0,
        ).load()
        cubes.append(default)
        log(f"  {args.default_frames} default-sky frames in {time.perf_counter() - t0:.0f} s")
    return cubes


def default_test_cube(n_frames: int, n_nights: int, size: int) -> xr.Dataset:
    """The synthetic test set of ``scripts/train_synthetic.py`` (seeds 1000, ...)."""
    from aurora_xr.datasets import synthetic_nights

    return synthetic_nights(
        n_frames,
        n_nights,
        first_seed=TEST_FIRST_SEED,
        first_day=np.datetime64("2020-05-20") + np.timedelta64(30, "D"),
        size=size,
        activity=1.0,
    ).load()


def random_test_cubes(n_frames: int, n_nights: int, size: int) -> list[xr.Dataset]:
    """The randomised test set (seeds from :data:`RANDOM_TEST_FIRST_SEED`)."""
    from aurora_xr.datasets import randomised_nights

    return randomised_nights(n_frames, n_nights, first_seed=RANDOM_TEST_FIRST_SEED, size=size)


def run_training(args: argparse.Namespace) -> dict[str, Any]:
    """Make the training mix and train; the run's summary."""
    import aurora_xr.model as model
    from aurora_xr.model.cube_source import CubeSource

    print(
        f"training data: {args.random_frames} randomised frames ({args.random_nights} nights), "
        f"{args.default_frames} default-sky frames ({args.default_nights} nights)"
    )
    source = CubeSource(training_cubes(args))
    t0 = time.perf_counter()
    result = model.train(
        source,
        arch=ARCH,
        out_dir=args.out_dir,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        image_size=args.image_size,
        split=(0.92, 0.08, 0.0),
        seed=args.seed,
        augment="real_sky",
        levels="robust",
        patience=None,
        progress=not args.no_progress,
        precision=args.precision,
        num_threads=args.threads,
        max_steps=args.max_steps,
        pretrained=args.init,
    )
    seconds = time.perf_counter() - t0
    print(
        f"training stopped ({result.stopped}) after {result.steps} steps in {seconds:.0f} s; "
        f"best epoch {result.best_epoch}, validation IoU {result.best_val_iou}"
    )
    return {
        "train_s": seconds,
        "steps": result.steps,
        "best_epoch": result.best_epoch,
        "best_val_iou": result.best_val_iou,
        "stopped": result.stopped,
        "frames": len(source),
    }


def score(checkpoint: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The checkpoint's scores on both test sets."""
    from aurora_xr.cube.grid import cell_grid
    from aurora_xr.model import Predictor, evaluate

    predictor = Predictor(checkpoint, device="cpu", batch_size=16, precision="fp32")
    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    test = default_test_cube(args.test_frames, args.test_nights, args.frame_size)
    cells = cell_grid(test, n_cells=args.cells)["cell_index"].values
    result = evaluate(predictor, test, split="all", cell_index=cells)
    out["default_sky"] = _summary(result)
    out["default_sky"]["seconds"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    cubes = random_test_cubes(args.random_test_frames, args.random_test_nights, args.frame_size)
    result = evaluate(predictor, cubes, split="all")
    out["randomised"] = _summary(result)
    out["randomised"]["seconds"] = round(time.perf_counter() - t0, 1)
    if args.demo_days > 0:
        out["demo_comparison"] = demo_comparison(checkpoint, args.demo_days, args.cells)
    return out


def demo_comparison(checkpoint: Path, days: float, n_cells: int = 400) -> dict[str, Any]:
    """Cell recall by form in :func:`aurora_xr.compare_methods` on the demo's sky.

    The archive of ``aurora-xr demo`` (from 2020-06-19, one frame every 2 minutes,
    128 px, seed 2020; ``days`` of it), segmented with the checkpoint (the cube's lens),
    compared with the difference method at a 2-minute lag: the FCN's cell precision and
    recall for all, dynamic and stationary forms, as the demo reports them.
    """
    import dask

    from aurora_xr.analysis.compare import compare_methods
    from aurora_xr.cube.grid import cell_grid
    from aurora_xr.datasets import synthetic_cube
    from aurora_xr.detect.segmentation import segment
    from aurora_xr.model import Predictor

    t0 = time.perf_counter()
    cube = synthetic_cube(
        start="2020-06-19T00:00", n_frames=int(days * 720), cadence="2min", size=128, seed=2020
    ).chunk({"time": 120})
    lens = np.isfinite(cube.elevation.values)
    predictor = Predictor(checkpoint, device="cpu", precision="fp32", batch_size=16, lens_mask=lens)
    cells = cell_grid(cube, n_cells=n_cells)
    cmp = compare_methods(segment(cube, predictor), cells=cells, lag="2min")
    with dask.config.set(scheduler="synchronous"):
        cmp = cmp[["recall", "precision", "overall_rate", "n_compared_frames"]].compute()
    out: dict[str, Any] = {"frames": int(cube.sizes["time"])}
    for detector in ("fcn", "difference"):
        for form in ("all", "dynamic", "stationary"):
            where = {"detector": detector, "form": form}
            out[f"recall_{detector}_{form}"] = float(cmp["recall"].sel(where))
            out[f"precision_{detector}_{form}"] = float(cmp["precision"].sel(where))
    out["compared_frames"] = int(cmp["n_compared_frames"])
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


def _summary(result: Any) -> dict[str, Any]:
    keep = ("iou", "f1", "precision", "recall")
    out: dict[str, Any] = {"pixel": {k: result.pixel[k] for k in keep}}
    if result.cells is not None:
        out["cells"] = {k: result.cells[k] for k in keep}
    if result.forms:
        out["forms"] = result.forms
    if result.images is not None:
        out["images"] = {k: result.images[k] for k in (*keep, "accuracy", "tp", "fp", "fn", "tn")}
    out["n_frames"] = result.info["n_frames"]
    return out


def export(checkpoint: Path, target: Path, scores: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write the checkpoint with float16 tensors to ``target``; its size and SHA-256.

    The floating-point tensors (weights, BatchNorm statistics) become float16 (the
    network computes in float32 or bf16 after loading); the metadata says so and
    carries ``scores`` (the test figures of the float32 checkpoint).
    """
    import torch

    from aurora_xr.model.checkpoint import (
        FORMAT,
        FORMAT_VERSION,
        file_checksum,
        read_metadata,
        read_tensors,
        save_tensors,
    )

    tensors, _, source_sha = read_tensors(checkpoint)
    half = {k: v.to(torch.float16) if v.is_floating_point() else v for k, v in tensors.items()}
    meta = read_metadata(checkpoint)
    extra = {
        **meta.extra,
        "stored_dtype": "float16",
        "float32_checkpoint_sha256": source_sha,
        "recipe": "scripts/train_reference.py",
    }
    metrics = {**meta.metrics, "tests_float32": scores} if scores else meta.metrics
    meta = meta.replace(extra=extra, metrics=metrics)
    header = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "aurora_xr": json.dumps(meta.to_dict(), sort_keys=True),
    }
    save_tensors(half, target, header)
    return {"path": str(target), "bytes": target.stat().st_size, "sha256": file_checksum(target)}


def verdict(scores: dict[str, Any]) -> tuple[bool, dict[str, float]]:
    """Whether the default-sky scores meet :data:`BAR`, and the figures judged."""
    default = scores["default_sky"]
    stationary = default["forms"]["stationary"]["cell_recall"]
    demo = scores.get("demo_comparison", {}).get("recall_fcn_stationary", float("nan"))
    if np.isfinite(demo):  # as the issue measured it: in the demo's comparison
        stationary = min(stationary, demo)
    measured = {
        "pixel_iou": default["pixel"]["iou"],
        "cell_f1": default["cells"]["f1"],
        "stationary_recall": stationary,
    }
    return all(measured[k] >= v for k, v in BAR.items()), measured


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=ROOT / "artifacts" / "reference")
    parser.add_argument("--random-frames", type=int, default=4200)
    parser.add_argument("--random-nights", type=int, default=350)
    parser.add_argument(
        "--random-activity", type=float, default=3.0, help="aurora occurrence of the randomised sky"
    )
    parser.add_argument(
        "--single-channel-fraction",
        type=float,
        default=0.4,
        help="share of single-channel cameras in the randomised sky",
    )
    parser.add_argument("--default-frames", type=int, default=2200)
    parser.add_argument("--default-nights", type=int, default=11)
    parser.add_argument("--random-first-seed", type=int, default=0)
    parser.add_argument("--default-first-seed", type=int, default=0)
    parser.add_argument(
        "--init", default=None, help="start from this checkpoint (a second stage), not from scratch"
    )
    parser.add_argument("--frame-size", type=int, default=256)
    parser.add_argument("--image-size", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--precision", default="fp32")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--max-steps", type=int, default=None)
    parser.add_argument("--test-frames", type=int, default=300)
    parser.add_argument("--cells", type=int, default=400, help="equal-area cells of the scores")
    parser.add_argument("--test-nights", type=int, default=2)
    parser.add_argument("--random-test-frames", type=int, default=400)
    parser.add_argument("--random-test-nights", type=int, default=40)
    parser.add_argument(
        "--demo-days",
        type=float,
        default=1.0,
        help="days of the demo's archive for the method comparison (0: skip it)",
    )
    parser.add_argument("--evaluate-only", action="store_true", help="score the run in --out-dir")
    parser.add_argument("--train-only", action="store_true", help="train, score nothing")
    parser.add_argument(
        "--export",
        action="store_true",
        help=f"write the best checkpoint in float16 to {EXPORT.relative_to(ROOT)} and score it",
    )
    parser.add_argument("--export-to", type=Path, default=None, help="export elsewhere")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke test: 24 + 8 frames at 64 px, 1 epoch, 8 + 8 test frames",
    )
    args = parser.parse_args(argv)
    if args.random_first_seed + args.random_nights > RANDOM_TEST_FIRST_SEED or (
        args.default_first_seed + args.default_nights > TEST_FIRST_SEED
    ):
        parser.error("the training nights must keep below the test seeds (1000 and 100000)")
    if args.quick:
        args.random_frames, args.random_nights = 24, 6
        args.default_frames, args.default_nights = 8, 1
        args.frame_size = args.image_size = 64
        args.epochs, args.batch_size = 1, 8
        args.test_frames, args.test_nights = 8, 1
        args.random_test_frames, args.random_test_nights = 8, 2
        args.demo_days, args.cells = 0.05, 48
    out: Path = args.out_dir
    out.mkdir(parents=True, exist_ok=True)
    record_path = out / "quality.json"
    record: dict[str, Any] = json.loads(record_path.read_text()) if record_path.is_file() else {}
    record["options"] = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    if not args.evaluate_only:
        record["training"] = run_training(args)
        record_path.write_text(json.dumps(record, indent=1))
    best = out / "best.safetensors"
    if not best.is_file():
        parser.error(f"no {best}: train first")
    if args.train_only:
        return 0
    record["scores"] = score(best, args)
    passed, measured = verdict(record["scores"])
    record["bar"], record["passed"] = BAR, passed
    if args.export or args.export_to is not None:
        target = args.export_to or EXPORT
        record["export"] = export(best, target, record["scores"])
        record["export"]["scores"] = score(target, args)
        passed, measured = verdict(record["export"]["scores"])
        record["passed"] = passed
    record_path.write_text(json.dumps(record, indent=1))
    print(json.dumps({k: v for k, v in record.items() if k != "options"}, indent=1))
    print(
        f"bar (pixel IoU >= {BAR['pixel_iou']}, cell F1 >= {BAR['cell_f1']}, stationary "
        f"recall >= {BAR['stationary_recall']}): {'PASSED' if passed else 'NOT MET'} {measured}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
