"""The one preprocessing path for any camera: levels, channels, and its torch twin."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from aurora_xr.errors import DtypeError, FrameSizeError, OptionError
from aurora_xr.model import CheckpointMetadata, Preprocessing
from aurora_xr.model.device_prep import (
    frame_geometry,
    frames_to_tensor,
    network_input,
    probabilities_to_frames,
)
from aurora_xr.model.lens_masks import lens_mask_from_circle
from aurora_xr.model.levels import (
    MAX_LEVEL_SAMPLES,
    frame_levels,
    full_scale_of,
    level_sample_index,
)
from aurora_xr.model.preprocess import (
    postprocess_probabilities,
    prepare_frames,
    preprocess_frames,
    to_unit,
)

CPU = torch.device("cpu")


def _sky(n: int = 2, height: int = 40, width: int = 48, seed: int = 0) -> np.ndarray:
    """Frames with a dark sky and a bright band: good contrast, values in [0, 4095]."""
    rng = np.random.default_rng(seed)
    frames = rng.integers(200, 400, (n, height, width, 1)).astype(np.float64)
    frames[:, 10:16] += 3000
    return frames


def test_levels_are_the_documented_percentiles() -> None:
    frames = np.arange(2 * 20 * 30 * 3, dtype=np.uint16).reshape(2, 20, 30, 3) * 7
    lens = lens_mask_from_circle((0.5, 0.5, 0.45), 20, 30)
    black, span = frame_levels(frames, lens=lens, black_percentile=2, white_percentile=98)
    index = level_sample_index(20, 30, lens)
    assert np.all(lens.ravel()[index])
    for k in range(2):
        values = frames[k].reshape(-1, 3)[index].ravel().astype(np.float64)
        lo, hi = np.percentile(values, [2, 98])
        assert black[k] == lo
        assert span[k] == max(hi - lo, 0.1 * full_scale_of(np.array(hi), frames.dtype))


def test_level_samples_are_bounded_and_regular() -> None:
    index = level_sample_index(1024, 1024)
    assert len(index) <= MAX_LEVEL_SAMPLES
    rows, cols = np.divmod(index, 1024)
    assert set(np.diff(np.unique(rows))) == {8}
    assert set(np.diff(np.unique(cols))) == {8}
    assert level_sample_index(5, 7).tolist() == list(range(35))
    empty_lens = np.zeros((5, 7), bool)
    assert level_sample_index(5, 7, empty_lens).tolist() == list(range(35))


def test_full_scale_is_the_sensor_depth_of_the_white_level() -> None:
    white = np.array([0, 255, 256, 1023, 1024, 4000, 16000, 60000])
    expected = [255, 255, 1023, 1023, 4095, 4095, 16383, 65535]
    assert full_scale_of(white, np.dtype(np.uint16)).tolist() == expected
    assert full_scale_of(white, np.dtype(np.uint8)).tolist() == [255.0] * 8
    assert full_scale_of(white, np.dtype(np.float32)).tolist() == [1.0] * 8


def test_any_camera_comes_to_the_same_unit_frame() -> None:
    """8-bit data in a 16-bit container, a 12-bit camera shifted to the top bits, a bias."""
    prep = Preprocessing()
    sky12 = _sky()
    base = to_unit(sky12.astype(np.uint16), prep)
    shifted = to_unit((sky12 * 16).astype(np.uint16), prep)  # 12 bits in the top of 16
    biased = to_unit((sky12 + 50).astype(np.uint16), prep)  # a pedestal
    np.testing.assert_allclose(shifted, base, atol=1e-6)
    np.testing.assert_allclose(biased, base, atol=1e-6)
    sky8 = np.clip(sky12 / 16, 0, 255)
    np.testing.assert_array_equal(
        to_unit(sky8.astype(np.uint8), prep), to_unit(sky8.astype(np.uint16), prep)
    )
    assert base.min() == 0.0
    assert base.max() == 1.0


def test_a_dark_empty_sky_is_not_stretched_into_noise() -> None:
    rng = np.random.default_rng(1)
    dark = rng.integers(10, 21, (1, 32, 32, 3)).astype(np.uint8)
    unit = to_unit(dark, Preprocessing())
    black, span = frame_levels(dark)
    assert span[0] == pytest.approx(25.5)  # the 10x gain cap, not the 10-count spread
    np.testing.assert_allclose(unit, np.clip((dark - black[0]) / 25.5, 0, 1), atol=1e-6)
    assert unit.max() <= 10 / 25.5 + 1e-6


def test_dtype_levels_are_the_legacy_scaling() -> None:
    frames = np.array([[[[0, 51, 255]]]], np.uint8)
    assert to_unit(frames, Preprocessing(levels="dtype")).ravel().tolist() == pytest.approx(
        [0.0, 0.2, 1.0]
    )
    with pytest.raises(DtypeError, match="int32"):
        to_unit(frames.astype(np.int32), Preprocessing())


def test_options_are_checked_and_recorded() -> None:
    prep = Preprocessing(black_percentile=0.5, white_percentile=99.9, min_span=0.05)
    again = Preprocessing.from_dict(json.loads(json.dumps(prep.to_dict())))
    assert again == prep
    assert again.levels == "robust"
    # a checkpoint written before the levels existed was trained by the dtype
    legacy = {k: v for k, v in prep.to_dict().items() if k != "levels"}
    assert Preprocessing.from_dict(legacy).levels == "dtype"
    meta = CheckpointMetadata(architecture="lraspp_mobilenet_v3_large", preprocessing=prep)
    assert CheckpointMetadata.from_dict(meta.to_dict()).preprocessing == prep
    for bad in ({"levels": "auto"}, {"black_percentile": 60, "white_percentile": 50}):
        with pytest.raises(OptionError):
            Preprocessing(**bad)  # type: ignore[arg-type]
    with pytest.raises(OptionError, match="min_span"):
        Preprocessing(min_span=0)


def test_single_channel_frames_are_replicated_to_three() -> None:
    grey = _sky(1).astype(np.uint16)
    unit, _ = prepare_frames(grey, Preprocessing(input_size=(20, 24)))
    assert unit.shape == (1, 20, 24, 3)
    np.testing.assert_array_equal(unit[..., 0], unit[..., 1])
    np.testing.assert_array_equal(unit[..., 0], unit[..., 2])
    with pytest.raises(FrameSizeError, match="single-channel"):
        prepare_frames(np.zeros((1, 4, 4, 2), np.uint8), Preprocessing())


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("levels", ["robust", "dtype"])
@pytest.mark.parametrize("input_size", [None, (24, 20), (64, 72)])
def test_the_device_path_is_the_numpy_reference(
    dtype: type, channels: int, levels: str, input_size: tuple[int, int] | None
) -> None:
    rng = np.random.default_rng(3)
    top = 255 if dtype == np.uint8 else 16383
    frames = rng.integers(0, top, (3, 40, 48, channels)).astype(dtype)
    lens = lens_mask_from_circle((0.5, 0.52, 0.46), 40, 48)
    prep = Preprocessing(levels=levels, input_size=input_size, contrast_ratio=1.4)
    reference = preprocess_frames(frames, prep, lens_mask=lens)
    geometry = frame_geometry((40, 48), prep, lens, CPU)
    got = network_input(frames_to_tensor(frames, CPU), frames.dtype, prep, geometry)
    np.testing.assert_allclose(got.numpy(), reference, rtol=0, atol=5e-5)
    probs = rng.random((3, 1, *geometry.input_size)).astype(np.float32)
    back = probabilities_to_frames(torch.from_numpy(probs), geometry).numpy()
    expected = postprocess_probabilities(probs[:, 0], frame_size=(40, 48), lens_mask=lens)
    np.testing.assert_allclose(back, expected, rtol=0, atol=1e-5)


def test_uint16_frames_travel_as_their_bits() -> None:
    frames = np.array([[[[0], [1], [32768], [65535]]]], np.uint16)
    tensor = frames_to_tensor(frames, CPU)
    assert tensor.dtype == torch.int16  # the bits, read back as unsigned by the preprocessing
    staging = torch.empty(64, dtype=torch.uint8)
    staged = frames_to_tensor(frames, CPU, staging=staging)
    assert torch.equal(staged, tensor)
    assert staged.data_ptr() == staging.data_ptr()  # it went through the buffer
    prep = Preprocessing(levels="dtype")
    geometry = frame_geometry((1, 4), prep, None, CPU)
    x = network_input(tensor, frames.dtype, prep, geometry)
    unit = x[0, 0, 0] * prep.std[0] + prep.mean[0]
    np.testing.assert_allclose(unit.numpy(), [0, 1 / 65535, 32768 / 65535, 1], atol=1e-6)
