"""Geographic maps of the cells at emission altitude (cartopy, imported when called).

The layers under the cells (projection, coastlines from Natural Earth files already
on disk, graticule, circles of magnetic latitude) are drawn by
:mod:`aurora_xr.plot.basemap`; aurora_xr never downloads map data.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import matplotlib.patheffects as pe
import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.colors import Colormap, Normalize

from ..errors import MissingVariableError, OptionError, SchemaError
from ._cells import add_cells, densify, nan_patch
from ._loading import compute_together, require_cell_dims
from ._products import hour_text, mlt_bin, select_variable, value_label
from ._style import SIZE_LABEL, SIZE_SMALL, SIZE_TITLE
from .basemap import (
    cartopy_modules,
    draw_coastlines,
    draw_graticule,
    draw_magnetic_latitudes,
    map_projection,
    natural_earth_path,
)

__all__ = ["natural_earth_path", "plot_cell_map"]


def _centre(ds: xr.Dataset, cell_dim: Hashable) -> tuple[str, float, float]:
    if "station_latitude" in ds.attrs and "station_longitude" in ds.attrs:
        return (
            str(ds.attrs.get("station_code", "")),
            float(ds.attrs["station_latitude"]),
            float(ds.attrs["station_longitude"]),
        )
    for name in ("cell_lat", "cell_lon", "cell_elevation"):
        if name not in ds.variables:
            raise MissingVariableError(
                f"expected station_latitude/station_longitude attributes or {name!r} to "
                "centre the map; found neither"
            )
    (el, lat, lon) = compute_together(ds["cell_elevation"], ds["cell_lat"], ds["cell_lon"])
    k = int(np.nanargmax(np.asarray(el.values, dtype=float)))
    return "", float(lat.values[k]), float(lon.values[k])


def _values(
    ds: xr.Dataset,
    values: xr.DataArray | str | None,
    *,
    mlt: float | None,
    detector: Any,
    sel: Mapping[Hashable, Any] | None,
    cell_dim: Hashable,
) -> tuple[xr.DataArray | None, str]:
    if values is None:
        if mlt is None or "occurrence_rate" not in ds.data_vars:
            return None, ""
        values = "occurrence_rate"
    if isinstance(values, str):
        da, label = select_variable(
            ds, variable=values, detector=detector, sel=sel, detector_dim="detector"
        )
        if "mlt" in da.dims:
            if mlt is None:
                raise OptionError(f"{values!r} is on 'mlt': pass mlt= to pick a bin")
            i, lo, hi = mlt_bin(da["mlt"].values, mlt)
            da = da.isel(mlt=i)
            label = " · ".join(s for s in (label, f"MLT {hour_text(lo)}–{hour_text(hi)}") if s)
    else:
        da, label = values, str(values.name or "")
    require_cell_dims(da, cell_dim, "the map values")
    return da, label


def plot_cell_map(
    cells: xr.Dataset,
    *,
    values: xr.DataArray | str | None = None,
    mlt: float | None = None,
    detector: Any = None,
    sel: Mapping[Hashable, Any] | None = None,
    projection: Any = "Orthographic",
    ax: Axes | None = None,
    cmap: str | Colormap = "viridis",
    vmin: float | None = 0.0,
    vmax: float | None = None,
    magnetic_latitudes: bool | xr.DataArray = True,
    mlat_levels: Sequence[float] | None = None,
    when: Any = None,
    coastlines: bool = True,
    coastline_resolution: str = "50m",
    colorbar: bool = True,
    title: str | None = None,
    cell_dim: Hashable = "cell",
) -> Axes:
    """Map of the cells at emission altitude, centred on the station.

    Draws the cells from their latitude/longitude vertices, graticules,
    circles of AACGM magnetic latitude, the station, and coastlines when the
    Natural Earth shapefile is on disk (else a :class:`MissingMapDataWarning`).

    Parameters
    ----------
    cells : xarray.Dataset
        A cell grid (:func:`aurora_xr.cube.grid.cell_grid`) or an occurrence
        product carrying the cell coordinates ``cell_vertices_lat``/``_lon``.
    values : DataArray or str, optional
        Values to colour the cells by: a ``(cell,)`` DataArray or the name of
        a variable of ``cells`` (selected with ``mlt``, ``detector``, ``sel``).
        Default: ``occurrence_rate`` when ``mlt`` is given, else outlines only.
    mlt, detector, sel
        Selection of an occurrence product (see
        :func:`aurora_xr.plot.plot_occurrence`).
    projection : {"Orthographic", "SouthPolarStereo", "NorthPolarStereo"} or CRS
        Map projection, centred on the station.
    ax : cartopy GeoAxes, optional
        Axes to draw into (with any projection); a new figure otherwise.
    cmap, vmin, vmax
        Colours of the values (``vmax`` default: the largest value).
    magnetic_latitudes : bool or DataArray
        Draw circles of magnetic latitude: True computes AACGM latitude with
        :func:`aurora_xr.geo.aacgm.aacgm_coords` on a grid over the map; a
        DataArray of magnetic latitude on (lat, lon) is contoured as given.
    mlat_levels : sequence of float, optional
        Magnetic latitudes to draw (default every 5°).
    when : datetime-like, optional
        Date for AACGM (default from the attributes, e.g. ``time_coverage_start``).
    coastlines : bool
        Draw Natural Earth coastlines if they are on disk.
    coastline_resolution : {"10m", "50m", "110m"}
        Natural Earth scale to look for.
    colorbar : bool
        Add a colour bar when values are shown.
    title : str, optional
        Axes title.
    cell_dim : hashable
        Name of the cell dimension.

    Returns
    -------
    cartopy.mpl.geoaxes.GeoAxes
    """
    _, ccrs, _ = cartopy_modules()
    if not isinstance(cells, xr.Dataset):
        raise SchemaError(f"expected a cell grid Dataset; found {type(cells).__name__}")
    for name in ("cell_vertices_lat", "cell_vertices_lon"):
        if name not in cells.variables:
            raise MissingVariableError(
                f"expected cell vertices 'cell_vertices_lat' and 'cell_vertices_lon' (from "
                f"aurora_xr.cube.grid.cell_grid); missing {name!r}"
            )
    code, lat0, lon0 = _centre(cells, cell_dim)
    crs = map_projection(projection, lat0, lon0)
    geo = ccrs.PlateCarree()
    da, label = _values(cells, values, mlt=mlt, detector=detector, sel=sel, cell_dim=cell_dim)
    lat_v, lon_v = cells["cell_vertices_lat"], cells["cell_vertices_lon"]
    vdim = next(d for d in lat_v.dims if d != cell_dim)
    lat_v, lon_v, da = compute_together(
        lat_v.transpose(cell_dim, vdim), lon_v.transpose(cell_dim, vdim), da
    )
    polys: list[np.ndarray] = []
    for la, lo in zip(
        np.asarray(lat_v.values, float), np.asarray(lon_v.values, float), strict=True
    ):
        dla, dlo = densify(la, lo, 4, periodic_b=True)
        pts = crs.transform_points(geo, dlo, dla)
        polys.append(pts[:, :2])
    if ax is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(5.2, 4.6), layout="constrained")
        ax = fig.add_subplot(projection=crs)
    elif not hasattr(ax, "projection"):
        raise OptionError("ax must be a cartopy GeoAxes (subplot_kw={'projection': ...})")
    gax: Any = ax  # a cartopy GeoAxes (untyped)
    target = gax.projection
    if target != crs:
        polys = [target.transform_points(crs, p[:, 0], p[:, 1])[:, :2] for p in polys]
    allpts = np.concatenate(polys)
    allpts = allpts[np.all(np.isfinite(allpts), axis=1)]
    x0, y0 = allpts.min(axis=0)
    x1, y1 = allpts.max(axis=0)
    pad = 0.08 * max(x1 - x0, y1 - y0)
    extent = (x0 - pad, x1 + pad, y0 - pad, y1 + pad)
    gax.set_extent(extent, crs=target)

    vals = None if da is None else np.asarray(da.values, dtype=float)
    if vals is not None and vals.shape != (len(polys),):
        raise SchemaError(f"{vals.size} values for {len(polys)} cells")
    import matplotlib as mpl

    cm = mpl.colormaps[cmap] if isinstance(cmap, str) else cmap
    norm: Normalize | None = None
    if vals is None:
        coll, _ = add_cells(ax, polys, None, edgecolor="#3b5b92", linewidth=0.4, zorder=3)
        coll.set_facecolor((0.23, 0.36, 0.57, 0.08))
    else:
        finite = vals[np.isfinite(vals)]
        top = vmax if vmax is not None else (float(finite.max()) if finite.size else 1.0)
        bottom = vmin if vmin is not None else (float(finite.min()) if finite.size else 0.0)
        norm = Normalize(vmin=bottom, vmax=top if top > bottom else bottom + 1.0)
        coll, _ = add_cells(
            ax, polys, vals, cmap=cm, norm=norm, edgecolor="white", linewidth=0.25, zorder=3
        )

    if coastlines:
        draw_coastlines(gax, coastline_resolution, geo)
    draw_graticule(gax, geo)

    if magnetic_latitudes is not False:
        draw_magnetic_latitudes(
            ax, cells, magnetic_latitudes, extent, target, geo, mlat_levels, when
        )

    ax.plot(
        [lon0],
        [lat0],
        marker="*",
        markersize=9,
        color="#d62728",
        markeredgecolor="white",
        markeredgewidth=0.6,
        transform=geo,
        zorder=6,
        linestyle="none",
    )
    if code:
        sx, sy = target.transform_point(lon0, lat0, geo)
        ax.annotate(
            code,
            (sx, sy),
            xytext=(5, 5),
            textcoords="offset points",
            fontsize=SIZE_LABEL,
            fontweight="bold",
            color="#d62728",
            zorder=7,
            path_effects=[pe.withStroke(linewidth=2.0, foreground="white")],
        )
    if vals is not None and colorbar and norm is not None:
        cb = gax.get_figure().colorbar(coll, ax=ax, shrink=0.8, pad=0.03)
        assert da is not None
        cb.set_label(value_label(da, da.name), fontsize=SIZE_LABEL)
        cb.ax.tick_params(labelsize=SIZE_SMALL)
    if vals is not None and np.isnan(vals).any():
        ax.legend(handles=[nan_patch()], loc="lower right", fontsize=SIZE_SMALL, framealpha=0.8)
    if title is None:
        alt = cells.attrs.get("altitude_km")
        where = f"cells at {float(alt):g} km" if alt is not None else "cells"
        title = " · ".join(s for s in (code, label, where) if s)
    if title:
        ax.set_title(title, fontsize=SIZE_TITLE)
    return ax
