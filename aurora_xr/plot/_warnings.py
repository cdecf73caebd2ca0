"""Warnings of the plotting layer (no matplotlib import here)."""

from __future__ import annotations

from ..errors import AuroraXrWarning

__all__ = ["MissingMapDataWarning"]


class MissingMapDataWarning(AuroraXrWarning):
    """Map data (Natural Earth coastlines) is not available offline; the layer is skipped.

    aurora_xr never downloads map data. Place the Natural Earth shapefiles under
    ``cartopy.config["data_dir"]/shapefiles/natural_earth/<category>/`` (or
    ``pre_existing_data_dir``) to have coastlines drawn.
    """
