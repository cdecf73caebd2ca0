"""The controls of the labelling tool: layout, buttons, keys and messages from the browser.

:class:`LabelControls` is the widget half of :class:`~aurora_xr.widgets.LabelTool`: it builds
the layout (buttons, sliders, the :class:`~aurora_xr.widgets.labelcanvas.LabelCanvas`, the
help), turns buttons, keys (:data:`~aurora_xr.widgets.labelcanvas.KEYMAP`) and the canvas's
edit messages into calls of the tool's methods, and shows errors in the status line instead of
losing them in the browser's log. The tool's state and actions live in ``labeltool.py``.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import numpy as np

from ..errors import OptionError
from .labelcanvas import KEYMAP, LabelCanvas, shortcuts_html
from .labelmasks import FrameLabels

__all__ = ["LabelControls"]

_ERROR = '<span style="color:#b00020">⚠ {}</span>'


class LabelControls:
    """Layout and events of the labelling tool (a base class of ``LabelTool``)."""

    predictor: Any
    labels: FrameLabels
    last_error: Exception | None

    # the actions, implemented by LabelTool
    def next(self) -> None:
        raise NotImplementedError

    def previous(self) -> None:
        raise NotImplementedError

    def save(self) -> Any:
        raise NotImplementedError

    def undo(self) -> bool:
        raise NotImplementedError

    def accept(self) -> int:
        raise NotImplementedError

    def toggle_overlay(self) -> bool:
        raise NotImplementedError

    def next_to_label(self) -> int | None:
        raise NotImplementedError

    def redraw(self) -> None:
        raise NotImplementedError

    def _clear(self) -> None:
        raise NotImplementedError

    def _push_overlay(self, ack: int | None = None) -> None:
        raise NotImplementedError

    # -- layout -----------------------------------------------------------------------------
    def _build(self, ratio: float, radius: float, display_size: tuple[int, int]) -> None:
        self.canvas = LabelCanvas(display_width=int(display_size[0]))
        self.canvas.display_height = int(display_size[1])
        self.canvas.brush_radius = radius
        self.canvas.on_msg(self._on_message)
        small = widgets.Layout(width="auto")
        self.tool_buttons = widgets.ToggleButtons(
            options=[("polygon", "polygon"), ("brush", "brush"), ("eraser", "eraser")],
            value="polygon",
            style={"button_width": "84px"},
        )
        widgets.link((self.tool_buttons, "value"), (self.canvas, "tool"))
        self.radius_slider = widgets.FloatSlider(
            value=radius, min=0.5, max=64.0, step=0.5, description="radius", readout_format=".1f"
        )
        widgets.link((self.radius_slider, "value"), (self.canvas, "brush_radius"))
        self.contrast_slider = widgets.FloatLogSlider(
            value=ratio, base=2.0, min=-2.0, max=7.0, step=0.05, description="contrast ×",
            continuous_update=False, readout_format=".2f",
        )  # fmt: skip
        self.contrast_slider.observe(lambda _: self.redraw(), names="value")
        self.overlay_toggle = widgets.Checkbox(
            value=self.predictor is not None,
            description="model pre-label",
            disabled=self.predictor is None,
            indent=False,
            layout=small,
        )
        self.overlay_toggle.observe(lambda _: self._guard(self._push_overlay), names="value")
        buttons = {
            "previous": "◀ previous", "next": "next ▶", "next_to_label": "next frame to label",
            "save": "save", "undo": "undo", "accept": "accept pre-label", "clear": "clear",
            "zoom_in": "+", "zoom_out": "−", "zoom_fit": "fit",
        }  # fmt: skip
        self.buttons = {k: widgets.Button(description=v, layout=small) for k, v in buttons.items()}
        for name, button in self.buttons.items():
            button.on_click(lambda _, name=name: self._guard(self.do, name))
        self.buttons["accept"].disabled = self.predictor is None
        self.progress = widgets.HTML()
        self.readout = widgets.HTML()
        self.status = widgets.HTML()
        self.help = widgets.HTML(shortcuts_html(KEYMAP))
        b = self.buttons
        self.widget = widgets.VBox(
            [
                widgets.HBox([b["previous"], b["next"], b["next_to_label"], b["save"],
                              self.progress]),
                widgets.HBox([self.tool_buttons, self.radius_slider, b["undo"], b["clear"],
                              b["zoom_in"], b["zoom_out"], b["zoom_fit"]]),
                widgets.HBox([self.contrast_slider, self.overlay_toggle, b["accept"]]),
                self.readout,
                self.canvas,
                self.status,
                self.help,
            ]
        )  # fmt: skip
        self.widget.add_class("aurora-xr-widget")
        self.widget.add_class("aurora-xr-labeltool")

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def _ipython_display_(self) -> None:  # older IPython front ends
        from IPython.display import display

        display(self.widget)

    def close(self) -> None:
        """Close every widget of the tool."""
        pending: list[widgets.Widget] = [self.widget]
        while pending:
            w = pending.pop()
            pending.extend(getattr(w, "children", ()))
            w.close()

    # -- browser events ---------------------------------------------------------------------
    def do(self, action: str) -> None:
        """Run a named action (the keys and buttons call these; see ``KEYMAP``)."""
        simple: dict[str, Callable[[], Any]] = {
            "next": self.next, "previous": self.previous, "save": self.save,
            "undo": self.undo, "accept": self.accept, "toggle_overlay": self.toggle_overlay,
            "next_to_label": self.next_to_label, "clear": self._clear,
        }  # fmt: skip
        if action in simple:
            simple[action]()
        elif action in ("radius_down", "radius_up"):
            factor = 1.25 if action == "radius_up" else 0.8
            self.radius_slider.value = float(
                np.clip(self.radius_slider.value * factor, self.radius_slider.min, 64.0)
            )
        elif action in ("zoom_in", "zoom_out", "zoom_fit"):
            zoom = {"zoom_in": self.canvas.zoom * 1.25, "zoom_out": self.canvas.zoom * 0.8}
            with self.canvas.hold_sync():
                self.canvas.zoom = float(np.clip(zoom.get(action, 1.0), 0.25, 64.0))
                if action == "zoom_fit":
                    self.canvas.pan_x, self.canvas.pan_y = 0.0, 0.0
        else:
            raise OptionError(f"unknown action {action!r}")

    def _guard(self, func: Callable[..., Any], *args: Any) -> None:
        """Run ``func``; show an error in the status line instead of losing it."""
        try:
            func(*args)
        except Exception as exc:  # shown to the user, not lost in the browser log
            self.last_error = exc
            self.status.value = _ERROR.format(html.escape(f"{type(exc).__name__}: {exc}"))
        else:
            self.last_error = None

    def _on_message(self, _: Any, content: dict[str, Any], buffers: Any) -> None:
        kind = content.get("type")
        if kind == "polygon":
            self._guard(self._edit, content, lambda: self.labels.add_polygon(content["points"]))
        elif kind == "stroke":
            points, radius = content["points"], float(content["radius"])
            erase = bool(content.get("erase"))
            self._guard(self._edit, content, lambda: self.labels.paint(points, radius, erase=erase))
        elif kind == "action":
            self._guard(self.do, str(content.get("action")))

    def _edit(self, content: dict[str, Any], apply: Callable[[], Any]) -> None:
        try:
            apply()
        finally:  # the browser drops its pending drawing once the overlay acknowledges it
            self._push_overlay(ack=int(content.get("seq", 0)))
