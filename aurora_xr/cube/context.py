"""The context of an image cube, resolved once at the entry point and passed down.

Every step of a pipeline needs the same few things about a cube: its dimension
names, the station, the camera calibration, the elevation and azimuth of every
pixel, the frame times and their dask chunks, and (for the cell statistics) the
equal-area cell grid. :func:`cube_context` reads and checks them once, from the
coordinates and attributes only (the frames are never read, nothing lazy is
computed), into a :class:`CubeContext`; the public functions accept it as
``context=`` so that a pipeline such as :func:`aurora_xr.compare_methods` checks
the cube once and every kernel gets arrays, never raw attributes.

A context is immutable; :meth:`CubeContext.with_cells` returns a new one that also
holds the cell grid.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from ..errors import (
    MissingDimensionError,
    MissingVariableError,
    OptionError,
    SchemaError,
)
from ..geo.aacgm import check_date_range, epoch_of, magnetic_north_azimuth, mid_year_epoch
from ..sky.camera import Camera, camera_kind
from ..sky.lens import require_calibration
from ..sky.stations import station_from_attrs
from .schema import calibration_of, check_times, validate_cube

__all__ = [
    "CellIndex",
    "CubeContext",
    "CubeDims",
    "Site",
    "context_of",
    "cube_context",
    "time_chunks",
]


@dataclass(frozen=True)
class CubeDims:
    """Names of the frames variable and of the dimensions of a cube."""

    time: Hashable = "time"
    y: Hashable = "y"
    x: Hashable = "x"
    channel: Hashable = "channel"
    image: Hashable = "image"

    def as_kwargs(self) -> dict[str, Any]:
        """The names as the keyword arguments of the public functions."""
        return {
            "time_dim": self.time,
            "y_dim": self.y,
            "x_dim": self.x,
            "channel_dim": self.channel,
            "image_var": self.image,
        }


class Site(NamedTuple):
    """The station of a cube, as its attributes give it."""

    code: str
    latitude: float
    longitude: float
    altitude_km: float


class CellIndex(NamedTuple):
    """The cell grid a pipeline uses: labels, number of cells and the grid Dataset."""

    labels: xr.DataArray
    """(y, x) int32 cell of every pixel, -1 outside the grid (in memory)."""
    n_cells: int
    """Number of cells."""
    grid: xr.Dataset | None
    """The grid's variables on the cell dimension, when known (to attach as coordinates)."""


def time_chunks(
    ds: xr.Dataset | xr.DataArray, *, time_dim: Hashable = "time"
) -> tuple[int, ...] | None:
    """The dask chunks of ``ds`` along ``time_dim`` (None when nothing is chunked)."""
    variables = [ds.variable] if isinstance(ds, xr.DataArray) else list(ds.variables.values())
    for var in variables:
        if time_dim in var.dims and var.chunks is not None:
            return tuple(var.chunks[var.dims.index(time_dim)])
    return None


@dataclass(frozen=True, eq=False)
class CubeContext:
    """What every step needs to know about a cube, resolved once (see :func:`cube_context`).

    Attributes
    ----------
    dims : CubeDims
        Names of the frames variable and of the dimensions.
    shape : (int, int) or None
        ``(height, width)`` of the frames; None for an object without image dims
        (e.g. a per-frame variable, for which only the times and station matter).
    channels : tuple of str
        Channel names (``("R", "G", "B")`` or one band); empty without frames.
    times : (T,) ndarray of datetime64[ns] or None
        Frame times; None for an object without a time coordinate.
    chunks : tuple of int or None
        Dask chunks along time, None for an in-memory cube.
    calibration : Camera or None
        The camera calibration (an analytic lens or a per-pixel skymap), when the
        attributes hold one.
    site : Site or None
        The station, when the attributes hold one.
    attrs : mapping
        The station and calibration attributes, to carry into products.
    cells : CellIndex or None
        The cell grid, once :meth:`with_cells` has set it.
    obstruction : (H, W) ndarray of bool or None
        Pixels where the ground hides the sky (the cube's ``obstruction`` variable).
    """

    dims: CubeDims
    shape: tuple[int, int] | None
    channels: tuple[str, ...]
    times: NDArray[np.datetime64] | None
    chunks: tuple[int, ...] | None
    calibration: Camera | None
    site: Site | None
    attrs: Mapping[str, Any]
    cells: CellIndex | None = None
    obstruction: NDArray[np.bool_] | None = None
    object_dims: tuple[Hashable, ...] = ()
    _grids: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None

    # -- what a step requires ---------------------------------------------------------
    def require_site(self) -> Site:
        """The station, or the :class:`~aurora_xr.errors.SchemaError` that says what is missing."""
        if self.site is None:
            station_from_attrs(dict(self.attrs))  # raises the precise error
            raise SchemaError("expected station attributes; found none")  # pragma: no cover
        return self.site

    def require_calibration(self) -> Camera:
        """The calibration, or the :class:`~aurora_xr.errors.MissingCalibrationError`."""
        self.require_shape()
        if self.calibration is None:
            return require_calibration(dict(self.attrs))  # raises the precise error
        return self.calibration

    def require_shape(self) -> tuple[int, int]:
        """``(height, width)``, or a :class:`MissingDimensionError` without image dims."""
        if self.shape is None:
            raise MissingDimensionError(
                f"expected image dims ({self.dims.y!r}, {self.dims.x!r}); "
                f"found dims {self.object_dims}"
            )
        return self.shape

    def require_times(self) -> NDArray[np.datetime64]:
        """The frame times, or a :class:`MissingVariableError` without a time coordinate."""
        if self.times is None:
            raise MissingVariableError(f"expected a {self.dims.time!r} coordinate; found none")
        return self.times

    def require_cells(self) -> CellIndex:
        """The cell grid set by :meth:`with_cells`."""
        if self.cells is None:
            raise OptionError("the cube context holds no cell grid; resolve the cells first")
        return self.cells

    # -- derived, computed once ---------------------------------------------------------
    @functools.cached_property
    def sky_grids(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Elevation and azimuth (H, W) in degrees, NaN outside the field of view."""
        if self._grids is not None:
            return self._grids
        el, az = self.require_calibration().sky_grids()
        return el.astype(np.float64), az.astype(np.float64)

    @functools.cached_property
    def sky_mask(self) -> NDArray[np.bool_]:
        """(H, W) True where a pixel sees the sky (finite elevation, not obstructed)."""
        sky = np.isfinite(self.sky_grids[0])
        return sky & ~self.obstruction if self.obstruction is not None else sky

    @property
    def station_attrs(self) -> dict[str, Any]:
        """The cube's ``station_*`` attributes (for products)."""
        return {k: v for k, v in self.attrs.items() if str(k).startswith("station_")}

    def epoch(self, when: Any = None) -> dt.datetime:
        """The AACGM epoch: ``when`` if given, else mid-year of the middle frame time."""
        if when is not None:
            return epoch_of(when)
        times = self.require_times()
        if times.size == 0:
            raise OptionError(
                f"the cube has no {self.dims.time!r} values to take the AACGM epoch from; "
                "pass when="
            )
        check_date_range(times)
        return mid_year_epoch(times)

    def magnetic_north(self, *, altitude_km: float = 110.0, when: Any = None) -> float:
        """Geographic azimuth of magnetic north over the station (cached per epoch)."""
        site = self.require_site()
        return magnetic_north_azimuth(
            site.latitude, site.longitude, when=self.epoch(when), altitude_km=altitude_km
        )

    def frames(self, start: int, stop: int) -> CubeContext:
        """The context of the frames ``start:stop`` of the cube (e.g. one region of a store)."""
        times = None if self.times is None else self.times[start:stop]
        return dataclasses.replace(self, times=times, chunks=None)

    def with_cells(self, cells: CellIndex) -> CubeContext:
        """A copy of this context that also holds the cell grid."""
        return dataclasses.replace(self, cells=cells)


def _site_of(attrs: Mapping[str, Any]) -> Site | None:
    if "station_latitude" not in attrs or "station_longitude" not in attrs:
        return None
    code, lat, lon, alt_km = station_from_attrs(dict(attrs))
    return Site(code, lat, lon, alt_km)


def _grids_of(
    obj: xr.Dataset | xr.DataArray, lens: bool, dims: CubeDims
) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
    """The cube's own elevation/azimuth when in memory; None to derive them from the lens.

    Lazy (dask) grids, as ``ds.chunk()`` makes them, are recomputed from the lens they
    were made from, so that nothing is computed; a skymap's grids are its data and are
    read (they are small).
    """
    names = ("elevation", "azimuth")
    if not all(n in obj.coords or (isinstance(obj, xr.Dataset) and n in obj) for n in names):
        return None
    el_var, az_var = obj[names[0]], obj[names[1]]
    for var in (el_var, az_var):
        if tuple(var.dims) != (dims.y, dims.x):
            raise MissingDimensionError(
                f"expected {var.name!r} on dims ({dims.y!r}, {dims.x!r}); found {var.dims}"
            )
    if (el_var.chunks is not None or az_var.chunks is not None) and lens:
        return None
    return (
        np.asarray(el_var.values, dtype=np.float64),
        np.asarray(az_var.values, dtype=np.float64),
    )


def _obstruction_of(obj: xr.Dataset | xr.DataArray, dims: CubeDims) -> NDArray[np.bool_] | None:
    if "obstruction" not in obj.coords and not (
        isinstance(obj, xr.Dataset) and "obstruction" in obj.data_vars
    ):
        return None
    mask = obj["obstruction"]
    if tuple(mask.dims) != (dims.y, dims.x):
        raise MissingDimensionError(
            f"expected 'obstruction' on dims ({dims.y!r}, {dims.x!r}); found {mask.dims}"
        )
    return np.asarray(mask.values, dtype=bool)


def cube_context(
    obj: xr.Dataset | xr.DataArray,
    *,
    image_var: Hashable = "image",
    time_dim: Hashable = "time",
    y_dim: Hashable = "y",
    x_dim: Hashable = "x",
    channel_dim: Hashable = "channel",
    require_image: bool = False,
) -> CubeContext:
    """Check a cube once and resolve its context (reads coordinates and attributes only).

    Parameters
    ----------
    obj : xarray.Dataset or DataArray
        An image cube, or any object on (``y_dim``, ``x_dim``) (a product, a mask,
        a cell grid) carrying station and calibration attributes.
    image_var, time_dim, y_dim, x_dim, channel_dim : hashable
        Names in the cube.
    require_image : bool
        The caller reads the frames: a Dataset without ``image_var`` is an error
        (frames present are always checked).

    Returns
    -------
    CubeContext

    Raises
    ------
    SchemaError
        (and its subclasses) for a cube that does not follow the data model
        (:func:`aurora_xr.cube.schema.validate_cube`), an object without the image
        dims, unsorted or repeated times.
    FrameSizeError, CalibrationError
        If the calibration attributes are malformed or for frames of another size.

    Notes
    -----
    Only coordinates and attributes are read. A missing station or calibration is
    not an error here: the step that needs one asks with
    :meth:`CubeContext.require_site` / :meth:`CubeContext.require_calibration`.
    """
    dims = CubeDims(time=time_dim, y=y_dim, x=x_dim, channel=channel_dim, image=image_var)
    channels: tuple[str, ...] = ()
    if isinstance(obj, xr.Dataset) and (require_image or image_var in obj.variables):
        validate_cube(
            obj,
            image_var=image_var,
            time_dim=time_dim,
            y_dim=y_dim,
            x_dim=x_dim,
            channel_dim=channel_dim,
            check_calibration=False,
        )
        image = obj[image_var]
        if channel_dim in image.coords:
            channels = tuple(str(c) for c in image[channel_dim].values)
    elif not isinstance(obj, xr.Dataset | xr.DataArray):
        raise SchemaError(f"expected an xarray Dataset or DataArray; found {type(obj).__name__}")
    shape = None
    if y_dim in obj.dims and x_dim in obj.dims:
        shape = (int(obj.sizes[y_dim]), int(obj.sizes[x_dim]))
    attrs = dict(obj.attrs)
    kind = camera_kind(attrs)
    grids = None if shape is None else _grids_of(obj, kind in ("lens", None), dims)
    calibration = None
    if shape is not None and kind is not None:
        calibration = calibration_of(obj, shape, grids)
    times = None
    if time_dim in obj.coords:
        check_times(obj[time_dim], name=str(time_dim))
        times = np.asarray(obj[time_dim].values, dtype="datetime64[ns]")
    return CubeContext(
        dims=dims,
        shape=shape,
        channels=channels,
        times=times,
        chunks=time_chunks(obj, time_dim=time_dim),
        calibration=calibration,
        site=_site_of(attrs),
        attrs={k: v for k, v in attrs.items() if str(k).startswith(("station_", "calibration_"))},
        object_dims=tuple(obj.dims),
        obstruction=None if shape is None else _obstruction_of(obj, dims),
        _grids=grids,
    )


def context_of(
    obj: xr.Dataset | xr.DataArray, context: CubeContext | None, **names: Any
) -> CubeContext:
    """``context`` when the caller resolved it already, else :func:`cube_context` of ``obj``.

    ``names`` are the keyword arguments of :func:`cube_context` (dimension names,
    ``require_image``).
    """
    return context if context is not None else cube_context(obj, **names)
