"""The figure of a calibration from stars (aurora_xr.plot.starcal)."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from aurora_xr.errors import FrameSizeError
from aurora_xr.sky.lens import Calibration
from aurora_xr.sky.starcal import StarCalibration, calibrate_from_stars
from aurora_xr.sky.starcal.render import render_star_field

matplotlib.use("Agg")

KHO = (78.148, 16.043, 520.0)
TIME = np.datetime64("2020-12-11T20:09:33")
LENS = Calibration(
    width=320,
    height=320,
    zenith_x=160,
    zenith_y=158,
    lens_radius=150,
    rotation_deg=30.0,
    projection="equisolid",
)


@pytest.fixture(scope="module")
def fitted() -> tuple[np.ndarray, StarCalibration]:
    frame = render_star_field(LENS, TIME, KHO, seed=2)
    return frame, calibrate_from_stars(frame, TIME, KHO)


def test_figure_shows_sources_catalogue_matches_and_the_grid(
    fitted: tuple[np.ndarray, StarCalibration],
) -> None:
    import matplotlib.pyplot as plt

    from aurora_xr.plot.starcal import plot_star_calibration

    frame, result = fitted
    fig, ax = plt.subplots()
    try:
        assert plot_star_calibration(result, frame, ax=ax, elevations=(10, 30, 50, 70)) is ax
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert labels == [
            f"detected sources ({result.n_sources})",
            f"catalogue stars ({len(result.catalogue)})",
            f"matched ({result.n_matches})",
        ]
        assert len(ax.lines) == 4 + 12  # elevation rings and azimuth spokes every 30°
        texts = {t.get_text() for t in ax.texts}
        assert {"N", "E", "S", "W"} <= texts
        assert len(texts & set(result.names.tolist())) == min(12, result.n_matches)
        assert f"{result.n_matches} stars" in ax.get_title()
        north = next(t for t in ax.texts if t.get_text() == "N").get_position()
        # north 30° counter-clockwise from image up: up and to the left of the zenith
        assert north[0] < 160
        assert north[1] < 158
    finally:
        plt.close(fig)
    with pytest.raises(Exception, match="shape"):
        plot_star_calibration(result, np.zeros((4, 5, 6, 7)))


def test_figure_shades_an_obstruction_mask(fitted: tuple[np.ndarray, StarCalibration]) -> None:
    import matplotlib.pyplot as plt

    from aurora_xr.plot.starcal import plot_star_calibration

    frame, result = fitted
    mask = np.zeros(frame.shape, bool)
    mask[280:, :] = True
    fig, ax = plt.subplots()
    try:
        plot_star_calibration(result, frame, ax=ax, obstruction=mask)
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert labels[0] == f"obstructed ({mask.mean():.1%})"
        shading = ax.images[1].get_array()
        assert shading.shape == (320, 320, 4)
        assert np.all(shading[mask, 3] > 0)
        assert np.all(shading[~mask, 3] == 0)
        with pytest.raises(FrameSizeError, match=r"frame's shape \(320, 320\)"):
            plot_star_calibration(result, frame, ax=ax, obstruction=mask[:10])
    finally:
        plt.close(fig)
