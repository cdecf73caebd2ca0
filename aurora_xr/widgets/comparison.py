"""``MethodComparison``: the FCN and the difference method side by side."""

from __future__ import annotations

import html
from collections.abc import Hashable
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure

from .. import plot
from ..errors import MissingDimensionError, MissingVariableError, SchemaError
from ._base import FigureView, extra_selectors, hour_label, mlt_edges, mlt_slider

__all__ = ["MethodComparison"]

SCORES = ("precision", "recall", "f1")


class MethodComparison(FigureView):
    """FCN rate, difference-method rate and their ratio for one MLT bin.

    The figure is :func:`aurora_xr.plot.plot_comparison`; below it a table of
    the overall rates and, when the comparison was made against a truth, the
    cell-level precision, recall and F1 of each detector for all, dynamic and
    stationary forms.

    Parameters
    ----------
    cmp : xarray.Dataset
        Output of :func:`aurora_xr.compare_methods` (a lazy one is computed once, here).
    cells : xarray.Dataset, optional
        Cell grid, when the comparison carries no cell vertex coordinates.
    mlt : float, optional
        Any hour inside the bin shown first.
    detectors : (str, str)
        The two detectors, numerator of the ratio first.
    dpi : float
        Resolution of the image shown.
    mlt_dim, detector_dim, cell_dim : hashable
        Dimension names.

    Attributes
    ----------
    mlt_slider : ipywidgets.IntSlider
        Position of the MLT bin shown.
    readout : ipywidgets.HTML
        The bin shown, e.g. ``MLT 07–08``.
    selectors : dict of ipywidgets.Dropdown
        One per further dimension (``year``, ``season``).
    table : ipywidgets.HTML
        Overall rates and, with truth, precision / recall / F1.
    scores : pandas.DataFrame or None
        The precision / recall / F1 table (rows: detector, columns: score and form).
    figure, image, status, widget, draw_count, last_error
        See :class:`~aurora_xr.widgets.FigureView`.
    """

    def __init__(
        self,
        cmp: xr.Dataset,
        *,
        cells: xr.Dataset | None = None,
        mlt: float | None = None,
        detectors: tuple[str, str] = ("fcn", "difference"),
        ratio_var: Hashable = "rate_ratio",
        dpi: float = 80.0,
        mlt_dim: Hashable = "mlt",
        detector_dim: Hashable = "detector",
        cell_dim: Hashable = "cell",
    ) -> None:
        super().__init__(dpi=dpi)
        if not isinstance(cmp, xr.Dataset):
            raise SchemaError(f"expected a comparison Dataset; found {type(cmp).__name__}")
        for name in ("occurrence_rate", ratio_var):
            if name not in cmp.data_vars:
                raise MissingVariableError(
                    f"expected {name!r} in the comparison (from aurora_xr.compare_methods); "
                    f"found {', '.join(map(str, cmp.data_vars)) or 'no variables'}"
                )
        if mlt_dim not in cmp[ratio_var].dims:
            raise MissingDimensionError(
                f"expected {ratio_var!r} on a {mlt_dim!r} dim; found {tuple(cmp[ratio_var].dims)}"
            )
        self.product = cmp.compute()
        self.cells = cells
        self.detectors = detectors
        self.ratio_var = ratio_var
        self.mlt_dim, self.detector_dim, self.cell_dim = mlt_dim, detector_dim, cell_dim
        self._edges = mlt_edges(self.product, mlt_dim)
        self.mlt_slider = mlt_slider(self.product, self._edges, mlt, mlt_dim)
        self.readout = widgets.HTML(value="")
        self.selectors = extra_selectors(
            self.product["occurrence_rate"], (detector_dim, mlt_dim, cell_dim)
        )
        self.scores = self._scores()
        self.table = widgets.HTML(value=self._table_html())
        self._update_readout()
        self.mlt_slider.observe(self._on_mlt, names="value")
        for w in self.selectors.values():
            w.observe(self._on_change, names="value")
        self._build(widgets.HBox([self.mlt_slider, self.readout, *self.selectors.values()]))
        self.widget.children = (*self.widget.children, self.table)
        self.redraw()  # a first figure that cannot be drawn is an error here

    @property
    def mlt(self) -> float:
        """Centre (hours) of the MLT bin shown."""
        return float(self.product[self.mlt_dim].values[int(self.mlt_slider.value)])

    @property
    def mlt_label(self) -> str:
        """``MLT 07–08`` for the bin shown."""
        lo, hi = self._edges[int(self.mlt_slider.value)]
        return f"MLT {hour_label(lo % 24.0)}–{hour_label(hi if hi <= 24.0 else hi % 24.0)}"

    def _on_mlt(self, change: Any = None) -> None:
        self._update_readout()
        self._on_change()

    def _update_readout(self) -> None:
        self.readout.value = f"<b>{self.mlt_label}</b>"

    def _draw(self) -> Figure:
        sel = {dim: w.value for dim, w in self.selectors.items()} or None
        return plot.plot_comparison(
            self.product,
            mlt=self.mlt,
            detectors=self.detectors,
            ratio_var=self.ratio_var,
            sel=sel,
            cells=self.cells,
            mlt_dim=self.mlt_dim,
            detector_dim=self.detector_dim,
            cell_dim=self.cell_dim,
        )

    def _scores(self) -> pd.DataFrame | None:
        p = self.product
        if not all(s in p.data_vars for s in SCORES):
            return None
        parts = {}
        for s in SCORES:
            da = p[s]
            if "form" in da.dims:
                df = da.to_pandas()
                if isinstance(df, pd.Series):
                    df = df.to_frame()
                if self.detector_dim not in da.dims:
                    df = df.T
                parts[s] = df
            else:
                parts[s] = da.to_pandas().to_frame(name="all")
        table = pd.concat(parts, axis=1)
        table.index.name = str(self.detector_dim)
        return table

    def _table_html(self) -> str:
        p = self.product
        rows = []
        if "overall_rate" in p.data_vars and self.detector_dim in p["overall_rate"].dims:
            rates = ", ".join(
                f"{html.escape(str(m))} {float(v):.3f}"
                for m, v in zip(
                    p[self.detector_dim].values,
                    np.atleast_1d(p["overall_rate"].values),
                    strict=True,
                )
            )
            ratio = ""
            if "overall_rate_ratio" in p.data_vars:
                ratio = f" &middot; FCN / difference {float(p['overall_rate_ratio']):.2f}"
            rows.append(f"<p>overall occurrence rate: {rates}{ratio}</p>")
        if self.scores is not None:
            rows.append("<p>cell-level scores against the truth (compared frames):</p>")
            rows.append(
                self.scores.to_html(
                    float_format=lambda v: f"{v:.3f}",
                    na_rep="–",
                    border=0,
                    classes="aurora-xr-scores",
                )
            )
        else:
            rows.append("<p><i>no truth in the comparison: no precision / recall / F1</i></p>")
        return "".join(rows)
