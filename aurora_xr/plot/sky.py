"""Sky views in the geomagnetic orientation: one frame, its FCN mask and its cells.

The frame is resampled into the geomagnetic view (magnetic north up, magnetic
east on the left, looking up) with the library's nearest-pixel kernel
(:func:`aurora_xr.sky.resample.magnetic_view_indices` and
:func:`~aurora_xr.sky.resample.apply_view`), so every pixel shown is a camera
pixel. Elevation circles and cells are placed with the camera's own lens
model (:meth:`aurora_xr.sky.lens.Calibration.rho_of_theta`), the horizon at
display radius 90.
"""

from __future__ import annotations

import functools
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Patch

from ..analysis.keograms import resolve_north_azimuth
from ..cube.schema import validate_cube
from ..errors import (
    DtypeError,
    FrameSizeError,
    MissingDimensionError,
    MissingVariableError,
    OptionError,
    SchemaError,
)
from ..sky.lens import Calibration, require_calibration
from ..sky.resample import apply_view, magnetic_view_indices
from . import _common as c
from ._style import (
    DEFAULT_ELEVATIONS,
    DIFFERENCE_COLOR,
    FCN_COLOR,
    NAN_EDGE,
    NAN_HATCH,
    SIZE_SMALL,
    SIZE_TITLE,
)

__all__ = ["plot_sky", "plot_three_panel", "view_extent"]

OVERLAYS = ("fcn", "difference")


@functools.lru_cache(maxsize=8)
def _view_indices(cal: Calibration, north_azimuth: float) -> np.ndarray:
    """Source pixel of each pixel of the geomagnetic view (cached for browsing)."""
    return magnetic_view_indices(cal, north_azimuth)


def view_extent(size: int) -> tuple[float, float, float, float]:
    """Display extent (left, right, bottom, top) of a square geomagnetic view.

    The view of :func:`aurora_xr.sky.resample.magnetic_view_indices` has its zenith
    at the centre pixel and the horizon ``(size - 1) / 2`` pixels away; the
    display puts the horizon at radius 90.
    """
    centre = (size - 1) / 2.0
    half = (centre + 0.5) * c.RIM / centre
    return (-half, half, -half, half)


def _radius_fn(cal: Calibration) -> c.RadiusFn:
    def radius(elevation: np.ndarray) -> np.ndarray:
        return c.RIM * cal.rho_of_theta(90.0 - np.asarray(elevation, dtype=float))

    return radius


@dataclass
class _Frame:
    rgb: np.ndarray
    cal: Calibration
    north: float
    time: Any
    station: str
    mask: np.ndarray | None
    detected: np.ndarray | None
    observed: np.ndarray | None
    difference_given: bool


def _difference_at(
    difference: xr.DataArray | xr.Dataset | None,
    time_value: Any,
    time_dim: Hashable,
    cell_dim: Hashable,
) -> tuple[xr.DataArray | None, xr.DataArray | None]:
    """The (cell,) detections and observed flags of one frame, lazily selected."""
    if difference is None:
        return None, None
    observed = None
    if isinstance(difference, xr.Dataset):
        for name in ("detection", "difference_detection"):
            if name in difference.data_vars:
                det = difference[name]
                break
        else:
            raise MissingVariableError(
                "expected a 'detection' (or 'difference_detection') variable in the "
                f"difference-method result; found {', '.join(map(str, difference.data_vars))}"
            )
        for name in ("observed", "difference_observed"):
            if name in difference.data_vars:
                observed = difference[name]
                break
    else:
        det = difference
    if cell_dim not in det.dims:
        raise MissingDimensionError(
            f"expected difference detections on ({time_dim!r}, {cell_dim!r}); "
            f"found dims {tuple(det.dims)}"
        )
    if time_dim in det.dims:
        if time_value is None or time_dim not in det.indexes:
            raise MissingVariableError(
                f"cannot match the difference detections to the frame: expected a "
                f"{time_dim!r} coordinate on both"
            )
        index = det.indexes[time_dim]
        pos = index.get_indexer([np.datetime64(time_value, "ns")])
        if pos[0] < 0:  # no pair ends at this frame (e.g. the first frame of a night)
            return None, None
        det = det.isel({time_dim: int(pos[0])})
        if observed is not None and time_dim in observed.dims:
            observed = observed.isel({time_dim: int(pos[0])})
    return det, observed


def _load_frame(
    ds: xr.Dataset,
    time: c.TimeLike,
    *,
    want_mask: bool,
    difference: xr.DataArray | xr.Dataset | None,
    north_azimuth: float | None,
    cells: xr.Dataset | None,
    image_var: Hashable,
    mask_var: Hashable,
    time_dim: Hashable,
    y_dim: Hashable,
    x_dim: Hashable,
    channel_dim: Hashable,
    cell_dim: Hashable,
    contrast: float,
) -> _Frame:
    if not isinstance(ds, xr.Dataset):
        raise SchemaError(f"expected an xarray.Dataset image cube; found {type(ds).__name__}")
    if image_var not in ds.data_vars:
        raise MissingVariableError(
            f"expected an image variable {image_var!r}; found "
            f"{', '.join(map(str, ds.data_vars)) or 'no variables'}"
        )
    image = ds[image_var]
    if time_dim in image.dims:
        cal = validate_cube(
            ds,
            image_var=image_var,
            time_dim=time_dim,
            y_dim=y_dim,
            x_dim=x_dim,
            channel_dim=channel_dim,
        )
        assert cal is not None
        frame = ds.isel({time_dim: c.frame_index(ds, time, time_dim)})
    else:  # a single frame, e.g. ds.isel(time=i)
        if tuple(image.dims) != (y_dim, x_dim, channel_dim):
            raise MissingDimensionError(
                f"expected {image_var!r} with dims ({time_dim!r}, {y_dim!r}, {x_dim!r}, "
                f"{channel_dim!r}) or one frame ({y_dim!r}, {x_dim!r}, {channel_dim!r}); "
                f"found dims {tuple(image.dims)}"
            )
        if image.sizes[channel_dim] != 3:
            raise SchemaError(f"expected 3 channels (R, G, B); found {image.sizes[channel_dim]}")
        cal = require_calibration(dict(ds.attrs))
        if (cal.width, cal.height) != (image.sizes[x_dim], image.sizes[y_dim]):
            raise FrameSizeError(
                f"the calibration is for {cal.width}x{cal.height} frames; found frames of "
                f"{image.sizes[x_dim]}x{image.sizes[y_dim]}"
            )
        frame = ds
    if want_mask and mask_var not in frame.data_vars:
        raise MissingVariableError(
            f"the 'fcn' overlay needs a {mask_var!r} variable (from aurora_xr.segment); "
            f"found {', '.join(map(str, ds.data_vars))}"
        )
    north = resolve_north_azimuth(ds, north_azimuth=north_azimuth, cells=cells, time_dim=time_dim)
    time_value = frame[time_dim].values if time_dim in frame.coords else None
    det, observed = _difference_at(difference, time_value, time_dim, cell_dim)
    img = frame[image_var].transpose(y_dim, x_dim, channel_dim).reset_coords(drop=True)
    mask = frame[mask_var].transpose(y_dim, x_dim).reset_coords(drop=True) if want_mask else None
    img_v, mask_v, det_v, obs_v = c.compute_together(img, mask, det, observed)
    if mask_v is not None and mask_v.dtype != bool:
        raise DtypeError(f"expected {mask_var!r} of dtype bool; found {mask_v.dtype}")
    return _Frame(
        rgb=c.display_rgb(img_v.values, contrast),
        cal=cal,
        north=north,
        time=time_value,
        station=str(ds.attrs.get("station_code", "")),
        mask=None if mask_v is None else np.asarray(mask_v.values, dtype=bool),
        detected=None if det_v is None else np.asarray(det_v.values, dtype=bool),
        observed=None if obs_v is None else np.asarray(obs_v.values, dtype=bool),
        difference_given=difference is not None,
    )


def _cell_polys(cells: xr.Dataset, cal: Calibration, cell_dim: Hashable) -> list[np.ndarray]:
    el_v, az_v = c.cell_vertices(cells, cell_dim)
    return c.sky_polygons(el_v, az_v, _radius_fn(cal))


def _draw(
    ax: Axes,
    fr: _Frame,
    *,
    show_mask: bool,
    polys: list[np.ndarray] | None,
    show_difference: bool,
    elevation_circles: Iterable[float],
    legend: bool,
    title: str | None,
) -> Axes:
    index = _view_indices(fr.cal, fr.north)
    size = index.shape[0]
    extent = view_extent(size)
    seen = index >= 0
    rgba = np.zeros((size, size, 4), dtype=np.float32)
    rgba[..., :3] = apply_view(fr.rgb, index, fill_value=0.0)
    rgba[..., 3] = seen
    ax.add_patch(Circle((0.0, 0.0), c.RIM, facecolor="black", edgecolor="none", zorder=0.5))
    clip = Circle((0.0, 0.0), c.RIM, transform=ax.transData)
    im = ax.imshow(rgba, extent=extent, origin="upper", interpolation="antialiased", zorder=1)
    im.set_gid("sky_image")
    im.set_clip_path(clip)
    handles: list[Patch] = []
    if show_mask and fr.mask is not None:
        mask = apply_view(fr.mask, index, fill_value=False) & seen
        over = np.zeros((size, size, 4), dtype=np.float32)
        over[mask] = to_rgba(FCN_COLOR, 0.42)
        ov = ax.imshow(over, extent=extent, origin="upper", interpolation="nearest", zorder=2)
        ov.set_gid("fcn_mask")
        ov.set_clip_path(clip)
        if mask.any() and not mask.all():
            centres = np.linspace(extent[0], extent[1], size + 1)
            centres = (centres[1:] + centres[:-1]) / 2.0
            cs = ax.contour(
                centres,
                centres[::-1],
                mask.astype(np.float32),
                levels=[0.5],
                colors=[FCN_COLOR],
                linewidths=0.9,
                zorder=2.5,
            )
            cs.set_clip_path(clip)
        handles.append(
            Patch(facecolor=to_rgba(FCN_COLOR, 0.42), edgecolor=FCN_COLOR, label="FCN mask")
        )
    if polys is not None:
        grid = PolyCollection(
            polys, facecolors="none", edgecolors=(1, 1, 1, 0.22), linewidths=0.3, zorder=3
        )
        grid.set_gid("cell_grid")
        ax.add_collection(grid)
        if show_difference and fr.detected is not None:
            if fr.detected.shape != (len(polys),):
                raise SchemaError(
                    f"the difference detections have {fr.detected.size} cells; the cell grid "
                    f"has {len(polys)}"
                )
            hit = [p for p, d in zip(polys, fr.detected, strict=True) if d]
            coll = PolyCollection(
                hit,
                facecolors=[to_rgba(DIFFERENCE_COLOR, 0.28)],
                edgecolors=[DIFFERENCE_COLOR],
                linewidths=0.9,
                zorder=3.5,
            )
            coll.set_gid("difference_cells")
            ax.add_collection(coll)
            if fr.observed is not None and fr.observed.ndim == 0 and not fr.observed:
                c.corner_text(
                    ax, "frame not observed\n(no partner frame)", loc="lower right", color="0.35"
                )
            elif fr.observed is not None and fr.observed.ndim == 1 and not fr.observed.all():
                off = [p for p, o in zip(polys, fr.observed, strict=True) if not o]
                unobs = PolyCollection(
                    off,
                    facecolors="none",
                    edgecolors=[NAN_EDGE],
                    hatch=NAN_HATCH,
                    linewidths=0.3,
                    zorder=3.2,
                )
                unobs.set_gid("cells_not_observed")
                ax.add_collection(unobs)
                handles.append(
                    Patch(
                        facecolor="none", edgecolor=NAN_EDGE, hatch=NAN_HATCH, label="not observed"
                    )
                )
            handles.append(
                Patch(
                    facecolor=to_rgba(DIFFERENCE_COLOR, 0.28),
                    edgecolor=DIFFERENCE_COLOR,
                    label="difference cells",
                )
            )
    if show_difference and fr.detected is None:
        c.corner_text(
            ax,
            "no difference detection\nfor this frame"
            if fr.difference_given
            else "no difference detections given",
            loc="lower right",
            color="0.35",
        )
    c.draw_sky_grid(
        ax,
        radius_of_elevation=_radius_fn(fr.cal),
        elevations=elevation_circles,
        dark=True,
        geo_north_azimuth_mag=(-fr.north) % 360.0,
    )
    if legend and handles:
        ax.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.5, 0.02),
            ncol=len(handles),
            frameon=False,
            fontsize=SIZE_SMALL,
            handlelength=1.2,
            columnspacing=1.0,
        )
    if title is None:
        title = "  ".join(s for s in (fr.station, c.time_label(fr.time)) if s)
    if title:
        ax.set_title(title, fontsize=SIZE_TITLE)
    return ax


def _cells_from(
    cells: xr.Dataset | None, difference: xr.DataArray | xr.Dataset | None
) -> xr.Dataset | None:
    """The cell grid: given, or the cell coordinates carried by the detections."""
    if cells is not None:
        return cells
    if difference is not None and "cell_vertices_elevation" in difference.coords:
        coords = difference.coords
        return xr.Dataset(
            coords={k: v.variable for k, v in coords.items() if k != "time"},
            attrs=dict(difference.attrs),
        )
    return None


def _new_axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=figsize, layout="constrained")
    return fig.add_subplot()


def _resolve_overlays(
    overlays: Sequence[str] | str | None,
    ds: xr.Dataset,
    mask_var: Hashable,
    difference: Any,
    cells: Any,
) -> tuple[bool, bool]:
    if overlays is None:
        return mask_var in ds.data_vars, difference is not None and cells is not None
    if isinstance(overlays, str):
        overlays = (overlays,)
    unknown = [o for o in overlays if o not in OVERLAYS]
    if unknown:
        raise OptionError(f"overlays must be among {OVERLAYS}; found {unknown}")
    if "difference" in overlays and (difference is None or cells is None):
        raise OptionError(
            "the 'difference' overlay needs difference= (detections on (time, cell)) and "
            "cells= (the cell grid)"
        )
    return "fcn" in overlays, "difference" in overlays


def plot_sky(
    ds: xr.Dataset,
    *,
    time: c.TimeLike = None,
    overlays: Sequence[str] | str | None = None,
    cells: xr.Dataset | None = None,
    difference: xr.DataArray | xr.Dataset | None = None,
    contrast: float = 1.0,
    ax: Axes | None = None,
    elevation_circles: Iterable[float] = DEFAULT_ELEVATIONS,
    north_azimuth: float | None = None,
    title: str | None = None,
    legend: bool = True,
    image_var: Hashable = "image",
    mask_var: Hashable = "aurora_mask",
    time_dim: Hashable = "time",
    y_dim: Hashable = "y",
    x_dim: Hashable = "x",
    channel_dim: Hashable = "channel",
    cell_dim: Hashable = "cell",
) -> Axes:
    """One all-sky frame in the geomagnetic view, with optional detections.

    Magnetic north is at the top and, as seen looking up, magnetic east on the
    left; dashed circles mark elevation every 10°, the horizon is the outer
    circle and a grey triangle marks geographic north. Only the frame shown is
    computed on a lazy cube.

    Parameters
    ----------
    ds : xarray.Dataset
        Image cube ``(time, y, x, channel)`` (or one frame ``(y, x, channel)``)
        with calibration and station attributes.
    time : int, str, datetime64 or datetime, optional
        Frame to show: a position along ``time``, or a timestamp (nearest
        frame). Default the first frame.
    overlays : sequence of {"fcn", "difference"}, optional
        What to draw over the image. Default: the FCN mask when ``ds`` has
        ``aurora_mask``, the difference cells when ``difference`` and
        ``cells`` are given. Asking for one whose data is absent raises.
    cells : xarray.Dataset, optional
        Cell grid (:func:`aurora_xr.geo.cells.cell_grid`); its outlines are drawn
        faintly, and its ``magnetic_north_azimuth`` orients the view.
    difference : xarray.DataArray or xarray.Dataset, optional
        Difference-method detections ``(time, cell)`` bool, or a Dataset with
        ``detection`` (and ``observed``); matched to the frame by time.
    contrast : float
        Display gain: the frame is shown as ``value / full_scale * contrast``.
    ax : matplotlib.axes.Axes, optional
        Cartesian axes to draw into; a new figure otherwise.
    elevation_circles : iterable of float
        Elevations (degrees) of the dashed circles.
    north_azimuth : float, optional
        Geographic azimuth of magnetic north (degrees); default from ``cells``,
        the cube's attributes or :mod:`aurora_xr.geo.aacgm`.
    title : str, optional
        Axes title; default station code and time. ``""`` for none.
    legend : bool
        Draw a legend of the overlays below the sky.
    image_var, mask_var, time_dim, y_dim, x_dim, channel_dim, cell_dim : hashable
        Names in the data model.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = plot_sky(cube, time="2020-07-02T07:02", contrast=2.0)  # doctest: +SKIP
    """
    cells = _cells_from(cells, difference)
    show_mask, show_diff = _resolve_overlays(overlays, ds, mask_var, difference, cells)
    fr = _load_frame(
        ds,
        time,
        want_mask=show_mask,
        difference=difference if show_diff else None,
        north_azimuth=north_azimuth,
        cells=cells,
        image_var=image_var,
        mask_var=mask_var,
        time_dim=time_dim,
        y_dim=y_dim,
        x_dim=x_dim,
        channel_dim=channel_dim,
        cell_dim=cell_dim,
        contrast=contrast,
    )
    polys = _cell_polys(cells, fr.cal, cell_dim) if cells is not None else None
    ax = _new_axes(ax, (4.2, 4.6))
    return _draw(
        ax,
        fr,
        show_mask=show_mask,
        polys=polys,
        show_difference=show_diff,
        elevation_circles=elevation_circles,
        legend=legend,
        title=title,
    )


def plot_three_panel(
    ds: xr.Dataset,
    time: c.TimeLike = None,
    *,
    cells: xr.Dataset | None = None,
    difference: xr.DataArray | xr.Dataset | None = None,
    contrast: float = 1.0,
    north_azimuth: float | None = None,
    elevation_circles: Iterable[float] = DEFAULT_ELEVATIONS,
    titles: Sequence[str] = ("All-sky image", "Difference method", "FCN"),
    figsize: tuple[float, float] = (10.5, 4.0),
    image_var: Hashable = "image",
    mask_var: Hashable = "aurora_mask",
    time_dim: Hashable = "time",
    y_dim: Hashable = "y",
    x_dim: Hashable = "x",
    channel_dim: Hashable = "channel",
    cell_dim: Hashable = "cell",
) -> Figure:
    """The "image / previous method / FCN" figure for one frame.

    Left: the frame; middle: the frame with the cells the difference method
    found auroral; right: the frame with the FCN mask. All three in the
    geomagnetic view of :func:`plot_sky`; the frame is computed once.

    Parameters
    ----------
    ds : xarray.Dataset
        Image cube, with ``aurora_mask`` for the right panel.
    time : int, str, datetime64 or datetime, optional
        Frame to show (see :func:`plot_sky`).
    cells : xarray.Dataset, optional
        Cell grid for the middle panel.
    difference : xarray.DataArray or xarray.Dataset, optional
        Difference-method detections ``(time, cell)``.
    contrast, north_azimuth, elevation_circles
        As in :func:`plot_sky`.
    titles : sequence of 3 str
        Panel titles.
    figsize : (float, float)
        Figure size in inches.
    image_var, mask_var, time_dim, y_dim, x_dim, channel_dim, cell_dim : hashable
        Names in the data model.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    if len(titles) != 3:
        raise OptionError(f"titles must hold 3 strings; found {len(titles)}")
    cells = _cells_from(cells, difference)
    has_mask = mask_var in ds.data_vars
    use_diff = difference is not None and cells is not None
    fr = _load_frame(
        ds,
        time,
        want_mask=has_mask,
        difference=difference if use_diff else None,
        north_azimuth=north_azimuth,
        cells=cells,
        image_var=image_var,
        mask_var=mask_var,
        time_dim=time_dim,
        y_dim=y_dim,
        x_dim=x_dim,
        channel_dim=channel_dim,
        cell_dim=cell_dim,
        contrast=contrast,
    )
    polys = _cell_polys(cells, fr.cal, cell_dim) if cells is not None else None
    fig = plt.figure(figsize=figsize, layout="constrained")
    axes = fig.subplots(1, 3)
    for k, (ax, label) in enumerate(zip(axes, titles, strict=True)):
        _draw(
            ax,
            fr,
            show_mask=(k == 2),
            polys=polys if k == 1 else None,
            show_difference=(k == 1),
            elevation_circles=elevation_circles,
            legend=k > 0,
            title=f"({'abc'[k]}) {label}",
        )
        if k == 2 and fr.mask is None:
            c.corner_text(ax, f"no {mask_var} in the cube", loc="lower right", color="0.35")
    head = "  ".join(s for s in (fr.station, c.time_label(fr.time)) if s)
    fig.suptitle(
        f"{head}  ·  geomagnetic view, looking up" if head else "geomagnetic view, looking up",
        fontsize=SIZE_TITLE + 1,
    )
    return fig
