"""The ``.aurora`` accessor on xarray objects.

The accessor only forwards to the public functions of the package (each of
which also works without it); it holds no state and no science, since xarray
creates a new accessor object for every Dataset. Plotting functions are
imported when first called, so ``import aurora_xr`` loads no matplotlib.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import xarray as xr

from .analysis import compare as _compare
from .analysis import cube_occurrence as _cube_occurrence
from .analysis import detections as _detections
from .analysis import keograms as _keogram
from .analysis import views as _views
from .cube import calibrate as _calibrate
from .cube import conditions as _conditions
from .cube import coords as _coords
from .cube import frames as _frames
from .cube import grid as _grid
from .detect import difference as _difference
from .detect import segmentation as _segment
from .detect import store as _segment_store
from .detect import usable as _usable
from .io import netcdf as _netcdf
from .io import products as _products

__all__ = ["AuroraDataArrayAccessor", "AuroraDatasetAccessor"]

F = TypeVar("F", bound=Callable[..., Any])


def _forward(func: Callable[..., Any]) -> Callable[[F], F]:
    """Give an accessor method the name and docstring of the function it calls."""

    def decorate(method: F) -> F:
        method.__doc__ = func.__doc__
        return method

    return decorate


def _plot(name: str) -> Callable[..., Any]:
    from . import plot  # matplotlib is loaded here, on first use

    return getattr(plot, name)


@xr.register_dataset_accessor("aurora")
class AuroraDatasetAccessor:
    """Aurora tools on an image cube, a cell grid or an occurrence product.

    Every method forwards to a function of :mod:`aurora_xr` of the same name
    (see its documentation), with this Dataset as the first argument.
    """

    def __init__(self, obj: xr.Dataset) -> None:
        self._obj = obj

    # -- geometry and magnetic coordinates ----------------------------------
    @_forward(_grid.cell_grid)
    def cells(self, **kwargs: Any) -> xr.Dataset:
        return _grid.cell_grid(self._obj, **kwargs)

    @_forward(_calibrate.with_calibration)
    def with_calibration(self, calibration: Any, **kwargs: Any) -> xr.Dataset:
        return _calibrate.with_calibration(self._obj, calibration, **kwargs)

    @_forward(_coords.geo_coords)
    def geo_coords(self, **kwargs: Any) -> xr.Dataset:
        return _coords.geo_coords(self._obj, **kwargs)

    @_forward(_coords.magnetic_coords)
    def magnetic_coords(self, **kwargs: Any) -> xr.Dataset:
        return _coords.magnetic_coords(self._obj, **kwargs)

    @_forward(_frames.mlt)
    def mlt(self, **kwargs: Any) -> xr.DataArray:
        return _frames.mlt(self._obj, **kwargs)

    @_forward(_frames.sun_elevation)
    def sun_elevation(self, **kwargs: Any) -> xr.DataArray:
        return _frames.sun_elevation(self._obj, **kwargs)

    @_forward(_frames.moon)
    def moon(self, **kwargs: Any) -> xr.Dataset:
        return _frames.moon(self._obj, **kwargs)

    @_forward(_views.to_magnetic_view)
    def to_magnetic_view(self, **kwargs: Any) -> xr.Dataset:
        return _views.to_magnetic_view(self._obj, **kwargs)  # type: ignore[return-value]

    @_forward(_keogram.keogram)
    def keogram(self, **kwargs: Any) -> xr.DataArray:
        return _keogram.keogram(self._obj, **kwargs)

    @_forward(_usable.usable_frames)
    def usable_frames(self, **kwargs: Any) -> Any:
        return _usable.usable_frames(self._obj, **kwargs)

    @_forward(_conditions.attach_conditions)
    def attach_conditions(self, conditions: Any, **kwargs: Any) -> xr.Dataset:
        return _conditions.attach_conditions(self._obj, conditions, **kwargs)

    # -- detection ----------------------------------------------------------
    @_forward(_segment.segment)
    def segment(self, model: Any = None, **kwargs: Any) -> xr.Dataset:
        return _segment.segment(self._obj, model, **kwargs)

    @_forward(_segment_store.segment_to_store)
    def segment_to_store(self, model: Any, path: Any, **kwargs: Any) -> Any:
        return _segment_store.segment_to_store(self._obj, model, path, **kwargs)

    @_forward(_difference.difference_detect)
    def difference_detect(self, **kwargs: Any) -> xr.Dataset:
        return _difference.difference_detect(self._obj, **kwargs)

    @_forward(_detections.cell_detections)
    def cell_detections(self, **kwargs: Any) -> xr.DataArray:
        return _detections.cell_detections(self._obj, **kwargs)

    def train(self, **kwargs: Any) -> Any:
        """Train a model on this cube's ``aurora_truth``; see :func:`aurora_xr.train`."""
        from .model import train

        return train(self._obj, **kwargs)

    def evaluate(self, model: Any, **kwargs: Any) -> Any:
        """Score a model against this cube's truth; see :func:`aurora_xr.evaluate`."""
        from .model import evaluate

        return evaluate(model, self._obj, **kwargs)

    # -- products -----------------------------------------------------------
    @_forward(_cube_occurrence.occurrence_from_cube)
    def occurrence_map(self, **kwargs: Any) -> xr.Dataset:
        return _cube_occurrence.occurrence_from_cube(self._obj, **kwargs)

    @_forward(_compare.compare_methods)
    def compare_methods(self, model: Any = None, **kwargs: Any) -> xr.Dataset:
        return _compare.compare_methods(self._obj, model, **kwargs)

    def to_netcdf(self, path: Any, **kwargs: Any) -> Any:
        """Write atomically as NetCDF-4: an occurrence or comparison product through
        :func:`aurora_xr.io.products.to_netcdf` (CF attributes, provenance), an image
        cube through :func:`aurora_xr.io.write_netcdf` (compressed, chunked in time)."""
        if "occurrence_rate" in self._obj.data_vars:
            return _products.to_netcdf(self._obj, path, **kwargs)
        return _netcdf.write_netcdf(self._obj, path, **kwargs)

    # -- figures ------------------------------------------------------------
    def plot_sky(self, time: Any = None, **kwargs: Any) -> Any:
        """One frame in the geomagnetic view with overlays; see :func:`aurora_xr.plot.plot_sky`."""
        return _plot("plot_sky")(self._obj, time=time, **kwargs)

    def plot_three_panel(self, time: Any = None, **kwargs: Any) -> Any:
        """Image / difference method / FCN; see :func:`aurora_xr.plot.plot_three_panel`."""
        return _plot("plot_three_panel")(self._obj, time, **kwargs)

    def plot_keogram(self, **kwargs: Any) -> Any:
        """Keogram along the magnetic meridian; see :func:`aurora_xr.plot.plot_keogram`."""
        return _plot("plot_keogram")(self._obj, **kwargs)

    def plot_grid(self, **kwargs: Any) -> Any:
        """All MLT maps per detector; see :func:`aurora_xr.plot.plot_occurrence_grid`."""
        return _plot("plot_occurrence_grid")(self._obj, **kwargs)

    def plot_map(self, **kwargs: Any) -> Any:
        """Cartopy map of the cells; see :func:`aurora_xr.plot.plot_cell_map`."""
        return _plot("plot_cell_map")(self._obj, **kwargs)

    def plot_comparison(self, mlt: Any = None, **kwargs: Any) -> Any:
        """FCN vs difference method; see :func:`aurora_xr.plot.plot_comparison`."""
        return _plot("plot_comparison")(self._obj, mlt=mlt, **kwargs)

    # -- widgets ------------------------------------------------------------
    def browse(self, **kwargs: Any) -> Any:
        """A :class:`~aurora_xr.widgets.SkyBrowser` on this image cube."""
        from .widgets import SkyBrowser

        return SkyBrowser(self._obj, **kwargs)

    def explore(self, **kwargs: Any) -> Any:
        """An :class:`~aurora_xr.widgets.OccurrenceExplorer` on this product, or a
        :class:`~aurora_xr.widgets.MethodComparison` when it compares methods."""
        from .widgets import MethodComparison, OccurrenceExplorer

        if "rate_ratio" in self._obj.data_vars and "n_both" in self._obj.data_vars:
            return MethodComparison(self._obj, **kwargs)
        return OccurrenceExplorer(self._obj, **kwargs)

    def plot(self, mlt: Any = None, **kwargs: Any) -> Any:
        """The natural figure of this Dataset.

        A comparison (``rate_ratio``) -> :func:`~aurora_xr.plot.plot_comparison`; an
        occurrence product -> :func:`~aurora_xr.plot.plot_occurrence` for one ``mlt``
        or :func:`~aurora_xr.plot.plot_occurrence_grid` for all; an image cube ->
        :func:`~aurora_xr.plot.plot_sky`.
        """
        if "rate_ratio" in self._obj.data_vars:
            return self.plot_comparison(mlt=mlt, **kwargs)
        if "occurrence_rate" in self._obj.data_vars:
            if mlt is None:
                return self.plot_grid(**kwargs)
            return _plot("plot_occurrence")(self._obj, mlt=mlt, **kwargs)
        return self.plot_sky(**kwargs)


@xr.register_dataarray_accessor("aurora")
class AuroraDataArrayAccessor:
    """Aurora tools on a single variable (a keogram, a rate map)."""

    def __init__(self, obj: xr.DataArray) -> None:
        self._obj = obj

    @_forward(_views.to_magnetic_view)
    def to_magnetic_view(self, **kwargs: Any) -> xr.DataArray:
        return _views.to_magnetic_view(self._obj, **kwargs)  # type: ignore[return-value]

    def plot_keogram(self, **kwargs: Any) -> Any:
        """Draw a keogram DataArray; see :func:`aurora_xr.plot.plot_keogram`."""
        return _plot("plot_keogram")(self._obj, **kwargs)
