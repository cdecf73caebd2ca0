"""How raw camera counts become display colours: one stretch for every figure.

* **Colour frames** (channels R, G, B; 8- or 16-bit) are shown linearly against the
  full scale of their dtype: ``value / full_scale * contrast`` (255 for uint8, 65535
  for uint16), clipped to [0, 1].
* **Single-channel frames** (one band, 8- or 16-bit) are shown in grey (the ``"gray"``
  colour map, ``GREY_CMAP`` of the figure style) through the robust black and
  white levels that the segmentation network's preprocessing uses
  (:func:`aurora_xr.model.levels.frame_levels`): on the sky pixels of what is shown (the
  frame, or the whole keogram), the black level is the 1st percentile and the white level
  the 99.5th, the span between them at least a tenth of the sensor's full scale (so a
  dark, empty sky is not stretched into bright noise); the grey level is
  ``(value - black) / span * contrast``, clipped to [0, 1]. Scientific imagers fill only
  part of their range (a 14-bit CCD in a 16-bit file, a dark sky at a few thousand
  counts), so the full scale would show them black; these levels follow the sky whatever
  the bit depth, while a few saturated stars or the Moon only clip. The figure shows a
  band as the network sees it.
* Floating-point values (probabilities, fractions) are shown on [0, 1] times
  ``contrast``.

``contrast`` is a gain: 2 shows everything twice as bright (half the span saturates).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import OptionError
from ..model.levels import frame_levels
from ._style import GREY_CMAP

__all__ = ["display_colours", "display_grey", "display_rgb", "grey_levels"]


def _check_contrast(contrast: float) -> None:
    if not contrast > 0:
        raise OptionError(f"contrast must be > 0; found {contrast}")


def display_rgb(frame: ArrayLike, contrast: float = 1.0) -> NDArray[np.float32]:
    """Float RGB in [0, 1] from a raw (..., 3) colour frame: ``value / full_scale * contrast``."""
    _check_contrast(contrast)
    arr = np.asarray(frame)
    scale = float(np.iinfo(arr.dtype).max) if np.issubdtype(arr.dtype, np.integer) else 1.0
    out = arr.astype(np.float32) * np.float32(contrast / scale)
    return np.clip(np.nan_to_num(out, nan=0.0), 0.0, 1.0)


def grey_levels(values: ArrayLike, sky: ArrayLike | None = None) -> tuple[float, float]:
    """Black level and span of single-channel counts (the robust levels of the model).

    Parameters
    ----------
    values : (H, W) ndarray of uint8 or uint16
        Raw counts: a frame, or any 2-D array of samples (a keogram).
    sky : (H, W) ndarray of bool, optional
        Which values see the sky; default all.

    Returns
    -------
    (float, float)
        ``(black, span)``: the 1st percentile of the sky values and the distance to the
        99.5th, at least a tenth of the sensor's full scale
        (:func:`aurora_xr.model.levels.frame_levels`).
    """
    arr = np.asarray(values)
    lens = None if sky is None else np.broadcast_to(np.asarray(sky, dtype=bool), arr.shape)
    black, span = frame_levels(arr[None, ..., None], lens=lens)
    return float(black[0]), float(span[0])


def display_grey(
    values: ArrayLike, contrast: float = 1.0, *, sky: ArrayLike | None = None
) -> NDArray[np.float32]:
    """Float RGB ``(..., 3)`` in [0, 1] of single-channel values through the grey stretch.

    Integer counts ``(H, W)`` are stretched with the levels of :func:`grey_levels` (of
    the ``sky`` values); floating-point values are taken on [0, 1]. Then ``contrast``
    and the ``"gray"`` colour map.
    """
    _check_contrast(contrast)
    arr = np.asarray(values)
    if np.issubdtype(arr.dtype, np.integer):
        black, span = grey_levels(arr, sky)
        level = (arr.astype(np.float64) - black) / span
    else:
        level = arr.astype(np.float64)
    level = np.clip(np.nan_to_num(level * contrast, nan=0.0), 0.0, 1.0)
    import matplotlib as mpl

    cmap = mpl.colormaps[GREY_CMAP]
    return np.asarray(cmap(level)[..., :3], dtype=np.float32)


def display_colours(
    frame: ArrayLike, contrast: float = 1.0, *, sky: ArrayLike | None = None
) -> NDArray[np.float32]:
    """Float RGB ``(..., 3)`` in [0, 1] of a raw ``(..., C)`` frame, colour or single-channel.

    ``C = 3``: :func:`display_rgb` (channels in R, G, B order); ``C = 1``:
    :func:`display_grey` with the ``sky`` mask of the frame's pixels ``(...)``.
    """
    arr = np.asarray(frame)
    if arr.shape[-1] == 3:
        return display_rgb(arr, contrast)
    if arr.shape[-1] == 1:
        return display_grey(arr[..., 0], contrast, sky=sky)
    raise OptionError(f"expected frames with 3 channels (R, G, B) or 1; found {arr.shape[-1]}")
