"""Detectors on image cubes: lazy segmentation, the difference method, usable frames.

:func:`~aurora_xr.detect.segmentation.segment` runs a segmentation model over a cube's
dask chunks (the model itself lives in :mod:`aurora_xr.model`, imported only when a
checkpoint is given); :func:`~aurora_xr.detect.difference.difference_detect` is the
image-difference method of Jee et al. (2021); :func:`~aurora_xr.detect.usable.usable_frames`
screens frames; :mod:`~aurora_xr.detect.store` writes long segmentations region by region.

Layer rule: ``detect`` imports ``cube``, ``io``, ``geo`` and ``sky`` (and ``model`` lazily,
inside functions, so that importing it loads no torch).
"""

from __future__ import annotations
