"""Contact sheet of the synthetic sky beside real all-sky frames (for judging realism).

Synthetic conditions (top row): clear sky, dynamic aurora, a stationary arc
near the equatorward horizon, moonlit sky, clouds, twilight. Each is found
by scanning a day of the generator at low resolution for the frame that
shows the condition best (the generator is deterministic, so the scan only
chooses the time), then rendered at full size. Bottom row: the real reference
frames, downscaled (they are read from ``--references`` and never copied
into the project).

Usage::

    .venv/bin/python scripts/contact_sheet.py [--references DIR] [--out PNG] [--tile 320]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from PIL import Image, ImageDraw

from aurora_xr.datasets import synthetic_cube

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_REFERENCES = ROOT.parent / "shared" / "reference_frames"
DEFAULT_OUT = ROOT / "artifacts" / "contact_sheet.png"


def _pick(
    score: Callable[[xr.Dataset], np.ndarray], *, start: str, duration: str, **kw: Any
) -> np.datetime64:
    """The time of the best-scoring frame of a quick low-resolution scan."""
    scan = synthetic_cube(start=start, duration=duration, cadence="2min", size=96, **kw)
    return scan.time.values[int(np.argmax(score(scan)))]


def _kind_pixels(
    kind: int, other: int | None = None, *, min_green: int = 0
) -> Callable[[xr.Dataset], np.ndarray]:
    """Score: pixels of one form (bright enough in G), less those of another form."""

    def score(ds: xr.Dataset) -> np.ndarray:
        k = ds.aurora_kind.values
        bright = ds.image.values[..., 1] >= min_green
        s = ((k == kind) & bright).sum((1, 2)).astype(float)
        if other is not None:
            s -= 3.0 * (k == other).sum((1, 2))
        return s

    return score


def synthetic_tiles(tile: int, seed: int) -> list[tuple[str, np.ndarray]]:
    """The synthetic frames of the sheet with their captions."""
    conditions: list[tuple[str, dict[str, Any], Callable[[xr.Dataset], np.ndarray] | None]] = [
        (
            "clear, no aurora",
            dict(start="2020-06-21T14:00", moon=False, clouds=0.0, activity=0.0),
            None,
        ),
        (
            "dynamic aurora",
            dict(start="2020-06-21T07:00", duration="4h", moon=False, clouds=0.0),
            _kind_pixels(1, min_green=70),
        ),
        (
            "stationary arc, N horizon",
            dict(
                start="2020-06-21T02:00",
                duration="6h",
                moon=False,
                clouds=0.0,
                stationary_fraction=0.9,
            ),
            _kind_pixels(2, other=1),
        ),
        (
            "moonlit, aurora",
            dict(start="2020-07-05T00:00", duration="24h", moon="auto", clouds=0.05, activity=1.5),
            _kind_pixels(1),
        ),
        (
            "clouds",
            dict(start="2020-06-23T03:00", duration="8h", moon=False, clouds=0.55),
            lambda ds: ds.aurora_truth.values.sum((1, 2)) * (ds.cloud_fraction.values > 0.4),
        ),
        (
            "twilight (sun -8 deg)",
            dict(start="2020-06-21T01:00", moon=False, clouds=0.1, activity=0.0),
            None,
        ),
    ]
    tiles = []
    for caption, kw, score in conditions:
        when = kw.pop("start")
        duration = kw.pop("duration", None)
        if score is not None and duration is not None:
            when = _pick(score, start=when, duration=duration, seed=seed, **kw)
        ds = synthetic_cube(start=when, n_frames=1, size=tile, seed=seed, **kw)
        stamp = str(np.datetime_as_string(ds.time.values[0], unit="m"))
        tiles.append((f"synthetic: {caption}  {stamp}", ds.image.values[0]))
    return tiles


def reference_tiles(folder: Path, tile: int) -> list[tuple[str, np.ndarray]]:
    """The real frames, each fitted into a square tile on black."""
    tiles = []
    for path in sorted(folder.glob("*")):
        if path.suffix.lower() not in (".png", ".jpg", ".jpeg"):
            continue
        with Image.open(path) as im:
            rgb = im.convert("RGB")
            rgb.thumbnail((tile, tile), Image.Resampling.LANCZOS)
            canvas = Image.new("RGB", (tile, tile))
            canvas.paste(rgb, ((tile - rgb.width) // 2, (tile - rgb.height) // 2))
        tiles.append((f"real: {path.stem}", np.asarray(canvas)))
    return tiles


def sheet(rows: list[list[tuple[str, np.ndarray]]], tile: int) -> Image.Image:
    """Tiles in rows, with captions under each."""
    cols = max(len(r) for r in rows)
    cap = 18
    out = Image.new("RGB", (cols * tile, len(rows) * (tile + cap)), (40, 40, 40))
    draw = ImageDraw.Draw(out)
    for r, row in enumerate(rows):
        for c, (caption, image) in enumerate(row):
            x, y = c * tile, r * (tile + cap)
            out.paste(Image.fromarray(image), (x, y))
            draw.text((x + 4, y + tile + 3), caption[:60], fill=(230, 230, 230))
    return out


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--references", type=Path, default=DEFAULT_REFERENCES)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--tile", type=int, default=320)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rows = [synthetic_tiles(args.tile, args.seed)]
    if args.references.is_dir():
        rows.append(reference_tiles(args.references, args.tile))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet(rows, args.tile).save(args.out)
    print(args.out)
    return args.out


if __name__ == "__main__":
    main()
