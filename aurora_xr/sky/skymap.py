"""Per-pixel skymaps: a camera calibration given as the elevation and azimuth of every pixel.

The operators of the THEMIS, REGO, TREx and Rainbow imagers (IDL ``.sav`` skymaps) and of
the Poker Flat DASC (an Az/El FITS pair) publish, for each camera and period, the direction
every pixel looks at, and often the latitude and longitude of every pixel at a few emission
altitudes. A :class:`Skymap` holds those arrays and offers what the package needs from a
calibration (the :class:`~aurora_xr.sky.camera.Camera` protocol): the frame size, the
elevation/azimuth grids, pixel -> sky by interpolation on the grid, and sky -> pixel by an
inverse lookup (a k-d tree on the pixels' unit vectors, refined to a fraction of a pixel).

Conventions (as :mod:`aurora_xr.sky.lens`): ``x`` is the column, ``y`` the row, pixel
centres at integer indices; elevation and azimuth (from north through east) in degrees;
NaN outside the field of view. Latitudes and longitudes are at pixel centres, longitudes
in [-180, 180). Readers are in :mod:`aurora_xr.sky.skymap_files`, the choice by validity
interval in :mod:`aurora_xr.sky.skymap_choice`.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from dataclasses import dataclass
from typing import Any, ClassVar, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import CalibrationError, FrameSizeError, OptionError
from .directions import DirectionGrid, angles, unit_vectors
from .stations import Station

__all__ = ["Skymap", "centres_from_corners"]

_PREFIX = "calibration_"


def centres_from_corners(
    lat_corners: ArrayLike, lon_corners: ArrayLike
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Pixel-centre latitude/longitude as the mean of the four corners of every pixel.

    Parameters
    ----------
    lat_corners, lon_corners : (..., H + 1, W + 1) array_like
        Degrees at the pixel corners (longitudes east, any branch: 0..360 works).

    Returns
    -------
    lat, lon : (..., H, W) ndarray of float32
        Centres; NaN where any corner is NaN; longitudes in [-180, 180). Longitudes are
        averaged after unwrapping each corner to within 180° of the first one, so pixels
        across the 0°/360° or ±180° meridian average correctly.
    """
    la = np.asarray(lat_corners, dtype=np.float64)
    lo = np.asarray(lon_corners, dtype=np.float64)
    corners_la = (la[..., :-1, :-1], la[..., 1:, :-1], la[..., :-1, 1:], la[..., 1:, 1:])
    corners_lo = (lo[..., :-1, :-1], lo[..., 1:, :-1], lo[..., :-1, 1:], lo[..., 1:, 1:])
    ref = corners_lo[0]
    unwrapped = [ref + (np.mod(c - ref + 180.0, 360.0) - 180.0) for c in corners_lo]
    lat = sum(corners_la) / 4.0
    lon = np.mod(sum(unwrapped) / 4.0 + 180.0, 360.0) - 180.0
    return np.asarray(lat, dtype=np.float32), np.asarray(lon, dtype=np.float32)


@dataclass(frozen=True, eq=False)
class Skymap:
    """A per-pixel calibration: the elevation and azimuth every pixel looks at.

    Parameters
    ----------
    elevation, azimuth : (H, W) array_like
        Degrees; NaN outside the field of view (both NaN where either is). Stored as
        read-only float32, azimuth folded into [0, 360).
    name : str
        Name of the skymap (usually the file name without its suffix).
    checksum : str
        SHA-256 of the source file(s); default: of the float32 elevation and azimuth bytes.
    altitudes_km : tuple of float
        Emission altitudes of ``latitude``/``longitude`` in km.
    latitude, longitude : (n_alt, H, W) array_like, optional
        Degrees at pixel centres for each altitude (longitudes folded into [-180, 180)).
    valid_from, valid_to : numpy.datetime64, optional
        Validity interval (UTC); ``valid_to`` is exclusive, None for open-ended.
    site : Station, optional
        The site position the file gives.
    orientation : str
        How the arrays pair with the camera's frames (which reader, which flips).
    source : str
        Path of the file(s) read.

    Raises
    ------
    CalibrationError
        For arrays of other shapes, elevations outside -90..90 or too few valid pixels.
    """

    elevation: NDArray[np.float32]
    azimuth: NDArray[np.float32]
    name: str = "skymap"
    checksum: str = ""
    altitudes_km: tuple[float, ...] = ()
    latitude: NDArray[np.float32] | None = None
    longitude: NDArray[np.float32] | None = None
    valid_from: np.datetime64 | None = None
    valid_to: np.datetime64 | None = None
    site: Station | None = None
    orientation: str = ""
    source: str = ""
    kind: ClassVar[str] = "skymap"

    def __post_init__(self) -> None:
        el = np.array(self.elevation, dtype=np.float32)
        az = np.array(self.azimuth, dtype=np.float32)
        if el.ndim != 2 or el.shape != az.shape or min(el.shape) < 2:
            raise CalibrationError(
                "a skymap needs elevation and azimuth of one (H, W) shape, at least 2x2; "
                f"found {el.shape} and {az.shape}"
            )
        outside = ~(np.isfinite(el) & np.isfinite(az))
        el[outside], az[outside] = np.nan, np.nan
        az = np.mod(az, np.float32(360.0))
        if np.any(np.abs(el[~outside]) > 90.0):
            raise CalibrationError(
                f"skymap {self.name!r}: elevations must lie in -90..90 degrees; found "
                f"{np.nanmin(el):g}..{np.nanmax(el):g}"
            )
        if int((~outside).sum()) < 4:
            raise CalibrationError(f"skymap {self.name!r} has fewer than 4 valid pixels")
        for attr, arr in (("elevation", el), ("azimuth", az)):
            arr.setflags(write=False)
            object.__setattr__(self, attr, arr)
        self._set_geo(el.shape)
        self._set_validity()
        if not self.checksum:
            digest = hashlib.sha256(el.astype("<f4").tobytes() + az.astype("<f4").tobytes())
            object.__setattr__(self, "checksum", digest.hexdigest())

    def _set_geo(self, shape: tuple[int, ...]) -> None:
        if (self.latitude is None) != (self.longitude is None):
            raise CalibrationError("a skymap needs both latitude and longitude, or neither")
        alts = tuple(float(a) for a in np.atleast_1d(np.asarray(self.altitudes_km, float)))
        if self.latitude is None:
            object.__setattr__(self, "altitudes_km", ())
            return
        lat = np.array(self.latitude, dtype=np.float32)
        lon = np.array(self.longitude, dtype=np.float32)
        want = (len(alts), *shape)
        if lat.shape != want or lon.shape != want:
            raise CalibrationError(
                f"skymap latitude/longitude must be (n_alt, H, W) = {want} for altitudes "
                f"{alts} km; found {lat.shape} and {lon.shape}"
            )
        lon = np.where(np.isfinite(lon), np.mod(lon + 180.0, 360.0) - 180.0, np.nan)
        for attr, arr in (("latitude", lat), ("longitude", lon.astype(np.float32))):
            arr.setflags(write=False)
            object.__setattr__(self, attr, arr)
        object.__setattr__(self, "altitudes_km", alts)

    def _set_validity(self) -> None:
        start, stop = (None if v is None else _seconds(v) for v in (self.valid_from, self.valid_to))
        if start is not None and stop is not None and stop <= start:
            raise CalibrationError(
                f"skymap {self.name!r}: validity ends ({stop}) before it starts ({start})"
            )
        object.__setattr__(self, "valid_from", start)
        object.__setattr__(self, "valid_to", stop)

    def __getstate__(self) -> dict[str, Any]:  # leave the lookup cache behind
        return {k: v for k, v in self.__dict__.items() if k != "_lookup"}

    def __repr__(self) -> str:
        return (
            f"Skymap(name={self.name!r}, shape={self.elevation.shape}, "
            f"valid={self.validity_text()}, altitudes_km={self.altitudes_km})"
        )

    # -- the Camera protocol -------------------------------------------------------------
    @property
    def width(self) -> int:
        """Frame width in pixels (columns)."""
        return int(self.elevation.shape[1])

    @property
    def height(self) -> int:
        """Frame height in pixels (rows)."""
        return int(self.elevation.shape[0])

    def sky_grids(self) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """Elevation and azimuth images ``(height, width)`` (float32 copies, NaN outside)."""
        return self.elevation.copy(), self.azimuth.copy()

    @functools.cached_property
    def _lookup(self) -> DirectionGrid:
        return DirectionGrid.build(self.elevation, self.azimuth)

    def pixel_to_sky(
        self, x: ArrayLike, y: ArrayLike, *, method: str = "bilinear"
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Elevation and azimuth (degrees) seen at pixel positions ``(x, y)``.

        ``method="bilinear"`` interpolates the unit vectors of the four surrounding pixels
        (those inside the field of view); ``"nearest"`` takes the nearest pixel. Positions
        whose nearest pixel is outside the field of view or the frame give NaN.
        """
        xb, yb = np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float))
        if method == "nearest":
            h, w = self.height, self.width
            xi, yi = np.rint(np.nan_to_num(xb, nan=-1)), np.rint(np.nan_to_num(yb, nan=-1))
            ok = (xi >= 0) & (xi <= w - 1) & (yi >= 0) & (yi <= h - 1)
            xi, yi = np.where(ok, xi, 0).astype(np.intp), np.where(ok, yi, 0).astype(np.intp)
            el = np.where(ok, self.elevation[yi, xi], np.nan).astype(np.float64)
            az = np.where(ok, self.azimuth[yi, xi], np.nan).astype(np.float64)
            return el, az
        if method != "bilinear":
            raise OptionError(f"method must be 'bilinear' or 'nearest'; found {method!r}")
        return angles(self._lookup.vectors_at(xb, yb))

    def sky_to_pixel(
        self, elevation: ArrayLike, azimuth: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Pixel ``(x, y)`` that sees elevation/azimuth (degrees); NaN outside the field of view.

        The nearest pixel (a k-d tree on unit vectors) is refined to a fraction of a pixel
        by a few Gauss-Newton steps on the bilinear interpolation of :meth:`pixel_to_sky`.
        """
        el, az = np.broadcast_arrays(np.asarray(elevation, float), np.asarray(azimuth, float))
        x, y = self._lookup.locate(unit_vectors(el.ravel(), az.ravel()))
        return x.reshape(el.shape), y.reshape(el.shape)

    @functools.cached_property
    def zenith_pixel(self) -> tuple[float, float]:
        """Pixel ``(x, y)`` that sees the zenith (the highest pixel if the zenith is outside)."""
        x, y = self.sky_to_pixel(90.0, 0.0)
        if np.isfinite(x):
            return float(x), float(y)
        row, col = np.unravel_index(np.nanargmax(self.elevation), self.elevation.shape)
        return float(col), float(row)

    @functools.cached_property
    def horizon_radius(self) -> float:
        """Typical distance in pixels from the zenith pixel to the horizon (zenith angle 90°).

        A least-squares fit ``r = a θ + b θ³`` of the pixels' distance from the zenith pixel
        to their zenith angle, evaluated at 90° (an extrapolation for skymaps cut at 10°
        elevation); it plays the part of the lens radius in resampled views.
        """
        zx, zy = self.zenith_pixel
        yy, xx = np.nonzero(np.isfinite(self.elevation))
        theta = np.radians(90.0 - self.elevation[yy, xx].astype(np.float64))
        r = np.hypot(xx - zx, yy - zy)
        design = np.stack([theta, theta**3], axis=-1)
        (a, b), *_ = np.linalg.lstsq(design, r, rcond=None)
        return float(a * np.pi / 2 + b * (np.pi / 2) ** 3)

    def up_left_azimuths(self) -> tuple[float, float]:
        """Azimuths seen a quarter of the horizon radius above and left of the zenith pixel.

        For a camera looking up with north near the top, "left" is about 90° more than "up"
        when east is on the left (the sky seen from below), 90° less when the image is
        mirrored.
        """
        zx, zy = self.zenith_pixel
        d = 0.25 * self.horizon_radius
        _, az = self.pixel_to_sky(np.array([zx, zx - d]), np.array([zy - d, zy]))
        return float(az[0]), float(az[1])

    # -- transforms ----------------------------------------------------------------------
    def rotated(self, k: int) -> Skymap:
        """The skymap of frames turned ``k`` quarter turns counter-clockwise (``numpy.rot90``).

        ``rotated(2)`` pairs the raw THEMIS ``.sav`` arrays with the Berkeley CDF frames.
        """
        k = int(k) % 4

        def turn(a: NDArray[Any] | None) -> NDArray[Any] | None:
            return None if a is None else np.rot90(a, k, axes=(-2, -1))

        note = f"{self.orientation}; then turned {90 * k}° counter-clockwise (numpy.rot90)"
        return dataclasses.replace(
            self,
            elevation=np.rot90(self.elevation, k),
            azimuth=np.rot90(self.azimuth, k),
            latitude=turn(self.latitude),
            longitude=turn(self.longitude),
            orientation=note if k else self.orientation,
        )

    # -- geography and validity ----------------------------------------------------------
    def geo_grids(
        self, altitude_km: float, *, tolerance_km: float = 0.5
    ) -> tuple[NDArray[np.float32], NDArray[np.float32]] | None:
        """Pixel-centre latitude and longitude ``(H, W)`` at an altitude, if the file gave them."""
        if self.latitude is None or self.longitude is None:
            return None
        for i, alt in enumerate(self.altitudes_km):
            if abs(alt - float(altitude_km)) <= tolerance_km:
                return self.latitude[i].copy(), self.longitude[i].copy()
        return None

    def covers(self, times: ArrayLike) -> NDArray[np.bool_]:
        """Whether each time (datetime64, UTC) lies in the validity interval."""
        t = np.asarray(times, dtype="datetime64[ns]")
        ok = ~np.isnat(t)
        if self.valid_from is not None:
            ok &= t >= self.valid_from
        if self.valid_to is not None:
            ok &= t < self.valid_to
        return ok

    def distance_ns(self, times: ArrayLike) -> NDArray[np.int64]:
        """Nanoseconds from each time to the validity interval (0 inside it)."""
        t = np.asarray(times, dtype="datetime64[ns]").astype(np.int64)
        out = np.zeros(t.shape, dtype=np.int64)
        if self.valid_from is not None:
            lo = _ns(self.valid_from)
            out = np.where(t < lo, lo - np.minimum(t, lo), out)
        if self.valid_to is not None:
            hi = _ns(self.valid_to)
            out = np.where(t >= hi, np.maximum(t, hi) - hi, out)
        return out

    def validity_text(self) -> str:
        """The validity interval as text, e.g. ``2011-03-05T08:00:00 to open end``."""
        start = "open start" if self.valid_from is None else str(self.valid_from)
        stop = "open end" if self.valid_to is None else str(self.valid_to)
        return f"{start} to {stop}"

    # -- attributes ----------------------------------------------------------------------
    def to_attrs(self) -> dict[str, Any]:
        """NetCDF-safe attributes (``calibration_*``); the arrays live in the cube's variables."""
        attrs: dict[str, Any] = {
            f"{_PREFIX}kind": "skymap",
            f"{_PREFIX}name": self.name,
            f"{_PREFIX}checksum": self.checksum,
            f"{_PREFIX}width": self.width,
            f"{_PREFIX}height": self.height,
            f"{_PREFIX}valid_from": "" if self.valid_from is None else str(self.valid_from),
            f"{_PREFIX}valid_to": "" if self.valid_to is None else str(self.valid_to),
            f"{_PREFIX}orientation": self.orientation,
        }
        if self.altitudes_km:
            attrs[f"{_PREFIX}altitudes_km"] = [float(a) for a in self.altitudes_km]
        return attrs

    @classmethod
    def from_attrs(
        cls,
        attrs: dict[str, Any],
        elevation: ArrayLike,
        azimuth: ArrayLike,
        *,
        latitude: ArrayLike | None = None,
        longitude: ArrayLike | None = None,
        site: Station | None = None,
    ) -> Skymap:
        """Rebuild a skymap from :meth:`to_attrs` and the cube's elevation/azimuth arrays.

        Raises
        ------
        CalibrationError
            If the attributes are not those of a skymap.
        FrameSizeError
            If the arrays are not of the size the attributes record.
        """
        if str(attrs.get(f"{_PREFIX}kind", "")) != "skymap":
            raise CalibrationError(
                f"expected {_PREFIX}kind = 'skymap'; found {attrs.get(f'{_PREFIX}kind')!r}"
            )
        el = np.asarray(elevation, dtype=np.float32)
        h, w = attrs.get(f"{_PREFIX}height"), attrs.get(f"{_PREFIX}width")
        want = (el.shape[0] if h is None else int(h), el.shape[-1] if w is None else int(w))
        if el.shape != want:
            raise FrameSizeError(
                f"the skymap {attrs.get(f'{_PREFIX}name')!r} is {want[0]}x{want[1]} (rows x "
                f"columns); found elevation/azimuth arrays of shape {el.shape}"
            )
        has_geo = latitude is not None and longitude is not None
        return cls(
            elevation=el,
            azimuth=np.asarray(azimuth, dtype=np.float32),
            name=str(attrs.get(f"{_PREFIX}name", "skymap")),
            checksum=str(attrs.get(f"{_PREFIX}checksum", "")),
            altitudes_km=tuple(np.atleast_1d(attrs.get(f"{_PREFIX}altitudes_km", [])))
            if has_geo
            else (),
            latitude=None if latitude is None or not has_geo else np.asarray(latitude),
            longitude=None if longitude is None or not has_geo else np.asarray(longitude),
            valid_from=_time_attr(attrs.get(f"{_PREFIX}valid_from")),
            valid_to=_time_attr(attrs.get(f"{_PREFIX}valid_to")),
            site=site,
            orientation=str(attrs.get(f"{_PREFIX}orientation", "")),
        )


def _ns(t: np.datetime64) -> int:
    return int(np.asarray(t, dtype="datetime64[ns]").astype(np.int64))


def _seconds(value: Any) -> np.datetime64:
    """A datetime64[s] scalar from a datetime64, a datetime or an ISO string."""
    return cast(np.datetime64, np.asarray(value, dtype="datetime64[s]")[()])


def _time_attr(value: Any) -> np.datetime64 | None:
    text = "" if value is None else str(value).strip()
    return _seconds(text) if text else None
