"""Geographic maps of the cells at emission altitude (cartopy, imported when called).

Coastlines come from Natural Earth shapefiles *already on disk* (cartopy's
``pre_existing_data_dir`` or ``data_dir``); aurora_xr never lets cartopy
download them. When they are absent the coastline layer is skipped with a
:class:`~aurora_xr.plot.MissingMapDataWarning`.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib.patheffects as pe
import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.colors import Colormap, Normalize

from ..errors import MissingVariableError, OptionError, SchemaError
from . import _common as c
from ._style import GRID_LIGHT, SIZE_LABEL, SIZE_SMALL, SIZE_TITLE
from ._warnings import MissingMapDataWarning

__all__ = ["natural_earth_path", "plot_cell_map"]

PROJECTIONS = ("Orthographic", "SouthPolarStereo", "NorthPolarStereo")
_WHEN_ATTRS = ("magnetic_epoch", "epoch", "time_coverage_start", "time_start", "start_time")


def _cartopy() -> tuple[Any, Any, Any]:
    try:
        import cartopy
        import cartopy.crs as ccrs
        import cartopy.io.shapereader as shpreader
    except ImportError as exc:  # pragma: no cover - cartopy is a dependency
        raise ImportError(
            "plot_cell_map needs cartopy: pip install cartopy (or conda install -c conda-forge "
            "cartopy)"
        ) from exc
    return cartopy, ccrs, shpreader


def natural_earth_path(
    *, resolution: str = "50m", category: str = "physical", name: str = "coastline"
) -> Path | None:
    """Path of a Natural Earth shapefile already on disk, or None; never downloads.

    Looks where :func:`cartopy.io.shapereader.natural_earth` would look
    (``cartopy.config["pre_existing_data_dir"]``, then ``data_dir``) but,
    unlike it, does not fetch a missing file.

    Parameters
    ----------
    resolution : {"10m", "50m", "110m"}
        Natural Earth scale.
    category : str
        ``"physical"`` or ``"cultural"``.
    name : str
        Dataset name, e.g. ``"coastline"``.
    """
    cartopy, _, _ = _cartopy()  # importing shapereader registers the Natural Earth downloader
    from cartopy.io import Downloader

    downloader = Downloader.from_config(("shapefiles", "natural_earth", resolution, category, name))
    fmt = {"config": cartopy.config, "category": category, "name": name, "resolution": resolution}
    for path in (downloader.pre_downloaded_path(fmt), downloader.target_path(fmt)):
        if path is not None and Path(path).is_file():
            return Path(path)
    return None


def _projection(projection: Any, lat0: float, lon0: float) -> Any:
    _, ccrs, _ = _cartopy()
    if not isinstance(projection, str):
        return projection
    if projection == "Orthographic":
        return ccrs.Orthographic(central_longitude=lon0, central_latitude=lat0)
    if projection == "SouthPolarStereo":
        return ccrs.SouthPolarStereo(central_longitude=lon0)
    if projection == "NorthPolarStereo":
        return ccrs.NorthPolarStereo(central_longitude=lon0)
    raise OptionError(
        f"projection must be one of {PROJECTIONS} or a cartopy CRS; found {projection!r}"
    )


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
    (el, lat, lon) = c.compute_together(ds["cell_elevation"], ds["cell_lat"], ds["cell_lon"])
    k = int(np.nanargmax(np.asarray(el.values, dtype=float)))
    return "", float(lat.values[k]), float(lon.values[k])


def _when(ds: xr.Dataset, when: Any) -> Any:
    """The epoch for AACGM: given, from the attributes, or the first time coordinate."""
    if when is None:
        for key in _WHEN_ATTRS:
            if key in ds.attrs:
                return ds.attrs[key]
        if "time" in ds.coords and ds["time"].size:
            return np.asarray(ds["time"].values).ravel()[0]
        raise OptionError(
            "magnetic-latitude circles need a date for AACGM: pass when=... (a year or a "
            f"date), or magnetic_latitudes=False; found none of the attributes {_WHEN_ATTRS}"
        )
    return when


def _values(
    ds: xr.Dataset,
    values: xr.DataArray | str | None,
    *,
    mlt: float | None,
    method: Any,
    sel: Mapping[Hashable, Any] | None,
    cell_dim: Hashable,
) -> tuple[xr.DataArray | None, str]:
    from .occurrence import _hour, _select, mlt_bin

    if values is None:
        if mlt is None or "occurrence_rate" not in ds.data_vars:
            return None, ""
        values = "occurrence_rate"
    if isinstance(values, str):
        da, label = _select(ds, variable=values, method=method, sel=sel, method_dim="method")
        if "mlt" in da.dims:
            if mlt is None:
                raise OptionError(f"{values!r} is on 'mlt': pass mlt= to pick a bin")
            i, lo, hi = mlt_bin(da["mlt"].values, mlt)
            da = da.isel(mlt=i)
            label = " · ".join(s for s in (label, f"MLT {_hour(lo)}–{_hour(hi)}") if s)
    else:
        da, label = values, str(values.name or "")
    c.require_cell_dims(da, cell_dim, "the map values")
    return da, label


def plot_cell_map(
    cells: xr.Dataset,
    *,
    values: xr.DataArray | str | None = None,
    mlt: float | None = None,
    method: Any = None,
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
        A cell grid (:func:`aurora_xr.geo.cells.cell_grid`) or an occurrence
        product carrying the cell coordinates ``cell_vertices_lat``/``_lon``.
    values : DataArray or str, optional
        Values to colour the cells by: a ``(cell,)`` DataArray or the name of
        a variable of ``cells`` (selected with ``mlt``, ``method``, ``sel``).
        Default: ``occurrence_rate`` when ``mlt`` is given, else outlines only.
    mlt, method, sel
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
    _, ccrs, shpreader = _cartopy()
    if not isinstance(cells, xr.Dataset):
        raise SchemaError(f"expected a cell grid Dataset; found {type(cells).__name__}")
    for name in ("cell_vertices_lat", "cell_vertices_lon"):
        if name not in cells.variables:
            raise MissingVariableError(
                f"expected cell vertices 'cell_vertices_lat' and 'cell_vertices_lon' (from "
                f"aurora_xr.geo.cells.cell_grid); missing {name!r}"
            )
    code, lat0, lon0 = _centre(cells, cell_dim)
    crs = _projection(projection, lat0, lon0)
    geo = ccrs.PlateCarree()
    da, label = _values(cells, values, mlt=mlt, method=method, sel=sel, cell_dim=cell_dim)
    lat_v, lon_v = cells["cell_vertices_lat"], cells["cell_vertices_lon"]
    vdim = next(d for d in lat_v.dims if d != cell_dim)
    lat_v, lon_v, da = c.compute_together(
        lat_v.transpose(cell_dim, vdim), lon_v.transpose(cell_dim, vdim), da
    )
    polys: list[np.ndarray] = []
    for la, lo in zip(
        np.asarray(lat_v.values, float), np.asarray(lon_v.values, float), strict=True
    ):
        dla, dlo = c.densify(la, lo, 4, periodic_b=True)
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
        coll, _ = c.add_cells(ax, polys, None, edgecolor="#3b5b92", linewidth=0.4, zorder=3)
        coll.set_facecolor((0.23, 0.36, 0.57, 0.08))
    else:
        finite = vals[np.isfinite(vals)]
        top = vmax if vmax is not None else (float(finite.max()) if finite.size else 1.0)
        bottom = vmin if vmin is not None else (float(finite.min()) if finite.size else 0.0)
        norm = Normalize(vmin=bottom, vmax=top if top > bottom else bottom + 1.0)
        coll, _ = c.add_cells(
            ax, polys, vals, cmap=cm, norm=norm, edgecolor="white", linewidth=0.25, zorder=3
        )

    if coastlines:
        path = natural_earth_path(resolution=coastline_resolution)
        if path is None:
            warnings.warn(
                MissingMapDataWarning(
                    f"Natural Earth {coastline_resolution} coastlines are not on disk (looked "
                    "in cartopy.config['pre_existing_data_dir'] and ['data_dir']); the map is "
                    "drawn without coastlines. aurora_xr does not download map data."
                ),
                stacklevel=2,
            )
        else:
            geoms = list(shpreader.Reader(str(path)).geometries())
            art = gax.add_geometries(
                geoms, crs=geo, facecolor="none", edgecolor="0.2", linewidth=0.7, zorder=4
            )
            art.set_gid("coastlines")

    gl = gax.gridlines(
        crs=geo,
        draw_labels=True,
        linewidth=0.4,
        color="0.55",
        alpha=0.8,
        linestyle=":",
        zorder=2,
    )
    import matplotlib.ticker as mticker

    gl.xlocator = mticker.MultipleLocator(10.0)
    gl.ylocator = mticker.MultipleLocator(2.0)
    gl.top_labels = False
    gl.right_labels = False
    gl.xlabel_style = {"size": SIZE_SMALL, "color": "0.3"}
    gl.ylabel_style = {"size": SIZE_SMALL, "color": "0.3"}

    if magnetic_latitudes is not False:
        _draw_mlat(ax, cells, magnetic_latitudes, extent, target, geo, mlat_levels, when)

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
        from .occurrence import _label

        assert da is not None
        cb.set_label(_label(da, da.name), fontsize=SIZE_LABEL)
        cb.ax.tick_params(labelsize=SIZE_SMALL)
    if vals is not None and np.isnan(vals).any():
        ax.legend(handles=[c.nan_patch()], loc="lower right", fontsize=SIZE_SMALL, framealpha=0.8)
    if title is None:
        alt = cells.attrs.get("altitude_km")
        where = f"cells at {float(alt):g} km" if alt is not None else "cells"
        title = " · ".join(s for s in (code, label, where) if s)
    if title:
        ax.set_title(title, fontsize=SIZE_TITLE)
    return ax


def _draw_mlat(
    ax: Axes,
    ds: xr.Dataset,
    magnetic_latitudes: bool | xr.DataArray,
    extent: tuple[float, float, float, float],
    target: Any,
    geo: Any,
    levels: Sequence[float] | None,
    when: Any,
) -> None:
    if isinstance(magnetic_latitudes, xr.DataArray):
        mlat = magnetic_latitudes
        lat_name = next((d for d in mlat.dims if "lat" in str(d)), mlat.dims[0])
        lon_name = next((d for d in mlat.dims if "lon" in str(d)), mlat.dims[-1])
        mlat = mlat.transpose(lat_name, lon_name)
        lon2, lat2 = np.meshgrid(mlat[lon_name].values, mlat[lat_name].values)
        pts = target.transform_points(geo, lon2, lat2)
        xx, yy = pts[..., 0], pts[..., 1]
        zz = np.asarray(mlat.values, dtype=float)
    else:
        from ..geo import aacgm as geomag

        # a grid over the map in projection coordinates, mapped back to lat/lon
        xs = np.linspace(extent[0], extent[1], 60)
        ys = np.linspace(extent[2], extent[3], 60)
        xx, yy = np.meshgrid(xs, ys)
        ll = geo.transform_points(target, xx, yy)
        alt = float(ds.attrs.get("altitude_km", 110.0))
        zz, _ = geomag.aacgm_coords(ll[..., 1], ll[..., 0], altitude_km=alt, when=_when(ds, when))
        zz = np.asarray(zz, dtype=float)
    finite = zz[np.isfinite(zz)]
    if finite.size == 0:
        return
    if levels is None:
        lo, hi = np.floor(finite.min() / 5.0) * 5.0, np.ceil(finite.max() / 5.0) * 5.0
        levels = [v for v in np.arange(lo, hi + 0.1, 5.0) if finite.min() < v < finite.max()]
    if not levels:
        return
    cs = ax.contour(
        xx,
        yy,
        zz,
        levels=sorted(levels),
        colors=[GRID_LIGHT],
        linewidths=0.8,
        linestyles="--",
        zorder=5,
        transform=target,
    )
    cs.set_gid("magnetic_latitude")
    ax.clabel(cs, fmt=lambda v: f"{v:g}° MLAT", fontsize=SIZE_SMALL, inline=True)
