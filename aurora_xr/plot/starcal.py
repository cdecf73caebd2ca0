"""The figure of a calibration from stars: sources, catalogue stars, matches, the fitted grid."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.patheffects as pe
import numpy as np
from matplotlib.patches import Rectangle
from numpy.typing import ArrayLike, NDArray

from ..errors import FrameSizeError
from ..sky.lens import sky_to_pixel
from ..sky.starcal.sources import luminance
from ._style import DEFAULT_ELEVATIONS, SIZE_LABEL, SIZE_SMALL

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from ..sky.starcal.result import StarCalibration

__all__ = ["plot_star_calibration"]

_SOURCE = "#22d3ff"
_CATALOGUE = "#ffb000"
_MATCH = "#7CFC00"
_GRID = "#ff5a5a"
_OBSTRUCTION = (0.85, 0.1, 0.85, 0.45)  # RGBA of the obstruction shading
_HALO = [pe.withStroke(linewidth=2.0, foreground="black")]


def plot_star_calibration(
    result: StarCalibration,
    image: ArrayLike,
    *,
    ax: Axes | None = None,
    elevations: tuple[float, ...] = DEFAULT_ELEVATIONS,
    azimuth_step: float = 30.0,
    label_brightest: int = 12,
    max_sources: int = 150,
    max_catalogue: int = 150,
    obstruction: ArrayLike | None = None,
) -> Axes:
    """Draw a frame with its detected sources, the catalogue stars and the fitted sky grid.

    Parameters
    ----------
    result : StarCalibration
        Output of :func:`aurora_xr.sky.starcal.calibrate_from_stars`.
    image : (H, W), (H, W, 1) or (H, W, 3) array_like
        The frame the calibration was made from (shown as luminance).
    ax : matplotlib.axes.Axes, optional
        Axes to draw into (a new figure otherwise).
    elevations : tuple of float
        Elevation rings of the grid (degrees).
    azimuth_step : float
        Spacing of the azimuth spokes (degrees); north and east are labelled N and E.
    label_brightest : int
        Name this many of the brightest matched stars.
    max_sources : int
        Draw at most this many detected sources (the brightest).
    max_catalogue : int
        Draw at most this many catalogue stars (the brightest); every match is drawn.
    obstruction : (H, W) array_like of bool, optional
        An obstruction mask (:func:`aurora_xr.sky.obstructions.obstruction_mask`),
        shaded over the frame.

    Returns
    -------
    matplotlib.axes.Axes
    """
    cal = result.calibration
    if ax is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(7.0, 7.0 * cal.height / cal.width + 0.6), layout="constrained")
        ax = fig.add_subplot()
    plane = luminance(image)
    lo, hi = np.percentile(plane, [25.0, 99.8])  # dark sky stays dark, stars stand out
    shown = np.clip((plane - lo) / max(hi - lo, 1e-9), 0.0, 1.0) ** 0.7
    ax.imshow(shown, cmap="gray", origin="upper", interpolation="nearest")
    if obstruction is not None:
        _shade(ax, np.asarray(obstruction, dtype=bool), plane.shape)
    size = max(cal.width, cal.height)
    marker = 7.0

    # the fitted grid: elevation rings and azimuth spokes
    az_line = np.linspace(0.0, 360.0, 721)
    for el in elevations:
        x, y = sky_to_pixel(np.full_like(az_line, el), az_line, cal)
        ax.plot(x, y, color=_GRID, lw=0.6, alpha=0.8)
    el_line = np.linspace(0.0, 90.0, 181)
    for az in np.arange(0.0, 360.0, azimuth_step):
        x, y = sky_to_pixel(el_line, np.full_like(el_line, az), cal)
        ax.plot(x, y, color=_GRID, lw=0.6, alpha=0.8)
    for az, text in ((0.0, "N"), (90.0, "E"), (180.0, "S"), (270.0, "W")):
        x, y = sky_to_pixel(np.array([3.0]), np.array([az]), cal)
        ax.text(
            float(x[0]),
            float(y[0]),
            text,
            color=_GRID,
            fontsize=SIZE_LABEL + 2,
            ha="center",
            va="center",
            weight="bold",
            path_effects=_HALO,
        )

    # detected sources, catalogue stars, matches
    src = result.sources
    n = min(len(src), max_sources)
    ax.scatter(
        src.x[:n],
        src.y[:n],
        s=marker * 6,
        facecolors="none",
        edgecolors=_SOURCE,
        linewidths=0.6,
        label=f"detected sources ({len(src)})",
    )
    cat = result.catalogue
    drawn = min(len(cat), max_catalogue)  # sorted brightest first
    cx, cy = sky_to_pixel(cat.elevation[:drawn], cat.azimuth[:drawn], cal)
    ax.scatter(
        cx,
        cy,
        s=marker * 6,
        marker="+",
        color=_CATALOGUE,
        linewidths=0.8,
        label=f"catalogue stars ({len(cat)})",
    )
    ax.scatter(
        result.x,
        result.y,
        s=marker * 14,
        facecolors="none",
        edgecolors=_MATCH,
        linewidths=1.0,
        label=f"matched ({result.n_matches})",
    )
    order = np.argsort(result.magnitudes)[:label_brightest]
    offset = 0.012 * size
    for i in order:
        ax.text(
            result.x[i] + offset,
            result.y[i] - offset,
            str(result.names[i]),
            color=_MATCH,
            fontsize=SIZE_SMALL,
            path_effects=_HALO,
        )

    ax.set_xlim(-0.5, cal.width - 0.5)
    ax.set_ylim(cal.height - 0.5, -0.5)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(loc="lower left", fontsize=SIZE_SMALL, framealpha=0.6)
    ax.set_title(
        f"{np.datetime_as_string(result.time, unit='s')} UT, "
        f"{result.site.latitude:.2f}°, {result.site.longitude:.2f}°\n"
        f"{result.n_matches} stars, RMS {result.rms_deg:.3f}° ({result.rms_px:.2f} px), "
        f"worst {result.worst_deg:.3f}°",
        fontsize=SIZE_LABEL,
    )
    return ax


def _shade(ax: Axes, mask: NDArray[np.bool_], shape: tuple[int, ...]) -> None:
    """Shade the obstructed pixels and add them to the legend."""
    if mask.shape != tuple(shape):
        raise FrameSizeError(
            f"expected an obstruction mask of the frame's shape {tuple(shape)}; found {mask.shape}"
        )
    rgba = np.zeros((*mask.shape, 4), dtype=np.float32)
    rgba[mask] = _OBSTRUCTION
    ax.imshow(rgba, origin="upper", interpolation="nearest")
    # a zero-size patch carries the legend entry
    ax.add_patch(
        Rectangle((0, 0), 0, 0, color=_OBSTRUCTION, label=f"obstructed ({mask.mean():.1%})")
    )
