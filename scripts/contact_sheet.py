"""Contact sheets of the synthetic sky beside real all-sky frames of the same conditions.

Two sheets, for judging the realism of the randomised sky (``realism="randomised"``):

* ``synthetic_vs_real.png``: one row per condition (clear starry sky, bright hazy sky,
  green arcs under orange haze, moonlit aurora, moonlit haze in white light, a dark sky
  with stars, arcs at 557.7, 630.0 and 427.8 nm, the Milky Way, faint diffuse aurora in
  the near infrared, a mid-latitude camera with its lens circle inside the frame, a clear
  sky in a colour-mosaic imager):
  the real frame on the left, then synthetic frames of the same condition from cameras
  drawn to resemble the real one, the truth outlined in magenta on the last;
* ``training_mix.png``: frames of the randomised training mix as drawn
  (:func:`aurora_xr.datasets.randomised_nights`), colour and single-channel, with their
  truth outlined.

Real files are read with :func:`aurora_xr.io.formats.read_file` from ``--shared``
(``../shared``: ``reference_frames/`` and ``real_sequences/``) and only ever drawn,
downscaled, into the sheets, which are written outside the package (``artifacts/`` by
default, git-ignored; the documentation writes them into ``docs/generated/figures/`` at
build time through ``docs/_scripts/synthetic_sheets.py``). 16-bit and single-channel frames,
real and synthetic alike, are shown with the same robust stretch (1st to 99.7th percentile
inside the lens circle); 8-bit colour frames as they are.

Usage::

    .venv/bin/python scripts/contact_sheet.py [--shared DIR] [--out DIR] [--tile 256]
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from PIL import Image, ImageDraw
from scipy import ndimage

from aurora_xr.datasets import CameraModel, NightScene, randomised_nights, synthetic_cube
from aurora_xr.synthetic import Landscape, LightSource
from aurora_xr.synthetic.spectra import band_response, colour_response

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = ROOT.parent / "shared"
DEFAULT_OUT = ROOT / "artifacts"
CAPTION = 30


# -- display ---------------------------------------------------------------------------------
def stretch(frame: np.ndarray, lens: np.ndarray | None = None) -> np.ndarray:
    """An 8-bit RGB view of a frame: 8-bit colour as it is, anything else stretched.

    The stretch maps the 1st..99.7th percentile of the pixels inside ``lens`` (all pixels
    when None) to 0..255, the same for every channel.
    """
    img = np.asarray(frame)
    if img.ndim == 2:
        img = img[..., None]
    if img.dtype == np.uint8 and img.shape[-1] == 3:
        return img
    values = img.astype(np.float64)
    inside = values[lens] if lens is not None and lens.any() else values.reshape(-1, img.shape[-1])
    lo, hi = np.percentile(inside, [1.0, 99.7])
    out = np.clip((values - lo) / max(hi - lo, 1e-9) * 255.0, 0.0, 255.0).astype(np.uint8)
    return np.repeat(out, 3, axis=-1) if out.shape[-1] == 1 else out


def fit(rgb: np.ndarray, tile: int) -> np.ndarray:
    """``rgb`` scaled to fit a ``tile`` x ``tile`` square, centred on black."""
    image = Image.fromarray(rgb)
    scale = tile / max(image.width, image.height)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    method = Image.Resampling.LANCZOS if scale < 1 else Image.Resampling.NEAREST
    image = image.resize(size, method)
    canvas = Image.new("RGB", (tile, tile))
    canvas.paste(image, ((tile - image.width) // 2, (tile - image.height) // 2))
    return np.asarray(canvas)


def outline(rgb: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """``rgb`` with the edge of the ``truth`` mask drawn in magenta."""
    edge = truth & ~ndimage.binary_erosion(truth)
    out = rgb.copy()
    out[edge] = (255, 0, 255)
    return out


def synthetic_view(ds: xr.Dataset, index: int = 0, *, truth: bool = False) -> np.ndarray:
    lens = np.isfinite(ds.elevation.values)
    rgb = stretch(ds.image.values[index], lens)
    return outline(rgb, ds.aurora_truth.values[index]) if truth else rgb


# -- real frames -----------------------------------------------------------------------------
def read_real(path: Path, index: int = 0) -> np.ndarray:
    """Frame ``index`` of a real camera file, as an 8-bit RGB view."""
    from aurora_xr.io.formats import read_file

    frames = read_file(path).frames
    frame = frames[min(index, frames.shape[0] - 1)]
    if frame.dtype == np.uint8 and frame.ndim == 3:
        return frame
    lens = frame > np.percentile(frame, 20) if frame.ndim == 2 else None
    return stretch(frame, lens)


# -- synthetic frames of a condition ---------------------------------------------------------
_FLAT = Landscape(key=11, hills=0.4, masts=1, buildings=2)


def _camera(**kw: Any) -> CameraModel:
    band = kw.pop("band", None)
    if band is not None:
        kw.update(channels=(band,), response=tuple(map(tuple, band_response(band).tolist())))
    else:
        wb = kw.pop("white_balance", (1.0, 1.0, 1.0))
        sat = kw.pop("saturation", 1.4)
        response = colour_response(white_balance=wb, saturation=sat)
        kw.setdefault("response", tuple(map(tuple, response.tolist())))
    kw.setdefault("landscape", _FLAT)
    return CameraModel(key=kw.pop("key", 17), **kw)


CONSUMER = dict(gamma=2.2, sky_level=24.0, snr=25.0, jpeg_quality=88, vignetting=0.35)
TREX = dict(
    gamma=2.0, sky_level=18.0, snr=18.0, radius_frac=1.12, offset=(0.0, 0.02), vignetting=0.45,
    landscape=Landscape(key=4, hills=0.6, masts=3, buildings=3),
)  # fmt: skip
SCIENCE16 = dict(bits=16, snr=30.0, vignetting=0.3)


@dataclasses.dataclass(frozen=True)
class Condition:
    """A condition of the sheet: a real frame and how to make synthetic frames like it."""

    title: str
    real: str  # path under the shared folder
    real_index: int
    camera: CameraModel
    scene: NightScene
    start: str
    size: int | tuple[int, int] = 256
    options: tuple[tuple[str, Any], ...] = ()
    search: str = "none"  # "aurora": the frames with most truth in the day; "none": start


def conditions() -> list[Condition]:
    """The conditions of ``synthetic_vs_real.png``."""
    ref, seq = "reference_frames", "real_sequences"
    sodium = LightSource(200.0, 0.0, 30.0, 8.0, 120.0, "sodium")
    led = LightSource(60.0, 0.0, 20.0, 6.0, 60.0, "mixed_lamps")
    dasc = dict(bits=14, bias=350.0, sky_level=140.0, snr=14.0, radius_frac=0.9, vignetting=0.5)
    return [
        Condition("clear starry sky (colour)", f"{ref}/kho_lyr_20201211_2009_clear_stars.jpg", 0,
                  _camera(**CONSUMER, star_gain=2.0, white_balance=(1.1, 1.0, 0.8)),
                  NightScene(activity=0.0, milky_way=1.6, domes=(led,)), "2020-06-21T14:00"),
        Condition("bright hazy sky (colour)", f"{ref}/trex_gill_20200508_0605_bright_sky.png", 0,
                  _camera(**TREX, white_balance=(1.15, 1.0, 1.1)),
                  NightScene(activity=0.0, haze=400.0, haze_kind="mixed_lamps", haze_depth=0.6,
                             haze_horizon=2.5, domes=(sodium,)), "2020-06-21T14:00"),
        Condition("green arcs under orange haze", f"{ref}/trex_gill_20211030_0605_aurora.png", 0,
                  _camera(**TREX), NightScene(activity=3.0, haze=6.0, haze_kind="sodium",
                                              haze_depth=0.3, domes=(sodium,)),
                  "2020-06-21T06:00", search="aurora"),
        Condition("moonlit aurora (colour)", f"{ref}/kho_lyr_20211121_1707_aurora_moon.jpg", 0,
                  _camera(**{**CONSUMER, "sky_level": 60.0}, white_balance=(0.95, 1.0, 1.0)),
                  NightScene(activity=3.0, moon_glare=3.0, haze_depth=0.3),
                  "2020-07-05T06:00", options=(("moon", True),), search="aurora"),
        Condition("moonlit haze, white light", f"{seq}/themis_gill_pgm_20140310/"
                  "20140310_0600_gill_themis19_full.pgm.gz", 0,
                  _camera(band="white", **SCIENCE16, bias=3440.0, sky_level=1500.0),
                  NightScene(activity=0.0, haze=20.0, haze_depth=0.4, haze_kind="mixed_lamps"),
                  "2020-07-05T10:00", options=(("moon", True),)),
        Condition("dark sky, stars, white light", f"{seq}/themis_gako_skymap_2011/"
                  "thg_l1_asf_gako_2011010617_v01.cdf", 0,
                  _camera(band="white", **SCIENCE16, bias=2290.0, sky_level=900.0,
                          radius_frac=1.0, star_gain=0.8),
                  NightScene(activity=0.0), "2020-06-21T14:00", options=(("moon", False),)),
        Condition("arcs at 557.7 nm", f"{seq}/dasc_pkr_fits_20151007/"
                  "PKR_DASC_0558_20151007_082351.743.FITS", 0, _camera(band="557.7nm", **dasc),
                  NightScene(activity=3.0), "2020-06-21T06:00", search="aurora"),
        Condition("arcs at 630.0 nm", f"{seq}/dasc_pkr_fits_20151007/"
                  "PKR_DASC_0630_20151007_082359.586.FITS", 0, _camera(band="630.0nm", **dasc),
                  NightScene(activity=3.0), "2020-06-21T06:00", search="aurora"),
        Condition("arcs at 427.8 nm", f"{seq}/dasc_pkr_fits_20151007/"
                  "PKR_DASC_0428_20151007_082355.961.FITS", 0, _camera(band="427.8nm", **dasc),
                  NightScene(activity=3.0), "2020-06-21T06:00", search="aurora"),
        Condition("clear sky, Milky Way (narrow band)", f"{seq}/kho_keosentry_img/"
                  "W8446B18_2020-12-11_20-09-36.img", 0,
                  _camera(band="white", bits=16, bias=60.0, sky_level=9000.0, snr=60.0,
                          radius_frac=0.97, star_gain=1.5, vignetting=0.5),
                  NightScene(activity=0.0, milky_way=2.0), "2020-06-21T12:00"),
        Condition("faint diffuse structure, masts", f"{seq}/trex_gill_nir_20220307/"
                  "20220307_0600_gill_nir-216_8446.pgm.gz", 0,
                  _camera(band="white", bits=16, bias=290.0, sky_level=90.0, snr=6.0,
                          radius_frac=1.08, landscape=Landscape(key=4, hills=0.5, masts=4)),
                  NightScene(activity=1.0), "2020-06-21T06:00", search="aurora"),
        Condition("lens inside the frame, moon, trees", f"{seq}/oculus_umd_fits_20151108/"
                  "IMG01329.FIT", 0,
                  _camera(band="white", bits=16, bias=400.0, sky_level=2000.0, snr=40.0,
                          radius_frac=0.7, landscape=Landscape(key=8, hills=0.3, trees=14.0)),
                  NightScene(activity=0.0, haze=8.0, meteor_rate=1.0), "2020-07-05T10:00",
                  size=(240, 320), options=(("moon", True), ("force", {"meteor": 3.0}))),
        Condition("clear sky, bright stars (colour mosaic)", f"{seq}/rainbow_rabb_pgm_20130205/"
                  "20130205_0500_rabb_rainbow-08_full.pgm.gz", 0,
                  _camera(band="white", bits=16, bias=1630.0, sky_level=400.0, snr=25.0,
                          radius_frac=0.95, star_gain=2.0),
                  NightScene(activity=0.0, haze=2.0, haze_kind="mixed_lamps"),
                  "2020-06-21T14:00"),
    ]  # fmt: skip


def _render(cond: Condition, start: Any, n_frames: int, size: Any, **kw: Any) -> xr.Dataset:
    options = dict(cond.options)
    options.update(kw)
    return synthetic_cube(start=start, n_frames=n_frames, size=size, seed=5,
                          realism="randomised", camera=cond.camera, scene=cond.scene,
                          **options)  # fmt: skip


def synthetic_frames(cond: Condition, count: int) -> tuple[xr.Dataset, list[int]]:
    """Frames of ``cond`` (the ``count`` best of a day's scan when it searches for aurora)."""
    if cond.search == "aurora":
        scan = _render(cond, cond.start, 96, 64, cadence="15min")
        truth = scan.aurora_truth.values
        score = truth.mean((1, 2))
        if scan.sizes["channel"] == 3:  # bright green aurora in a colour camera
            img = scan.image.values.astype(float)
            lift = img[..., 1] - np.median(img[..., 1], axis=(1, 2), keepdims=True)
            score = ((lift > 12.0) & (img[..., 1] > img[..., 0]) & truth).mean((1, 2))
        picked: list[np.datetime64] = []
        for i in np.argsort(score)[::-1]:  # the best frames at least 45 minutes apart
            t = scan.time.values[i]
            if all(abs(t - p) >= np.timedelta64(45, "m") for p in picked):
                picked.append(t)
            if len(picked) == count:
                break
        times = np.sort(np.array(picked))
        cubes = [_render(cond, t, 1, cond.size) for t in times]
        return xr.concat(cubes, dim="time", combine_attrs="override"), list(range(len(cubes)))
    ds = _render(cond, cond.start, count, cond.size, cadence="47min")
    return ds, list(range(count))


def condition_rows(shared: Path, tile: int, per_row: int = 3) -> list[list[tuple[str, np.ndarray]]]:
    rows = []
    for cond in conditions():
        path = shared / cond.real
        if path.is_file():
            real = fit(read_real(path, cond.real_index), tile)
        else:
            real = np.zeros((tile, tile, 3), np.uint8)
        row = [(f"real: {cond.title}", real)]
        ds, picks = synthetic_frames(cond, per_row)
        for k, i in enumerate(picks):
            view = synthetic_view(ds, i, truth=k == len(picks) - 1)
            row.append((f"synthetic {k + 1}" + (" + truth" if k == len(picks) - 1 else ""),
                        fit(view, tile)))  # fmt: skip
        rows.append(row)
    return rows


def mix_rows(tile: int, n: int = 24, cols: int = 6, first_seed: int = 4242) -> list[list[Any]]:
    """Frames of the randomised training mix, as drawn, with their truth outlined."""
    cubes = randomised_nights(n, n, first_seed=first_seed, size=tile)
    tiles = []
    for cube in cubes:
        band = "/".join(map(str, cube.channel.values))
        kind = f"{band} {cube.image.dtype}"
        tiles.append((kind, fit(synthetic_view(cube, 0, truth=True), tile)))
    return [tiles[k : k + cols] for k in range(0, len(tiles), cols)]


def sheet(rows: list[list[tuple[str, np.ndarray]]], tile: int) -> Image.Image:
    """Tiles in rows, with a caption under each."""
    cols = max(len(r) for r in rows)
    out = Image.new("RGB", (cols * tile, len(rows) * (tile + CAPTION)), (40, 40, 40))
    draw = ImageDraw.Draw(out)
    for r, row in enumerate(rows):
        for c, (caption, image) in enumerate(row):
            x, y = c * tile, r * (tile + CAPTION)
            out.paste(Image.fromarray(image), (x, y))
            draw.text((x + 4, y + tile + 4), caption[: tile // 6], fill=(230, 230, 230))
    return out


def make_sheets(
    out: Path, *, shared: Path = DEFAULT_SHARED, tile: int = 256, log: Callable[[str], Any] = print
) -> list[Path]:
    """Write both sheets into the folder ``out``; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    target = out / "synthetic_vs_real.png"
    sheet(condition_rows(shared, tile), tile).save(target)
    paths.append(target)
    target = out / "training_mix.png"
    sheet(mix_rows(tile), tile).save(target)
    paths.append(target)
    for path in paths:
        log(str(path))
    return paths


def main(argv: list[str] | None = None) -> list[Path]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--tile", type=int, default=256)
    args = parser.parse_args(argv)
    return make_sheets(args.out, shared=args.shared, tile=args.tile)


if __name__ == "__main__":
    main()
