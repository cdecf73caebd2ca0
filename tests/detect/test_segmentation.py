"""Tests of aurora_xr.detect.segmentation and aurora_xr.detect.store (lazy segmentation, resume)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from aurora_xr.detect.segmentation import (
    ChannelThresholdPredictor,
    predictor_info,
    predictor_loads,
    resolve_predictor,
    segment,
)
from aurora_xr.detect.store import open_segmentation_store, segment_to_store
from aurora_xr.errors import ModelError, OptionError, SchemaError
from tests._pipeline_cubes import make_cube
from tests.conftest import raise_if_dask_computes


class GreenPredictor:
    """Picklable fake predictor: probability = G / 255; records its calls."""

    name = "green_fake"
    checksum = "0" * 64
    threshold = 0.3
    batch_size = None

    def __init__(self) -> None:
        self.calls: list[int] = []

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        self.calls.append(frames.shape[0])
        return (frames[..., 1].astype(np.float32) / 255.0).astype(np.float32)


def bright_cube(chunks: int | None = None, n: int = 10) -> xr.Dataset:
    ds = make_cube(n, 16, seed=3, background=60, noise=50)
    return ds.chunk({"time": chunks}) if chunks else ds


@pytest.mark.parametrize("chunks", [None, 3])
def test_segment_equals_direct_call(chunks: int | None) -> None:
    ds = bright_cube(chunks)
    pred = GreenPredictor()
    out = segment(ds, pred)
    expected = pred(ds.image.values)
    np.testing.assert_array_equal(out.aurora_probability.values, expected)
    np.testing.assert_array_equal(out.aurora_mask.values, expected >= 0.3)
    assert out.aurora_probability.dtype == np.float32
    assert out.aurora_mask.dtype == bool
    assert out.aurora_probability.dims == ("time", "y", "x")
    for name in ("aurora_probability", "aurora_mask"):
        attrs = out[name].attrs
        assert attrs["model_name"] == "green_fake"
        assert attrs["model_checksum"] == "0" * 64
        assert attrs["threshold"] == 0.3
    if chunks:
        assert out.aurora_probability.chunks[0] == (3, 3, 3, 1)


def test_segment_chunked_identical_to_in_memory() -> None:
    lazy = segment(bright_cube(4), GreenPredictor(), threshold=0.5).compute()
    eager = segment(bright_cube(None), GreenPredictor(), threshold=0.5)
    xr.testing.assert_identical(lazy, eager)


def test_segment_is_lazy() -> None:
    ds = bright_cube(3)
    pred = GreenPredictor()
    with raise_if_dask_computes():
        out = segment(ds, pred)
    assert pred.calls == []
    assert out.aurora_mask.chunks is not None
    out.compute()
    assert sorted(pred.calls) == [1, 3, 3, 3]


def test_segment_batches_calls() -> None:
    pred = GreenPredictor()
    segment(bright_cube(5), pred, batch_size=2).compute()
    assert sorted(pred.calls) == [1, 1, 2, 2, 2, 2]


def test_segment_plain_function_and_threshold() -> None:
    def half(frames: np.ndarray) -> np.ndarray:
        return np.full(frames.shape[:3], 0.5, dtype=np.float32)

    out = segment(bright_cube(), half, threshold=0.6)
    assert not out.aurora_mask.values.any()
    assert out.aurora_mask.attrs["model_name"] == "half"
    assert out.aurora_mask.attrs["model_checksum"] == "unknown"
    out = segment(bright_cube(), half)  # default threshold 0.5, inclusive
    assert out.aurora_mask.values.all()


def test_segment_reorders_channels() -> None:
    ds = bright_cube()
    flipped = ds.isel(channel=[2, 1, 0])
    a = segment(ds, ChannelThresholdPredictor(channel="R"))
    b = segment(flipped, ChannelThresholdPredictor(channel="R"))
    xr.testing.assert_equal(a.aurora_probability, b.aurora_probability)


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (lambda f: np.zeros(f.shape[:2], np.float32), "shape"),
        (lambda f: np.full(f.shape[:3], 1.5, np.float32), "outside"),
        (lambda f: np.zeros(f.shape[:3], np.uint8), "dtype"),
    ],
)
def test_segment_bad_predictor_output(bad: Any, match: str) -> None:
    with pytest.raises(ModelError, match=match):
        segment(bright_cube(), bad)


def test_segment_bad_input() -> None:
    with pytest.raises(OptionError, match="device"):
        segment(bright_cube(), GreenPredictor(), device="cuda")
    with pytest.raises(SchemaError):
        segment(bright_cube().rename(image="frames"), GreenPredictor())
    with pytest.raises(OptionError, match="batch_size"):
        segment(bright_cube(), GreenPredictor(), batch_size=0)


def test_channel_threshold_predictor() -> None:
    pred = ChannelThresholdPredictor(channel="G", low=10, high=30)
    frames = np.zeros((1, 1, 4, 3), np.uint8)
    frames[0, 0, :, 1] = [0, 10, 20, 255]
    np.testing.assert_array_equal(pred(frames)[0, 0], np.array([0, 0, 0.5, 1], np.float32))
    before = predictor_loads().get("channel_threshold", 0)
    pred(frames)
    ChannelThresholdPredictor(channel="G", low=10, high=30)(frames)
    assert predictor_loads().get("channel_threshold", 0) == before
    info = predictor_info(pred)
    assert info == {
        "model_name": "channel_threshold",
        "model_checksum": pred.checksum,
        "threshold": 0.5,
    }
    assert pred.checksum != ChannelThresholdPredictor(low=10, high=31).checksum
    with pytest.raises(OptionError):
        ChannelThresholdPredictor(low=5, high=5)
    with pytest.raises(ModelError):
        pred(np.zeros((2, 2, 3), np.uint8))


def test_resolve_predictor_model_object() -> None:
    class Loaded:
        def predictor(self, **options: Any) -> GreenPredictor:
            pred = GreenPredictor()
            pred.options = options  # type: ignore[attr-defined]
            return pred

    pred = resolve_predictor(Loaded(), batch_size=4, device="cpu")
    assert pred.options == {"batch_size": 4, "device": "cpu"}  # type: ignore[attr-defined]


def test_segment_with_real_checkpoint(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from aurora_xr.model import Predictor, build_model, save_checkpoint

    torch.manual_seed(0)
    net = build_model("lraspp_mobilenet_v3_large", pretrained=None)
    path = tmp_path / "tiny.safetensors"
    save_checkpoint(net, path)
    ds = make_cube(4, 32, seed=1, background=60, noise=40).chunk({"time": 2})
    with raise_if_dask_computes():
        out = segment(ds, path, device="cpu", batch_size=2)
    direct = Predictor(path, device="cpu", batch_size=2)
    np.testing.assert_allclose(
        out.aurora_probability.values, direct(ds.image.values), rtol=0, atol=1e-6
    )
    assert out.aurora_mask.attrs["model_checksum"] == direct.checksum
    assert out.aurora_mask.attrs["model_name"] == direct.name


# ---------------------------------------------------------------------------
# region by region, with resume


class FailingPredictor(GreenPredictor):
    """Raises on call number ``fail_on`` (1-based), like an interrupted run."""

    def __init__(self, fail_on: int) -> None:
        super().__init__()
        self.fail_on = fail_on

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        if len(self.calls) + 1 == self.fail_on:
            raise KeyboardInterrupt("simulated interruption")
        return super().__call__(frames)


def test_segment_to_store_resumes(tmp_path: Path) -> None:
    ds = bright_cube(4, n=22)
    full = segment_to_store(ds, GreenPredictor(), tmp_path / "full", region_frames=4)
    reference = segment(ds, GreenPredictor()).compute()
    xr.testing.assert_identical(full.compute(), reference)

    store = tmp_path / "interrupted"
    with pytest.raises(KeyboardInterrupt):
        segment_to_store(ds, FailingPredictor(fail_on=4), store, region_frames=4)
    manifest = json.loads((store / "manifest.json").read_text())
    assert sorted(manifest["regions"]) == ["0", "1", "2"]
    assert sorted(p.name for p in store.glob("*.nc")) == [
        "region_000000.nc",
        "region_000001.nc",
        "region_000002.nc",
    ]
    assert not list(store.glob(".*tmp"))
    with pytest.raises(Exception, match="lacks 3 of 6 regions"):
        open_segmentation_store(store)
    stamps = {p.name: p.stat().st_mtime_ns for p in store.glob("*.nc")}

    rerun = GreenPredictor()
    resumed = segment_to_store(ds, rerun, store, region_frames=4)
    assert sorted(rerun.calls) == [2, 4, 4]  # only regions 3, 4, 5
    assert {p.name: p.stat().st_mtime_ns for p in store.glob("region_00000[012].nc")} == stamps
    xr.testing.assert_identical(resumed.compute(), full.compute())
    assert resumed.aurora_mask.chunks[0] == (4, 4, 4, 4, 4, 2)

    again = GreenPredictor()
    segment_to_store(ds, again, store, region_frames=4)
    assert again.calls == []


def test_segment_to_store_refuses_other_settings(tmp_path: Path) -> None:
    ds = bright_cube(4, n=8)
    segment_to_store(ds, GreenPredictor(), tmp_path, region_frames=4)
    with pytest.raises(OptionError, match="threshold"):
        segment_to_store(ds, GreenPredictor(), tmp_path, region_frames=4, threshold=0.9)
    out = segment_to_store(
        ds, GreenPredictor(), tmp_path, region_frames=4, threshold=0.9, overwrite=True
    )
    assert out.aurora_mask.attrs["threshold"] == 0.9


# ---------------------------------------------------------------------------
# dask.distributed with worker processes


@pytest.mark.slow
def test_local_cluster_matches_threaded_and_loads_once_per_worker() -> None:
    distributed = pytest.importorskip("distributed")
    from aurora_xr.analysis.compare import compare_methods
    from tests._pipeline_cubes import square_cells

    ds = make_cube(24, 16, seed=5, background=60, noise=50).chunk({"time": 2})
    pred = ChannelThresholdPredictor(low=30.0, high=90.0)
    cells = square_cells(16, 4)
    expected = segment(ds, pred).compute(scheduler="threads")
    expected_cmp = compare_methods(ds, pred, cells=cells, usable=False, mlt_bins=4).compute(
        scheduler="threads"
    )
    root = str(Path(__file__).resolve().parents[2])
    env = {"PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            worker_dashboard_address=None,
            env=env,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        result = segment(ds, pred).compute()
        cmp = compare_methods(ds, pred, cells=cells, usable=False, mlt_bins=4).compute()
        loads = client.run(lambda: predictor_loads().get("channel_threshold", 0))
        pids = client.run(os.getpid)
    xr.testing.assert_identical(result, expected)
    xr.testing.assert_identical(cmp, expected_cmp)
    assert len(loads) == 2
    assert set(pids.values()).isdisjoint({os.getpid()})
    # 12 chunks (twice) went to the worker processes; each that ran one built its table once
    assert max(loads.values()) == 1
    assert sum(loads.values()) >= 1
