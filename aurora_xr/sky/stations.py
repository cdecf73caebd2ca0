"""Observing sites: a bundled catalogue of all-sky camera sites and a registry to look them up.

A :class:`Station` is a *place* (code, name, geodetic position, altitude and the source of
that position); it carries no camera calibration. Cameras are calibrated separately, by
an analytic lens (:class:`~aurora_xr.sky.lens.Calibration`) or a per-pixel skymap
(:class:`~aurora_xr.sky.skymap.Skymap`).

The catalogue (``stations.csv`` beside this module) lists the THEMIS, REGO/TREx and Rainbow
sites and other auroral stations, each with the source of its position. Codes and aliases
are case-insensitive (``get_station("gill")``, ``get_station("LYR")`` for KHO). Places that
are not in the catalogue come from :func:`~aurora_xr.sky.sites.parse_site`
(``"LAT,LON[,ALT_M]"``), a station file (:func:`~aurora_xr.sky.sites.read_station_file`) or
:func:`register_station`.

The Jang Bogo placeholder lens (an equidistant fisheye filling 94 % of a square frame, north
up) is the only camera this module still knows, and only by name:
``placeholder_lens("JBS", width, height)``. Nothing uses it unless asked.
"""

from __future__ import annotations

import csv
import dataclasses
import difflib
import functools
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Any

from ..errors import MissingCalibrationError, OptionError, SchemaError, StationError
from .lens import Calibration

__all__ = [
    "Station",
    "get_station",
    "normalize_longitude",
    "placeholder_lens",
    "register_station",
    "station_codes",
    "station_from_attrs",
    "stations",
]

_CATALOGUE = "stations.csv"
_MAX_ALTITUDE_M = 9000.0
_MIN_ALTITUDE_M = -500.0


def normalize_longitude(longitude: float) -> float:
    """Longitude in degrees east folded into [-180, 180) (360° east = 0°)."""
    lon = float(longitude)
    if -180.0 <= lon < 180.0:
        return lon  # unchanged: no rounding in the fold
    lon = math.fmod(lon + 180.0, 360.0)
    return round((lon + 360.0 if lon < 0 else lon) - 180.0, 10)


@dataclass(frozen=True)
class Station:
    """An observing site: a place, with the source of its position.

    Parameters
    ----------
    code : str
        Short code, e.g. ``"GILL"``; stored in upper case (lookups are case-insensitive).
    name : str
        Full name.
    latitude : float
        Geodetic latitude in degrees (north positive), -90..90.
    longitude : float
        Longitude in degrees east; folded into [-180, 180).
    altitude_m : float
        Height above sea level in metres.
    source : str
        Where the position comes from (a site list, a file header, ``--site``, ...).
    aliases : tuple of str
        Other codes of the same site (upper case), e.g. ``("LYR",)`` for KHO.
    networks : tuple of str
        Camera networks at the site (informative), e.g. ``("THEMIS", "TREx")``.

    Raises
    ------
    OptionError
        For an empty code or a position out of range.
    """

    code: str
    name: str
    latitude: float
    longitude: float
    altitude_m: float = 0.0
    source: str = ""
    aliases: tuple[str, ...] = ()
    networks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        code = str(self.code).strip().upper()
        if not code or any(c.isspace() for c in code):
            raise OptionError(f"a station code must be one word; found {self.code!r}")
        lat, lon, alt = (float(v) for v in (self.latitude, self.longitude, self.altitude_m))
        check_position(lat, lon, alt, what=f"station {code}")
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "name", str(self.name) or code)
        object.__setattr__(self, "latitude", lat)
        object.__setattr__(self, "longitude", normalize_longitude(lon))
        object.__setattr__(self, "altitude_m", alt)
        object.__setattr__(self, "aliases", tuple(str(a).strip().upper() for a in self.aliases))
        object.__setattr__(self, "networks", tuple(str(n).strip() for n in self.networks))

    @property
    def altitude_km(self) -> float:
        """Height above sea level in kilometres."""
        return self.altitude_m / 1000.0

    def with_position(
        self, latitude: float, longitude: float, altitude_m: float | None = None, *, source: str
    ) -> Station:
        """The same site at another position (e.g. the one a file header gives)."""
        alt = self.altitude_m if altitude_m is None else float(altitude_m)
        return dataclasses.replace(
            self, latitude=latitude, longitude=longitude, altitude_m=alt, source=source
        )

    def to_attrs(self) -> dict[str, Any]:
        """NetCDF-safe station attributes (``station_*``)."""
        attrs: dict[str, Any] = {
            "station_code": self.code,
            "station_name": self.name,
            "station_latitude": float(self.latitude),
            "station_longitude": float(self.longitude),
            "station_altitude_m": float(self.altitude_m),
        }
        if self.source:
            attrs["station_position_source"] = self.source
        return attrs

    @classmethod
    def from_attrs(cls, attrs: dict[str, Any]) -> Station:
        """The site written by :meth:`to_attrs` (a :class:`SchemaError` if there is none)."""
        code, lat, lon, alt_km = station_from_attrs(attrs)
        return cls(
            code=code or "SITE",
            name=str(attrs.get("station_name", code)),
            latitude=lat,
            longitude=lon,
            altitude_m=alt_km * 1000.0,
            source=str(attrs.get("station_position_source", "dataset attributes")),
        )

    # -- the placeholder lens, by name only ------------------------------------------------
    def placeholder_lens(self, width: int | None = None, height: int | None = None) -> Calibration:
        """The placeholder lens registered for this site (see :func:`placeholder_lens`)."""
        return placeholder_lens(self.code, width, height)


def check_position(latitude: float, longitude: float, altitude_m: float, *, what: str) -> None:
    """Raise :class:`OptionError` unless the position is finite and in range."""
    if not all(math.isfinite(v) for v in (latitude, longitude, altitude_m)):
        raise OptionError(
            f"{what}: expected a finite latitude, longitude and altitude; "
            f"found {latitude}, {longitude}, {altitude_m}"
        )
    if not -90.0 <= latitude <= 90.0:
        raise OptionError(f"{what}: latitude must lie in -90..90 degrees; found {latitude}")
    if not -180.0 <= longitude <= 360.0:
        raise OptionError(
            f"{what}: longitude must lie in -180..360 degrees east; found {longitude}"
        )
    if not _MIN_ALTITUDE_M <= altitude_m <= _MAX_ALTITUDE_M:
        raise OptionError(
            f"{what}: altitude must lie in {_MIN_ALTITUDE_M:g}..{_MAX_ALTITUDE_M:g} m "
            f"(metres, not km); found {altitude_m}"
        )


# -- the placeholder lenses ----------------------------------------------------------------
_PLACEHOLDER_LENSES: dict[str, Calibration] = {
    # An equidistant fisheye whose horizon circle fills 94 % of a square frame, geographic
    # north at the top of the image: not a calibration of the real JBS camera.
    "JBS": Calibration(
        width=512,
        height=512,
        zenith_x=255.5,
        zenith_y=255.5,
        lens_radius=240.0,
        rotation_deg=0.0,
        projection="equidistant",
    ),
}


def placeholder_lens(code: str, width: int | None = None, height: int | None = None) -> Calibration:
    """The placeholder lens of a station, scaled to frames of ``width`` x ``height``.

    Only Jang Bogo Station (``"JBS"``) has one: the analytic lens the synthetic sky and the
    examples use. It is never a default; real frames need a real calibration (a skymap or a
    lens fitted to the stars).

    Raises
    ------
    MissingCalibrationError
        For every other station.

    Examples
    --------
    >>> lens = placeholder_lens("jbs", 256, 256)
    >>> lens.width, lens.height, lens.projection
    (256, 256, 'equidistant')
    """
    key = str(code).strip().upper()
    lens = _PLACEHOLDER_LENSES.get(key)
    if lens is None:
        raise MissingCalibrationError(
            f"no camera calibration is known for station {key!r} (only "
            f"{', '.join(sorted(_PLACEHOLDER_LENSES))} has a placeholder lens); pass a "
            "skymap (--skymap FILE_OR_FOLDER) or a lens calibration"
        )
    if width is None or height is None:
        return lens
    return lens.scaled(width, height)


# -- the registry ------------------------------------------------------------------------
def _parse_catalogue(text: str) -> list[Station]:
    rows = csv.DictReader(io.StringIO("".join(ln for ln in text.splitlines(True) if ln[:1] != "#")))
    out: list[Station] = []
    for row in rows:
        if not (row.get("source") or "").strip():
            raise SchemaError(f"catalogue row {row.get('code')!r} names no source")
        out.append(
            Station(
                code=row["code"],
                name=row["name"],
                latitude=float(row["latitude"]),
                longitude=float(row["longitude"]),
                altitude_m=float(row["altitude_m"] or 0.0),
                source=row["source"].strip(),
                aliases=_split(row.get("aliases")),
                networks=_split(row.get("networks")),
            )
        )
    return out


def _split(text: str | None) -> tuple[str, ...]:
    return tuple(p.strip() for p in (text or "").split(";") if p.strip())


@functools.cache
def _registry() -> tuple[dict[str, Station], dict[str, str]]:
    text = resources.files(__package__).joinpath(_CATALOGUE).read_text(encoding="utf-8")
    sites: dict[str, Station] = {}
    aliases: dict[str, str] = {}
    for station in _parse_catalogue(text):
        _add(station, sites, aliases, overwrite=False)
    return sites, aliases


def _add(
    station: Station, sites: dict[str, Station], aliases: dict[str, str], *, overwrite: bool
) -> None:
    taken = [k for k in (station.code, *station.aliases) if k in sites or k in aliases]
    if taken and not overwrite:
        raise StationError(
            f"station code(s) {', '.join(taken)} already registered; pass overwrite=True"
        )
    for key in taken:  # drop what the new site replaces
        owner = aliases.pop(key, key)
        old = sites.pop(owner, None)
        if old is not None:
            for alias in old.aliases:
                aliases.pop(alias, None)
    sites[station.code] = station
    for alias in station.aliases:
        aliases[alias] = station.code


def register_station(station: Station, *, overwrite: bool = False) -> None:
    """Add a site to the registry (``overwrite=True`` to replace one with the same code).

    Raises
    ------
    StationError
        If its code or an alias is already registered and ``overwrite`` is False.
    """
    sites, aliases = _registry()
    _add(station, sites, aliases, overwrite=overwrite)


def get_station(code: str | Station) -> Station:
    """Look up a site by code or alias (case-insensitive); a :class:`Station` passes through.

    Raises
    ------
    StationError
        For an unknown code, naming the nearest known codes and how to give another place.

    Examples
    --------
    >>> get_station("lyr").code
    'KHO'
    """
    if isinstance(code, Station):
        return code
    sites, aliases = _registry()
    key = str(code).strip().upper()
    station = sites.get(aliases.get(key, key))
    if station is not None:
        return station
    raise StationError(
        f"unknown station {code!r}; {_suggest(key, sites.values())}. For another place pass "
        "--site LAT,LON[,ALT_M] (Python: parse_site) or a station file (read_station_file)"
    )


def _suggest(key: str, known: Iterable[Station]) -> str:
    labels: dict[str, str] = {}
    for s in known:
        for k in (s.code, *s.aliases):
            labels[k] = f"{k} ({s.name})"
        labels[s.name.upper()] = f"{s.code} ({s.name})"
    close = difflib.get_close_matches(key, list(labels), n=4, cutoff=0.5)
    if close:
        return "nearest matches: " + ", ".join(dict.fromkeys(labels[c] for c in close))
    return f"known stations: {', '.join(sorted(s.code for s in known))}"


def station_codes() -> list[str]:
    """Codes of the registered sites, sorted."""
    return sorted(_registry()[0])


def stations() -> list[Station]:
    """The registered sites, sorted by code."""
    sites = _registry()[0]
    return [sites[k] for k in sorted(sites)]


def station_from_attrs(attrs: dict[str, Any]) -> tuple[str, float, float, float]:
    """``(code, latitude, longitude, altitude_km)`` from dataset attributes."""
    needed = ("station_latitude", "station_longitude")
    missing = [k for k in needed if k not in attrs]
    if missing:
        raise SchemaError(
            f"expected station attributes {', '.join(needed)}; missing {', '.join(missing)}"
        )
    return (
        str(attrs.get("station_code", "")),
        float(attrs["station_latitude"]),
        float(attrs["station_longitude"]),
        float(attrs.get("station_altitude_m", 0.0)) / 1000.0,
    )
