"""Datasets made in code: the synthetic sky of an all-sky camera (DESIGN §7).

:func:`synthetic_cube` makes an image cube of the data model with exact
aurora truth; :func:`synthetic_nights` puts many nights with their own seeds in
one cube (training and test sets); :func:`write_synthetic_archive` writes the
same sky as image files named like a camera archive. The generator lives in
:mod:`aurora_xr.synthetic`.
"""

from __future__ import annotations

from .synthetic import (
    ARCHIVE_SIDECAR,
    DEFAULT_TIME_PATTERN,
    FRAME_SUFFIX,
    KIND_SUFFIX,
    MASK_SUFFIX,
    TRUTH_DEFINITION,
    archive_path,
    frame_times,
    night_dates,
    synthetic_cube,
    synthetic_nights,
    write_synthetic_archive,
)

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
