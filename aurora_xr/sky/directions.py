"""Directions of the pixels of a per-pixel calibration, as unit vectors, numpy/scipy only.

A :class:`DirectionGrid` holds the unit vector every pixel looks at (east, north, up; NaN
outside the field of view) and answers the two questions of a skymap: the direction at a
fractional pixel position (bilinear interpolation of the vectors of the surrounding pixels
inside the field of view), and the pixel that looks in a given direction (the nearest pixel
from a k-d tree, refined by Gauss-Newton steps on that interpolation). Unit vectors keep
both smooth through the zenith and across the 0°/360° azimuth seam.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from scipy.spatial import cKDTree

__all__ = ["DirectionGrid", "angles", "unit_vectors"]

_REFINE_STEPS = 3


def unit_vectors(el_deg: NDArray[np.float64], az_deg: NDArray[np.float64]) -> NDArray[np.float64]:
    """(..., 3) unit vectors (east, north, up) of elevation/azimuth in degrees."""
    el, az = np.radians(el_deg), np.radians(az_deg)
    return np.stack([np.cos(el) * np.sin(az), np.cos(el) * np.cos(az), np.sin(el)], axis=-1)


def angles(v: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Elevation and azimuth in degrees of (..., 3) vectors (any length; NaN stays NaN)."""
    norm = np.linalg.norm(v, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        el = np.degrees(np.arcsin(np.clip(v[..., 2] / norm, -1.0, 1.0)))
    az = np.mod(np.degrees(np.arctan2(v[..., 0], v[..., 1])), 360.0)
    return el, np.where(np.isnan(el), np.nan, az)


@dataclass(frozen=True, eq=False)
class DirectionGrid:
    """Unit vectors of a pixel grid with its inverse lookup (build with :meth:`build`)."""

    vectors: NDArray[np.float64]
    """(H, W, 3) unit vectors, NaN outside the field of view."""
    flat: NDArray[np.intp]
    """(n,) flat index of each valid pixel."""
    tree: cKDTree
    """k-d tree of the valid pixels' vectors."""
    tolerance: NDArray[np.float64]
    """(n,) chord distance from a pixel's vector still inside that pixel."""
    pinv: NDArray[np.float64]
    """(n, 2, 3) pseudo-inverse of d(vector)/d(x, y) at each valid pixel, NaN if none."""

    @classmethod
    def build(cls, el: NDArray[np.floating], az: NDArray[np.floating]) -> DirectionGrid:
        """The grid of (H, W) elevation/azimuth in degrees (NaN outside)."""
        from scipy.spatial import cKDTree  # imported when a skymap is first inverted

        vec = unit_vectors(el.astype(np.float64), az.astype(np.float64))
        pad = np.pad(vec, ((1, 1), (1, 1), (0, 0)), constant_values=np.nan)
        derivs = []  # d(vector)/dx and d(vector)/dy: central, else one-sided differences
        for after, before in ((pad[1:-1, 2:], pad[1:-1, :-2]), (pad[2:, 1:-1], pad[:-2, 1:-1])):
            central, fwd, bwd = (after - before) / 2.0, after - vec, vec - before
            ok_c = np.isfinite(central).all(-1, keepdims=True)
            ok_f = np.isfinite(fwd).all(-1, keepdims=True)
            derivs.append(np.where(ok_c, central, np.where(ok_f, fwd, bwd)))
        flat = np.flatnonzero(np.isfinite(vec).all(-1))
        jac = np.stack([d.reshape(-1, 3)[flat] for d in derivs], axis=-1)  # (n, 3, 2)
        jtj = np.einsum("nki,nkj->nij", jac, jac)
        a, b, d = jtj[:, 0, 0], jtj[:, 0, 1], jtj[:, 1, 1]
        det = a * d - b * b
        usable = np.isfinite(det) & (det > 1e-6 * (a + d) ** 2)
        inv = np.stack([np.stack([d, -b], -1), np.stack([-b, a], -1)], -2)
        with np.errstate(invalid="ignore", divide="ignore"):
            inv = inv / np.where(usable, det, np.nan)[:, None, None]
        pinv = np.einsum("nij,nkj->nik", inv, jac)  # (J^T J)^-1 J^T
        norms = [np.linalg.norm(dv.reshape(-1, 3)[flat], axis=-1) for dv in derivs]
        step = np.hypot(*(np.nan_to_num(n) for n in norms))
        typical = float(np.median(step[step > 0])) if np.any(step > 0) else 1e-3
        tolerance = 0.55 * np.where(step > 0, step, typical)
        return cls(vec, flat, cKDTree(vec.reshape(-1, 3)[flat]), tolerance, pinv)

    def vectors_at(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
        """Unit vectors at pixel positions: bilinear over the surrounding pixels inside the
        field of view; NaN where the nearest pixel is outside it or the frame."""
        vec = self.vectors
        h, w = vec.shape[:2]
        inside = (x >= -0.5) & (x <= w - 0.5) & (y >= -0.5) & (y <= h - 0.5)
        xs, ys = np.clip(np.nan_to_num(x), 0, w - 1), np.clip(np.nan_to_num(y), 0, h - 1)
        x0 = np.clip(np.floor(xs).astype(np.intp), 0, w - 2)
        y0 = np.clip(np.floor(ys).astype(np.intp), 0, h - 2)
        fx, fy = xs - x0, ys - y0
        total = np.zeros((*x.shape, 3))
        weight = np.zeros(x.shape)
        for dy, dx, wgt in ((0, 0, (1 - fx) * (1 - fy)), (0, 1, fx * (1 - fy)),
                            (1, 0, (1 - fx) * fy), (1, 1, fx * fy)):  # fmt: skip
            v = vec[y0 + dy, x0 + dx]
            ok = np.isfinite(v[..., 0])
            total += np.where(ok[..., None], v * wgt[..., None], 0.0)
            weight += np.where(ok, wgt, 0.0)
        near = np.isfinite(vec[np.rint(ys).astype(np.intp), np.rint(xs).astype(np.intp), 0])
        good = inside & near & (weight > 0)
        norm = np.linalg.norm(total, axis=-1, keepdims=True)
        return np.where(good[..., None], total / np.where(norm > 0, norm, 1.0), np.nan)

    def locate(
        self, target: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Pixel ``(x, y)`` of (n, 3) unit vectors; NaN outside the field of view."""
        width = self.vectors.shape[1]
        x_out = np.full(target.shape[0], np.nan)
        y_out = np.full(target.shape[0], np.nan)
        ok = np.isfinite(target).all(-1)
        if ok.any():
            dist, k = self.tree.query(target[ok])
            inside = dist <= self.tolerance[k]
            rows = np.flatnonzero(ok)[inside]
            k, t = k[inside], target[rows]
            y0, x0 = np.divmod(self.flat[k], width)
            x, y = x0.astype(float), y0.astype(float)
            pinv = self.pinv[k]
            can = np.isfinite(pinv).all((1, 2))
            for _ in range(_REFINE_STEPS):
                resid = t - self.vectors_at(x, y)
                step = np.einsum("nij,nj->ni", np.nan_to_num(pinv), np.nan_to_num(resid))
                good = can & np.isfinite(resid).all(-1)
                x = np.where(good, np.clip(x + step[:, 0], x0 - 1.0, x0 + 1.0), x)
                y = np.where(good, np.clip(y + step[:, 1], y0 - 1.0, y0 + 1.0), y)
            x_out[rows] = np.clip(x, 0, width - 1)
            y_out[rows] = np.clip(y, 0, self.vectors.shape[0] - 1)
        return x_out, y_out
