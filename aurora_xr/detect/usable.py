"""Which frames are usable for an occurrence map.

A frame is usable when the sun is low enough (default below -10° elevation,
from :func:`aurora_xr.cube.frames.sun_elevation`), it is not blank (the mean value
of the sky in the brightness channel, green for a colour camera and the only
channel otherwise, is at or above ``blank_level``) and not saturated (at most
``max_saturated_fraction`` of the sky pixels at the top of the dtype in any
channel). The moon and clouds are carried as variables and filter only when
asked (``max_moon_elevation``, ``max_cloud_fraction``).

Everything is lazy on a chunked cube: the frame statistics are one pass over
each time chunk.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from ..cube.context import CubeContext, context_of
from ..cube.frames import frame_moon_elevation, frame_sun_elevation
from ..cube.schema import brightness_channel
from ..errors import MissingVariableError, OptionError

__all__ = ["frame_statistics_kernel", "usable_frames"]

_STAT_DIM = "__frame_statistic"


def frame_statistics_kernel(
    frames: NDArray[Any], sky: NDArray[np.bool_], *, channel: int
) -> NDArray[np.float32]:
    """Mean brightness and saturated fraction of the sky pixels of each frame.

    Parameters
    ----------
    frames : (T, H, W, C) ndarray of uint8 or uint16
    sky : (H, W) ndarray of bool
        Pixels to consider (inside the lens circle).
    channel : int
        Position of the brightness channel (green for a colour camera).

    Returns
    -------
    (T, 2) ndarray of float32
        ``[:, 0]`` the mean value of that channel, ``[:, 1]`` the fraction of sky
        pixels with any channel at the dtype maximum.
    """
    t = frames.shape[0]
    flat = frames.reshape(t, -1, frames.shape[-1])
    where = np.flatnonzero(np.asarray(sky).ravel())
    out = np.full((t, 2), np.nan, dtype=np.float32)
    if where.size == 0 or t == 0:
        return out
    pixels = np.take(flat, where, axis=1)
    top = np.iinfo(frames.dtype).max
    out[:, 0] = pixels[..., channel].mean(axis=1, dtype=np.float64)
    out[:, 1] = (pixels == top).any(axis=-1).mean(axis=1, dtype=np.float64)
    return out


def usable_frames(
    ds: xr.Dataset,
    *,
    max_sun_elevation: float | None = -10.0,
    blank_level: float | None = 2.0,
    max_saturated_fraction: float | None = 0.1,
    max_moon_elevation: float | None = None,
    max_cloud_fraction: float | None = None,
    context: CubeContext | None = None,
    image_var: Hashable = "image",
    time_dim: Hashable = "time",
    y_dim: Hashable = "y",
    x_dim: Hashable = "x",
    channel_dim: Hashable = "channel",
) -> xr.Dataset:
    """Per-frame usability flags and the quantities behind them, lazily.

    Parameters
    ----------
    ds : xarray.Dataset
        Image cube with station attributes.
    max_sun_elevation : float or None
        Frames with the sun at or above this elevation (degrees) are unusable;
        None: no sun filter.
    blank_level : float or None
        Frames whose mean sky value in the brightness channel (green for a
        colour camera, else the only channel) is below this (counts of an 8-bit
        frame) are blank; None: no filter. For 16-bit frames the level is in raw
        counts, unscaled: scientific cameras write 12 to 16 significant bits above a
        bias of their own (the real skies of THEMIS, TREx and Poker Flat sit at 400 to
        11,000 counts), so only an empty frame is blank by default.
    max_saturated_fraction : float or None
        Frames with more than this fraction of saturated sky pixels are
        unusable; None: no filter.
    max_moon_elevation : float or None
        Frames with the moon above this elevation (degrees) are unusable;
        default None: the moon is not filtered (``moon_elevation`` is then
        carried only if the cube has it).
    max_cloud_fraction : float or None
        Frames whose ``cloud_fraction`` variable exceeds this are unusable;
        default None (needs a ``cloud_fraction`` variable when set).
    context : CubeContext, optional
        The cube's context when the caller has resolved it already.
    image_var, time_dim, y_dim, x_dim, channel_dim : str
        Names in the cube.

    Returns
    -------
    xarray.Dataset
        On ``time``: ``usable`` (bool; its ``filters`` attribute says which
        filters were applied), ``sun_elevation``, ``sky_mean``,
        ``saturated_fraction``, and ``moon_elevation``, ``moon_up``,
        ``cloud_fraction`` where known.
    """
    ctx = context_of(
        ds,
        context,
        image_var=image_var,
        time_dim=time_dim,
        y_dim=y_dim,
        x_dim=x_dim,
        channel_dim=channel_dim,
        require_image=True,
    )
    for name, value in (
        ("max_saturated_fraction", max_saturated_fraction),
        ("max_cloud_fraction", max_cloud_fraction),
    ):
        if value is not None and not 0.0 <= value <= 1.0:
            raise OptionError(f"expected {name} in [0, 1] or None; found {value}")
    image = ds[image_var]
    bright = brightness_channel(ctx.channels) if ctx.channels else 1
    has_grids = "elevation" in ds.variables
    sky = ctx.sky_mask if has_grids else np.ones(ctx.require_shape(), dtype=bool)
    sky_da = xr.DataArray(sky, dims=(y_dim, x_dim))
    if image.chunks is not None:
        image = image.chunk({y_dim: -1, x_dim: -1, channel_dim: -1})
    stats = xr.apply_ufunc(
        frame_statistics_kernel,
        image,
        sky_da,
        input_core_dims=[[y_dim, x_dim, channel_dim], [y_dim, x_dim]],
        output_core_dims=[[_STAT_DIM]],
        dask="parallelized",
        output_dtypes=[np.float32],
        dask_gufunc_kwargs={"output_sizes": {_STAT_DIM: 2}},
        kwargs={"channel": bright},
        keep_attrs=False,
    )
    out = xr.Dataset(coords={time_dim: ds[time_dim]})
    out["sky_mean"] = stats.isel({_STAT_DIM: 0}, drop=True).assign_attrs(
        long_name="mean value of the sky pixels in the brightness channel",
        units="1",
        channel=ctx.channels[bright] if ctx.channels else "G",
    )
    out["saturated_fraction"] = stats.isel({_STAT_DIM: 1}, drop=True).assign_attrs(
        long_name="fraction of sky pixels saturated in any channel", units="1"
    )
    usable = xr.DataArray(
        np.ones(ds.sizes[time_dim], dtype=bool), dims=(time_dim,), coords={time_dim: ds[time_dim]}
    )
    filters: list[str] = []
    if max_sun_elevation is not None:
        sun = frame_sun_elevation(ds, context=ctx, time_dim=time_dim)
        out["sun_elevation"] = sun
        usable = usable & (sun < max_sun_elevation)
        filters.append(f"sun_elevation < {max_sun_elevation:g} degree")
    if blank_level is not None:
        usable = usable & (out["sky_mean"] >= blank_level)
        filters.append(f"sky_mean >= {blank_level:g}")
    if max_saturated_fraction is not None:
        usable = usable & (out["saturated_fraction"] <= max_saturated_fraction)
        filters.append(f"saturated_fraction <= {max_saturated_fraction:g}")
    if max_moon_elevation is not None:
        moon = frame_moon_elevation(ds, context=ctx, time_dim=time_dim)
        out["moon_elevation"] = moon
        usable = usable & ~(moon > max_moon_elevation)
        filters.append(f"moon_elevation <= {max_moon_elevation:g} degree")
    elif "moon_elevation" in ds.variables:
        out["moon_elevation"] = ds["moon_elevation"]
    if "moon_up" in ds.variables:
        out["moon_up"] = ds["moon_up"]
    if "cloud_fraction" in ds.variables:
        out["cloud_fraction"] = ds["cloud_fraction"]
    if max_cloud_fraction is not None:
        if "cloud_fraction" not in ds.variables:
            raise MissingVariableError(
                "max_cloud_fraction needs a 'cloud_fraction' (time,) variable in the cube; "
                "found none (attach a conditions table: ds.aurora.attach_conditions(csv), "
                "or --conditions CSV on the command line)"
            )
        usable = usable & ~(ds["cloud_fraction"] > max_cloud_fraction)
        filters.append(f"cloud_fraction <= {max_cloud_fraction:g}")
    out["usable"] = usable.assign_attrs(
        long_name="frame usable for occurrence statistics",
        units="1",
        filters="; ".join(filters) or "none",
    )
    out.attrs["filters"] = out["usable"].attrs["filters"]
    return out
