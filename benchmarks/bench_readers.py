"""Benchmark: reading 20-frame gzipped PGM files against gunzip + ``numpy.frombuffer``.

Run with ``python benchmarks/bench_readers.py [--quick]``. Issue 20 asks that reading a
20-frame gzipped PGM file take at most 1.5x the time of gunzip plus ``numpy.frombuffer`` on the
same bytes. For each 20-frame file of ``../shared/real_sequences`` (THEMIS Gillam 256x256, TREx
Blueline 320x270) it prints, best of the repeats, interleaved:

* the baseline: read the file's bytes, ``gzip.decompress`` them, one ``numpy.frombuffer`` view
  per frame at the pixel offsets (found beforehand, outside the timing);
* :func:`aurora_xr.io.formats.read_file`: the same plus parsing every header comment, the
  times, per-frame metadata and the copy to native-order uint16 ``(n, H, W)``;
* :func:`aurora_xr.io.formats.read_file_header` (headers only);

then the time of ``read_file`` on one file of every other real format. The last line is one
JSON object with the worst ratio over the PGM files (``ratio``) and every figure.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from aurora_xr.io.formats import read_file, read_file_header

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "real_sequences"
PGM_FILES = (
    "themis_gill_pgm_20140310/20140310_0600_gill_themis19_full.pgm.gz",
    "trex_gill_blueline_20220308/20220308_0600_gill_blue-814_full.pgm.gz",
)
OTHER_FILES = (
    "trex_gill_nir_20220307/20220307_0600_gill_nir-216_8446.pgm.gz",
    "rainbow_rabb_pgm_20130205/20130205_0500_rabb_rainbow-08_full.pgm.gz",
    "themis_gako_skymap_2011/thg_l1_asf_gako_2011010617_v01.cdf",
    "themis_gako_skymap_2011/thg_l1_ast_gako_20110505_v01.cdf",
    "dasc_pkr_fits_20151007/PKR_DASC_0558_20151007_082351.743.FITS",
    "oculus_umd_fits_20151108/IMG01329.FIT",
    "kho_keosentry_img/W8446B18_2020-12-11_20-09-36.img",
)
_SIZE = re.compile(rb"\n(\d+) (\d+)\n65535\n")


def _offsets(path: Path) -> tuple[list[int], int]:
    """Pixel offsets of every frame and the pixels per frame (found once, not timed)."""
    content = gzip.decompress(path.read_bytes())
    matches = list(_SIZE.finditer(content))
    width, height = int(matches[0].group(1)), int(matches[0].group(2))
    return [m.end() for m in matches], width * height


def _baseline(path: Path, offsets: list[int], count: int) -> list[np.ndarray]:
    content = gzip.decompress(path.read_bytes())
    return [np.frombuffer(content, ">u2", count, offset) for offset in offsets]


def _best(calls: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    """Best wall time of each call in seconds, the calls interleaved in every round."""
    best = dict.fromkeys(calls, float("inf"))
    for _ in range(repeats):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def main() -> None:
    """Run the benchmark and print the figures; the last line is one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (CI smoke run)")
    args = parser.parse_args()
    repeats = 5 if args.quick else 30
    figures: dict[str, Any] = {"benchmark": "readers", "repeats": repeats, "files": {}}
    ratios: list[float] = []
    print(f"20-frame gzipped PGM files, best of {repeats} (ms)")
    for name in PGM_FILES:
        path = REAL / name
        offsets, count = _offsets(path)
        result = read_file(path)  # warm up (imports, page cache) and check the frames agree
        frames = _baseline(path, offsets, count)
        assert result.n_frames == len(frames) == 20
        assert all(np.array_equal(a.ravel(), b) for a, b in zip(result.frames, frames, strict=True))
        best = _best(
            {
                "baseline": lambda p=path, o=offsets, c=count: _baseline(p, o, c),
                "read_file": lambda p=path: read_file(p),
                "read_file_header": lambda p=path: read_file_header(p),
            },
            repeats,
        )
        ratio = best["read_file"] / best["baseline"]
        ratios.append(ratio)
        shape = "x".join(map(str, result.frames.shape))
        print(
            f"  {path.name:44s} {shape:12s} gunzip+frombuffer {best['baseline'] * 1e3:7.2f}  "
            f"read_file {best['read_file'] * 1e3:7.2f} (ratio {ratio:4.2f})  "
            f"header only {best['read_file_header'] * 1e3:7.2f}"
        )
        figures["files"][path.name] = {
            "shape": list(result.frames.shape),
            "baseline_ms": round(best["baseline"] * 1e3, 3),
            "read_file_ms": round(best["read_file"] * 1e3, 3),
            "read_file_header_ms": round(best["read_file_header"] * 1e3, 3),
            "ratio": round(ratio, 3),
        }
    print(f"other formats, read_file, best of {repeats} (ms)")
    for name in OTHER_FILES:
        path = REAL / name
        result = read_file(path)
        best = _best({"read_file": lambda p=path: read_file(p)}, repeats)
        shape = "x".join(map(str, result.frames.shape))
        print(f"  {result.format:10s} {path.name:44s} {shape:14s} {best['read_file'] * 1e3:8.2f}")
        figures["files"][path.name] = {
            "format": result.format,
            "shape": list(result.frames.shape),
            "read_file_ms": round(best["read_file"] * 1e3, 3),
        }
    figures["ratio"] = round(max(ratios), 3)
    figures["limit"] = 1.5
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
