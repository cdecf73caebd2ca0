"""``OccurrenceExplorer``: slide through the MLT maps of an occurrence product."""

from __future__ import annotations

import html
import os
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import numpy as np
import xarray as xr
from matplotlib.colors import Colormap, LogNorm
from matplotlib.figure import Figure

from .. import plot
from ..errors import MissingDimensionError, MissingVariableError, OptionError, SchemaError
from ..io.products import to_netcdf
from ._base import FigureView, extra_selectors, hour_label, mlt_edges, mlt_slider

__all__ = ["RATIO", "OccurrenceExplorer"]

RATIO = "ratio"
"""Value of the detector toggle that shows ``rate_ratio`` (FCN / difference)."""

_DETECTOR_LABELS = {"fcn": "FCN", "difference": "difference", "truth": "truth", RATIO: "ratio"}


def _finite(values: Any) -> np.ndarray:
    arr = np.asarray(values, dtype=float).ravel()
    return arr[np.isfinite(arr)]


class OccurrenceExplorer(FigureView):
    """Explore an occurrence product one MLT bin at a time.

    An MLT slider (its readout says e.g. "MLT 07–08"), a toggle between the
    product's detectors (plus "ratio" when it holds ``rate_ratio``, i.e. the
    output of :func:`aurora_xr.compare_methods`), a dropdown for each further
    dimension (``year``, ``season``), a colour range and the export of the map
    shown to PNG and to CF NetCDF (through :func:`aurora_xr.to_netcdf`). The
    figure is :func:`aurora_xr.plot.plot_occurrence`.

    Parameters
    ----------
    occ : xarray.Dataset
        Output of :func:`aurora_xr.occurrence_map` or
        :func:`aurora_xr.compare_methods` (a lazy product is computed once, here).
    cells : xarray.Dataset, optional
        Cell grid, when the product carries no cell vertex coordinates.
    detector : str, optional
        Detector shown first (default the first of the product, "fcn" if present).
    mlt : float, optional
        Any hour inside the bin shown first (default the first bin).
    variable : hashable
        Rate variable to show.
    cmap, ratio_cmap : str or Colormap
        Colour maps of the rates and of the ratio.
    figsize : (float, float)
        Figure size in inches.
    dpi : float
        Resolution of the image shown.
    export_path : str or path-like, optional
        Initial text of the export path box (no suffix: ``.png`` / ``.nc`` are added).
    mlt_dim, detector_dim, cell_dim : hashable
        Dimension names.

    Attributes
    ----------
    mlt_slider : ipywidgets.IntSlider
        Position of the MLT bin shown (0..23 for hourly bins).
    readout : ipywidgets.HTML
        The bin shown, e.g. ``MLT 07–08``.
    detector_toggle : ipywidgets.ToggleButtons
        The detector shown, or ``"ratio"``.
    selectors : dict of ipywidgets.Dropdown
        One per further dimension; ``year_dropdown`` and ``season_dropdown``
        are those of ``year`` and ``season`` (None when absent).
    range_slider : ipywidgets.FloatRangeSlider
        Colour range: rate, or log10 of the ratio.
    path_text : ipywidgets.Text
        Export path (a ``.png`` or ``.nc`` suffix is replaced per format).
    png_button, netcdf_button : ipywidgets.Button
        Export the map shown.
    product : xarray.Dataset
        The product, in memory.
    figure, image, status, widget, draw_count, last_error
        See :class:`~aurora_xr.widgets.FigureView`.
    """

    def __init__(
        self,
        occ: xr.Dataset,
        *,
        cells: xr.Dataset | None = None,
        detector: str | None = None,
        mlt: float | None = None,
        variable: Hashable = "occurrence_rate",
        ratio_var: Hashable = "rate_ratio",
        cmap: str | Colormap = "viridis",
        ratio_cmap: str | Colormap = "RdBu_r",
        figsize: tuple[float, float] = (5.4, 4.6),
        dpi: float = 100.0,
        export_path: str | os.PathLike[str] | None = None,
        mlt_dim: Hashable = "mlt",
        detector_dim: Hashable = "detector",
        cell_dim: Hashable = "cell",
    ) -> None:
        super().__init__(dpi=dpi)
        if not isinstance(occ, xr.Dataset):
            raise SchemaError(f"expected an occurrence Dataset; found {type(occ).__name__}")
        if variable not in occ.data_vars:
            raise MissingVariableError(
                f"expected a variable {variable!r} in the occurrence product; found "
                f"{', '.join(map(str, occ.data_vars)) or 'no variables'}"
            )
        rate = occ[variable]
        if mlt_dim not in rate.dims or cell_dim not in rate.dims:
            raise MissingDimensionError(
                f"expected {variable!r} on ({mlt_dim!r}, {cell_dim!r}); found {tuple(rate.dims)}"
            )
        self.product = occ.compute()
        self.cells = cells
        self.variable = variable
        self.ratio_var = ratio_var
        self.cmap = cmap
        self.ratio_cmap = ratio_cmap
        self.figsize = figsize
        self.mlt_dim, self.detector_dim, self.cell_dim = mlt_dim, detector_dim, cell_dim
        rate = self.product[variable]

        # detectors and ratio
        if detector_dim in rate.dims:
            detectors = [str(m) for m in rate[detector_dim].values]
        else:
            detectors = [str(self.product.attrs.get("detector", "")) or str(variable)]
        self._has_detector_dim = detector_dim in rate.dims
        options = list(detectors)
        if ratio_var in self.product.data_vars:
            options.append(RATIO)
        if detector is None:
            detector = "fcn" if "fcn" in options else options[0]
        if detector not in options:
            raise OptionError(f"detector {detector!r} not in the product; it has {options}")
        self.detector_toggle = widgets.ToggleButtons(
            options=[(_DETECTOR_LABELS.get(m, m), m) for m in options],
            value=detector,
            description="show",
            style={"button_width": "92px", "description_width": "40px"},
            disabled=len(options) == 1,
        )

        # MLT
        self._edges = mlt_edges(self.product, mlt_dim)
        self.mlt_slider = mlt_slider(self.product, self._edges, mlt, mlt_dim)
        self.readout = widgets.HTML(value="")

        # year, season, ...
        self.selectors = extra_selectors(rate, (detector_dim, mlt_dim, cell_dim))
        self.year_dropdown = self.selectors.get("year")
        self.season_dropdown = self.selectors.get("season")

        # colour range, remembered per mode (rate / ratio)
        self._ranges: dict[str, tuple[float, float]] = {}
        self.range_slider = widgets.FloatRangeSlider(
            value=(0.0, 1.0),
            min=0.0,
            max=1.0,
            step=0.01,
            description="colours",
            continuous_update=False,
            readout_format=".2f",
            layout=widgets.Layout(width="420px"),
        )

        # export
        default_path = export_path if export_path is not None else "occurrence_map"
        self.path_text = widgets.Text(
            value=str(default_path), description="export to", layout=widgets.Layout(width="360px")
        )
        self.png_button = widgets.Button(
            description="PNG", icon="download", tooltip="save the map shown as PNG"
        )
        self.netcdf_button = widgets.Button(
            description="NetCDF", icon="download", tooltip="save the map shown as CF NetCDF"
        )
        self.png_button.on_click(lambda _: self._export(self.export_png))
        self.netcdf_button.on_click(lambda _: self._export(self.export_netcdf))

        self._set_range_for_mode()
        self._update_readout()
        self.mlt_slider.observe(self._on_mlt, names="value")
        self.detector_toggle.observe(self._on_mode, names="value")
        for w in (*self.selectors.values(), self.range_slider):
            w.observe(self._on_change, names="value")
        rows: list[widgets.Widget] = [
            widgets.HBox([self.mlt_slider, self.readout]),
            widgets.HBox([self.detector_toggle, *self.selectors.values()]),
            self.range_slider,
        ]
        self._build(*rows)
        self.widget.children = (
            *self.widget.children[:-1],
            widgets.HBox([self.path_text, self.png_button, self.netcdf_button]),
            self.status,
        )
        self.redraw()  # a first figure that cannot be drawn is an error here

    # -- state ---------------------------------------------------------------------------
    @property
    def mlt(self) -> float:
        """Centre (hours) of the MLT bin shown."""
        return float(self.product[self.mlt_dim].values[int(self.mlt_slider.value)])

    @property
    def mlt_label(self) -> str:
        """``MLT 07–08`` for the bin shown."""
        lo, hi = self._edges[int(self.mlt_slider.value)]
        return f"MLT {hour_label(lo % 24.0)}–{hour_label(hi if hi <= 24.0 else hi % 24.0)}"

    @property
    def detector(self) -> str:
        """The detector shown, or ``"ratio"``."""
        return str(self.detector_toggle.value)

    @property
    def selection(self) -> dict[Hashable, Any]:
        """Values of the further dimensions shown (``{"year": 2020}`` ...)."""
        return {dim: w.value for dim, w in self.selectors.items()}

    def _on_mlt(self, change: Any = None) -> None:
        self._update_readout()
        self._on_change()

    def _update_readout(self) -> None:
        self.readout.value = f"<b>{self.mlt_label}</b>"

    def _on_mode(self, change: Any) -> None:
        self._ranges[self._mode(change["old"])] = tuple(self.range_slider.value)
        with self.hold():
            self._set_range_for_mode()

    @staticmethod
    def _mode(detector: str) -> str:
        return RATIO if detector == RATIO else "rate"

    def _set_range_for_mode(self) -> None:
        mode = self._mode(self.detector)
        if mode == RATIO:
            values = _finite(self.product[self.ratio_var].values)
            values = values[values > 0]
            span = float(np.max(np.abs(np.log10(values)))) if values.size else 1.0
            span = float(np.clip(np.ceil(span * 10.0) / 10.0, 0.3, 3.0))
            bounds, default, step, label = (-3.0, 3.0), (-span, span), 0.05, "log₁₀ ratio"
        else:
            values = _finite(self.product[self.variable].values)
            top = float(values.max()) if values.size else 1.0
            upper = max(1.0, float(np.ceil(top))) if top > 1.0 else 1.0
            nice = float(np.ceil(top * 100.0) / 100.0) if top > 0 else 1.0
            bounds, default, step, label = (0.0, upper), (0.0, nice), 0.01, "rate"
        value = self._ranges.get(mode, default)
        slider = self.range_slider
        # widen first so that the new value is never clipped by the old bounds
        slider.min, slider.max = min(bounds[0], slider.min), max(bounds[1], slider.max)
        slider.value = value
        slider.min, slider.max = bounds
        slider.step = step
        slider.description = label

    # -- drawing -------------------------------------------------------------------------
    def _draw(self) -> Figure:
        fig = Figure(figsize=self.figsize, layout="constrained")
        ax = fig.add_subplot()
        lo, hi = (float(v) for v in self.range_slider.value)
        sel = self.selection or None
        if self.detector == RATIO:
            sel = {k: v for k, v in (sel or {}).items() if k in self.product[self.ratio_var].dims}
            plot.plot_occurrence(
                self.product,
                mlt=self.mlt,
                variable=self.ratio_var,
                sel=sel or None,
                cells=self.cells,
                ax=ax,
                norm=LogNorm(vmin=10.0**lo, vmax=10.0**hi),
                cmap=self._ratio_colormap(),
                title=f"FCN / difference · {self.mlt_label}",
                mlt_dim=self.mlt_dim,
                detector_dim=self.detector_dim,
                cell_dim=self.cell_dim,
            )
        else:
            plot.plot_occurrence(
                self.product,
                mlt=self.mlt,
                detector=self.detector if self._has_detector_dim else None,
                variable=self.variable,
                sel=sel,
                cells=self.cells,
                ax=ax,
                vmin=lo,
                vmax=hi if hi > lo else None,
                cmap=self.cmap,
                mlt_dim=self.mlt_dim,
                detector_dim=self.detector_dim,
                cell_dim=self.cell_dim,
            )
        return fig

    def _ratio_colormap(self) -> Colormap:
        """The ratio colour map; a ratio of 0 (FCN none, difference some), which a
        logarithmic scale cannot place, takes the colour of the lowest ratios."""
        import matplotlib as mpl

        base = (
            mpl.colormaps[self.ratio_cmap]
            if isinstance(self.ratio_cmap, str)
            else (self.ratio_cmap)
        )
        return base.with_extremes(bad=base(0.0))

    # -- export --------------------------------------------------------------------------
    def shown_product(self) -> xr.Dataset:
        """The map shown as a product: the variables of the detector (or the ratio) on
        a length-1 ``mlt`` dim (and length-1 ``detector``, year, season dims), with
        their coordinates and the product's attributes."""
        p = self.product
        i = int(self.mlt_slider.value)
        if self.detector == RATIO:
            names = [self.ratio_var]
        else:
            dims = set(p[self.variable].dims)
            names = [n for n, v in p.data_vars.items() if set(v.dims) == dims]
        out = p[names]
        # coordinates on the selected dims, and on dims that only coordinates use
        # (MLT bin bounds, cell vertices); not e.g. the frame times of a comparison
        used = {d for v in p.data_vars.values() for d in v.dims}
        allowed = set(out.dims) | (set(p.dims) - used)
        extra = [
            n
            for n, c in p.coords.items()
            if n not in out.coords and set(c.dims) & set(out.dims) and set(c.dims) <= allowed
        ]
        out = out.assign_coords({n: p.coords[n] for n in extra}).isel({self.mlt_dim: [i]})
        if self._has_detector_dim and self.detector != RATIO:
            out = out.sel({self.detector_dim: [self.detector]})
        for dim, value in self.selection.items():
            if dim in out.dims:
                out = out.sel({dim: [value]})
        out.attrs = dict(p.attrs)
        out.attrs["shown"] = (
            f"{_DETECTOR_LABELS.get(self.detector, self.detector)}, {self.mlt_label}"
        )
        return out

    def _path(self, path: str | os.PathLike[str] | None, suffix: str) -> Path:
        text = str(path) if path is not None else self.path_text.value.strip()
        if not text:
            raise OptionError("expected a file path in the export box; found nothing")
        target = Path(text).expanduser()
        if target.suffix.lower() in (".png", ".nc"):
            target = target.with_suffix("")
        return target.with_name(target.name + suffix)

    def export_png(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Save the figure shown as PNG (``path`` or the export box, ``.png`` added)."""
        target = self._path(path, ".png")
        if self.figure is None:
            self.redraw()
        assert self.figure is not None
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        self.figure.savefig(tmp, format="png", dpi=max(self.dpi, 150.0))
        os.replace(tmp, target)
        return target

    def export_netcdf(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Save :meth:`shown_product` as CF NetCDF-4 with :func:`aurora_xr.to_netcdf`."""
        target = self._path(path, ".nc")
        target.parent.mkdir(parents=True, exist_ok=True)
        return to_netcdf(self.shown_product(), target)

    def _export(self, writer: Any) -> None:
        try:
            written = writer()
        except Exception as exc:  # shown to the user
            self.last_error = exc
            self.status.value = (
                f'<span style="color:#b00020">⚠ export failed: '
                f"{html.escape(type(exc).__name__)}: {html.escape(str(exc))}</span>"
            )
        else:
            self.status.value = f"saved <code>{html.escape(str(written))}</code>"
