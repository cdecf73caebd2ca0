"""Augmentation for all-sky frames (torch, training only).

An all-sky frame has no preferred "up" for a segmentation network: aurora
forms come at every azimuth. So the geometric augmentation turns the frame
about the *zenith pixel* (not the frame centre) by a random angle and mirrors
it about the vertical line through the zenith; image and mask go through the
same sampling grid, so they stay aligned, and the area outside the lens circle
stays masked (black, weight 0); an optional zoom about the zenith makes the
lens circle larger or smaller in the frame. A brightness and contrast jitter
follows, then the domain randomisation of :mod:`aurora_xr.model.randomisation`
(colour, levels, gamma, noise, resolution, JPEG, grey), each off by default.

Recipes
-------
:data:`AUGMENTATIONS` names two, for ``train(augment=...)``:

``"basic"`` (``augment=True``, what checkpoints were trained with before)
    Rotation and mirror about the zenith, brightness and contrast +-20 %.
``"real_sky"``
    The basic recipe, stronger (+-30 %), plus a zoom of +-15 %, colour
    gains and saturation +-25 %, a black-level shift of +-0.1, a gamma of
    ``exp(+-0.5)``, read noise up to sigma 0.04, resolution down to 40 %,
    a JPEG round trip (quality 25-90) for 30 % of the frames, and 30 % of the
    frames turned grey (the single-channel cameras). For a network meant for
    real cameras of any kind.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import torch
import torch.nn.functional as F

from ..errors import OptionError
from . import randomisation as rand

__all__ = ["AUGMENTATIONS", "Augmentation", "augment_batch", "randomise", "warp_about_zenith"]


@dataclass(frozen=True)
class Augmentation:
    """Options of :func:`augment_batch`.

    Parameters
    ----------
    rotation : bool
        Turn every frame by a uniform random angle about the zenith pixel.
    flip : bool
        Mirror half of the frames about the vertical line through the zenith
        (with the rotation this covers every mirror axis).
    brightness : float
        Multiply by a gain drawn uniformly in ``[1 - brightness, 1 + brightness]``.
    contrast : float
        Scale the deviations from the frame mean by a factor drawn uniformly
        in ``[1 - contrast, 1 + contrast]``.
    zoom : float
        Scale about the zenith by ``exp(u)``, ``u`` uniform in ``[-zoom, zoom]``.
    colour, black, gamma, noise, resolution : float
        Domain randomisation amounts (0: off); see
        :mod:`aurora_xr.model.randomisation`.
    jpeg : float
        Share of the frames that get a JPEG round trip (0: off).
    jpeg_quality : (int, int)
        Range of the JPEG quality.
    grey : float
        Share of the frames turned grey (0: off).
    """

    rotation: bool = True
    flip: bool = True
    brightness: float = 0.2
    contrast: float = 0.2
    zoom: float = 0.0
    colour: float = 0.0
    black: float = 0.0
    gamma: float = 0.0
    noise: float = 0.0
    resolution: float = 0.0
    jpeg: float = 0.0
    jpeg_quality: tuple[int, int] = (25, 90)
    grey: float = 0.0

    def __post_init__(self) -> None:
        for name in ("brightness", "contrast", "zoom", "colour", "black", "gamma", "noise"):
            value = float(getattr(self, name))
            if not 0.0 <= value < 1.0 and name != "gamma":
                raise OptionError(f"augmentation {name} must lie in [0, 1), found {value}")
            if name == "gamma" and not 0.0 <= value <= 2.0:
                raise OptionError(f"augmentation gamma must lie in [0, 2], found {value}")
            object.__setattr__(self, name, value)
        for name in ("resolution", "jpeg", "grey"):
            value = float(getattr(self, name))
            if not 0.0 <= value <= 1.0 or (name == "resolution" and value >= 1.0):
                raise OptionError(f"augmentation {name} must lie in [0, 1], found {value}")
            object.__setattr__(self, name, value)
        low, high = (int(q) for q in self.jpeg_quality)
        if not 1 <= low <= high <= 100:
            raise OptionError(f"jpeg_quality must be 1 <= low <= high <= 100, found {(low, high)}")
        object.__setattr__(self, "jpeg_quality", (low, high))

    @classmethod
    def named(cls, name: str) -> Augmentation:
        """The recipe called ``name`` in :data:`AUGMENTATIONS`."""
        try:
            return AUGMENTATIONS[name]
        except KeyError:
            raise OptionError(
                f"unknown augmentation recipe {name!r}; expected one of {sorted(AUGMENTATIONS)}"
            ) from None

    def to_config(self) -> dict[str, object]:
        """JSON-safe options; those at their default beyond the basic four are left out.

        So a run made before the domain randomisation existed has the same
        configuration (and resumes).
        """
        basic = {"rotation", "flip", "brightness", "contrast"}
        defaults = {f.name: f.default for f in fields(self)}
        out: dict[str, object] = {}
        for key, value in asdict(self).items():
            if key in basic or value != defaults[key] or (key == "jpeg_quality" and self.jpeg):
                out[key] = list(value) if isinstance(value, tuple) else value
        return out

    @property
    def randomises(self) -> bool:
        """Whether any domain randomisation step is on."""
        return any(
            (self.colour, self.black, self.gamma, self.noise, self.resolution, self.jpeg, self.grey)
        )


AUGMENTATIONS: dict[str, Augmentation] = {
    "basic": Augmentation(),
    "real_sky": Augmentation(
        brightness=0.3,
        contrast=0.3,
        zoom=0.15,
        colour=0.25,
        black=0.1,
        gamma=0.5,
        noise=0.04,
        resolution=0.6,
        jpeg=0.3,
        jpeg_quality=(25, 90),
        grey=0.3,
    ),
}
"""The named augmentation recipes (see the module text)."""


def _inverse_matrices(
    angles_deg: torch.Tensor, flips: torch.Tensor, scales: torch.Tensor | None = None
) -> torch.Tensor:
    """(n, 2, 2) matrices taking an output offset from the zenith to the source offset.

    The forward map is ``scale * turn(angle) @ mirror`` (mirror: x -> -x when
    flipped); its inverse is ``mirror @ turn(-angle) / scale``.
    """
    # A counter-clockwise turn as displayed is clockwise in (x right, y down)
    # pixel coordinates; its inverse turns by +angle in those coordinates.
    theta = torch.deg2rad(angles_deg.double())
    cos, sin = torch.cos(theta), torch.sin(theta)
    inv_rot = torch.stack(
        [torch.stack([cos, -sin], dim=-1), torch.stack([sin, cos], dim=-1)], dim=-2
    )
    sign = torch.where(flips, -1.0, 1.0).double()
    mirror = torch.zeros_like(inv_rot)
    mirror[:, 0, 0] = sign
    mirror[:, 1, 1] = 1.0
    inverse = mirror @ inv_rot
    if scales is not None:
        inverse = inverse / scales.double().view(-1, 1, 1)
    return inverse


def warp_about_zenith(
    tensors: torch.Tensor,
    *,
    zenith: tuple[float, float],
    angles_deg: torch.Tensor,
    flips: torch.Tensor | None = None,
    scales: torch.Tensor | None = None,
) -> torch.Tensor:
    """Rotate (and mirror) images ``(n, c, H, W)`` about the zenith pixel.

    Parameters
    ----------
    tensors : (n, c, H, W) float tensor
        Images (and masks stacked as extra channels, to keep them aligned).
    zenith : (float, float)
        ``(x, y)`` pixel of the zenith (column, row).
    angles_deg : (n,) tensor
        Counter-clockwise angles as displayed (y down), in degrees.
    flips : (n,) bool tensor, optional
        Mirror about the vertical line through the zenith before rotating.
    scales : (n,) tensor, optional
        Scale about the zenith (> 1 enlarges) after rotating.

    Returns
    -------
    (n, c, H, W) tensor
        Bilinear resampling; pixels from outside the frame are 0.
    """
    n, _, height, width = tensors.shape
    if flips is None:
        flips = torch.zeros(n, dtype=torch.bool)
    inv = _inverse_matrices(angles_deg.cpu(), flips.cpu(), None if scales is None else scales.cpu())
    zx, zy = float(zenith[0]), float(zenith[1])
    ys = torch.arange(height, dtype=torch.float64) - zy
    xs = torch.arange(width, dtype=torch.float64) - zx
    dy, dx = torch.meshgrid(ys, xs, indexing="ij")
    offsets = torch.stack([dx, dy], dim=-1).reshape(1, -1, 2)  # (1, H*W, 2)
    src = offsets @ inv.transpose(1, 2)  # (n, H*W, 2)
    src_x = src[..., 0] + zx
    src_y = src[..., 1] + zy
    gx = 2.0 * src_x / max(width - 1, 1) - 1.0
    gy = 2.0 * src_y / max(height - 1, 1) - 1.0
    grid = torch.stack([gx, gy], dim=-1).reshape(n, height, width, 2)
    grid = grid.to(device=tensors.device, dtype=tensors.dtype)
    return F.grid_sample(tensors, grid, mode="bilinear", padding_mode="zeros", align_corners=True)


def augment_batch(
    images: torch.Tensor,
    masks: torch.Tensor,
    weights: torch.Tensor,
    *,
    zenith: tuple[float, float],
    generator: torch.Generator,
    options: Augmentation | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Augment a batch: geometry about the zenith, brightness and contrast, randomisation.

    The draws come from ``generator`` in a fixed order: angles, mirrors,
    zooms, gains, contrast factors, then those of each randomisation step in
    the order of :mod:`aurora_xr.model.randomisation`; a step that is off
    draws nothing. So a given seed always gives the same batch.

    Parameters
    ----------
    images : (n, 3, H, W) float tensor
        Frames in [0, 1] (before normalisation), black outside the lens.
    masks : (n, 1, H, W) float tensor
        Aurora truth in {0, 1}.
    weights : (n, 1, H, W) float tensor
        1 inside the lens circle, 0 outside (loss weights).
    zenith : (float, float)
        ``(x, y)`` zenith pixel at this size.
    generator : torch.Generator
        Source of randomness (CPU generator; seeded for reproducibility).
    options : Augmentation, optional
        What to apply (all on by default).

    Returns
    -------
    images, masks, weights : tensors
        Same shapes; masks in {0, 1}; outside the lens the image is black and
        the weight 0, as before.
    """
    opts = options or Augmentation()
    n = images.shape[0]
    out_images, out_masks, out_weights = images, masks, weights
    if opts.rotation or opts.flip or opts.zoom > 0:
        angles = (
            torch.rand(n, generator=generator, dtype=torch.float64) * 360.0
            if opts.rotation
            else torch.zeros(n, dtype=torch.float64)
        )
        flips = torch.rand(n, generator=generator) < 0.5
        if not opts.flip:
            flips = torch.zeros(n, dtype=torch.bool)
        scales = None
        if opts.zoom > 0:
            scales = torch.exp(rand.uniform(generator, (n,), -opts.zoom, opts.zoom))
        stacked = torch.cat([images, masks, weights], dim=1)
        warped = warp_about_zenith(
            stacked, zenith=zenith, angles_deg=angles, flips=flips, scales=scales
        )
        lens = (warped[:, 4:5] >= 0.5) & (weights >= 0.5)
        out_weights = lens.to(images.dtype)
        out_masks = (warped[:, 3:4] >= 0.5).to(masks.dtype) * out_weights
        out_images = warped[:, :3] * out_weights
    if opts.brightness > 0 or opts.contrast > 0:
        shape = (n, 1, 1, 1)
        gain = 1.0 + (torch.rand(shape, generator=generator) * 2 - 1) * opts.brightness
        factor = 1.0 + (torch.rand(shape, generator=generator) * 2 - 1) * opts.contrast
        gain = gain.to(out_images.device, out_images.dtype)
        factor = factor.to(out_images.device, out_images.dtype)
        area = out_weights.sum(dim=(2, 3), keepdim=True).clamp_min(1.0)
        mean = (out_images * out_weights).sum(dim=(2, 3), keepdim=True) / area
        jittered = ((out_images - mean) * factor + mean) * gain
        out_images = jittered.clamp(0.0, 1.0) * out_weights
    if opts.randomises:
        out_images = randomise(out_images, opts, generator) * out_weights
    return out_images, out_masks, out_weights


def randomise(images: torch.Tensor, opts: Augmentation, generator: torch.Generator) -> torch.Tensor:
    """The domain randomisation steps of ``opts`` that are on, in their fixed order."""
    out = images
    if opts.colour > 0:
        out = rand.colour_jitter(out, opts.colour, generator)
    if opts.black > 0:
        out = rand.black_level(out, opts.black, generator)
    if opts.gamma > 0:
        out = rand.gamma_curve(out, opts.gamma, generator)
    if opts.noise > 0:
        out = rand.read_noise(out, opts.noise, generator)
    if opts.resolution > 0:
        out = rand.lower_resolution(out, opts.resolution, generator)
    if opts.jpeg > 0:
        out = rand.jpeg_round_trip(out, opts.jpeg, opts.jpeg_quality, generator)
    if opts.grey > 0:
        out = rand.to_grey(out, opts.grey, generator)
    return out
