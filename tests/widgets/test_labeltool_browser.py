"""The labelling tool in a real browser: JupyterLab in headless Chromium, driven by Playwright.

Reuses the JupyterLab server of ``test_browser.py`` (its ``lab`` fixture: a free port, a
token, own config/data/runtime folders, this interpreter as the kernel). Writes a small folder
of 64 x 64 frames and a one-cell notebook into the server's root, runs the cell, draws a
polygon on the canvas with real mouse events (three clicks and a double click), presses the
save shortcut ``s`` and checks the saved ``masks/<stem>.png`` pixel for pixel: 255 inside, 0
outside, and the boundary by the documented convention (a pixel is inside when its centre
is; ``pixel_origin="corner"``), i.e. exactly :func:`aurora_xr.labels.polygon_mask` of the
vertices the browser sent. Screenshots go to ``artifacts/browser/``; with
``AURORA_XR_SCREENSHOT=PATH`` the drawn widget is also saved there (the docs' picture).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from aurora_xr.labels import polygon_mask, read_labels
from tests.widgets.test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, lab

__all__ = ["lab"]  # the JupyterLab server fixture, shared with test_browser.py

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SIZE = 64  # frame side (pixels)
DISPLAY = 512  # canvas side (CSS pixels): 8 screen pixels per frame pixel
POLYGON = [(12.0, 10.0), (50.0, 14.0), (44.0, 52.0), (9.0, 40.0)]  # frame coordinates
NOTEBOOK = "labeltool.ipynb"
CELL = f"""\
import numpy as np
from aurora_xr.widgets import LabelTool

def model(frames):  # a stand-in predictor: the green band is aurora
    return (frames[..., 1] > 80).astype(np.float32) * 0.9

tool = LabelTool(
    "frames", model, out="labelled", display_size=({DISPLAY}, {DISPLAY}), contrast=2.0
)
tool"""


def _frames(folder: Path) -> list[str]:
    """Three 64 x 64 RGB frames: a dim sky with a bright band (an arc)."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(16)
    yy, xx = np.mgrid[:SIZE, :SIZE]
    names = []
    for k in range(3):
        sky = rng.integers(10, 40, (SIZE, SIZE, 3)).astype(np.uint8)
        band = np.abs(yy - (20 + 8 * k) - 0.3 * xx) < 5
        sky[band, 1] = 120
        name = f"TST_20200621_0{k}0000.png"
        Image.fromarray(sky).save(folder / name)
        names.append(name)
    return names


def _notebook(path: Path) -> None:
    cell = {
        "cell_type": "code",
        "execution_count": None,
        "id": "labeltool",
        "metadata": {},
        "outputs": [],
        "source": CELL.splitlines(keepends=True),
    }
    doc = {
        "cells": [cell],
        "metadata": {
            "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                           "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }  # fmt: skip
    path.write_text(json.dumps(doc), encoding="utf-8")


def _wait_for(check: Any, what: str, page: Any, timeout_s: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        page.wait_for_timeout(100)


def test_draw_polygon_and_save_in_jupyterlab(lab: dict[str, Any]) -> None:
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}: install it with `bash scripts/bootstrap.sh "
            "--dev` (apt-get install chromium); do not use `playwright install`."
        )
    from playwright.sync_api import expect, sync_playwright

    root: Path = lab["root"]
    names = _frames(root / "frames")
    _notebook(root / NOTEBOOK)
    stem = Path(names[0]).stem
    mask_file = root / "labelled" / "masks" / f"{stem}.png"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    failure = ARTIFACTS / "labeltool_failure.png"
    drawn = ARTIFACTS / "labeltool_drawn.png"
    started = time.perf_counter()
    phases: dict[str, float] = {}

    def phase(name: str) -> None:
        phases[name] = time.perf_counter() - started - sum(phases.values())

    url = f"{lab['base']}/lab/tree/{NOTEBOOK}?reset&token={lab['token']}"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        page = browser.new_page(viewport={"width": 1300, "height": 1150})
        try:
            page.goto(url)
            page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=90_000)
            expect(page.locator(".jp-StatusBar-TextItem", has_text="Idle").first).to_be_visible(
                timeout=120_000
            )
            phase("lab open, kernel idle")
            page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
            page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
            canvas = page.locator(".aurora-xr-labelcanvas canvas").first
            expect(canvas).to_be_visible(timeout=120_000)
            holder = page.locator(".aurora-xr-labelcanvas").first
            # the first overlay has been decoded and drawn (ack 0)
            expect(holder).to_have_attribute("data-overlay-revision", "0", timeout=30_000)
            errors = page.locator(
                '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]'
            )
            assert errors.count() == 0, errors.first.inner_text()
            progress = page.locator(".aurora-xr-labeltool .widget-html", has_text="labelled")
            expect(progress.first).to_contain_text("labelled 0 / 3")
            phase("run cell, tool shown")

            holder.scroll_into_view_if_needed()
            box = canvas.bounding_box()
            assert box is not None
            scale = box["width"] / SIZE  # the frame fills the canvas at zoom 1
            assert abs(scale - DISPLAY / SIZE) < 1e-6, box
            points = [(box["x"] + x * scale, box["y"] + y * scale) for x, y in POLYGON]
            for x, y in points[:-1]:
                page.mouse.click(x, y)
            page.mouse.dblclick(*points[-1])  # the last vertex; a double click closes
            expect(holder).to_have_attribute("data-overlay-revision", "1", timeout=30_000)
            page.keyboard.press("s")  # the canvas has the keyboard since the first click
            _wait_for(mask_file.is_file, f"{mask_file}", page)
            expect(progress.first).to_contain_text("labelled 1 / 3", timeout=30_000)
            page.wait_for_timeout(300)  # let the overlay paint
            widget = page.locator(".aurora-xr-labeltool").first
            widget.screenshot(path=str(drawn))
            extra = os.environ.get("AURORA_XR_SCREENSHOT")
            if extra:
                widget.screenshot(path=extra)
            phase("draw polygon, save")
        except BaseException:
            with contextlib.suppress(Exception):
                page.screenshot(path=str(failure), full_page=True)
            print(f"\nscreenshot of the failure: {failure}")
            print(lab["log"].read_text(errors="replace")[-4000:])
            raise
        finally:
            browser.close()

    total = time.perf_counter() - started
    print("\ntimes: " + ", ".join(f"{k} {v:.1f} s" for k, v in phases.items()))
    print(f"total {total:.1f} s; screenshot: {drawn}")

    # the mask file: 0 / 255, exactly the polygon the browser sent, rasterised by the convention
    saved = np.asarray(Image.open(mask_file))
    assert saved.shape == (SIZE, SIZE)
    assert saved.dtype == np.uint8
    assert set(np.unique(saved).tolist()) <= {0, 255}
    coco = json.loads((root / "labelled" / "coco.json").read_text())
    (ann,) = coco["annotations"]
    sent = np.asarray(ann["segmentation"][0], dtype=float).reshape(-1, 2)
    # the vertices arrived where the mouse clicked (within a screen pixel: 1/8 frame pixel)
    np.testing.assert_allclose(sent, POLYGON, atol=1.0 / scale + 1e-9)
    expected = polygon_mask(sent, SIZE, SIZE, pixel_origin="corner")
    np.testing.assert_array_equal(saved == 255, expected)
    # the convention on the intended polygon: pixels whose centre is clearly inside are 255,
    # clearly outside 0 (only centres within a click's rounding of an edge could differ)
    intended = polygon_mask(POLYGON, SIZE, SIZE, pixel_origin="corner")
    assert (saved[intended] == 255).mean() > 0.97
    assert (saved[~intended] == 0).mean() > 0.99
    assert saved[30, 30] == 255
    assert saved[2, 2] == 0
    assert saved[60, 60] == 0
    # read back by the label readers, both formats, to the same mask
    for source in (root / "labelled", root / "labelled" / "coco.json"):
        ds = read_labels(source)
        assert [Path(s).stem for s in ds["source"].values] == [stem]
        np.testing.assert_array_equal(ds["mask"].values[0], saved == 255)
