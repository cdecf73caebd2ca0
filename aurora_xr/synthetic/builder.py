"""The synthetic sky as an image cube of the data model (DESIGN §2): :func:`synthetic_cube`.

The options are checked by :mod:`aurora_xr.synthetic.options`, the frames rendered by
:mod:`aurora_xr.synthetic.render` (in memory, or one dask task per chunk of frames), and the
cube assembled here with its coordinates, station and calibration
attributes, CF attributes, provenance and the definition of its truth.
"""

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
from ..sky.lens import sky_grids
from ..sky.stations import Station
from .camera_layers import camera_layers
from .cameras import CameraModel
from .night_scene import NightScene, describe_scene
from .options import SkyOptions, prepare_sky, time_chunks
from .randomised_sky import CONDITIONS, CONDITIONS_COMMENT, RandomisedBatch, render_randomised
from .render import FrameBatch, render_frames
from .static import default_lens
from .truth import (
    RANDOMISED_TRUTH_DEFINITION,
    TRUTH_DEFINITION,
    TRUTH_NOISE_SIGMAS,
    TRUTH_OUTLINE_DEG,
    TRUTH_THRESHOLD_DN,
)

__all__ = ["synthetic_cube"]


@dataclass(frozen=True)
class _Request:
    station: Station
    height: int
    width: int
    times: NDArray[np.datetime64]
    options: SkyOptions


def _render(req: _Request) -> FrameBatch | RandomisedBatch:
    render = render_randomised if req.options.realism == "randomised" else render_frames
    return render(req.station, req.height, req.width, req.times.astype(np.int64), req.options)


def _field(batch: FrameBatch | RandomisedBatch, name: str) -> NDArray[Any]:
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
    realism: str = "default",
    camera: CameraModel | str | None = None,
    scene: NightScene | None = None,
    force: Mapping[str, float] | None = None,
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
    realism : {"default", "randomised"}
        ``"default"``: the sky described above, the same for a seed in every
        release (tests, the demo and the comparison of the methods rely on
        it). ``"randomised"``: one random camera on one random night, both
        drawn from ``seed``, with every confounder of real skies at random
        strengths (moonlight, twilight, lit haze, light domes and lamps,
        clouds and cirrus, snow and frost on the dome, zodiacal light,
        meteors, satellites, aircraft, overlays, colour casts, gamma, noise,
        hot pixels, cosmic rays, blur, coarse sensors, JPEG, turned, mirrored
        and cut lens circles) and a wider variety of auroral forms, in colour
        or in one band; see ``docs/concepts/synthetic_sky.md``. The
        ``clouds`` option is then the night's own.
    camera : CameraModel or str, optional
        Randomised sky only: the camera, or what to draw: ``"colour"``,
        ``"single"`` or a band (``"white"``, ``"557.7nm"``, ``"630.0nm"``,
        ``"427.8nm"``); None draws single-channel 40 % of the time.
    scene : NightScene, optional
        Randomised sky only: the night's confounders (drawn from ``seed`` if
        None).
    force : mapping, optional
        Randomised sky only: transients (``"meteor"``, ``"satellite"``,
        ``"aircraft"``) drawn in every frame, with a factor on their brightness.
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
        ``source`` (generator, version, seed) and ``history``. The
        randomised sky writes the camera's channels (three, or one named by
        its band) and dtype (uint8 or uint16), its own lens in the
        ``elevation``/``azimuth`` coordinates and the ``calibration_*``
        attributes, ``conditions`` (time, condition) float32: the strength of
        every confounder in every frame (0 where absent; the names in the
        ``condition`` coordinate), and the camera and night as JSON in the
        attributes ``synthetic_camera`` and ``synthetic_scene``.

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
        realism=realism,
        camera=camera,
        scene=scene,
        force=force,
    )
    randomised = options.realism == "randomised"
    cam = options.camera
    n_c = len(cam.channels) if cam is not None else 3
    image_dtype = cam.dtype if cam is not None else np.uint8
    n = times.size
    layout = time_chunks(n, chunks)
    names: tuple[str, ...] = ("image", "aurora_truth", "aurora_kind", "moon_up", "cloud_fraction")
    fields: tuple[str, ...] = ("image", "truth", "kind", "moon_up", "cloud_fraction")
    dims: tuple[tuple[str, ...], ...] = (
        ("time", "y", "x", "channel"),
        ("time", "y", "x"),
        ("time", "y", "x"),
        ("time",),
        ("time",),
    )
    dtypes: tuple[Any, ...] = (image_dtype, np.bool_, np.uint8, np.bool_, np.float32)
    if randomised:
        names += ("conditions",)
        fields += ("conditions",)
        dims += (("time", "condition"),)
        dtypes += (np.float32,)
    if layout is None:
        batch = _render(_Request(stn, height, width, times, options))
        data: list[Any] = [getattr(batch, f) for f in fields]
    else:
        pieces: list[list[Any]] = [[] for _ in names]
        begin = 0
        for count in layout:
            req = _Request(stn, height, width, times[begin : begin + count], options)
            batch_d = dask.delayed(_render, pure=True)(req)
            shapes: tuple[tuple[int, ...], ...] = (
                (count, height, width, n_c),
                (count, height, width),
                (count, height, width),
                (count,),
                (count,),
                (count, len(CONDITIONS)),
            )[: len(names)]
            for k, (f, dtype, shape) in enumerate(zip(fields, dtypes, shapes, strict=True)):
                pieces[k].append(
                    da.from_delayed(
                        dask.delayed(_field, pure=True)(batch_d, f), shape=shape, dtype=dtype
                    )
                )
            begin += count
        data = [da.concatenate(p, axis=0) for p in pieces]

    if cam is not None and options.scene is not None:  # the camera's grids, computed once
        static = camera_layers(stn, cam, options.scene, height, width).static
        cal, elevation, azimuth = static.cal, static.el, static.az
    else:
        cal = default_lens(width, height)
        elevation, azimuth = sky_grids(cal)
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
    if randomised:
        settings["realism"] = options.realism
        settings["force"] = dict(options.force)
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
    coords: dict[str, Any] = {
        "time": ("time", times),
        "channel": ("channel", np.array(cam.channels if cam is not None else CHANNELS)),
        "elevation": (("y", "x"), elevation),
        "azimuth": (("y", "x"), azimuth),
    }
    if randomised and cam is not None and options.scene is not None:
        coords["condition"] = ("condition", np.array(CONDITIONS))
        attrs["synthetic_realism"] = options.realism
        attrs["synthetic_camera"] = json.dumps(cam.describe())
        attrs["synthetic_scene"] = json.dumps(describe_scene(options.scene))
    ds = xr.Dataset(data_vars, coords=coords, attrs=attrs)
    ds["aurora_truth"].attrs.update(
        comment=RANDOMISED_TRUTH_DEFINITION if randomised else TRUTH_DEFINITION,
        threshold_dn=float(options.truth_threshold),
        outline_deg=float(options.truth_outline_deg),
    )
    if randomised:
        ds["aurora_truth"].attrs["noise_sigmas"] = TRUTH_NOISE_SIGMAS
        ds["conditions"].attrs.update(
            long_name="strength of each confounder in the frame (0: absent)",
            comment=CONDITIONS_COMMENT,
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
