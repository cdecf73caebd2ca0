"""``SkyBrowser``: step, play and jump through the frames of an image cube."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Hashable
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure

from .. import plot
from ..cube.context import cube_context
from ..detect.segmentation import segment
from ..errors import MissingDimensionError, MissingVariableError, OptionError, SchemaError
from ._base import FigureView

__all__ = ["SkyBrowser"]


class SkyBrowser(FigureView):
    """Browse the frames of an image cube in the geomagnetic view.

    A time slider with a player, a date picker that jumps to the nearest
    frame, toggles for the overlays (FCN mask, cells found auroral by the
    difference method, elevation circles) and a contrast slider. Each change
    draws :func:`aurora_xr.plot.plot_sky` for one frame: on a lazy cube only
    that frame (and its mask and detections) is read and computed, so the
    browser stays responsive on a multi-year archive.

    Parameters
    ----------
    ds : xarray.Dataset
        Image cube ``(time, y, x, channel)`` with calibration attributes (an
        analytic lens or a per-pixel skymap), colour or single-channel, lazy or
        in memory; with ``aurora_mask`` (e.g. from :func:`aurora_xr.segment` or
        :func:`aurora_xr.open_segmentation_store`) for the FCN overlay. The
        cube is checked and its context resolved once, when the browser opens.
    cells : xarray.Dataset, optional
        Cell grid (:func:`aurora_xr.cell_grid`) for the difference overlay;
        not needed when ``difference`` carries the cell vertex coordinates.
    difference : xarray.Dataset or xarray.DataArray, optional
        Output of :func:`aurora_xr.difference_detect` (or its
        ``difference_detection`` on ``(time, cell)``).
    model : optional
        A predictor or checkpoint path: when ``ds`` has no ``aurora_mask``,
        the frame shown (and only it) is segmented with
        :func:`aurora_xr.segment` for the FCN overlay.
    time : int, str or datetime, optional
        First frame shown (position or nearest time); default the first.
    contrast : float
        Initial display gain (see :func:`aurora_xr.plot.plot_sky`).
    north_azimuth : float, optional
        Geographic azimuth of magnetic north (default from ``cells`` or the cube).
    play_interval : int
        Milliseconds between frames when playing.
    figsize : (float, float)
        Figure size in inches.
    dpi : float
        Resolution of the image shown.
    image_var, mask_var, time_dim, y_dim, x_dim, channel_dim, cell_dim : hashable
        Names in the data model.

    Attributes
    ----------
    time_slider : ipywidgets.IntSlider
        Position of the frame shown.
    play : ipywidgets.Play
        Player, linked to ``time_slider``.
    date_picker : ipywidgets.NaiveDatetimePicker
        UT date and time; setting it jumps to the nearest frame.
    fcn_toggle, difference_toggle, circles_toggle : ipywidgets.Checkbox
        Overlays (a toggle is disabled when its data is absent).
    contrast_slider : ipywidgets.FloatLogSlider
        Display gain.
    readout : ipywidgets.HTML
        Time and position of the frame shown.
    context : aurora_xr.cube.context.CubeContext
        The cube's context (camera, station, times), resolved once.
    figure, image, status, widget, draw_count, last_error
        See :class:`~aurora_xr.widgets.FigureView`.

    Examples
    --------
    >>> from aurora_xr.widgets import SkyBrowser  # doctest: +SKIP
    >>> SkyBrowser(seg, difference=cube.aurora.difference_detect(cells=cells))  # doctest: +SKIP
    """

    def __init__(
        self,
        ds: xr.Dataset,
        *,
        cells: xr.Dataset | None = None,
        difference: xr.Dataset | xr.DataArray | None = None,
        model: Any = None,
        time: Any = None,
        contrast: float = 1.0,
        north_azimuth: float | None = None,
        play_interval: int = 500,
        figsize: tuple[float, float] = (5.2, 5.6),
        dpi: float = 90.0,
        image_var: Hashable = "image",
        mask_var: Hashable = "aurora_mask",
        time_dim: Hashable = "time",
        y_dim: Hashable = "y",
        x_dim: Hashable = "x",
        channel_dim: Hashable = "channel",
        cell_dim: Hashable = "cell",
    ) -> None:
        super().__init__(dpi=dpi)
        if not isinstance(ds, xr.Dataset):
            raise SchemaError(f"expected an xarray.Dataset image cube; found {type(ds).__name__}")
        if image_var not in ds.data_vars:
            raise MissingVariableError(
                f"expected an image variable {image_var!r}; found "
                f"{', '.join(map(str, ds.data_vars)) or 'no variables'}"
            )
        if time_dim not in ds[image_var].dims or time_dim not in ds.indexes:
            raise MissingDimensionError(
                f"expected {image_var!r} on a {time_dim!r} dim with a time coordinate; "
                f"found dims {tuple(ds[image_var].dims)}"
            )
        n = ds.sizes[time_dim]
        if n == 0:
            raise SchemaError(f"the cube has no frames along {time_dim!r}")
        if not contrast > 0:
            raise OptionError(f"expected contrast > 0; found {contrast}")
        has_cells = cells is not None or (
            difference is not None and "cell_vertices_elevation" in difference.coords
        )
        if difference is not None and not has_cells:
            raise OptionError(
                "the difference overlay needs cells= (the cell grid) when the detections "
                "carry no cell vertex coordinates"
            )
        self.ds = ds
        self.context = cube_context(
            ds,
            image_var=image_var,
            time_dim=time_dim,
            y_dim=y_dim,
            x_dim=x_dim,
            channel_dim=channel_dim,
            require_image=True,
        )
        self.context.require_calibration()  # a cube without one cannot be shown
        self.cells = cells
        self.difference = difference
        self.model = model
        self.north_azimuth = north_azimuth
        self.figsize = figsize
        self._names: dict[str, Any] = {
            "image_var": image_var,
            "mask_var": mask_var,
            "time_dim": time_dim,
            "y_dim": y_dim,
            "x_dim": x_dim,
            "channel_dim": channel_dim,
            "cell_dim": cell_dim,
        }
        self._times = pd.DatetimeIndex(ds.indexes[time_dim])
        self._has_mask = mask_var in ds.data_vars

        start = 0 if time is None else self.nearest_frame(time)
        self.time_slider = widgets.IntSlider(
            value=start,
            min=0,
            max=n - 1,
            step=1,
            description="frame",
            continuous_update=False,
            readout=False,
            layout=widgets.Layout(width="420px"),
        )
        self.play = widgets.Play(
            value=start, min=0, max=n - 1, step=1, interval=int(play_interval), description="play"
        )
        widgets.link((self.play, "value"), (self.time_slider, "value"))
        self.date_picker = widgets.NaiveDatetimePicker(
            value=self._times[start].to_pydatetime(),
            description="UT",
            layout=widgets.Layout(width="260px"),
            style={"description_width": "30px"},
        )
        self.fcn_toggle = widgets.Checkbox(
            value=self._has_mask or model is not None,
            description="FCN mask",
            indent=False,
            disabled=not (self._has_mask or model is not None),
            layout=widgets.Layout(width="110px"),
        )
        self.difference_toggle = widgets.Checkbox(
            value=difference is not None,
            description="difference cells",
            indent=False,
            disabled=difference is None,
            layout=widgets.Layout(width="140px"),
        )
        self.circles_toggle = widgets.Checkbox(
            value=True,
            description="elevation circles",
            indent=False,
            layout=widgets.Layout(width="140px"),
        )
        self.contrast_slider = widgets.FloatLogSlider(
            value=float(contrast),
            base=2.0,
            min=-2.0,
            max=4.0,
            step=0.25,
            description="contrast",
            continuous_update=False,
            readout_format=".2f",
        )
        self.readout = widgets.HTML(value="")
        self._syncing = False

        self.time_slider.observe(self._on_time, names="value")
        self.date_picker.observe(self._on_date, names="value")
        for w in (
            self.fcn_toggle,
            self.difference_toggle,
            self.circles_toggle,
            self.contrast_slider,
        ):
            w.observe(self._on_change, names="value")
        self._build(
            widgets.HBox([self.play, self.time_slider, self.readout]),
            widgets.HBox([self.date_picker, self.contrast_slider]),
            widgets.HBox([self.fcn_toggle, self.difference_toggle, self.circles_toggle]),
        )
        self._update_readout()
        self.redraw()  # a first figure that cannot be drawn is an error here

    # -- navigation ----------------------------------------------------------------------
    @property
    def index(self) -> int:
        """Position of the frame shown."""
        return int(self.time_slider.value)

    @property
    def time(self) -> pd.Timestamp:
        """Time of the frame shown (UT)."""
        return self._times[self.index]

    def nearest_frame(self, when: Any) -> int:
        """Position of the frame nearest to ``when`` (a position passes through)."""
        n = len(self._times)
        if isinstance(when, int | np.integer) and not isinstance(when, bool):
            if not -n <= int(when) < n:
                raise OptionError(f"frame {when} is out of range for {n} frames")
            return int(when) % n
        try:
            stamp = pd.Timestamp(when)
        except (TypeError, ValueError) as exc:
            raise OptionError(f"expected a frame position or a time; found {when!r}") from exc
        if stamp.tzinfo is not None:
            stamp = stamp.tz_convert("UTC").tz_localize(None)
        return int(self._times.get_indexer([stamp], method="nearest")[0])

    def show(self, when: Any) -> None:
        """Show the frame at position ``when`` or nearest to the time ``when``."""
        self.time_slider.value = self.nearest_frame(when)

    def _on_time(self, change: Any = None) -> None:
        self._update_readout()
        self._syncing = True
        try:
            self.date_picker.value = self.time.to_pydatetime()
        finally:
            self._syncing = False
        self._on_change()

    def _on_date(self, change: Any) -> None:
        if self._syncing or change["new"] is None:
            return
        new = change["new"]
        if isinstance(new, _dt.date) and not isinstance(new, _dt.datetime):
            new = _dt.datetime.combine(new, _dt.time())
        self.time_slider.value = self.nearest_frame(new)

    def _update_readout(self) -> None:
        self.readout.value = (
            f"<b>{self.time:%Y-%m-%d %H:%M:%S} UT</b> &middot; frame "
            f"{self.index + 1} / {len(self._times)}"
        )

    # -- drawing -------------------------------------------------------------------------
    def _frame(self) -> tuple[xr.Dataset, int]:
        """The cube to draw from and the position in it (segmenting one frame if asked)."""
        if self.fcn_toggle.value and not self._has_mask and self.model is not None:
            t = self._names["time_dim"]
            one = self.ds.isel({t: slice(self.index, self.index + 1)})
            names: dict[str, Any] = {
                k: v
                for k, v in self._names.items()
                if k in ("image_var", "time_dim", "y_dim", "x_dim", "channel_dim")
            }
            return segment(one, self.model, **names), 0
        return self.ds, self.index

    def _draw(self) -> Figure:
        overlays = []
        if self.fcn_toggle.value and not self.fcn_toggle.disabled:
            overlays.append("fcn")
        if self.difference_toggle.value and not self.difference_toggle.disabled:
            overlays.append("difference")
        extra: dict[str, Any] = {}
        if not self.circles_toggle.value:
            extra["elevation_circles"] = ()
        ds, position = self._frame()
        fig = Figure(figsize=self.figsize, layout="constrained")
        ax = fig.add_subplot()
        plot.plot_sky(
            ds,
            time=position,
            overlays=overlays,
            cells=self.cells,
            difference=self.difference if "difference" in overlays else None,
            contrast=float(self.contrast_slider.value),
            ax=ax,
            north_azimuth=self.north_azimuth,
            context=self.context,
            **extra,
            **self._names,
        )
        return fig
