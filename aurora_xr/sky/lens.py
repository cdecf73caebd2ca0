"""The lens model of an all-sky camera: pixels to elevation and azimuth, numpy only.

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

* Non-square pixels: ``pixel_aspect`` is the height over the width of the sky
  circle on the image (rows per column for the same angle); ``lens_radius`` is
  counted in columns. A square-pixel camera has ``pixel_aspect = 1``.
* Optical-axis tilt: the lens model above holds in the camera's own frame, whose
  axis points ``tilt_deg`` away from the zenith, towards azimuth
  ``tilt_azimuth_deg``. The camera frame is the sky frame turned by ``tilt_deg``
  about the horizontal axis perpendicular to ``tilt_azimuth_deg`` (so the
  camera's "north" stays near geographic north for the small tilts of real
  mounts). ``zenith_x``, ``zenith_y`` are then the pixel on the optical axis;
  the pixel that sees the zenith is ``sky_to_pixel(90, 0, cal)``. With
  ``tilt_deg = 0`` (the default) and ``pixel_aspect = 1`` the mapping is the
  untilted one exactly.

The emission shell (lines of sight to latitude and longitude) is in
:mod:`aurora_xr.sky.shell`; resampled views of the sky in :mod:`aurora_xr.sky.resample`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import CalibrationError, MissingCalibrationError

__all__ = [
    "PROJECTIONS",
    "Calibration",
    "pixel_to_sky",
    "require_calibration",
    "sky_grids",
    "sky_to_pixel",
]

PROJECTIONS = ("equidistant", "equisolid", "polynomial")

_ATTR_PREFIX = "calibration_"
_MAX_TILT_DEG = 45.0


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
    tilt_deg : float
        Angle in degrees between the optical axis and the zenith (0 to 45).
    tilt_azimuth_deg : float
        Azimuth in degrees towards which the optical axis leans.
    pixel_aspect : float
        Height over width of the sky circle on the image (1 for square pixels).
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
    tilt_deg: float = 0.0
    tilt_azimuth_deg: float = 0.0
    pixel_aspect: float = 1.0
    kind: ClassVar[str] = "lens"  # the Camera protocol (aurora_xr.sky.camera)

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
        if not 0.0 <= self.tilt_deg <= _MAX_TILT_DEG:
            raise CalibrationError(
                f"tilt_deg must lie in 0..{_MAX_TILT_DEG:g} degrees, found {self.tilt_deg}"
            )
        if not 0.05 <= self.pixel_aspect <= 20.0:
            raise CalibrationError(
                f"pixel_aspect must lie in 0.05..20 (height over width of the sky circle), "
                f"found {self.pixel_aspect}"
            )
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
            f"{_ATTR_PREFIX}tilt_deg": float(self.tilt_deg),
            f"{_ATTR_PREFIX}tilt_azimuth_deg": float(self.tilt_azimuth_deg),
            f"{_ATTR_PREFIX}pixel_aspect": float(self.pixel_aspect),
        }

    @classmethod
    def from_attrs(cls, attrs: dict[str, Any]) -> Calibration:
        """Read a calibration written by :meth:`to_attrs`.

        Attributes written before the tilt and the pixel aspect existed read as
        no tilt and square pixels.

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
            tilt_deg=float(attrs.get(f"{_ATTR_PREFIX}tilt_deg", 0.0)),
            tilt_azimuth_deg=float(attrs.get(f"{_ATTR_PREFIX}tilt_azimuth_deg", 0.0)),
            pixel_aspect=float(attrs.get(f"{_ATTR_PREFIX}pixel_aspect", 1.0)),
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

    # -- the Camera protocol (aurora_xr.sky.camera): thin calls of the module functions --
    @property
    def horizon_radius(self) -> float:
        """Distance in pixels (columns) from the zenith pixel to the horizon: ``lens_radius``."""
        return float(self.lens_radius)

    @property
    def zenith_pixel(self) -> tuple[float, float]:
        """Pixel ``(x, y)`` that sees the zenith."""
        x, y = sky_to_pixel(90.0, 0.0, self)
        return float(x), float(y)

    def sky_grids(self) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """Elevation and azimuth images ``(height, width)`` (see :func:`sky_grids`)."""
        return sky_grids(self)

    def pixel_to_sky(
        self, x: ArrayLike, y: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Elevation and azimuth seen by pixels ``(x, y)`` (see :func:`pixel_to_sky`)."""
        return pixel_to_sky(x, y, self)

    def sky_to_pixel(
        self, elevation: ArrayLike, azimuth: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Pixel ``(x, y)`` seeing elevation/azimuth (see :func:`sky_to_pixel`)."""
        return sky_to_pixel(elevation, azimuth, self)


def _poly(t: NDArray[np.float64], coeffs: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(np.polynomial.polynomial.polyval(t, np.concatenate([[0.0], coeffs])))


def _screen_angle(azimuth_deg: NDArray[np.float64], cal: Calibration) -> NDArray[np.float64]:
    sign = -1.0 if cal.east_clockwise else 1.0
    return np.radians(sign * azimuth_deg + cal.rotation_deg)


def pixel_to_sky(
    x: ArrayLike, y: ArrayLike, cal: Calibration
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Elevation and azimuth (degrees) seen by pixels ``(x, y)``.

    Pixels outside the lens circle (zenith angle over 90° in the camera frame) or
    below the horizon give NaN.

    Examples
    --------
    >>> cal = Calibration(width=101, height=101, zenith_x=50, zenith_y=50, lens_radius=50)
    >>> [float(v) for v in pixel_to_sky(50, 0, cal)]
    [0.0, 0.0]
    """
    dx = np.asarray(x, dtype=float) - cal.zenith_x
    dy = np.asarray(y, dtype=float) - cal.zenith_y
    if cal.pixel_aspect != 1.0:
        dy = dy / cal.pixel_aspect
    rho = np.hypot(dx, dy) / cal.lens_radius
    theta = cal.theta_of_rho(np.minimum(rho, 1.0))
    elevation = np.where(rho <= 1.0 + 1e-12, 90.0 - theta, np.nan)
    phi = np.degrees(np.arctan2(-dx, -dy))  # counter-clockwise from image up
    sign = -1.0 if cal.east_clockwise else 1.0
    azimuth = np.mod(sign * (phi - cal.rotation_deg), 360.0)
    if cal.tilt_deg != 0.0:  # camera frame -> sky frame
        elevation, azimuth = _turn(elevation, azimuth, cal, to_sky=True)
        elevation = np.where(elevation >= 0.0, elevation, np.nan)
    azimuth = np.where(np.isnan(elevation), np.nan, azimuth)
    return elevation, azimuth


def sky_to_pixel(
    elevation: ArrayLike, azimuth: ArrayLike, cal: Calibration
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Pixel ``(x, y)`` that sees elevation/azimuth (degrees); NaN below the horizon."""
    el = np.asarray(elevation, dtype=float)
    az = np.asarray(azimuth, dtype=float)
    below = ~(el >= 0.0)
    if cal.tilt_deg != 0.0:  # sky frame -> camera frame
        el, az = _turn(el, az, cal, to_sky=False)
    theta = 90.0 - el
    r = cal.rho_of_theta(theta) * cal.lens_radius
    phi = _screen_angle(az, cal)
    x = cal.zenith_x - r * np.sin(phi)
    dy = r * np.cos(phi)
    if cal.pixel_aspect != 1.0:
        dy = dy * cal.pixel_aspect
    y = cal.zenith_y - dy
    return np.where(below, np.nan, x), np.where(below, np.nan, y)


def _turn(
    elevation: NDArray[np.float64], azimuth: NDArray[np.float64], cal: Calibration, *, to_sky: bool
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Turn directions between the camera frame and the sky frame (Rodrigues' formula).

    The rotation turns the zenith by ``tilt_deg`` towards ``tilt_azimuth_deg``
    (``to_sky=True``: camera axis -> its direction on the sky), about the
    horizontal axis ``k = up x d`` with ``d`` the unit vector towards the tilt azimuth.
    """
    tau = np.radians(cal.tilt_deg if to_sky else -cal.tilt_deg)
    c, s = np.cos(tau), np.sin(tau)
    a = np.radians(cal.tilt_azimuth_deg)
    kx, ky = -np.cos(a), np.sin(a)  # k = up x d, horizontal
    el = np.radians(elevation)
    az = np.radians(azimuth)
    up = np.sin(el)
    east = np.cos(el)
    north = east * np.cos(az)
    east = east * np.sin(az)
    along = (kx * east + ky * north) * (1.0 - c)  # (k . v)(1 - cos tau)
    w_east = east * c + ky * up * s + kx * along  # v cos + (k x v) sin + k (k . v)(1 - cos)
    w_north = north * c - kx * up * s + ky * along
    w_up = up * c + (kx * north - ky * east) * s
    el_out = np.degrees(np.arcsin(np.clip(w_up, -1.0, 1.0)))
    az_out = np.mod(np.degrees(np.arctan2(w_east, w_north)), 360.0)
    return el_out, az_out


def sky_grids(cal: Calibration) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Elevation and azimuth images ``(height, width)`` for a calibration (float32)."""
    yy, xx = np.mgrid[0 : cal.height, 0 : cal.width]
    el, az = pixel_to_sky(xx, yy, cal)
    return el.astype(np.float32), az.astype(np.float32)


def require_calibration(attrs: dict[str, Any]) -> Calibration:
    """Calibration from dataset attributes, with a clear error if there is none."""
    try:
        return Calibration.from_attrs(attrs)
    except MissingCalibrationError:
        raise
    except (TypeError, ValueError) as exc:  # malformed values
        raise CalibrationError(f"the calibration attributes are malformed: {exc}") from exc
