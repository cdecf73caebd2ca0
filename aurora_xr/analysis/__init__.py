"""From detections to science: cell detections, occurrence maps, comparisons, keograms, views.

Pure, lazy reductions of what the detectors found: per-cell detections, occurrence rates per
MLT bin and cell, the comparison of the FCN with the difference method (with skill scores
against a truth), keograms along the magnetic meridian and frames resampled to the
geomagnetic view.

Layer rule: ``analysis`` imports ``detect``, ``io``, ``cube``, ``geo`` and ``sky``.
"""

from __future__ import annotations
