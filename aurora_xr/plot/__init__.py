"""Figures of aurora_xr (matplotlib; cartopy for geographic maps).

``import aurora_xr`` does not import this subpackage: matplotlib is loaded
when ``aurora_xr.plot`` is first imported, cartopy only when a map is drawn.

Every polar figure uses the geomagnetic view, looking up: magnetic north at
the top, magnetic east on the left. Single-panel functions return their
Axes and accept ``ax=``; multi-panel functions return the Figure. The sky
figures work with either kind of camera calibration (an analytic lens or an
operator's per-pixel skymap) and with colour or single-channel frames (8- or
16-bit; one band is shown in grey, stretched between percentiles of the sky:
see :mod:`aurora_xr.plot.stretch`).

Modules: :mod:`~aurora_xr.plot.sky` (one frame, three panels),
:mod:`~aurora_xr.plot.occurrence` (one MLT bin), :mod:`~aurora_xr.plot.mlt_grid`
(every MLT bin), :mod:`~aurora_xr.plot.comparison` (the two detectors),
:mod:`~aurora_xr.plot.maps` and :mod:`~aurora_xr.plot.basemap` (geographic maps),
:mod:`~aurora_xr.plot.keograms`, :mod:`~aurora_xr.plot.starcal`.

Functions
---------
plot_sky
    One frame with the FCN mask and the difference method's cells.
plot_three_panel
    The "image / difference method / FCN" figure.
plot_occurrence
    Polar occurrence map of one MLT bin.
plot_occurrence_grid
    The maps of all MLT bins, one block per method, one colour bar.
plot_comparison
    FCN vs difference method (output of ``compare_methods``).
plot_cell_map
    Cartopy map of the cells at emission altitude.
plot_keogram
    Keogram along the magnetic meridian.
"""

from __future__ import annotations

from ._warnings import MissingMapDataWarning
from .basemap import natural_earth_path
from .comparison import plot_comparison
from .keograms import plot_keogram
from .maps import plot_cell_map
from .mlt_grid import plot_occurrence_grid
from .occurrence import plot_occurrence
from .sky import plot_sky, plot_three_panel

__all__ = [
    "MissingMapDataWarning",
    "natural_earth_path",
    "plot_cell_map",
    "plot_comparison",
    "plot_keogram",
    "plot_occurrence",
    "plot_occurrence_grid",
    "plot_sky",
    "plot_three_panel",
]
