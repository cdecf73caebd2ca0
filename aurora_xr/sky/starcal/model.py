"""The lens parameters that a star fit adjusts, and their projection of the sky.

A fit works on a flat vector of parameters; :class:`LensParams` names them and
turns them into a :class:`~aurora_xr.sky.lens.Calibration` (so that a fit and
every later use of the calibration project the sky with the same code):

* ``zenith_x``, ``zenith_y``: the optical-axis pixel;
* ``radial``: pixel coefficients ``a_1..a_n`` of ``r = sum a_k t**k`` with
  ``t = theta / 90°`` (``lens_radius = sum a_k``, ``poly_coeffs = a_k / lens_radius``;
  ``n = 1`` is the equidistant lens);
* ``rotation_deg`` and the fixed mirror flag ``east_clockwise``;
* ``tilt_east``, ``tilt_north``: the optical-axis tilt as a vector in degrees
  (``tilt_deg`` its length, ``tilt_azimuth_deg`` its direction), free of the
  singular azimuth at zero tilt;
* ``pixel_aspect``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from ...errors import CalibrationError
from ..lens import Calibration, sky_to_pixel

__all__ = ["LensParams", "angular_distance_deg"]


@dataclass(frozen=True)
class LensParams:
    """Lens parameters of a star fit (see the module docstring)."""

    width: int
    height: int
    zenith_x: float
    zenith_y: float
    radial: tuple[float, ...]
    rotation_deg: float
    east_clockwise: bool
    tilt_east: float = 0.0
    tilt_north: float = 0.0
    pixel_aspect: float = 1.0

    @classmethod
    def from_calibration(cls, cal: Calibration, degree: int = 1) -> LensParams:
        """Parameters of a calibration, its radial profile fitted by a polynomial of ``degree``."""
        theta = np.linspace(0.0, 90.0, 91)
        r = cal.rho_of_theta(theta) * cal.lens_radius
        t = theta / 90.0
        design = np.stack([t**k for k in range(1, degree + 1)], axis=1)
        radial = np.linalg.lstsq(design, r, rcond=None)[0]
        tilt_az = np.radians(cal.tilt_azimuth_deg)
        return cls(
            width=cal.width,
            height=cal.height,
            zenith_x=cal.zenith_x,
            zenith_y=cal.zenith_y,
            radial=tuple(float(a) for a in radial),
            rotation_deg=cal.rotation_deg,
            east_clockwise=cal.east_clockwise,
            tilt_east=float(cal.tilt_deg * np.sin(tilt_az)),
            tilt_north=float(cal.tilt_deg * np.cos(tilt_az)),
            pixel_aspect=cal.pixel_aspect,
        )

    def with_degree(self, degree: int) -> LensParams:
        """The same lens with a radial polynomial of ``degree`` (refitted when lowered)."""
        if degree >= len(self.radial):
            return replace(self, radial=self.radial + (0.0,) * (degree - len(self.radial)))
        return LensParams.from_calibration(self.calibration(), degree)

    def vector(self, names: tuple[str, ...]) -> NDArray[np.float64]:
        """The free parameters named by ``names`` as a flat vector."""
        parts: list[float] = []
        for name in names:
            value = getattr(self, name)
            parts.extend(value if isinstance(value, tuple) else [value])
        return np.asarray(parts, dtype=float)

    def updated(self, names: tuple[str, ...], vector: NDArray[np.float64]) -> LensParams:
        """A copy with the free parameters ``names`` taken from ``vector``."""
        changes: dict[str, object] = {}
        i = 0
        for name in names:
            if name == "radial":
                n = len(self.radial)
                changes[name] = tuple(float(v) for v in vector[i : i + n])
                i += n
            else:
                changes[name] = float(vector[i])
                i += 1
        return replace(self, **changes)  # type: ignore[arg-type]

    def calibration(self) -> Calibration:
        """The :class:`Calibration` of these parameters.

        Raises
        ------
        CalibrationError
            If they describe no valid lens (e.g. a radial profile that turns back).
        """
        radial = np.asarray(self.radial, dtype=float)
        radius = float(radial.sum())
        if not radius > 0:
            raise CalibrationError(f"the fitted lens radius is not positive ({radius})")
        tilt = float(np.hypot(self.tilt_east, self.tilt_north))
        tilt_az = float(np.degrees(np.arctan2(self.tilt_east, self.tilt_north)) % 360.0)
        polynomial = radial.size > 1
        return Calibration(
            width=self.width,
            height=self.height,
            zenith_x=float(np.clip(self.zenith_x, 0.0, self.width - 1.0)),
            zenith_y=float(np.clip(self.zenith_y, 0.0, self.height - 1.0)),
            lens_radius=radius,
            rotation_deg=float(self.rotation_deg % 360.0),
            projection="polynomial" if polynomial else "equidistant",
            poly_coeffs=tuple(float(a) for a in radial / radius) if polynomial else (),
            east_clockwise=self.east_clockwise,
            tilt_deg=tilt,
            tilt_azimuth_deg=tilt_az if tilt > 0 else 0.0,
            pixel_aspect=float(self.pixel_aspect),
        )

    def project(
        self, elevation: NDArray[np.float64], azimuth: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Pixels of sky directions (NaN where the parameters give no valid lens)."""
        try:
            cal = self.calibration()
        except CalibrationError:
            nan = np.full(np.shape(elevation), np.nan)
            return nan, nan.copy()
        return sky_to_pixel(elevation, azimuth, cal)


def angular_distance_deg(
    el1: NDArray[np.float64],
    az1: NDArray[np.float64],
    el2: NDArray[np.float64],
    az2: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Great-circle angle in degrees between directions (elevation, azimuth in degrees)."""
    e1, a1, e2, a2 = (np.radians(np.asarray(v, dtype=float)) for v in (el1, az1, el2, az2))
    # haversine: accurate for small angles
    h = np.sin((e2 - e1) / 2) ** 2 + np.cos(e1) * np.cos(e2) * np.sin((a2 - a1) / 2) ** 2
    return np.asarray(np.degrees(2.0 * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))), dtype=float)
