"""What every aurora_xr widget shares: a matplotlib figure shown as a PNG image.

A :class:`FigureView` draws its figure off screen (no pyplot state is left
behind: figures made through pyplot are closed as soon as they are rendered),
puts the PNG into an :class:`ipywidgets.Image` and keeps the Figure object as
``.figure`` for inspection or saving. Errors met while redrawing from a
control are shown in the ``.status`` line and kept in ``.last_error`` instead
of disappearing into the browser's log.
"""

from __future__ import annotations

import html
import io
from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from ..errors import OptionError

__all__ = ["FigureView", "extra_selectors", "hour_label", "mlt_edges", "mlt_slider"]


class FigureView:
    """Base class: a figure redrawn from the state of some controls.

    Subclasses build their controls, call :meth:`_build` with them and
    implement :meth:`_draw`, which returns a new Figure for the current state.

    Attributes
    ----------
    figure : matplotlib.figure.Figure or None
        The figure shown now.
    image : ipywidgets.Image
        The figure as a PNG.
    status : ipywidgets.HTML
        A line for messages (errors while redrawing, export results).
    widget : ipywidgets.VBox
        The whole layout; displayed when the object is the last expression of a cell.
    draw_count : int
        How many figures have been drawn (each control change draws one).
    last_error : Exception or None
        The error of the latest redraw, if it failed (the old figure stays).
    dpi : float
        Resolution of the PNG.
    """

    def __init__(self, *, dpi: float = 90.0) -> None:
        if not dpi > 0:
            raise OptionError(f"expected dpi > 0; found {dpi}")
        self.dpi = float(dpi)
        self.figure: Figure | None = None
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.status = widgets.HTML(value="")
        self.widget = widgets.VBox()
        self.draw_count = 0
        self.last_error: Exception | None = None
        self._held = 0

    # -- layout and display ------------------------------------------------------------
    def _build(self, *rows: widgets.Widget) -> None:
        self.widget.children = (*rows, self.image, self.status)
        self.widget.layout.align_items = "flex-start"  # the figure at its own size
        self.widget.add_class("aurora-xr-widget")

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def _ipython_display_(self) -> None:  # older IPython front ends
        from IPython.display import display

        display(self.widget)

    # -- drawing -------------------------------------------------------------------------
    @contextmanager
    def hold(self) -> Iterator[None]:
        """Change several controls and redraw once, at the end."""
        self._held += 1
        try:
            yield
        finally:
            self._held -= 1
        if not self._held:
            self._on_change()

    def _draw(self) -> Figure:
        raise NotImplementedError

    def redraw(self) -> Figure:
        """Draw the figure for the current state of the controls and show it.

        Errors propagate (use the controls for the forgiving behaviour).
        """
        with plt.ioff():
            fig = self._draw()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=self.dpi)
        old, self.figure = self.figure, fig
        for f in (old, fig):  # pyplot keeps figures it made until they are closed
            if f is not None and plt.fignum_exists(getattr(f, "number", -1)):
                plt.close(f)
        self.image.value = buffer.getvalue()
        self.draw_count += 1
        self.last_error = None
        return fig

    def _on_change(self, change: Any = None) -> None:
        if self._held:
            return
        try:
            self.redraw()
        except Exception as exc:  # shown to the user, not lost in the browser log
            self.last_error = exc
            self.status.value = (
                '<span style="color:#b00020">⚠ '
                f"{html.escape(type(exc).__name__)}: {html.escape(str(exc))}</span>"
            )
        else:
            if self.status.value.startswith('<span style="color:#b00020">'):
                self.status.value = ""

    def close(self) -> None:
        """Close the widgets (the layout and every control in it) and release the figure."""
        if self.figure is not None and plt.fignum_exists(getattr(self.figure, "number", -1)):
            plt.close(self.figure)
        self.figure = None
        pending: list[widgets.Widget] = [self.widget]
        while pending:
            w = pending.pop()
            pending.extend(getattr(w, "children", ()))
            w.close()


# -- helpers shared by the map widgets --------------------------------------------------
def hour_label(hour: float) -> str:
    """``07`` for 7.0, ``07.5`` for 7.5."""
    h = float(hour)
    return f"{h:02.0f}" if h.is_integer() else f"{h:04.1f}"


def mlt_edges(product: xr.Dataset, mlt_dim: Hashable) -> list[tuple[float, float]]:
    """Lower and upper edge (hours) of every MLT bin of a product, for readouts.

    From the ``mlt_bounds`` coordinate when the product has one, else from the
    bin centres (equal bins over 24 h).
    """
    centres = np.asarray(product[mlt_dim].values, dtype=float)
    bounds_name = product[mlt_dim].attrs.get("bounds", f"{mlt_dim}_bounds")
    if bounds_name in product.coords and product[bounds_name].shape == (centres.size, 2):
        bounds = np.asarray(product[bounds_name].values, dtype=float)
        return [(float(lo), float(hi)) for lo, hi in bounds]
    width = 24.0 / centres.size if centres.size else 24.0
    return [(float(c - width / 2.0), float(c + width / 2.0)) for c in centres]


def mlt_slider(
    product: xr.Dataset,
    edges: Sequence[tuple[float, float]],
    mlt: float | None,
    mlt_dim: Hashable,
) -> widgets.IntSlider:
    """A slider over the MLT bins of ``product``, starting at the bin holding ``mlt``."""
    from .. import plot

    nbins = len(edges)
    start = 0 if mlt is None else plot.occurrence.mlt_bin(product[mlt_dim].values, float(mlt))[0]
    return widgets.IntSlider(
        value=start,
        min=0,
        max=nbins - 1,
        step=1,
        description="MLT" if nbins == 24 else "MLT bin",
        continuous_update=False,
        readout=nbins != 24,
        layout=widgets.Layout(width="420px"),
    )


def extra_selectors(da: xr.DataArray, skip: Sequence[Hashable]) -> dict[Hashable, widgets.Dropdown]:
    """A dropdown for each dim of ``da`` not in ``skip`` (e.g. ``year``, ``season``)."""
    out: dict[Hashable, widgets.Dropdown] = {}
    for dim in da.dims:
        if dim in skip:
            continue
        values = da[dim].values.tolist() if dim in da.coords else list(range(da.sizes[dim]))
        out[dim] = widgets.Dropdown(
            options=[(str(v), v) for v in values],
            value=values[0],
            description=str(dim),
            layout=widgets.Layout(width="190px"),
            style={"description_width": "50px"},
        )
    return out
