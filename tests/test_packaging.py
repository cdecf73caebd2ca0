"""The package metadata, the conda environment and the import hygiene agree."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

# conda-forge names that differ from the PyPI names
CONDA_TO_PYPI = {"pytorch": "torch"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_names_the_runtime_dependencies() -> None:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pypi = {_name(r) for r in meta["project"]["dependencies"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {
        CONDA_TO_PYPI.get(_name(d), _name(d))
        for d in env["dependencies"]
        if isinstance(d, str) and _name(d) not in {"python", "pip"}
    }
    assert conda == pypi


def test_torch_is_pinned_everywhere() -> None:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "torch==2.14.1" in meta["project"]["dependencies"]
    assert "torchvision==0.29.1" in meta["project"]["dependencies"]
    constraints = (ROOT / "constraints.txt").read_text().splitlines()
    assert "torch==2.14.1" in constraints
    assert "torchvision==0.29.1" in constraints


def test_import_loads_no_heavy_optional_modules() -> None:
    code = (
        "import sys, aurora_xr, aurora_xr.accessor;"
        "heavy = [m for m in ('torch', 'torchvision', 'cartopy', 'ipywidgets', 'matplotlib')"
        " if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""


def test_py_typed_marker_ships() -> None:
    assert (ROOT / "aurora_xr" / "py.typed").exists()
