"""The sensor and processing of a randomised camera: from light to the DN it writes.

In order, on ``(C, H, W)`` float32 planes of linear DN above the bias:

1. **optics**: a blur of ``blur_px`` (sigma, pixels; focus, a misted dome),
   as repeated ``[a, 1 - 2a, a]`` passes along both axes;
2. **resolution**: a coarse sensor (``upsample`` = k) sees k x k blocks, and
   its frames are scaled up to the output size (blocks, softened);
3. **noise**: shot and read noise, ``sigma**2 = read**2 + gain * S``, drawn at
   the sensor's own resolution from a per-seed bank of deviates;
   hot pixels (fixed per camera) and cosmic rays (per frame);
4. **tone**: 8-bit consumer cameras apply a gamma curve (a lookup table);
   scientific cameras are linear; then the bias, rounding and clipping to the
   camera's bit depth;
5. **JPEG** compression at the camera's quality (8-bit only).

:func:`tone` is the same curve without noise, used by the truth (what the
aurora adds to the noise-free value of a pixel).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from ._common import TAG_NOISE, rng_for
from .cameras import CameraModel

__all__ = ["Sensor", "sensor_for"]

F32 = NDArray[np.float32]
_LUT_SIZE = 4096


@dataclass(frozen=True, eq=False)
class Sensor:
    """The fixed state of one camera's sensor (see the module docstring)."""

    camera: CameraModel
    span: float  # full scale less the bias (linear DN)
    read: float  # read noise (DN)
    gain: float  # shot-noise variance per DN of signal
    lut: F32 | None  # tone curve on sqrt(signal / span), None for linear cameras
    hot_index: NDArray[np.int64]  # flat (C*H*W) indices
    hot_value: F32
    blur: tuple[float, ...]  # the ``a`` of each blur pass

    def smooth(self, planes: F32) -> F32:
        """Optics and resolution applied to linear ``(C, H, W)`` planes (maybe a new array)."""
        for a in self.blur:
            planes = _three_tap(planes, a)
        k = self.camera.upsample
        if k > 1:
            planes = upscale(downscale(planes, k), k, planes.shape[1:])
        return planes

    def tone(self, linear: F32) -> F32:
        """Noise-free output DN above the bias of linear DN ``linear`` (clipped to the range)."""
        x = np.clip(linear, 0.0, self.span)
        if self.lut is None:
            return x
        x *= np.float32(1.0 / self.span)
        np.sqrt(x, out=x)
        x *= np.float32(_LUT_SIZE - 1)
        return self.lut[x.astype(np.int32)]

    def inverse(self, out: float) -> float:
        """The linear DN that :meth:`tone` turns into ``out`` DN above the bias."""
        if self.lut is None:
            return float(out)
        return float(self.span * (min(max(out, 0.0), self.span) / self.span) ** self.camera.gamma)

    def noise(self, linear: F32) -> F32:
        """One sigma of the noise (linear DN) at linear DN ``linear``."""
        var = np.maximum(linear, np.float32(0.0)) * np.float32(self.gain)
        var += np.float32(self.read**2)
        return np.sqrt(var, out=var)

    def expose(
        self,
        planes: F32,
        bank: F32,
        offset: int,
        cosmic: tuple[NDArray[np.int64], F32],
    ) -> F32:
        """Noisy output DN (float, bias included, before rounding) of linear ``planes``.

        ``planes`` (at the output resolution, after :meth:`smooth`) is overwritten.
        """
        k = self.camera.upsample
        native = downscale(planes, k) if k > 1 else planes
        noise = bank[offset : offset + native.size].reshape(native.shape)
        sigma = np.maximum(native, np.float32(0.0)) * np.float32(self.gain)
        sigma += np.float32(self.read**2)
        np.sqrt(sigma, out=sigma)
        sigma *= noise
        if k > 1:
            planes += upscale(sigma, k, planes.shape[1:])
        else:
            planes += sigma
        flat = planes.reshape(-1)
        if self.hot_index.size:
            flat[self.hot_index] += self.hot_value
        if cosmic[0].size:  # a cosmic ray hits one colour of the mosaic
            flat[cosmic[0] + (cosmic[0] % planes.shape[0]) * planes[0].size] += cosmic[1]
        out = self.tone(planes)
        out += np.float32(self.camera.bias)
        return out

    def write(self, values: F32, out: NDArray[np.unsignedinteger]) -> None:
        """Round and clip output DN ``(C, H, W)`` into the frame ``out`` ``(H, W, C)``."""
        values += np.float32(0.5)
        np.clip(values, 0.0, self.camera.full_scale, out=values)
        for c in range(values.shape[0]):
            out[..., c] = values[c]
        if self.camera.jpeg_quality > 0:
            out[...] = jpeg(out, self.camera.jpeg_quality)


def _three_tap(planes: F32, a: float) -> F32:
    out = planes * np.float32(1.0 - 2.0 * a)
    wa = np.float32(a)
    out[:, :, 1:] += wa * planes[:, :, :-1]
    out[:, :, :-1] += wa * planes[:, :, 1:]
    out[:, :, 0] += wa * planes[:, :, 0]
    out[:, :, -1] += wa * planes[:, :, -1]
    tmp = out * np.float32(1.0 - 2.0 * a)
    tmp[:, 1:, :] += wa * out[:, :-1, :]
    tmp[:, :-1, :] += wa * out[:, 1:, :]
    tmp[:, 0, :] += wa * out[:, 0, :]
    tmp[:, -1, :] += wa * out[:, -1, :]
    return tmp


def downscale(planes: F32, k: int) -> F32:
    """Means of ``k`` x ``k`` blocks of ``(C, H, W)`` planes (edges padded)."""
    c, h, w = planes.shape
    hh, ww = -(-h // k) * k, -(-w // k) * k
    if (hh, ww) != (h, w):
        planes = np.pad(planes, ((0, 0), (0, hh - h), (0, ww - w)), mode="edge")
    out = planes.reshape(c, hh // k, k, ww // k, k).mean(axis=(2, 4), dtype=np.float32)
    return np.ascontiguousarray(out, dtype=np.float32)


def upscale(planes: F32, k: int, shape: tuple[int, ...]) -> F32:
    """Blocks of ``k`` x ``k`` pixels, softened by one pass, cropped to ``shape`` (H, W)."""
    big = np.repeat(np.repeat(planes, k, axis=1), k, axis=2)[:, : shape[0], : shape[1]]
    return _three_tap(np.ascontiguousarray(big), 0.22)


def jpeg(frame: NDArray[np.unsignedinteger], quality: int) -> NDArray[np.uint8]:
    """``frame`` (H, W, C) uint8 after JPEG compression at ``quality``."""
    image = Image.fromarray(frame[..., 0] if frame.shape[-1] == 1 else frame)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=int(quality))
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        out = np.asarray(decoded)
    return out.reshape(frame.shape)


def sensor_for(camera: CameraModel, shape: tuple[int, int], inside: NDArray[np.bool_]) -> Sensor:
    """The sensor of ``camera`` for frames of ``shape`` with the lens circle ``inside``."""
    n_c = len(camera.channels)
    span = camera.full_scale - camera.bias
    sky = camera.linear_level(camera.sky_level)
    sigma = sky / camera.snr
    if camera.gamma != 1.0:  # the camera's SNR is that of the output: noise before the curve
        sigma = camera.linear_level(camera.sky_level + camera.sky_level / camera.snr) - sky
    read = camera.read_share * sigma
    gain = (sigma**2 - read**2) / max(sky, 1e-6)
    lut = None
    if camera.gamma != 1.0:
        u = np.linspace(0.0, 1.0, _LUT_SIZE)
        lut = (span * (u * u) ** (1.0 / camera.gamma)).astype(np.float32)
    rng = rng_for(camera.key, TAG_NOISE, *shape)
    lit = np.flatnonzero(inside)
    n_hot = round(camera.hot_fraction * lit.size)
    pix = rng.choice(lit, n_hot, replace=False) if n_hot and lit.size else np.zeros(0, np.int64)
    plane = rng.integers(0, n_c, pix.size)
    hot_index = (plane * (shape[0] * shape[1]) + pix).astype(np.int64)
    hot_value = (span * rng.uniform(0.03, 1.0, pix.size) ** 2).astype(np.float32)
    blur: tuple[float, ...] = ()
    if camera.blur_px > 0.0:
        passes = int(np.ceil(camera.blur_px**2 / 0.5))
        blur = (camera.blur_px**2 / (2.0 * passes),) * passes
    return Sensor(camera, span, read, gain, lut, hot_index, hot_value, blur)
