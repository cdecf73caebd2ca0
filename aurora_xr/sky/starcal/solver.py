"""Calibrate an all-sky camera from the stars of one clear frame.

The steps (each in its own module): find the lens circle (:mod:`.circle`) unless
given; detect point sources (:mod:`.sources`); predict the catalogue stars and
planets at the frame's time and site, refracted (:mod:`.catalogue`); search
rotation, mirror sense and scale of an equidistant lens on the circle, then
pair stars and sources by nearest-neighbour consensus (:mod:`.matching`); fit
the axis pixel, rotation and radial profile, then the full lens (radial
polynomial, optical-axis tilt, optionally the pixel aspect) by robust least
squares, re-pairing with a tolerance that shrinks with the residuals and
clipping outliers (:mod:`.fitting`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..._times import as_datetime64
from ...errors import CalibrationError
from ..lens import Calibration
from ..stations import Station
from .catalogue import CatalogueStars, Site, catalogue_stars, resolve_site
from .circle import LensCircle, find_lens_circle
from .fitting import centroid_weights, clip_outliers, fit_lens, pixel_residuals
from .matching import Hypothesis, coarse_search, pair_nearest
from .model import LensParams
from .result import StarCalibration
from .sources import PointSources, find_point_sources, luminance

__all__ = ["TooFewStarsError", "calibrate_from_stars"]

_SIMILARITY = ("zenith_x", "zenith_y", "radial", "rotation_deg")
_FULL_MODEL_MATCHES = 15  # fewer pairs: no tilt, radial degree at most 2
_CONSENSUS_STARS = 80  # brightest usable stars paired before the final fit
_INITIAL_ROTATION_DEG = 20.0  # rotations searched around an initial calibration's


class TooFewStarsError(CalibrationError):
    """Too few stars could be matched to calibrate the lens."""


def calibrate_from_stars(
    image: ArrayLike,
    time: Any,
    site: Station | str | Site | tuple[float, ...],
    initial: Calibration | None = None,
    *,
    lens_circle: LensCircle | tuple[float, float, float] | None = None,
    max_magnitude: float = 5.0,
    min_elevation: float = 3.0,
    poly_degree: int = 4,
    fit_tilt: bool = True,
    fit_aspect: bool | None = None,
    min_matches: int = 10,
    threshold: float = 5.0,
    max_sources: int = 400,
    planets: bool = True,
    catalogue: str = "auto",
    pressure_hpa: float = 1010.0,
    temperature_c: float = 10.0,
) -> StarCalibration:
    """Calibrate a camera's lens from the stars of one clear frame.

    Parameters
    ----------
    image : (H, W), (H, W, 1) or (H, W, 3) array_like
        A clear frame as the camera wrote it (8- or 16-bit, colour or single channel).
    time : datetime-like
        UTC time of the frame (mid-exposure is best).
    site : Station, str, aurora_xr.sky.starcal.catalogue.Site or tuple
        A station, its code, or ``(latitude, longitude[, altitude_m])``.
    initial : Calibration, optional
        A rough lens to start from: its axis pixel and radius replace the lens
        circle, its mirror sense is kept and only rotations within 20° of its
        own are searched.
    lens_circle : LensCircle or (x, y, radius), optional
        The horizon circle on the frame, if the frame's bright disc does not show it.
    max_magnitude : float
        Faintest catalogue magnitude used (the orientation is found with the
        brightest stars; fainter ones join the final fit).
    min_elevation : float
        Lowest catalogue elevation used (degrees).
    poly_degree : int
        Degree of the radial polynomial (1: equidistant); lowered to 3 below
        25 matched stars and to 2 below 15.
    fit_tilt : bool
        Fit a tilt of the optical axis.
    fit_aspect : bool, optional
        Fit the pixel aspect. Default: from 15 matched stars on, or with fewer when
        the bright disc or ``initial`` is not round.
    min_matches : int
        Fewest matched stars accepted.
    threshold : float
        Source detection threshold in noise units.
    max_sources : int
        Most sources kept (the brightest).
    planets : bool
        Use the planets as well as the stars.
    catalogue : {"auto", "ephem", "hipparcos"}
        Star catalogue (see :func:`~aurora_xr.sky.starcal.catalogue_stars`).
    pressure_hpa, temperature_c : float
        Air pressure and temperature for refraction.

    Returns
    -------
    StarCalibration
        The fitted :class:`Calibration`, the matched pairs and the residuals.

    Raises
    ------
    TooFewStarsError
        If fewer than ``min_matches`` stars are matched; the message gives the
        numbers of sources and matches and what to try.
    """
    plane = luminance(image)
    height, width = plane.shape
    when = as_datetime64(np.atleast_1d(np.asarray(time, dtype=object)), name="time")[0]
    where = resolve_site(site)
    circle = _circle(plane, initial, lens_circle)
    round_disc = abs(circle.aspect - 1.0) <= 0.05
    if round_disc and initial is None:
        circle = LensCircle(circle.x, circle.y, circle.radius, 1.0, circle.found)
    yy, xx = np.ogrid[0:height, 0:width]
    inside = np.hypot(xx - circle.x, (yy - circle.y) / circle.aspect) < 1.02 * circle.radius
    sources = find_point_sources(plane, threshold=threshold, max_sources=max_sources, mask=inside)
    stars = catalogue_stars(
        when,
        where,
        max_magnitude=max_magnitude,
        min_elevation=0.0,
        planets=planets,
        catalogue=catalogue,
        pressure_hpa=pressure_hpa,
        temperature_c=temperature_c,
    )
    usable = np.nonzero(stars.elevation >= min_elevation)[0]

    def too_few(n_matches: int, why: str) -> TooFewStarsError:
        return TooFewStarsError(
            f"calibration from stars needs at least {min_matches} matched stars; found "
            f"{len(sources)} sources on the frame, {usable.size} catalogue stars above "
            f"{min_elevation:g}° and matched {n_matches} ({why}). Try a clearer, darker frame, "
            "a longer exposure, the frame's exact UTC time and site, lens_circle= if the "
            "bright disc is not the horizon, or initial= with a rough calibration"
        )

    if len(sources) < 4 or usable.size < 4:
        raise too_few(0, "too few sources or stars to search")
    start = _searched_lens(plane.shape, sources, stars, circle, initial)
    if start is None:
        raise too_few(0, "no orientation of the lens lines stars up with sources")
    # the catalogue is sorted brightest first: pair the brightest, then fit with all
    bright = stars.select(usable[:_CONSENSUS_STARS])
    params, star_i, src_i = _consensus(start, sources, bright, circle.radius)
    if star_i.size < min_matches:
        raise too_few(int(star_i.size), "the best orientation found pairs too few")
    params, star_i, src_i = _refine(
        params,
        sources,
        stars.select(usable),
        star_i,
        src_i,
        radius=circle.radius,
        poly_degree=poly_degree,
        fit_tilt=fit_tilt,
        fit_aspect=fit_aspect if fit_aspect is not None else (None if round_disc else True),
    )
    if star_i.size < min_matches:
        raise too_few(int(star_i.size), "too few pairs survive the final fit")
    return StarCalibration(
        calibration=params.calibration(),
        time=np.datetime64(when, "ns"),
        site=where,
        sources=sources,
        catalogue=stars,
        star_index=usable[star_i],
        source_index=src_i,
        circle=circle,
    )


def _circle(
    plane: NDArray[np.float32],
    initial: Calibration | None,
    given: LensCircle | tuple[float, float, float] | None,
) -> LensCircle:
    if isinstance(given, LensCircle):
        return given
    if given is not None:
        x, y, r = (float(v) for v in given)
        return LensCircle(x, y, r, 1.0)
    if initial is not None:
        if (initial.width, initial.height) != (plane.shape[1], plane.shape[0]):
            raise CalibrationError(
                f"initial= is a calibration of {initial.width}x{initial.height} frames; "
                f"found a {plane.shape[1]}x{plane.shape[0]} frame"
            )
        return LensCircle(
            initial.zenith_x, initial.zenith_y, initial.lens_radius, initial.pixel_aspect
        )
    return find_lens_circle(plane)


def _searched_lens(
    shape: tuple[int, ...],
    sources: PointSources,
    stars: CatalogueStars,
    circle: LensCircle,
    initial: Calibration | None,
) -> LensParams | None:
    """The best orientation of an equidistant lens on the circle (coarse search + consensus).

    With an ``initial`` calibration only its mirror sense and rotations within
    ``_INITIAL_ROTATION_DEG`` of its own are searched.
    """
    bright = stars.select(np.nonzero(stars.elevation >= 15.0)[0][:40])
    if len(bright) < 4:
        return None
    n_src = min(len(sources), max(3 * len(bright), 60))
    rotations: NDArray[np.float64] | None = None
    mirrors: tuple[bool, ...] = (False, True)
    if initial is not None:
        span = np.arange(-_INITIAL_ROTATION_DEG, _INITIAL_ROTATION_DEG + 0.5, 1.0)
        rotations = (initial.rotation_deg + span) % 360.0
        mirrors = (initial.east_clockwise,)
    hyps = coarse_search(
        sources.x[:n_src],
        sources.y[:n_src],
        bright.elevation,
        bright.azimuth,
        circle,
        rotations=rotations,
        mirrors=mirrors,
    )
    best: tuple[int, float, LensParams] | None = None
    step = 0.02 * circle.radius
    grid = np.arange(-2, 3) * step
    shifts = np.stack(np.meshgrid(grid, grid), axis=-1).reshape(-1, 2)
    for coarse in hyps[:4]:
        # local search around the coarse hypothesis: centre, rotation and scale
        hyp = coarse_search(
            sources.x[:n_src],
            sources.y[:n_src],
            bright.elevation,
            bright.azimuth,
            circle,
            scales=coarse.scale * np.array([0.96, 0.98, 1.0, 1.02, 1.04]),
            rotations=coarse.rotation_deg + np.arange(-3.0, 3.5, 1.0),
            mirrors=(coarse.east_clockwise,),
            shifts=shifts,
            tolerance=0.02,
            n_best=1,
        )[0]
        params = _from_hypothesis(shape, circle, hyp)
        params, star_i, _ = _consensus(params, sources, bright, circle.radius)
        rank = (int(star_i.size), -hyp.score)
        if best is None or rank > best[:2]:
            best = (rank[0], rank[1], params)
    return None if best is None or best[0] < 4 else best[2]


def _from_hypothesis(shape: tuple[int, ...], circle: LensCircle, hyp: Hypothesis) -> LensParams:
    return LensParams(
        width=int(shape[1]),
        height=int(shape[0]),
        zenith_x=hyp.x,
        zenith_y=hyp.y,
        radial=(hyp.scale * circle.radius,),
        rotation_deg=hyp.rotation_deg,
        east_clockwise=hyp.east_clockwise,
        pixel_aspect=circle.aspect,
    )


def _consensus(
    params: LensParams,
    sources: PointSources,
    stars: CatalogueStars,
    radius: float,
    tolerances: tuple[float, ...] = (0.04, 0.03, 0.02, 0.015, 0.01),
) -> tuple[LensParams, NDArray[np.intp], NDArray[np.intp]]:
    """Pair by nearest neighbours and refit a simple lens, shrinking the tolerance."""
    star_i = src_i = np.zeros(0, np.intp)
    for tol in np.repeat(tolerances, 2):
        px, py = params.project(stars.elevation, stars.azimuth)
        star_i, src_i = pair_nearest(px, py, sources.x, sources.y, tol * radius)
        if star_i.size < 4:
            break
        degree = 2 if star_i.size >= 10 else 1
        params = fit_lens(
            params.with_degree(degree),
            _SIMILARITY,
            sources.x[src_i],
            sources.y[src_i],
            stars.elevation[star_i],
            stars.azimuth[star_i],
            f_scale=max(tol * radius / 4.0, 0.5),
        )
    return params, star_i, src_i


def _refine(
    params: LensParams,
    sources: PointSources,
    stars: CatalogueStars,
    star_i: NDArray[np.intp],
    src_i: NDArray[np.intp],
    *,
    radius: float,
    poly_degree: int,
    fit_tilt: bool,
    fit_aspect: bool | None,
) -> tuple[LensParams, NDArray[np.intp], NDArray[np.intp]]:
    """The full lens: re-pair with a tolerance from the residuals, fit, clip outliers.

    ``fit_aspect=None`` fits the pixel aspect once there are enough pairs for the full model.
    """
    for _ in range(4):
        full = star_i.size >= _FULL_MODEL_MATCHES
        degree = max(1, min(poly_degree, 2 if not full else 3 if star_i.size < 25 else 9))
        free = _SIMILARITY + (("tilt_east", "tilt_north") if fit_tilt and full else ())
        free += ("pixel_aspect",) if (full if fit_aspect is None else fit_aspect) else ()
        x, y = sources.x[src_i], sources.y[src_i]
        el, az = stars.elevation[star_i], stars.azimuth[star_i]
        w = centroid_weights(sources.peak_snr[src_i])
        params = fit_lens(params.with_degree(degree), free, x, y, el, az, weights=w)
        keep = clip_outliers(pixel_residuals(params, x, y, el, az))
        if keep.sum() >= 4 and not keep.all():
            k = keep
            params = fit_lens(params, free, x[k], y[k], el[k], az[k], weights=w[k])
        res = pixel_residuals(params, x[keep], y[keep], el[keep], az[keep])
        spread = 1.4826 * float(np.median(res)) if res.size else 1.0
        tol = float(np.clip(5.0 * spread, 1.5, 0.015 * radius))
        px, py = params.project(stars.elevation, stars.azimuth)
        star_i, src_i = pair_nearest(px, py, sources.x, sources.y, tol)
    x, y = sources.x[src_i], sources.y[src_i]
    el, az = stars.elevation[star_i], stars.azimuth[star_i]
    keep = clip_outliers(pixel_residuals(params, x, y, el, az))
    return params, star_i[keep], src_i[keep]
