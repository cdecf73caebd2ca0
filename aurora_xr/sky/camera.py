"""What the package needs from a camera calibration, whichever kind it is.

Two kinds of calibration satisfy the :class:`Camera` protocol:

* ``kind = "lens"``: the analytic lens :class:`~aurora_xr.sky.lens.Calibration` (zenith
  pixel, lens radius, rotation, projection model);
* ``kind = "skymap"``: the per-pixel :class:`~aurora_xr.sky.skymap.Skymap` (the
  operators' elevation/azimuth of every pixel).

Code that only needs directions (lens masks, sky -> geo, cells, views, plots) takes a
:class:`Camera` and calls its methods. A cube records the calibration in its
``calibration_*`` attributes; a skymap's arrays are the cube's ``elevation``/``azimuth``
variables, so :func:`camera_from_attrs` needs them to rebuild one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import FrameSizeError, MissingCalibrationError
from .lens import Calibration, require_calibration
from .skymap import Skymap

__all__ = ["Camera", "camera_from_attrs", "camera_kind", "require_frame_size"]


@runtime_checkable
class Camera(Protocol):
    """A camera calibration: frame size and the direction every pixel looks at.

    Attributes
    ----------
    kind : str
        ``"lens"`` or ``"skymap"``.
    width, height : int
        Frame size in pixels.
    horizon_radius : float
        Distance in pixels from the zenith pixel to the horizon (the lens radius; for a
        skymap a typical value), the scale of resampled views.
    zenith_pixel : (float, float)
        Pixel ``(x, y)`` that sees the zenith.
    """

    @property
    def kind(self) -> str: ...

    @property
    def width(self) -> int: ...

    @property
    def height(self) -> int: ...

    @property
    def horizon_radius(self) -> float: ...

    @property
    def zenith_pixel(self) -> tuple[float, float]: ...

    def sky_grids(self) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """Elevation and azimuth ``(height, width)`` float32 degrees, NaN outside."""
        ...

    def pixel_to_sky(
        self, x: ArrayLike, y: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Elevation and azimuth (degrees) seen at pixel positions; NaN outside."""
        ...

    def sky_to_pixel(
        self, elevation: ArrayLike, azimuth: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Pixel ``(x, y)`` seeing elevation/azimuth; NaN outside the field of view."""
        ...

    def to_attrs(self) -> dict[str, Any]:
        """NetCDF-safe ``calibration_*`` attributes."""
        ...


def camera_kind(attrs: Mapping[str, Any]) -> str | None:
    """``"lens"``, ``"skymap"`` or None (no calibration) from dataset attributes.

    Attributes written before skymaps existed carry no ``calibration_kind``; any other
    ``calibration_*`` attribute then means a lens.
    """
    kind = attrs.get("calibration_kind")
    if kind is not None:
        return str(kind)
    return "lens" if any(str(k).startswith("calibration_") for k in attrs) else None


def camera_from_attrs(
    attrs: Mapping[str, Any],
    elevation: ArrayLike | None = None,
    azimuth: ArrayLike | None = None,
    *,
    latitude: ArrayLike | None = None,
    longitude: ArrayLike | None = None,
) -> Calibration | Skymap:
    """The calibration a dataset's attributes describe (a lens or a skymap).

    Parameters
    ----------
    attrs : mapping
        Dataset attributes (``calibration_*``).
    elevation, azimuth : (H, W) array_like, optional
        The cube's grids; required for a skymap (its arrays live there), unused for a lens.
    latitude, longitude : (n_alt, H, W) array_like, optional
        Per-altitude pixel positions of a skymap, if the cube carries them.

    Raises
    ------
    MissingCalibrationError
        If the attributes hold no calibration, or a skymap's grids are not given.
    CalibrationError, FrameSizeError
        If the attributes are malformed or the grids of another size.
    """
    kind = camera_kind(attrs)
    if kind == "skymap":
        if elevation is None or azimuth is None:
            raise MissingCalibrationError(
                f"the calibration is the skymap {attrs.get('calibration_name')!r}; its "
                "elevation and azimuth grids (the cube's variables) are needed to rebuild it"
            )
        return Skymap.from_attrs(
            dict(attrs), elevation, azimuth, latitude=latitude, longitude=longitude
        )
    return require_calibration(dict(attrs))


def require_frame_size(camera: Camera, height: int, width: int, *, what: str = "frames") -> None:
    """Raise :class:`FrameSizeError` unless the calibration is for ``height`` x ``width``.

    A skymap cannot be rescaled: its shape must be that of the frames (rows x columns).
    """
    if (camera.height, camera.width) != (int(height), int(width)):
        name = getattr(camera, "name", camera.kind)
        raise FrameSizeError(
            f"the {camera.kind} calibration {name!r} is for {camera.height}x{camera.width} "
            f"(rows x columns) frames; found {what} of {int(height)}x{int(width)}"
        )


if TYPE_CHECKING:  # mypy proves that both kinds satisfy the protocol

    def _both_are_cameras(lens: Calibration, skymap: Skymap) -> tuple[Camera, Camera]:
        return lens, skymap
