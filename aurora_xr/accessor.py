"""The ``.aurora`` accessor on xarray objects.

The accessor only resolves names and forwards to the public functions of the
package; it holds no state and no science (xarray creates a new accessor
object for every Dataset).
"""

from __future__ import annotations

import xarray as xr

__all__ = ["AuroraDatasetAccessor", "AuroraDataArrayAccessor"]


@xr.register_dataset_accessor("aurora")
class AuroraDatasetAccessor:
    """Aurora tools on an image cube, a cell grid or an occurrence product."""

    def __init__(self, obj: xr.Dataset) -> None:
        self._obj = obj


@xr.register_dataarray_accessor("aurora")
class AuroraDataArrayAccessor:
    """Aurora tools on a single variable (frames, masks, rates)."""

    def __init__(self, obj: xr.DataArray) -> None:
        self._obj = obj
