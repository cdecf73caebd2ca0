"""One colour and type style for every aurora_xr figure."""

from __future__ import annotations

from typing import Final

__all__ = [
    "DEFAULT_ELEVATIONS",
    "DETECTOR_LABELS",
    "DIFFERENCE_COLOR",
    "FCN_COLOR",
    "GREY_CMAP",
    "GRID_DARK",
    "GRID_LIGHT",
    "NAN_EDGE",
    "NAN_FACE",
    "NAN_HATCH",
    "NAN_LABEL",
    "NONE_EDGE",
    "NONE_FACE",
    "NONE_LABEL",
    "SIZE_LABEL",
    "SIZE_SMALL",
    "SIZE_TITLE",
    "detector_label",
]

#: Elevation circles drawn on sky views and polar maps (degrees).
DEFAULT_ELEVATIONS: Final = (10, 20, 30, 40, 50, 60, 70, 80)

#: FCN mask overlay (magenta: stands out against green and red aurora).
FCN_COLOR: Final = "#ff2bd6"
#: Difference-method cells (cyan).
DIFFERENCE_COLOR: Final = "#22d3ff"

#: Cells without observations.
NAN_FACE: Final = "#d9d9d9"
NAN_EDGE: Final = "#9a9a9a"
NAN_HATCH: Final = "////"
NAN_LABEL: Final = "not observed"

#: Observed cells where a ratio is 0/0 (no aurora in either method).
NONE_FACE: Final = "#ffffff"
NONE_EDGE: Final = "#b3b3b3"
NONE_LABEL: Final = "no aurora in either method"

#: Colour map of single-channel frames (see :mod:`aurora_xr.plot.stretch`).
GREY_CMAP: Final = "gray"

#: Grid lines on a dark sky and on a white map.
GRID_DARK: Final = "#e8e8e8"
GRID_LIGHT: Final = "#4d4d4d"

SIZE_TITLE: Final = 10.0
SIZE_LABEL: Final = 8.5
SIZE_SMALL: Final = 7.0

DETECTOR_LABELS: Final = {
    "fcn": "FCN",
    "difference": "Difference method",
    "ratio": "FCN / difference",
}


def detector_label(detector: object) -> str:
    """Display name of a detector (``"fcn"`` -> ``"FCN"``)."""
    key = str(detector)
    return DETECTOR_LABELS.get(key.lower(), key)
