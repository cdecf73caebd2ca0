"""Datasets made in code: the synthetic sky of an all-sky camera (DESIGN §7).

:func:`synthetic_cube` makes an image cube of the data model with exact
aurora truth; :func:`synthetic_nights` puts many nights with their own seeds in
one cube (training and test sets); :func:`randomised_nights` makes the training
mix of the randomised sky (``realism="randomised"``: random cameras, colour and
single-channel, on random nights full of confounders), one cube per night;
:func:`write_synthetic_archive` writes the default sky as image files named
like a camera archive. The generator lives in :mod:`aurora_xr.synthetic`.
"""

from __future__ import annotations

from .synthetic import (
    ARCHIVE_SIDECAR,
    BANDS,
    CONDITIONS,
    DEFAULT_SINGLE_CHANNEL_FRACTION,
    DEFAULT_TIME_PATTERN,
    FRAME_SUFFIX,
    KIND_SUFFIX,
    MASK_SUFFIX,
    RANDOMISED_TRUTH_DEFINITION,
    REALISMS,
    SINGLE_BAND_SHARES,
    TRUTH_DEFINITION,
    CameraModel,
    NightScene,
    archive_path,
    frame_times,
    night_dates,
    randomised_nights,
    synthetic_cube,
    synthetic_nights,
    write_synthetic_archive,
)

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
    "NightScene",
    "archive_path",
    "frame_times",
    "night_dates",
    "randomised_nights",
    "synthetic_cube",
    "synthetic_nights",
    "write_synthetic_archive",
]
