"""A real browser: JupyterLab in headless Chromium, driven by Playwright.

The test starts a JupyterLab server on 127.0.0.1 (a free port, a token, its
own config, data and runtime folders, the kernel of this interpreter), opens
a copy of ``notebooks/03_occurrence_maps.ipynb``, waits for the kernel to be
idle, runs all cells from the Run menu, waits for the OccurrenceExplorer to
render, moves its MLT slider with the keyboard and checks that the readout
and the figure changed. Screenshots go to ``artifacts/browser/`` (printed).

It needs Debian's Chromium at /usr/bin/chromium (``scripts/bootstrap.sh
--dev`` installs it; never ``playwright install``): without it the test
fails, it is never skipped.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "03_occurrence_maps.ipynb"
ARTIFACTS = ROOT / "artifacts" / "browser"
CHROMIUM = Path(os.environ.get("AURORA_XR_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_S = 90
RUN_ALL_S = 300
WIDGET_UPDATE_S = 60

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_server(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(
                f"JupyterLab exited with {proc.returncode}:\n{log.read_text(errors='replace')}"
            )
        with (
            contextlib.suppress(urllib.error.URLError, OSError),
            urllib.request.urlopen(url, timeout=2) as reply,
        ):
            if reply.status == 200:
                return
        time.sleep(0.5)
    raise AssertionError(
        f"JupyterLab did not answer within {SERVER_START_S} s:\n{log.read_text(errors='replace')}"
    )


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A JupyterLab server on 127.0.0.1 serving a folder with a copy of the notebook."""
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    config, data, runtime = tmp_path / "config", tmp_path / "data", tmp_path / "runtime"
    for d in (config, data, runtime):
        d.mkdir()
    # the notebook asks for "python3": make that this interpreter, whatever the machine has
    spec_dir = data / "kernels" / "python3"
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3 (ipykernel)",
                "language": "python",
            }
        )
    )
    # no news pop-up over the notebook
    (config / "labconfig").mkdir()
    (config / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    )
    env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", "JUPYTER_PATH")}
    env.update(
        JUPYTER_CONFIG_DIR=str(config),
        JUPYTER_DATA_DIR=str(data),
        JUPYTER_RUNTIME_DIR=str(runtime),
        JUPYTER_PATH=str(data),
        IPYTHONDIR=str(tmp_path / "ipython"),
        PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        AURORA_XR_QUICK="1",
        PYDEVD_DISABLE_FILE_VALIDATION="1",
    )
    env.pop("AURORA_XR_MODEL", None)
    port, token = _free_port(), secrets.token_hex(16)
    log = tmp_path / "jupyterlab.log"
    cmd = [
        sys.executable, "-m", "jupyterlab",
        "--allow-root",
        "--ServerApp.open_browser=False",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.terminals_enabled=False",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for_server(f"{base}/api/status?token={token}", proc, log)
        yield {"base": base, "token": token, "root": root, "log": log}
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # the server shuts its kernels down
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # the server's own process group
                proc.wait(timeout=10)


def _cell_states(page: Any) -> dict[str, int]:
    """Code cells of the notebook: how many there are, are running, have run."""
    return page.evaluate(
        """() => {
            const prompts = [...document.querySelectorAll(
                '.jp-Notebook .jp-CodeCell .jp-InputArea-prompt')].map(p => p.textContent.trim());
            return {
                cells: prompts.length,
                running: prompts.filter(t => t.includes('*')).length,
                done: prompts.filter(t => /\\[\\d+\\]/.test(t)).length,
            };
        }"""
    )


def test_occurrence_explorer_in_jupyterlab(lab: dict[str, Any]) -> None:
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}: the browser test drives Debian's Chromium. "
            "Install it with `bash scripts/bootstrap.sh --dev` (apt-get install chromium); "
            "do not use `playwright install`."
        )
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shots = {
        k: ARTIFACTS / f"{k}.png"
        for k in ("page_after_run", "widget_before", "widget_after", "page_final", "failure")
    }
    started = time.perf_counter()
    phases: dict[str, float] = {}
    url = f"{lab['base']}/lab/tree/{NOTEBOOK.name}?reset&token={lab['token']}"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        try:
            page.goto(url)
            page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=90_000)
            # the kernel must be idle before running, else the first cells can be lost
            expect(page.locator(".jp-StatusBar-TextItem", has_text="Idle").first).to_be_visible(
                timeout=120_000
            )
            phases["lab open, kernel idle"] = time.perf_counter() - started

            page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
            page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
            deadline = time.monotonic() + RUN_ALL_S
            while True:
                states = _cell_states(page)
                if states["cells"] and states["done"] == states["cells"] and not states["running"]:
                    break
                assert time.monotonic() < deadline, f"cells did not finish: {states}"
                page.wait_for_timeout(500)
            phases["run all cells"] = time.perf_counter() - started - sum(phases.values())
            errors = page.locator(
                '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]'
            )
            assert errors.count() == 0, errors.first.inner_text()

            widget = page.locator(".aurora-xr-widget").first
            expect(widget).to_be_visible(timeout=WIDGET_UPDATE_S * 1000)
            image = widget.locator("img").first
            expect(image).to_be_visible(timeout=WIDGET_UPDATE_S * 1000)
            slider = widget.locator(".widget-slider", has_text="MLT").first
            readout = widget.locator(".widget-html", has_text="MLT").first
            expect(readout).to_contain_text("MLT", timeout=WIDGET_UPDATE_S * 1000)
            page.screenshot(path=str(shots["page_after_run"]), full_page=False)
            widget.scroll_into_view_if_needed()
            before_text = readout.inner_text().strip()
            before_src = image.get_attribute("src")
            widget.screenshot(path=str(shots["widget_before"]))

            handle = slider.locator(".noUi-handle").first
            handle.focus()
            handle.press("ArrowRight")
            expect(readout).not_to_have_text(before_text, timeout=WIDGET_UPDATE_S * 1000)
            after_text = readout.inner_text().strip()
            deadline = time.monotonic() + WIDGET_UPDATE_S
            while image.get_attribute("src") == before_src:
                assert time.monotonic() < deadline, "the figure did not change"
                page.wait_for_timeout(250)
            page.wait_for_timeout(500)  # let the new image paint
            widget.screenshot(path=str(shots["widget_after"]))
            page.screenshot(path=str(shots["page_final"]), full_page=False)
            phases["move slider, redraw"] = time.perf_counter() - started - sum(phases.values())
        except BaseException:
            with contextlib.suppress(Exception):
                page.screenshot(path=str(shots["failure"]), full_page=True)
            print(f"\nscreenshot of the failure: {shots['failure']}")
            print(lab["log"].read_text(errors="replace")[-4000:])
            raise
        finally:
            browser.close()

    total = time.perf_counter() - started
    print(f"\nreadout: {before_text!r} -> {after_text!r}")
    print(
        "times: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in phases.items())
        + f"; total {total:.1f} s"
    )
    for key in ("page_after_run", "widget_before", "widget_after", "page_final"):
        print(f"screenshot: {shots[key]}")
    hour = int(before_text.split()[1][:2])
    assert after_text == f"MLT {(hour + 1) % 24:02d}–{(hour + 1) % 24 + 1:02d}"
    assert shots["widget_before"].read_bytes() != shots["widget_after"].read_bytes()
