"""Options of the synthetic sky, checked: frame times, frame size, station and sky options.

:func:`sky_options` turns the keywords of
:func:`~aurora_xr.datasets.synthetic_cube` into a hashable :class:`SkyOptions`
(part of the cache keys of the renderer); :func:`prepare_sky` checks a whole
request, so that the cube builder and the archive writer read their options
the same way. Bad options raise :class:`~aurora_xr.errors.OptionError` saying
what was expected and what was found.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..errors import OptionError
from ..geo.aacgm import check_date_range
from ..sky.stations import Station, get_station
from ._common import TAG_CAMERA, TAG_SCENE, rng_for
from .auroral_forms import AuroraOptions
from .cameras import CameraModel, draw_camera
from .night_scene import NightScene, draw_scene
from .truth import TRUTH_OUTLINE_DEG, TRUTH_THRESHOLD_DN

__all__ = [
    "DEFAULT_N_FRAMES",
    "FORCEABLE",
    "REALISMS",
    "SkyOptions",
    "frame_times",
    "prepare_sky",
    "sky_options",
    "time_chunks",
]

DEFAULT_N_FRAMES = 60
REALISMS = ("default", "randomised")
"""``"default"``: the deterministic sky of the tests and the demo; ``"randomised"``: a random
camera on a random night with every confounder (training sets)."""
FORCEABLE = ("meteor", "satellite", "aircraft")
"""Transients that ``force`` can draw in every frame of the randomised sky."""


@dataclass(frozen=True)
class SkyOptions:
    """Options of a synthetic sky (hashable)."""

    seed: int = 0
    moon: bool | str = "auto"
    clouds: float = 0.25
    aurora: AuroraOptions = field(default_factory=AuroraOptions)
    truth_threshold: float = TRUTH_THRESHOLD_DN
    truth_outline_deg: float = TRUTH_OUTLINE_DEG
    realism: str = "default"
    camera: CameraModel | None = None
    scene: NightScene | None = None
    force: tuple[tuple[str, float], ...] = ()


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
    options = sky_options(**sky, frame_size=min(height, width))
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
    realism: str = "default",
    camera: CameraModel | str | None = None,
    scene: NightScene | None = None,
    force: Mapping[str, float] | None = None,
    frame_size: int = 256,
) -> SkyOptions:
    """Checked options of the synthetic sky (see :func:`synthetic_cube`).

    With ``realism="randomised"`` the camera and the night are resolved here:
    a :class:`~.cameras.CameraModel` is kept, a string (``"colour"``,
    ``"single"`` or a band) or None draws one from the seed; a missing
    ``scene`` is drawn from the seed, and its auroral activity multiplies
    ``activity``.
    """
    if realism not in REALISMS:
        raise OptionError(f"expected realism in {REALISMS}; found {realism!r}")
    if realism == "default" and (camera is not None or scene is not None or force):
        raise OptionError(
            "camera, scene and force belong to the randomised sky; pass realism='randomised' "
            f"(found realism={realism!r})"
        )
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
    forced: tuple[tuple[str, float], ...] = ()
    if force:
        unknown = sorted(set(force) - set(FORCEABLE))
        if unknown:
            raise OptionError(f"expected force keys among {FORCEABLE}; found {unknown}")
        forced = tuple(sorted((str(k), float(v)) for k, v in force.items()))
    cam: CameraModel | None = None
    night: NightScene | None = None
    if realism == "randomised":
        if isinstance(camera, CameraModel):
            cam = camera
        elif camera is None or isinstance(camera, str):
            cam = draw_camera(
                rng_for(int(seed), TAG_CAMERA), channels=camera, frame_size=frame_size
            )
        else:
            raise OptionError(
                f"expected camera as a CameraModel, a channel kind or None; found {camera!r}"
            )
        if scene is not None and not isinstance(scene, NightScene):
            raise OptionError(f"expected scene as a NightScene or None; found {scene!r}")
        night = scene if scene is not None else draw_scene(rng_for(int(seed), TAG_SCENE))
        act *= night.activity
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
        realism=realism,
        camera=cam,
        scene=night,
        force=forced,
    )


def time_chunks(n: int, chunks: Any) -> tuple[int, ...] | None:
    """Frames per chunk of ``n`` frames for the ``chunks`` option (None: not chunked)."""
    if chunks is None:
        return None
    size = chunks.get("time") if isinstance(chunks, Mapping) else chunks
    if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
        raise OptionError(f"expected chunks as a positive int or {{'time': int}}; found {chunks!r}")
    size = int(size)
    return tuple([size] * (n // size) + ([n % size] if n % size else []))
