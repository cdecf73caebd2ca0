"""Sites given by the user or by a file: ``--site`` text, station files, header positions.

* :func:`parse_site` reads ``"LAT,LON[,ALT_M]"`` (the ``--site`` option) into a
  :class:`~aurora_xr.sky.stations.Station`;
* :func:`read_station_file` reads one or several sites from a TOML or JSON file, for a
  place used again and again;
* :func:`site_with_header` applies the rule that a position in a file's own header wins
  over the catalogue, and says how far the two differ.
"""

from __future__ import annotations

import json
import math
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import NoFilesFoundError, OptionError
from .shell import EARTH_RADIUS_KM
from .stations import Station, check_position

__all__ = ["parse_site", "read_station_file", "site_distance_km", "site_with_header"]

_KEYS = {"code", "name", "latitude", "longitude", "altitude_m", "source", "aliases", "networks"}
_REQUIRED = ("code", "latitude", "longitude")


def parse_site(
    text: str, *, code: str = "SITE", name: str | None = None, source: str | None = None
) -> Station:
    """A site from ``"LAT,LON[,ALT_M]"``: degrees north, degrees east, metres.

    Parameters
    ----------
    text : str
        Latitude and longitude in degrees (longitude east, -180..360), optionally the
        altitude in metres, separated by commas, e.g. ``"78.148,16.043,520"``.
    code, name : str
        Code and name of the site (default ``"SITE"`` and a name made of the position).
    source : str, optional
        Source of the position (default: the text itself, as ``--site ...``).

    Raises
    ------
    OptionError
        For text that is not two or three numbers, or a position out of range.

    Examples
    --------
    >>> s = parse_site("78.148, 16.043, 520")
    >>> s.latitude, s.longitude, s.altitude_m
    (78.148, 16.043, 520.0)
    """
    parts = [p.strip() for p in str(text).split(",")]
    expected = "expected --site LAT,LON[,ALT_M] (degrees north, degrees east, metres)"
    if len(parts) not in (2, 3) or not all(parts):
        raise OptionError(f"{expected}; found {text!r}")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise OptionError(f"{expected}; found {text!r}, which is not numbers") from None
    lat, lon = values[0], values[1]
    alt = values[2] if len(values) == 3 else 0.0
    check_position(lat, lon, alt, what=f"--site {text!r}")
    label = name or f"site at {abs(lat):.4f}°{'N' if lat >= 0 else 'S'}, {lon:.4f}°E"
    return Station(
        code=code,
        name=label,
        latitude=lat,
        longitude=lon,
        altitude_m=alt,
        source=source or f"--site {text.strip()}",
    )


def read_station_file(path: str | os.PathLike[str]) -> list[Station]:
    """Sites from a TOML or JSON station file.

    A file holds one site (a table / object with the keys below) or several: a TOML array
    of tables ``[[station]]``, a JSON list, or a ``stations`` list in either. Keys:
    ``code``, ``latitude``, ``longitude`` (required), ``altitude_m``, ``name``, ``source``
    (default: the file name), ``aliases``, ``networks``.

    Examples
    --------
    A TOML file::

        [[station]]
        code = "LYR"
        name = "Longyearbyen all-sky camera"
        latitude = 78.148
        longitude = 16.043
        altitude_m = 520
        source = "KHO site list"

    Raises
    ------
    NoFilesFoundError
        If the file does not exist.
    OptionError
        For a file that is neither TOML nor JSON, or entries with missing, unknown or
        out-of-range values.
    """
    p = Path(path)
    if not p.is_file():
        raise NoFilesFoundError(f"station file {str(p)!r} does not exist")
    text = p.read_text(encoding="utf-8")
    data = _load(text, p)
    entries = _entries(data, p)
    if not entries:
        raise OptionError(f"station file {p.name}: expected at least one site; found none")
    return [_station(entry, p, i) for i, entry in enumerate(entries)]


def _load(text: str, path: Path) -> Any:
    suffix = path.suffix.lower()
    json_like = suffix == ".json" or (suffix != ".toml" and text.lstrip()[:1] in "[{")
    try:
        return json.loads(text) if json_like else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        kind = "JSON" if json_like else "TOML"
        raise OptionError(f"station file {path.name} is not valid {kind}: {exc}") from None


def _entries(data: Any, path: Path) -> list[Any]:
    if isinstance(data, Mapping):
        for key in ("station", "stations"):
            if key in data:
                inner = data[key]
                return list(inner) if isinstance(inner, list) else [inner]
        return [data]
    if isinstance(data, list):
        return data
    raise OptionError(
        f"station file {path.name}: expected a site or a list of sites; found {type(data).__name__}"
    )


def _station(entry: Any, path: Path, index: int) -> Station:
    where = f"station file {path.name}, site {index + 1}"
    if not isinstance(entry, Mapping):
        raise OptionError(f"{where}: expected a table of keys; found {entry!r}")
    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        raise OptionError(
            f"{where}: unknown key(s) {', '.join(unknown)}; expected {', '.join(sorted(_KEYS))}"
        )
    missing = [k for k in _REQUIRED if k not in entry]
    if missing:
        raise OptionError(f"{where}: missing {', '.join(missing)}")
    try:
        lat, lon = float(entry["latitude"]), float(entry["longitude"])
        alt = float(entry.get("altitude_m", 0.0))
    except (TypeError, ValueError):
        raise OptionError(f"{where}: latitude, longitude and altitude_m must be numbers") from None
    check_position(lat, lon, alt, what=where)
    return Station(
        code=str(entry["code"]),
        name=str(entry.get("name", entry["code"])),
        latitude=lat,
        longitude=lon,
        altitude_m=alt,
        source=str(entry.get("source") or f"station file {path.name}"),
        aliases=tuple(_strings(entry.get("aliases", ()), where, "aliases")),
        networks=tuple(_strings(entry.get("networks", ()), where, "networks")),
    )


def _strings(value: Any, where: str, key: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return list(value)
    raise OptionError(f"{where}: {key} must be a string or a list of strings; found {value!r}")


def site_distance_km(a: Station, b: Station) -> float:
    """Great-circle distance between two sites on the spherical Earth, in km."""
    p1, p2 = math.radians(a.latitude), math.radians(b.latitude)
    dlon = math.radians(b.longitude - a.longitude)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlon / 2) ** 2
    return 2.0 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def site_with_header(
    site: Station | None,
    latitude: float,
    longitude: float,
    altitude_m: float | None = None,
    *,
    code: str | None = None,
    source: str = "file header",
    tolerance_km: float = 1.0,
    tolerance_m: float = 100.0,
) -> tuple[Station, str | None]:
    """The site at the position a file's header gives: the header wins over the catalogue.

    Parameters
    ----------
    site : Station or None
        The site the user named (``--station``), if any; its code, name and aliases are
        kept.
    latitude, longitude : float
        The header's position (degrees north; degrees east, -180..360).
    altitude_m : float, optional
        The header's altitude in metres; without one the site's altitude is kept.
    code : str, optional
        Site code from the header, used when ``site`` is None (default ``"SITE"``).
    source : str
        What gave the position, e.g. ``"PGM header of 20140310_0600_gill_themis19_full"``.
    tolerance_km, tolerance_m : float
        Differences up to these are not worth a note.

    Returns
    -------
    (Station, str or None)
        The site at the header's position, and a note that says how far it lies from the
        catalogue position (None when there was no site or they agree).

    Raises
    ------
    OptionError
        If the header's position is out of range.
    """
    lat, lon = float(latitude), float(longitude)
    alt = None if altitude_m is None else float(altitude_m)
    check_position(lat, lon, 0.0 if alt is None else alt, what=source)
    if site is None:
        new = Station(
            code=code or "SITE",
            name=code or "site",
            latitude=lat,
            longitude=lon,
            altitude_m=alt or 0.0,
            source=source,
        )
        return new, None
    new = site.with_position(lat, lon, alt, source=source)
    km = site_distance_km(site, new)
    dz = abs(new.altitude_m - site.altitude_m)
    if km <= tolerance_km and dz <= tolerance_m:
        return new, None
    note = (
        f"the {source} puts {site.code} at {_where(new)}, {km:.1f} km and {dz:.0f} m from "
        f"the catalogue position {_where(site)} ({site.source}); using the {source}"
    )
    return new, note


def _where(s: Station) -> str:
    ns = "N" if s.latitude >= 0 else "S"
    ew = "E" if s.longitude >= 0 else "W"
    return f"{abs(s.latitude):.4f}° {ns} {abs(s.longitude):.4f}° {ew} {s.altitude_m:.0f} m"
