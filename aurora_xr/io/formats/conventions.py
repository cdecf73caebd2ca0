"""Conventions shared by the readers: metadata key names, band names, UTC offsets.

* :func:`metadata_key` turns a header key into the ``snake_case`` name used in
  :attr:`~aurora_xr.io.formats.FrameFile.frame_metadata` (``"Exposure Options"`` and
  ``"Exposure options"`` both become ``"exposure_options"``);
* :func:`band_name` names a single-channel band from a wavelength: the auroral and airglow lines
  within 1 nm get their usual name (``"557.7nm"``), anything else its value to 0.1 nm;
* :func:`utc_offset_ns` reads a UTC offset option (``-5``, ``"-05:00"``, ``"UTC-5"``, a
  :class:`datetime.timedelta`): a camera that stamps local time ``L`` with offset ``o`` took
  the frame at ``L - o`` UTC (Eastern Standard Time is ``-05:00``).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import numpy as np

from ...errors import OptionError

__all__ = [
    "COMMON_KEYS",
    "EMISSION_LINES_NM",
    "band_name",
    "first_float",
    "metadata_key",
    "utc_offset_ns",
]

COMMON_KEYS = ("exposure_s", "filter", "ccd_temperature_c")
"""Names of the per-frame metadata every reader fills when its header gives them."""

EMISSION_LINES_NM = (391.4, 427.8, 486.1, 557.7, 630.0, 636.4, 656.3, 777.4, 844.6)
"""Auroral and airglow lines named exactly by :func:`band_name` (N2+, OI, H, O)."""

_KEY = re.compile(r"[^0-9a-z]+")
_FLOAT = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_OFFSET = re.compile(r"^(?:UTC?|GMT)?\s*([-+])?\s*(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)


def metadata_key(key: str) -> str:
    """``snake_case`` name of a header key: lower case, runs of other characters -> ``_``.

    Examples
    --------
    >>> metadata_key("Exposure Options"), metadata_key("DATE-OBS")
    ('exposure_options', 'date_obs')
    """
    return _KEY.sub("_", key.strip().lower()).strip("_") or "key"


def first_float(text: str) -> float | None:
    """The first decimal number in ``text`` (``"-64C"`` -> -64.0), or None."""
    match = _FLOAT.search(text)
    return float(match.group(0)) if match else None


def band_name(wavelength_nm: float) -> str:
    """Channel name of a filter at ``wavelength_nm``.

    Examples
    --------
    >>> band_name(558), band_name(630), band_name(844.6), band_name(470)
    ('557.7nm', '630.0nm', '844.6nm', '470.0nm')
    """
    lines = np.asarray(EMISSION_LINES_NM)
    nearest = float(lines[np.argmin(np.abs(lines - wavelength_nm))])
    value = nearest if abs(nearest - wavelength_nm) <= 1.0 else float(wavelength_nm)
    return f"{value:.1f}nm"


def utc_offset_ns(offset: Any) -> int:
    """A UTC offset option in integer nanoseconds (local time = UTC + offset).

    Parameters
    ----------
    offset : float, str or datetime.timedelta or numpy.timedelta64
        Hours east of Greenwich (``-5`` for EST, ``5.5`` for India), a string ``"-05:00"``,
        ``"+0530"``, ``"UTC-5"``, or a time difference.

    Raises
    ------
    OptionError
        For anything else, or an offset beyond ±14 h.

    Examples
    --------
    >>> utc_offset_ns("-05:00") == utc_offset_ns(-5) == -5 * 3600 * 10**9
    True
    """
    ns: int
    if isinstance(offset, dt.timedelta):
        ns = round(offset.total_seconds() * 1e9)
    elif isinstance(offset, np.timedelta64):
        ns = int(offset.astype("timedelta64[ns]").astype(np.int64))
    elif isinstance(offset, int | float | np.integer | np.floating) and not isinstance(
        offset, bool
    ):
        ns = round(float(offset) * 3600e9)
    elif isinstance(offset, str):
        match = _OFFSET.match(offset.strip())
        if match is None:
            raise OptionError(
                f"expected a UTC offset such as '-05:00', '+0530', 'UTC-5' or -5 (hours); "
                f"found {offset!r}"
            )
        sign = -1 if match.group(1) == "-" else 1
        minutes = int(match.group(2)) * 60 + int(match.group(3) or 0)
        ns = sign * minutes * 60_000_000_000
    else:
        raise OptionError(
            f"expected a UTC offset in hours, a string '-05:00' or a timedelta; found {offset!r}"
        )
    if abs(ns) > 14 * 3600 * 10**9:
        raise OptionError(f"a UTC offset lies within ±14 h; found {ns / 3600e9:+g} h")
    return ns
