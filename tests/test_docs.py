"""The documentation: complete sources, figures in step with the code, an offline build.

The HTML itself is built by ``make docs`` (CI runs it); here the same Sphinx configuration is
run with the ``dummy`` builder and warnings as errors: it reads every page, runs autodoc on
every documented object and resolves every reference, which is what can fail, without
writing HTML.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import importlib.util
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import aurora_xr
from aurora_xr.accessor import AuroraDataArrayAccessor, AuroraDatasetAccessor

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

KEY_PAGES = [
    "index.md",
    "installation.md",
    "quickstart.md",
    "command_line.md",
    "concepts/index.md",
    "concepts/geometry.md",
    "concepts/altitude.md",
    "concepts/magnetic.md",
    "concepts/cells.md",
    "concepts/detection.md",
    "concepts/usable.md",
    "concepts/star_calibration.md",
    "concepts/synthetic_sky.md",
    "architecture.md",
    "formats.md",
    "labels.md",
    "data_format.md",
    "tutorials.md",
    "scaling.md",
    "benchmarks.md",
    "contributing.md",
    "changelog.md",
    "api/index.rst",
]


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def api_pages() -> ModuleType:
    return _load("aurora_xr_docs_api_pages", DOCS / "_scripts" / "api_pages.py")


def _page(path: str) -> str:
    return (DOCS / path).read_text(encoding="utf-8")


# -- sources ---------------------------------------------------------------------------------


@pytest.mark.parametrize("page", KEY_PAGES)
def test_key_page_exists_with_a_title(page: str) -> None:
    text = _page(page)
    first = next(line for line in text.splitlines() if line.strip())
    assert first.startswith("# ") or re.match(r"^[A-Za-z]", first), first


def test_every_toctree_entry_is_a_page() -> None:
    missing = []
    for path in [*DOCS.glob("*.md"), *DOCS.glob("concepts/*.md"), *DOCS.glob("api/*.rst")]:
        text = path.read_text(encoding="utf-8")
        blocks = re.findall(r"```\{toctree\}\n(.*?)```", text, flags=re.S)
        blocks += re.findall(r"\.\. toctree::\n((?:[ \t]+.*\n|\n)+)", text)
        for block in blocks:
            for line in block.splitlines():
                entry = line.strip()
                if not entry or entry.startswith(":") or "generated/" in entry:
                    continue
                target = (path.parent / entry).resolve()
                if not any(target.with_suffix(s).exists() for s in (".md", ".rst", ".ipynb")):
                    missing.append(f"{path.relative_to(DOCS)}: {entry}")
    assert not missing


def test_every_public_name_is_in_the_reference(api_pages: ModuleType) -> None:
    names = api_pages.public_modules()
    infos = api_pages.collect(names)
    assert "aurora_xr" in infos
    # Each export of the package is documented on the page of its home module.
    top = infos["aurora_xr"]
    exported = {m.name for m in top.members}
    not_modules = {n for n in aurora_xr.__all__ if not inspect.ismodule(getattr(aurora_xr, n))}
    assert not_modules <= exported
    for member in top.members:
        home_page = api_pages.module_page(infos[member.home])
        assert re.search(rf"(^|\.|\s){re.escape(member.name)}$", home_page, flags=re.M), (
            member.name,
            member.home,
        )
    # Every module's own members are on its page, and every module is on the modules page.
    modules_page = api_pages.modules_page(names)
    for info in infos.values():
        assert f"   {info.name}\n" in modules_page
        page = api_pages.module_page(info)
        for member in info.members:
            assert member.name in page, (info.name, member.name)


def _public(cls: type) -> set[str]:
    return {name for name in dir(cls) if not name.startswith("_")}


def test_every_accessor_method_is_in_the_reference(api_pages: ModuleType) -> None:
    text, stubs = api_pages.accessor_page()
    for target, cls in (("Dataset", AuroraDatasetAccessor), ("DataArray", AuroraDataArrayAccessor)):
        assert f"xarray.{target}.aurora" in stubs
        for name in _public(cls):
            assert f"xarray.{target}.aurora.{name}" in stubs
            assert f"   {target}.aurora.{name}\n" in text


def _conf_settings() -> dict[str, object]:
    """The literal settings of ``docs/conf.py`` (read without running it)."""
    settings: dict[str, object] = {}
    for node in ast.parse(_page("conf.py")).body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and node.value is not None:
                    with contextlib.suppress(ValueError):
                        settings[target.id] = ast.literal_eval(node.value)
    return settings


def test_conf_builds_offline() -> None:
    conf = _conf_settings()
    extensions = conf["extensions"]
    assert isinstance(extensions, list)
    assert "sphinx.ext.intersphinx" not in extensions  # it would fetch inventories
    assert {"sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx_autosummary_accessors"} <= set(
        extensions
    )
    assert conf["nb_execution_mode"] == "off"  # notebooks run in the test suite instead
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "-W --keep-going -b html" in makefile
    assert "docs-clean:" in makefile


def test_readme_commands_are_in_the_quick_start() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"^(bash scripts/bootstrap\.sh.*)$", readme, flags=re.M)
    assert len(commands) == 2
    quickstart = _page("quickstart.md")
    for command in commands:
        assert command in quickstart


# -- figures and numbers quoted in the pages follow the code -----------------------------------


def test_distance_table_matches_the_geometry() -> None:
    from aurora_xr.sky.shell import ground_distance_km

    text = _page("concepts/altitude.md")
    header = re.search(r"^\| elevation \|(.*)\|$", text, flags=re.M)
    assert header is not None
    elevations = [float(c.strip().rstrip("°")) for c in header.group(1).split("|")]
    for altitude in (110.0, 230.0):
        row = re.search(rf"^\| \$d\$ at {altitude:.0f} km \|(.*)\|$", text, flags=re.M)
        assert row is not None, altitude
        quoted = [float(re.sub(r"[^0-9.]", "", c) or 0) for c in row.group(1).split("|")]
        computed = np.round(ground_distance_km(np.array(elevations), altitude))
        np.testing.assert_allclose(quoted, computed, atol=1.0)


def test_ring_counts_match_the_cell_layout() -> None:
    from aurora_xr.geo.cells import layout_cells

    text = " ".join(_page("concepts/cells.md").split())
    counts = layout_cells(400).ring_counts
    quoted = ", ".join(str(c) for c in counts[:-1]) + f" and {counts[-1]}"
    assert quoted in text


def test_split_matches_the_model_default() -> None:
    from aurora_xr.model.data import DEFAULT_SPLIT

    train, val, test = (int(v) for v in DEFAULT_SPLIT)
    text = " ".join(_page("concepts/detection.md").split())
    assert f"{train + val + test} expert-labelled" in text
    assert f"{train} training / {val} validation / {test} test" in text


def test_mlt_rule_of_thumb_holds_at_jbs() -> None:
    from aurora_xr.geo.mlt import station_mlt
    from aurora_xr.sky.stations import get_station

    jbs = get_station("JBS")
    times = np.arange(
        np.datetime64("2018-01-01", "ns"),
        np.datetime64("2024-01-01", "ns"),
        np.timedelta64(50, "m"),
    )
    offset = (station_mlt(times, jbs.latitude, jbs.longitude) - _hours(times)) % 24
    # the page: "MLT ≈ UT + 15.5 h", "between about 15.0 h and 16.1 h"
    assert offset.min() > 14.9
    assert offset.max() < 16.2
    assert abs(np.median(offset) - 15.5) < 0.1
    text = " ".join(_page("concepts/magnetic.md").split())
    assert "MLT ≈ UT + 15.5 h" in text
    assert "between about 15.0 h and 16.1 h" in text


def _hours(times: np.ndarray) -> np.ndarray:
    day = times.astype("datetime64[D]")
    return (times - day) / np.timedelta64(1, "h")


# -- the build -------------------------------------------------------------------------------


@pytest.mark.slow
def test_sphinx_build_offline_without_warnings(tmp_path: Path) -> None:
    """Read every page with warnings as errors, with the network made unreachable."""
    dead = "http://127.0.0.1:9"
    env = {
        **os.environ,
        "http_proxy": dead,
        "https_proxy": dead,
        "HTTP_PROXY": dead,
        "HTTPS_PROXY": dead,
        "no_proxy": "",
        "MPLBACKEND": "Agg",
        "PYTHONWARNINGS": "ignore",
    }
    doctrees = tmp_path / "doctrees"
    cmd = [
        sys.executable,
        "-m",
        "sphinx",
        "-W",
        "--keep-going",
        "-q",
        "-b",
        "dummy",
        "-d",
        str(doctrees),
        str(DOCS),
        str(tmp_path / "out"),
    ]
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-6000:] + result.stdout[-2000:]

    # Every key page was read, and the API reference holds the accessor methods.
    for page in KEY_PAGES:
        docname = page.rsplit(".", 1)[0]
        assert (doctrees / f"{docname}.doctree").exists(), docname
    api = doctrees / "generated" / "api"
    assert (api / "accessor.doctree").exists()
    assert (api / "modules.doctree").exists()
    for target, cls in (("Dataset", AuroraDatasetAccessor), ("DataArray", AuroraDataArrayAccessor)):
        for name in _public(cls):
            assert (api / f"xarray.{target}.aurora.{name}.doctree").exists(), (target, name)
    for name in aurora_xr.__all__:
        obj = getattr(aurora_xr, name)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            pages = list(api.glob(f"*.{name}.doctree"))
            assert pages, name
    for figure in ("cells_on_frame.png", "three_panel.png", "ground_distance.png"):
        assert (DOCS / "generated" / "figures" / figure).exists(), figure


_ROLE_MD = re.compile(r"\{(?:func|class|mod|meth|data|attr)\}`(?:[^`<]*<)?~?(aurora_xr[\w.]*)>?`")
_ROLE_RST = re.compile(r":(?:func|class|mod|meth|data|attr):`~?(aurora_xr[\w.]*)`")


def _resolves(path: str) -> bool:
    """Whether a dotted ``aurora_xr...`` path names a module or an object in one."""
    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for part in parts[i:]:
            fields = getattr(obj, "__dataclass_fields__", {})
            if not hasattr(obj, part) and part not in fields:
                return False
            obj = getattr(obj, part, None)
        return True
    return False


def test_every_cross_reference_names_a_real_object() -> None:
    """Stale module paths would render as plain text (the build is not nitpicky): none left."""
    pages = [
        p
        for p in (ROOT / "docs").rglob("*.md")
        if not {"generated", "_build", "dev"} & set(p.parts)
    ]
    found = [(p, m) for p in pages for m in _ROLE_MD.findall(p.read_text(encoding="utf-8"))]
    sources = list((ROOT / "aurora_xr").rglob("*.py"))
    found += [(p, m) for p in sources for m in _ROLE_RST.findall(p.read_text(encoding="utf-8"))]
    assert len(found) > 100
    assert [f"{p.relative_to(ROOT)}: {m}" for p, m in found if not _resolves(m)] == []
