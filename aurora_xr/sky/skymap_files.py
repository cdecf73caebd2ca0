"""Skymap files: the operators' IDL ``.sav`` skymaps, Az/El FITS pairs, and arrays (npz/NetCDF).

* :func:`read_idl_skymap` reads the ``skymap`` record of THEMIS, REGO, TREx and Rainbow
  ``.sav`` files with :func:`scipy.io.readsav`. ``FULL_ELEVATION``/``FULL_AZIMUTH`` are the
  grids; ``FULL_MAP_ALTITUDE`` (metres) with ``FULL_MAP_LATITUDE``/``FULL_MAP_LONGITUDE``
  (``(n_alt, H + 1, W + 1)`` pixel corners, longitudes 0..360 east) give the pixel-centre
  positions (mean of the four corners, longitudes in [-180, 180)); ``SITE_MAP_*`` the
  site; ``GENERATION_INFO.VALID_INTERVAL_START``/``STOP`` (``YYYYMMDDHH``, stop ``+`` =
  open-ended) or else the file name (``<project>_skymap_<site>_<YYYYMMDD>-<YYYYMMDD|+>_v<NN>``)
  the validity. The raw arrays pair index for index with the raw PGM frames of the same
  camera; the Berkeley THEMIS CDF frames are turned 180° against them (use
  ``skymap.rotated(2)``).
* :func:`read_azel_fits` reads an azimuth/elevation FITS pair (Poker Flat DASC:
  ``..._Az.FIT`` and ``..._El.FIT``, 0 outside the field of view). Arrays in astropy's row
  order pair index for index with the camera's FITS frames read by astropy.
* :func:`read_skymap_arrays` / :func:`write_skymap` read and write the package's own
  ``.npz`` or NetCDF files of arrays (``elevation``, ``azimuth``, optionally ``latitude``,
  ``longitude`` ``(altitude, y, x)`` and ``altitude_km``).
* :func:`read_skymap` reads any of them; :func:`read_skymaps` a file or a whole folder.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import AuroraXrWarning, CalibrationError, NoFilesFoundError, OptionError
from .skymap import Skymap, centres_from_corners
from .skymap_arrays import (
    ARRAY_SUFFIXES,
    file_checksum,
    read_skymap_arrays,
    text_value,
    write_skymap,
)
from .stations import Station, get_station, normalize_longitude

__all__ = [
    "SkymapFileWarning",
    "file_checksum",
    "read_azel_fits",
    "read_idl_skymap",
    "read_skymap",
    "read_skymap_arrays",
    "read_skymaps",
    "skymap_name_validity",
    "write_skymap",
]

_NAME = re.compile(
    r"^(?P<project>[a-z0-9]+)_skymap_(?P<site>[a-z0-9]+)_(?P<start>\d{8})-(?P<stop>\d{8}|\+)"
    r"_v(?P<version>\w+)$",
    re.IGNORECASE,
)
_FITS = (".fit", ".fits", ".fts")
_IDL_NOTE = (
    "raw scipy.io.readsav arrays (rows as stored): they pair index for index with the raw "
    "PGM frames of the camera; Berkeley THEMIS CDF frames (thg_l1_asf) are turned 180° "
    "against them (skymap.rotated(2))"
)
_FITS_NOTE = (
    "astropy row order of the Az/El FITS pair: pairs index for index with the camera's "
    "FITS frames read by astropy"
)


class SkymapFileWarning(AuroraXrWarning):
    """A file in a folder of skymaps could not be read and was skipped."""


def _day(text: str) -> np.datetime64:
    return np.datetime64(f"{text[:4]}-{text[4:6]}-{text[6:8]}", "s")


def skymap_name_validity(
    name: str,
) -> tuple[str, np.datetime64, np.datetime64 | None] | None:
    """``(site, valid_from, valid_to)`` from an operator's skymap file name, or None.

    ``themis_skymap_gako_20110305-+_vXX`` gives ``("gako", 2011-03-05, None)``; a stop date
    ``YYYYMMDD`` is inclusive, so ``valid_to`` is the start of the next day (exclusive).
    """
    m = _NAME.match(Path(name).name.split(".sav")[0])
    if m is None:
        return None
    stop = m["stop"]
    valid_to = None if stop == "+" else _day(stop) + np.timedelta64(1, "D")
    return m["site"].lower(), _day(m["start"]), valid_to


def _hour(text: str) -> np.datetime64 | None:
    digits = re.sub(r"\D", "", text)
    if len(digits) < 8:
        return None
    hour = digits[8:10] if len(digits) >= 10 else "00"
    try:
        return _day(digits) + np.timedelta64(int(hour), "h")
    except ValueError:
        return None


def read_idl_skymap(path: str | os.PathLike[str]) -> Skymap:
    """Read an operator's IDL ``.sav`` skymap (THEMIS, REGO, TREx, Rainbow).

    Raises
    ------
    CalibrationError
        If the file is not an IDL save file with a ``skymap`` record of the expected
        fields and shapes.
    """
    from scipy.io import readsav

    p = Path(path)
    try:
        with warnings.catch_warnings():  # harmless for files of this age (scipy's words)
            warnings.filterwarnings("ignore", "Not able to verify number of bytes", UserWarning)
            data = readsav(str(p), python_dict=True)
        rec = data["skymap"][0]
        el = np.asarray(rec["FULL_ELEVATION"], dtype=np.float32)
        az = np.asarray(rec["FULL_AZIMUTH"], dtype=np.float32)
    except Exception as exc:  # scipy raises a bare Exception for a file of another kind
        raise CalibrationError(
            f"{p.name}: expected an IDL save file holding a 'skymap' record with "
            f"FULL_ELEVATION and FULL_AZIMUTH; could not read it ({exc!s})"
        ) from None
    names = set(rec.dtype.names or ())
    altitudes: tuple[float, ...] = ()
    lat = lon = None
    if {"FULL_MAP_ALTITUDE", "FULL_MAP_LATITUDE", "FULL_MAP_LONGITUDE"} <= names:
        alt_m = np.atleast_1d(np.asarray(rec["FULL_MAP_ALTITUDE"], dtype=np.float64))
        la = np.asarray(rec["FULL_MAP_LATITUDE"], dtype=np.float64)
        lo = np.asarray(rec["FULL_MAP_LONGITUDE"], dtype=np.float64)
        if la.ndim == 2:
            la, lo = la[None], lo[None]
        h, w = el.shape
        if la.shape[-2:] == (h + 1, w + 1):
            lat, lon = centres_from_corners(la, lo)
        elif la.shape[-2:] == (h, w):
            lat, lon = la.astype(np.float32), lo.astype(np.float32)
        else:
            raise CalibrationError(
                f"{p.name}: FULL_MAP_LATITUDE must be corners ({h + 1}, {w + 1}) or centres "
                f"({h}, {w}) per altitude; found {la.shape}"
            )
        altitudes = tuple(float(a) / 1000.0 for a in alt_m)  # the files give metres
    valid_from, valid_to = _idl_validity(rec, names, p)
    return Skymap(
        elevation=el,
        azimuth=az,
        name=p.name.removesuffix(".sav"),
        checksum=file_checksum(p),
        altitudes_km=altitudes,
        latitude=lat,
        longitude=lon,
        valid_from=valid_from,
        valid_to=valid_to,
        site=_idl_site(rec, names, p),
        orientation=_IDL_NOTE,
        source=str(p),
    )


def _idl_validity(
    rec: Any, names: set[str], path: Path
) -> tuple[np.datetime64 | None, np.datetime64 | None]:
    from_name = skymap_name_validity(path.name)
    start, stop = (from_name[1], from_name[2]) if from_name else (None, None)
    if "GENERATION_INFO" in names:
        info = rec["GENERATION_INFO"][0]
        fields = set(info.dtype.names or ())
        if "VALID_INTERVAL_START" in fields:
            start = _hour(text_value(info["VALID_INTERVAL_START"])) or start
        if "VALID_INTERVAL_STOP" in fields:
            text = text_value(info["VALID_INTERVAL_STOP"])
            if text == "+":
                stop = None
            elif (hour := _hour(text)) is not None:
                stop = hour + np.timedelta64(1, "h")
    return start, stop


def _idl_site(rec: Any, names: set[str], path: Path) -> Station | None:
    if not {"SITE_MAP_LATITUDE", "SITE_MAP_LONGITUDE"} <= names:
        return None
    uid = text_value(rec["SITE_UID"]).upper() if "SITE_UID" in names else "SITE"
    try:
        known = get_station(uid).name
    except KeyError:
        known = uid
    alt = float(rec["SITE_MAP_ALTITUDE"]) if "SITE_MAP_ALTITUDE" in names else 0.0
    return Station(
        code=uid or "SITE",
        name=known,
        latitude=round(float(rec["SITE_MAP_LATITUDE"]), 6),  # float32 in the file
        longitude=round(normalize_longitude(float(rec["SITE_MAP_LONGITUDE"])), 6),
        altitude_m=round(alt, 3),
        source=f"SITE_MAP_LATITUDE/LONGITUDE/ALTITUDE of skymap {path.name}",
    )


def _pair(path: Path) -> tuple[Path, Path]:
    stem = path.stem
    m = re.search(r"_(az|el)$", stem, re.IGNORECASE)
    if m is None:
        raise OptionError(
            f"{path.name}: expected an Az/El FITS pair named <name>_Az.FIT and <name>_El.FIT"
        )
    base = stem[: m.start()]
    found: dict[str, Path] = {}
    for cand in path.parent.iterdir():
        cm = re.fullmatch(re.escape(base) + r"_(az|el)", cand.stem, re.IGNORECASE)
        if cm is not None and cand.suffix.lower() in _FITS:
            found[cm.group(1).lower()] = cand
    missing = [k for k in ("az", "el") if k not in found]
    if missing:
        raise NoFilesFoundError(
            f"{path.name}: the {' and '.join(m.upper() for m in missing)} half of the Az/El "
            f"FITS pair ({base}_Az / {base}_El) is not in {path.parent}"
        )
    return found["az"], found["el"]


def read_azel_fits(path: str | os.PathLike[str]) -> Skymap:
    """Read an azimuth/elevation FITS pair from either of its two files.

    Pixels where both are 0 (outside the field of view) become NaN. The first 8-digit date
    in the name (``PKR_DASC_0558_20150213_Az.FIT``) starts an open-ended validity.

    Raises
    ------
    NoFilesFoundError
        If the other half of the pair is missing.
    CalibrationError
        If the images are not two 2-D arrays of one shape.
    """
    from astropy.io import fits

    az_path, el_path = _pair(Path(path))
    try:
        az = np.asarray(fits.getdata(az_path), dtype=np.float32)
        el = np.asarray(fits.getdata(el_path), dtype=np.float32)
    except (OSError, ValueError, TypeError) as exc:
        raise CalibrationError(f"{az_path.name}: cannot read the Az/El FITS pair ({exc})") from None
    if az.ndim != 2 or az.shape != el.shape:
        raise CalibrationError(
            f"{az_path.name}: expected two 2-D images of one shape; found {az.shape}, {el.shape}"
        )
    outside = (az == 0) & (el == 0)
    az[outside], el[outside] = np.nan, np.nan
    base = az_path.stem[: -len("_az")]
    date = re.search(r"(?<!\d)(\d{8})(?!\d)", base)
    return Skymap(
        elevation=el,
        azimuth=az,
        name=base,
        checksum=file_checksum(az_path, el_path),
        valid_from=_day(date.group(1)) if date else None,
        orientation=_FITS_NOTE,
        source=f"{az_path}, {el_path}",
    )


# -- any file, any folder --------------------------------------------------------------
def read_skymap(path: str | os.PathLike[str]) -> Skymap:
    """Read one skymap file: ``.sav`` (IDL), ``.FIT``/``.fits`` (Az/El pair), ``.npz``, ``.nc``.

    Raises
    ------
    NoFilesFoundError
        If the file does not exist.
    OptionError
        For a file of another kind.
    """
    p = Path(path)
    if not p.is_file():
        raise NoFilesFoundError(f"skymap file {str(p)!r} does not exist")
    suffix = p.suffix.lower()
    if suffix == ".sav":
        return read_idl_skymap(p)
    if suffix in _FITS:
        return read_azel_fits(p)
    if suffix in ARRAY_SUFFIXES:
        return read_skymap_arrays(p)
    raise OptionError(
        f"{p.name}: expected a skymap file (.sav, an Az/El .FIT pair, .npz or .nc); "
        f"found suffix {p.suffix!r}"
    )


def read_skymaps(path: str | os.PathLike[str]) -> list[Skymap]:
    """Every skymap in a file or a folder (not recursive), sorted by validity start.

    In a folder, an Az/El FITS pair counts once, files of other kinds are ignored, and a
    file that cannot be read is skipped with a :class:`SkymapFileWarning`.

    Raises
    ------
    NoFilesFoundError
        If the path does not exist or the folder holds no readable skymap.
    """
    p = Path(path)
    if p.is_file():
        return [read_skymap(p)]
    if not p.is_dir():
        raise NoFilesFoundError(f"skymap path {str(p)!r} does not exist")
    out: list[Skymap] = []
    for f in _candidates(sorted(p.iterdir())):
        try:
            out.append(read_skymap(f))
        except (CalibrationError, OptionError, NoFilesFoundError) as exc:
            warnings.warn(f"skipped skymap file {f.name}: {exc}", SkymapFileWarning, stacklevel=2)
    if not out:
        raise NoFilesFoundError(
            f"no readable skymap (.sav, Az/El .FIT pair, .npz, .nc) in folder {str(p)!r}"
        )
    far_past = np.datetime64("0001-01-01", "s")
    return sorted(out, key=lambda s: (s.valid_from or far_past, s.name))


def _candidates(files: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    pairs: set[str] = set()
    for f in files:
        suffix = f.suffix.lower()
        if not f.is_file() or f.name.startswith("."):
            continue
        if suffix in _FITS:
            m = re.search(r"_(az|el)$", f.stem, re.IGNORECASE)
            if m is None or f.stem[: m.start()].lower() in pairs:
                continue
            pairs.add(f.stem[: m.start()].lower())
            out.append(f)
        elif suffix == ".sav" or suffix in ARRAY_SUFFIXES:
            out.append(f)
    return out
