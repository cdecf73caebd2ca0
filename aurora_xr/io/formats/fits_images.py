"""FITS images through astropy (Poker Flat DASC, Starlight Xpress Oculus and others).

Each image HDU with 2-D data is a frame (a 3-D HDU of three planes is one RGB frame); frames
come back with rows in file order (``orientation = "as_written"``; the DASC Az/El calibration
images pair with the raw DASC frames without rotation).

Counts come out as the camera's integers: ``BITPIX = 8`` as uint8; ``BITPIX = 16`` as uint16,
with ``BZERO``/``BSCALE`` applied exactly in integers (``BZERO = 32768`` is unsigned 16-bit,
the Oculus writes ``BZERO = 32767``; DASC writes signed int16 without ``BZERO``, holding 14-bit
counts); ``BITPIX = 32`` when the values fit 0..65535. Negative or larger counts and float
images are refused: a float image without time keys is a calibration (such as the DASC
``_Az.FIT``/``_El.FIT`` pair), not a frame, and the message says so.

Time (exposure start), by the first of these the header holds:

1. ``DATE-OBS`` with a date and a time (``2015-10-07T08:23:51.743``);
2. ``DATE-OBS`` (date) + ``TIME-OBS``;
3. ``OBSDATE`` + ``OBSSTART`` (DASC).

Without any of them the frame is refused, naming the keys looked for. Times are taken as UTC
unless the ``utc_offset`` option says the camera stamps local time (``utc_offset="-05:00"``
for the Oculus files, stamped in EST): UTC = stamp - offset.

Per-frame metadata: every header card (lower-case ``snake_case`` names; ``HISTORY`` and
``COMMENT`` joined), plus ``exposure_s`` (``EXPTIME`` or ``EXPOSURE``), ``filter`` (``FILTWAV``
in nm -> ``"557.7nm"``, else a non-blank ``FILTER``), ``ccd_temperature_c`` (``CCDTEMP``,
``CCD-TEMP``). File level: ``site_latitude``/``site_longitude`` (``GLAT``/``GLON``, or
``LAT-OBS``/``LONG-OBS``), ``site_altitude_m`` (``ALT-OBS``), ``site_id`` (``SITE``),
``camera`` (``INSTRUME``), ``utc_offset_h`` when given. The channel is the filter band when
the header names one, else ``"white"``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ...errors import ImageFileError
from .conventions import band_name, first_float, metadata_key, utc_offset_ns
from .registry import CameraFormat, gunzip_prefix, register_format
from .results import FileHeader, FrameError, FrameFile, metadata_columns, no_good_frame

if TYPE_CHECKING:
    from astropy.io.fits import Header

__all__ = ["TIME_KEYS", "FitsFormat", "header_time"]

TIME_KEYS = ("DATE-OBS (date and time)", "DATE-OBS + TIME-OBS", "OBSDATE + OBSSTART")
_STRUCTURAL = re.compile(r"^(SIMPLE|BITPIX|NAXIS\d*|EXTEND|BZERO|BSCALE|PCOUNT|GCOUNT|XTENSION)$")
_OLD_DATE = re.compile(r"^(\d{2})/(\d{2})/(\d{2})$")
_CALIBRATION_KEYS = ("CENTAZ", "CENTEL", "XSCALE", "YSCALE")


def _text(header: Header, key: str) -> str | None:
    value = header.get(key)
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    return text or None


def _date(text: str) -> str:
    old = _OLD_DATE.match(text)  # the pre-2000 FITS convention dd/mm/yy
    if old:
        day, month, year = old.groups()
        return f"{1900 + int(year)}-{month}-{day}"
    return text


def header_time(header: Header) -> tuple[np.datetime64, str]:
    """Exposure start in a FITS header (as stamped, no offset applied) and the keys used.

    Raises
    ------
    ImageFileError
        When none of :data:`TIME_KEYS` is there, or the value cannot be read.
    """
    date_obs = _text(header, "DATE-OBS")
    candidates: list[tuple[str, str]] = []
    if date_obs and "T" in date_obs:
        candidates.append((date_obs, "DATE-OBS"))
    if date_obs and (time_obs := _text(header, "TIME-OBS")):
        candidates.append((f"{_date(date_obs.split('T')[0])}T{time_obs}", "DATE-OBS + TIME-OBS"))
    obs_date, obs_start = _text(header, "OBSDATE"), _text(header, "OBSSTART")
    if obs_date and obs_start:
        candidates.append((f"{_date(obs_date)}T{obs_start}", "OBSDATE + OBSSTART"))
    if not candidates:
        found = f"; DATE-OBS is {date_obs!r} (a date without a time)" if date_obs else ""
        raise ImageFileError(
            f"no frame time in the FITS header: looked for {', '.join(TIME_KEYS)}{found}"
        )
    text, keys = candidates[0]
    text = text.rstrip("Zz").strip()
    try:
        return np.datetime64(text, "ns"), keys
    except ValueError:
        raise ImageFileError(f"unreadable FITS time {text!r} (from {keys})") from None


def _integer_counts(raw: NDArray[Any], header: Header) -> NDArray[np.unsignedinteger[Any]]:
    """The stored integers with BZERO/BSCALE applied exactly, as uint8 or uint16."""
    dtype = _dtype(header)
    bitpix = int(header.get("BITPIX", 0))
    bzero, bscale = header.get("BZERO", 0), header.get("BSCALE", 1)
    if float(bscale) != 1.0 or float(bzero) != int(float(bzero)):
        raise ImageFileError(
            f"BSCALE {bscale} / BZERO {bzero}: counts are not integers (expected BSCALE 1 and "
            "an integer BZERO)"
        )
    if dtype == np.uint8:
        return np.ascontiguousarray(raw, dtype=np.uint8)
    values = raw.astype(np.int64) + int(float(bzero))
    low, high = (int(values.min()), int(values.max())) if values.size else (0, 0)
    if low < 0 or high > 65535:
        raise ImageFileError(
            f"counts {low}..{high} (BITPIX {bitpix}, BZERO {bzero}) do not fit 0..65535"
        )
    return values.astype(np.uint16)


def _dtype(header: Header) -> np.dtype[Any]:
    """uint8 for unsigned bytes, uint16 for any other integer data; float data is refused."""
    bitpix = int(header.get("BITPIX", 0))
    if bitpix < 0:
        raise ImageFileError(
            f"float{-bitpix} data (BITPIX {bitpix}) where integer camera counts were expected"
        )
    return np.dtype(np.uint8 if bitpix == 8 and not header.get("BZERO", 0) else np.uint16)


def _calibration_hint(header: Header) -> str:
    """A note for float images without time keys: calibration maps, not frames."""
    if int(header.get("BITPIX", 0)) >= 0:
        return ""
    keys = [k for k in _CALIBRATION_KEYS if k in header]
    found = f" with {', '.join(keys)} keys" if keys else ""
    return f" (a float image{found}: a calibration such as an Az/El map, not a camera frame)"


def _cards(header: Header) -> dict[str, Any]:
    row: dict[str, Any] = {}
    notes: dict[str, list[str]] = {}
    for card in header.cards:
        key = card.keyword
        if not key or _STRUCTURAL.match(key):
            continue
        if key in ("HISTORY", "COMMENT"):
            if str(card.value).strip():
                notes.setdefault(key.lower(), []).append(str(card.value).strip())
            continue
        value = card.value
        if isinstance(value, str):
            value = value.strip()
        elif isinstance(value, bool):
            value = str(value)
        elif not isinstance(value, int | float):
            continue
        row[metadata_key(key)] = value
    row.update({k: "\n".join(v) for k, v in notes.items()})
    return row


def _canonical(row: dict[str, Any]) -> dict[str, Any]:
    for key in ("exptime", "exposure"):
        if isinstance(row.get(key), int | float):
            row["exposure_s"] = float(row[key])
            break
    wave = row.get("filtwav")
    if wave is not None and (nm := first_float(str(wave))) is not None and nm > 0:
        row["filter"] = band_name(nm)
    elif isinstance(row.get("filter"), str) and row["filter"].lower() not in ("", "blank", "none"):
        row["filter"] = row["filter"]
    else:
        row.pop("filter", None)
    for key in ("ccdtemp", "ccd_temp", "ccd_temperature"):
        if isinstance(row.get(key), int | float):
            row["ccd_temperature_c"] = float(row[key])
            break
    return row


def _site(header: Header) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    for name, keys in (
        ("site_latitude", ("GLAT", "LAT-OBS", "SITELAT")),
        ("site_longitude", ("GLON", "LONG-OBS", "SITELONG")),
        ("site_altitude_m", ("ALT-OBS", "SITEELEV")),
    ):
        for key in keys:
            value = header.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                meta[name] = float(value)
                break
    for name, key in (("site_id", "SITE"), ("camera", "INSTRUME"), ("observer", "OBSERVER")):
        if text := _text(header, key):
            meta[name] = text
    return meta


def _image_hdus(hdus: Any) -> list[tuple[int, Any]]:
    return [
        (i, hdu)
        for i, hdu in enumerate(hdus)
        if hdu.is_image and int(hdu.header.get("NAXIS", 0)) >= 2
    ]


def _merged(primary: Header, header: Header) -> Header:
    if header is primary:
        return header
    merged = primary.copy(strip=True)
    merged.update(header)
    return merged


def _frame_shape(header: Header) -> tuple[int, ...]:
    naxis = int(header["NAXIS"])
    shape = tuple(int(header[f"NAXIS{k}"]) for k in range(naxis, 0, -1))
    if naxis == 3 and shape[0] == 3:
        return (shape[1], shape[2], 3)
    if naxis != 2:
        raise ImageFileError(
            f"{naxis}-D FITS data of shape {shape}: expected a 2-D frame (or 3 colour planes)"
        )
    return shape


class FitsFormat(CameraFormat):
    """FITS image files (gzipped or not), one frame per image HDU."""

    name = "fits"
    description = "FITS images, times from DATE-OBS / TIME-OBS / OBSDATE+OBSSTART (astropy)"
    extensions = (".fits", ".fit", ".fts", ".fits.gz", ".fit.gz")
    options = ("utc_offset",)

    def accept(self, prefix: bytes, path: Path) -> bool:
        """The FITS primary header's first card ``SIMPLE  =``, inside gzip or not."""
        return gunzip_prefix(prefix).startswith(b"SIMPLE  =")

    def _walk(self, path: Path, *, utc_offset: Any, data: bool) -> dict[str, Any]:
        from astropy.io import fits

        offset = 0 if utc_offset is None else utc_offset_ns(utc_offset)
        frames: list[NDArray[np.unsignedinteger[Any]]] = []
        rows: list[dict[str, Any]] = []
        times: list[np.datetime64] = []
        index: list[int] = []
        errors: list[FrameError] = []
        layouts: list[tuple[tuple[int, ...], np.dtype[Any]]] = []
        meta: dict[str, Any] = {"orientation": "as_written"}
        with fits.open(path, memmap=False, do_not_scale_image_data=True) as hdus:
            primary = hdus[0].header
            meta.update(_site(primary))
            if utc_offset is not None:
                meta["utc_offset_h"] = offset / 3600e9
            for k, (i, hdu) in enumerate(_image_hdus(hdus)):
                header = _merged(primary, hdu.header)
                try:
                    stamp, keys = header_time(header)
                    layout = (_frame_shape(hdu.header), _dtype(header))
                    if layouts and layout != layouts[0]:
                        raise ImageFileError(
                            f"frame of shape {layout[0]} {layout[1]} differs from the first "
                            f"frame's {layouts[0][0]} {layouts[0][1]}"
                        )
                    if data:
                        pixels = _integer_counts(np.asarray(hdu.data), header)
                        if pixels.ndim == 3:
                            pixels = np.ascontiguousarray(np.moveaxis(pixels, 0, -1))
                        frames.append(pixels)
                except ImageFileError as exc:
                    errors.append(FrameError(k, f"HDU {i}: {exc}{_calibration_hint(header)}"))
                    continue
                row = _canonical(_cards(header))
                row["time_keys"] = keys
                layouts.append(layout)
                rows.append(row)
                times.append(stamp - np.timedelta64(offset, "ns"))
                index.append(k)
        if not rows:
            raise no_good_frame(errors or [FrameError(0, "no image HDU with data")])
        filters = {r.get("filter") for r in rows}
        channel = filters.pop() if len(filters) == 1 and None not in filters else "white"
        if channel != "white":
            meta["filter"] = channel
        shape, dtype = layouts[0]
        return {
            "frames": frames,
            "rows": rows,
            "times": np.array(times, dtype="datetime64[ns]"),
            "index": np.array(index, dtype=np.int64),
            "errors": errors,
            "meta": meta,
            "shape": shape,
            "channels": ("R", "G", "B") if len(shape) == 3 else (channel,),
            "dtype": dtype,
        }

    def read(self, path: Path, *, utc_offset: Any = None, **options: Any) -> FrameFile:
        """Read every good frame (see the module docstring for keys and conversions)."""
        walked = self._walk(Path(path), utc_offset=utc_offset, data=True)
        return FrameFile(
            path=Path(path),
            format=self.name,
            frames=np.stack(walked["frames"]),
            channels=walked["channels"],
            times=walked["times"],
            frame_metadata=metadata_columns(walked["rows"]),
            metadata=walked["meta"],
            errors=walked["errors"],
            index=walked["index"],
        )

    def read_header(self, path: Path, *, utc_offset: Any = None, **options: Any) -> FileHeader:
        """Frame count, size, dtype (from BITPIX) and times, from the headers only."""
        walked = self._walk(Path(path), utc_offset=utc_offset, data=False)
        height, width = walked["shape"][:2]
        return FileHeader(
            path=Path(path),
            format=self.name,
            n_frames=len(walked["rows"]),
            height=height,
            width=width,
            channels=walked["channels"],
            dtype=walked["dtype"],
            times=walked["times"],
            metadata=walked["meta"],
            errors=walked["errors"],
        )


register_format(FitsFormat)
