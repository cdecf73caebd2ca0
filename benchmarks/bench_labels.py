"""Benchmark: ``read_labels`` on a LabelMe set of 1,500 frames of 512x512 with polygons.

Generates the label set in a temporary folder (PNG frames with one LabelMe JSON each:
two to four polygons of 24-60 vertices, labelled ``aurora``, ``arc`` or ``cloud``; 32
distinct frame images written cyclically; not timed), then measures in the same run:

* ``scan``: :func:`aurora_xr.labels.read_labels` itself (parses every JSON, reads every
  PNG header, checks every shape, builds the lazy Dataset);
* ``compute``: computing every frame's image and mask (per-frame sums, so that memory
  stays bounded by the chunks) with dask's threaded scheduler;
* ``masks only``: computing the masks alone (the rasterisation);
* baseline ``decode``: a plain loop that decodes the same PNGs with Pillow and sums them
  (the least any reader must do), single-threaded, and the same loop with a thread pool
  of the same size as dask's.

Target (issue 16): scan + compute under 30 s for 1,500 frames on the 2-core dev machine.

Usage::

    python benchmarks/bench_labels.py            # 1,500 frames of 512x512
    python benchmarks/bench_labels.py --quick    # 150 frames
    python benchmarks/bench_labels.py --frames 500 --size 256 --workers 2

The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import io
import json
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dask
import numpy as np
from PIL import Image

from aurora_xr.labels import label_report, read_labels

LABEL_MAP = {"aurora": True, "arc": True, "cloud": False}
N_DISTINCT = 32


def _polygon(rng: np.random.Generator, size: int) -> list[list[float]]:
    """A wavy closed band (an arc-like polygon) inside the frame."""
    n = int(rng.integers(12, 31))
    cx, cy = rng.uniform(0.3, 0.7, 2) * size
    length, width = rng.uniform(0.15, 0.35) * size, rng.uniform(0.02, 0.08) * size
    t = np.linspace(-1, 1, n)
    x = cx + t * length
    y = cy + np.sin(t * rng.uniform(1, 3)) * width * 2
    upper = np.c_[x, y - width]
    lower = np.c_[x[::-1], y[::-1] + width]
    xy = np.clip(np.vstack([upper, lower]), 0, size)
    return xy.round(2).tolist()


def make_label_set(folder: Path, n_frames: int, size: int, seed: int = 0) -> None:
    """PNG frames ``JBS_YYYYmmdd_HHMMSS.png`` with LabelMe JSON files beside them.

    Encoding PNGs is slow on a small machine, so :data:`N_DISTINCT` different frames are
    encoded and their bytes written cyclically; every frame has its own polygons.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    base = np.stack([xx * 0.1, yy * 0.2, (xx + yy) * 0.05], axis=-1).astype(np.uint8)
    encoded = []
    for k in range(min(N_DISTINCT, n_frames)):
        frame = base + rng.integers(0, 24, (size, size, 3), dtype=np.uint8) + np.uint8(3 * k)
        buffer = io.BytesIO()
        Image.fromarray(frame).save(buffer, format="png", compress_level=1)
        encoded.append(buffer.getvalue())
    start = np.datetime64("2020-06-21T00:00:00")
    for i in range(n_frames):
        stamp = (start + np.timedelta64(60 * i, "s")).astype(object)
        name = stamp.strftime("JBS_%Y%m%d_%H%M%S")
        (folder / f"{name}.png").write_bytes(encoded[i % len(encoded)])
        shapes: list[dict[str, object]] = [
            {
                "label": str(rng.choice(list(LABEL_MAP))),
                "points": _polygon(rng, size),
                "group_id": None,
                "shape_type": "polygon",
                "flags": {},
            }
            for _ in range(int(rng.integers(2, 5)))
        ]
        doc: dict[str, object] = {
            "version": "5.5.0",
            "flags": {},
            "shapes": shapes,
            "imagePath": f"{name}.png",
            "imageData": None,
            "imageHeight": size,
            "imageWidth": size,
        }
        (folder / f"{name}.json").write_text(json.dumps(doc), encoding="utf-8")


def _decode_sum(path: Path) -> int:
    with Image.open(path) as img:
        return int(np.asarray(img, dtype=np.uint8).sum(dtype=np.int64))


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1500)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--workers", type=int, default=2, help="dask threads (and pool)")
    parser.add_argument("--chunk", type=int, default=8, help="frames per dask chunk")
    parser.add_argument("--quick", action="store_true", help="150 frames")
    args = parser.parse_args()
    n_frames = 150 if args.quick else args.frames
    size = args.size

    with tempfile.TemporaryDirectory(prefix="bench_labels_") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        make_label_set(folder, n_frames, size)
        t_make = time.perf_counter() - t0
        pngs = sorted(folder.glob("*.png"))
        print(f"label set: {n_frames} frames of {size}x{size} in {t_make:.1f} s (not timed)")

        # baseline: decode the same PNGs alone
        t0 = time.perf_counter()
        total_base = sum(_decode_sum(p) for p in pngs)
        t_decode = time.perf_counter() - t0
        with ThreadPoolExecutor(args.workers) as pool:
            t0 = time.perf_counter()
            total_pool = sum(pool.map(_decode_sum, pngs))
            t_decode_pool = time.perf_counter() - t0
        assert total_pool == total_base

        t0 = time.perf_counter()
        ds = read_labels(folder, label_map=LABEL_MAP, chunk_frames=args.chunk)
        t_scan = time.perf_counter() - t0
        report = label_report(ds)

        with dask.config.set(scheduler="threads", num_workers=args.workers):
            t0 = time.perf_counter()
            image_sums, mask_sums = dask.compute(
                ds.image.data.sum(axis=(1, 2, 3), dtype=np.int64), ds.mask.data.sum(axis=(1, 2))
            )
            t_compute = time.perf_counter() - t0
            t0 = time.perf_counter()
            (mask_only,) = dask.compute(ds.mask.data.sum(axis=(1, 2)))
            t_masks = time.perf_counter() - t0
        assert int(image_sums.sum()) == total_base
        assert np.array_equal(mask_only, mask_sums)

    total = t_scan + t_compute
    print(f"  read_labels (scan, lazy)           : {t_scan:7.2f} s")
    print(f"  compute images + masks             : {t_compute:7.2f} s ({args.workers} threads)")
    print(f"  read_labels + compute              : {total:7.2f} s  (target < 30 s)")
    print(f"  masks only (rasterise)             : {t_masks:7.2f} s")
    print(f"  baseline: decode PNGs, 1 thread    : {t_decode:7.2f} s")
    print(f"  baseline: decode PNGs, {args.workers} threads   : {t_decode_pool:7.2f} s")
    print(
        f"  ratio (read_labels + compute) / decode with {args.workers} threads: "
        f"{total / t_decode_pool:.2f}"
    )
    print(f"  {report.summary()}")
    print(
        json.dumps(
            {
                "benchmark": "bench_labels",
                "n_frames": n_frames,
                "size": size,
                "workers": args.workers,
                "chunk_frames": args.chunk,
                "n_shapes": int(sum(report.shapes.values())),
                "scan_s": round(t_scan, 3),
                "compute_s": round(t_compute, 3),
                "total_s": round(total, 3),
                "masks_only_s": round(t_masks, 3),
                "baseline_decode_s": round(t_decode, 3),
                "baseline_decode_threads_s": round(t_decode_pool, 3),
                "ratio_total_to_decode_threads": round(total / t_decode_pool, 3),
                "target_total_s": 30.0,
                "aurora_pixel_fraction": round(float(mask_sums.sum()) / (n_frames * size**2), 4),
            }
        )
    )


if __name__ == "__main__":
    main()
