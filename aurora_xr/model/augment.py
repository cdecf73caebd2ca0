"""Augmentation for all-sky frames (torch, training only).

An all-sky frame has no preferred "up" for a segmentation network: aurora
forms come at every azimuth. So the geometric augmentation turns the frame
about the *zenith pixel* (not the frame centre) by a random angle and mirrors
it about the vertical line through the zenith; image and mask go through the
same sampling grid, so they stay aligned, and the area outside the lens circle
stays masked (black, weight 0). A brightness and contrast jitter follows.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

__all__ = ["Augmentation", "augment_batch", "warp_about_zenith"]


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
    """

    rotation: bool = True
    flip: bool = True
    brightness: float = 0.2
    contrast: float = 0.2


def _inverse_matrices(angles_deg: torch.Tensor, flips: torch.Tensor) -> torch.Tensor:
    """(n, 2, 2) matrices taking an output offset from the zenith to the source offset.

    The forward map is ``turn(angle) @ mirror`` (mirror: x -> -x when
    flipped); its inverse is ``mirror @ turn(-angle)``.
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
    return mirror @ inv_rot


def warp_about_zenith(
    tensors: torch.Tensor,
    *,
    zenith: tuple[float, float],
    angles_deg: torch.Tensor,
    flips: torch.Tensor | None = None,
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

    Returns
    -------
    (n, c, H, W) tensor
        Bilinear resampling; pixels from outside the frame are 0.
    """
    n, _, height, width = tensors.shape
    if flips is None:
        flips = torch.zeros(n, dtype=torch.bool)
    inv = _inverse_matrices(angles_deg.cpu(), flips.cpu())
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
    """Augment a batch: rotation/mirror about the zenith, brightness and contrast.

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
    if opts.rotation or opts.flip:
        angles = (
            torch.rand(n, generator=generator, dtype=torch.float64) * 360.0
            if opts.rotation
            else torch.zeros(n, dtype=torch.float64)
        )
        flips = torch.rand(n, generator=generator) < 0.5
        if not opts.flip:
            flips = torch.zeros(n, dtype=torch.bool)
        stacked = torch.cat([images, masks, weights], dim=1)
        warped = warp_about_zenith(stacked, zenith=zenith, angles_deg=angles, flips=flips)
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
    return out_images, out_masks, out_weights
