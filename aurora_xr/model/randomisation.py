"""Domain randomisation: the camera and sky effects that training draws at random (torch).

A network trained on one synthetic camera learns that camera: its colour
response, its contrast, its noise, its file format. Real cameras differ in
all of these, and many have no colour at all. These steps, applied to a
batch of frames in [0, 1] after the preprocessing's levels (so they vary
what the levels leave), teach the network what does not matter. Each draws
its parameters per frame from the run's seeded generator, only when it is on
(so a run without them draws exactly what it drew before they existed), and
keeps the area outside the lens black.

* **colour** (``colour = c``): per-channel gains (white balance) and a
  saturation factor, each in ``[1 - c, 1 + c]``;
* **levels** (``black``): a black-level shift ``b`` in ``[-black, black]``,
  ``(x - b) / (1 - b)`` (a pedestal, or a clipped floor);
* **gamma** (``gamma``): ``x ** g`` with ``log g`` in ``[-gamma, gamma]``;
* **noise** (``noise``): Gaussian read noise, sigma in ``[0, noise]``;
* **resolution** (``resolution``): down to a factor in ``[1 - resolution, 1]``
  of the size and back up (the detail of a smaller sensor);
* **JPEG** (``jpeg``): with probability ``jpeg``, a JPEG round trip at a
  quality in ``jpeg_quality``;
* **grey** (``grey``): with probability ``grey``, the mean of R, G, B in all
  three channels (a single-channel camera as the preprocessing presents it).

The steps run in this order; grey comes last so that a grey
frame is exactly grey, as the predictor sees a single-channel camera.
"""

from __future__ import annotations

import io

import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "black_level",
    "colour_jitter",
    "gamma_curve",
    "jpeg_round_trip",
    "lower_resolution",
    "read_noise",
    "to_grey",
    "uniform",
]


def uniform(
    generator: torch.Generator, shape: tuple[int, ...], low: float, high: float
) -> torch.Tensor:
    """Uniform draws in ``[low, high)`` (float32, on the CPU) from ``generator``."""
    return low + (high - low) * torch.rand(shape, generator=generator)


def colour_jitter(images: torch.Tensor, amount: float, generator: torch.Generator) -> torch.Tensor:
    """Per-channel gains and a saturation factor, each in ``[1 - amount, 1 + amount]``.

    Gains (n, 3) are drawn first, then the saturation factors (n,); the
    saturation mixes each pixel with its channel mean:
    ``mean + s * (x - mean)``.
    """
    n = images.shape[0]
    gains = uniform(generator, (n, 3), 1 - amount, 1 + amount).to(images)
    saturation = uniform(generator, (n,), 1 - amount, 1 + amount).to(images)
    out = images * gains.view(n, 3, 1, 1)
    mean = out.mean(dim=1, keepdim=True)
    out = mean + saturation.view(n, 1, 1, 1) * (out - mean)
    return out.clamp(0.0, 1.0)


def black_level(images: torch.Tensor, amount: float, generator: torch.Generator) -> torch.Tensor:
    """``(x - b) / (1 - b)`` clipped, with ``b`` in ``[-amount, amount]`` per frame."""
    n = images.shape[0]
    b = uniform(generator, (n,), -amount, amount).to(images).view(n, 1, 1, 1)
    return ((images - b) / (1 - b)).clamp(0.0, 1.0)


def gamma_curve(images: torch.Tensor, amount: float, generator: torch.Generator) -> torch.Tensor:
    """``x ** g`` with ``log g`` uniform in ``[-amount, amount]`` per frame."""
    n = images.shape[0]
    g = torch.exp(uniform(generator, (n,), -amount, amount)).to(images).view(n, 1, 1, 1)
    return images.clamp_min(0.0) ** g


def read_noise(images: torch.Tensor, amount: float, generator: torch.Generator) -> torch.Tensor:
    """Gaussian noise with a sigma in ``[0, amount]`` per frame (sigmas drawn first)."""
    n = images.shape[0]
    sigma = uniform(generator, (n,), 0.0, amount).view(n, 1, 1, 1)
    noise = torch.randn(tuple(images.shape), generator=generator) * sigma
    return (images + noise.to(images)).clamp(0.0, 1.0)


def lower_resolution(
    images: torch.Tensor, amount: float, generator: torch.Generator
) -> torch.Tensor:
    """Down to a factor in ``[1 - amount, 1]`` of the size and back (antialiased, per frame)."""
    n, _, height, width = images.shape
    factors = uniform(generator, (n,), 1 - amount, 1.0)
    out = []
    for i in range(n):
        f = float(factors[i])
        size = (max(4, round(height * f)), max(4, round(width * f)))
        frame = images[i : i + 1]
        if size != (height, width):
            small = F.interpolate(frame, size=size, mode="bilinear", antialias=True)
            frame = F.interpolate(small, size=(height, width), mode="bilinear", antialias=True)
        out.append(frame)
    return torch.cat(out).clamp(0.0, 1.0)


def jpeg_round_trip(
    images: torch.Tensor,
    probability: float,
    quality: tuple[int, int],
    generator: torch.Generator,
) -> torch.Tensor:
    """With ``probability`` per frame, an 8-bit JPEG round trip at a quality in ``quality``.

    Draws: which frames (n,), then the qualities (n,) as integers in
    ``[quality[0], quality[1]]``.
    """
    from PIL import Image

    n = images.shape[0]
    chosen = torch.rand(n, generator=generator) < probability
    qualities = torch.randint(int(quality[0]), int(quality[1]) + 1, (n,), generator=generator)
    if not bool(chosen.any()):
        return images
    out = images.clone()
    for i in torch.nonzero(chosen).flatten().tolist():
        pixels = (images[i].permute(1, 2, 0).float().cpu().numpy() * 255.0).round()
        buffer = io.BytesIO()
        Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(
            buffer, format="JPEG", quality=int(qualities[i])
        )
        buffer.seek(0)
        with Image.open(buffer) as decoded:
            back = np.asarray(decoded.convert("RGB"), dtype=np.float32) / 255.0
        out[i] = torch.from_numpy(back).permute(2, 0, 1).to(images)
    return out


def to_grey(images: torch.Tensor, probability: float, generator: torch.Generator) -> torch.Tensor:
    """With ``probability`` per frame, the mean of R, G, B in all three channels."""
    n = images.shape[0]
    chosen = (torch.rand(n, generator=generator) < probability).to(images.device)
    grey = images.mean(dim=1, keepdim=True).expand_as(images)
    return torch.where(chosen.view(n, 1, 1, 1), grey, images)
