"""Tests of aurora_xr.model: building, pretrained weights, preprocessing, checkpoints, predictor."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from torchvision.models import segmentation

from aurora_xr.errors import (
    CheckpointError,
    DtypeError,
    FrameSizeError,
    ModelError,
    OptionError,
    WeightsNotFoundError,
)
from aurora_xr.model import (
    ARCHITECTURES,
    CheckpointMetadata,
    Predictor,
    Preprocessing,
    build_model,
    clear_model_cache,
    devices,
    load_checkpoint,
    load_model,
    network_cache,
    pretrained_weights_file,
    read_metadata,
    save_checkpoint,
)
from aurora_xr.model.checkpoint import save_tensors
from aurora_xr.model.lens_masks import (
    lens_circle_from_mask,
    lens_mask_from_calibration,
    lens_mask_from_circle,
    lens_mask_from_elevation,
)
from aurora_xr.model.preprocess import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    apply_contrast,
    postprocess_probabilities,
    preprocess_frames,
    resize_stack,
    scale_to_unit,
)
from aurora_xr.sky.lens import Calibration, sky_grids

LRASPP = "lraspp_mobilenet_v3_large"
COCO_NAME = "fcn_resnet50_coco-1167a1af.pth"
SIZE = 48
CAL = Calibration(width=SIZE, height=SIZE, zenith_x=23.5, zenith_y=23.5, lens_radius=21.0)


# -- fixtures ---------------------------------------------------------------------------
@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():  # type: ignore[no-untyped-def]
    """One intra-op thread: tiny networks gain nothing from more, and shared CPUs lose a lot."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def coco_state() -> dict[str, torch.Tensor]:
    """A state dict shaped like torchvision's COCO-with-VOC-labels fcn_resnet50 file."""
    torch.manual_seed(1)
    model = segmentation.fcn_resnet50(
        weights=None, weights_backbone=None, num_classes=21, aux_loss=True
    )
    return model.state_dict()


@pytest.fixture(scope="module")
def coco_file(tmp_path_factory: pytest.TempPathFactory, coco_state) -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("coco") / COCO_NAME
    torch.save(coco_state, path)
    return path


@pytest.fixture(scope="module")
def small_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An lraspp checkpoint with a lens circle and an input size of 32."""
    torch.manual_seed(0)
    model = build_model(LRASPP)
    model.eval()
    circle = lens_circle_from_mask(lens_mask_from_calibration(CAL))
    meta = CheckpointMetadata(
        architecture=LRASPP,
        preprocessing=Preprocessing(contrast_ratio=1.5, input_size=(32, 32), lens_circle=circle),
        metrics={"val": {"iou": 0.5}},
        training_data_checksum="abc",
        split={"fractions": [1201, 150, 151], "seed": 3, "sizes": [1201, 150, 151]},
    )
    return save_checkpoint(model, tmp_path_factory.mktemp("ckpt") / "small.safetensors", meta)


def _frames(n: int = 3, size: int = SIZE, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


class _Payload:
    """Unpickling this would create a marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Path.touch, (self.marker,))


# -- build ------------------------------------------------------------------------------
def test_registry_names() -> None:
    assert {"fcn_resnet50", LRASPP, "deeplabv3_mobilenet_v3_large"} <= set(ARCHITECTURES)


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_build_model_has_one_output(arch: str) -> None:
    model = build_model(arch).eval()
    with torch.inference_mode():
        out = model(torch.rand(1, 3, 64, 64))
    assert set(out) == {"out"}
    assert out["out"].shape == (1, 1, 64, 64)


def test_fcn_head_is_replaced_by_1x1_conv() -> None:
    model = build_model("fcn_resnet50", aux=True)
    head = model.classifier[4]
    assert isinstance(head, torch.nn.Conv2d)
    assert (head.in_channels, head.out_channels, head.kernel_size) == (512, 1, (1, 1))
    assert model.aux_classifier[4].out_channels == 1
    assert build_model("fcn_resnet50").aux_classifier is None


def test_build_model_bad_options() -> None:
    with pytest.raises(OptionError, match="fcn_resnet50"):
        build_model("unet")
    with pytest.raises(OptionError, match="auxiliary"):
        build_model(LRASPP, aux=True)
    with pytest.raises(OptionError, match="num_outputs"):
        build_model(LRASPP, num_outputs=0)
    with pytest.raises(OptionError, match="pretrained"):
        build_model(LRASPP, pretrained=3)  # type: ignore[arg-type]


# -- pretrained weights -----------------------------------------------------------------
def _assert_backbone_from(model: torch.nn.Module, state: dict[str, torch.Tensor]) -> None:
    own = model.state_dict()
    for key in ("backbone.conv1.weight", "backbone.layer4.2.conv3.weight", "classifier.0.weight"):
        assert torch.equal(own[key], state[key]), key
    assert own["classifier.4.weight"].shape == (1, 512, 1, 1)
    assert "aux_classifier.0.weight" not in own


def test_pretrained_path_loads_coco_shaped_state(coco_file: Path, coco_state) -> None:  # type: ignore[no-untyped-def]
    model = build_model("fcn_resnet50", pretrained=coco_file)
    _assert_backbone_from(model, coco_state)
    aux = build_model("fcn_resnet50", pretrained=str(coco_file), aux=True).state_dict()
    assert torch.equal(aux["aux_classifier.0.weight"], coco_state["aux_classifier.0.weight"])
    assert aux["aux_classifier.4.weight"].shape == (1, 256, 1, 1)


def test_pretrained_coco_from_torch_home(
    coco_file: Path,
    coco_state,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    expected = tmp_path / "torch" / "hub" / "checkpoints" / COCO_NAME
    assert pretrained_weights_file("fcn_resnet50") == expected
    expected.parent.mkdir(parents=True)
    os.symlink(coco_file, expected)
    model = build_model("fcn_resnet50", pretrained="coco")
    _assert_backbone_from(model, coco_state)


def test_pretrained_coco_missing_names_file_and_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))

    def no_download(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("a download was attempted")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_download)
    folder = tmp_path / "torch" / "hub" / "checkpoints"
    with pytest.raises(WeightsNotFoundError) as info:
        build_model("fcn_resnet50", pretrained="coco")
    message = str(info.value)
    assert COCO_NAME in message
    assert str(folder) in message
    assert not (folder / COCO_NAME).exists()


def test_pretrained_path_missing() -> None:
    with pytest.raises(WeightsNotFoundError, match=r"nowhere\.pth"):
        build_model(LRASPP, pretrained="/nonexistent/nowhere.pth")


def test_pretrained_of_other_architecture(tmp_path: Path) -> None:
    path = tmp_path / "lraspp.pth"
    torch.save(build_model(LRASPP).state_dict(), path)
    with pytest.raises(CheckpointError, match=r"lraspp_mobilenet_v3_large.*fcn_resnet50"):
        build_model("fcn_resnet50", pretrained=path)


def test_pretrained_backbone_of_wrong_shape(tmp_path: Path) -> None:
    state = build_model(LRASPP).state_dict()
    key = "backbone.0.0.weight"
    state[key] = torch.zeros(8, 3, 3, 3)  # 16 filters in the real first convolution
    path = tmp_path / "misshapen.pth"
    torch.save(state, path)
    with pytest.raises(
        CheckpointError, match=r"1 tensors of the wrong shape.*backbone\.0\.0\.weight"
    ):
        build_model(LRASPP, pretrained=path)


@pytest.mark.parametrize("how", ["torch.save", "pickle"])
def test_pretrained_pickle_payload_is_not_executed(tmp_path: Path, how: str) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pth"
    if how == "torch.save":
        torch.save({"x": _Payload(marker)}, path)
    else:
        path.write_bytes(pickle.dumps({"x": _Payload(marker)}, protocol=2))
    with pytest.raises(CheckpointError, match="never pickled code"):
        build_model(LRASPP, pretrained=path)
    assert not marker.exists()


# -- preprocessing ----------------------------------------------------------------------
def test_scale_to_unit() -> None:
    assert scale_to_unit(np.array([0, 255], np.uint8)).tolist() == [0.0, 1.0]
    assert scale_to_unit(np.array([65535], np.uint16)).tolist() == [1.0]
    assert scale_to_unit(np.array([-1.0, 0.25, 3.0])).tolist() == [0.0, 0.25, 1.0]
    with pytest.raises(DtypeError, match="int32"):
        scale_to_unit(np.array([1], np.int32))


def test_uniform_contrast_ratio() -> None:
    out = apply_contrast(np.array([0.1, 0.3, 0.7], np.float32), 2.0)
    np.testing.assert_allclose(out, [0.2, 0.6, 1.0], rtol=1e-6)
    with pytest.raises(OptionError, match="contrast_ratio"):
        Preprocessing(contrast_ratio=0)


def test_preprocessing_round_trip() -> None:
    prep = Preprocessing(contrast_ratio=2.0, input_size=64, lens_circle=(0.5, 0.5, 0.4))
    assert prep.input_size == (64, 64)
    assert Preprocessing.from_dict(json.loads(json.dumps(prep.to_dict()))) == prep
    with pytest.raises(OptionError, match="unknown"):
        Preprocessing.from_dict({"ratio": 2})


def test_preprocess_normalises_and_masks_outside_lens() -> None:
    frames = np.full((2, SIZE, SIZE, 3), 255, np.uint8)
    el, _ = sky_grids(CAL)
    lens = lens_mask_from_elevation(el)
    np.testing.assert_array_equal(lens, lens_mask_from_calibration(CAL))
    assert 0 < lens.sum() < lens.size
    # levels by the dtype: white is 1 (the robust levels would make a frame without contrast black)
    x = preprocess_frames(frames, Preprocessing(levels="dtype"), lens_mask=lens)
    assert x.shape == (2, 3, SIZE, SIZE)
    assert x.dtype == np.float32
    white = (1 - np.array(IMAGENET_MEAN)) / np.array(IMAGENET_STD)
    black = -np.array(IMAGENET_MEAN) / np.array(IMAGENET_STD)
    for c in range(3):
        np.testing.assert_allclose(x[:, c][:, lens], white[c], rtol=1e-5)
        np.testing.assert_allclose(x[:, c][:, ~lens], black[c], rtol=1e-5)
    with pytest.raises(FrameSizeError, match="lens mask"):
        preprocess_frames(frames, Preprocessing(), lens_mask=lens[:-1])
    with pytest.raises(FrameSizeError, match=r"\(n, height, width, 1\)"):
        preprocess_frames(frames[..., :2], Preprocessing())


def test_resize_and_postprocess() -> None:
    const = np.full((2, 40, 30, 3), 0.25, np.float32)
    small = resize_stack(const, (16, 12))
    assert small.shape == (2, 16, 12, 3)
    np.testing.assert_allclose(small, 0.25, rtol=1e-6)
    # the filter is the documented antialiased linear one, separably applied
    from aurora_xr.model.resampling import resize_weights as _resize_weights

    rng = np.random.default_rng(0).random((2, 20, 30, 3), dtype=np.float32)
    for size in ((7, 11), (45, 64)):
        ref = np.einsum(
            "oh,nhwc,pw->nopc", _resize_weights(20, size[0]), rng, _resize_weights(30, size[1])
        )
        np.testing.assert_allclose(resize_stack(rng, size), ref, atol=1e-5)
    ramp = np.tile(np.linspace(0, 1, 64, dtype=np.float32), (1, 8, 1))
    back = resize_stack(resize_stack(ramp, (8, 32)), (8, 64))
    np.testing.assert_allclose(back[:, :, 4:-4], ramp[:, :, 4:-4], atol=0.01)
    lens = lens_mask_from_calibration(CAL)
    probs = postprocess_probabilities(
        np.full((1, 32, 32), 0.7, np.float32), frame_size=(SIZE, SIZE), lens_mask=lens
    )
    assert probs.shape == (1, SIZE, SIZE)
    np.testing.assert_allclose(probs[0][lens], 0.7, rtol=1e-6)
    assert np.all(probs[0][~lens] == 0)


def test_lens_circle_round_trip() -> None:
    lens = lens_mask_from_calibration(CAL)
    circle = lens_circle_from_mask(lens)
    assert circle is not None
    again = lens_mask_from_circle(circle, SIZE, SIZE)
    assert np.count_nonzero(again != lens) <= 0.02 * lens.sum()
    assert lens_circle_from_mask(np.ones((4, 4), bool)) is None


# -- checkpoints ------------------------------------------------------------------------
def test_save_load_gives_identical_outputs(tmp_path: Path) -> None:
    torch.manual_seed(3)
    model = build_model(LRASPP).eval()
    path = save_checkpoint(model, tmp_path / "m.safetensors", {"threshold": 0.4})
    loaded = load_model(path, device="cpu")
    x = torch.rand(2, 3, 64, 64)
    with torch.inference_mode():
        assert torch.equal(model(x)["out"], loaded.module(x)["out"])
    assert loaded.name == LRASPP
    assert loaded.threshold == 0.4
    assert loaded.checksum == hashlib.sha256(path.read_bytes()).hexdigest()
    assert not loaded.module.training


def test_fcn_save_load_identical(tmp_path: Path, coco_file: Path) -> None:
    model = build_model("fcn_resnet50", pretrained=coco_file).eval()
    path = save_checkpoint(model, tmp_path / "fcn.safetensors")
    x = torch.rand(1, 3, 64, 64)
    loaded = load_model(path, device="cpu", arch="fcn_resnet50")
    with torch.inference_mode():
        assert torch.equal(model(x)["out"], loaded.module(x)["out"])


def test_checkpoint_metadata_round_trip(small_ckpt: Path) -> None:
    ckpt = load_checkpoint(small_ckpt)
    meta = ckpt.metadata
    assert meta.architecture == LRASPP
    assert meta.input_size == (32, 32)
    assert meta.preprocessing.contrast_ratio == 1.5
    assert meta.preprocessing.mean == IMAGENET_MEAN
    assert meta.threshold == 0.5
    assert meta.metrics == {"val": {"iou": 0.5}}
    assert meta.training_data_checksum == "abc"
    assert meta.aurora_xr_version
    assert read_metadata(small_ckpt) == meta
    assert ckpt.checksum == hashlib.sha256(small_ckpt.read_bytes()).hexdigest()
    # the header is plain safetensors JSON
    raw = small_ckpt.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    assert header["__metadata__"]["format"] == "aurora_xr.checkpoint"


def test_checkpoint_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="not found"):
        load_model(tmp_path / "none.safetensors")


def test_checkpoint_truncated(tmp_path: Path, small_ckpt: Path) -> None:
    bad = tmp_path / "cut.safetensors"
    bad.write_bytes(small_ckpt.read_bytes()[:-1000])
    with pytest.raises(CheckpointError, match="truncated"):
        load_checkpoint(bad)


def test_checkpoint_corrupt(tmp_path: Path, small_ckpt: Path) -> None:
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(os.urandom(4096))
    with pytest.raises(CheckpointError, match="not a safetensors"):
        load_checkpoint(garbage)
    broken = tmp_path / "broken.safetensors"
    raw = bytearray(small_ckpt.read_bytes())
    raw[9:20] = b"\x00" * 11  # break the JSON header
    broken.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="corrupt"):
        load_checkpoint(broken)
    short = tmp_path / "short.safetensors"
    short.write_bytes(b"abc")
    with pytest.raises(CheckpointError, match="3 bytes"):
        load_checkpoint(short)


def test_checkpoint_without_aurora_metadata(tmp_path: Path) -> None:
    path = save_tensors({"w": torch.zeros(2)}, tmp_path / "plain.safetensors", {})
    with pytest.raises(CheckpointError, match="not an aurora_xr checkpoint"):
        load_checkpoint(path)


def test_checkpoint_of_other_architecture(small_ckpt: Path) -> None:
    with pytest.raises(CheckpointError, match=r"lraspp_mobilenet_v3_large.*fcn_resnet50"):
        load_model(small_ckpt, arch="fcn_resnet50")


def test_checkpoint_tensors_of_other_architecture(tmp_path: Path) -> None:
    meta = CheckpointMetadata(architecture="fcn_resnet50")
    header = {
        "format": "aurora_xr.checkpoint",
        "format_version": "1",
        "aurora_xr": json.dumps(meta.to_dict()),
    }
    path = save_tensors(build_model(LRASPP).state_dict(), tmp_path / "x.safetensors", header)
    with pytest.raises(CheckpointError, match=r"fcn_resnet50.*lraspp_mobilenet_v3_large"):
        load_model(path)
    with pytest.raises(CheckpointError, match="fcn_resnet50"):
        save_checkpoint(build_model(LRASPP), tmp_path / "y.safetensors", meta)


def test_checkpoint_pickle_payload_is_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    for name in ("evil.pt", "evil.safetensors"):
        path = tmp_path / name
        torch.save({"x": _Payload(marker)}, path)
        with pytest.raises(CheckpointError, match="never unpickles"):
            load_model(path)
        with pytest.raises(CheckpointError, match="zip archive"):
            Predictor(path)
    raw = tmp_path / "evil.pkl"
    raw.write_bytes(pickle.dumps(_Payload(marker)))
    with pytest.raises(CheckpointError, match="pickle stream"):
        load_checkpoint(raw)
    assert not marker.exists()


# -- predictor --------------------------------------------------------------------------
def test_predictor_contract(small_ckpt: Path) -> None:
    pred = Predictor(small_ckpt, device="cpu", batch_size=2, calibration=CAL)
    frames = _frames(3)
    probs = pred(frames)
    assert probs.shape == (3, SIZE, SIZE)
    assert probs.dtype == np.float32
    assert probs.min() >= 0
    assert probs.max() <= 1
    lens = lens_mask_from_calibration(CAL)
    assert np.all(probs[:, ~lens] == 0)
    assert np.all(probs[:, lens] > 0)
    assert pred.name == LRASPP
    assert pred.threshold == 0.5
    assert pred.batch_size == 2
    assert pred.checksum == hashlib.sha256(small_ckpt.read_bytes()).hexdigest()
    np.testing.assert_array_equal(pred.predict_mask(frames), probs >= 0.5)
    # batching does not change the result
    one = Predictor(small_ckpt, device="cpu", batch_size=1, calibration=CAL)(frames)
    np.testing.assert_allclose(one, probs, atol=1e-5)
    # uint16 frames and an empty batch
    assert pred(frames.astype(np.uint16) * 257).shape == (3, SIZE, SIZE)
    assert pred(frames[:0]).shape == (0, SIZE, SIZE)
    with pytest.raises(FrameSizeError, match="3\\)"):
        pred(frames[0])


def test_predictor_lens_fallbacks(small_ckpt: Path) -> None:
    frames = _frames(1)
    lens = lens_mask_from_calibration(CAL)
    by_circle = Predictor(small_ckpt, device="cpu")(frames)  # the checkpoint's lens circle
    assert np.all(
        by_circle[0][
            ~lens_mask_from_circle(read_metadata(small_ckpt).preprocessing.lens_circle, SIZE, SIZE)
        ]
        == 0
    )
    by_mask = Predictor(small_ckpt, device="cpu")(frames, lens_mask=lens)
    assert np.all(by_mask[0][~lens] == 0)
    with pytest.raises(FrameSizeError, match="lens mask"):
        Predictor(small_ckpt, device="cpu")(frames, lens_mask=lens[1:])


def test_predictor_pickles_small_and_loads_once(small_ckpt: Path) -> None:
    import dask.base

    clear_model_cache()
    pred = Predictor(small_ckpt, device="cpu", calibration=CAL)
    blob = pickle.dumps(pred)
    assert len(blob) < 10_000
    before = network_cache.LOAD_COUNT["n"]
    frames = _frames(2)
    first = pred(frames)
    clone = pickle.loads(blob)
    np.testing.assert_array_equal(clone(frames), first)
    pred(frames)
    assert network_cache.LOAD_COUNT["n"] == before + 1  # one load per process
    assert clone.metadata.split == pred.metadata.split
    assert clone.metadata.split["seed"] == 3
    assert clone.metadata.preprocessing == pred.metadata.preprocessing
    assert clone.checksum == pred.checksum
    assert clone.name == pred.name
    assert dask.base.tokenize(clone) == dask.base.tokenize(pred)
    clear_model_cache()
    np.testing.assert_array_equal(pickle.loads(blob)(frames), first)
    assert network_cache.LOAD_COUNT["n"] == before + 2


def test_loaded_model_predictor_and_from_model(small_ckpt: Path) -> None:
    loaded = load_model(small_ckpt, device="cpu")
    frames = _frames(2)
    via_path = loaded.predictor(calibration=CAL)(frames)
    in_memory = Predictor.from_model(loaded.module, metadata=loaded.metadata, calibration=CAL)
    np.testing.assert_allclose(in_memory(frames), via_path, atol=1e-6)
    with pytest.raises(ModelError, match="cannot be pickled"):
        pickle.dumps(in_memory)
    assert in_memory.checksum.startswith("tensors:")


def test_predictor_options(small_ckpt: Path) -> None:
    with pytest.raises(OptionError, match="fp16"):
        Predictor(small_ckpt, device="cpu", precision="fp16")
    with pytest.raises(OptionError, match="precision"):
        Predictor(small_ckpt, device="cpu", precision="fp8")
    with pytest.raises(OptionError, match="batch_size"):
        Predictor(small_ckpt, device="cpu", batch_size=0)
    if not torch.cuda.is_available():
        with pytest.raises(OptionError, match="CUDA"):
            Predictor(small_ckpt, device="cuda")
        assert devices.resolve_device("auto") == torch.device("cpu")
    frames = _frames(1)
    fp32 = Predictor(small_ckpt, device="cpu", calibration=CAL)(frames)
    bf16 = Predictor(small_ckpt, device="cpu", precision="bf16", calibration=CAL)(frames)
    assert bf16.dtype == np.float32
    np.testing.assert_allclose(bf16, fp32, atol=0.05)
    # "auto" is resolved where the network is loaded: bf16 only on a native-bf16 CPU
    auto = Predictor(small_ckpt, device="cpu", precision="auto", calibration=CAL)
    expected = "bf16" if devices.native_bf16(torch.device("cpu")) else "fp32"
    np.testing.assert_array_equal(auto(frames), bf16 if expected == "bf16" else fp32)
    assert auto._get_network().precision == expected
    assert auto.precision == "auto"
    assert pickle.loads(pickle.dumps(auto)).precision == "auto"


def test_importing_the_package_imports_no_torch() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import aurora_xr.model as m\n"
        "from aurora_xr.model import Preprocessing, split_indices\n"
        "from aurora_xr.model.preprocess import preprocess_frames\n"
        "from aurora_xr.model import metrics, data, lens_masks, cube_source\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
        "sys.modules['torch'] = None\n"
        "try:\n"
        "    m.build_model\n"
        "except ImportError as exc:\n"
        "    print('ImportError:', exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "needs torch, torchvision and safetensors" in done.stdout


# -- test-time augmentation -----------------------------------------------------------
def test_tta_views_and_modes() -> None:
    from aurora_xr.model.tta import TTA_MODES, tta_views

    assert TTA_MODES == ("none", "flip", "dihedral")
    assert tta_views("none") == [(0, False)]
    assert tta_views("flip") == [(0, False), (0, True)]
    dihedral = tta_views("dihedral")
    assert len(set(dihedral)) == 8
    assert dihedral[0] == (0, False)
    with pytest.raises(OptionError, match="tta must be one of"):
        tta_views("rotate")
    with pytest.raises(OptionError, match="tta"):
        Predictor.from_module(build_model(LRASPP), tta="rotate")


@pytest.mark.parametrize("mode", ["none", "flip", "dihedral"])
def test_tta_turns_every_view_back(mode: str) -> None:
    """A network that copies its input: every view, turned back, is the input again."""
    from aurora_xr.model.tta import averaged_probabilities

    x = torch.randn(2, 3, 6, 10, generator=torch.Generator().manual_seed(0))
    calls: list[tuple[int, ...]] = []

    def copy_first_channel(view: torch.Tensor) -> torch.Tensor:
        calls.append(tuple(view.shape))
        return view[:, :1]

    out = averaged_probabilities(copy_first_channel, x, mode)
    torch.testing.assert_close(out, torch.sigmoid(x[:, :1]), rtol=0, atol=1e-6)
    assert len(calls) == {"none": 1, "flip": 2, "dihedral": 8}[mode]
    if mode == "dihedral":  # quarter turns swap the sides of a non-square input
        assert calls.count((2, 3, 10, 6)) == 4


def test_tta_averages_a_network_that_sees_orientation() -> None:
    """A network whose logit is the column index: the mirror average is symmetric."""
    from aurora_xr.model.tta import averaged_probabilities

    x = torch.zeros(1, 3, 4, 5)

    def column(view: torch.Tensor) -> torch.Tensor:
        cols = torch.arange(view.shape[-1], dtype=torch.float32)
        return cols.expand(view.shape[0], 1, *view.shape[-2:])

    out = averaged_probabilities(column, x, "flip")[0, 0, 0]
    cols = torch.arange(5, dtype=torch.float32)
    expected = (torch.sigmoid(cols) + torch.sigmoid(cols.flip(0))) / 2
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(out, out.flip(0))


def test_predictor_tta_averages_mirrored_and_turned_frames(small_ckpt: Path) -> None:
    """tta='flip'/'dihedral' equal the mean over frames mirrored and turned by hand."""
    import dask.base

    frames = _frames(2)
    plain = Predictor(small_ckpt, device="cpu", calibration=CAL)
    flip = Predictor(small_ckpt, device="cpu", calibration=CAL, tta="flip")
    dihedral = load_model(small_ckpt, device="cpu").predictor(calibration=CAL, tta="dihedral")

    def by_hand(views: list[tuple[int, bool]]) -> np.ndarray:
        total = np.zeros(frames.shape[:3], dtype=np.float64)
        for turns, mirror in views:
            view = frames[:, :, ::-1] if mirror else frames
            probs = plain(np.ascontiguousarray(np.rot90(view, turns, axes=(1, 2))))
            back = np.rot90(probs, -turns, axes=(1, 2))
            total += back[:, :, ::-1] if mirror else back
        return total / len(views)

    p_plain = plain(frames)
    p_flip = flip(frames)
    np.testing.assert_allclose(p_flip, by_hand([(0, False), (0, True)]), atol=1e-5)
    views = [(t, m) for m in (False, True) for t in range(4)]
    np.testing.assert_allclose(dihedral(frames), by_hand(views), atol=1e-5)
    assert np.abs(p_flip - p_plain).max() > 1e-4  # the random network does see orientation
    lens = lens_mask_from_calibration(CAL)
    assert np.all(p_flip[:, ~lens] == 0)
    # the option travels and tells results apart
    clone = pickle.loads(pickle.dumps(flip))
    assert clone.tta == "flip"
    np.testing.assert_array_equal(clone(frames), p_flip)
    assert dask.base.tokenize(flip) != dask.base.tokenize(plain)
    assert "tta='flip'" in repr(flip)
    assert "tta" not in repr(plain)
    from aurora_xr.detect.segmentation import predictor_info

    assert predictor_info(flip)["model_tta"] == "flip"
    assert "model_tta" not in predictor_info(plain)
