"""The reference model on every real camera we have: overlays and the share of sky flagged.

For every camera in ``../shared/reference_frames/`` and ``../shared/real_sequences/``
(colour and single-channel; a representative frame or two of each multi-frame file),
and for every colour frame also as a grey single-channel frame (Rec. 601 luma, as a
white-light camera would see it), the shipped model ``aurora_xr.pretrained("reference")``
is run as a user runs it: the raw frame as the file holds it, the camera's lens mask
(from its own calibration where it has one: the Poker Flat DASC Az/El images, the
Gakona THEMIS skymap; else the frame's bright region, found by one rule for all:
Otsu's threshold on the log brightness, the largest region, its holes filled). Nothing
is tuned per frame. The share of
sky flagged is :func:`aurora_xr.detect.image_level.sky_fraction` (p >= 0.5 inside the
lens) and the image-level call :func:`aurora_xr.has_aurora` (>= 1 % of the sky).

Outputs in ``--out`` (default ``docs/_static/reference_model``): ``real_frames.json``
(the table), ``overlays_*.png`` (grids of the frame beside the frame with the mask in
magenta, downscaled) and the table in Markdown on stdout. The real frames are only
drawn, downscaled, into the figures; they are never copied.

Usage::

    .venv/bin/python docs/_scripts/reference_model_figures.py [--shared DIR] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
OUT = ROOT / "docs" / "_static" / "reference_model"
TILE = 224
CAPTION = 34


@dataclass
class RealFrame:
    """One real frame as its file holds it, with its camera's lens mask."""

    key: str
    title: str
    camera: str
    content: str  # "no aurora", "aurora", "faint or uncertain"
    frame: np.ndarray  # (H, W, C) uint8/uint16
    lens: np.ndarray  # (H, W) bool
    lens_source: str
    channel: str

    @property
    def kind(self) -> str:
        return "colour" if self.frame.shape[-1] == 3 else "single-channel"


def _otsu(values: np.ndarray, bins: int = 256) -> float:
    """Otsu's threshold of ``values`` (the level that best splits them in two classes)."""
    hist, edges = np.histogram(values, bins=bins)
    centres = (edges[:-1] + edges[1:]) / 2
    weight = np.cumsum(hist).astype(np.float64)
    total = weight[-1]
    mean = np.cumsum(hist * centres)
    between = (mean[-1] * weight / total - mean) ** 2 / np.maximum(weight * (total - weight), 1.0)
    return float(centres[int(np.argmax(between[:-1]))])


def _sky_region(frame: np.ndarray, work: int = 256) -> np.ndarray:
    """The sky of a frame without a calibration: its bright region, found the same way for all.

    On the frame binned to at most ``work`` pixels a side, in log brightness, Otsu's
    threshold splits the sky from the dark surround; the largest bright region, its holes
    filled (stars, dark patches), is the sky, drawn back at the frame size.
    """
    from scipy import ndimage

    plane = frame.astype(np.float32).mean(axis=-1)
    height, width = plane.shape
    step = max(1, int(np.ceil(max(height, width) / work)))
    small = plane[: height // step * step, : width // step * step]
    small = small.reshape(height // step, step, width // step, step).mean(axis=(1, 3))
    logs = np.log1p(np.maximum(small - small.min(), 0.0))
    bright = ndimage.binary_opening(logs > _otsu(logs.ravel()), iterations=1)
    labels, count = ndimage.label(bright)
    if count == 0:
        return np.ones((height, width), dtype=bool)
    largest = 1 + int(np.argmax(ndimage.sum(bright, labels, index=range(1, count + 1))))
    region = ndimage.binary_fill_holes(labels == largest)
    rows = np.minimum(np.arange(height) // step, region.shape[0] - 1)
    cols = np.minimum(np.arange(width) // step, region.shape[1] - 1)
    return np.asarray(region[rows[:, None], cols[None, :]], dtype=bool)


def _grey(frame: np.ndarray) -> np.ndarray:
    """Rec. 601 luma of an 8-bit colour frame, as one uint8 channel."""
    luma = frame.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    return np.clip(np.rint(luma), 0, 255).astype(np.uint8)[..., None]


def _read(path: Path, index: int = 0) -> tuple[np.ndarray, str]:
    from aurora_xr.io.formats import read_file

    read = read_file(path)
    frame = read.frames[min(index, read.frames.shape[0] - 1)]
    frame = frame[..., None] if frame.ndim == 2 else frame
    return np.ascontiguousarray(frame), ",".join(read.channels)


def real_frames(shared: Path = SHARED) -> list[RealFrame]:
    """Every real camera's representative frames (and the colour ones in grey)."""
    from aurora_xr.sky.skymap_files import read_skymap

    ref, seq = shared / "reference_frames", shared / "real_sequences"
    out: list[RealFrame] = []

    def add(key: str, title: str, camera: str, content: str, path: Path, index: int = 0,
            lens: np.ndarray | None = None, lens_source: str = "bright") -> None:  # fmt: skip
        frame, channel = _read(path, index)
        mask = _sky_region(frame) if lens is None else lens
        out.append(RealFrame(key, title, camera, content, frame, mask, lens_source, channel))
        if frame.shape[-1] == 3:
            grey = RealFrame(f"{key}_grey", title, camera, content, _grey(frame), mask,
                             lens_source, "white (grey of the colour frame)")  # fmt: skip
            out.append(grey)

    none, aurora, unsure = "no aurora", "aurora", "faint or uncertain"
    kho, trex = "KHO Sony a7s, Svalbard", "TREx RGB, Gillam"
    add("kho_clear", "clear starry sky", kho, none, ref / "kho_lyr_20201211_2009_clear_stars.jpg")
    add(
        "trex_bright", "bright hazy sky", trex, none, ref / "trex_gill_20200508_0605_bright_sky.png"
    )
    add("trex_arcs", "green arcs, orange horizon", trex, aurora,
        ref / "trex_gill_20211030_0605_aurora.png")  # fmt: skip
    add(
        "kho_moon",
        "rayed aurora, the Moon",
        kho,
        aurora,
        ref / "kho_lyr_20211121_1707_aurora_moon.jpg",
    )
    dasc = seq / "dasc_pkr_fits_20151007"
    el = read_skymap(dasc / "PKR_DASC_0558_20150213_El.FIT").elevation
    dasc_lens = np.isfinite(el) & (el > 0)
    for key, name, title in (
        ("dasc_428", "PKR_DASC_0428_20151007_082355.961.FITS", "arcs at 427.8 nm"),
        ("dasc_558", "PKR_DASC_0558_20151007_082351.743.FITS", "arcs at 557.7 nm"),
        ("dasc_558b", "PKR_DASC_0558_20151007_082404.243.FITS", "arcs at 557.7 nm, 13 s later"),
        ("dasc_630", "PKR_DASC_0630_20151007_082359.586.FITS", "arcs at 630.0 nm"),
    ):
        add(key, title, "Poker Flat DASC", aurora, dasc / name, lens=dasc_lens,
            lens_source="Az/El calibration")  # fmt: skip
    oculus = seq / "oculus_umd_fits_20151108"
    add("oculus_1328", "mid-latitude sky, trees", "Oculus, Maryland", none, oculus / "IMG01328.FIT")
    add("oculus_1329", "meteor, Moon, planets", "Oculus, Maryland", none, oculus / "IMG01329.FIT")
    themis = seq / "themis_gill_pgm_20140310"
    add("themis_gill", "moonlit haze, white light", "THEMIS, Gillam", unsure,
        themis / "20140310_0600_gill_themis19_full.pgm.gz")  # fmt: skip
    gako = seq / "themis_gako_skymap_2011"
    sky = read_skymap(gako / "themis_skymap_gako_20110305-+_vXX.sav").elevation[::-1, ::-1]
    add("themis_gako", "dark sky, stars, white light", "THEMIS, Gakona", unsure,
        gako / "thg_l1_asf_gako_2011010617_v01.cdf", lens=np.isfinite(sky) & (sky > 0),
        lens_source="skymap (.sav), turned 180°")  # fmt: skip
    nir = seq / "trex_gill_nir_20220307"
    add("trex_nir", "faint diffuse structure, masts", "TREx NIR, Gillam", unsure,
        nir / "20220307_0600_gill_nir-216_8446.pgm.gz")  # fmt: skip
    add("trex_nir_b", "the same, 4 min later", "TREx NIR, Gillam", unsure,
        nir / "20220307_0604_gill_nir-216_8446.pgm.gz", index=9)  # fmt: skip
    add(
        "trex_blue",
        "blue line, 320 x 270",
        "TREx Blueline, Gillam",
        unsure,
        seq / "trex_gill_blueline_20220308" / "20220308_0600_gill_blue-814_full.pgm.gz",
    )
    add(
        "rainbow",
        "clear sky, colour mosaic",
        "NORSTAR Rainbow, Rabbit Lake",
        unsure,
        seq / "rainbow_rabb_pgm_20130205" / "20130205_0500_rabb_rainbow-08_full.pgm.gz",
    )
    keo = seq / "kho_keosentry_img"
    add("keo_clear", "clear sky, Milky Way", "KHO KeoSentry 844.6 nm", unsure,
        keo / "W8446B18_2020-12-11_20-09-36.img")  # fmt: skip
    add("keo_2017", "2017-12-18 03:14", "KHO KeoSentry 844.6 nm", unsure,
        keo / "W8446B185_2017-12-18_03-14-57.img")  # fmt: skip
    return out


def run(frames: list[RealFrame], model: Any) -> list[dict[str, Any]]:
    """The model on every frame: probabilities, share of sky flagged, image-level call."""
    from aurora_xr.detect.image_level import has_aurora, sky_fraction

    rows = []
    for item in frames:
        t0 = time.perf_counter()
        probs = model(item.frame[None], lens_mask=item.lens)[0]
        rows.append(
            {
                "key": item.key,
                "title": item.title,
                "camera": item.camera,
                "kind": item.kind,
                "channel": item.channel,
                "content": item.content,
                "frame_size": list(item.frame.shape[:2]),
                "dtype": str(item.frame.dtype),
                "lens": item.lens_source,
                "sky_fraction": float(sky_fraction(probs, item.lens)),
                "has_aurora": bool(has_aurora(probs, item.lens)),
                "max_probability": float(probs[item.lens].max()),
                "seconds": round(time.perf_counter() - t0, 2),
                "_probs": probs,
            }
        )
    return rows


def _view(frame: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """An 8-bit RGB view: 8-bit colour as it is, else 1st-99.7th percentile inside the lens."""
    if frame.dtype == np.uint8 and frame.shape[-1] == 3:
        return frame
    values = frame.astype(np.float32)
    lo, hi = np.percentile(values[lens], [1.0, 99.7])
    out = np.clip((values - lo) / max(hi - lo, 1e-6) * 255.0, 0, 255).astype(np.uint8)
    return np.repeat(out, 3, axis=-1) if out.shape[-1] == 1 else out


def _fit(rgb: np.ndarray, tile: int) -> Image.Image:
    image = Image.fromarray(rgb)
    scale = tile / max(image.width, image.height)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    image = image.resize(size, Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", (tile, tile))
    canvas.paste(image, ((tile - image.width) // 2, (tile - image.height) // 2))
    return canvas


def _overlay(rgb: np.ndarray, mask: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """The frame with the mask in magenta (half transparent) and the lens edge in cyan."""
    from scipy import ndimage

    out = rgb.astype(np.float32)
    magenta = np.array([255.0, 0.0, 255.0], np.float32)
    out[mask] = 0.45 * out[mask] + 0.55 * magenta
    width = max(1, round(max(mask.shape) / 200))
    edge = lens & ~ndimage.binary_erosion(lens, iterations=width)
    out[edge] = (0.0, 200.0, 255.0)
    return out.astype(np.uint8)


def draw(frames: list[RealFrame], rows: list[dict[str, Any]], out: Path) -> list[Path]:
    """Grids of (frame, overlay) pairs, three pairs a row, one PNG per kind of content."""
    written = []
    groups = {"no_aurora": "no aurora", "aurora": "aurora", "uncertain": "faint or uncertain"}
    for name, content in groups.items():
        pairs = [(f, r) for f, r in zip(frames, rows, strict=True) if f.content == content]
        cols = 3
        n_rows = (len(pairs) + cols - 1) // cols
        sheet = Image.new("RGB", (cols * 2 * TILE, n_rows * (TILE + CAPTION)), (255, 255, 255))
        pen = ImageDraw.Draw(sheet)
        for i, (item, row) in enumerate(pairs):
            view = _view(item.frame, item.lens)
            mask = row["_probs"] >= 0.5
            x0, y0 = (i % cols) * 2 * TILE, (i // cols) * (TILE + CAPTION)
            sheet.paste(_fit(view, TILE), (x0, y0 + CAPTION))
            sheet.paste(_fit(_overlay(view, mask, item.lens), TILE), (x0 + TILE, y0 + CAPTION))
            grey = " (grey)" if item.key.endswith("_grey") else ""
            pen.text((x0 + 4, y0 + 2), f"{item.camera}{grey}", fill=(0, 0, 0))
            pen.text(
                (x0 + 4, y0 + 17),
                f"{item.title}: {100 * row['sky_fraction']:.2f} % of the sky",
                fill=(0, 0, 0),
            )
        path = out / f"overlays_{name}.png"
        sheet.quantize(colors=192, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
        written.append(path)
    return written


def markdown_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| frame | camera | colour / grey | content | share of sky flagged | aurora (>= 1 %) |",
        "|---|---|---|---|---:|---|",
    ]
    for r in rows:
        kind = "grey (from colour)" if r["key"].endswith("_grey") else r["kind"]
        lines.append(
            f"| {r['title']} | {r['camera']} | {kind} | {r['content']} | "
            f"{100 * r['sky_fraction']:.2f} % | {'yes' if r['has_aurora'] else 'no'} |"
        )
    return "\n".join(lines)


def load_model(checkpoint: Path | None = None, precision: str = "fp32") -> Any:
    """The shipped reference model, or ``checkpoint``, on one CPU thread."""
    from aurora_xr.model import Predictor
    from aurora_xr.pretrained import pretrained

    if checkpoint is None:
        return pretrained("reference", device="cpu", precision=precision, num_threads=1)
    return Predictor(checkpoint, device="cpu", precision=precision, num_threads=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--precision", default="fp32")
    parser.add_argument("--checkpoint", type=Path, default=None, help="another checkpoint")
    args = parser.parse_args(argv)
    from aurora_xr.pretrained import REGISTRY

    model = load_model(args.checkpoint, args.precision)
    t0 = time.perf_counter()
    frames = real_frames(args.shared)
    rows = run(frames, model)
    args.out.mkdir(parents=True, exist_ok=True)
    paths = draw(frames, rows, args.out)
    table = [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
    sha = REGISTRY["reference"].sha256 if args.checkpoint is None else model.checksum
    record = {"model_sha256": sha, "frames": table}
    (args.out / "real_frames.json").write_text(json.dumps(record, indent=1))
    print(markdown_table(rows))
    for path in paths:
        print(f"{path}: {path.stat().st_size / 1024:.0f} kB")
    print(f"{len(rows)} frames in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
