"""What lies under the cells of a geographic map: projection, coastlines, graticule and
circles of magnetic latitude (cartopy, imported when a map is drawn).

Coastlines come from Natural Earth shapefiles *already on disk* (cartopy's
``pre_existing_data_dir`` or ``data_dir``); aurora_xr never lets cartopy
download them. When they are absent the coastline layer is skipped with a
:class:`~aurora_xr.plot.MissingMapDataWarning`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.axes import Axes

from ..errors import OptionError
from ._style import GRID_LIGHT, SIZE_SMALL
from ._warnings import MissingMapDataWarning

__all__ = [
    "PROJECTIONS",
    "cartopy_modules",
    "draw_coastlines",
    "draw_graticule",
    "draw_magnetic_latitudes",
    "magnetic_epoch",
    "map_projection",
    "natural_earth_path",
]

PROJECTIONS = ("Orthographic", "SouthPolarStereo", "NorthPolarStereo")
_WHEN_ATTRS = ("magnetic_epoch", "epoch", "time_coverage_start", "time_start", "start_time")


def cartopy_modules() -> tuple[Any, Any, Any]:
    """``cartopy``, ``cartopy.crs`` and ``cartopy.io.shapereader``, imported now."""
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
    cartopy, _, _ = (
        cartopy_modules()
    )  # importing shapereader registers the Natural Earth downloader
    from cartopy.io import Downloader

    downloader = Downloader.from_config(("shapefiles", "natural_earth", resolution, category, name))
    fmt = {"config": cartopy.config, "category": category, "name": name, "resolution": resolution}
    for path in (downloader.pre_downloaded_path(fmt), downloader.target_path(fmt)):
        if path is not None and Path(path).is_file():
            return Path(path)
    return None


def map_projection(projection: Any, lat0: float, lon0: float) -> Any:
    """A cartopy CRS centred on ``(lat0, lon0)`` from its name (a CRS passes through)."""
    _, ccrs, _ = cartopy_modules()
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


def magnetic_epoch(ds: xr.Dataset, when: Any) -> Any:
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


def draw_coastlines(gax: Any, resolution: str, geo: Any) -> None:
    """Natural Earth coastlines from disk (gid ``coastlines``), or a warning without them."""
    _, _, shpreader = cartopy_modules()
    path = natural_earth_path(resolution=resolution)
    if path is None:
        warnings.warn(
            MissingMapDataWarning(
                f"Natural Earth {resolution} coastlines are not on disk (looked "
                "in cartopy.config['pre_existing_data_dir'] and ['data_dir']); the map is "
                "drawn without coastlines. aurora_xr does not download map data."
            ),
            stacklevel=3,
        )
        return
    geoms = list(shpreader.Reader(str(path)).geometries())
    art = gax.add_geometries(
        geoms, crs=geo, facecolor="none", edgecolor="0.2", linewidth=0.7, zorder=4
    )
    art.set_gid("coastlines")


def draw_graticule(gax: Any, geo: Any) -> None:
    """Dotted meridians every 10° and parallels every 2°, labelled left and bottom."""
    import matplotlib.ticker as mticker

    gl = gax.gridlines(
        crs=geo,
        draw_labels=True,
        linewidth=0.4,
        color="0.55",
        alpha=0.8,
        linestyle=":",
        zorder=2,
    )
    gl.xlocator = mticker.MultipleLocator(10.0)
    gl.ylocator = mticker.MultipleLocator(2.0)
    gl.top_labels = False
    gl.right_labels = False
    gl.xlabel_style = {"size": SIZE_SMALL, "color": "0.3"}
    gl.ylabel_style = {"size": SIZE_SMALL, "color": "0.3"}


def draw_magnetic_latitudes(
    ax: Axes,
    ds: xr.Dataset,
    magnetic_latitudes: bool | xr.DataArray,
    extent: tuple[float, float, float, float],
    target: Any,
    geo: Any,
    levels: Sequence[float] | None,
    when: Any,
) -> None:
    """Contours of magnetic latitude over ``extent``: AACGM-v2, or a given (lat, lon) field."""
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
        zz, _ = geomag.aacgm_coords(
            ll[..., 1], ll[..., 0], altitude_km=alt, when=magnetic_epoch(ds, when)
        )
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
