"""Make the figures and the generated tables of the aurora_xr documentation.

Run by ``docs/conf.py`` before every build (alone: ``python docs/_scripts/make_figures.py``).
Everything is computed here, with the library's own functions, from the synthetic sky; nothing
is downloaded and no GPU is needed. Outputs, under ``docs/generated/``:

* ``figures/*.png``: the concept figures (lens models, ground distance, the cells drawn over
  a synthetic frame in the geomagnetic view, cell areas, MLT against UT, the three panels);
* ``tables/*.md``: the variables, dimensions, dtypes and attributes of a cube and of every
  product, read from objects the library has just built (so they follow the code), and the
  ``--help`` of every ``aurora-xr`` subcommand.

The work is skipped when neither the package nor this script changed since the last run
(a stamp file holds a hash of their sources).
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

import numpy as np

DOCS = Path(__file__).resolve().parents[1]
ROOT = DOCS.parent
OUT = DOCS / "generated"
FIGURES = OUT / "figures"
TABLES = OUT / "tables"
STAMP = OUT / ".figures_stamp"

FIGURE_NAMES = (
    "lens_models.png",
    "ground_distance.png",
    "cells_on_frame.png",
    "cell_areas.png",
    "mlt_ut.png",
    "three_panel.png",
)
TABLE_NAMES = (
    "cube.md",
    "cells.md",
    "segment.md",
    "difference.md",
    "usable.md",
    "occurrence.md",
    "compare.md",
    "cli.md",
)

SEED = 3
SIZE = 256
DAY = "2020-06-21"


def sources_hash() -> str:
    """Hash of the package sources and of this script."""
    digest = hashlib.sha256()
    files = [*sorted((ROOT / "aurora_xr").rglob("*.py")), Path(__file__).resolve()]
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def up_to_date(stamp: str) -> bool:
    outputs = [FIGURES / n for n in FIGURE_NAMES] + [TABLES / n for n in TABLE_NAMES]
    return (
        STAMP.exists() and STAMP.read_text().strip() == stamp and all(p.exists() for p in outputs)
    )


def _save(fig: Any, name: str) -> None:
    FIGURES.mkdir(parents=True, exist_ok=True)
    tmp = FIGURES / f".{name}.tmp.png"
    fig.savefig(tmp, dpi=110, bbox_inches="tight", metadata={"Software": None})
    tmp.replace(FIGURES / name)
    import matplotlib.pyplot as plt

    plt.close(fig)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


# -- figures ---------------------------------------------------------------------------------


def figure_lens_models() -> None:
    """Normalised image radius against zenith angle for the lens models."""
    import matplotlib.pyplot as plt

    from aurora_xr.sky.lens import Calibration

    theta = np.linspace(0.0, 90.0, 181)
    fig, ax = plt.subplots(figsize=(5.0, 3.4))
    for projection, style in (("equidistant", "-"), ("equisolid", "--")):
        cal = Calibration(
            width=512,
            height=512,
            zenith_x=255.5,
            zenith_y=255.5,
            lens_radius=240.0,
            projection=projection,
        )
        ax.plot(theta, cal.rho_of_theta(theta), style, label=projection)
    ax.set_xlabel("zenith angle θ (degrees) = 90° − elevation")
    ax.set_ylabel("r / lens radius")
    ax.set_xlim(0, 90)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(title="lens model")
    ax.set_title("Where a direction lands on the image")
    _save(fig, "lens_models.png")


def figure_ground_distance() -> None:
    """Ground distance of the emission point against elevation, for two altitudes."""
    import matplotlib.pyplot as plt

    from aurora_xr.sky.shell import ground_distance_km

    el = np.linspace(0.0, 90.0, 361)
    fig, ax = plt.subplots(figsize=(5.0, 3.4))
    for h, label in ((110.0, "110 km (557.7 nm)"), (230.0, "230 km (630.0 nm)")):
        ax.plot(el, ground_distance_km(el, h), label=label)
    marks = np.array([10.0, 15.0, 20.0, 30.0])
    ax.plot(marks, ground_distance_km(marks, 110.0), "ko", ms=3)
    for e in marks:
        d = float(ground_distance_km(e, 110.0))
        ax.annotate(f"{d:.0f} km", (e, d), textcoords="offset points", xytext=(6, 2), fontsize=8)
    ax.axvspan(0, 10, color="0.85", zorder=0, label="below the cells (10°)")
    ax.set_xlabel("elevation (degrees)")
    ax.set_ylabel("ground distance (km)")
    ax.set_xlim(0, 90)
    ax.set_ylim(0, None)
    ax.grid(alpha=0.3)
    ax.legend(title="emission altitude")
    _save(fig, "ground_distance.png")


def figure_cell_areas() -> None:
    """Area per cell of our equal-area rings and of a naive 20 x 20 grid."""
    import matplotlib.pyplot as plt

    from aurora_xr.geo.cells import layout_cells
    from aurora_xr.sky.shell import EARTH_RADIUS_KM, earth_angle

    h = 110.0
    shell = 2.0 * np.pi * (EARTH_RADIUS_KM + h) ** 2

    def ring_areas(edges_beta: np.ndarray, counts: np.ndarray) -> np.ndarray:
        inner = np.concatenate([[0.0], edges_beta[:-1]])
        cos_in, cos_out = np.cos(np.radians(inner)), np.cos(np.radians(edges_beta))
        return shell * (cos_in - cos_out) / counts

    layout = layout_cells(400, min_elevation=10.0, altitude_km=h)
    ours_edges = np.asarray(layout.ring_edges, dtype=float)
    ours = ring_areas(ours_edges, np.asarray(layout.ring_counts, dtype=float))
    naive_el = np.linspace(90.0, 10.0, 21)[1:]  # outer edges of 20 rings, equal in elevation
    naive_edges = np.asarray(earth_angle(naive_el, h), dtype=float)
    naive = ring_areas(naive_edges, np.full(20, 20.0))

    fig, ax = plt.subplots(figsize=(5.6, 3.4))
    ax.step(np.arange(1, naive.size + 1), naive, where="mid", label="20 rings × 20 sectors")
    ax.plot(np.arange(1, ours.size + 1), ours, "o-", label=f"ours: {ours.size} rings, 400 cells")
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    ax.set_xlabel("ring (1 = around the zenith)")
    ax.set_ylabel("area of one cell (km²) at 110 km")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    ax.set_title("Equal-area cells: rings with more cells outwards")
    _save(fig, "cell_areas.png")


def figure_mlt_ut() -> None:
    """Magnetic local time of JBS against UT over one day."""
    import matplotlib.pyplot as plt

    from aurora_xr.geo.mlt import station_mlt
    from aurora_xr.sky.stations import get_station

    jbs = get_station("JBS")
    times = np.arange(
        np.datetime64(f"{DAY}T00:00", "ns"),
        np.datetime64(f"{DAY}T23:59", "ns"),
        np.timedelta64(10, "m"),
    )
    mlt = station_mlt(times, jbs.latitude, jbs.longitude, altitude_km=110.0)
    ut = (times - times[0]) / np.timedelta64(1, "h")
    fig, ax = plt.subplots(figsize=(5.0, 3.2))
    wrap = np.r_[np.abs(np.diff(mlt)) > 12, False]
    ax.plot(ut, np.where(wrap, np.nan, mlt), label="AACGM-v2 MLT at 110 km")
    rule = (ut + 15.5) % 24
    ax.plot(
        ut,
        np.where(np.r_[np.abs(np.diff(rule)) > 12, False], np.nan, rule),
        ":",
        label="UT + 15.5 h",
    )
    ax.set_xlabel(f"UT on {DAY} (hours)")
    ax.set_ylabel("MLT (hours)")
    ax.set_xticks(range(0, 25, 3))
    ax.set_yticks(range(0, 25, 6))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("Jang Bogo Station: magnetic local time")
    _save(fig, "mlt_ut.png")


def _aurora_time() -> np.datetime64:
    """The time of a synthetic frame with much aurora (a coarse scan of one day)."""
    from aurora_xr.datasets import synthetic_cube

    scan = synthetic_cube(start=f"{DAY}T00:00", n_frames=96, cadence="15min", size=64, seed=SEED)
    truth = scan["aurora_truth"].values.mean(axis=(1, 2))
    return scan["time"].values[int(np.argmax(truth))]


def figures_on_frames(cube: Any, grid: Any, diff: Any) -> None:
    """Cells over a synthetic frame, and the three-panel figure."""
    import matplotlib.pyplot as plt

    from aurora_xr import plot
    from aurora_xr.sky.lens import require_calibration

    frame = -1
    cal = require_calibration(dict(cube.attrs))
    fig, (ax_raw, ax_mag) = plt.subplots(1, 2, figsize=(9.0, 4.6))
    raw = cube["image"].isel(time=frame).values
    ax_raw.imshow(np.clip(raw.astype(float) / 255.0 * 1.5, 0, 1), origin="upper")
    ax_raw.plot([cal.zenith_x], [cal.zenith_y], "w+", ms=8)
    ax_raw.set_title("As the camera stores it", fontsize=10)
    ax_raw.set_axis_off()
    plot.plot_sky(
        cube,
        time=frame,
        cells=grid,
        overlays=[],
        contrast=1.5,
        ax=ax_mag,
        title="Geomagnetic view with the 400 cells",
    )
    _save(fig, "cells_on_frame.png")

    seg = cube.assign(aurora_mask=cube["aurora_truth"])
    fig = plot.plot_three_panel(
        seg,
        frame,
        cells=grid,
        difference=diff,
        contrast=1.5,
        titles=("Synthetic frame", "Difference method", "Truth mask (in place of the FCN)"),
    )
    _save(fig, "three_panel.png")


# -- tables ------------------------------------------------------------------------------------


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _short(value: Any, limit: int = 70) -> str:
    if isinstance(value, np.ndarray | np.generic):
        value = value.tolist()
    text = repr(value) if not isinstance(value, str) else value
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def variables_table(ds: Any, *, only: list[Hashable] | None = None) -> str:
    """A Markdown table of the variables and coordinates of ``ds``."""
    rows = ["| name | kind | dims | dtype | units | long name |", "|---|---|---|---|---|---|"]
    names = list(ds.variables) if only is None else only
    for name in names:
        var = ds.variables[name]
        if name in ds.dims and name not in ds.coords:
            continue
        kind = "coordinate" if name in ds.coords else "variable"
        dims = "(" + ", ".join(map(str, var.dims)) + ")"
        rows.append(
            f"| `{_cell(name)}` | {kind} | {_cell(dims)} | {var.dtype} | "
            f"{_cell(var.attrs.get('units', ''))} | {_cell(var.attrs.get('long_name', ''))} |"
        )
    return "\n".join(rows) + "\n"


def attrs_table(attrs: dict[Hashable, Any], title: str = "attribute") -> str:
    rows = [f"| {title} | example value |", "|---|---|"]
    for key, value in attrs.items():
        rows.append(f"| `{_cell(key)}` | {_cell(_short(value))} |")
    return "\n".join(rows) + "\n"


def product_tables(ds: Any, *, only: list[Hashable] | None = None) -> str:
    text = variables_table(ds, only=only)
    if ds.attrs:
        text += "\nAttributes:\n\n" + attrs_table(dict(ds.attrs))
    return text


def _var_attrs(ds: Any, names: list[Hashable]) -> str:
    parts = []
    for name in names:
        if ds[name].attrs:
            parts.append(f"\nAttributes of `{name}`:\n\n" + attrs_table(dict(ds[name].attrs)))
    return "".join(parts)


def cli_help() -> str:
    """The ``--help`` of ``aurora-xr`` and of each subcommand, as Markdown."""
    from aurora_xr.cli import SUBCOMMANDS, build_parser

    os.environ["COLUMNS"] = "90"  # argparse wraps the help to the terminal width
    parser = build_parser()
    parts = ["```text", parser.format_help().rstrip(), "```", ""]
    sub_action = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name in SUBCOMMANDS:
        child = sub_action.choices[name]  # type: ignore[attr-defined]
        parts += [f"## `aurora-xr {name}`", "", "```text", child.format_help().rstrip(), "```", ""]
    return "\n".join(parts)


def main(force: bool = False) -> list[str]:
    """Make everything unless up to date; returns the failures (empty when all went well).

    A step that fails does not stop the others: its output says that it could not be made
    and why, and the failure is returned so that ``conf.py`` reports it as a warning (which
    fails a ``-W`` build, so CI notices a broken public function).
    """
    stamp = sources_hash()
    if not force and up_to_date(stamp):
        return []
    os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib

    matplotlib.use("Agg")
    started = time.perf_counter()
    failures: list[str] = []

    def run(name: str, step: Callable[[], None], outputs: tuple[Path, ...] = ()) -> None:
        try:
            step()
        except Exception as exc:  # report, make the rest
            message = f"{name}: {type(exc).__name__}: {exc}"
            failures.append(message)
            for path in outputs:
                if path.suffix == ".md":
                    _write(path, f"```{{warning}}\nNot generated: {message}\n```\n")
                elif path.exists():
                    path.unlink()

    run("lens models figure", figure_lens_models)
    run("ground distance figure", figure_ground_distance)
    run("cell areas figure", figure_cell_areas)
    run("MLT figure", figure_mlt_ut)
    run("CLI help", lambda: _write(TABLES / "cli.md", cli_help()), (TABLES / "cli.md",))

    state: dict[str, Any] = {}

    def build_cube() -> None:
        from aurora_xr.cube.grid import cell_grid
        from aurora_xr.datasets import synthetic_cube
        from aurora_xr.detect.difference import difference_detect
        from aurora_xr.detect.segmentation import ChannelThresholdPredictor

        start = _aurora_time() - np.timedelta64(2, "m")
        cube = synthetic_cube(start=start, n_frames=3, cadence="1min", size=SIZE, seed=SEED)
        grid = cell_grid(cube)
        state.update(
            cube=cube,
            grid=grid,
            diff=difference_detect(cube, lag="2min", cells=grid),
            predictor=ChannelThresholdPredictor(),
        )

    frame_outputs = tuple(FIGURES / n for n in ("cells_on_frame.png", "three_panel.png"))
    table_outputs = tuple(TABLES / n for n in TABLE_NAMES if n != "cli.md")
    run("synthetic cube and cell grid", build_cube, frame_outputs + table_outputs)
    if state:
        st = state
        run(
            "figures on a synthetic frame",
            lambda: figures_on_frames(st["cube"], st["grid"], st["diff"]),
            frame_outputs,
        )
        for name, make in table_makers().items():
            path = TABLES / name
            run(f"table {name}", lambda make=make, path=path: _write(path, make(st)), (path,))

    if not failures:
        _write(STAMP, stamp + "\n")
    elif STAMP.exists():
        STAMP.unlink()
    print(f"[docs] figures and tables made in {time.perf_counter() - started:.1f} s")
    return failures


def table_makers() -> dict[str, Callable[[dict[str, Any]], str]]:
    """File name -> function of the shared state (cube, grid, diff, predictor) -> Markdown."""
    from aurora_xr.analysis.compare import compare_methods
    from aurora_xr.analysis.cube_occurrence import occurrence_from_cube
    from aurora_xr.detect.segmentation import segment
    from aurora_xr.detect.usable import usable_frames
    from aurora_xr.io.products import prepare_product

    added = ["aurora_probability", "aurora_mask"]

    def seg_table(st: dict[str, Any]) -> str:
        seg = segment(st["cube"], st["predictor"])
        return variables_table(seg, only=added) + _var_attrs(seg, added)

    return {
        "cube.md": lambda st: product_tables(st["cube"]),
        "cells.md": lambda st: product_tables(st["grid"]),
        "segment.md": seg_table,
        "difference.md": lambda st: product_tables(st["diff"].compute()),
        "usable.md": lambda st: product_tables(usable_frames(st["cube"]).compute()),
        # products as written to NetCDF (prepare_product adds the CF attributes)
        "occurrence.md": lambda st: product_tables(
            prepare_product(
                occurrence_from_cube(st["cube"], detector="difference", cells=st["grid"]).compute()
            )
        ),
        "compare.md": lambda st: product_tables(
            prepare_product(
                compare_methods(st["cube"], st["predictor"], cells=st["grid"]).compute()
            )
        ),
    }


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    problems = main(force="--force" in sys.argv)
    print(f"written under {OUT}")
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    sys.exit(1 if problems else 0)
