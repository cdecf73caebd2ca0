"""``precision="auto"`` keeps the quality: pixel IoU within 0.005 of fp32 (issue 18).

A small network is trained on synthetic nights and scored on synthetic nights of other
seeds, in fp32 and in the fast path that ``"auto"`` picks on this machine (bf16 autocast with
channels-last activations on a CPU with bf16 units; fp32 elsewhere, where the check is
trivially met), on colour frames and on the same frames as a 16-bit single-channel camera.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import xarray as xr

from aurora_xr.datasets import synthetic_nights
from aurora_xr.model import Predictor, evaluate, train
from aurora_xr.model.devices import resolve_plan

SIZE = 64


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():  # type: ignore[no-untyped-def]
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An lraspp network trained for about half a minute on 64 x 64 synthetic nights."""
    nights = synthetic_nights(80, 4, first_seed=0, size=SIZE, activity=3.0)
    run = train(
        nights,
        arch="lraspp_mobilenet_v3_large",
        out_dir=tmp_path_factory.mktemp("quality"),
        epochs=10,
        batch_size=8,
        image_size=SIZE,
        split=(0.85, 0.15, 0.0),
        lr=5e-3,
        augment=False,
        patience=None,
        progress=False,
        seed=0,
    )
    return run.best_checkpoint


@pytest.fixture(scope="module")
def test_nights() -> xr.Dataset:
    return synthetic_nights(24, 3, first_seed=100, size=SIZE, activity=3.0)


def _grey(cube: xr.Dataset) -> xr.Dataset:
    """The cube as a 16-bit white-light camera: the channel sum, scaled, on a bias."""
    grey = (cube.image.astype(np.uint16).sum("channel") * 20 + 1500).astype(np.uint16)
    return cube.drop_vars(["image", "channel"]).assign(
        image=grey.expand_dims(channel=["white"], axis=-1)
    )


@pytest.mark.parametrize("camera", ["colour", "grey16"])
def test_auto_precision_keeps_the_pixel_iou(
    trained: Path, test_nights: xr.Dataset, camera: str
) -> None:
    cube = test_nights if camera == "colour" else _grey(test_nights)
    scores = {
        precision: evaluate(
            Predictor(trained, device="cpu", precision=precision, batch_size=8), cube, split="all"
        ).pixel
        for precision in ("fp32", "auto")
    }
    if camera == "colour":  # a network that finds aurora, so the comparison means something
        assert scores["fp32"]["iou"] > 0.2
    assert abs(scores["auto"]["iou"] - scores["fp32"]["iou"]) <= 0.005
    plan = resolve_plan("cpu", "auto")
    if plan.precision == "fp32":  # no bf16 units: "auto" is fp32 itself
        assert scores["auto"] == scores["fp32"]
