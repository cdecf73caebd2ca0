"""Benchmark: ingest of 512-px synthetic PNG frames with 1 and 2 workers, against Pillow alone.

Run with ``python benchmarks/bench_ingest.py [--quick] [--frames N]``. Issue 18 asks that
ingest with 2 worker processes run at least 1.7x as fast as with one
(``speedup_2_workers``), and one worker at least half as fast as Pillow alone decodes the
same files (``worker_over_decode``), measured in one run on this machine.

The archive is written once by :func:`aurora_xr.write_synthetic_archive` (512x512 RGB PNG,
no masks, one frame every 2.5 minutes so that hourly outputs hold 24 frames each: parallel
ingest runs one task per output file); then, best of the repeats:

* Pillow alone: open and decode every frame file (``numpy.asarray(Image.open(path))``), one
  core;
* ``ingest(..., period="1h", workers=1)`` and ``workers=2`` into fresh folders (the whole
  run: finding the files, reading their headers, planning, decoding, writing NetCDF-4),
  with the default codec (zlib level 1) and with ``compression="zstd"``.

Frames per second are frames / wall time. The worker processes fork from a fork server that
imports the package once per Python session (``pool_start_s``, measured first, on a tiny
archive): it is not counted in the timed runs, as it is not in an archive-long run.
The last line is one JSON object with every
figure; the headline ratios use the default codec, ``*_zstd`` the fast one.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from aurora_xr import ingest, write_synthetic_archive


def _decode_all(files: list[Path]) -> float:
    start = time.perf_counter()
    for path in files:
        with Image.open(path) as img:
            np.asarray(img)
    return time.perf_counter() - start


def _ingest(src: Path, dest: Path, workers: int, compression: str) -> float:
    shutil.rmtree(dest, ignore_errors=True)
    start = time.perf_counter()
    report = ingest(
        src,
        dest,
        station="JBS",
        calibration="placeholder:JBS",
        period="1h",
        workers=workers,
        compression=compression,
        progress=False,
    )
    elapsed = time.perf_counter() - start
    if not report.ok:
        raise RuntimeError(f"ingest skipped files: {report.skipped[:3]}")
    return elapsed


def main() -> None:
    """Run the benchmark and print the figures; the last line is one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller archive (< 3 min)")
    parser.add_argument("--frames", type=int, default=None, help="frames in the archive")
    parser.add_argument("--repeats", type=int, default=None, help="runs of each (best taken)")
    args = parser.parse_args()
    n = args.frames or (192 if args.quick else 480)
    repeats = args.repeats or (1 if args.quick else 2)
    work = Path(tempfile.mkdtemp(prefix="bench_ingest_"))
    figures: dict[str, Any] = {
        "benchmark": "ingest",
        "frames": n,
        "size": 512,
        "repeats": repeats,
        "cpu_count": os.cpu_count(),
    }
    try:
        src = work / "archive"
        start = time.perf_counter()
        files = write_synthetic_archive(
            src, n_frames=n, size=512, cadence="150s", masks=False, seed=1
        )
        print(f"archive: {n} frames of 512x512 RGB PNG in {time.perf_counter() - start:.1f} s")
        tiny = work / "tiny"
        write_synthetic_archive(tiny, n_frames=2, size=64, masks=False)
        start = time.perf_counter()
        _ingest(tiny, work / "tiny_out", 2, "zlib")  # starts the fork server
        figures["pool_start_s"] = round(time.perf_counter() - start, 2)
        print(f"fork server and workers started in {figures['pool_start_s']} s")
        _decode_all(files)  # page cache, imports
        decode = min(_decode_all(files) for _ in range(repeats))
        figures["pillow_decode_fps"] = round(n / decode, 1)
        print(f"Pillow decode:            {n / decode:7.1f} frames/s")
        for compression in ("zlib", "zstd"):
            tag = "" if compression == "zlib" else "_zstd"
            rates = {}
            for workers in (1, 2):
                best = min(
                    _ingest(src, work / f"out{workers}", workers, compression)
                    for _ in range(repeats)
                )
                rates[workers] = n / best
                print(f"ingest {compression}, {workers} worker(s):  {rates[workers]:7.1f} frames/s")
            figures[f"ingest_1_worker_fps{tag}"] = round(rates[1], 1)
            figures[f"ingest_2_workers_fps{tag}"] = round(rates[2], 1)
            figures[f"speedup_2_workers{tag}"] = round(rates[2] / rates[1], 3)
            figures[f"worker_over_decode{tag}"] = round(rates[1] / figures["pillow_decode_fps"], 3)
        figures["goals"] = {"speedup_2_workers": 1.7, "worker_over_decode": 0.5}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
