"""Pairing detected sources with catalogue stars, with no guess beyond the lens circle.

1. *Coarse search*: the brightest catalogue stars are projected through an
   equidistant lens centred on the lens circle, for every rotation (1° steps),
   both mirror senses and a range of scales; each hypothesis scores the stars
   that land near a bright detected source (closer counts more).
2. *Consensus*: from each of the best distinct hypotheses, stars and sources are
   paired one to one by nearest neighbours within a tolerance, the lens is
   refitted on the pairs, and the tolerance shrinks; the hypothesis that ends
   with the most pairs wins.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from .circle import LensCircle

__all__ = ["Hypothesis", "coarse_search", "pair_nearest"]


@dataclass(frozen=True)
class Hypothesis:
    """An equidistant lens: centre, orientation and scale on the lens circle, with its score."""

    rotation_deg: float
    east_clockwise: bool
    scale: float
    score: float
    x: float
    y: float


def coarse_search(
    src_x: NDArray[np.float64],
    src_y: NDArray[np.float64],
    elevation: NDArray[np.float64],
    azimuth: NDArray[np.float64],
    circle: LensCircle,
    *,
    scales: NDArray[np.float64] | None = None,
    step_deg: float = 1.0,
    tolerance: float = 0.03,
    n_best: int = 6,
    rotations: NDArray[np.float64] | None = None,
    mirrors: tuple[bool, ...] = (False, True),
    shifts: NDArray[np.float64] | None = None,
) -> list[Hypothesis]:
    """Score rotations, mirror senses and scales of an equidistant lens on the circle.

    Parameters
    ----------
    src_x, src_y : (n,) ndarray
        Bright detected sources (pixels).
    elevation, azimuth : (m,) ndarray
        Bright catalogue stars (degrees).
    circle : LensCircle
        Centre, horizon radius and aspect of the lens.
    scales : (k,) ndarray, optional
        Factors on the circle's radius to try (default 0.8 to 1.2).
    step_deg : float
        Rotation step in degrees (when ``rotations`` is not given).
    tolerance : float
        Match radius as a fraction of the circle's radius.
    n_best : int
        Number of distinct hypotheses returned (best first).
    rotations : (j,) ndarray, optional
        Rotations to try (default: all, every ``step_deg``).
    mirrors : tuple of bool
        Mirror senses (``east_clockwise``) to try.
    shifts : (s, 2) ndarray, optional
        Offsets (pixels) of the lens centre from the circle's centre to try
        (default: none).
    """
    if scales is None:
        scales = np.arange(0.80, 1.2001, 0.04)
    tree = cKDTree(np.column_stack([src_x, src_y]))
    tol = tolerance * circle.radius
    if rotations is None:
        rotations = np.arange(0.0, 360.0, step_deg)
    theta = 90.0 - np.asarray(elevation, dtype=float)
    if shifts is None:
        shifts = np.zeros((1, 2))
    found: list[Hypothesis] = []
    for mirror in mirrors:
        sign = -1.0 if mirror else 1.0
        phi = np.radians(sign * np.asarray(azimuth)[None, :] + rotations[:, None])
        for scale in scales:
            r = scale * circle.radius * theta / 90.0
            dx = -r[None, :] * np.sin(phi)
            dy = -r[None, :] * np.cos(phi) * circle.aspect
            for sx, sy in shifts:
                x, y = circle.x + sx + dx, circle.y + sy + dy
                dist, _ = tree.query(
                    np.column_stack([x.ravel(), y.ravel()]), distance_upper_bound=tol
                )
                close = np.where(np.isfinite(dist), 1.0 - (dist / tol) ** 2, 0.0)
                score = close.reshape(x.shape).sum(axis=1)
                for i in np.argsort(-score)[:n_best]:
                    found.append(
                        Hypothesis(
                            float(rotations[i]),
                            mirror,
                            float(scale),
                            float(score[i]),
                            float(circle.x + sx),
                            float(circle.y + sy),
                        )
                    )
    found.sort(key=lambda h: -h.score)
    distinct: list[Hypothesis] = []
    for hyp in found:
        if all(
            hyp.east_clockwise != d.east_clockwise
            or abs((hyp.rotation_deg - d.rotation_deg + 180.0) % 360.0 - 180.0) > 4.0
            for d in distinct
        ):
            distinct.append(hyp)
        if len(distinct) == n_best:
            break
    return distinct


def pair_nearest(
    pred_x: NDArray[np.float64],
    pred_y: NDArray[np.float64],
    src_x: NDArray[np.float64],
    src_y: NDArray[np.float64],
    tolerance: float,
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """One-to-one pairs of predicted star pixels and sources closer than ``tolerance``.

    Pairs are accepted closest first; a star or a source is used once.

    Returns
    -------
    star_index, source_index : (k,) ndarray of int
    """
    good = np.nonzero(np.isfinite(pred_x) & np.isfinite(pred_y))[0]
    if good.size == 0 or src_x.size == 0:
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    tree = cKDTree(np.column_stack([src_x, src_y]))
    k = min(3, src_x.size)
    dist, idx = tree.query(
        np.column_stack([pred_x[good], pred_y[good]]), k=k, distance_upper_bound=tolerance
    )
    dist = dist.reshape(good.size, k)
    idx = idx.reshape(good.size, k)
    star = np.repeat(good, k)
    flat_d, flat_i = dist.ravel(), idx.ravel()
    ok = np.isfinite(flat_d)
    order = np.argsort(flat_d[ok], kind="stable")
    used_star: set[int] = set()
    used_src: set[int] = set()
    stars: list[int] = []
    sources: list[int] = []
    for s, j in zip(star[ok][order], flat_i[ok][order], strict=True):
        if int(s) in used_star or int(j) in used_src:
            continue
        used_star.add(int(s))
        used_src.add(int(j))
        stars.append(int(s))
        sources.append(int(j))
    return np.asarray(stars, dtype=np.intp), np.asarray(sources, dtype=np.intp)
