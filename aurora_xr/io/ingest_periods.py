"""Output periods and the names of the output files of ingest.

One output file per UT period, named ``{STATION}_{LABEL}.nc`` (``JBS_20200621.nc`` for days
and multi-day periods, labelled by their first day; ``JBS_20200621T06.nc`` /
``JBS_20200621T0630.nc`` for hours / minutes; ``JBS_202006.nc`` for months (``"1MS"``);
``JBS_2020.nc`` for years (``"1YS"``)). Fixed periods are counted from 1970-01-01 00:00 UT,
so that the same frame always lands in the same file.

A camera whose single channel is a named band (``"557.7nm"``, ``"mosaic"``) gets the band in
the name, ``PKR_557.7nm_20151007.nc``, so that the frames of a filter wheel (one band per
frame) go to one cube per band; colour cameras and unnamed grey ones (``"white"``) do not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..errors import OptionError

__all__ = ["band_tag", "check_period", "output_name", "period_labels"]

_EPOCH = np.datetime64("1970-01-01T00:00:00", "ns")
_UNNAMED = ("R", "G", "B", "white")
_UNSAFE = re.compile(r"[^A-Za-z0-9.+-]+")


def check_period(period: str) -> tuple[int | None, str]:
    """``(length in ns, or None for calendar months/years; strftime label format)``.

    Raises
    ------
    OptionError
        For anything but a fixed length of at least one second, ``"1MS"`` or ``"1YS"``.
    """
    from pandas.tseries.frequencies import to_offset

    try:
        offset = to_offset(period)
    except (TypeError, ValueError) as exc:
        raise OptionError(
            f"period must be a pandas offset such as '1D', '6h', '1MS' or '1YS'; found {period!r}"
        ) from exc
    if isinstance(offset, pd.offsets.Day | pd.offsets.Tick):
        step = pd.Timedelta(days=offset.n) if isinstance(offset, pd.offsets.Day) else offset
        ns = int(pd.Timedelta(step).value)
        if ns < 10**9:
            raise OptionError(f"period must be at least one second; found {period!r}")
        day, hour, minute = 86400 * 10**9, 3600 * 10**9, 60 * 10**9
        if ns % day == 0:
            fmt = "%Y%m%d"
        elif ns % hour == 0:
            fmt = "%Y%m%dT%H"
        elif ns % minute == 0:
            fmt = "%Y%m%dT%H%M"
        else:
            fmt = "%Y%m%dT%H%M%S"
        return ns, fmt
    if isinstance(offset, pd.offsets.MonthBegin) and offset.n == 1:
        return None, "%Y%m"
    if isinstance(offset, pd.offsets.YearBegin) and offset.n == 1 and offset.month == 1:
        return None, "%Y"
    raise OptionError(
        "period must be a fixed length ('1D', '7D', '6h', ...), '1MS' (months) or '1YS' "
        f"(years); found {period!r}"
    )


def period_labels(times: NDArray[np.datetime64], period: str = "1D") -> NDArray[np.str_]:
    """The label of the output period of each time (``"20200621"`` for ``"1D"``).

    Examples
    --------
    >>> t = np.array(["2020-06-21T23:59", "2020-06-22T00:00"], "datetime64[ns]")
    >>> period_labels(t).tolist()
    ['20200621', '20200622']
    >>> period_labels(t, "1MS").tolist()
    ['202006', '202006']
    """
    length, fmt = check_period(period)
    values = np.asarray(times, dtype="datetime64[ns]")
    if length is not None:
        ns = (values - _EPOCH).astype(np.int64)
        values = _EPOCH + ((ns // length) * length).astype("timedelta64[ns]")
    return np.asarray(pd.DatetimeIndex(values).strftime(fmt), dtype=str)


def band_tag(channels: Sequence[str]) -> str:
    """The band part of an output name: ``""`` for RGB or ``"white"``, else the band name.

    Examples
    --------
    >>> band_tag(("R", "G", "B")), band_tag(("white",)), band_tag(("557.7nm",))
    ('', '', '557.7nm')
    """
    names = tuple(str(c) for c in channels)
    if len(names) != 1 or names[0] in _UNNAMED:
        return ""
    return _UNSAFE.sub("-", names[0]).strip("-") or "band"


def output_name(station: str, label: str, band: str = "") -> str:
    """File name of one output, e.g. ``JBS_20200621.nc`` or ``PKR_557.7nm_20151007.nc``."""
    code = _UNSAFE.sub("-", str(station)).strip("-") or "SITE"
    return f"{code}_{band}_{label}.nc" if band else f"{code}_{label}.nc"
