"""The figure of a training report: the worst frames with truth and prediction outlines.

Drawn with Pillow alone (no matplotlib in the model layer): each frame is stretched for the
eye (its 1st to 99.5th percentile inside the lens, all channels together; a grey camera
shown grey), the labelled mask outlined in cyan and the predicted mask in magenta, with the
frame's name, split part and IoU underneath.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["PREDICTION_COLOUR", "TRUTH_COLOUR", "display_frame", "mask_outline", "tiles_figure"]

TRUTH_COLOUR = (0, 255, 255)
"""Outline of the labelled (true) aurora: cyan."""

PREDICTION_COLOUR = (255, 0, 255)
"""Outline of the predicted aurora: magenta."""

_CAPTION_PX = 30


def mask_outline(mask: NDArray[np.bool_], *, width: int = 1) -> NDArray[np.bool_]:
    """The pixels of ``mask`` with a 4-neighbour outside it, thickened to ``width`` pixels.

    Examples
    --------
    >>> m = np.zeros((5, 5), bool); m[1:4, 1:4] = True
    >>> mask_outline(m).astype(int)[2].tolist()
    [0, 1, 0, 1, 0]
    """
    m = np.asarray(mask, dtype=bool)
    inner = m.copy()
    inner[1:] &= m[:-1]
    inner[:-1] &= m[1:]
    inner[:, 1:] &= m[:, :-1]
    inner[:, :-1] &= m[:, 1:]
    edge = m & ~inner
    for _ in range(max(width, 1) - 1):
        grown = edge.copy()
        grown[1:] |= edge[:-1]
        grown[:-1] |= edge[1:]
        grown[:, 1:] |= edge[:, :-1]
        grown[:, :-1] |= edge[:, 1:]
        edge = grown
    return edge


def display_frame(frame: NDArray[Any], lens: NDArray[np.bool_] | None = None) -> NDArray[np.uint8]:
    """``(H, W, 3)`` uint8 for the eye: the 1st to 99.5th percentile inside the lens."""
    arr = np.asarray(frame, dtype=np.float32)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    inside = arr[lens] if lens is not None and lens.any() else arr.reshape(-1, arr.shape[-1])
    low, high = np.percentile(inside, [1.0, 99.5]) if inside.size else (0.0, 1.0)
    scaled = np.clip((arr - low) / max(float(high - low), 1e-6), 0.0, 1.0)
    if lens is not None:
        scaled[~lens] = 0.0
    rgb = np.repeat(scaled, 3, axis=2) if scaled.shape[2] == 1 else scaled[:, :, :3]
    return np.asarray(np.round(rgb * 255.0), dtype=np.uint8)


def _tile(
    frame: NDArray[Any],
    truth: NDArray[np.bool_],
    predicted: NDArray[np.bool_],
    lens: NDArray[np.bool_] | None,
    size: int,
) -> NDArray[np.uint8]:
    from PIL import Image

    height, width = truth.shape
    scale = size / max(height, width)
    shape = (max(1, round(width * scale)), max(1, round(height * scale)))
    picture = np.asarray(
        Image.fromarray(display_frame(frame, lens)).resize(shape, Image.Resampling.BILINEAR)
    )
    picture = picture.copy()
    line = max(1, size // 128)
    for mask, colour in ((truth, TRUTH_COLOUR), (predicted, PREDICTION_COLOUR)):
        small = (
            np.asarray(
                Image.fromarray(mask.astype(np.uint8) * 255).resize(shape, Image.Resampling.NEAREST)
            )
            > 127
        )
        picture[mask_outline(small, width=line)] = colour
    return picture


def tiles_figure(
    frames: Sequence[NDArray[Any]],
    truths: Sequence[NDArray[np.bool_]],
    predictions: Sequence[NDArray[np.bool_]],
    captions: Sequence[str],
    path: str | os.PathLike[str],
    *,
    lenses: Sequence[NDArray[np.bool_] | None] | None = None,
    tile: int = 256,
    columns: int = 4,
    title: str = "",
) -> Path:
    """Write frames with truth (cyan) and prediction (magenta) outlines as one PNG.

    Parameters
    ----------
    frames : sequence of (H, W, C) arrays
    truths, predictions : sequences of (H, W) bool arrays
    captions : sequence of str
        One line under each frame.
    path : path
        The PNG to write.
    lenses : sequence of (H, W) bool arrays or None, optional
        The sky of each frame (the stretch looks only there; outside is shown black).
    tile, columns : int
        Size in pixels of each frame's longer side, and frames per row.
    title : str
        A line above the frames (a legend is added).

    Returns
    -------
    pathlib.Path
    """
    from PIL import Image, ImageDraw

    count = len(frames)
    cols = max(1, min(columns, count))
    rows = max(1, -(-count // cols))
    head = 2 * _CAPTION_PX
    canvas = Image.new("RGB", (cols * tile, head + rows * (tile + _CAPTION_PX)), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    draw.text((6, 4), title, fill=(0, 0, 0))
    draw.text((6, 4 + _CAPTION_PX // 2 + 4), "outlines:", fill=(0, 0, 0))
    draw.text((80, 4 + _CAPTION_PX // 2 + 4), "labelled (truth)", fill=(0, 150, 150))
    draw.text((200, 4 + _CAPTION_PX // 2 + 4), "predicted", fill=(170, 0, 170))
    for k in range(count):
        lens = None if lenses is None else lenses[k]
        picture = _tile(frames[k], truths[k], predictions[k], lens, tile)
        left = (k % cols) * tile
        top = head + (k // cols) * (tile + _CAPTION_PX)
        canvas.paste(Image.fromarray(picture), (left, top))
        draw.text((left + 4, top + picture.shape[0] + 4), captions[k], fill=(0, 0, 0))
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(target)
    return target
