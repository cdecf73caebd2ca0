"""The camera of an ingest: where it stands (the site) and how it sees (the calibration).

The site of each file, in order of precedence:

1. the position in the file's own header (PGM ``Geodetic latitude``, FITS ``GLAT``/``GLON``,
   ...), keeping the code and name of the site the user named or the header's site id names;
2. the site of the skymap used for the file (``SITE_MAP_*`` of an IDL skymap);
3. the site the user gave: ``station=`` (a catalogue code or a :class:`Station`), ``site=``
   (``"LAT,LON[,ALT_M]"``) or a station file;
4. the catalogue site (or station-file site) whose code the header's site id names.

A position from 1 or 2 that lies more than 1 km (or 100 m in height) from the catalogue's is
used, and the difference is noted in the report and the cube's ``station_position_note``.

The calibration is a lens (:class:`~aurora_xr.sky.lens.Calibration`, e.g. from a JSON file
written by a star calibration), the placeholder lens of a station by name
(``"placeholder:JBS"``, scaled to the frame size), or per-pixel skymaps (one file, an Az/El
FITS pair or a folder of them: for each frame the one whose validity covers it). Without any,
a cube has no calibration attributes and no ``elevation``/``azimuth``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import CalibrationError, NoFilesFoundError, OptionError, StationError
from ..sky.lens import Calibration
from ..sky.sites import parse_site, read_station_file, site_with_header
from ..sky.skymap import Skymap
from ..sky.skymap_files import read_skymaps
from ..sky.stations import Station, get_station, placeholder_lens

__all__ = [
    "PLACEHOLDER_PREFIX",
    "CameraSetup",
    "camera_setup",
    "read_calibration_json",
]

PLACEHOLDER_PREFIX = "placeholder:"
"""Prefix of a calibration given by name: ``"placeholder:JBS"``."""

PathLike = str | os.PathLike[str]
StationLike = str | Station


def read_calibration_json(path: PathLike) -> Calibration:
    """A lens calibration from a JSON file.

    The file holds :class:`~aurora_xr.sky.lens.Calibration` fields (``width``, ``height``,
    ``zenith_x``, ...), or ``calibration_*`` attributes at the top level (as a star
    calibration writes them), or those under a ``"calibration"`` key (as the sidecar of a
    synthetic archive holds them).

    Raises
    ------
    NoFilesFoundError
        If the file does not exist.
    CalibrationError
        For invalid JSON or fields that are not a calibration.
    """
    p = Path(path)
    if not p.is_file():
        raise NoFilesFoundError(f"calibration file {str(p)!r} does not exist")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CalibrationError(
            f"expected a JSON calibration in {p}; found invalid JSON: {exc}"
        ) from exc
    if isinstance(data, dict) and isinstance(data.get("calibration"), dict):
        data = data["calibration"]
    if not isinstance(data, dict):
        raise CalibrationError(f"expected a JSON object in {p}; found {type(data).__name__}")
    if any(str(k).startswith("calibration_") for k in data):
        try:
            return Calibration.from_attrs(data)
        except (TypeError, ValueError) as exc:
            raise CalibrationError(
                f"the calibration attributes in {p} are malformed: {exc}"
            ) from exc
    try:
        fields = dict(data)
        if "poly_coeffs" in fields:
            fields["poly_coeffs"] = tuple(fields["poly_coeffs"])
        return Calibration(**fields)
    except TypeError as exc:
        raise CalibrationError(f"expected Calibration fields in {p}; {exc}") from exc


@dataclass(frozen=True)
class CameraSetup:
    """The site and calibration options of an ingest, resolved once.

    Attributes
    ----------
    station : Station or None
        The site the user named (``station=``, ``site=`` or a one-site station file).
    known : dict of str to Station
        Sites of the station file by code and alias (looked up before the catalogue).
    lens : Calibration or None
        A lens for frames of its size.
    placeholder : str or None
        Code of the station whose placeholder lens is scaled to the frame size.
    skymaps : tuple of Skymap
        Per-pixel calibrations to choose from by validity.
    calibration_files : frozenset of str
        Resolved paths of the skymap files read (never ingested as frames).
    """

    station: Station | None = None
    known: Mapping[str, Station] = field(default_factory=dict)
    lens: Calibration | None = None
    placeholder: str | None = None
    skymaps: tuple[Skymap, ...] = ()
    calibration_files: frozenset[str] = frozenset()

    @property
    def has_calibration(self) -> bool:
        """Whether any calibration was given."""
        return self.lens is not None or self.placeholder is not None or bool(self.skymaps)

    def lookup(self, code: str) -> Station | None:
        """The station-file or catalogue site of a header's site id, or None."""
        key = str(code).strip().upper()
        if not key:
            return None
        if key in self.known:
            return self.known[key]
        try:
            return get_station(key)
        except StationError:
            return None

    def site_of(
        self, metadata: Mapping[str, Any], *, source: str, skymap: Skymap | None = None
    ) -> tuple[Station | None, str | None]:
        """The site of a file from its header metadata (see the module docstring).

        Returns
        -------
        (Station or None, str or None)
            The site (None when nothing gives one) and a note when a header or skymap
            position differs from the catalogue's.
        """
        site_id = str(metadata.get("site_id") or "").strip()
        base = self.station or (self.lookup(site_id) if site_id else None)
        lat, lon = metadata.get("site_latitude"), metadata.get("site_longitude")
        if lat is not None and lon is not None:
            alt = metadata.get("site_altitude_m")
            return site_with_header(
                base,
                float(lat),
                float(lon),
                None if alt is None else float(alt),
                code=site_id.upper() or None,
                source=source,
            )
        if skymap is not None and skymap.site is not None:
            s = skymap.site
            return site_with_header(
                base,
                s.latitude,
                s.longitude,
                s.altitude_m,
                code=s.code if base is None else None,
                source=f"skymap {skymap.name}",
            )
        return base, None

    def missing_site_message(self, path: PathLike) -> str:
        """What to pass when no site is known for a file."""
        what = "nor a calibration " if not self.has_calibration else ""
        return (
            f"no site is known for {os.fspath(path)}: its header gives no position or known "
            f"site id, no --station/--site/--station-file was given {what}(never a default "
            "site). Pass --station CODE (a catalogue site, e.g. KHO, GILL, PKR), --site "
            "LAT,LON[,ALT_M] or --station-file FILE (Python: station=, site=, station_file=)"
            + (
                ", and a calibration when you have one (--skymap FILE_OR_FOLDER, --calibration "
                "JSON or placeholder:CODE)"
                if not self.has_calibration
                else ""
            )
        )


def _station_option(
    station: StationLike | None, site: str | Station | None, station_file: PathLike | None
) -> tuple[Station | None, dict[str, Station]]:
    known: dict[str, Station] = {}
    if station_file is not None:
        for s in read_station_file(station_file):
            for key in (s.code, *s.aliases):
                known[key] = s
    chosen: Station | None = None
    if isinstance(station, Station):
        chosen = station
    elif station is not None:
        key = str(station).strip().upper()
        if key in known:
            chosen = known[key]
        elif site is None:
            chosen = get_station(key)  # StationError with the nearest matches
    if site is not None:
        place = site if isinstance(site, Station) else parse_site(str(site))
        if chosen is not None:
            chosen = chosen.with_position(
                place.latitude, place.longitude, place.altitude_m, source=place.source
            )
        elif station is not None:  # a code of the user's own for this place
            code = str(station).strip().upper()
            try:
                base = get_station(code)
                chosen = base.with_position(
                    place.latitude, place.longitude, place.altitude_m, source=place.source
                )
            except StationError:
                chosen = Station(
                    code=code,
                    name=place.name,
                    latitude=place.latitude,
                    longitude=place.longitude,
                    altitude_m=place.altitude_m,
                    source=place.source,
                )
        else:
            chosen = place
    if chosen is None and station_file is not None:
        sites = list(dict.fromkeys(known.values()))
        if len(sites) == 1:
            chosen = sites[0]
    return chosen, known


def _calibration_option(
    calibration: Calibration | Skymap | str | os.PathLike[str] | None,
) -> tuple[Calibration | None, str | None, list[Skymap]]:
    if calibration is None:
        return None, None, []
    if isinstance(calibration, Calibration):
        return calibration, None, []
    if isinstance(calibration, Skymap):
        return None, None, [calibration]
    text = os.fspath(calibration)
    if text.lower().startswith(PLACEHOLDER_PREFIX):
        code = text[len(PLACEHOLDER_PREFIX) :].strip().upper()
        placeholder_lens(code)  # MissingCalibrationError for a station without one
        return None, code, []
    if Path(text).suffix.lower() == ".json":
        return read_calibration_json(text), None, []
    raise OptionError(
        "calibration must be a Calibration, a Skymap, a JSON file of a lens or "
        f"'{PLACEHOLDER_PREFIX}CODE' (e.g. '{PLACEHOLDER_PREFIX}JBS'); found {text!r}"
    )


def _skymap_option(
    skymap: PathLike | Skymap | Sequence[Skymap] | None,
) -> tuple[list[Skymap], set[str]]:
    if skymap is None:
        return [], set()
    if isinstance(skymap, Skymap):
        return [skymap], set()
    if isinstance(skymap, str | os.PathLike):
        path = Path(skymap)
        maps = read_skymaps(path)
        files: set[str] = set()
        for m in maps:
            for part in str(m.source).split(","):
                if part.strip():
                    files.add(os.path.realpath(part.strip()))
        if path.is_file():
            files.add(os.path.realpath(path))
        return maps, files
    maps = list(skymap)
    if not maps or not all(isinstance(m, Skymap) for m in maps):
        raise OptionError(
            "skymap must be a file or folder of skymaps, a Skymap or a list of Skymaps; "
            f"found {type(skymap).__name__}"
        )
    return maps, set()


def camera_setup(
    *,
    station: StationLike | None = None,
    site: str | Station | None = None,
    station_file: PathLike | None = None,
    calibration: Calibration | Skymap | str | os.PathLike[str] | None = None,
    skymap: PathLike | Skymap | Sequence[Skymap] | None = None,
) -> CameraSetup:
    """Resolve the site and calibration options of :func:`~aurora_xr.io.ingestion.ingest`.

    Raises
    ------
    StationError
        For an unknown station code (with the nearest matches).
    OptionError
        For a malformed ``site``, a bad station file, or both a lens and skymaps.
    CalibrationError, NoFilesFoundError
        For a calibration or skymap that cannot be read.
    """
    chosen, known = _station_option(station, site, station_file)
    lens, placeholder, from_cal = _calibration_option(calibration)
    maps, files = _skymap_option(skymap)
    maps = from_cal + maps
    if maps and (lens is not None or placeholder is not None):
        raise OptionError(
            "give either a lens calibration (calibration=, --calibration) or skymaps "
            "(skymap=, --skymap), not both"
        )
    return CameraSetup(
        station=chosen,
        known=known,
        lens=lens,
        placeholder=placeholder,
        skymaps=tuple(maps),
        calibration_files=frozenset(files),
    )
