"""One colour and type style for every aurora_xr figure."""

from __future__ import annotations

from typing import Final

__all__ = [
    "DEFAULT_ELEVATIONS",
    "DIFFERENCE_COLOR",
    "FCN_COLOR",
    "GRID_DARK",
    "GRID_LIGHT",
    "METHOD_LABELS",
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
    "method_label",
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

#: Grid lines on a dark sky and on a white map.
GRID_DARK: Final = "#e8e8e8"
GRID_LIGHT: Final = "#4d4d4d"

SIZE_TITLE: Final = 10.0
SIZE_LABEL: Final = 8.5
SIZE_SMALL: Final = 7.0

METHOD_LABELS: Final = {
    "fcn": "FCN",
    "difference": "Difference method",
    "ratio": "FCN / difference",
}


def method_label(method: object) -> str:
    """Display name of a detection method (``"fcn"`` -> ``"FCN"``)."""
    key = str(method)
    return METHOD_LABELS.get(key.lower(), key)
