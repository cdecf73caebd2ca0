"""The figures and numbers of the "Calibration from stars" page (docs/concepts/star_calibration.md).

Run ``python docs/_scripts/star_calibration_figures.py`` from the repository root: it
calibrates the synthetic sky and the real frames of ``../shared`` with the library's own
functions (``ephem``'s catalogue, as the page states), writes the figures as small PNGs to
``docs/_static/star_calibration/`` (committed, so the docs build needs neither ``../shared``
nor a minute of fitting) and prints the numbers the page quotes, the last line one JSON
object. Rerun it when the method changes and update the page's numbers from its output.
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from scipy.io import readsav

from aurora_xr.io.formats import read_file
from aurora_xr.plot.starcal import plot_star_calibration
from aurora_xr.sky.lens import Calibration, sky_grids
from aurora_xr.sky.obstructions import obstruction_mask, stack_percentile
from aurora_xr.sky.starcal import (
    StarCalibration,
    angular_distance_deg,
    calibrate_from_stars,
)
from aurora_xr.sky.starcal.render import render_star_field

ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT.parent / "shared" / "real_sequences"
KHO_JPG = ROOT.parent / "shared" / "reference_frames" / "kho_lyr_20201211_2009_clear_stars.jpg"
OUT = ROOT / "docs" / "_static" / "star_calibration"
KHO = (78.148, 16.043, 520.0)
GAKONA = (62.41, 214.84, 0.0)
CATALOGUE = "ephem"
DPI = 80

# the synthetic truth of tests/sky/test_starcal.py: a tilted, distorted lens at KHO
SYNTHETIC_TIME = np.datetime64("2020-12-11T20:09:33")
SYNTHETIC_LENS = Calibration(
    width=512,
    height=512,
    zenith_x=262.3,
    zenith_y=247.8,
    lens_radius=241.0,
    rotation_deg=63.0,
    projection="polynomial",
    poly_coeffs=(1.12, 0.06, -0.18),
    tilt_deg=2.0,
    tilt_azimuth_deg=130.0,
)


def _save(fig: Any, name: str) -> Path:
    """Save at a modest resolution, then as a 128-colour palette PNG (a third of the size)."""
    from PIL import Image

    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / name
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    with Image.open(path) as im:
        small = im.convert("RGB").quantize(colors=128, dither=Image.Dither.NONE)
    small.save(path, optimize=True)
    return path


def _difference_panel(ax: Any, fig: Any, diff: np.ndarray, title: str, vmax: float) -> None:
    shown = ax.imshow(diff, cmap="magma", vmin=0.0, vmax=vmax, interpolation="nearest")
    fig.colorbar(shown, ax=ax, shrink=0.8, label="angle between the calibrations (°)")
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])


def _summary(result: StarCalibration, seconds: float) -> dict[str, Any]:
    return {
        "n_sources": result.n_sources,
        "n_matches": result.n_matches,
        "rms_deg": round(result.rms_deg, 4),
        "worst_deg": round(result.worst_deg, 4),
        "rms_px": round(result.rms_px, 3),
        "worst_px": round(result.worst_px, 3),
        "seconds": round(seconds, 2),
    }


def synthetic() -> dict[str, Any]:
    """A noisy synthetic frame of a known lens with tilt and distortion: the error map."""
    frame = render_star_field(SYNTHETIC_LENS, SYNTHETIC_TIME, KHO, field_stars=300, seed=3)
    t0 = time.perf_counter()
    result = calibrate_from_stars(frame, SYNTHETIC_TIME, KHO, catalogue=CATALOGUE)
    seconds = time.perf_counter() - t0
    el_t, az_t = sky_grids(SYNTHETIC_LENS)
    el_f, az_f = sky_grids(result.calibration)
    diff = np.full(el_t.shape, np.nan)
    above = el_t > 10.0
    diff[above] = angular_distance_deg(el_t[above], az_t[above], el_f[above], az_f[above])
    fig, axes = plt.subplots(1, 2, figsize=(10.0, 4.6), layout="constrained")
    plot_star_calibration(result, frame, ax=axes[0], label_brightest=8)
    _difference_panel(
        axes[1], fig, diff, f"fitted vs true lens above 10°: max {np.nanmax(diff):.3f}°", 0.1
    )
    _save(fig, "synthetic.png")
    return {
        **_summary(result, seconds),
        "max_error_above_10_deg": round(float(np.nanmax(diff)), 4),
        "median_error_above_10_deg": round(float(np.nanmedian(diff)), 4),
        "true_tilt_deg": SYNTHETIC_LENS.tilt_deg,
        "fitted_tilt_deg": round(result.calibration.tilt_deg, 3),
    }


def gakona() -> dict[str, Any]:
    """THEMIS Gakona: the stars of a 9-frame stack against the operator's skymap."""
    cdf = read_file(REAL / "themis_gako_skymap_2011" / "thg_l1_asf_gako_2011010617_v01.cdf")
    assert cdf.times is not None
    frames = cdf.frames[:, ::-1, ::-1]  # turned as ingest stores them, to pair with the skymap
    stack = np.median(frames[7:16], axis=0)
    exposure = cdf.frame_metadata["exposure_s"][7:16]
    mid = cdf.times[7:16].astype(np.int64) + exposure * 0.5e9
    when = np.datetime64(round(float(mid.mean())), "ns")
    t0 = time.perf_counter()
    result = calibrate_from_stars(stack, when, GAKONA, catalogue=CATALOGUE)
    seconds = time.perf_counter() - t0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Not able to verify number of bytes"
        sky = readsav(
            str(REAL / "themis_gako_skymap_2011" / "themis_skymap_gako_20110305-+_vXX.sav"),
            python_dict=True,
        )["skymap"][0]
    el_op, az_op = sky["FULL_ELEVATION"], sky["FULL_AZIMUTH"]
    el, az = sky_grids(result.calibration)
    above = (el_op > 10.0) & np.isfinite(el)
    diff = np.full(el.shape, np.nan)
    diff[above] = angular_distance_deg(el[above], az[above], el_op[above], az_op[above])
    # where the operator's skymap puts the matched stars
    row, col = np.rint(result.y).astype(int), np.rint(result.x).astype(int)
    star_vs_skymap = angular_distance_deg(
        el_op[row, col], az_op[row, col], result.elevation, result.azimuth
    )
    fig, axes = plt.subplots(1, 2, figsize=(10.0, 4.6), layout="constrained")
    plot_star_calibration(result, stack, ax=axes[0], label_brightest=8)
    _difference_panel(
        axes[1],
        fig,
        diff,
        f"stars vs the operator's skymap above 10°: median {np.nanmedian(diff):.2f}°, "
        f"90th percentile {np.nanpercentile(diff, 90):.2f}°",
        2.5,
    )
    _save(fig, "gakona.png")
    return {
        **_summary(result, seconds),
        "median_vs_skymap_deg": round(float(np.nanmedian(diff)), 3),
        "p90_vs_skymap_deg": round(float(np.nanpercentile(diff, 90)), 3),
        "max_vs_skymap_deg": round(float(np.nanmax(diff)), 3),
        "stars_vs_skymap_median_deg": round(float(np.nanmedian(star_vs_skymap)), 3),
    }


def kho() -> dict[str, Any]:
    """Both KHO cameras at 2020-12-11 20:09 UT, and the residuals against elevation."""
    img = read_file(REAL / "kho_keosentry_img" / "W8446B18_2020-12-11_20-09-36.img").frames[0]
    jpg = read_file(KHO_JPG).frames[0]
    out: dict[str, Any] = {}
    fig, axes = plt.subplots(1, 3, figsize=(13.5, 4.6), layout="constrained")
    fits = {}
    for ax, (name, frame, when) in zip(
        axes[:2],
        (
            ("keosentry_512_img", img, "2020-12-11T20:09:36"),
            ("sony_a7s_2832_jpg", jpg, "2020-12-11T20:09:33"),
        ),
        strict=True,
    ):
        t0 = time.perf_counter()
        result = calibrate_from_stars(frame, when, KHO, catalogue=CATALOGUE)
        out[name] = _summary(result, time.perf_counter() - t0)
        fits[name] = result
        plot_star_calibration(result, frame, ax=ax, label_brightest=6, max_sources=120)
    for (name, result), marker in zip(fits.items(), ("o", "s"), strict=True):
        label = f"{name.split('_')[0]} ({result.n_matches} stars)"
        axes[2].plot(result.elevation, result.residual_deg, marker, ms=4, label=label, alpha=0.8)
    axes[2].set_xlabel("catalogue elevation of the star (°)")
    axes[2].set_ylabel("residual (°)")
    axes[2].set_xlim(0, 90)
    axes[2].set_ylim(0, None)
    axes[2].grid(alpha=0.3)
    axes[2].legend(fontsize=8)
    axes[2].set_title("residual of each matched star", fontsize=9)
    axes[2].set_box_aspect(1.0)
    _save(fig, "kho.png")
    return out


def obstructions() -> dict[str, Any]:
    """Masks of the TREx (masts, horizon) and THEMIS (trees) sequences of Gillam."""
    fig, axes = plt.subplots(1, 2, figsize=(10.0, 5.0), layout="constrained")
    out: dict[str, Any] = {}
    for ax, folder in zip(
        axes, ("trex_gill_nir_20220307", "themis_gill_pgm_20140310"), strict=True
    ):
        files = sorted((REAL / folder).glob("*.pgm.gz"))
        frames = np.concatenate([read_file(p).frames for p in files])
        t0 = time.perf_counter()
        mask = obstruction_mask(frames)
        seconds = time.perf_counter() - t0
        shown = stack_percentile(frames, 20.0)
        lo, hi = np.percentile(shown, [1.0, 99.5])
        ax.imshow(np.clip((shown - lo) / (hi - lo), 0, 1) ** 0.6, cmap="gray")
        rgba = np.zeros((*mask.shape, 4))
        rgba[mask] = (0.85, 0.1, 0.85, 0.55)
        ax.imshow(rgba, interpolation="nearest")
        ax.set_title(
            f"{folder}: {len(frames)} frames, {mask.mean():.1%} of the frame masked", fontsize=9
        )
        ax.set_xticks([])
        ax.set_yticks([])
        out[folder] = {
            "frames": len(frames),
            "masked_fraction_of_frame": round(float(mask.mean()), 4),
            "seconds": round(seconds, 2),
        }
    _save(fig, "obstructions.png")
    return out


def main() -> dict[str, Any]:
    """Make every figure; print and return the numbers."""
    numbers = {
        "catalogue": CATALOGUE,
        "synthetic": synthetic(),
        "gakona": gakona(),
        "kho": kho(),
        "obstructions": obstructions(),
    }
    for path in sorted(OUT.glob("*.png")):
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size / 1024:.0f} kB")
    print(json.dumps(numbers))
    return numbers


if __name__ == "__main__":
    main()
