"""Cameras of the randomised synthetic sky: lens, channels, sensor and processing.

A :class:`CameraModel` is everything about one all-sky camera that does not
change from frame to frame: its lens circle on the frame (filling it, cut by
it or well inside it), north up or turned, seen mirrored or not; whether it
records colour or one band (:data:`~.spectra.BANDS`) and its spectral
response, colour cast and white balance; its DN range (8-bit with a gamma
curve, or 12/14/16-bit linear counts above a bias), the brightness of the dark
sky in those DN, its noise, hot pixels, rate of cosmic rays, vignetting,
optical blur and the resolution of its sensor, JPEG compression, text burnt
into its frames, and the landscape around it.

:func:`draw_camera` draws one from a generator in the proportions documented
in ``docs/concepts/synthetic_sky.md`` (:data:`SINGLE_BAND_SHARES` for the
single-channel imagers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..cube.build import CHANNELS
from ..errors import OptionError
from ..sky.lens import Calibration
from ._common import log_uniform
from .landscape import Landscape
from .spectra import BANDS, SIG, band_response, colour_response, luminance_response

__all__ = [
    "DEFAULT_SINGLE_CHANNEL_FRACTION",
    "SINGLE_BAND_SHARES",
    "CameraModel",
    "draw_camera",
]

DEFAULT_SINGLE_CHANNEL_FRACTION = 0.4
"""Share of single-channel cameras in a randomised training mix."""

SINGLE_BAND_SHARES = {"white": 0.5, "557.7nm": 0.25, "630.0nm": 0.15, "427.8nm": 0.1}
"""Shares of the bands among single-channel cameras (white light: THEMIS-type imagers,
cloud cameras and grey frames from colour cameras)."""

_LENS_KINDS = (("cut", 0.2), ("fit", 0.55), ("inside", 0.25))


@dataclass(frozen=True)
class CameraModel:
    """One camera of the randomised sky (hashable; see the module docstring).

    DN are those of the output frames. ``sky_level`` is the dark sky at the
    zenith (airglow and the flat sky, no moon, haze or aurora) in DN above the
    bias; with ``gamma > 1`` it is the value after the tone curve. A camera
    with ``auto_exposure > 0`` shortens its exposure when the sky is brighter
    than ``auto_exposure`` times the dark sky (moon, twilight, haze); with 0
    the exposure is fixed and a bright sky saturates.
    """

    key: int
    channels: tuple[str, ...] = CHANNELS
    response: tuple[tuple[float, ...], ...] = tuple(map(tuple, colour_response().tolist()))
    bits: int = 8
    bias: float = 2.0
    sky_level: float = 25.0
    gamma: float = 1.0
    snr: float = 12.0
    read_share: float = 0.5
    vignetting: float = 0.24
    hot_fraction: float = 1.5e-4
    cosmic_rate: float = 0.0
    jpeg_quality: int = 0
    upsample: int = 1
    blur_px: float = 0.0
    radius_frac: float = 0.94
    offset: tuple[float, float] = (0.0, 0.0)
    rotation_deg: float = 0.0
    mirrored: bool = False
    projection: str = "equidistant"
    tilt_deg: float = 0.0
    tilt_azimuth_deg: float = 0.0
    star_gain: float = 1.0
    auto_exposure: float = 0.0
    overlay: int = 0
    landscape: Landscape = field(default_factory=lambda: Landscape(key=0))

    def __post_init__(self) -> None:
        if len(self.channels) not in (1, 3) or len(self.response) != len(self.channels):
            raise OptionError(
                f"expected 1 or 3 channels with one response row each; found "
                f"{len(self.channels)} channels and {len(self.response)} rows"
            )
        if self.bits not in (8, 12, 14, 16):
            raise OptionError(f"expected bits of 8, 12, 14 or 16; found {self.bits!r}")
        if not 0.0 < self.sky_level < self.full_scale:
            raise OptionError(
                f"expected a sky level between 0 and {self.full_scale} DN; found {self.sky_level}"
            )
        if self.upsample < 1 or not 0.2 <= self.radius_frac <= 2.0:
            raise OptionError(
                f"expected upsample >= 1 and radius_frac in 0.2..2; found {self.upsample}, "
                f"{self.radius_frac}"
            )

    # -- what the camera writes ----------------------------------------------------------
    @property
    def dtype(self) -> type[np.unsignedinteger[Any]]:
        """uint8 for 8-bit cameras, uint16 otherwise."""
        return np.uint8 if self.bits == 8 else np.uint16

    @property
    def full_scale(self) -> float:
        """The largest value the camera writes."""
        return float(2**self.bits - 1)

    @property
    def matrix(self) -> NDArray[np.float64]:
        """The ``(C, 7)`` spectral response (see :mod:`.spectra`)."""
        return np.asarray(self.response, dtype=float)

    @property
    def single_channel(self) -> bool:
        return len(self.channels) == 1

    def exposure(self) -> float:
        """Linear DN (before the tone curve) per DN of the reference camera."""
        ref = self.matrix @ (SIG["sky_flat"] + SIG["airglow"])
        level = float(ref[1] if ref.size == 3 else ref[0])
        return self.linear_level(self.sky_level) / max(level, 1e-6)

    def linear_level(self, out: float) -> float:
        """The linear DN that the tone curve turns into ``out`` DN above the bias."""
        if self.gamma == 1.0:
            return out
        return self.full_scale * (out / self.full_scale) ** self.gamma

    def calibration(self, width: int, height: int) -> Calibration:
        """The lens of this camera on frames of ``width`` x ``height``."""
        radius = self.radius_frac * min(width, height) / 2.0
        zx = np.clip((width - 1) / 2.0 + self.offset[0] * width, 0.0, width - 1.0)
        zy = np.clip((height - 1) / 2.0 + self.offset[1] * height, 0.0, height - 1.0)
        return Calibration(
            width=int(width),
            height=int(height),
            zenith_x=float(zx),
            zenith_y=float(zy),
            lens_radius=float(radius),
            rotation_deg=float(self.rotation_deg),
            projection=self.projection,
            east_clockwise=bool(self.mirrored),
            tilt_deg=float(self.tilt_deg),
            tilt_azimuth_deg=float(self.tilt_azimuth_deg),
        )

    def describe(self) -> dict[str, Any]:
        """The camera as plain JSON-able values (for the cube's attributes)."""
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, Landscape):
                value = {k: getattr(value, k) for k in value.__dataclass_fields__}
            elif isinstance(value, tuple):
                value = [list(v) if isinstance(v, tuple) else v for v in value]
            out[name] = value
        return out


def _choice(rng: np.random.Generator, options: dict[str, float]) -> str:
    names = list(options)
    p = np.array([options[n] for n in names], dtype=float)
    return names[int(rng.choice(len(names), p=p / p.sum()))]


def _lens(rng: np.random.Generator) -> dict[str, Any]:
    kind = _choice(rng, dict(_LENS_KINDS))
    radius = {
        "cut": rng.uniform(1.03, 1.3),
        "fit": rng.uniform(0.86, 1.0),
        "inside": rng.uniform(0.45, 0.85),
    }[kind]
    spread = 0.06 if kind == "cut" else 0.03
    return dict(
        radius_frac=float(radius),
        offset=(float(rng.normal(0.0, spread)), float(rng.normal(0.0, spread))),
        rotation_deg=0.0 if rng.random() < 0.35 else float(rng.uniform(0.0, 360.0)),
        mirrored=bool(rng.random() < 0.25),
        projection="equisolid" if rng.random() < 0.3 else "equidistant",
        tilt_deg=float(rng.uniform(0.0, 2.0)),
        tilt_azimuth_deg=float(rng.uniform(0.0, 360.0)),
    )


def _landscape(rng: np.random.Generator) -> Landscape:
    return Landscape(
        key=int(rng.integers(0, 2**31)),
        hills=0.05 if rng.random() < 0.15 else log_uniform(rng, 0.2, 2.5),
        masts=int(min(rng.poisson(1.5), 5)),
        buildings=int(min(rng.poisson(3.0), 8)),
        trees=float(rng.uniform(4.0, 14.0)) if rng.random() < 0.2 else 0.0,
    )


def draw_camera(
    rng: np.random.Generator, *, channels: str | None = None, frame_size: int = 256
) -> CameraModel:
    """A random camera.

    Parameters
    ----------
    rng : numpy.random.Generator
        The camera's random stream.
    channels : {"colour", "single", "white", "557.7nm", "630.0nm", "427.8nm"}, optional
        What the camera records; None draws single-channel with probability
        :data:`DEFAULT_SINGLE_CHANNEL_FRACTION`.
    frame_size : int
        Shorter side of the frames (limits the resolution loss of coarse sensors).
    """
    if channels is None:
        channels = "single" if rng.random() < DEFAULT_SINGLE_CHANNEL_FRACTION else "colour"
    if channels not in ("colour", "single", *BANDS):
        raise OptionError(
            f"expected channels 'colour', 'single' or one of {BANDS}; found {channels!r}"
        )
    band = _choice(rng, SINGLE_BAND_SHARES) if channels == "single" else channels
    wb = (log_uniform(rng, 0.8, 1.3), 1.0, log_uniform(rng, 0.75, 1.35))
    colour = colour_response(
        white_balance=wb,
        crosstalk=float(rng.uniform(0.0, 0.25)),
        green_hue=float(rng.normal(0.0, 0.25)),
        saturation=float(rng.uniform(1.0, 1.8)),
    )
    from_colour = False
    names: tuple[str, ...] = CHANNELS
    if band == "colour":
        response = colour
    else:
        from_colour = band == "white" and rng.random() < 0.35  # grey frames of a colour camera
        response = luminance_response(colour) if from_colour else band_response(band)
        response = response * log_uniform(rng, 0.8, 1.25)
        names = (band,)
    eight_bit = rng.random() < (0.85 if band == "colour" else 0.3) or from_colour
    if eight_bit:
        bits = 8
        gamma = 1.0 if rng.random() < 0.3 else float(rng.uniform(1.6, 2.4))
        bias = float(rng.uniform(0.0, 12.0))
        sky = log_uniform(rng, 6.0, 70.0)
        jpeg = (
            int(rng.integers(60, 96)) if rng.random() < (0.55 if band == "colour" else 0.4) else 0
        )
    else:
        bits = int(rng.choice([12, 14, 16], p=[0.2, 0.4, 0.4]))
        full = 2.0**bits - 1
        gamma, jpeg = 1.0, 0
        bias = float(rng.uniform(0.01, 0.055) * full)
        sky = min(log_uniform(rng, 60.0, 12000.0), 0.35 * full)
    coarse = rng.random()
    upsample = 1 if coarse < 0.75 else (2 if coarse < 0.95 else 3)
    upsample = max(1, min(upsample, frame_size // 96))
    return CameraModel(
        key=int(rng.integers(0, 2**31)),
        channels=tuple(names),
        response=tuple(tuple(float(v) for v in row) for row in response),
        bits=bits,
        bias=bias,
        sky_level=float(sky),
        gamma=gamma,
        snr=log_uniform(rng, 5.0, 60.0),
        read_share=float(rng.uniform(0.1, 0.85)),
        vignetting=float(rng.uniform(0.0, 0.6)),
        hot_fraction=log_uniform(rng, 1e-5, 1e-3) if rng.random() < 0.7 else 0.0,
        cosmic_rate=0.0 if rng.random() < 0.5 else float(rng.uniform(0.5, 6.0)),
        jpeg_quality=jpeg,
        upsample=upsample,
        blur_px=0.0 if rng.random() < 0.65 else float(rng.uniform(0.3, 1.2)),
        star_gain=log_uniform(rng, 0.3, 2.5),
        auto_exposure=log_uniform(rng, 1.5, 6.0) if rng.random() < 0.6 else 0.0,
        overlay=0 if rng.random() < 0.45 else int(rng.integers(1, 5)),
        landscape=_landscape(rng),
        **_lens(rng),
    )
