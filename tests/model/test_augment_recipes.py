"""The augmentation recipes and the domain randomisation steps: exact outputs for a seed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from aurora_xr.errors import OptionError
from aurora_xr.model import Augmentation, Predictor, load_checkpoint, train
from aurora_xr.model import randomisation as rand
from aurora_xr.model.augment import AUGMENTATIONS, augment_batch, randomise
from tests.model.test_training import LRASPP, tiny_cube

N, H, W = 4, 24, 24


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():  # type: ignore[no-untyped-def]
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _gen(seed: int = 11) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = _gen(0)
    images = torch.rand(N, 3, H, W, generator=g)
    yy, xx = torch.meshgrid(torch.arange(H), torch.arange(W), indexing="ij")
    lens = (((yy - 11.5) ** 2 + (xx - 11.5) ** 2) <= 10.5**2).float()[None, None]
    weights = lens.expand(N, 1, H, W).clone()
    masks = (torch.rand(N, 1, H, W, generator=g) > 0.7).float() * weights
    return images * weights, masks, weights


def _u(g: torch.Generator, shape: tuple[int, ...], low: float, high: float) -> torch.Tensor:
    return low + (high - low) * torch.rand(shape, generator=g)


# -- recipes --------------------------------------------------------------------------------
def test_recipes_by_name() -> None:
    assert set(AUGMENTATIONS) == {"basic", "real_sky"}
    assert Augmentation.named("basic") == Augmentation()
    real = Augmentation.named("real_sky")
    assert real.randomises
    assert not Augmentation().randomises
    assert (real.grey, real.jpeg, real.jpeg_quality) == (0.3, 0.3, (25, 90))
    with pytest.raises(OptionError, match="real_sky"):
        Augmentation.named("heavy")
    with pytest.raises(OptionError, match="noise"):
        Augmentation(noise=1.5)
    with pytest.raises(OptionError, match="jpeg_quality"):
        Augmentation(jpeg_quality=(90, 20))
    # a run made before the randomisation existed keeps its configuration
    assert Augmentation().to_config() == {
        "rotation": True,
        "flip": True,
        "brightness": 0.2,
        "contrast": 0.2,
    }
    assert real.to_config()["jpeg_quality"] == [25, 90]


def test_the_basic_recipe_draws_what_it_always_drew() -> None:
    images, masks, weights = _batch()
    g = _gen()
    augment_batch(images, masks, weights, zenith=(11.5, 11.5), generator=g)
    old = _gen()
    torch.rand(N, generator=old, dtype=torch.float64)  # angles
    torch.rand(N, generator=old)  # mirrors
    torch.rand((N, 1, 1, 1), generator=old)  # gains
    torch.rand((N, 1, 1, 1), generator=old)  # contrast factors
    assert torch.equal(g.get_state(), old.get_state())


# -- each step, recomputed by hand from the same draws ------------------------------------------
def test_colour_jitter_exact() -> None:
    images = _batch()[0]
    got = rand.colour_jitter(images, 0.25, _gen())
    g = _gen()
    gains = _u(g, (N, 3), 0.75, 1.25)
    sat = _u(g, (N,), 0.75, 1.25)
    scaled = images * gains.view(N, 3, 1, 1)
    mean = scaled.mean(dim=1, keepdim=True)
    assert torch.equal(got, (mean + sat.view(N, 1, 1, 1) * (scaled - mean)).clamp(0, 1))


def test_black_level_and_gamma_exact() -> None:
    images = _batch()[0]
    b = _u(_gen(), (N,), -0.1, 0.1).view(N, 1, 1, 1)
    assert torch.equal(rand.black_level(images, 0.1, _gen()), ((images - b) / (1 - b)).clamp(0, 1))
    gamma = torch.exp(_u(_gen(), (N,), -0.5, 0.5)).view(N, 1, 1, 1)
    assert torch.equal(rand.gamma_curve(images, 0.5, _gen()), images**gamma)


def test_read_noise_exact() -> None:
    images = _batch()[0]
    g = _gen()
    sigma = _u(g, (N,), 0.0, 0.04).view(N, 1, 1, 1)
    noise = torch.randn((N, 3, H, W), generator=g) * sigma
    assert torch.equal(rand.read_noise(images, 0.04, _gen()), (images + noise).clamp(0, 1))


def test_grey_frames_are_exactly_grey() -> None:
    images = _batch()[0]
    got = rand.to_grey(images, 0.5, _gen())
    chosen = torch.rand(N, generator=_gen()) < 0.5
    assert 0 < int(chosen.sum()) < N  # this seed turns some frames grey, not all
    for i in range(N):
        if chosen[i]:
            assert torch.equal(got[i], images[i].mean(dim=0, keepdim=True).expand(3, H, W))
        else:
            assert torch.equal(got[i], images[i])


def test_jpeg_and_resolution_are_deterministic() -> None:
    images = _batch()[0]
    first = rand.jpeg_round_trip(images, 0.5, (20, 40), _gen())
    assert torch.equal(first, rand.jpeg_round_trip(images, 0.5, (20, 40), _gen()))
    chosen = torch.rand(N, generator=_gen()) < 0.5
    for i in range(N):
        same = torch.equal(first[i], images[i])
        assert same != bool(chosen[i])
        if chosen[i]:  # decoded 8-bit values
            assert torch.equal(first[i], (first[i] * 255).round() / 255)
    flat = torch.full((2, 3, H, W), 0.4)
    torch.testing.assert_close(rand.lower_resolution(flat, 0.6, _gen()), flat)
    lowered = rand.lower_resolution(images, 0.6, _gen())
    assert torch.equal(lowered, rand.lower_resolution(images, 0.6, _gen()))
    assert not torch.equal(lowered, images)


def test_real_sky_batch_is_reproducible_and_keeps_the_lens() -> None:
    images, masks, weights = _batch()
    recipe = Augmentation.named("real_sky")
    a = augment_batch(images, masks, weights, zenith=(11.5, 11.5), generator=_gen(), options=recipe)
    b = augment_batch(images, masks, weights, zenith=(11.5, 11.5), generator=_gen(), options=recipe)
    for x, y in zip(a, b, strict=True):
        assert torch.equal(x, y)
    out_images, out_masks, out_weights = a
    assert set(torch.unique(out_masks).tolist()) <= {0.0, 1.0}
    assert torch.all(out_images[out_weights.expand_as(out_images) == 0] == 0)
    assert torch.all(out_masks[out_weights == 0] == 0)
    assert float(out_images.min()) >= 0.0
    assert float(out_images.max()) <= 1.0
    assert not torch.equal(
        out_images,
        augment_batch(images, masks, weights, zenith=(11.5, 11.5), generator=_gen())[0],
    )
    plain = randomise(images, Augmentation(), _gen())
    assert torch.equal(plain, images)  # every step off: nothing changes


# -- training on a single-channel 16-bit camera with the real-sky recipe ------------------------
def test_train_on_grey_16_bit_frames_with_the_real_sky_recipe(tmp_path: Path) -> None:
    colour = tiny_cube(12)
    grey = (colour.image.astype(np.uint16).max("channel") * 16 + 400).astype(np.uint16)
    cube = colour.drop_vars(["image", "channel"]).assign(
        image=grey.expand_dims(channel=["557.7nm"], axis=-1)
    )
    run = train(
        cube,
        arch=LRASPP,
        out_dir=tmp_path,
        epochs=1,
        max_steps=2,
        batch_size=4,
        image_size=32,
        split=(0.7, 0.3, 0.0),
        progress=False,
        augment="real_sky",
        seed=1,
    )
    assert run.steps == 2
    assert np.isfinite(run.history[0]["train_loss"])
    meta = load_checkpoint(run.last_checkpoint).metadata
    assert meta.preprocessing.levels == "robust"
    assert meta.extra["train_options"]["augment"]["grey"] == 0.3
    assert meta.extra["train_options"]["levels"] == "robust"
    probs = Predictor(run.last_checkpoint, device="cpu")(cube.image.values[:2])
    assert probs.shape == (2, 40, 40)
    assert probs.dtype == np.float32
    with pytest.raises(OptionError, match="recipe"):
        train(cube, arch=LRASPP, out_dir=tmp_path / "x", augment="strong", progress=False)
