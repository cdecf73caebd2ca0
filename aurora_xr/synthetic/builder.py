"""``synthetic_cube``: the synthetic sky as an image cube of the data model (DESIGN §2)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import dask
import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr
from numpy.typing import NDArray

from ..cube.build import CHANNELS, CONVENTIONS, cf_attributes, history_line, package_version
from ..errors import OptionError
from ..geo.aacgm import check_date_range
from ..sky.lens import sky_grids
from ..sky.stations import Station, get_station
from .aurora import AuroraOptions
from .render import TRUTH_OUTLINE_DEG, TRUTH_THRESHOLD_DN, FrameBatch, SkyOptions, render_frames

__all__ = ["TRUTH_DEFINITION", "frame_times", "sky_options", "synthetic_cube"]

DEFAULT_N_FRAMES = 60

TRUTH_DEFINITION = (
    "The region an expert would outline where the aurora is visible in the frame. Visible: the "
    "aurora raises the noise-free green value of the pixel, after clouds, vignetting, the horizon "
    "silhouette and 8-bit saturation, by at least the threshold (attribute threshold_dn), so it is "
    "hidden by thick cloud, buildings and a sky saturated by the moon. Outlined: the visible "
    "pixels smoothed at the scale of attribute outline_deg degrees and kept where at least 40 % "
    "of the neighbourhood is visible"
)


@dataclass(frozen=True)
class _Request:
    station: Station
    height: int
    width: int
    times: NDArray[np.datetime64]
    options: SkyOptions


def _as_timestamp(value: Any, name: str) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise OptionError(
            f"expected {name} as a date/time (e.g. '2020-06-21T00:00'); found {value!r}"
        ) from exc
    if stamp is pd.NaT:
        raise OptionError(f"expected {name} as a date/time; found {value!r}")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp


def _as_timedelta(value: Any, name: str) -> pd.Timedelta:
    try:
        delta = pd.Timedelta(value)
    except (TypeError, ValueError) as exc:
        raise OptionError(
            f"expected {name} as a duration (e.g. '1min', '6h'); found {value!r}"
        ) from exc
    if delta is pd.NaT:
        raise OptionError(f"expected {name} as a duration; found {value!r}")
    return delta


def frame_times(
    *,
    start: Any = "2020-06-21T00:00",
    n_frames: int | None = None,
    duration: Any = None,
    cadence: Any = "1min",
) -> NDArray[np.datetime64]:
    """The frame times (datetime64[ns], UTC) of a synthetic run.

    Give at most one of ``n_frames`` and ``duration``; with neither, 60
    frames. With ``duration``, frames are ``start + k * cadence`` for every
    ``k`` with ``k * cadence < duration``.
    """
    t0 = _as_timestamp(start, "start")
    step = _as_timedelta(cadence, "cadence")
    if step <= pd.Timedelta(0):
        raise OptionError(f"expected a positive cadence; found {cadence!r}")
    if n_frames is not None and duration is not None:
        raise OptionError(
            f"give n_frames or duration, not both; found n_frames={n_frames!r}, "
            f"duration={duration!r}"
        )
    if duration is not None:
        span = _as_timedelta(duration, "duration")
        if span <= pd.Timedelta(0):
            raise OptionError(f"expected a positive duration; found {duration!r}")
        count = int(-(-span.value // step.value))
    elif n_frames is not None:
        if isinstance(n_frames, bool) or not isinstance(n_frames, int | np.integer):
            raise OptionError(f"expected n_frames as an int; found {n_frames!r}")
        count = int(n_frames)
    else:
        count = DEFAULT_N_FRAMES
    if count < 1:
        raise OptionError(f"expected at least one frame; found n_frames={count}")
    base = np.datetime64(t0.value, "ns")
    return base + np.arange(count, dtype=np.int64) * np.timedelta64(step.value, "ns")


def _frame_size(size: Any) -> tuple[int, int]:
    if isinstance(size, bool):
        raise OptionError(f"expected size as an int or (height, width); found {size!r}")
    if isinstance(size, int | np.integer):
        height = width = int(size)
    elif isinstance(size, tuple | list) and len(size) == 2:
        height, width = (int(v) for v in size)
    else:
        raise OptionError(f"expected size as an int or (height, width); found {size!r}")
    if min(height, width) < 16:
        raise OptionError(f"expected frames of at least 16 x 16 pixels; found {height} x {width}")
    return height, width


def _fraction(value: Any, name: str) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError) as exc:
        raise OptionError(f"expected {name} as a number in [0, 1]; found {value!r}") from exc
    if not 0.0 <= out <= 1.0:
        raise OptionError(f"expected {name} in [0, 1]; found {value!r}")
    return out


def prepare_sky(
    *,
    station: str | Station,
    size: int | tuple[int, int],
    start: Any,
    n_frames: int | None,
    duration: Any,
    cadence: Any,
    **sky: Any,
) -> tuple[Station, int, int, SkyOptions, NDArray[np.datetime64]]:
    """Checked station, frame size, sky options and frame times of one request.

    Shared by :func:`synthetic_cube` and the archive writer so both read their
    options the same way; ``sky`` holds the keywords of :func:`sky_options`.
    """
    stn = get_station(station)
    height, width = _frame_size(size)
    options = sky_options(**sky)
    times = frame_times(start=start, n_frames=n_frames, duration=duration, cadence=cadence)
    check_date_range(times)
    return stn, height, width, options, times


def sky_options(
    *,
    seed: int = 0,
    moon: bool | str = "auto",
    clouds: float = 0.25,
    stationary_fraction: float = 0.5,
    mlt_occurrence: bool = True,
    activity: float = 1.0,
    truth_threshold: float = TRUTH_THRESHOLD_DN,
    truth_outline_deg: float = TRUTH_OUTLINE_DEG,
) -> SkyOptions:
    """Checked options of the synthetic sky (see :func:`synthetic_cube`)."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise OptionError(f"expected seed as a non-negative int; found {seed!r}")
    if not (moon is True or moon is False or (isinstance(moon, str) and moon == "auto")):
        raise OptionError(f"expected moon as True, False or 'auto'; found {moon!r}")
    if not isinstance(mlt_occurrence, bool | np.bool_):
        raise OptionError(f"expected mlt_occurrence as a bool; found {mlt_occurrence!r}")
    try:
        act = float(activity)
    except (TypeError, ValueError) as exc:
        raise OptionError(f"expected activity as a number >= 0; found {activity!r}") from exc
    if not act >= 0.0:
        raise OptionError(f"expected activity >= 0; found {activity!r}")
    thr = float(truth_threshold)
    if not thr > 0.0:
        raise OptionError(f"expected truth_threshold > 0 DN; found {truth_threshold!r}")
    outline = float(truth_outline_deg)
    if not 0.0 <= outline <= 30.0:
        raise OptionError(
            f"expected truth_outline_deg in [0, 30] degrees; found {truth_outline_deg!r}"
        )
    return SkyOptions(
        seed=int(seed),
        moon=moon,
        clouds=_fraction(clouds, "clouds"),
        aurora=AuroraOptions(
            activity=act,
            stationary_fraction=_fraction(stationary_fraction, "stationary_fraction"),
            mlt_occurrence=bool(mlt_occurrence),
        ),
        truth_threshold=thr,
        truth_outline_deg=outline,
    )


def _time_chunks(n: int, chunks: Any) -> tuple[int, ...] | None:
    if chunks is None:
        return None
    size = chunks.get("time") if isinstance(chunks, Mapping) else chunks
    if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
        raise OptionError(f"expected chunks as a positive int or {{'time': int}}; found {chunks!r}")
    size = int(size)
    return tuple([size] * (n // size) + ([n % size] if n % size else []))


def _render(req: _Request) -> FrameBatch:
    return render_frames(
        req.station, req.height, req.width, req.times.astype(np.int64), req.options
    )


def _field(batch: FrameBatch, name: str) -> NDArray[Any]:
    return getattr(batch, name)


def synthetic_cube(
    *,
    start: Any = "2020-06-21T00:00",
    n_frames: int | None = None,
    duration: Any = None,
    cadence: Any = "1min",
    size: int | tuple[int, int] = 256,
    seed: int = 0,
    station: str | Station = "JBS",
    moon: bool | str = "auto",
    clouds: float = 0.25,
    stationary_fraction: float = 0.5,
    mlt_occurrence: bool = True,
    activity: float = 1.0,
    truth_threshold: float = TRUTH_THRESHOLD_DN,
    truth_outline_deg: float = TRUTH_OUTLINE_DEG,
    chunks: int | Mapping[str, int] | None = None,
) -> xr.Dataset:
    """A synthetic all-sky image cube with exact aurora truth.

    The sky of an all-sky camera at ``station``: fisheye lens with dark
    corners, airglow brightening towards the horizon, the station's light
    dome and horizon silhouette (hills, buildings, masts), stars and the Milky
    Way turning about the celestial pole at the sidereal rate, the moon with
    its glare, drifting clouds, twilight when the sun is less than 19° below
    the horizon, and auroral arcs and patches along magnetic latitude circles
    (green with red upper borders, rays), dynamic or stationary, with an
    occurrence that depends on magnetic local time. Shot and read noise,
    8-bit output.

    Every frame depends only on ``seed``, its time and the options: the same
    frame comes out whether it is made alone, inside a longer run or in any
    chunking, so a multi-year archive can be made piece by piece.

    Parameters
    ----------
    start : str, datetime or datetime64
        Time of the first frame (UTC; a time-zone-aware value is converted).
        The default is mid-winter at JBS (polar night).
    n_frames : int, optional
        Number of frames (default 60 when ``duration`` is not given either).
    duration : str or timedelta, optional
        Length of the run instead of ``n_frames`` (``"6h"``, ``"3D"``).
    cadence : str or timedelta
        Time between frames.
    size : int or (int, int)
        Frame size (square, or ``(height, width)``); the station's camera
        calibration is scaled to it.
    seed : int
        Seed of the weather, the aurora and the noise (the star field is the
        same for every seed, like the real sky).
    station : str or Station
        A registered station code or a :class:`~aurora_xr.Station`.
    moon : {"auto", True, False}
        ``"auto"``: the real moon (low-precision ephemeris) when it is up;
        True: always a moon, the real one lifted to at least 8° (mirrored
        above the horizon when it is down) and at least half illuminated;
        False: never.
    clouds : float in [0, 1]
        Mean fraction of the sky covered by cloud; the cover drifts and varies
        slowly around it (0: always clear, 1: overcast).
    stationary_fraction : float in [0, 1]
        Share of auroral forms that are stationary (more in the evening
        sector, fewer near dawn and noon).
    mlt_occurrence : bool
        True: occurrence and position depend on magnetic local time; False:
        the same mixture of forms at every MLT.
    activity : float
        Multiplier of the auroral occurrence rate (0: no aurora).
    truth_threshold : float
        Minimum green increase (DN) of a visible aurora pixel.
    truth_outline_deg : float
        Scale (degrees of zenith angle) at which the visible pixels are
        outlined into the truth region, like a hand-drawn label; 0 keeps the
        visible pixels themselves.
    chunks : int or {"time": int}, optional
        Make a lazy, dask-backed cube with this many frames per chunk (one
        task per chunk); None renders in memory.

    Returns
    -------
    xarray.Dataset
        ``image`` (time, y, x, channel) uint8, ``aurora_truth`` (time, y, x)
        bool, ``aurora_kind`` (time, y, x) uint8 (0 none, 1 dynamic, 2
        stationary), per-frame ``moon_up`` (bool) and ``cloud_fraction``
        (float32, share of the visible sky under cloud of opacity > 0.5);
        coordinates ``time``, ``channel``, ``elevation``, ``azimuth``;
        station and calibration attributes, ``Conventions``, ``title``,
        ``source`` (generator, version, seed) and ``history``.

    Raises
    ------
    OptionError
        For options of the wrong type or range.
    StationError
        For an unknown station code.
    DateRangeError
        For times outside AACGM-v2's range (1990-2029).

    Examples
    --------
    >>> cube = synthetic_cube(n_frames=2, size=64, seed=1)
    >>> dict(cube.image.sizes), str(cube.image.dtype)
    ({'time': 2, 'y': 64, 'x': 64, 'channel': 3}, 'uint8')
    """
    stn, height, width, options, times = prepare_sky(
        station=station,
        size=size,
        start=start,
        n_frames=n_frames,
        duration=duration,
        cadence=cadence,
        seed=seed,
        moon=moon,
        clouds=clouds,
        stationary_fraction=stationary_fraction,
        mlt_occurrence=mlt_occurrence,
        activity=activity,
        truth_threshold=truth_threshold,
        truth_outline_deg=truth_outline_deg,
    )
    n = times.size
    layout = _time_chunks(n, chunks)
    names = ("image", "aurora_truth", "aurora_kind", "moon_up", "cloud_fraction")
    fields = ("image", "truth", "kind", "moon_up", "cloud_fraction")
    dims = (
        ("time", "y", "x", "channel"),
        ("time", "y", "x"),
        ("time", "y", "x"),
        ("time",),
        ("time",),
    )
    dtypes = (np.uint8, np.bool_, np.uint8, np.bool_, np.float32)
    if layout is None:
        batch = _render(_Request(stn, height, width, times, options))
        data: list[Any] = [getattr(batch, f) for f in fields]
    else:
        pieces: list[list[Any]] = [[] for _ in names]
        begin = 0
        for count in layout:
            req = _Request(stn, height, width, times[begin : begin + count], options)
            batch_d = dask.delayed(_render, pure=True)(req)
            shapes = (
                (count, height, width, 3),
                (count, height, width),
                (count, height, width),
                (count,),
                (count,),
            )
            for k, (f, dtype, shape) in enumerate(zip(fields, dtypes, shapes, strict=True)):
                pieces[k].append(
                    da.from_delayed(
                        dask.delayed(_field, pure=True)(batch_d, f), shape=shape, dtype=dtype
                    )
                )
            begin += count
        data = [da.concatenate(p, axis=0) for p in pieces]

    elevation, azimuth = sky_grids(stn.calibration(width, height))
    cal = stn.calibration(width, height)
    data_vars = {name: (dim, arr) for name, dim, arr in zip(names, dims, data, strict=True)}
    settings = {
        "start": str(times[0]),
        "n_frames": n,
        "cadence": str(pd.Timedelta(cadence)),
        "size": [height, width],
        "seed": options.seed,
        "station": stn.code,
        "moon": options.moon,
        "clouds": options.clouds,
        "stationary_fraction": options.aurora.stationary_fraction,
        "mlt_occurrence": options.aurora.mlt_occurrence,
        "activity": options.aurora.activity,
        "truth_threshold": options.truth_threshold,
        "truth_outline_deg": options.truth_outline_deg,
    }
    attrs: dict[str, Any] = {
        **stn.to_attrs(),
        **cal.to_attrs(),
        "Conventions": CONVENTIONS,
        "title": f"Synthetic all-sky camera frames, {stn.name}",
        "source": (
            f"aurora_xr.datasets.synthetic_cube (aurora_xr {package_version()}), "
            f"seed={options.seed}"
        ),
        "history": history_line(f"synthetic_cube({json.dumps(settings)})"),
        "synthetic_seed": options.seed,
        "synthetic_options": json.dumps(settings),
    }
    ds = xr.Dataset(
        data_vars,
        coords={
            "time": ("time", times),
            "channel": ("channel", np.array(CHANNELS)),
            "elevation": (("y", "x"), elevation),
            "azimuth": (("y", "x"), azimuth),
        },
        attrs=attrs,
    )
    ds["aurora_truth"].attrs.update(
        comment=TRUTH_DEFINITION,
        threshold_dn=float(options.truth_threshold),
        outline_deg=float(options.truth_outline_deg),
    )
    ds["aurora_kind"].attrs.update(
        comment="kind of the forms that give most of the visible aurora around a truth pixel; "
        "0 off the truth"
    )
    ds["moon_up"].attrs.update(long_name="the moon lights the sky in this frame", units="1")
    ds["cloud_fraction"].attrs.update(
        long_name="fraction of the visible sky under cloud of opacity above 0.5", units="1"
    )
    return cf_attributes(ds)
