"""Time handling shared by the kernels: datetimes, durations and time nodes.

Private helpers of :mod:`aurora_xr.geo.aacgm`, :mod:`aurora_xr.sky.astronomy`,
:mod:`aurora_xr.detect.difference` and :mod:`aurora_xr.cube.conditions`:

* :func:`as_datetime64` and :func:`times_ns` turn datetimes of any common kind
  (datetime64, datetime, ISO strings, a DataArray) into naive UTC
  ``datetime64[ns]`` values or integer nanoseconds; :func:`duration_ns` reads
  a duration option (``"2min"``, a timedelta) as integer nanoseconds;
* :func:`sample_on_nodes` evaluates smooth functions of time (the MLT of
  magnetic longitude 0, the Sun's and the Moon's hour angle and declination)
  only on a coarse grid of node times, ``step_ns(step_minutes)`` apart, and
  interpolates them to the requested times with a local cubic (4-point
  Lagrange) interpolant, unwrapping periodic outputs;
* :func:`night_of` names the observing night of each time (local noon to noon), the
  unit that training splits and labelling strata keep together.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from numpy.typing import NDArray

from .errors import DtypeError, OptionError

__all__ = [
    "NS_PER_DAY",
    "NS_PER_MIN",
    "as_datetime64",
    "duration_ns",
    "night_of",
    "sample_on_nodes",
    "step_ns",
    "times_ns",
]

NS_PER_MIN = 60_000_000_000
NS_PER_DAY = 86_400_000_000_000


# -- times ------------------------------------------------------------------------------


def night_of(times: Any, longitude: float | None = None) -> NDArray[np.datetime64]:
    """The night each time belongs to: the date on which its noon-to-noon night starts.

    Parameters
    ----------
    times : (n,) array_like of datetime64
        UT times; NaT stays NaT.
    longitude : float, optional
        East longitude of the site in degrees: nights run from local noon to local noon in
        mean solar time (``UT + longitude / 15 h``). None: from UT noon to UT noon.

    Returns
    -------
    (n,) ndarray of datetime64[D]

    Examples
    --------
    >>> night_of(["2020-06-21T23:00", "2020-06-22T05:00", "2020-06-22T13:00"]).tolist()
    [datetime.date(2020, 6, 21), datetime.date(2020, 6, 21), datetime.date(2020, 6, 22)]
    >>> night_of(["2020-06-22T05:00"], longitude=-150.0).tolist()  # 19:00 local
    [datetime.date(2020, 6, 21)]
    """
    t = np.asarray(times, dtype="datetime64[ns]")
    shift_h = 0.0 if longitude is None else float(longitude) / 15.0
    offset = np.timedelta64(round((shift_h - 12.0) * 3600e9), "ns")
    return (t + offset).astype("datetime64[D]")


def as_datetime64(times: Any, *, name: str = "times") -> NDArray[np.datetime64]:
    """Naive UTC datetime64[ns] array of any shape from datetimes of any common kind."""
    if isinstance(times, xr.DataArray):
        times = times.values
    if isinstance(times, dt.datetime) and times.tzinfo is not None:
        times = times.astimezone(dt.UTC).replace(tzinfo=None)
    arr = np.asarray(times)
    if arr.dtype.kind == "M":
        return arr.astype("datetime64[ns]")
    if arr.dtype.kind in "OUS":
        import pandas as pd

        try:
            parsed = pd.to_datetime(arr.ravel(), utc=True)
        except (TypeError, ValueError) as exc:
            raise DtypeError(
                f"expected {name} as datetimes (datetime64, datetime or ISO strings); "
                f"found values that are not: {exc}"
            ) from None
        values = np.asarray(parsed.tz_convert(None).values, dtype="datetime64[ns]")
        return values.reshape(arr.shape)
    raise DtypeError(f"expected {name} as datetimes (datetime64[ns]); found dtype {arr.dtype}")


def times_ns(times: Any) -> NDArray[np.int64]:
    t = as_datetime64(times)
    if np.isnat(t).any():
        raise DtypeError("expected valid times; found NaT (a missing time)")
    return t.astype(np.int64)


# -- sampling smooth functions of time on coarse nodes ------------------------------------
_LAGRANGE_OFFSETS = np.array([-1, 0, 1, 2], dtype=np.int64)


def sample_on_nodes(
    t_ns: NDArray[np.int64],
    step_ns: int,
    evaluate: Callable[[NDArray[np.int64]], Sequence[NDArray[np.float64]]],
    periods: Sequence[float | None],
) -> list[NDArray[np.float64]]:
    """Evaluate smooth functions of time at ``t_ns`` from their values on nodes.

    Nodes lie on multiples of ``step_ns``; each time is interpolated by a cubic
    through the four nodes around it (4-point Lagrange). Only nodes next to
    some time are evaluated; when that is not fewer than the distinct times
    themselves, the functions are evaluated directly at the times instead.
    ``periods`` gives the period of each output (e.g. 24 h, 360°) or None.
    """
    flat = np.asarray(t_ns, dtype=np.int64).ravel()
    inverse: NDArray[np.intp] | None = None
    if flat.size > 1 and bool(np.all(flat[1:] > flat[:-1])):
        uniq = flat  # sorted and unique already (the usual case): no sort needed
    else:
        uniq, inverse = np.unique(flat, return_inverse=True)
    k = np.floor_divide(uniq, step_ns)
    distinct_k = k[np.concatenate([[True], k[1:] != k[:-1]])]
    nodes = np.unique((distinct_k[:, None] + _LAGRANGE_OFFSETS[None, :]).ravel())
    out: list[NDArray[np.float64]] = []
    if nodes.size >= uniq.size:
        out = [np.asarray(v, dtype=float) for v in evaluate(uniq)]
    else:
        node_values = [np.asarray(v, dtype=float) for v in evaluate(nodes * step_ns)]
        first = np.searchsorted(nodes, k - 1)
        u = (uniq - k * step_ns) / step_ns
        weights = (
            -u * (u - 1.0) * (u - 2.0) / 6.0,
            (u + 1.0) * (u - 1.0) * (u - 2.0) / 2.0,
            -(u + 1.0) * u * (u - 2.0) / 2.0,
            (u + 1.0) * u * (u - 1.0) / 6.0,
        )
        for values, period in zip(node_values, periods, strict=True):
            if period is None:
                acc = sum(w * values[first + j] for j, w in enumerate(weights))
            else:  # unwrap the four values around the second one
                ref = values[first + 1]
                half = period / 2.0
                acc = ref + sum(
                    w * (np.mod(values[first + j] - ref + half, period) - half)
                    for j, w in enumerate(weights)
                )
            out.append(np.asarray(acc, dtype=float))
    result = []
    for value, period in zip(out, periods, strict=True):
        wrapped = np.mod(value, period) if period is not None else value
        if inverse is not None:
            wrapped = wrapped[inverse]
        result.append(wrapped.reshape(np.shape(t_ns)))
    return result


def duration_ns(value: Any, what: str, *, allow_zero: bool = False) -> int:
    """A duration option (``"2min"``, a timedelta, a timedelta64) in nanoseconds.

    Raises
    ------
    OptionError
        If ``value`` is not a duration, or is negative (or zero, unless
        ``allow_zero``); the message names the option ``what``.
    """
    try:
        delta = pd.Timedelta(value)
    except (ValueError, TypeError) as err:
        raise OptionError(
            f"expected {what} as a time interval (a time span such as '2min'); found {value!r}"
        ) from err
    if pd.isna(delta) or delta.value < 0 or (delta.value == 0 and not allow_zero):
        raise OptionError(f"expected a positive {what}; found {value!r}")
    return int(delta.value)


def step_ns(step_minutes: float) -> int:
    step = float(step_minutes)
    if not 0.0 < step <= 24 * 60:
        raise OptionError(f"expected step_minutes in (0, 1440]; found {step_minutes}")
    return round(step * NS_PER_MIN)
