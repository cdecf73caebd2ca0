"""Interactive browsers for JupyterLab (ipywidgets + matplotlib).

``import aurora_xr`` does not import this subpackage: ipywidgets and
matplotlib are loaded when ``aurora_xr.widgets`` is first imported.

The widgets call only the public API of :mod:`aurora_xr` and the figures of
:mod:`aurora_xr.plot`; they compute no science. Each figure is drawn with
matplotlib off screen and shown as a PNG in an :class:`ipywidgets.Image`, so
they work with the default (inline) backend, need no ipympl, and their state
can be driven from Python (tests, scripts) as well as from the browser.

Classes
-------
SkyBrowser
    Frames of an image cube: time slider with player, date picker, overlays of
    the FCN mask, the difference method's cells and elevation circles,
    contrast. Only the frame shown is computed, however long the cube.
OccurrenceExplorer
    Occurrence maps: MLT slider, method / ratio toggle, year and season,
    colour range, export of the map shown to PNG and NetCDF.
MethodComparison
    FCN, difference method and their ratio side by side for one MLT bin, with
    precision / recall / F1 against the truth when the comparison has them.
LabelTool
    Draw aurora masks on frames (polygon, brush, eraser, undo, zoom, contrast,
    the model's probability as a pre-label), save standard mask PNGs and a COCO
    file, and pick the next frame to label by model uncertainty (an anywidget
    canvas: drawing runs in the browser).

Every widget shows itself when it is the last expression of a cell; its
controls are public attributes (``.mlt_slider``, ``.time_slider`` ...), its
current figure is ``.figure`` and the whole layout ``.widget``.
"""

from __future__ import annotations

from ._base import FigureView
from .comparison import MethodComparison
from .labeltool import LabelTool
from .occurrence import OccurrenceExplorer
from .sky import SkyBrowser

__all__ = ["FigureView", "LabelTool", "MethodComparison", "OccurrenceExplorer", "SkyBrowser"]
