"""``LabelTool``: draw aurora masks on all-sky frames in JupyterLab."""

from __future__ import annotations

import html
import os
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..detect.segmentation import resolve_predictor
from ..errors import OptionError
from .labelcontrols import LabelControls
from .labelframes import frame_set
from .labelmasks import FrameLabels
from .labelranking import frame_uncertainty, labelling_strata, rank_for_labelling
from .labelrender import encode_image, overlay_rgba, stretch_frame
from .labelstore import LabelStore

__all__ = ["LabelTool"]

_MIME = {"jpeg": "image/jpeg", "png": "image/png"}


class LabelTool(LabelControls):
    """Label aurora on all-sky frames in JupyterLab: polygons, brush, model pre-labels.

    The frame is shown through the paper's uniform contrast stretch (one ratio for every frame,
    as the paper labelled its frames; 16-bit and single-channel frames too). Draw polygons
    (click the vertices; double-click, ``Enter`` or a click on the first vertex closes) or
    paint with the brush and the eraser; zoom with the wheel or the buttons, pan with the
    right / middle button or ``Space`` + drag. With a model, its probability is shown as a
    pre-label that ``a`` (or the button) accepts into the mask, to be edited further.
    "Next frame to label" ranks the unlabelled frames by the model's uncertainty, spread over
    nights, MLT and sky conditions (:func:`~aurora_xr.widgets.labelranking.rank_for_labelling`).

    Saving writes ``OUT/masks/<stem>.png`` (0 / 255) beside ``OUT/images/<stem>.<ext>``, the
    ``folders`` label set :func:`aurora_xr.labels.read_labels` reads, and ``OUT/coco.json``
    (polygons as drawn, brush work as run-length masks) which ``read_labels`` reads to the
    same masks. Polygons are rasterised by :func:`aurora_xr.labels.polygon_mask` with
    ``pixel_origin="corner"`` (a pixel is inside when its centre is), so saved and re-read
    masks agree exactly.

    Keyboard (click the canvas first): ``n`` / ``→`` next, ``p`` / ``←`` previous, ``s`` (or
    ``Ctrl+S``) save, ``o`` toggle the pre-label overlay, ``a`` accept the pre-label, ``u``
    next frame to label, ``Ctrl+Z`` undo, ``Enter`` close / ``Esc`` drop the polygon,
    ``Backspace`` remove its last vertex, ``1`` polygon, ``2`` / ``b`` brush, ``3`` / ``e``
    eraser, ``[`` / ``]`` brush radius, ``+`` / ``-`` / ``0`` zoom in, out, fit (the table is
    :data:`~aurora_xr.widgets.labelcanvas.KEYMAP`; the widget shows it under "Shortcuts").

    Parameters
    ----------
    source : path-like, sequence of path-like, or xarray.Dataset
        A folder of camera files (its ``images/`` sub-folder if any), a list of files (any
        camera format of :mod:`aurora_xr.io.formats`; multi-frame files give one entry per
        frame), an image cube ``image (time, y, x, channel)``, or a label set from
        :func:`aurora_xr.labels.read_labels` (its masks are loaded for editing).
    model : optional
        A checkpoint path, a loaded model, a predictor or any callable taking ``(n, H, W, C)``
        frames to ``(n, H, W)`` probabilities (see :func:`aurora_xr.segment`).
    out : path-like, optional
        Output folder; default the parent of ``source`` when ``source`` is an ``images/``
        folder (or a folder holding one). Masks saved there earlier count as labelled and are
        loaded for editing.
    contrast : float, optional
        The uniform contrast ratio; default the model's (``preprocessing.contrast_ratio``),
        else 1.
    threshold : float, optional
        Probability at which the pre-label counts as aurora; default the model's, else 0.5.
    start : int, optional
        First frame shown; default the first unlabelled one.
    brush_radius : float
        Brush radius in frame pixels.
    autosave : bool
        Save a changed frame when moving to another one.
    display_size : (int, int)
        Canvas width and height in screen pixels.
    image_format : {"jpeg", "png"}
        How the frame is sent to the browser (the overlay is always PNG).
    station : tuple of float, optional
        Camera position ``(latitude, longitude)`` in degrees, for nights and MLT in the
        ranking (a cube's attributes give it).
    conditions : sequence of hashable, optional
        A sky condition per frame for the ranking (a cube's ``moon_up`` / ``cloud_fraction``
        give it).
    uncertainty : {"entropy", "margin"}
        How the ranking scores a frame (:func:`~aurora_xr.widgets.labelranking.frame_uncertainty`).
    mlt_bins : int
        MLT bins of the ranking's strata.
    time_pattern : str or None
        strftime pattern of the UT time in file names.
    image_var, mask_var, time_dim, frame_dim : hashable
        Names in a Dataset source.

    Attributes
    ----------
    canvas : LabelCanvas
        The drawing surface (anywidget).
    widget : ipywidgets.VBox
        The whole layout, shown when the tool is the last expression of a cell.
    labels : FrameLabels
        The mask, polygons and undo history of the frame shown.
    status : ipywidgets.HTML
        Messages (saves, errors).
    last_error : Exception or None
        The error of the latest action from the browser, if it failed.

    Examples
    --------
    >>> from aurora_xr.widgets import LabelTool  # doctest: +SKIP
    >>> tool = LabelTool("night_frames/", model="checkpoint.safetensors", out="labelled/")
    ... # doctest: +SKIP
    >>> tool  # draw, press s to save, u for the next frame to label  # doctest: +SKIP
    >>> read_labels("labelled/")  # the masks drawn so far  # doctest: +SKIP
    """

    def __init__(
        self,
        source: Any,
        model: Any = None,
        *,
        out: str | os.PathLike[str] | None = None,
        contrast: float | None = None,
        threshold: float | None = None,
        start: int | None = None,
        brush_radius: float = 6.0,
        autosave: bool = True,
        display_size: tuple[int, int] = (640, 640),
        image_format: str = "jpeg",
        station: tuple[float, float] | None = None,
        conditions: Sequence[Hashable] | None = None,
        uncertainty: str = "entropy",
        mlt_bins: int = 8,
        time_pattern: str | None = "%Y%m%d_%H%M%S",
        image_var: Hashable = "image",
        mask_var: Hashable = "mask",
        time_dim: Hashable = "time",
        frame_dim: Hashable = "frame",
    ) -> None:
        if image_format not in _MIME:
            raise OptionError(
                f"image_format must be one of {sorted(_MIME)}; found {image_format!r}"
            )
        self.frames = frame_set(
            source,
            time_pattern=time_pattern,
            image_var=image_var,
            mask_var=mask_var,
            time_dim=time_dim,
            frame_dim=frame_dim,
        )
        self.store = LabelStore(_default_out(source, out))
        self.predictor = None if model is None else resolve_predictor(model)
        ratio = contrast if contrast is not None else _model_contrast(self.predictor)
        if threshold is None:
            threshold = float(getattr(self.predictor, "threshold", None) or 0.5)
        self.threshold = float(threshold)
        self.autosave = bool(autosave)
        self.image_format = image_format
        self.uncertainty_method = uncertainty
        n = len(self.frames)
        if conditions is not None and len(conditions) != n:
            raise OptionError(f"expected {n} conditions (one per frame); found {len(conditions)}")
        self._strata = labelling_strata(
            self.frames.times,
            station=station or self.frames.station,
            mlt_bins=mlt_bins,
            conditions=conditions if conditions is not None else self.frames.conditions,
        )
        saved = self.store.saved_stems()
        self.labelled = np.array(
            [e.stem in saved or e.has_mask for e in self.frames.entries], dtype=bool
        )
        self.uncertainty = np.full(n, np.nan)
        self.last_error: Exception | None = None
        self._probabilities: OrderedDict[int, NDArray[np.float32]] = OrderedDict()
        self._frame_cache: tuple[tuple[int, float], bytes] | None = None
        self._index = -1
        self.labels = FrameLabels(1, 1)
        self._build(float(ratio), float(brush_radius), display_size)
        if start is None:
            unlabelled = np.flatnonzero(~self.labelled)
            start = int(unlabelled[0]) if unlabelled.size else 0
        self.show(start)

    # -- state ------------------------------------------------------------------------------
    @property
    def index(self) -> int:
        """Position of the frame shown."""
        return self._index

    @property
    def stem(self) -> str:
        """Name of the frame shown (its mask is ``masks/<stem>.png``)."""
        return self.frames.entries[self._index].stem

    @property
    def mask(self) -> NDArray[np.bool_]:
        """The mask of the frame shown, ``(H, W)`` bool (a copy)."""
        return self.labels.mask.copy()

    @property
    def contrast(self) -> float:
        """The uniform contrast ratio."""
        return float(self.contrast_slider.value)

    @property
    def progress_count(self) -> tuple[int, int]:
        """``(labelled, total)`` frames."""
        return int(self.labelled.sum()), int(self.labelled.size)

    def probability(self, index: int | None = None) -> NDArray[np.float32] | None:
        """The model's probability for a frame (default the one shown), or None without one."""
        if self.predictor is None:
            return None
        i = self._index if index is None else int(index)
        if i not in self._probabilities:
            frame = self.frames.frame(i)
            p = np.asarray(self.predictor(frame[None]), dtype=np.float32)[0]
            self._probabilities[i] = p
            self.uncertainty[i] = self._score(p[None])[0]
            while len(self._probabilities) > 8:
                self._probabilities.popitem(last=False)
        self._probabilities.move_to_end(i)
        return self._probabilities[i]

    def _score(self, p: NDArray[np.float32]) -> NDArray[np.float64]:
        lens = self.frames.lens
        if lens is not None and lens.shape != p.shape[1:]:
            lens = None
        return frame_uncertainty(p, lens=lens, method=self.uncertainty_method)

    # -- drawing (the same edits the browser sends) -----------------------------------------
    def add_polygon(self, xy: ArrayLike, *, erase: bool = False) -> None:
        """Fill a polygon (``(n, 2)`` vertices ``(x, y)``, ``"corner"`` pixel coordinates)."""
        self.labels.add_polygon(xy, erase=erase)
        self._push_overlay()

    def paint(self, points: ArrayLike, radius: float | None = None, *, erase: bool = False) -> None:
        """A brush stroke through ``points`` (``(n, 2)``, ``"corner"`` coordinates)."""
        r = float(self.radius_slider.value if radius is None else radius)
        self.labels.paint(points, r, erase=erase)
        self._push_overlay()

    def undo(self) -> bool:
        """Undo the last edit of the frame shown; False when there is none."""
        done = self.labels.undo()
        self._push_overlay()
        return done

    def accept(self) -> int:
        """Add the model's pre-label (probability >= threshold) to the mask; pixels added."""
        p = self.probability()
        if p is None:
            raise OptionError("no model: there is no pre-label to accept (pass model=)")
        added = self.labels.accept(p, self.threshold)
        self._push_overlay()
        return added

    def toggle_overlay(self) -> bool:
        """Show or hide the pre-label; returns whether it is shown now."""
        if self.predictor is not None:
            self.overlay_toggle.value = not self.overlay_toggle.value
        return bool(self.overlay_toggle.value and self.predictor is not None)

    # -- frames -----------------------------------------------------------------------------
    def show(self, index: int) -> None:
        """Show frame ``index`` (a changed frame is saved first when ``autosave``)."""
        n = len(self.frames)
        if not -n <= int(index) < n:
            raise OptionError(f"frame {index} is out of range for {n} frames")
        index = int(index) % n
        if self._index >= 0 and index != self._index and self.autosave and self.labels.dirty:
            self.save()
        frame = self.frames.frame(index)
        entry = self.frames.entries[index]
        height, width = frame.shape[:2]
        if self.store.saved(entry.stem):
            mask = self.store.read_mask(entry.stem)
            self.labels = FrameLabels(height, width, mask, self.store.polygons(entry.stem))
        else:
            source = self.frames.source_mask(index)
            self.labels = (
                FrameLabels(height, width) if source is None else FrameLabels(height, width, source)
            )
        self._index = index
        with self.canvas.hold_sync():
            self.canvas.width, self.canvas.height = width, height
            self.canvas.zoom, self.canvas.pan_x, self.canvas.pan_y = 1.0, 0.0, 0.0
            self.redraw()
        self._update_readout()

    def next(self) -> None:
        """Show the next frame (the last one stays)."""
        self.show(min(self._index + 1, len(self.frames) - 1))

    def previous(self) -> None:
        """Show the previous frame (the first one stays)."""
        self.show(max(self._index - 1, 0))

    def ranking(self, *, score: bool = True, count: int | None = None) -> NDArray[np.int64]:
        """Unlabelled frames in the order to label them (see ``rank_for_labelling``).

        With a model and ``score``, every unlabelled frame not scored yet is run through it
        first (once; the scores are kept in ``.uncertainty``).
        """
        if score and self.predictor is not None:
            for i in np.flatnonzero(~self.labelled & np.isnan(self.uncertainty)):
                p = np.asarray(self.predictor(self.frames.frame(int(i))[None]), dtype=np.float32)
                self.uncertainty[i] = self._score(p)[0]
        u = self.uncertainty if self.predictor is not None else np.zeros(len(self.frames))
        return rank_for_labelling(u, strata=self._strata, labelled=self.labelled, count=count)

    def next_to_label(self) -> int | None:
        """Show the first frame of :meth:`ranking`; returns it (None when all are labelled)."""
        if self.autosave and self.labels.dirty:
            self.save()
        ranked = self.ranking(count=1)
        if not ranked.size:
            self.status.value = "every frame is labelled"
            return None
        self.show(int(ranked[0]))
        return int(ranked[0])

    # -- saving -----------------------------------------------------------------------------
    def save(self) -> Path:
        """Save the mask of the frame shown (and the COCO export); returns the mask file."""
        entry = self.frames.entries[self._index]
        path = self.store.save(
            entry, self.frames.frame(self._index), self.labels.mask, self.labels.polygons
        )
        self.labels.dirty = False
        self.labelled[self._index] = True
        self.status.value = f"saved {html.escape(str(path))}"
        self._update_readout()
        return path

    # -- rendering --------------------------------------------------------------------------
    def redraw(self) -> None:
        """Send the frame (stretched) and the overlay to the browser."""
        key = (self._index, self.contrast)
        if self._frame_cache is None or self._frame_cache[0] != key:
            shown = stretch_frame(self.frames.frame(self._index), self.contrast)
            self._frame_cache = (key, encode_image(shown, self.image_format))
        with self.canvas.hold_sync():
            self.canvas.frame_mime = _MIME[self.image_format]
            self.canvas.frame_bytes = self._frame_cache[1]
            self._push_overlay()

    def overlay_image(self) -> NDArray[np.uint8]:
        """The overlay of the frame shown, ``(H, W, 4)`` RGBA (pre-label under the mask)."""
        show = self.overlay_toggle.value and self.predictor is not None
        p = self.probability() if show else None
        return overlay_rgba(self.labels.mask, p, threshold=self.threshold)

    def _push_overlay(self, ack: int | None = None) -> None:
        data = encode_image(self.overlay_image(), "png")
        with self.canvas.hold_sync():
            if ack is not None:
                self.canvas.ack = int(ack)
            self.canvas.overlay_bytes = data
        self._update_readout()

    def _update_readout(self) -> None:
        if self._index < 0:
            return
        done, total = self.progress_count
        self.progress.value = f"<b>labelled {done} / {total}</b>"
        entry = self.frames.entries[self._index]
        when = "" if np.isnat(entry.time) else f" · {str(entry.time)[:19].replace('T', ' ')} UT"
        state = "unsaved changes" if self.labels.dirty else (
            "saved" if self.labelled[self._index] else "not labelled")  # fmt: skip
        self.readout.value = (
            f"frame {self._index + 1} / {total} · <code>{html.escape(entry.stem)}</code>{when}"
            f" · {state}"
        )

    def _clear(self) -> None:
        self.labels.clear()
        self._push_overlay()


def _default_out(source: Any, out: str | os.PathLike[str] | None) -> Path:
    if out is not None:
        return Path(out)
    if isinstance(source, str | os.PathLike):
        folder = Path(source)
        if folder.name == "images":
            return folder.parent
        if (folder / "images").is_dir():
            return folder
    raise OptionError(
        "expected out= (the folder to save images/ and masks/ in): it has a default only "
        "when source is an images/ folder or a folder holding one"
    )


def _model_contrast(predictor: Any) -> float:
    ratio = getattr(getattr(predictor, "preprocessing", None), "contrast_ratio", None)
    return float(ratio) if ratio else 1.0
