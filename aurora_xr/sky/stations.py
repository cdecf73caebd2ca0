"""Registry of stations and their all-sky camera calibrations.

Jang Bogo Station (JBS) is built in; users register their own with
:func:`register_station`. A station's camera is stored at a reference frame
size and scaled to the size of the frames in use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import SchemaError, StationError
from .lens import Calibration

__all__ = ["Station", "get_station", "register_station", "station_codes", "station_from_attrs"]


@dataclass(frozen=True)
class Station:
    """An observing site and its camera.

    Parameters
    ----------
    code : str
        Short code, e.g. ``"JBS"``.
    name : str
        Full name.
    latitude, longitude : float
        Geographic position in degrees (east positive).
    altitude_m : float
        Height of the camera above sea level in metres.
    camera : Calibration
        Camera calibration at its reference frame size.
    """

    code: str
    name: str
    latitude: float
    longitude: float
    altitude_m: float
    camera: Calibration

    def calibration(self, width: int | None = None, height: int | None = None) -> Calibration:
        """The camera calibration scaled to frames of ``width`` x ``height``."""
        if width is None or height is None:
            return self.camera
        return self.camera.scaled(width, height)

    def to_attrs(self) -> dict[str, Any]:
        """NetCDF-safe station attributes."""
        return {
            "station_code": self.code,
            "station_name": self.name,
            "station_latitude": float(self.latitude),
            "station_longitude": float(self.longitude),
            "station_altitude_m": float(self.altitude_m),
        }


_JBS = Station(
    code="JBS",
    name="Jang Bogo Station, Antarctica",
    latitude=-74.62,
    longitude=164.22,
    altitude_m=30.0,
    # Reference calibration: an equidistant fisheye whose horizon circle fills
    # 94 % of a square frame, geographic north at the top of the image.
    camera=Calibration(
        width=512,
        height=512,
        zenith_x=255.5,
        zenith_y=255.5,
        lens_radius=240.0,
        rotation_deg=0.0,
        projection="equidistant",
    ),
)

_REGISTRY: dict[str, Station] = {"JBS": _JBS}


def register_station(station: Station, *, overwrite: bool = False) -> None:
    """Add a station to the registry (``overwrite=True`` to replace one)."""
    code = station.code.upper()
    if code in _REGISTRY and not overwrite:
        raise StationError(f"station {code!r} is already registered; pass overwrite=True")
    _REGISTRY[code] = station


def get_station(code: str | Station) -> Station:
    """Look up a station by code (case-insensitive)."""
    if isinstance(code, Station):
        return code
    try:
        return _REGISTRY[str(code).upper()]
    except KeyError:
        raise StationError(
            f"unknown station {code!r}; registered stations: {', '.join(sorted(_REGISTRY))}"
        ) from None


def station_codes() -> list[str]:
    """Codes of the registered stations."""
    return sorted(_REGISTRY)


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
