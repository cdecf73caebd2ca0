"""The pipeline of ``bench_archive.py``, stage by stage, on a dask cluster or serially.

Stages, each finished (written to disk) before the next starts, so that each has its own
wall time and peak memory:

1. **ingest**: the camera archive (PNG files) to one NetCDF-4 cube per UT day
   (:func:`aurora_xr.ingest`, one task per output file on the cluster's workers);
2. **segment**: :func:`aurora_xr.segment_to_store` with the predictor, region by region;
3. **difference**: :func:`aurora_xr.difference_detect` on the cube, its ``(time, cell)``
   detections and observed flags written to NetCDF;
4. **occurrence**: the occurrence maps of both detectors per year, MLT hour and cell
   (:func:`aurora_xr.cell_detections` of the stored masks and the stored difference
   detections, :func:`aurora_xr.usable_frames` and :func:`aurora_xr.mlt` of the cube, reduced by
   :func:`aurora_xr.occurrence_map`), computed;
5. **products**: both written with :func:`aurora_xr.to_netcdf`.

Peak memory is the resident set size (RSS) sampled every 20 ms by a thread in each process
that computes: the workers' (a worker plugin) or, in a serial run, the calling process's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dask
import psutil
import xarray as xr
from distributed.diagnostics.plugin import WorkerPlugin

import aurora_xr

PLUGIN_NAME = "bench-archive-peak-rss"
DETECTION_VARS = ("difference_detection", "difference_observed")
STAGES = ("ingest", "segment", "difference", "occurrence", "products")


class PeakRSS:
    """Highest RSS of this process since the last :meth:`take`, sampled by a daemon thread."""

    def __init__(self, interval_s: float = 0.02) -> None:
        self._proc = psutil.Process()
        self._peak = self._proc.memory_info().rss
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="peak-rss", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._peak = max(self._peak, self._proc.memory_info().rss)

    def take(self) -> int:
        """The peak since the last call (bytes); the next period starts at the current RSS."""
        peak = max(self._peak, self._proc.memory_info().rss)
        self._peak = self._proc.memory_info().rss
        return int(peak)

    def close(self) -> None:
        self._stop.set()


class PeakRSSPlugin(WorkerPlugin):
    """Starts a :class:`PeakRSS` sampler in every worker process."""

    name = PLUGIN_NAME

    def setup(self, worker: Any) -> None:
        self.sampler = PeakRSS()

    def teardown(self, worker: Any) -> None:
        self.sampler.close()


def _take_worker_peak(dask_worker: Any) -> int:
    return int(dask_worker.plugins[PLUGIN_NAME].sampler.take())


def _worker_model_loads(dask_worker: Any) -> dict[str, Any]:
    """Networks loaded from checkpoints and predictor states loaded, in this worker process."""
    import sys

    from aurora_xr.detect.segmentation import predictor_loads

    loads: dict[str, Any] = {"predictor_loads": predictor_loads(), "networks": 0}
    if "aurora_xr.model.network_cache" in sys.modules:  # torch only if the worker used it
        loads["networks"] = int(sys.modules["aurora_xr.model.network_cache"].LOAD_COUNT["n"])
    return loads


class Meter:
    """Per-stage wall time and peak RSS, on a cluster (``client``) or in this process."""

    def __init__(self, client: Any = None) -> None:
        self.client = client
        self.local = None if client is not None else PeakRSS()
        self.stages: dict[str, dict[str, Any]] = {}
        self.starts: dict[str, float] = {}
        if client is not None:
            client.register_plugin(PeakRSSPlugin(), name=PLUGIN_NAME)

    def peaks_mb(self) -> dict[str, float]:
        if self.client is None:
            assert self.local is not None
            return {"local": round(self.local.take() / 2**20, 1)}
        peaks = self.client.run(_take_worker_peak)
        return {addr: round(value / 2**20, 1) for addr, value in sorted(peaks.items())}

    def stage(
        self, name: str, frames: int, func: Callable[[], Any], log: Callable[..., Any]
    ) -> Any:
        self.peaks_mb()  # start the period
        self.starts[name] = time.time()  # the clock of the task stream
        start = time.perf_counter()
        out = func()
        wall = time.perf_counter() - start
        peaks = self.peaks_mb()
        self.stages[name] = {
            "wall_s": round(wall, 2),
            "frames_per_s": round(frames / wall, 1) if wall > 0 else None,
            "peak_rss_mb": peaks,
        }
        log(f"  {name:<11} {wall:8.1f} s  {frames / wall:9.1f} frames/s  peak RSS MB {peaks}")
        return out

    def model_loads(self) -> dict[str, Any]:
        if self.client is None:
            return {"local": _worker_model_loads(None)}
        return dict(sorted(self.client.run(_worker_model_loads).items()))

    def close(self) -> None:
        if self.local is not None:
            self.local.close()


def _ingest(archive: Path, dest: Path, address: str | None) -> Any:
    report = aurora_xr.ingest(
        archive,
        dest,
        station="JBS",
        calibration="placeholder:JBS",
        period="1D",
        frame_suffix="_rgb.png",
        workers=1,
        scheduler=address,
        progress=False,
    )
    if not report.ok:
        raise RuntimeError(f"ingest skipped files: {report.skipped[:3]}")
    return report


def _write_detections(found: xr.Dataset, path: Path, chunk: int) -> Path:
    """Compute and write the difference detections ((time, cell) bool) to NetCDF."""
    keep = found[list(DETECTION_VARS)]
    keep = keep.drop_vars([c for c in keep.coords if c not in ("time", "cell")])
    tmp = path.with_name(f".{path.name}.tmp")
    encoding = {
        name: {"zlib": True, "complevel": 1, "chunksizes": (chunk, *keep[name].shape[1:])}
        for name in DETECTION_VARS
    }
    keep.to_netcdf(tmp, encoding=encoding)
    tmp.replace(path)
    return path


def run_pipeline(
    archive: Path,
    work: Path,
    *,
    predictor: Any,
    frames: int,
    chunk: int,
    region_frames: int,
    n_cells: int,
    grid_epoch: Any = None,
    client: Any = None,
    log: Callable[..., Any] = print,
) -> dict[str, Any]:
    """Run the five stages on ``archive`` into ``work``; return timings, memory and products.

    With ``client`` (a dask.distributed Client) everything runs on its workers; without, in
    this process with dask's synchronous scheduler (the serial reference run). The cells
    are laid out at the AACGM epoch ``grid_epoch`` (default: mid-year of the middle frame of
    ``archive``, :func:`aurora_xr.cell_grid`); a run on part of an archive must be given the
    whole archive's epoch to bin its frames into the same cells (``"grid_epoch"`` of the
    returned dict).
    """
    address = None if client is None else client.scheduler.address
    meter = Meter(client)
    cubes, store = work / "cubes", work / "segmentation"
    detections, products = work / "difference_detections.nc", work / "products"
    products.mkdir(parents=True, exist_ok=True)
    config = {} if client is not None else {"scheduler": "synchronous"}
    try:
        with dask.config.set(config):
            meter.stage("ingest", frames, lambda: _ingest(archive, cubes, address), log)
            cube = aurora_xr.open_cube(cubes, chunks={"time": chunk})
            if cube.sizes["time"] != frames:
                raise RuntimeError(f"expected {frames} frames in the cubes; found {cube.sizes}")
            grid = aurora_xr.cell_grid(cube, n_cells=n_cells, when=grid_epoch)
            seg = meter.stage(
                "segment",
                frames,
                lambda: aurora_xr.segment_to_store(
                    cube, predictor, store, region_frames=region_frames, overwrite=True
                ),
                log,
            )
            meter.stage(
                "difference",
                frames,
                lambda: _write_detections(
                    aurora_xr.difference_detect(cube, cells=grid), detections, chunk
                ),
                log,
            )
            occ = meter.stage(
                "occurrence",
                frames,
                lambda: _occurrence(cube, seg, detections, grid, chunk),
                log,
            )
            paths = meter.stage(
                "products",
                frames,
                lambda: {
                    name: str(aurora_xr.to_netcdf(product, products / f"occurrence_{name}.nc"))
                    for name, product in occ.items()
                },
                log,
            )
            seg.close()
            cube.close()
        return {
            "stages": meter.stages,
            "stage_starts": meter.starts,
            "model_loads": meter.model_loads(),
            "products": paths,
            "occurrence": occ,
            "grid_epoch": str(grid.attrs["epoch"]),
        }
    finally:
        meter.close()


def _occurrence(
    cube: xr.Dataset, seg: xr.Dataset, detections: Path, grid: xr.Dataset, chunk: int
) -> dict[str, xr.Dataset]:
    """Both occurrence products (per year), computed in one pass over the frames."""
    usable = aurora_xr.usable_frames(cube)["usable"]
    mlt = aurora_xr.mlt(cube)
    attrs = {k: v for k, v in cube.attrs.items() if k.startswith("station_")}
    fcn = aurora_xr.occurrence_map(
        aurora_xr.cell_detections(seg, cells=grid),
        mlt=mlt,
        usable=usable,
        cells=grid,
        by="year",
        detector="fcn",
        attrs=attrs,
    )
    with xr.open_dataset(detections, chunks={"time": chunk}) as found:
        difference = aurora_xr.occurrence_map(
            found, mlt=mlt, usable=usable, cells=grid, by="year", detector="difference", attrs=attrs
        )
        fcn, difference = dask.compute(fcn, difference)
    return {"fcn": fcn, "difference": difference}
