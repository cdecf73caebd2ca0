"""The ipywidgets browsers of aurora_xr.widgets, driven from Python (no browser).

The widgets are driven through their public controls, as a user's clicks
would; the tests check what is shown (readouts, the figure's artists and the
PNG) and, on a lazy multi-year cube, that a slider move reads and computes
one frame only.
"""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from PIL import Image
from xarray.backends import BackendArray
from xarray.core import indexing

import aurora_xr
from aurora_xr.detect.segmentation import ChannelThresholdPredictor
from aurora_xr.errors import AuroraXrError, MissingVariableError, OptionError
from aurora_xr.io.products import prepare_product
from aurora_xr.widgets import MethodComparison, OccurrenceExplorer, SkyBrowser
from tests.conftest import raise_if_dask_computes

SIZE = 64
N_CELLS = 60


# -- data ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cube() -> xr.Dataset:
    """Eight synthetic frames, 2 min apart, segmented with the channel threshold."""
    ds = aurora_xr.synthetic_cube(
        start="2020-06-21T06:00", n_frames=8, cadence="2min", size=SIZE, seed=3, clouds=0.0
    )
    return aurora_xr.segment(ds, ChannelThresholdPredictor(low=30.0, high=60.0))


@pytest.fixture(scope="module")
def cells(cube: xr.Dataset) -> xr.Dataset:
    return aurora_xr.cell_grid(cube, n_cells=N_CELLS)


@pytest.fixture(scope="module")
def difference(cube: xr.Dataset, cells: xr.Dataset) -> xr.Dataset:
    return aurora_xr.difference_detect(cube, cells=cells["cell_index"])


def _map(values: np.ndarray, detector: str, *, by: str | None = None) -> xr.Dataset:
    """An occurrence product from hand-made detections: 4 frames per hour for 48 h, so
    that each MLT bin and cell has a rate of k/8 set by ``values[frame % 4 ...]``."""
    times = pd.date_range("2019-12-31T00:00", periods=24 * 4 * 2, freq="15min")
    mlt = (np.arange(times.size) // 4) % 24 + 0.5  # one bin per hour, 8 frames per bin
    det = xr.DataArray(values, dims=("time", "cell"), coords={"time": times.values})
    return aurora_xr.occurrence_map(det, mlt=mlt, detector=detector, by=by)


def _detections(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.random((24 * 4 * 2, N_CELLS)) < rng.random(N_CELLS)[None, :] * 0.8


@pytest.fixture(scope="module")
def product() -> xr.Dataset:
    """FCN and difference maps on a ``detector`` dim with their ratio (like compare_methods)."""
    fcn, dif = _map(_detections(1), "fcn"), _map(_detections(2), "difference")
    occ = xr.concat([fcn, dif], dim="detector", combine_attrs="override").assign_coords(
        detector=["fcn", "difference"]
    )
    rates = occ["occurrence_rate"]
    fcn_rate = rates.sel({"detector": "fcn"}, drop=True)
    difference_rate = rates.sel({"detector": "difference"}, drop=True)
    occ["rate_ratio"] = fcn_rate / difference_rate.where(difference_rate > 0)
    return occ.compute()


def _fig(view: Any) -> Figure:
    """The figure a widget shows now."""
    assert isinstance(view.figure, Figure)
    return view.figure


def _shown_values(view: Any) -> np.ndarray:
    """The values of the coloured cells in the figure shown (gid 'cells')."""
    colls = [c for ax in _fig(view).axes for c in ax.collections if c.get_gid() == "cells"]
    assert len(colls) == 1
    return np.asarray(colls[0].get_array(), dtype=float)


def _png_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as img:
        return img.size


# -- OccurrenceExplorer ----------------------------------------------------------------
def test_explorer_mlt_slider_changes_readout_and_figure(
    product: xr.Dataset, cells: xr.Dataset
) -> None:
    ex = OccurrenceExplorer(product, cells=cells)
    assert ex.last_error is None, ex.status.value
    assert (ex.mlt_slider.min, ex.mlt_slider.max, ex.mlt_slider.value) == (0, 23, 0)
    assert ex.readout.value == "<b>MLT 00–01</b>"
    assert ex.detector == "fcn"
    first_png, first_draws = bytes(ex.image.value), ex.draw_count
    assert _png_size(first_png)[0] > 300
    expected = product["occurrence_rate"].sel({"detector": "fcn"}).isel(mlt=0).values
    np.testing.assert_allclose(_shown_values(ex), expected[np.isfinite(expected)])

    ex.mlt_slider.value = 7
    assert ex.readout.value == "<b>MLT 07–08</b>"
    assert ex.mlt_label == "MLT 07–08"
    assert ex.mlt == 7.5
    assert ex.draw_count == first_draws + 1
    assert bytes(ex.image.value) != first_png
    expected = product["occurrence_rate"].sel({"detector": "fcn"}).isel(mlt=7).values
    np.testing.assert_allclose(_shown_values(ex), expected[np.isfinite(expected)])
    assert "MLT 07–08" in _fig(ex).axes[0].get_title()

    ex.mlt_slider.value = 23
    assert ex.readout.value == "<b>MLT 23–24</b>"


def test_explorer_detector_and_ratio_toggle(product: xr.Dataset, cells: xr.Dataset) -> None:
    ex = OccurrenceExplorer(product, cells=cells, mlt=5.2)
    assert ex.mlt_slider.value == 5
    assert [v for _, v in ex.detector_toggle.options] == ["fcn", "difference", "ratio"]
    ex.detector_toggle.value = "difference"
    expected = product["occurrence_rate"].sel({"detector": "difference"}).isel(mlt=5).values
    np.testing.assert_allclose(_shown_values(ex), expected[np.isfinite(expected)])
    assert ex.range_slider.description == "rate"
    rate_range = ex.range_slider.value

    draws = ex.draw_count
    ex.detector_toggle.value = "ratio"
    assert ex.last_error is None, ex.status.value
    assert ex.draw_count == draws + 1  # the range update and the toggle draw once
    assert ex.range_slider.description == "log₁₀ ratio"
    lo, hi = ex.range_slider.value
    assert lo == pytest.approx(-hi)
    ratio = product["rate_ratio"].isel(mlt=5).values
    np.testing.assert_allclose(_shown_values(ex), ratio[np.isfinite(ratio)])
    coll = next(c for c in _fig(ex).axes[0].collections if c.get_gid() == "cells")
    assert isinstance(coll.norm, LogNorm)
    assert coll.norm.vmin == pytest.approx(10.0**lo)
    assert _fig(ex).axes[0].get_title() == "FCN / difference · MLT 05–06"

    ex.detector_toggle.value = "fcn"  # the rate range comes back
    assert ex.range_slider.value == rate_range
    assert ex.range_slider.description == "rate"


def test_explorer_colour_range(product: xr.Dataset, cells: xr.Dataset) -> None:
    ex = OccurrenceExplorer(product, cells=cells)
    top = float(np.nanmax(product["occurrence_rate"].values))
    assert ex.range_slider.value == (0.0, pytest.approx(np.ceil(top * 100) / 100))
    ex.range_slider.value = (0.1, 0.4)
    coll = next(c for c in _fig(ex).axes[0].collections if c.get_gid() == "cells")
    assert (coll.norm.vmin, coll.norm.vmax) == (pytest.approx(0.1), pytest.approx(0.4))


def test_explorer_year_and_season(cells: xr.Dataset) -> None:
    by_year = _map(_detections(4), "fcn", by="year")
    assert list(by_year["year"].values) == [2019, 2020]
    ex = OccurrenceExplorer(by_year, cells=cells, mlt=3)
    assert ex.season_dropdown is None
    assert ex.year_dropdown is not None
    assert ex.detector_toggle.disabled  # a single detector
    assert ex.selection == {"year": 2019}
    ex.year_dropdown.value = 2020
    expected = by_year["occurrence_rate"].sel(year=2020).isel(mlt=3).values
    np.testing.assert_allclose(_shown_values(ex), expected[np.isfinite(expected)])

    by_season = _map(_detections(5), "fcn", by="season")
    ex = OccurrenceExplorer(by_season, cells=cells)
    assert ex.season_dropdown is not None
    assert [v for _, v in ex.season_dropdown.options] == [
        str(s) for s in by_season["season"].values
    ]


def test_explorer_export_png_and_netcdf(
    product: xr.Dataset, cells: xr.Dataset, tmp_path: Any
) -> None:
    ex = OccurrenceExplorer(product, cells=cells, export_path=tmp_path / "maps" / "x.png")
    ex.mlt_slider.value = 9
    ex.detector_toggle.value = "difference"
    ex.png_button.click()
    ex.netcdf_button.click()
    png, nc = tmp_path / "maps" / "x.png", tmp_path / "maps" / "x.nc"
    assert "saved" in ex.status.value, ex.status.value
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert _png_size(png.read_bytes())[0] >= _png_size(bytes(ex.image.value))[0]

    shown = ex.shown_product()
    assert dict(shown.sizes) == {"detector": 1, "mlt": 1, "cell": N_CELLS, "nv": 2}
    assert set(shown.data_vars) == {"occurrence_rate", "n_aurora", "n_observed"}
    assert shown.attrs["shown"] == "difference, MLT 09–10"
    reopened = aurora_xr.open_product(nc)
    expected = prepare_product(shown)
    history = reopened.attrs.pop("history")
    assert history.startswith(expected.attrs.pop("history", ""))
    xr.testing.assert_identical(reopened, expected)
    np.testing.assert_array_equal(
        reopened["occurrence_rate"].values[0, 0],
        product["occurrence_rate"].sel({"detector": "difference"}).isel(mlt=9).values,
    )

    ex.detector_toggle.value = "ratio"
    out = ex.export_netcdf(tmp_path / "ratio")
    assert out == tmp_path / "ratio.nc"
    ratio = aurora_xr.open_product(out)
    assert list(ratio.data_vars) == ["rate_ratio"]
    np.testing.assert_array_equal(
        ratio["rate_ratio"].values[0], product["rate_ratio"].isel(mlt=9).values
    )

    ex.path_text.value = ""
    ex.png_button.click()
    assert "export failed" in ex.status.value
    assert isinstance(ex.last_error, OptionError)


def test_explorer_shows_redraw_errors_and_keeps_the_figure(
    product: xr.Dataset, cells: xr.Dataset
) -> None:
    with pytest.raises(MissingVariableError, match="vertices"):
        OccurrenceExplorer(product)  # no cell geometry: the first figure fails loudly
    ex = OccurrenceExplorer(product, cells=cells)
    shown, draws, png = ex.figure, ex.draw_count, bytes(ex.image.value)
    ex.cells = None
    ex.mlt_slider.value = 4  # from a control: the error is shown, nothing raises
    assert isinstance(ex.last_error, MissingVariableError)
    assert "MissingVariableError" in ex.status.value
    assert (ex.figure, ex.draw_count, bytes(ex.image.value)) == (shown, draws, png)
    ex.cells = cells
    ex.mlt_slider.value = 5
    assert ex.last_error is None
    assert ex.status.value == ""
    assert ex.draw_count == draws + 1


def test_explorer_on_a_product_that_carries_its_cells(cells: xr.Dataset, tmp_path: Any) -> None:
    times = pd.date_range("2020-01-01T00:00", periods=24 * 4, freq="15min")
    det = xr.DataArray(
        _detections(6)[: times.size], dims=("time", "cell"), coords={"time": times.values}
    )
    occ = aurora_xr.occurrence_map(det, mlt=np.arange(times.size) / 4.0, cells=cells)
    assert "cell_vertices_elevation" in occ.coords
    ex = OccurrenceExplorer(occ, mlt=2.5)  # no cells= needed
    expected = occ["occurrence_rate"].isel(mlt=2).values
    np.testing.assert_allclose(_shown_values(ex), expected[np.isfinite(expected)])
    path = ex.export_netcdf(tmp_path / "map")
    again = aurora_xr.open_product(path)
    assert again["cell_vertices_elevation"].dims == ("cell", "vertex")
    np.testing.assert_allclose(again["cell_vertices_elevation"], cells["cell_vertices_elevation"])
    assert OccurrenceExplorer(again).last_error is None  # the exported map draws on its own


def test_explorer_bad_input(product: xr.Dataset) -> None:
    with pytest.raises(MissingVariableError, match="occurrence_rate"):
        OccurrenceExplorer(product.drop_vars("occurrence_rate"))
    with pytest.raises(OptionError, match="truth"):
        OccurrenceExplorer(product, detector="truth")
    with pytest.raises(AuroraXrError):
        OccurrenceExplorer(product["occurrence_rate"])  # type: ignore[arg-type]


# -- MethodComparison ------------------------------------------------------------------
def test_method_comparison_slider_and_scores(product: xr.Dataset, cells: xr.Dataset) -> None:
    forms = ["all", "dynamic", "stationary"]
    scores = {
        s: xr.DataArray(
            np.arange(6, dtype=np.float32).reshape(2, 3) / 10 + k,
            dims=("detector", "form"),
            coords={"detector": ["fcn", "difference"], "form": forms},
        )
        for k, s in enumerate(("precision", "recall", "f1"))
    }
    cmp = product.assign(scores)
    mc = MethodComparison(cmp, cells=cells, mlt=12)
    assert mc.last_error is None, mc.status.value
    assert mc.readout.value == "<b>MLT 12–13</b>"
    assert len(_fig(mc).axes) >= 3
    before = bytes(mc.image.value)
    mc.mlt_slider.value = 13
    assert mc.readout.value == "<b>MLT 13–14</b>"
    assert bytes(mc.image.value) != before
    assert _fig(mc).get_suptitle() == "MLT 13–14"
    assert mc.scores is not None
    assert mc.scores.loc["difference", ("recall", "stationary")] == pytest.approx(1.5)
    assert mc.scores.loc["fcn", ("f1", "all")] == pytest.approx(2.0)
    assert "recall" in mc.table.value
    assert "stationary" in mc.table.value

    plain = MethodComparison(product, cells=cells)
    assert plain.scores is None
    assert "no truth" in plain.table.value


# -- SkyBrowser ------------------------------------------------------------------------
def _gids(view: Any) -> set[str]:
    ax = _fig(view).axes[0]
    return {str(a.get_gid()) for a in [*ax.images, *ax.collections] if a.get_gid()}


def test_sky_browser_slider_play_and_date_picker(
    cube: xr.Dataset, cells: xr.Dataset, difference: xr.Dataset
) -> None:
    sb = SkyBrowser(cube, cells=cells, difference=difference)
    assert sb.last_error is None, sb.status.value
    assert sb.readout.value == "<b>2020-06-21 06:00:00 UT</b> &middot; frame 1 / 8"
    assert sb.date_picker.value == dt.datetime(2020, 6, 21, 6, 0)
    assert {"sky_image", "fcn_mask", "cell_grid", "difference_cells"} <= _gids(sb)
    first = bytes(sb.image.value)

    sb.time_slider.value = 3
    assert sb.readout.value == "<b>2020-06-21 06:06:00 UT</b> &middot; frame 4 / 8"
    assert sb.date_picker.value == dt.datetime(2020, 6, 21, 6, 6)
    assert bytes(sb.image.value) != first
    assert "06:06:00" in _fig(sb).axes[0].get_title()

    sb.play.value = 5  # the player drives the slider
    assert sb.time_slider.value == 5
    assert sb.time == pd.Timestamp("2020-06-21T06:10")

    sb.date_picker.value = dt.datetime(2020, 6, 21, 6, 3, 10)  # nearest frame: 06:04
    assert sb.index == 2
    assert sb.readout.value.startswith("<b>2020-06-21 06:04:00 UT")
    sb.show("2030-01-01")  # after the last frame: the last one
    assert sb.index == 7
    with pytest.raises(OptionError, match="out of range"):
        sb.show(8)


def test_sky_browser_overlays_and_contrast(
    cube: xr.Dataset, cells: xr.Dataset, difference: xr.Dataset
) -> None:
    sb = SkyBrowser(cube, cells=cells, difference=difference, time=4)
    sb.fcn_toggle.value = False
    assert "fcn_mask" not in _gids(sb)
    sb.difference_toggle.value = False
    assert "difference_cells" not in _gids(sb)
    assert "cell_grid" in _gids(sb)  # the faint grid stays for orientation
    lines = len(_fig(sb).axes[0].lines) + len(_fig(sb).axes[0].patches)
    sb.circles_toggle.value = False
    assert len(_fig(sb).axes[0].lines) + len(_fig(sb).axes[0].patches) < lines

    def sky_mean() -> float:
        img = next(i for i in _fig(sb).axes[0].images if i.get_gid() == "sky_image")
        rgba = np.asarray(img.get_array())
        return float(rgba[..., :3][rgba[..., 3] > 0].mean())

    dim = sky_mean()
    sb.contrast_slider.value = 4.0
    assert 3.0 * dim < sky_mean() <= 4.0 * dim + 1e-6  # gain 4, a few pixels clip at 1


def test_sky_browser_segments_only_the_frame_shown(cube: xr.Dataset) -> None:
    raw = cube.drop_vars(["aurora_mask", "aurora_probability"])
    plain = SkyBrowser(raw)
    assert plain.fcn_toggle.disabled
    assert not plain.fcn_toggle.value
    assert plain.difference_toggle.disabled
    sb = SkyBrowser(raw, model=ChannelThresholdPredictor(low=30.0, high=60.0))
    assert not sb.fcn_toggle.disabled
    sb.fcn_toggle.value = True
    assert "fcn_mask" in _gids(sb)
    mask = next(i for i in _fig(sb).axes[0].images if i.get_gid() == "fcn_mask")
    assert np.asarray(mask.get_array())[..., 3].max() > 0


def test_sky_browser_bad_input(cube: xr.Dataset, difference: xr.Dataset) -> None:
    with pytest.raises(MissingVariableError, match="image"):
        SkyBrowser(cube.drop_vars("image"))
    bare = difference.drop_vars([c for c in difference.coords if str(c).startswith("cell_")])
    with pytest.raises(OptionError, match="cells="):
        SkyBrowser(cube, difference=bare)
    with pytest.raises(OptionError, match="contrast"):
        SkyBrowser(cube, contrast=0.0)


def test_sky_browser_on_a_real_skymap_cube() -> None:
    from aurora_xr.sky.resample import magnetic_view_indices
    from tests.plot.skymap_cubes import gakona_cube, gakona_skymap

    cube = gakona_cube(3)  # THEMIS Gakona frames on the operator's skymap, one 16-bit band
    sb = SkyBrowser(cube, north_azimuth=21.7)
    assert sb.context.calibration is not None
    assert sb.context.calibration.kind == "skymap"
    assert sb.last_error is None, sb.status.value
    index = magnetic_view_indices(gakona_skymap(), 21.7)
    shown = []
    for k in (1, 2):
        sb.time_slider.value = k
        assert sb.last_error is None, sb.status.value
        img = next(i for i in _fig(sb).axes[0].images if i.get_gid() == "sky_image")
        rgba = np.asarray(img.get_array())
        assert rgba.shape[:2] == index.shape
        np.testing.assert_array_equal(rgba[..., 3] > 0, index >= 0)
        np.testing.assert_array_equal(rgba[..., 0], rgba[..., 2])  # a single band: grey
        shown.append(rgba)
        assert cube["time"].dt.strftime("%H:%M:%S").values[k] in _fig(sb).axes[0].get_title()
    assert not np.array_equal(shown[0], shown[1])
    assert sb.draw_count == 3


def test_widgets_do_not_leak_figures(product: xr.Dataset, cells: xr.Dataset) -> None:
    before = set(plt.get_fignums())
    mc = MethodComparison(product, cells=cells)  # plot_comparison makes pyplot figures
    for k in range(2):
        mc.mlt_slider.value = k + 1
    ex = OccurrenceExplorer(product, cells=cells)
    for k in range(3):
        ex.mlt_slider.value = k + 1
    assert set(plt.get_fignums()) == before
    bundle = ex._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == ex.widget.model_id
    ex.close()
    assert ex.figure is None
    assert ex.widget.comm is None
    assert ex.mlt_slider.comm is None


# -- laziness on a multi-year cube -----------------------------------------------------
class _CountingArray(BackendArray):
    """A lazily indexed on-disk-like array that records what is read."""

    def __init__(self, shape: tuple[int, ...], dtype: Any, fill: Any, reads: list[Any]) -> None:
        self.shape = shape
        self.dtype = np.dtype(dtype)
        self.fill = fill
        self.reads = reads

    def __getitem__(self, key: Any) -> Any:
        return indexing.explicit_indexing_adapter(
            key, self.shape, indexing.IndexingSupport.BASIC, self._read
        )

    def _read(self, key: tuple[Any, ...]) -> np.ndarray:
        shape = tuple(
            len(range(*k.indices(n)))
            for k, n in zip(key, self.shape, strict=True)
            if isinstance(k, slice)
        )
        self.reads.append(shape)
        return np.full(shape, self.fill, dtype=self.dtype)


def _lazy(
    dims: tuple[str, ...], shape: tuple[int, ...], dtype: Any, fill: Any, reads: list[Any]
) -> xr.Variable:
    return xr.Variable(dims, indexing.LazilyIndexedArray(_CountingArray(shape, dtype, fill, reads)))


def test_sky_browser_computes_only_the_frame_shown_on_a_multi_year_cube(
    cells: xr.Dataset, cube: xr.Dataset
) -> None:
    times = pd.date_range("2018-01-01", "2020-12-31T23:59", freq="1min")
    n = times.size  # 1.58 million frames, one-day chunks
    reads: dict[str, list[Any]] = {"image": [], "mask": [], "difference": []}
    big = xr.Dataset(
        {
            "image": _lazy(
                ("time", "y", "x", "channel"), (n, SIZE, SIZE, 3), np.uint8, 40, reads["image"]
            ),
            "aurora_mask": _lazy(("time", "y", "x"), (n, SIZE, SIZE), bool, True, reads["mask"]),
        },
        coords={
            "time": times.values,
            "channel": ["R", "G", "B"],
            "elevation": cube["elevation"],
            "azimuth": cube["azimuth"],
        },
        attrs=cube.attrs,
    ).chunk({"time": 1440})
    detections = xr.Dataset(
        {
            "difference_detection": _lazy(
                ("time", "cell"), (n, N_CELLS), bool, True, reads["difference"]
            ),
        },
        coords={"time": times.values},
    ).chunk({"time": 1440})
    assert big["image"].data.npartitions == 1096

    moves = [1, 500_000, 500_001, 1_578_239]
    with raise_if_dask_computes(max_computes=len(moves) + 2) as scheduler:
        sb = SkyBrowser(big, cells=cells, difference=detections, time="2019-07-01T12:00")
        assert sb.time == pd.Timestamp("2019-07-01T12:00")
        for m in moves:
            sb.time_slider.value = m
        sb.date_picker.value = dt.datetime(2020, 2, 29, 23, 59, 40)
    assert sb.last_error is None, sb.status.value
    assert sb.time == pd.Timestamp("2020-03-01T00:00")
    redraws = len(moves) + 2
    assert scheduler.total_computes == redraws  # one dask compute per frame shown
    assert reads["image"] == [(SIZE, SIZE, 3)] * redraws  # one frame read each time
    assert reads["mask"] == [(SIZE, SIZE)] * redraws
    assert reads["difference"] == [(N_CELLS,)] * redraws


def test_import_aurora_xr_loads_no_widgets() -> None:
    code = (
        "import sys, aurora_xr; "
        "print(sorted(m for m in ('ipywidgets', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
