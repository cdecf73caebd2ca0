"""Keogram figure: time on x, the magnetic meridian from north (top) to south on y.

Colour keograms are shown against the full scale of their dtype, single-channel ones (one
band, 8- or 16-bit) in grey, stretched between percentiles of all the keogram's samples
(:mod:`aurora_xr.plot.stretch`); the camera may have a lens or a per-pixel skymap.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.axes import Axes

from ..analysis.keograms import keogram as _keogram
from ..cube.context import CubeContext
from ..cube.schema import RGB
from ..errors import MissingDimensionError, OptionError, SchemaError
from ._loading import compute_together
from ._style import SIZE_LABEL, SIZE_SMALL, SIZE_TITLE
from .stretch import display_grey, display_rgb

__all__ = ["plot_keogram"]

ALONG = ("magnetic_meridian",)


def _edges(times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column edges (datetime64) for frames, leaving gaps longer than 3 cadences empty.

    Returns the edges of the drawn columns and, for each column, the frame it
    shows (-1 for an empty gap column).
    """
    t = times.astype("datetime64[ns]")
    if t.size == 1:
        step = np.timedelta64(60, "s").astype("timedelta64[ns]")
        return np.array([t[0] - step // 2, t[0] + step // 2]), np.array([0])
    dt = np.diff(t)
    cadence = np.median(dt.astype(np.int64)).astype("timedelta64[ns]")
    edges = [t[0] - cadence // 2]
    frame: list[int] = []
    for i in range(t.size):
        right = t[i] + cadence // 2 if i == t.size - 1 else t[i] + dt[i] // 2
        if i < t.size - 1 and dt[i] > 3 * cadence:
            right = t[i] + cadence // 2
            edges.append(right)
            frame.append(i)
            edges.append(t[i + 1] - cadence // 2)  # an empty column over the gap
            frame.append(-1)
            continue
        edges.append(right)
        frame.append(i)
    return np.asarray(edges, dtype="datetime64[ns]"), np.asarray(frame)


def plot_keogram(
    data: xr.Dataset | xr.DataArray,
    *,
    along: str = "magnetic_meridian",
    time: slice | None = None,
    north_azimuth: float | None = None,
    cells: xr.Dataset | None = None,
    n_samples: int | None = None,
    contrast: float = 1.0,
    ax: Axes | None = None,
    title: str | None = None,
    context: CubeContext | None = None,
    time_dim: Hashable = "time",
    position_dim: Hashable = "position",
    channel_dim: Hashable = "channel",
) -> Axes:
    """Keogram along the magnetic meridian.

    Parameters
    ----------
    data : xarray.Dataset or xarray.DataArray
        An image cube (the keogram is extracted with
        :func:`aurora_xr.analysis.keograms.keogram`) or a keogram from it.
    along : {"magnetic_meridian"}
        The line of the sky to show.
    time : slice, optional
        Time range to show, e.g. ``slice("2020-07-02T00", "2020-07-02T12")``; only
        those frames are computed.
    north_azimuth, cells, n_samples
        Passed to :func:`aurora_xr.analysis.keograms.keogram`.
    contrast : float
        Display gain: colour samples are shown as ``value / full_scale * contrast``,
        single-channel ones in grey between the 1st and 99.5th percentiles of the
        keogram, times ``contrast``.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new figure otherwise.
    title : str, optional
        Axes title (default: station and date range).
    context : CubeContext, optional
        The cube's context when the caller has resolved it already.
    time_dim, position_dim, channel_dim : hashable
        Dimension names.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.dates as mdates

    if along not in ALONG:
        raise OptionError(f"along must be one of {ALONG}; found {along!r}")
    station = ""
    if isinstance(data, xr.Dataset):
        station = str(data.attrs.get("station_code", ""))
        keo = _keogram(
            data,
            north_azimuth=north_azimuth,
            cells=cells,
            n_samples=n_samples,
            time_dim=time_dim,
            position_dim=position_dim,
            context=context,
        )
    elif isinstance(data, xr.DataArray):
        keo = data
    else:
        raise SchemaError(f"expected an image cube or a keogram; found {type(data).__name__}")
    for d in (time_dim, position_dim):
        if d not in keo.dims:
            raise MissingDimensionError(
                f"expected a keogram on ({time_dim!r}, {position_dim!r}[, {channel_dim!r}]); "
                f"found dims {tuple(keo.dims)}"
            )
    if "meridian_angle" not in keo.coords:
        raise SchemaError("expected a 'meridian_angle' coordinate on the keogram")
    if time is not None:
        keo = keo.sel({time_dim: time})
    if keo.sizes[time_dim] == 0:
        raise OptionError(f"no frames in the time range {time}")
    rgb = _colours(keo, contrast, position_dim, time_dim, channel_dim)
    edges_t, frame = _edges(np.asarray(keo[time_dim].values))
    rgba = np.zeros((rgb.shape[0], frame.size, 4), dtype=np.float32)
    shown = frame >= 0
    rgba[:, shown, :3] = rgb[:, frame[shown], :]
    rgba[:, shown, 3] = 1.0
    angle = np.asarray(keo["meridian_angle"].values, dtype=float)
    mid = (angle[1:] + angle[:-1]) / 2.0
    first = angle[0] + (angle[0] - mid[0]) if angle.size > 1 else angle[0] + 0.5
    last = angle[-1] + (angle[-1] - mid[-1]) if angle.size > 1 else angle[-1] - 0.5
    edges_a = np.concatenate([[first], mid, [last]])
    if ax is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(7.0, 3.0), layout="constrained")
        ax = fig.add_subplot()
    ax.set_facecolor("0.85")
    mesh = ax.pcolormesh(mdates.date2num(edges_t), edges_a, rgba, shading="flat", rasterized=True)
    mesh.set_gid("keogram")
    ax.set_ylim(min(edges_a[0], edges_a[-1]), max(edges_a[0], edges_a[-1]))
    ticks = [t for t in (90, 60, 30, 0, -30, -60, -90) if edges_a.min() <= t <= edges_a.max()]
    ax.set_yticks(ticks)
    ax.set_yticklabels([_tick(t) for t in ticks], fontsize=SIZE_SMALL)
    ax.set_ylabel("elevation along the\nmagnetic meridian", fontsize=SIZE_LABEL)
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.tick_params(labelsize=SIZE_SMALL)
    ax.set_xlabel("time (UT)", fontsize=SIZE_LABEL)
    if title is None:
        t0 = np.datetime64(keo[time_dim].values[0], "s")
        t1 = np.datetime64(keo[time_dim].values[-1], "s")
        start = str(t0).replace("T", " ")[:16]
        end = str(t1).replace("T", " ")[:16]
        if end[:10] == start[:10]:
            end = end[11:]
        title = f"{station + ' · ' if station else ''}keogram · {start} – {end} UT"
    if title:
        ax.set_title(title, fontsize=SIZE_TITLE)
    return ax


def _colours(
    keo: xr.DataArray,
    contrast: float,
    position_dim: Hashable,
    time_dim: Hashable,
    channel_dim: Hashable,
) -> np.ndarray:
    """(position, time, 3) display colours of a keogram, computed here."""
    if channel_dim in keo.dims and keo.sizes[channel_dim] == 1:
        keo = keo.squeeze(channel_dim, drop=True)
    if channel_dim in keo.dims and channel_dim in keo.coords and keo.sizes[channel_dim] == 3:
        keo = keo.sel({channel_dim: list(RGB)})
    order = [position_dim, time_dim] + ([channel_dim] if channel_dim in keo.dims else [])
    (keo,) = compute_together(keo.transpose(*order))
    values = np.asarray(keo.values)
    if values.ndim == 3:
        return display_rgb(values, contrast)
    return display_grey(values, contrast)


def _tick(angle: Any) -> str:
    a = float(angle)
    el = 90.0 - abs(a)
    if a == 90.0:
        return "N 0°"
    if a == -90.0:
        return "S 0°"
    if a == 0.0:
        return "zenith"
    return f"{'N' if a > 0 else 'S'} {el:g}°"
