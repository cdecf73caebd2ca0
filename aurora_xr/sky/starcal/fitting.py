"""Least-squares fit of the lens to star pairs, with outlier rejection.

The residuals are the pixel offsets between where the lens puts each catalogue
star and where its source was measured. :func:`fit_lens` solves with
``scipy.optimize.least_squares`` and a soft-L1 loss (robust to a few wrong
pairs); a weak prior (``TILT_PRIOR_DEG``) keeps the tilt of the optical axis
small where the stars cannot tell it from a shift of the axis pixel.
:func:`clip_outliers` drops pairs whose residual is far above the robust spread.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import least_squares

from .model import LensParams

__all__ = ["TILT_PRIOR_DEG", "centroid_weights", "clip_outliers", "fit_lens", "pixel_residuals"]

TILT_PRIOR_DEG = 10.0
"""Scale of the weak prior on each tilt component (one pixel of residual per this tilt)."""

_INVALID = 1.0e3  # pixel residual of a parameter set that gives no valid lens


def pixel_residuals(
    params: LensParams,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    elevation: NDArray[np.float64],
    azimuth: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Distance in pixels between projected stars and their measured sources."""
    px, py = params.project(elevation, azimuth)
    d = np.hypot(px - x, py - y)
    return np.where(np.isfinite(d), d, np.inf)


def fit_lens(
    params: LensParams,
    free: tuple[str, ...],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    elevation: NDArray[np.float64],
    azimuth: NDArray[np.float64],
    *,
    f_scale: float = 1.0,
    weights: NDArray[np.float64] | None = None,
) -> LensParams:
    """Adjust the ``free`` parameters to bring the stars onto their sources.

    Parameters
    ----------
    params : LensParams
        Starting lens.
    free : tuple of str
        Names of the adjusted :class:`LensParams` fields.
    x, y : (n,) ndarray
        Measured source pixels.
    elevation, azimuth : (n,) ndarray
        Catalogue directions of the paired stars (degrees).
    f_scale : float
        Pixel residual above which the soft-L1 loss turns linear.
    weights : (n,) ndarray, optional
        Weight of each pair (e.g. from its centroid precision); default 1.
    """
    start = params.vector(free)
    w = np.ones(np.shape(x)) if weights is None else np.asarray(weights, dtype=float)
    tilt_slots = [i for i, name in enumerate(_expanded(params, free)) if name.startswith("tilt")]

    def residuals(vector: NDArray[np.float64]) -> NDArray[np.float64]:
        trial = params.updated(free, vector)
        px, py = trial.project(elevation, azimuth)
        res = np.concatenate([(px - x) * w, (py - y) * w])
        res = np.where(np.isfinite(res), res, _INVALID)
        prior = vector[tilt_slots] / TILT_PRIOR_DEG
        return np.concatenate([res, prior])

    solution = least_squares(
        residuals, start, loss="soft_l1", f_scale=f_scale, x_scale="jac", max_nfev=200
    )
    return params.updated(free, solution.x)


def _expanded(params: LensParams, free: tuple[str, ...]) -> list[str]:
    names: list[str] = []
    for name in free:
        names.extend([name] * (len(params.radial) if name == "radial" else 1))
    return names


def clip_outliers(
    residual: NDArray[np.float64], *, n_sigma: float = 4.0, floor: float = 0.5
) -> NDArray[np.bool_]:
    """Pairs to keep: residual below ``n_sigma`` robust standard deviations (and ``floor`` px).

    The spread is 1.4826 times the median absolute residual about zero.
    """
    finite = residual[np.isfinite(residual)]
    if finite.size == 0:
        return np.zeros(residual.shape, dtype=bool)
    sigma = 1.4826 * float(np.median(finite))
    return np.asarray(residual <= max(n_sigma * sigma, floor), dtype=bool)


def centroid_weights(
    peak_snr: NDArray[np.float64], *, snr_floor: float = 10.0
) -> NDArray[np.float64]:
    """Pair weights from the sources' peak signal-to-noise ratio.

    A centroid's error grows as ``1 / snr`` for faint sources and levels off for
    bright ones (PSF sampling, blends); the weight is ``1 / sqrt(1 + (snr_floor / snr)**2)``.
    """
    snr = np.maximum(np.asarray(peak_snr, dtype=float), 1e-3)
    return np.asarray(1.0 / np.sqrt(1.0 + (snr_floor / snr) ** 2), dtype=float)
