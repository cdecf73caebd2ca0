"""What segment() accepts as a model: paths, predictors, loaded models, torch modules, callables."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import xarray as xr

import aurora_xr
from aurora_xr.detect.segmentation import resolve_predictor, segment
from aurora_xr.errors import ModelError
from aurora_xr.model import Predictor, build_model, load_model, save_checkpoint
from tests._pipeline_cubes import make_cube
from tests.conftest import raise_if_dask_computes

LRASPP = "lraspp_mobilenet_v3_large"


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():  # type: ignore[no-untyped-def]
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def network() -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model(LRASPP).eval()


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory, network: torch.nn.Module) -> Path:
    return save_checkpoint(network, tmp_path_factory.mktemp("ckpt") / "net.safetensors")


def grey_cube(n: int = 4, size: int = 32) -> xr.Dataset:
    """A single-channel 16-bit cube (a THEMIS-like white-light camera)."""
    colour = make_cube(n, size, seed=2, background=60, noise=40)
    grey = (colour.image.astype(np.uint16).mean("channel") * 64 + 2000).astype(np.uint16)
    return colour.drop_vars(["image", "channel"]).assign(
        image=grey.expand_dims(channel=["white"], axis=-1)
    )


def test_segment_takes_a_plain_torch_module(network: torch.nn.Module) -> None:
    """Issue 16: ``ds.aurora.segment(nn_module)`` used to fail inside conv2d."""
    ds = make_cube(4, 32, seed=1, background=60, noise=40).chunk({"time": 2})
    with raise_if_dask_computes():
        out = segment(ds, network, device="cpu", batch_size=2)
    reference = Predictor.from_module(network, device="cpu", batch_size=2)
    probs = out.aurora_probability.values
    np.testing.assert_allclose(probs, reference(ds.image.values), rtol=0, atol=1e-6)
    assert probs.shape == (4, 32, 32)
    assert 0.0 <= probs.min() <= probs.max() <= 1.0
    assert out.aurora_probability.attrs["model_name"] == LRASPP
    assert out.aurora_probability.attrs["model_checksum"].startswith("tensors:")
    # the accessor forwards to the same function
    via_accessor = ds.aurora.segment(network, device="cpu", batch_size=2)
    np.testing.assert_allclose(via_accessor.aurora_probability.values, probs, atol=1e-6)


def test_every_kind_of_model_gives_the_same_probabilities(
    network: torch.nn.Module, checkpoint: Path
) -> None:
    ds = make_cube(3, 32, seed=4, background=60, noise=40)
    expected = Predictor(checkpoint, device="cpu")(ds.image.values)
    kinds = {
        "path": checkpoint,
        "str path": str(checkpoint),
        "predictor": Predictor(checkpoint, device="cpu"),
        "loaded model": load_model(checkpoint, device="cpu"),
        "module": network,
    }
    for kind, model in kinds.items():
        got = segment(ds, model, device="cpu").aurora_probability.values
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6, err_msg=kind)
    numpy_callable = segment(ds, lambda f: np.full(f.shape[:3], 0.25, np.float32))
    assert np.all(numpy_callable.aurora_probability.values == np.float32(0.25))


def test_a_single_channel_16_bit_cube_goes_through_every_model(
    network: torch.nn.Module, checkpoint: Path
) -> None:
    ds = grey_cube()
    frames = ds.image.values
    assert frames.shape[-1] == 1
    assert frames.dtype == np.uint16
    out = segment(ds, checkpoint, device="cpu").aurora_probability.values
    # the grey frame is the colour network's input with the channel replicated (the levels'
    # percentiles over three copies of each sample differ in the last digits)
    replicated = Predictor(checkpoint, device="cpu")(np.repeat(frames, 3, axis=-1))
    np.testing.assert_allclose(out, replicated, rtol=0, atol=1e-4)
    by_module = segment(ds, network, device="cpu").aurora_probability.values
    np.testing.assert_allclose(by_module, out, rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    "bad", [42, "", object(), np.zeros((2, 2)), torch.zeros(3), Predictor], ids=repr
)
def test_anything_else_is_a_model_error_that_lists_what_is_accepted(bad: object) -> None:
    ds = make_cube(2, 16)
    if isinstance(bad, str):  # an empty path: the checkpoint is not found
        with pytest.raises(ModelError, match="checkpoint"):
            segment(ds, bad)
        return
    with pytest.raises(ModelError) as info:
        segment(ds, bad)
    message = str(info.value)
    for accepted in ("checkpoint path", "Predictor", "LoadedModel", "nn.Module", "callable"):
        assert accepted in message
    assert type(bad).__name__ in message


def test_none_resolves_to_the_shipped_reference_model() -> None:
    pred = resolve_predictor(None, batch_size=4)
    assert pred.name == "reference"
    assert pred.architecture == "lraspp_mobilenet_v3_large"
    assert pred.checksum == aurora_xr.pretrained.REGISTRY["reference"].sha256


def test_resolving_a_callable_never_imports_torch() -> None:
    code = (
        "import sys\n"
        "import numpy as np\n"
        "import aurora_xr\n"
        "from aurora_xr.detect.segmentation import resolve_predictor\n"
        "from aurora_xr.errors import ModelError\n"
        "pred = resolve_predictor(lambda f: np.zeros(f.shape[:3], np.float32))\n"
        "try:\n"
        "    resolve_predictor(42)\n"
        "except ModelError:\n"
        "    pass\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
