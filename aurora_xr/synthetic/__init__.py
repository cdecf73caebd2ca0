"""The synthetic sky: realistic all-sky frames with exact aurora truth (DESIGN §7).

Public functions are re-exported by :mod:`aurora_xr.datasets`.

Modules, from the sky to the files:

* :mod:`.ephemeris`: sidereal time, the Sun and the Moon;
* :mod:`.static`: layers computed once per station and frame size (geometry,
  airglow, light dome, silhouette, vignetting, Milky Way, star catalogue) or
  once per seed (textures, noise bank);
* :mod:`.stars`: the stars above the horizon of a frame, drawn with a PSF;
* :mod:`.weather`: drifting clouds and the airglow level over time;
* :mod:`.skylight`: twilight and moonlight;
* :mod:`.auroral_forms`: the MLT-dependent auroral process (which forms, when,
  where); :mod:`.auroral_emission`: how they look (field-aligned emission seen
  along each line of sight);
* :mod:`.truth`: the visible aurora outlined into ``aurora_truth``/``aurora_kind``;
* :mod:`.render`: the numpy frame kernel that puts the layers together;
* :mod:`.options`: checked options and frame times; :mod:`.builder`:
  :func:`synthetic_cube`; :mod:`.nights`: :func:`synthetic_nights` (training and
  test sets of many nights) and :func:`randomised_nights`; :mod:`.archive`:
  :func:`write_synthetic_archive`.

The randomised sky (``realism="randomised"``, the training mix of
``docs/concepts/synthetic_sky.md``) adds, from the camera to the frame:

* :mod:`.cameras`: :class:`CameraModel` (lens, channels, sensor, processing),
  :mod:`.landscape` (horizons), :mod:`.spectra` (the spectral basis and the
  cameras' responses), :mod:`.sensor` (blur, resolution, noise, tone, JPEG),
  :mod:`.overlays` (text and logos), :mod:`.camera_layers` (per-camera layers);
* :mod:`.night_scene`: :class:`NightScene` (what a night holds),
  :mod:`.light_pollution`, :mod:`.dome` (snow, frost), :mod:`.sky_glow`
  (twilight, zodiacal light, the Moon), :mod:`.transients` (meteors,
  satellites, aircraft, cosmic rays);
* :mod:`.auroral_variety` (every kind of auroral form), :mod:`.magnetic_lookup`
  (magnetic geometry of any lens) and :mod:`.randomised_sky` (the frame kernel).
"""

from __future__ import annotations

from .archive import (
    ARCHIVE_SIDECAR,
    DEFAULT_TIME_PATTERN,
    FRAME_SUFFIX,
    KIND_SUFFIX,
    MASK_SUFFIX,
    archive_path,
    write_synthetic_archive,
)
from .builder import synthetic_cube
from .cameras import (
    DEFAULT_SINGLE_CHANNEL_FRACTION,
    SINGLE_BAND_SHARES,
    CameraModel,
    draw_camera,
)
from .landscape import Landscape
from .night_scene import LightSource, NightScene, draw_scene
from .nights import night_dates, randomised_nights, synthetic_nights
from .options import REALISMS, frame_times
from .randomised_sky import CONDITIONS
from .spectra import BANDS
from .truth import RANDOMISED_TRUTH_DEFINITION, TRUTH_DEFINITION

__all__ = [
    "ARCHIVE_SIDECAR",
    "BANDS",
    "CONDITIONS",
    "DEFAULT_SINGLE_CHANNEL_FRACTION",
    "DEFAULT_TIME_PATTERN",
    "FRAME_SUFFIX",
    "KIND_SUFFIX",
    "MASK_SUFFIX",
    "RANDOMISED_TRUTH_DEFINITION",
    "REALISMS",
    "SINGLE_BAND_SHARES",
    "TRUTH_DEFINITION",
    "CameraModel",
    "Landscape",
    "LightSource",
    "NightScene",
    "archive_path",
    "draw_camera",
    "draw_scene",
    "frame_times",
    "night_dates",
    "randomised_nights",
    "synthetic_cube",
    "synthetic_nights",
    "write_synthetic_archive",
]
