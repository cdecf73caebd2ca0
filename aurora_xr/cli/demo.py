"""The main job on the built-in synthetic archive (``aurora-xr demo``).

Generate a mid-winter archive of synthetic JBS frames as image files, ingest
it to NetCDF, open it lazily, train a segmentation model on synthetic frames
made with other seeds, segment, detect with the difference method, build the
occurrence maps of both methods, compare them with the truth, write the NetCDF
products and figures, and print a summary.

Every step calls only the public API; the function is the script of the
quick start, kept runnable by the test suite.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import OptionError
from ..sky.lens import Calibration
from ..sky.stations import Station

__all__ = ["DemoConfig", "DemoResult", "comparison_summary", "run_demo"]


@dataclass(frozen=True)
class DemoConfig:
    """Sizes of the demo (the defaults run in a few minutes on two CPU cores).

    The archive holds ``days`` UT days of frames every ``cadence`` from
    ``start`` (mid-winter: the sky is dark at every MLT). The model is trained
    on ``train_frames`` frames drawn from other days with another seed, with
    bf16 autocast where the CPU computes it natively (``train_precision="auto"``).
    With ``checkpoint`` set, that model is used instead and nothing is
    trained (for example the ``fcn_resnet50`` of
    ``scripts/train_synthetic.py``, with ``size`` its training frame size).
    ``predict_precision`` is the segmentation's precision (``"auto"``: bf16
    where the device computes it natively). With ``reference`` (the default) the
    shipped reference model (``aurora_xr.pretrained("reference")``) segments the
    same frames and its figures are reported beside the demo model's.
    """

    start: str = "2020-06-19T00:00"
    days: float = 3.0
    cadence: str = "2min"
    size: int = 128
    seed: int = 2020
    arch: str = "lraspp_mobilenet_v3_large"
    train_frames: int = 960
    train_seed: int = 7
    train_cadence: str = "5min"
    epochs: int = 12
    lr: float = 3e-3
    train_precision: str = "auto"
    train_activity: float = 2.0
    batch_size: int = 16
    lag: str = "2min"
    chunk_frames: int = 180
    figures: bool = True
    checkpoint: str | None = None
    predict_precision: str = "fp32"
    reference: bool = True


@dataclass
class DemoResult:
    """What the demo produced (paths and the figures of merit)."""

    out_dir: Path
    products: dict[str, Path] = field(default_factory=dict)
    figures: dict[str, Path] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


_ARCHIVE_FIELDS = ("start", "days", "cadence", "size", "seed")
_MODEL_FIELDS = (
    "size",
    "arch",
    "train_frames",
    "train_seed",
    "train_cadence",
    "epochs",
    "lr",
    "train_precision",
    "train_activity",
    "batch_size",
)
_RECORD = "demo_config.json"


def _check_reuse(out: Path, cfg: DemoConfig) -> None:
    """Refuse to reuse an archive or a model that ``out`` holds for other settings.

    The settings that made them are recorded in ``out/demo_config.json``; a
    later run into the same folder must agree on them (the archive's, and the
    model's unless a checkpoint is given), else it would silently mix them.
    """
    record = out / _RECORD
    fields = _ARCHIVE_FIELDS + (_MODEL_FIELDS if cfg.checkpoint is None else ())
    wanted = {name: getattr(cfg, name) for name in dict.fromkeys(fields)}
    if record.exists():
        try:
            saved = json.loads(record.read_text())
        except ValueError:
            saved = {}
        differ = [
            f"{name}={saved[name]!r} (asked {value!r})"
            for name, value in wanted.items()
            if name in saved and saved[name] != value
        ]
        if differ:
            raise OptionError(
                f"{out} holds a demo run made with {', '.join(differ)}; "
                "give another output folder (--out) or delete this one"
            )
        wanted = {**saved, **wanted}
    record.write_text(json.dumps(wanted, indent=1) + "\n")


def _step(name: str, timings: dict[str, float], say: Callable[[str], None]) -> Callable[..., Any]:
    def wrap(func: Callable[[], Any]) -> Any:
        t0 = time.perf_counter()
        say(f"[demo] {name} ...")
        out = func()
        timings[name] = round(time.perf_counter() - t0, 1)
        say(f"[demo] {name}: {timings[name]:.1f} s")
        return out

    return wrap


def _training_cube(cfg: DemoConfig) -> xr.Dataset:
    """Training frames from other days than the archive and another seed, over all MLT."""
    from ..datasets import synthetic_cube

    start = pd.Timestamp(cfg.start) - pd.Timedelta(days=10)
    return synthetic_cube(
        start=start,
        n_frames=cfg.train_frames,
        cadence=cfg.train_cadence,
        size=cfg.size,
        seed=cfg.train_seed,
        activity=cfg.train_activity,
    )


def _train_model(cfg: DemoConfig, model_dir: Path, progress: bool) -> Path:
    from ..model import train

    best = model_dir / "best.safetensors"
    if best.exists():
        return best
    result = train(
        _training_cube(cfg),
        arch=cfg.arch,
        out_dir=model_dir,
        epochs=cfg.epochs,
        lr=cfg.lr,
        batch_size=cfg.batch_size,
        image_size=cfg.size,
        seed=cfg.train_seed,
        precision=cfg.train_precision,
        progress=progress,
        report=False,  # the demo scores its model against the truth itself
    )
    return Path(result.best_checkpoint)


def comparison_summary(cmp: xr.Dataset) -> dict[str, float]:
    """The figures of merit of a computed :func:`~aurora_xr.compare_methods` result.

    Overall rate of each method and their ratio; with truth, each method's
    cell precision and recall by form; where the FCN gains over the difference
    method (equatorward vs poleward low cells, and the cell of largest gain).
    """
    overall = cmp["overall_rate"]
    summary = {
        "rate_fcn": float(overall.sel({"detector": "fcn"})),
        "rate_difference": float(overall.sel({"detector": "difference"})),
        "ratio_fcn_over_difference": float(cmp["overall_rate_ratio"]),
    }
    if "recall" in cmp:
        for detector in ("fcn", "difference"):
            for form in ("all", "dynamic", "stationary"):
                where = {"detector": detector, "form": form}
                summary[f"recall_{detector}_{form}"] = float(cmp["recall"].sel(where))
                summary[f"precision_{detector}_{form}"] = float(cmp["precision"].sel(where))
    summary.update(_equatorward_gain(cmp))
    return summary


def _equatorward_gain(cmp: xr.Dataset) -> dict[str, float]:
    """Where the FCN gains most over the difference method: equatorward or poleward half."""
    rate = cmp["occurrence_rate"]
    mean_rate = rate.mean("mlt", skipna=True)
    gain = mean_rate.sel({"detector": "fcn"}) - mean_rate.sel({"detector": "difference"})
    az = cmp.get("cell_azimuth_mag")
    if az is None:
        return {}
    # magnetic north (equatorward at JBS) is azimuth 0; split the sky at +-90 degrees
    north = (np.cos(np.radians(az)) > 0) & (cmp["cell_elevation"] < 45)
    south = (np.cos(np.radians(az)) < 0) & (cmp["cell_elevation"] < 45)
    best = int(np.nanargmax(gain.fillna(-1.0).values))
    return {
        "gain_equatorward_low_cells": float(gain.where(north).mean()),
        "gain_poleward_low_cells": float(gain.where(south).mean()),
        "argmax_gain_cell_azimuth_mag": float(az[best]),
        "argmax_gain_cell_elevation": float(cmp["cell_elevation"][best]),
    }


def _reference_summary(ds: xr.Dataset, cells: xr.Dataset, cfg: DemoConfig) -> dict[str, float]:
    """The shipped reference model's figures on the same frames (``reference_*`` keys)."""
    import dask

    from ..analysis.compare import compare_methods
    from ..detect.segmentation import segment

    seg = segment(ds, batch_size=cfg.batch_size)  # no model: the shipped reference model
    with dask.config.set(scheduler="threads"):
        cmp = compare_methods(seg, cells=cells, lag=cfg.lag).compute()
    fcn = {k: v for k, v in comparison_summary(cmp).items() if "_fcn" in k}
    return {f"reference_{k.replace('_fcn', '')}": v for k, v in fcn.items()}


def _archive_camera(archive: Path) -> tuple[Station, Calibration]:
    """The site and lens a synthetic archive was drawn with, from its sidecar."""
    from ..io.ingest_camera import read_calibration_json
    from ..synthetic import ARCHIVE_SIDECAR

    sidecar = archive / ARCHIVE_SIDECAR
    site = Station.from_attrs(json.loads(sidecar.read_text(encoding="utf-8"))["station"])
    return site, read_calibration_json(sidecar)


def run_demo(
    out_dir: str | Path = "demo_output",
    *,
    config: DemoConfig | None = None,
    progress: bool = True,
    say: Callable[[str], None] = print,
) -> DemoResult:
    """Run the whole main job on the synthetic archive.

    Parameters
    ----------
    out_dir : path
        Where the archive, the NetCDF cubes and products, the model and the
        figures go. A second run reuses the archive, the cubes and the model.
    config : DemoConfig, optional
        Sizes of the run.
    progress : bool
        Progress bars on the long steps.
    say : callable
        Where the progress lines and the summary go (``print`` by default).
    """
    import dask

    from ..analysis.compare import compare_methods
    from ..cube.conditions import CONDITIONS_FILE, attach_conditions
    from ..cube.grid import cell_grid
    from ..detect.difference import difference_detect
    from ..detect.segmentation import segment
    from ..io.cubefiles import open_cube
    from ..io.ingestion import ingest
    from ..model import load_model
    from ..model.checkpoint import read_metadata
    from ..synthetic.archive import write_synthetic_archive

    cfg = config or DemoConfig()
    if cfg.checkpoint is not None:
        read_metadata(cfg.checkpoint)  # a missing or bad file fails before any work
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _check_reuse(out, cfg)
    res = DemoResult(out_dir=out)
    step = lambda name: _step(name, res.timings, say)  # noqa: E731

    n_frames = int(pd.Timedelta(days=cfg.days) / pd.Timedelta(cfg.cadence))
    archive = out / "archive"
    if not (archive / "done").exists():
        step("write synthetic archive")(
            lambda: write_synthetic_archive(
                archive,
                start=cfg.start,
                n_frames=n_frames,
                cadence=cfg.cadence,
                size=cfg.size,
                seed=cfg.seed,
            )
        )
        (archive / "done").write_text(f"{n_frames} frames\n")
    cube_dir = out / "cubes"
    site, lens = _archive_camera(archive)  # named explicitly: ingest has no default camera
    report = step("ingest")(
        lambda: ingest(archive, cube_dir, station=site, calibration=lens, progress=progress)
    )
    ds = step("open")(lambda: open_cube(cube_dir, chunks={"time": cfg.chunk_frames}))
    if (archive / CONDITIONS_FILE).exists():  # cloud_fraction and moon_up of every frame
        ds = attach_conditions(ds, archive / CONDITIONS_FILE)
    say(
        f"[demo] cube: {ds.sizes['time']} frames {ds.sizes['y']}x{ds.sizes['x']}, "
        f"{str(ds.time.values[0])[:16]} .. {str(ds.time.values[-1])[:16]}, "
        f"{report.n_skipped} files skipped"
    )

    if cfg.checkpoint is None:
        checkpoint = step(f"train {cfg.arch}")(lambda: _train_model(cfg, out / "model", progress))
    else:
        checkpoint = Path(cfg.checkpoint)
    model = load_model(checkpoint)
    say(f"[demo] model: {model.metadata.architecture} from {checkpoint}")
    predictor = model.predictor(batch_size=cfg.batch_size, precision=cfg.predict_precision)
    cells = step("cells")(lambda: cell_grid(ds))

    seg = segment(ds, predictor)
    cmp = compare_methods(seg, cells=cells, lag=cfg.lag)
    with dask.config.set(scheduler="threads"):
        cmp = step("segment, detect, compare (dask)")(lambda: cmp.compute())

    res.products["comparison"] = out / "comparison.nc"
    step("write products")(lambda: cmp.aurora.to_netcdf(res.products["comparison"]))
    for detector in ("fcn", "difference"):
        path = out / f"occurrence_{detector}.nc"
        occ = cmp[["occurrence_rate", "n_aurora", "n_observed"]].sel({"detector": detector})
        occ.attrs = {**cmp.attrs, "detector": detector}
        occ.aurora.to_netcdf(path)
        res.products[f"occurrence_{detector}"] = path

    summary: dict[str, Any] = {"frames": int(ds.sizes["time"]), **comparison_summary(cmp)}
    if cfg.reference:
        summary.update(step("reference model (dask)")(lambda: _reference_summary(ds, cells, cfg)))
    res.summary = summary

    if cfg.figures:

        def figures() -> None:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt

            diff = difference_detect(ds, cells=cells, lag=cfg.lag)
            # show the frame with the most stationary aurora (the form the difference
            # method misses) where the archive has truth, else the largest FCN mask
            shown = seg["aurora_kind"] == 2 if "aurora_kind" in seg else seg["aurora_mask"]
            busiest = int(np.argmax(shown.sum(("y", "x")).values))
            fig = seg.aurora.plot_three_panel(busiest, cells=cells, difference=diff)
            res.figures["three_panel"] = out / "three_panel.png"
            fig.savefig(res.figures["three_panel"], dpi=110)
            plt.close(fig)
            fig = cmp.aurora.plot_comparison(mlt=8)
            res.figures["comparison"] = out / "comparison_mlt08.png"
            fig.savefig(res.figures["comparison"], dpi=110)
            plt.close(fig)
            fig = cmp.aurora.plot_grid()
            res.figures["occurrence_grid"] = out / "occurrence_grid.png"
            fig.savefig(res.figures["occurrence_grid"], dpi=90)
            plt.close(fig)

        step("figures")(figures)

    (out / "summary.json").write_text(
        json.dumps({"summary": summary, "timings_s": res.timings}, indent=2) + "\n"
    )
    say("")
    say("aurora_xr demo: occurrence on the synthetic archive")
    say(f"  frames                          {summary['frames']}")
    say(f"  occurrence rate, FCN            {summary['rate_fcn']:.4f}")
    say(f"  occurrence rate, difference     {summary['rate_difference']:.4f}")
    say(f"  ratio FCN / difference          {summary['ratio_fcn_over_difference']:.2f}")
    for form in ("stationary", "dynamic"):
        if f"recall_fcn_{form}" in summary:
            say(
                f"  recall on {form:<10} forms    FCN {summary[f'recall_fcn_{form}']:.2f}"
                f"   difference {summary[f'recall_difference_{form}']:.2f}"
            )
    if "reference_rate" in summary:
        recalls = "".join(
            f", recall {form} {summary[f'reference_recall_{form}']:.2f}"
            for form in ("stationary", "dynamic")
            if f"reference_recall_{form}" in summary
        )
        say(f"  shipped reference model         rate {summary['reference_rate']:.4f}{recalls}")
    if "gain_equatorward_low_cells" in summary:
        say(
            "  FCN - difference rate, low cells: equatorward "
            f"{summary['gain_equatorward_low_cells']:.3f}, poleward "
            f"{summary['gain_poleward_low_cells']:.3f}"
        )
    say(f"  products: {', '.join(str(p) for p in res.products.values())}")
    say(f"  figures:  {', '.join(str(p) for p in res.figures.values())}")
    return res
