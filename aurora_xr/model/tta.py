"""Test-time augmentation: average the network over mirrored and rotated skies.

An all-sky image has no preferred orientation for the network: the training
augmentation rotates frames about the zenith by any angle and mirrors them.
At inference the same network can therefore look at a frame in several
orientations and average what it sees, which smooths the stride-8 output
and corrects part of its orientation-dependent errors.

The views are the mirror images and quarter turns of the network input
(:func:`torch.flip`, :func:`torch.rot90`), each exact on the pixel grid, so
no resampling blurs them; a quarter turn about the image centre is a turn
about the zenith followed by a shift, to which the fully convolutional
network is equivariant. Every view's probabilities are turned back before
they are averaged.

Modes
-----
``"none"``
    One pass (the default everywhere).
``"flip"``
    The frame and its mirror image: 2 passes.
``"dihedral"``
    The four quarter turns of the frame and of its mirror image (the
    dihedral group of the square): 8 passes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import OptionError

if TYPE_CHECKING:  # only tensor methods are used: the command line can offer the
    import torch  # modes without loading torch

__all__ = ["TTA_MODES", "averaged_probabilities", "check_tta", "tta_views"]

TTA_MODES = ("none", "flip", "dihedral")
"""Test-time augmentation modes, by the number of passes they cost: 1, 2, 8."""

View = tuple[int, bool]
"""A view: quarter turns (0-3) counter-clockwise, after an optional mirror."""


def check_tta(mode: str) -> str:
    """``mode`` if it is a known test-time augmentation mode, else an OptionError."""
    if mode not in TTA_MODES:
        raise OptionError(f"tta must be one of {TTA_MODES}, found {mode!r}")
    return mode


def tta_views(mode: str) -> list[View]:
    """The (quarter turns, mirrored) views of ``mode``; the identity comes first."""
    check_tta(mode)
    if mode == "none":
        return [(0, False)]
    if mode == "flip":
        return [(0, False), (0, True)]
    return [(turns, mirror) for mirror in (False, True) for turns in range(4)]


def _forward(view: View, x: torch.Tensor) -> torch.Tensor:
    turns, mirror = view
    if mirror:
        x = x.flip(-1)
    return x.rot90(turns, dims=(-2, -1)) if turns else x


def _backward(view: View, y: torch.Tensor) -> torch.Tensor:
    turns, mirror = view
    if turns:
        y = y.rot90(-turns, dims=(-2, -1))
    return y.flip(-1) if mirror else y


def averaged_probabilities(
    logits_of: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, mode: str
) -> torch.Tensor:
    """Mean sigmoid probability of the views of ``x`` (float32, the shape of the logits).

    Parameters
    ----------
    logits_of : callable
        ``(n, C, H, W)`` input to ``(n, 1, H, W)`` (or ``(n, H, W)``) logits at
        the input size; called once per view.
    x : (n, C, H, W) tensor
        The normalised network input.
    mode : {"none", "flip", "dihedral"}
        The views to average.
    """
    views = tta_views(mode)
    total: torch.Tensor | None = None
    for view in views:
        prob = logits_of(_forward(view, x)).float().sigmoid()
        prob = _backward(view, prob)
        total = prob if total is None else total + prob
    assert total is not None
    return total / len(views)
