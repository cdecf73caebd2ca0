"""Figures of one all-sky frame in the geomagnetic orientation: the sky view and the
"image / difference method / FCN" three-panel figure.

The frame is read with its overlays by :mod:`aurora_xr.plot._sky_frame` and drawn by
:mod:`aurora_xr.plot._sky_view`: resampled into the geomagnetic view (magnetic north up,
magnetic east on the left, looking up) with the camera's own calibration, an analytic
lens or an operator's per-pixel skymap. Colour frames are shown against full scale, a
single band in grey through the stretch of :mod:`aurora_xr.plot.stretch`.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Any

import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..cube.context import CubeContext
from ..errors import OptionError
from ._loading import TimeLike, time_label
from ._polar import corner_text
from ._sky_frame import load_frame
from ._sky_view import cell_polygons, draw_sky_frame, view_extent
from ._style import DEFAULT_ELEVATIONS, SIZE_TITLE

__all__ = ["plot_sky", "plot_three_panel", "view_extent"]

OVERLAYS = ("fcn", "difference")


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
    time: TimeLike = None,
    overlays: Sequence[str] | str | None = None,
    cells: xr.Dataset | None = None,
    difference: xr.DataArray | xr.Dataset | None = None,
    contrast: float = 1.0,
    ax: Axes | None = None,
    elevation_circles: Iterable[float] = DEFAULT_ELEVATIONS,
    north_azimuth: float | None = None,
    title: str | None = None,
    legend: bool = True,
    context: CubeContext | None = None,
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
        with calibration and station attributes: an analytic lens, or a
        per-pixel skymap whose grids are the cube's ``elevation``/``azimuth``.
        Colour (R, G, B) or single-channel, 8- or 16-bit.
    time : int, str, datetime64 or datetime, optional
        Frame to show: a position along ``time``, or a timestamp (nearest
        frame). Default the first frame.
    overlays : sequence of {"fcn", "difference"}, optional
        What to draw over the image. Default: the FCN mask when ``ds`` has
        ``aurora_mask``, the difference cells when ``difference`` and
        ``cells`` are given. Asking for one whose data is absent raises.
    cells : xarray.Dataset, optional
        Cell grid (:func:`aurora_xr.cube.grid.cell_grid`); its outlines are drawn
        faintly, and its ``magnetic_north_azimuth`` orients the view.
    difference : xarray.DataArray or xarray.Dataset, optional
        Difference-method detections ``(time, cell)`` bool, or a Dataset with
        ``detection`` (and ``observed``); matched to the frame by time.
    contrast : float
        Display gain: a colour frame is shown as ``value / full_scale * contrast``,
        a single-channel frame in grey, stretched between the 1st and 99.5th
        percentiles of its sky pixels, times ``contrast`` (see
        :mod:`aurora_xr.plot.stretch`).
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
    context : CubeContext, optional
        The cube's context when the caller has resolved it already
        (:func:`aurora_xr.cube.context.cube_context`); a browser resolves it once.
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
    fr = load_frame(
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
        context=context,
    )
    polys = None if cells is None else cell_polygons(cells, fr.camera, fr.north, cell_dim)
    ax = _new_axes(ax, (4.2, 4.6))
    return draw_sky_frame(
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
    time: TimeLike = None,
    *,
    cells: xr.Dataset | None = None,
    difference: xr.DataArray | xr.Dataset | None = None,
    contrast: float = 1.0,
    north_azimuth: float | None = None,
    elevation_circles: Iterable[float] = DEFAULT_ELEVATIONS,
    titles: Sequence[str] = ("All-sky image", "Difference method", "FCN"),
    figsize: tuple[float, float] = (10.5, 4.0),
    context: CubeContext | None = None,
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
    context : CubeContext, optional
        The cube's context when the caller has resolved it already.
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
    fr = load_frame(
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
        context=context,
    )
    polys = None if cells is None else cell_polygons(cells, fr.camera, fr.north, cell_dim)
    fig = plt.figure(figsize=figsize, layout="constrained")
    axes = fig.subplots(1, 3)
    for k, (ax, label) in enumerate(zip(axes, titles, strict=True)):
        draw_sky_frame(
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
            corner_text(ax, f"no {mask_var} in the cube", loc="lower right", color="0.35")
    head = "  ".join(s for s in (fr.station, time_label(fr.time)) if s)
    fig.suptitle(
        f"{head}  ·  geomagnetic view, looking up" if head else "geomagnetic view, looking up",
        fontsize=SIZE_TITLE + 1,
    )
    return fig
