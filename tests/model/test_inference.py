"""The inference paths: execution plans, the prefetching reader, the pipelined (CUDA) runner.

There is no GPU in CI: the pipelined runner that CUDA uses runs here on the CPU with plain
buffers and synchronous copies, which checks its logic (staging, ordering, reuse of buffers);
what only CUDA has (pinned memory, streams, events) is guarded by ``device.type == "cuda"``.
"""

from __future__ import annotations

import pickle
import threading
import time

import numpy as np
import pytest
import torch
from torch import nn

from aurora_xr.errors import ModelError, OptionError
from aurora_xr.model import Predictor, Preprocessing, build_model, evaluate
from aurora_xr.model.device_prep import frame_geometry
from aurora_xr.model.devices import ExecutionPlan, native_bf16, resolve_plan
from aurora_xr.model.inference import Staging, _cuda_event, batch_slices, run_network
from aurora_xr.model.lens_masks import lens_mask_from_circle
from aurora_xr.model.network_cache import ReadyNetwork, make_ready
from aurora_xr.model.prefetch import prefetched

CPU = torch.device("cpu")
LRASPP = "lraspp_mobilenet_v3_large"


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():  # type: ignore[no-untyped-def]
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


class Brightness(nn.Module):
    """Logits from the mean of the input channels: a network whose output is easy to check."""

    def __init__(self, keep_channel: bool = True) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(2.0))
        self.keep_channel = keep_channel
        self.batches: list[int] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.batches.append(int(x.shape[0]))
        logits = self.scale * x.mean(dim=1, keepdim=True)
        return logits if self.keep_channel else logits[:, 0]


def _frames(n: int, size: int = 24, channels: int = 3, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, channels), dtype=np.uint8)


# -- plans ------------------------------------------------------------------------------
def test_execution_plans() -> None:
    assert resolve_plan("cpu", "fp32") == ExecutionPlan(CPU, "fp32", False, False)
    assert resolve_plan("cpu", "bf16") == ExecutionPlan(CPU, "bf16", True, False)
    auto = resolve_plan("cpu", "auto", compile=True)
    expected = "bf16" if native_bf16(CPU) else "fp32"
    assert auto == ExecutionPlan(CPU, expected, expected == "bf16", True)
    with pytest.raises(OptionError, match="fp16"):
        resolve_plan("cpu", "fp16")
    assert _cuda_event(CPU) is None  # events exist on CUDA only
    ready = make_ready(build_model(LRASPP), resolve_plan("cpu", "bf16"))
    conv = ready.module.get_submodule("backbone.0.0")
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert not ready.module.training


# -- the prefetching reader -----------------------------------------------------------------
def test_prefetched_keeps_order_and_bounded_lookahead() -> None:
    started: list[int] = []
    taken: list[int] = []

    def work(i: int) -> int:
        started.append(i)
        return i * i

    for value in prefetched(list(range(12)), work, depth=2):
        time.sleep(0.005)  # a slow consumer: the thread runs ahead as far as it may
        assert max(started) <= len(taken) + 2 + 1
        taken.append(value)
    assert taken == [i * i for i in range(12)]
    assert started == list(range(12))


def test_prefetched_raises_where_the_work_failed_and_stops_when_left() -> None:
    def work(i: int) -> int:
        if i == 3:
            raise ValueError("bad item 3")
        return i

    got: list[int] = []

    def consume() -> None:
        got.extend(prefetched(range(10), work, depth=1))

    with pytest.raises(ValueError, match="bad item 3"):
        consume()
    assert got == [0, 1, 2]  # the items before the failure arrived, in order
    items = prefetched(range(10), work, depth=1)
    assert [next(items), next(items), next(items)] == [0, 1, 2]
    with pytest.raises(ValueError, match="bad item 3"):
        next(items)
    before = threading.active_count()
    for value in prefetched(range(1000), lambda i: i, depth=2):
        if value == 5:
            break
    assert threading.active_count() == before  # the thread ended with the consumer
    with pytest.raises(OptionError, match="depth"):
        next(iter(prefetched([1], lambda i: i, depth=0)))


def test_staging_buffers_wait_for_their_transfer() -> None:
    class Event:
        def __init__(self) -> None:
            self.waited = 0

        def synchronize(self) -> None:
            self.waited += 1

    staging = Staging.allocate(16, 2, pin=False)
    assert [b.numel() for b in staging.buffers] == [16, 16]
    event = Event()
    staging.guard(3, event)  # slot 1
    assert staging.take(0) is staging.buffers[0]
    assert event.waited == 0
    assert staging.take(5) is staging.buffers[1]
    assert event.waited == 1
    assert staging.take(1) is staging.buffers[1]
    assert event.waited == 1


# -- the runner -----------------------------------------------------------------------------
@pytest.mark.parametrize("batch_size", [1, 3, 8])
def test_the_pipelined_runner_equals_the_direct_one(batch_size: int) -> None:
    torch.manual_seed(0)
    ready = make_ready(build_model(LRASPP), resolve_plan("cpu", "fp32"))
    frames = _frames(7)
    prep = Preprocessing(input_size=(32, 32))
    lens = lens_mask_from_circle((0.5, 0.5, 0.45), 24, 24)
    geometry = frame_geometry((24, 24), prep, lens, CPU)
    direct = run_network(ready, frames, prep, geometry, batch_size=batch_size, pipelined=False)
    piped = run_network(ready, frames, prep, geometry, batch_size=batch_size, pipelined=True)
    np.testing.assert_array_equal(piped, direct)
    assert direct.shape == (7, 24, 24)
    assert np.all(direct[:, ~lens] == 0)
    grey = run_network(ready, frames[..., :1], prep, geometry, batch_size=2, pipelined=True)
    np.testing.assert_array_equal(
        grey, run_network(ready, frames[..., :1], prep, geometry, batch_size=2, pipelined=False)
    )


def test_a_compiled_network_always_gets_full_batches() -> None:
    net = Brightness()
    plan = ExecutionPlan(CPU, "fp32", False, compile=True)
    ready = ReadyNetwork(net, plan, threading.Lock(), runner=net)  # padding without compiling
    frames = _frames(7)
    prep = Preprocessing()
    geometry = frame_geometry((24, 24), prep, None, CPU)
    padded = run_network(ready, frames, prep, geometry, batch_size=3)
    assert net.batches == [3, 3, 3]
    plain = ReadyNetwork(net, ExecutionPlan(CPU, "fp32", False), threading.Lock(), runner=net)
    np.testing.assert_array_equal(padded, run_network(plain, frames, prep, geometry, batch_size=3))
    assert batch_slices(7, 3) == [slice(0, 3), slice(3, 6), slice(6, 7)]


# -- any module -----------------------------------------------------------------------------
@pytest.mark.parametrize("keep_channel", [True, False])
def test_from_module_takes_any_network(keep_channel: bool) -> None:
    net = Brightness(keep_channel)
    pred = Predictor.from_module(net, preprocessing=Preprocessing(levels="dtype"), batch_size=4)
    frames = _frames(5)
    probs = pred(frames)
    unit = frames.astype(np.float32) / 255
    x = (unit - np.array(Preprocessing().mean)) / np.array(Preprocessing().std)
    expected = 1 / (1 + np.exp(-2 * x.mean(axis=-1)))
    np.testing.assert_allclose(probs, expected, atol=1e-5)
    assert pred.name == "Brightness"
    assert pred.metadata is None
    assert pred.threshold == 0.5
    assert pred.checksum.startswith("tensors:")
    assert not net.training
    with pytest.raises(ModelError, match="cannot be pickled"):
        pickle.dumps(pred)
    with pytest.raises(ModelError, match=r"nn\.Module"):
        Predictor.from_module(lambda x: x)  # type: ignore[arg-type]


def test_evaluate_takes_a_module() -> None:
    import pandas as pd
    import xarray as xr

    frames = _frames(4, channels=1)
    truth = frames[..., 0] > 128
    cube = xr.Dataset(
        {
            "image": (("time", "y", "x", "channel"), frames),
            "aurora_truth": (("time", "y", "x"), truth),
        },
        coords={
            "time": pd.date_range("2020-06-01", periods=4, freq="min"),
            "channel": ["white"],
        },
    )
    result = evaluate(Brightness(), cube, split="all", device="cpu")
    assert result.info["model"] == "Brightness"
    assert result.info["n_frames"] == 4
    assert result.pixel["tp"] + result.pixel["fn"] == int(truth.sum())
