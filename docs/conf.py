"""Sphinx configuration of the aurora_xr documentation.

Build (offline, warnings are errors)::

    make docs
    # or: .venv/bin/python -m sphinx -W --keep-going -b html docs docs/_build/html

Before Sphinx reads anything, this file generates (into ``docs/generated/``, git-ignored):

* the API reference pages, from the package itself (``_scripts/api_pages.py``);
* the figures and the data-format tables, computed with the library on the synthetic sky,
  and the ``--help`` of the command line (``_scripts/make_figures.py``; skipped when the
  package did not change);
* a copy of the notebooks in ``notebooks/`` (the tutorials), rendered without being run:
  the test suite runs them.

Nothing is downloaded: intersphinx is not used, and no extension fetches anything.
"""

from __future__ import annotations

import inspect
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import sphinx_autosummary_accessors
from sphinx.util import logging

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
GENERATED = DOCS / "generated"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS / "_scripts"))
os.environ.setdefault("MPLBACKEND", "Agg")

import aurora_xr  # noqa: E402

logger = logging.getLogger(__name__)

# -- project -------------------------------------------------------------------------------------

project = "aurora_xr"
author = "aurora_xr developers"
copyright = "aurora_xr developers"
release = aurora_xr.__version__
version = ".".join(release.split(".")[:2])

# -- extensions ----------------------------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "sphinx.ext.mathjax",
    "sphinx_autosummary_accessors",
    "myst_nb",
]

templates_path = ["_templates", sphinx_autosummary_accessors.templates_path]
exclude_patterns = [
    "_build",
    "_scripts",
    "_templates",
    "dev",  # the developers' internal contracts
    "generated/tables",  # included into pages, not pages themselves
    "generated/figures",
    "**.ipynb_checkpoints",
]
root_doc = "index"
language = "en"

# autodoc / autosummary / napoleon: numpydoc-style docstrings, types written in the docstrings
autosummary_generate = True
autosummary_imported_members = False
autodoc_typehints = "none"
autodoc_member_order = "bysource"
autodoc_preserve_defaults = True
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_ivar = True  # "Attributes" as fields: no duplicate of the documented members
napoleon_use_rtype = False
napoleon_preprocess_types = False
# Attribute fields of dataclasses name their members (height, width, dtype); where several
# classes have a member of that name, Sphinx reports the short name as ambiguous. The
# fields render the same either way, so that one warning category is silenced.
suppress_warnings = ["ref.python"]

# MyST and notebooks: pages are Markdown; notebooks are shown as saved (the test suite runs
# them), never executed here.
myst_enable_extensions = ["colon_fence", "dollarmath", "deflist", "attrs_inline"]
myst_heading_anchors = 3
nb_execution_mode = "off"
nb_merge_streams = True

# -- HTML ----------------------------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"aurora_xr {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_theme_options: dict[str, Any] = {
    "navigation_depth": 3,
    "show_toc_level": 2,
    "header_links_before_dropdown": 7,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_show_sourcelink = False

# -- generated sources ---------------------------------------------------------------------------


def copy_notebooks() -> list[str]:
    """Copy ``notebooks/*.ipynb`` into ``generated/notebooks`` (only what changed).

    A notebook saved without ``language_info`` (e.g. written with nbformat) gets
    ``python`` in the copy, so that its cells are highlighted and the build does not warn.
    """
    import json

    source = ROOT / "notebooks"
    target = GENERATED / "notebooks"
    target.mkdir(parents=True, exist_ok=True)
    wanted = {p.name: p for p in sorted(source.glob("*.ipynb"))} if source.is_dir() else {}
    for old in target.glob("*.ipynb"):
        if old.name not in wanted:
            old.unlink()
    for name, path in wanted.items():
        notebook = json.loads(path.read_text(encoding="utf-8"))
        metadata = notebook.setdefault("metadata", {})
        if not metadata.get("language_info", {}).get("name"):
            metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
        _write_if_changed(target / name, json.dumps(notebook, indent=1, ensure_ascii=False))
    return sorted(wanted)


def copy_demo_figures() -> None:
    """Show the demo's figures on the front page when ``demo_output/`` holds them."""
    demo = ROOT / "demo_output"
    figures = GENERATED / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    found = []
    for key, caption in (
        ("occurrence", "Occurrence map made by ``aurora-xr demo``."),
        ("three_panel", "Three-panel figure made by ``aurora-xr demo``."),
    ):
        candidates = sorted(demo.rglob(f"*{key}*.png")) if demo.is_dir() else []
        target = figures / f"demo_{key}.png"
        if candidates:
            shutil.copyfile(candidates[0], target)
            found.append(
                f"```{{figure}} generated/figures/demo_{key}.png\n:width: 100%\n\n{caption}\n```\n"
            )
        elif target.exists():
            target.unlink()
    text = ""
    if found:
        text = "## From the demo\n\n" + "\n".join(found)
    page = GENERATED / "tables" / "demo.md"
    page.parent.mkdir(parents=True, exist_ok=True)
    if not page.exists() or page.read_text() != text:
        page.write_text(text)


def list_notebooks(names: list[str]) -> None:
    """The toctree of the tutorials page: the notebooks, or a note that there are none yet."""
    if names:
        entries = "\n".join(f"generated/notebooks/{Path(n).stem}" for n in names)
        text = f"```{{toctree}}\n:maxdepth: 1\n\n{entries}\n```\n"
    else:
        text = "```{note}\nThere are no notebooks in `notebooks/` yet.\n```\n"
    _write_if_changed(GENERATED / "tables" / "tutorials.md", text)


def _write_if_changed(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def list_benchmarks() -> None:
    """List ``benchmarks/*.py`` with the first paragraph of their docstrings."""
    import ast

    rows = []
    for path in sorted((ROOT / "benchmarks").glob("*.py")):
        if path.name.startswith("_"):
            continue
        try:
            doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        except SyntaxError:
            doc = ""
        summary = " ".join(doc.strip().split("\n\n")[0].split()) or "(no description)"
        rows.append(
            f"`benchmarks/{path.name}`\n: {summary}\n\n"
            f"  ```bash\n  .venv/bin/python benchmarks/{path.name}\n  ```\n"
        )
    text = "\n".join(rows) if rows else "No benchmark scripts yet.\n"
    page = GENERATED / "tables" / "benchmarks.md"
    page.parent.mkdir(parents=True, exist_ok=True)
    if not page.exists() or page.read_text() != text:
        page.write_text(text)


def generate(app: Any, config: Any) -> None:
    """Write the generated sources before Sphinx looks for documents."""
    import api_pages
    import architecture
    import make_figures
    import synthetic_sheets

    api_pages.write_api_pages(GENERATED / "api")
    architecture.draw(GENERATED / "figures" / "architecture.png")
    list_notebooks(copy_notebooks())
    copy_demo_figures()
    list_benchmarks()
    for problem in make_figures.main():
        logger.warning("docs/_scripts/make_figures.py: %s", problem)
    for problem in synthetic_sheets.main(GENERATED / "figures"):
        logger.warning("docs/_scripts/synthetic_sheets.py: %s", problem)
    __import__("ingest_figures").draw(GENERATED / "figures", warn=logger.warning)


# -- docstrings ----------------------------------------------------------------------------------

_NAME_LIST_CONTINUED = re.compile(r"^(\s*)\w+(\s*,\s*\w+)*\s*,\s*$")
_UNDERLINE = re.compile(r"^(\s*)([-=~^])\2+\s*$")


def tidy_docstring(
    app: Any, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    """Small repairs before napoleon reads a docstring (the sources stay as they are).

    * A list of parameter names wrapped over two lines (``a, b,`` / ``c : type``) is
      joined into one line, as numpydoc means it.
    * A section underline shorter than its title is lengthened.
    * A constant without documentation of its own would show the docstring of its type
      (``dict``, ``int``, ...); that is dropped.
    """
    if what in ("data", "attribute") and lines:
        type_doc = inspect.getdoc(type(obj)) or ""
        if " ".join(" ".join(lines).split()) == " ".join(type_doc.split()):
            lines[:] = []
            return
    i = 0
    while i < len(lines) - 1:
        line, following = lines[i], lines[i + 1]
        wrapped = _NAME_LIST_CONTINUED.match(line)
        if wrapped and following.startswith(wrapped.group(1)) and following.strip()[:1].isalpha():
            indent = wrapped.group(1)
            if not following[len(indent) :].startswith(" "):
                lines[i] = f"{line.rstrip()} {following.strip()}"
                del lines[i + 1]
                continue
        underline = _UNDERLINE.match(following)
        if underline and line.strip() and len(following.rstrip()) < len(line.rstrip()):
            lines[i + 1] = underline.group(1) + underline.group(2) * len(line.strip())
        i += 1


def resolve_reexport(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    """Link ``aurora_xr.plot.plot_sky`` (a re-export) to where it is documented
    (``aurora_xr.plot.sky.plot_sky``)."""
    import api_pages

    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    home = api_pages.ALIASES.get(target)
    if home is None:
        return None
    domain = env.get_domain("py")
    return domain.resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], home, node, contnode
    )


def setup(app: Any) -> dict[str, Any]:
    app.connect("config-inited", generate)
    app.connect("missing-reference", resolve_reexport)
    app.connect("autodoc-process-docstring", tidy_docstring, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
