"""Magnetic coordinates and sky cells: AACGM-v2 and MLT, the equal-area cell grid, binning.

numpy kernels on arrays of positions, times and pixel labels: AACGM-v2 coordinates
(``aacgmv2``, offline) computed once per epoch, magnetic local time fast for millions of
times, the equal-area cell layout and the pixel -> cell labels, per-cell pixel sums, and
the MLT/year/season grouped sums that occurrence maps are made of.

Layer rule: ``geo`` imports :mod:`aurora_xr.sky`, :mod:`aurora_xr.errors` and
:mod:`aurora_xr._times` only.
"""

from __future__ import annotations
