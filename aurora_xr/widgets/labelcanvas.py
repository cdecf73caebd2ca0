"""The drawing canvas of the labelling tool: an anywidget with its keyboard map.

:class:`LabelCanvas` is a small `anywidget <https://anywidget.dev>`_ widget whose front end
(``labelcanvas.js``, an ES module shipped with the package, nothing fetched at run time) draws
the frame and the overlay on a ``<canvas>``, handles zoom, pan, polygons and brush strokes in
the browser, and sends each finished edit to Python as a message in image coordinates. The
keyboard map :data:`KEYMAP` is synced to the browser, and :func:`shortcuts_html` writes the
help text from the same table, so the two cannot disagree.
"""

from __future__ import annotations

import html
from pathlib import Path

import anywidget
import traitlets

__all__ = ["ACTIONS", "KEYMAP", "LabelCanvas", "shortcuts_html"]

ACTIONS: dict[str, str] = {
    "next": "next frame",
    "previous": "previous frame",
    "save": "save the mask (masks/<stem>.png and coco.json)",
    "toggle_overlay": "show / hide the model's pre-label",
    "accept": "accept the pre-label into the mask",
    "next_to_label": "go to the next frame to label (most uncertain, least covered)",
    "undo": "undo the last edit",
    "close_polygon": "close the polygon being drawn",
    "cancel_polygon": "drop the polygon being drawn",
    "remove_vertex": "remove the last vertex",
    "tool_polygon": "polygon tool",
    "tool_brush": "brush",
    "tool_eraser": "eraser",
    "radius_down": "smaller brush",
    "radius_up": "larger brush",
    "zoom_in": "zoom in",
    "zoom_out": "zoom out",
    "zoom_fit": "fit the frame",
}
"""What each action does (the help text)."""

KEYMAP: dict[str, str] = {
    "n": "next",
    "ArrowRight": "next",
    "p": "previous",
    "ArrowLeft": "previous",
    "s": "save",
    "Ctrl+s": "save",
    "o": "toggle_overlay",
    "a": "accept",
    "u": "next_to_label",
    "Ctrl+z": "undo",
    "Enter": "close_polygon",
    "Escape": "cancel_polygon",
    "Backspace": "remove_vertex",
    "1": "tool_polygon",
    "2": "tool_brush",
    "b": "tool_brush",
    "3": "tool_eraser",
    "e": "tool_eraser",
    "[": "radius_down",
    "]": "radius_up",
    "+": "zoom_in",
    "=": "zoom_in",
    "-": "zoom_out",
    "0": "zoom_fit",
}
"""Keys (as the browser names them; ``Ctrl+`` also stands for Cmd on a Mac) -> actions."""


def shortcuts_html(keymap: dict[str, str] | None = None) -> str:
    """The keyboard and mouse help as HTML, from the key map."""
    keys: dict[str, list[str]] = {}
    for key, action in (keymap or KEYMAP).items():
        keys.setdefault(action, []).append(key)
    rows = "".join(
        "<tr><td style='padding-right:1em'>"
        + " / ".join(f"<kbd>{html.escape(k)}</kbd>" for k in ks)
        + f"</td><td>{html.escape(ACTIONS.get(action, action))}</td></tr>"
        for action, ks in keys.items()
    )
    mouse = (
        "<p>Polygon: click the vertices; double-click, <kbd>Enter</kbd> or a click on the "
        "first vertex closes it. Brush / eraser: drag. Zoom: mouse wheel (about the "
        "pointer) or the buttons. Pan: drag with the right or middle button, or with "
        "<kbd>Space</kbd> held. Click the canvas first so that it has the keyboard.</p>"
    )
    return f"<details><summary><b>Shortcuts</b></summary>{mouse}<table>{rows}</table></details>"


class LabelCanvas(anywidget.AnyWidget):
    """The canvas: frame and overlay shown as images, edits sent back as messages.

    Traits synced with the browser: ``frame_bytes`` / ``frame_mime`` (the stretched frame),
    ``overlay_bytes`` (RGBA PNG), ``width`` / ``height`` (frame size), ``display_width`` /
    ``display_height`` (canvas size in CSS pixels), ``tool`` (``"polygon"``, ``"brush"``,
    ``"eraser"``), ``brush_radius`` (frame pixels), ``zoom`` / ``pan_x`` / ``pan_y`` (the
    view), ``keymap`` and ``ack`` (the last edit the overlay includes).
    """

    _esm = Path(__file__).with_name("labelcanvas.js")

    frame_bytes = traitlets.Bytes(b"").tag(sync=True)
    frame_mime = traitlets.Unicode("image/jpeg").tag(sync=True)
    overlay_bytes = traitlets.Bytes(b"").tag(sync=True)
    width = traitlets.Int(1).tag(sync=True)
    height = traitlets.Int(1).tag(sync=True)
    display_width = traitlets.Int(640).tag(sync=True)
    display_height = traitlets.Int(640).tag(sync=True)
    tool = traitlets.Enum(("polygon", "brush", "eraser"), "polygon").tag(sync=True)
    brush_radius = traitlets.Float(6.0).tag(sync=True)
    zoom = traitlets.Float(1.0).tag(sync=True)
    pan_x = traitlets.Float(0.0).tag(sync=True)
    pan_y = traitlets.Float(0.0).tag(sync=True)
    keymap = traitlets.Dict(KEYMAP).tag(sync=True)
    ack = traitlets.Int(0).tag(sync=True)
