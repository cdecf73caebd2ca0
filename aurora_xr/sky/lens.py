"""Camera and sky geometry, numpy only (this module never sees xarray).

Conventions
-----------
* Pixels: ``x`` is the column, ``y`` the row, pixel centres at integer indices,
  ``y`` growing downwards (as images are stored).
* Sky: elevation above the horizon and azimuth from geographic north through
  east, both in degrees.
* A camera looking up sees east *counter-clockwise* from north on the image.
  ``rotation_deg`` is the counter-clockwise angle on the image from "image up"
  to geographic north.
* Lens models give the normalised radius ``rho = r / lens_radius`` as a
  function of the zenith angle ``theta`` (``rho = 1`` at the horizon):

  - ``equidistant``: ``rho = theta / 90°`` (``r = f·theta``),
  - ``equisolid``: ``rho = sin(theta/2) / sin(45°)`` (``r = 2f·sin(theta/2)``),
  - ``polynomial``: ``rho = sum_k c_k t**k`` with ``t = theta / 90°`` and
    ``k = 1..n`` (a lens calibrated against stars).

* The emission shell is a sphere of radius ``R + h`` concentric with a
  spherical Earth of radius :data:`EARTH_RADIUS_KM`; the angle at Earth's
  centre between the site (height ``h0``) and the point of the shell seen at
  elevation ``el`` is ``beta = 90° - el - asin((R + h0) cos(el) / (R + h))``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import CalibrationError, MissingCalibrationError

__all__ = [
    "EARTH_RADIUS_KM",
    "PROJECTIONS",
    "Calibration",
    "apply_view",
    "bearing_and_angle",
    "destination",
    "earth_angle",
    "elevation_from_earth_angle",
    "geo_to_sky",
    "ground_distance_km",
    "magnetic_view_indices",
    "pixel_to_sky",
    "require_calibration",
    "sky_grids",
    "sky_to_geo",
    "sky_to_pixel",
    "view_calibration",
    "view_indices",
]

EARTH_RADIUS_KM = 6371.0
"""Mean Earth radius (IUGG) used for the spherical-Earth mapping."""

PROJECTIONS = ("equidistant", "equisolid", "polynomial")

_ATTR_PREFIX = "calibration_"


@dataclass(frozen=True)
class Calibration:
    """Intrinsic and orientation calibration of an all-sky camera.

    Parameters
    ----------
    width, height : int
        Frame size in pixels.
    zenith_x, zenith_y : float
        Pixel (column, row) that looks at the zenith.
    lens_radius : float
        Distance in pixels from the zenith pixel to the horizon (zenith angle 90°).
    rotation_deg : float
        Counter-clockwise angle on the image from "image up" to geographic north.
    projection : {"equidistant", "equisolid", "polynomial"}
        Lens model (see the module docstring).
    poly_coeffs : tuple of float
        Coefficients ``c_1..c_n`` of the radial polynomial (``projection="polynomial"``).
    east_clockwise : bool
        True for cameras that see the sky mirrored (east clockwise from north).
    """

    width: int
    height: int
    zenith_x: float
    zenith_y: float
    lens_radius: float
    rotation_deg: float = 0.0
    projection: str = "equidistant"
    poly_coeffs: tuple[float, ...] = ()
    east_clockwise: bool = False

    def __post_init__(self) -> None:
        if self.width < 1 or self.height < 1:
            raise CalibrationError(
                f"calibration frame size must be positive, found {self.width}x{self.height}"
            )
        if not (0 <= self.zenith_x <= self.width - 1 and 0 <= self.zenith_y <= self.height - 1):
            raise CalibrationError(
                f"the zenith pixel ({self.zenith_x}, {self.zenith_y}) lies outside the "
                f"{self.width}x{self.height} frame"
            )
        if not self.lens_radius > 0:
            raise CalibrationError(f"lens_radius must be > 0 pixels, found {self.lens_radius}")
        if self.projection not in PROJECTIONS:
            raise CalibrationError(
                f"projection must be one of {PROJECTIONS}, found {self.projection!r}"
            )
        if self.projection == "polynomial":
            coeffs = np.asarray(self.poly_coeffs, dtype=float)
            if coeffs.size == 0:
                raise CalibrationError("projection='polynomial' needs poly_coeffs (c_1..c_n)")
            t = np.linspace(0.0, 1.0, 1025)
            rho = _poly(t, coeffs)
            if np.any(np.diff(rho) <= 0):
                raise CalibrationError(
                    "the radial polynomial must increase monotonically over 0..90° zenith angle"
                )
            if abs(rho[-1] - 1.0) > 1e-6:
                raise CalibrationError(
                    "the radial polynomial must reach the lens radius at the horizon "
                    f"(sum of poly_coeffs = 1); found sum {rho[-1]:.6g}"
                )
            object.__setattr__(self, "poly_coeffs", tuple(float(c) for c in coeffs))

    # -- construction -------------------------------------------------------
    def scaled(self, width: int, height: int) -> Calibration:
        """The same lens for frames resampled to ``width`` x ``height``."""
        sx = (width - 1) / max(self.width - 1, 1)
        sy = (height - 1) / max(self.height - 1, 1)
        return dataclasses.replace(
            self,
            width=int(width),
            height=int(height),
            zenith_x=self.zenith_x * sx,
            zenith_y=self.zenith_y * sy,
            lens_radius=self.lens_radius * min(sx, sy),
        )

    def rotated(self, degrees: float) -> Calibration:
        """The same lens with the image turned ``degrees`` counter-clockwise."""
        return dataclasses.replace(self, rotation_deg=(self.rotation_deg + degrees) % 360.0)

    def to_attrs(self) -> dict[str, Any]:
        """NetCDF-safe attributes (prefixed ``calibration_``)."""
        return {
            f"{_ATTR_PREFIX}width": int(self.width),
            f"{_ATTR_PREFIX}height": int(self.height),
            f"{_ATTR_PREFIX}zenith_x": float(self.zenith_x),
            f"{_ATTR_PREFIX}zenith_y": float(self.zenith_y),
            f"{_ATTR_PREFIX}lens_radius": float(self.lens_radius),
            f"{_ATTR_PREFIX}rotation_deg": float(self.rotation_deg),
            f"{_ATTR_PREFIX}projection": self.projection,
            f"{_ATTR_PREFIX}poly_coeffs": [float(c) for c in self.poly_coeffs] or [0.0],
            f"{_ATTR_PREFIX}east_clockwise": int(self.east_clockwise),
        }

    @classmethod
    def from_attrs(cls, attrs: dict[str, Any]) -> Calibration:
        """Read a calibration written by :meth:`to_attrs`.

        Raises
        ------
        MissingCalibrationError
            If the attributes hold no calibration.
        """
        required = ("width", "height", "zenith_x", "zenith_y", "lens_radius")
        missing = [f"{_ATTR_PREFIX}{k}" for k in required if f"{_ATTR_PREFIX}{k}" not in attrs]
        if missing:
            raise MissingCalibrationError(
                "expected camera calibration attributes "
                f"{', '.join(missing)}; found none of them in the dataset attributes"
            )
        projection = str(attrs.get(f"{_ATTR_PREFIX}projection", "equidistant"))
        coeffs = np.atleast_1d(np.asarray(attrs.get(f"{_ATTR_PREFIX}poly_coeffs", []), float))
        return cls(
            width=int(attrs[f"{_ATTR_PREFIX}width"]),
            height=int(attrs[f"{_ATTR_PREFIX}height"]),
            zenith_x=float(attrs[f"{_ATTR_PREFIX}zenith_x"]),
            zenith_y=float(attrs[f"{_ATTR_PREFIX}zenith_y"]),
            lens_radius=float(attrs[f"{_ATTR_PREFIX}lens_radius"]),
            rotation_deg=float(attrs.get(f"{_ATTR_PREFIX}rotation_deg", 0.0)),
            projection=projection,
            poly_coeffs=tuple(coeffs.tolist()) if projection == "polynomial" else (),
            east_clockwise=bool(int(attrs.get(f"{_ATTR_PREFIX}east_clockwise", 0))),
        )

    # -- lens model ---------------------------------------------------------
    def rho_of_theta(self, theta_deg: ArrayLike) -> NDArray[np.float64]:
        """Normalised image radius for zenith angles in degrees."""
        theta = np.asarray(theta_deg, dtype=float)
        if self.projection == "equidistant":
            return theta / 90.0
        if self.projection == "equisolid":
            return np.sin(np.radians(theta) / 2.0) / np.sin(np.pi / 4.0)
        return _poly(theta / 90.0, np.asarray(self.poly_coeffs))

    def theta_of_rho(self, rho: ArrayLike) -> NDArray[np.float64]:
        """Zenith angle in degrees for normalised image radii (inverse lens model)."""
        rho = np.asarray(rho, dtype=float)
        if self.projection == "equidistant":
            return rho * 90.0
        if self.projection == "equisolid":
            return np.degrees(2.0 * np.arcsin(np.clip(rho * np.sin(np.pi / 4.0), -1.0, 1.0)))
        coeffs = np.asarray(self.poly_coeffs)
        t_grid = np.linspace(0.0, 1.0, 4097)
        t = np.interp(rho, _poly(t_grid, coeffs), t_grid)
        deriv = np.polynomial.polynomial.polyder(np.concatenate([[0.0], coeffs]))
        for _ in range(3):  # Newton refinement of the table's first guess
            slope = np.polynomial.polynomial.polyval(t, deriv)
            step = _poly(t, coeffs) - rho
            safe = slope > 0  # a lens with c_1 = 0 has zero slope at the zenith
            t = t - np.where(safe, step, 0.0) / np.where(safe, slope, 1.0)
        return t * 90.0


def _poly(t: NDArray[np.float64], coeffs: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(np.polynomial.polynomial.polyval(t, np.concatenate([[0.0], coeffs])))


def _screen_angle(azimuth_deg: NDArray[np.float64], cal: Calibration) -> NDArray[np.float64]:
    sign = -1.0 if cal.east_clockwise else 1.0
    return np.radians(sign * azimuth_deg + cal.rotation_deg)


def pixel_to_sky(
    x: ArrayLike, y: ArrayLike, cal: Calibration
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Elevation and azimuth (degrees) seen by pixels ``(x, y)``.

    Pixels outside the lens circle (below the horizon) give NaN.

    Examples
    --------
    >>> cal = Calibration(width=101, height=101, zenith_x=50, zenith_y=50, lens_radius=50)
    >>> [float(v) for v in pixel_to_sky(50, 0, cal)]
    [0.0, 0.0]
    """
    dx = np.asarray(x, dtype=float) - cal.zenith_x
    dy = np.asarray(y, dtype=float) - cal.zenith_y
    rho = np.hypot(dx, dy) / cal.lens_radius
    theta = cal.theta_of_rho(np.minimum(rho, 1.0))
    elevation = np.where(rho <= 1.0 + 1e-12, 90.0 - theta, np.nan)
    phi = np.degrees(np.arctan2(-dx, -dy))  # counter-clockwise from image up
    sign = -1.0 if cal.east_clockwise else 1.0
    azimuth = np.mod(sign * (phi - cal.rotation_deg), 360.0)
    azimuth = np.where(np.isnan(elevation), np.nan, azimuth)
    return elevation, azimuth


def sky_to_pixel(
    elevation: ArrayLike, azimuth: ArrayLike, cal: Calibration
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Pixel ``(x, y)`` that sees elevation/azimuth (degrees); NaN below the horizon."""
    el = np.asarray(elevation, dtype=float)
    az = np.asarray(azimuth, dtype=float)
    theta = 90.0 - el
    r = cal.rho_of_theta(theta) * cal.lens_radius
    phi = _screen_angle(az, cal)
    x = cal.zenith_x - r * np.sin(phi)
    y = cal.zenith_y - r * np.cos(phi)
    below = ~(el >= 0.0)
    return np.where(below, np.nan, x), np.where(below, np.nan, y)


def sky_grids(cal: Calibration) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Elevation and azimuth images ``(height, width)`` for a calibration (float32)."""
    yy, xx = np.mgrid[0 : cal.height, 0 : cal.width]
    el, az = pixel_to_sky(xx, yy, cal)
    return el.astype(np.float32), az.astype(np.float32)


# -- emission shell ------------------------------------------------------------
def earth_angle(
    elevation: ArrayLike, altitude_km: float = 110.0, site_altitude_km: float = 0.0
) -> NDArray[np.float64]:
    """Angle at Earth's centre (degrees) between the site and the shell point seen."""
    el = np.radians(np.asarray(elevation, dtype=float))
    ratio = (EARTH_RADIUS_KM + site_altitude_km) / (EARTH_RADIUS_KM + altitude_km)
    return np.degrees(np.pi / 2.0 - el - np.arcsin(ratio * np.cos(el)))


def ground_distance_km(
    elevation: ArrayLike, altitude_km: float = 110.0, site_altitude_km: float = 0.0
) -> NDArray[np.float64]:
    """Ground arc (km) from the site to the foot of the shell point seen at ``elevation``."""
    return np.radians(earth_angle(elevation, altitude_km, site_altitude_km)) * EARTH_RADIUS_KM


def elevation_from_earth_angle(
    beta_deg: ArrayLike, altitude_km: float = 110.0, site_altitude_km: float = 0.0
) -> NDArray[np.float64]:
    """Inverse of :func:`earth_angle`: elevation (degrees) of a shell point ``beta`` away."""
    beta = np.radians(np.asarray(beta_deg, dtype=float))
    a = EARTH_RADIUS_KM + site_altitude_km
    b = EARTH_RADIUS_KM + altitude_km
    # vertical and horizontal parts of the line of sight (atan2 stays accurate at the zenith)
    return np.degrees(np.arctan2(b * np.cos(beta) - a, b * np.abs(np.sin(beta))))


def destination(
    lat0: float, lon0: float, bearing_deg: ArrayLike, angle_deg: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Point reached from (lat0, lon0) along a great circle; longitudes in [-180, 180)."""
    p1, l1 = np.radians(lat0), np.radians(lon0)
    az = np.radians(np.asarray(bearing_deg, dtype=float))
    b = np.radians(np.asarray(angle_deg, dtype=float))
    sin_p2 = np.sin(p1) * np.cos(b) + np.cos(p1) * np.sin(b) * np.cos(az)
    p2 = np.arcsin(np.clip(sin_p2, -1.0, 1.0))
    l2 = l1 + np.arctan2(np.sin(az) * np.sin(b) * np.cos(p1), np.cos(b) - np.sin(p1) * sin_p2)
    lon = np.mod(np.degrees(l2) + 180.0, 360.0) - 180.0
    return np.degrees(p2), lon


def bearing_and_angle(
    lat0: float, lon0: float, lat: ArrayLike, lon: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Initial bearing (degrees from north) and central angle (degrees) to points."""
    p1, l1 = np.radians(lat0), np.radians(lon0)
    p2 = np.radians(np.asarray(lat, dtype=float))
    dl = np.radians(np.asarray(lon, dtype=float)) - l1
    y = np.sin(dl) * np.cos(p2)
    x = np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl)
    bearing = np.mod(np.degrees(np.arctan2(y, x)), 360.0)
    # haversine form for accuracy at small angles
    hav = np.sin((p2 - p1) / 2.0) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2.0) ** 2
    angle = np.degrees(2.0 * np.arcsin(np.sqrt(np.clip(hav, 0.0, 1.0))))
    return bearing, angle


def sky_to_geo(
    elevation: ArrayLike,
    azimuth: ArrayLike,
    lat0: float,
    lon0: float,
    *,
    altitude_km: float = 110.0,
    site_altitude_km: float = 0.0,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Latitude and longitude on the emission shell of lines of sight from a site."""
    beta = earth_angle(elevation, altitude_km, site_altitude_km)
    return destination(lat0, lon0, azimuth, beta)


def geo_to_sky(
    lat: ArrayLike,
    lon: ArrayLike,
    lat0: float,
    lon0: float,
    *,
    altitude_km: float = 110.0,
    site_altitude_km: float = 0.0,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Elevation and azimuth from a site of shell points at latitude/longitude."""
    bearing, beta = bearing_and_angle(lat0, lon0, lat, lon)
    return elevation_from_earth_angle(beta, altitude_km, site_altitude_km), bearing


def require_calibration(attrs: dict[str, Any]) -> Calibration:
    """Calibration from dataset attributes, with a clear error if there is none."""
    try:
        return Calibration.from_attrs(attrs)
    except MissingCalibrationError:
        raise
    except (TypeError, ValueError) as exc:  # malformed values
        raise CalibrationError(f"the calibration attributes are malformed: {exc}") from exc


# -- resampled views -----------------------------------------------------------
def view_calibration(
    cal: Calibration, up_azimuth_deg: float, size: int | None = None
) -> Calibration:
    """Calibration of a square view of the sky turned so that an azimuth points up.

    The view keeps the lens model and (by default) the scale of ``cal``: the
    zenith lies at the centre of a ``size`` x ``size`` frame and the horizon
    touches its border. Looking up, east is counter-clockwise from north
    (to the *left* of the zenith when north is up), whatever ``cal`` does.

    Parameters
    ----------
    cal : Calibration
        The camera whose frames are resampled.
    up_azimuth_deg : float
        Geographic azimuth (degrees from north through east) shown at the top,
        e.g. the azimuth of magnetic north.
    size : int, optional
        Side of the view in pixels; default ``2 * ceil(lens_radius) + 1`` (the
        camera's own scale).

    Returns
    -------
    Calibration
        The calibration of the view (a valid calibration of the resampled frames).
    """
    if size is None:
        size = 2 * int(np.ceil(cal.lens_radius)) + 1
    size = int(size)
    if size < 3:
        raise CalibrationError(f"a view needs at least 3x3 pixels; found size {size}")
    centre = (size - 1) / 2.0
    return Calibration(
        width=size,
        height=size,
        zenith_x=centre,
        zenith_y=centre,
        lens_radius=centre,
        rotation_deg=float(np.mod(-float(up_azimuth_deg), 360.0)),
        projection=cal.projection,
        poly_coeffs=cal.poly_coeffs,
        east_clockwise=False,
    )


def view_indices(source: Calibration, target: Calibration) -> NDArray[np.int64]:
    """Nearest source pixel seen by each pixel of a target view.

    Parameters
    ----------
    source, target : Calibration
        Calibrations of the camera frames and of the view.

    Returns
    -------
    (target.height, target.width) ndarray of int64
        Flat index ``y * source.width + x`` into a source frame, ``-1`` where the
        target pixel sees no sky or a point outside the source frame.
    """
    yy, xx = np.mgrid[0 : target.height, 0 : target.width]
    el, az = pixel_to_sky(xx, yy, target)
    x, y = sky_to_pixel(el, az, source)
    with np.errstate(invalid="ignore"):
        xi = np.rint(x)
        yi = np.rint(y)
        ok = (
            np.isfinite(xi)
            & np.isfinite(yi)
            & (xi >= 0)
            & (xi <= source.width - 1)
            & (yi >= 0)
            & (yi <= source.height - 1)
        )
    flat = np.where(ok, np.where(ok, yi, 0) * source.width + np.where(ok, xi, 0), -1)
    return flat.astype(np.int64)


def magnetic_view_indices(
    cal: Calibration, north_azimuth_deg: float, size: int | None = None
) -> NDArray[np.int64]:
    """Source pixel indices of the geomagnetic view (magnetic north up, east left).

    A shortcut for ``view_indices(cal, view_calibration(cal, north_azimuth_deg, size))``;
    compute it once and apply it to any number of frames with :func:`apply_view`.

    Examples
    --------
    >>> cal = Calibration(width=5, height=5, zenith_x=2, zenith_y=2, lens_radius=2)
    >>> idx = magnetic_view_indices(cal, 180.0, size=5)  # south up: the image turned 180°
    >>> int(idx[0, 2]), int(idx[4, 2]), int(idx[2, 0])
    (22, 2, 14)
    """
    return view_indices(cal, view_calibration(cal, north_azimuth_deg, size))


def apply_view(
    data: ArrayLike,
    flat_index: NDArray[np.integer[Any]],
    *,
    yx_axes: tuple[int, int] = (0, 1),
    fill_value: Any = 0,
) -> NDArray[Any]:
    """Resample frames with indices from :func:`view_indices` (nearest neighbour).

    Parameters
    ----------
    data : ndarray
        Frames with the image rows and columns on ``yx_axes``, e.g. a frame
        ``(H, W, C)``, a mask ``(H, W)`` or a stack ``(n, H, W, C)`` with
        ``yx_axes=(1, 2)``.
    flat_index : (h, w) ndarray of int
        Flat source indices, ``-1`` where the output has no source pixel.
    yx_axes : (int, int)
        Axes of ``data`` holding the rows and columns.
    fill_value : scalar
        Value written where ``flat_index`` is ``-1``.

    Returns
    -------
    ndarray
        ``data`` with the axes ``yx_axes`` replaced by ``(h, w)``, same dtype.
    """
    arr = np.asarray(data)
    index = np.asarray(flat_index)
    moved = np.moveaxis(arr, yx_axes, (-2, -1))
    n_src = moved.shape[-2] * moved.shape[-1]
    if index.size and int(index.max()) >= n_src:
        raise CalibrationError(
            f"the view indices address {int(index.max()) + 1} pixels; "
            f"found frames of only {n_src} pixels"
        )
    flat = moved.reshape(*moved.shape[:-2], n_src)
    valid = index >= 0
    out = flat[..., np.where(valid, index, 0)]
    out[..., ~valid] = fill_value
    return np.moveaxis(out, (-2, -1), yx_axes)
