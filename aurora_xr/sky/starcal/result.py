"""The outcome of a calibration from stars: the lens, the star pairs, the residuals, JSON.

The JSON written by :meth:`StarCalibration.to_json` holds the calibration as
``calibration_*`` attributes at the top level (what
:meth:`Calibration.from_attrs` and ``aurora-xr ingest --calibration`` read) and
everything else under the key ``"star_calibration"``: the time and site, the
residuals, the matched stars, the detected sources and the catalogue stars. An
obstruction mask given to :meth:`StarCalibration.to_json` is stored under the key
``"obstruction"`` (see :mod:`aurora_xr.sky.obstruction_files`); read it back with
:func:`~aurora_xr.sky.obstructions.load_obstruction`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ...errors import CalibrationError
from ..lens import Calibration, pixel_to_sky, sky_to_pixel
from ..obstruction_files import OBSTRUCTION_KEY, mask_to_rle
from .catalogue import CatalogueStars, Site
from .circle import LensCircle
from .model import angular_distance_deg
from .sources import PointSources

__all__ = ["JSON_KEY", "StarCalibration"]

JSON_KEY = "star_calibration"


@dataclass(frozen=True)
class StarCalibration:
    """A lens calibrated from the stars of one frame.

    Attributes
    ----------
    calibration : Calibration
        The fitted lens.
    time : numpy.datetime64
        UTC time of the frame.
    site : aurora_xr.sky.starcal.catalogue.Site
        Observing site.
    sources : PointSources
        Every source detected on the frame.
    catalogue : CatalogueStars
        The catalogue stars and planets above the horizon that were considered.
    star_index, source_index : (k,) ndarray of int
        The matched pairs: ``catalogue[star_index[i]]`` is ``sources[source_index[i]]``.
    circle : LensCircle
        The lens circle the search started from.
    """

    calibration: Calibration
    time: np.datetime64
    site: Site
    sources: PointSources
    catalogue: CatalogueStars
    star_index: NDArray[np.intp]
    source_index: NDArray[np.intp]
    circle: LensCircle

    # -- the pairs ----------------------------------------------------------------
    @property
    def n_sources(self) -> int:
        """Number of detected sources."""
        return len(self.sources)

    @property
    def n_matches(self) -> int:
        """Number of matched stars."""
        return int(self.star_index.size)

    @property
    def x(self) -> NDArray[np.float64]:
        """Measured column of each matched star."""
        return self.sources.x[self.source_index]

    @property
    def y(self) -> NDArray[np.float64]:
        """Measured row of each matched star."""
        return self.sources.y[self.source_index]

    @property
    def elevation(self) -> NDArray[np.float64]:
        """Catalogue (refracted) elevation of each matched star, degrees."""
        return self.catalogue.elevation[self.star_index]

    @property
    def azimuth(self) -> NDArray[np.float64]:
        """Catalogue azimuth of each matched star, degrees."""
        return self.catalogue.azimuth[self.star_index]

    @property
    def names(self) -> NDArray[np.str_]:
        """Name of each matched star or planet."""
        return self.catalogue.name[self.star_index]

    @property
    def magnitudes(self) -> NDArray[np.float64]:
        """Visual magnitude of each matched star."""
        return self.catalogue.magnitude[self.star_index]

    # -- residuals ----------------------------------------------------------------
    @property
    def residual_px(self) -> NDArray[np.float64]:
        """Pixel distance between each star's fitted position and its source."""
        px, py = sky_to_pixel(self.elevation, self.azimuth, self.calibration)
        return np.asarray(np.hypot(px - self.x, py - self.y), dtype=float)

    @property
    def residual_deg(self) -> NDArray[np.float64]:
        """Angle between where the fitted lens says each source looks and its star."""
        el, az = pixel_to_sky(self.x, self.y, self.calibration)
        return angular_distance_deg(el, az, self.elevation, self.azimuth)

    @property
    def rms_px(self) -> float:
        """Root-mean-square pixel residual."""
        return _rms(self.residual_px)

    @property
    def worst_px(self) -> float:
        """Largest pixel residual."""
        return _worst(self.residual_px)

    @property
    def rms_deg(self) -> float:
        """Root-mean-square angular residual in degrees."""
        return _rms(self.residual_deg)

    @property
    def worst_deg(self) -> float:
        """Largest angular residual in degrees."""
        return _worst(self.residual_deg)

    def summary(self) -> str:
        """One line: stars matched and residuals."""
        return (
            f"{self.n_matches} stars matched of {self.n_sources} sources; residuals "
            f"RMS {self.rms_deg:.3f}° ({self.rms_px:.2f} px), "
            f"worst {self.worst_deg:.3f}° ({self.worst_px:.2f} px)"
        )

    # -- JSON ---------------------------------------------------------------------
    def to_dict(self, *, obstruction: ArrayLike | None = None) -> dict[str, Any]:
        """A JSON-ready dict (see the module docstring).

        Parameters
        ----------
        obstruction : (H, W) array_like of bool, optional
            An obstruction mask of the calibrated frames, stored under ``"obstruction"``.

        Raises
        ------
        CalibrationError
            If the mask is not of the calibrated frames' size.
        """
        res_px, res_deg = self.residual_px, self.residual_deg
        matches = [
            {
                "name": str(self.names[i]),
                "magnitude": float(self.magnitudes[i]),
                "x": float(self.x[i]),
                "y": float(self.y[i]),
                "elevation": float(self.elevation[i]),
                "azimuth": float(self.azimuth[i]),
                "residual_deg": float(res_deg[i]),
                "residual_px": float(res_px[i]),
                "star_index": int(self.star_index[i]),
                "source_index": int(self.source_index[i]),
            }
            for i in range(self.n_matches)
        ]
        info = {
            "time": str(np.datetime_as_string(self.time, unit="ms")),
            "site": {
                "latitude": self.site.latitude,
                "longitude": self.site.longitude,
                "altitude_m": self.site.altitude_m,
            },
            "n_sources": self.n_sources,
            "n_matches": self.n_matches,
            "rms_deg": self.rms_deg,
            "worst_deg": self.worst_deg,
            "rms_px": self.rms_px,
            "worst_px": self.worst_px,
            "circle": {
                "x": self.circle.x,
                "y": self.circle.y,
                "radius": self.circle.radius,
                "aspect": self.circle.aspect,
                "found": self.circle.found,
            },
            "matches": matches,
            "sources": {
                "x": self.sources.x.tolist(),
                "y": self.sources.y.tolist(),
                "flux": self.sources.flux.tolist(),
                "peak_snr": self.sources.peak_snr.tolist(),
                "noise": self.sources.noise,
            },
            "catalogue": {
                "name": self.catalogue.name.tolist(),
                "magnitude": self.catalogue.magnitude.tolist(),
                "elevation": self.catalogue.elevation.tolist(),
                "azimuth": self.catalogue.azimuth.tolist(),
                "planet": self.catalogue.planet.astype(int).tolist(),
            },
        }
        out = {**self.calibration.to_attrs(), JSON_KEY: info}
        if obstruction is not None:
            mask = np.asarray(obstruction, dtype=bool)
            size = (self.calibration.height, self.calibration.width)
            if mask.shape != size:
                raise CalibrationError(
                    f"expected an obstruction mask of {size[0]}x{size[1]} (the calibrated "
                    f"frames); found shape {mask.shape}"
                )
            out[OBSTRUCTION_KEY] = mask_to_rle(mask)
        return out

    def to_json(
        self, path: str | Path | None = None, *, obstruction: ArrayLike | None = None
    ) -> str:
        """The JSON text; also written to ``path`` when given.

        ``obstruction`` (an (H, W) bool mask) is stored with it (see :meth:`to_dict`).
        """
        text = json.dumps(self.to_dict(obstruction=obstruction), indent=1)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StarCalibration:
        """Rebuild a result from :meth:`to_dict`'s output.

        Raises
        ------
        CalibrationError
            If the dict is not a star calibration.
        """
        if JSON_KEY not in data:
            raise CalibrationError(
                f"expected a star calibration with a {JSON_KEY!r} section; "
                f"found keys {', '.join(sorted(map(str, data)))}"
            )
        info = data[JSON_KEY]
        try:
            src, cat, circ = info["sources"], info["catalogue"], info["circle"]
            sources = PointSources(
                x=np.asarray(src["x"], dtype=float),
                y=np.asarray(src["y"], dtype=float),
                flux=np.asarray(src["flux"], dtype=float),
                peak_snr=np.asarray(src["peak_snr"], dtype=float),
                noise=float(src["noise"]),
            )
            catalogue = CatalogueStars(
                np.asarray(cat["name"], dtype=str),
                np.asarray(cat["magnitude"], dtype=float),
                np.asarray(cat["elevation"], dtype=float),
                np.asarray(cat["azimuth"], dtype=float),
                np.asarray(cat["planet"], dtype=bool),
            )
            site = info["site"]
            return cls(
                calibration=Calibration.from_attrs(data),
                time=np.datetime64(info["time"], "ns"),
                site=Site(float(site["latitude"]), float(site["longitude"]), site["altitude_m"]),
                sources=sources,
                catalogue=catalogue,
                star_index=np.asarray([m["star_index"] for m in info["matches"]], np.intp),
                source_index=np.asarray([m["source_index"] for m in info["matches"]], np.intp),
                circle=LensCircle(
                    float(circ["x"]),
                    float(circ["y"]),
                    float(circ["radius"]),
                    float(circ["aspect"]),
                    bool(circ["found"]),
                ),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CalibrationError(f"the star calibration JSON is malformed: {exc!r}") from exc

    @classmethod
    def from_json(cls, text_or_path: str | Path) -> StarCalibration:
        """Read a result from JSON text or a JSON file."""
        text = str(text_or_path)
        if not text.lstrip().startswith("{"):
            text = Path(text_or_path).read_text(encoding="utf-8")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CalibrationError(
                f"expected star calibration JSON; found invalid JSON: {exc}"
            ) from exc
        return cls.from_dict(data)


def _rms(values: NDArray[np.float64]) -> float:
    return float(np.sqrt(np.mean(values**2))) if values.size else float("nan")


def _worst(values: NDArray[np.float64]) -> float:
    return float(np.max(values)) if values.size else float("nan")
