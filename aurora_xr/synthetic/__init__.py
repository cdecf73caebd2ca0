"""The synthetic sky: realistic all-sky frames with exact aurora truth (DESIGN §7).

Public functions are re-exported by :mod:`aurora_xr.datasets`.

Modules: :mod:`.ephemeris` (sidereal time, sun, moon), :mod:`.static`
(layers computed once per station and frame size: geometry, airglow, light
dome, silhouette, vignetting, Milky Way, star catalogue, seed textures),
:mod:`.aurora` (the MLT-dependent auroral process and its emission),
:mod:`.render` (the numpy frame kernel and the truth), :mod:`.builder`
(:func:`synthetic_cube`), :mod:`.nights` (:func:`synthetic_nights`: training and test
sets of many nights) and :mod:`.archive` (:func:`write_synthetic_archive`).
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
from .builder import TRUTH_DEFINITION, frame_times, synthetic_cube
from .nights import night_dates, synthetic_nights

__all__ = [
    "ARCHIVE_SIDECAR",
    "DEFAULT_TIME_PATTERN",
    "FRAME_SUFFIX",
    "KIND_SUFFIX",
    "MASK_SUFFIX",
    "TRUTH_DEFINITION",
    "archive_path",
    "frame_times",
    "night_dates",
    "synthetic_cube",
    "synthetic_nights",
    "write_synthetic_archive",
]
