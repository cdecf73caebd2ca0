"""The notebooks in ``notebooks/`` run top to bottom, and are committed without outputs.

Each notebook is executed with nbclient in a kernel of *this* interpreter (a
kernelspec written to a temporary ``JUPYTER_PATH``, so neither a user-wide
``python3`` kernel of another Python nor an installed kernelspec is needed),
in a fresh working directory, with ``AURORA_XR_QUICK=1`` for small sizes.
Any error in any cell fails the test. The executed copies (with outputs) are
kept in ``artifacts/notebooks/`` for inspection; the time of each notebook is
printed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import nbclient
import nbformat
import pytest
from jupyter_client.manager import KernelManager

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
ARTIFACTS = ROOT / "artifacts" / "notebooks"
EXPECTED = [
    "01_quickstart",
    "02_browse_sky",
    "03_occurrence_maps",
    "04_compare_methods",
    "05_train_model",
    "06_scale_out",
    "07_your_own_camera",
    "08_label_and_finetune",
]
KERNEL_NAME = "aurora-xr-tests"
CELL_TIMEOUT_S = 600


def _strip_script() -> Any:
    spec = importlib.util.spec_from_file_location(
        "strip_notebooks", ROOT / "scripts" / "strip_notebooks.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def kernel_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A JUPYTER_PATH folder with a kernelspec that runs this interpreter."""
    root = tmp_path_factory.mktemp("jupyter_path")
    spec_dir = root / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "aurora_xr tests",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    return root


def test_the_notebooks_are_all_there() -> None:
    found = sorted(p.stem for p in NOTEBOOK_DIR.glob("*.ipynb"))
    assert found == EXPECTED


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_is_committed_without_outputs(name: str) -> None:
    path = NOTEBOOK_DIR / f"{name}.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert _strip_script().problems(nb) == []
    nbformat.validate(nbformat.reads(path.read_text(encoding="utf-8"), as_version=4))
    first = nb["cells"][0]
    assert first["cell_type"] == "markdown"
    assert "".join(first["source"]).startswith("# ")  # the title, used by the docs


def test_strip_script_cleans_an_executed_notebook(tmp_path: Path) -> None:
    strip = _strip_script()
    nb = json.loads((NOTEBOOK_DIR / "01_quickstart.ipynb").read_text(encoding="utf-8"))
    code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    code["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["hi\n"]}]
    code["execution_count"] = 3
    nb["metadata"]["widgets"] = {"state": {}}
    path = tmp_path / "dirty.ipynb"
    strip.write(nb, path)
    assert strip.main(["--check", str(path)]) == 1
    assert strip.main([str(path)]) == 0
    assert strip.main(["--check", str(path)]) == 0
    clean = json.loads(path.read_text(encoding="utf-8"))
    assert all(c.get("outputs", []) == [] for c in clean["cells"])
    assert "widgets" not in clean["metadata"]


@pytest.mark.slow
@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_runs(
    name: str, kernel_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "JUPYTER_PATH",
        os.pathsep.join([str(kernel_path), *filter(None, [os.environ.get("JUPYTER_PATH")])]),
    )
    monkeypatch.setenv("AURORA_XR_QUICK", "1")
    monkeypatch.delenv("AURORA_XR_MODEL", raising=False)
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    nb = nbformat.read(NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)
    # IPC sockets in the temporary folder: the kernel listens on no TCP port at all
    km = KernelManager(
        kernel_name=KERNEL_NAME, transport="ipc", connection_file=str(tmp_path / "kernel.json")
    )
    client = nbclient.NotebookClient(
        nb,
        km=km,
        kernel_name=KERNEL_NAME,
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(tmp_path)}},
        allow_errors=False,
    )
    start = time.perf_counter()
    try:
        client.execute()
    finally:
        seconds = time.perf_counter() - start
        if km.has_kernel:  # nbclient leaves a kernel it did not start running
            km.shutdown_kernel(now=False)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, ARTIFACTS / f"{name}.ipynb")
        print(f"\n{name}: {seconds:.1f} s (executed copy: {ARTIFACTS / (name + '.ipynb')})")
    errors = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.get("output_type") == "error"
    ]
    assert errors == []
    warnings = [
        out["text"]
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.get("name") == "stderr" and "warning" in out.get("text", "").lower()
    ]
    assert warnings == [], "the notebook printed warnings:\n" + "\n".join(warnings)
