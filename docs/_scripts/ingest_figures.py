"""Figures of the ingest page: real frames on their operators' elevation/azimuth grids.

:func:`draw` ingests, with the package's own ``ingest``, the real files of
``../shared/real_sequences`` that come with a per-pixel calibration (the Gakona THEMIS CDF
frames with their IDL skymap, the Poker Flat DASC 557.7 nm frame with its Az/El FITS pair)
and draws one frame of each on the cube's grids: elevation rings every 10 degrees, the
directions of geographic north and east marked. It writes ``ingest_gakona.png`` and
``ingest_dasc.png`` into the figures folder and returns the problems met (the folder of real
files missing, a reader failing): the docs build warns and goes on.
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT.parent / "shared" / "real_sequences"
CASES = {
    "ingest_gakona.png": (
        REAL / "themis_gako_skymap_2011" / "thg_l1_asf_gako_2011010617_v01.cdf",
        REAL / "themis_gako_skymap_2011" / "themis_skymap_gako_20110305-+_vXX.sav",
        "THEMIS Gakona CDF frame (turned 180°) on the raw IDL skymap",
    ),
    "ingest_dasc.png": (
        REAL / "dasc_pkr_fits_20151007" / "PKR_DASC_0558_20151007_082351.743.FITS",
        REAL / "dasc_pkr_fits_20151007" / "PKR_DASC_0558_20150213_Az.FIT",
        "Poker Flat DASC 557.7 nm on its Az/El FITS pair",
    ),
}


def _pixel_towards(el: np.ndarray, az: np.ndarray, azimuth: float, elevation: float) -> Any:
    """``(x, y)`` of the pixel nearest the direction (elevation, azimuth)."""
    e, a = np.radians(el), np.radians(az)
    e0, a0 = np.radians(elevation), np.radians(azimuth)
    cos = np.sin(e) * np.sin(e0) + np.cos(e) * np.cos(e0) * np.cos(a - a0)
    y, x = np.unravel_index(np.nanargmax(np.where(np.isfinite(cos), cos, -2)), el.shape)
    return x, y


def _panel(ax: Any, frame: np.ndarray, el: np.ndarray, az: np.ndarray, title: str) -> None:
    shown = frame.astype(float)
    inside = np.isfinite(el)
    lo, hi = np.percentile(shown[inside], [1, 99.5])
    ax.imshow(np.clip((shown - lo) / max(hi - lo, 1), 0, 1), cmap="gray", origin="upper")
    rings = ax.contour(np.where(inside, el, -1), levels=np.arange(10, 90, 10), colors="orange")
    ax.clabel(rings, fmt="%d°", fontsize=7)
    zx, zy = _pixel_towards(el, az, 0.0, 90.0)
    for label, azimuth, colour in (("N", 0.0, "red"), ("E", 90.0, "cyan")):
        x, y = _pixel_towards(el, az, azimuth, 15.0)
        ax.plot([zx, x], [zy, y], color=colour, lw=1.5)
        ax.text(x, y, label, color=colour, fontsize=14, fontweight="bold", ha="center")
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("x (column)")
    ax.set_ylabel("y (row)")


def draw(folder: Path, *, warn: Callable[[str], Any] | None = None) -> list[str]:
    """Write the figures into ``folder``; return the problems met (each also given to ``warn``).

    ``docs/conf.py`` calls it with the Sphinx logger's ``warning``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from aurora_xr import ingest, open_cube

    problems: list[str] = []
    folder.mkdir(parents=True, exist_ok=True)
    for name, (frames, skymap, title) in CASES.items():
        if not frames.exists() or not skymap.exists():
            problems.append(f"{name}: {frames.parent} is missing; figure not drawn")
            continue
        with tempfile.TemporaryDirectory() as out, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the Gakona frames predate the skymap
            try:
                ingest(frames, out, skymap=skymap, progress=False)
                path = next(Path(out).glob("*.nc"))
                with open_cube(path) as ds:
                    frame = ds.image.isel(time=0, channel=0).values
                    el, az = ds.elevation.values, ds.azimuth.values
                    when = str(ds.time.values[0])[:19]
            except Exception as exc:  # a broken reader must not stop the docs build
                problems.append(f"{name}: {type(exc).__name__}: {exc}")
                continue
        fig, ax = plt.subplots(figsize=(5.2, 5.4), dpi=110)
        _panel(ax, frame, el, az, f"{title}\n{when} UT; rings every 10° of elevation")
        fig.tight_layout()
        fig.savefig(folder / name)
        plt.close(fig)
    for problem in problems:
        if warn is not None:
            warn(f"docs/_scripts/ingest_figures.py: {problem}")
    return problems


if __name__ == "__main__":  # python docs/_scripts/ingest_figures.py
    for problem in draw(ROOT / "docs" / "generated" / "figures"):
        print(problem)
