"""Text, time stamps and logos burnt into the frames of a randomised camera.

Many archives carry the station name, the camera settings, a UT time stamp,
compass letters or an institute's logo in the image itself. A camera with
``overlay`` style 1-4 draws one of four layouts (corner captions, a time
stamp with a round logo, compass letters around the lens circle, a black
banner along the bottom), in white, yellow, green or grey, sized to the
frame. They are painted over the finished frame (after the tone curve, before
JPEG compression), and the pixels they cover are never aurora in the truth.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

from ..sky.lens import Calibration
from ._common import TAG_SCENE, rng_for

__all__ = ["Overlay", "overlay_for"]

F32 = NDArray[np.float32]

_COLOURS = ((1.0, 1.0, 1.0), (1.0, 0.92, 0.2), (0.3, 1.0, 0.35), (0.75, 0.75, 0.75))
_COVERS = 0.3
"""Overlay opacity above which a pixel shows no sky (and no aurora)."""


@functools.lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


@dataclass(frozen=True, eq=False)
class Overlay:
    """The overlay of one camera: a fixed part and a time stamp redrawn for every frame."""

    alpha: F32  # (H, W) opacity of the fixed part
    value: F32  # (H, W) brightness of the fixed part as a share of the colour (0: black)
    colour: tuple[float, float, float]  # share of the full scale in R, G, B
    stamp_at: tuple[int, int]  # (x, y) of the time stamp
    stamp_format: str  # strftime pattern
    font_size: int

    def frame_alpha(self, t_ns: int) -> tuple[F32, F32]:
        """Opacity and brightness ``(H, W)`` of the overlay at ``t_ns`` (ns since 1970)."""
        alpha = self.alpha.copy()
        value = self.value.copy()
        when = np.datetime64(int(t_ns), "ns").astype("datetime64[ms]").astype(object)
        text = when.strftime(self.stamp_format)
        font = _font(self.font_size)
        box = font.getbbox(text)
        x, y = self.stamp_at
        height, width = alpha.shape
        w, h = min(box[2] + 2, width - x), min(box[3] + 2, height - y)
        if w <= 0 or h <= 0:
            return alpha, value
        patch = Image.new("L", (w, h))
        ImageDraw.Draw(patch).text((0, 0), text, fill=255, font=font)
        stamp = np.asarray(patch, dtype=np.float32) * np.float32(1 / 255)
        region = alpha[y : y + h, x : x + w]
        np.maximum(region, stamp, out=region)
        lit = value[y : y + h, x : x + w]
        np.maximum(lit, stamp, out=lit)
        return alpha, value

    @staticmethod
    def covers(alpha: F32) -> NDArray[np.bool_]:
        """Pixels where the overlay hides the sky."""
        return alpha > _COVERS


def overlay_for(style: int, cal: Calibration, key: int, station_code: str) -> Overlay | None:
    """The overlay of a camera of ``style`` (0: none) with lens ``cal``."""
    if style <= 0:
        return None
    rng = rng_for(key, TAG_SCENE, 91)
    width, height = cal.width, cal.height
    size = max(8, round(min(width, height) / rng.uniform(18.0, 30.0)))
    font = _font(size)
    canvas = Image.new("L", (width, height))
    shade = Image.new("L", (width, height))
    draws = (ImageDraw.Draw(canvas), ImageDraw.Draw(shade))
    colour = _COLOURS[int(rng.integers(0, len(_COLOURS)))]
    pad = max(2, size // 3)
    line = size + pad
    pattern = "%Y-%m-%d %H:%M:%S UT"

    def text(xy: tuple[float, float], words: str) -> None:
        for d in draws:
            d.text(xy, words, fill=255, font=font)

    if style == 1:  # corner captions
        text((pad, pad), f"{station_code} all-sky imager")
        text((pad, pad + line), f"exp {rng.uniform(0.5, 20.0):.1f} s  gain {rng.integers(1, 30)}")
        stamp = (pad, height - line - pad)
    elif style == 2:  # stamp top right, round logo bottom right
        stamp = (max(pad, width - 12 * size - pad), pad)
        r = 1.6 * size
        cx, cy = width - r - pad, height - r - pad
        for d in draws:
            d.ellipse((cx - r, cy - r, cx + r, cy + r), outline=255, width=max(1, size // 6))
        text((cx - 0.8 * size, cy - 0.55 * size), station_code[:3])
        pattern = "%H:%M:%S"
    elif style == 3:  # compass letters around the lens circle, stamp at the bottom
        sign = -1.0 if cal.east_clockwise else 1.0
        r = min(cal.lens_radius + 0.6 * size, 0.5 * min(width, height) - size)
        for k, letter in enumerate("NESW"):
            a = np.radians(cal.rotation_deg + sign * 90.0 * k)  # counter-clockwise from up
            x, y = cal.zenith_x - r * np.sin(a), cal.zenith_y - r * np.cos(a)
            text((x - size / 3, y - size / 2), letter)
        stamp = (max(pad, width // 2 - 6 * size), height - line - pad)
        pattern = "%d/%m/%Y %H:%M"
    else:  # a black banner along the bottom, a logo block at the top left
        draws[0].rectangle((0, height - line - 2 * pad, width, height), fill=255)
        for d in draws:
            d.rectangle((pad, pad, pad + 2 * size, pad + 2 * size), outline=255, width=2)
        text((pad + size // 3, pad + size // 2), "AS")
        stamp = (pad, height - line - pad)
        pattern = "%Y%m%d_%H%M%S"
    alpha = np.asarray(canvas, dtype=np.float32) * np.float32(1 / 255)
    value = np.asarray(shade, dtype=np.float32) * np.float32(1 / 255)
    return Overlay(
        alpha=alpha,
        value=value,
        colour=colour,
        stamp_at=(int(max(0, stamp[0])), int(max(0, stamp[1]))),
        stamp_format=pattern,
        font_size=size,
    )
