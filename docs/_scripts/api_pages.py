"""Write the API reference pages of the aurora_xr documentation.

Run by ``docs/conf.py`` at every build (``python docs/_scripts/api_pages.py`` runs it alone).
Every page is generated from the package itself, so the reference follows the code:

* ``generated/api/aurora_xr.rst``: the top-level package and what it exports;
* ``generated/api/accessor.rst``: every public method and property of the ``.aurora``
  accessor of Dataset and DataArray (read from the accessor classes, so a new accessor
  method appears without editing anything here);
* ``generated/api/modules.rst``: the modules, grouped by :data:`GROUPS`; a public module that
  no group names lands in "Other modules", a named module that does not exist is left out;
* ``generated/api/<module>.rst``: one page per module: its docstring, then tables of the
  functions, classes, exceptions and constants it defines (each on its own page, written by
  ``sphinx.ext.autosummary``) and of the names it re-exports (linked to where they are
  documented).

Every object is documented once, in its *home*: the public module that defines it (or, for
an object defined in a private module or a constant, the deepest public module that lists it
in ``__all__``).
"""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
import sys
import types
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PACKAGE = "aurora_xr"


def _groups() -> list[tuple[str, list[str]]]:
    """One section per layer (docs/_scripts/architecture.py), top level first."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from architecture import LAYERS

    groups = [("Package and accessor", ["aurora_xr", "aurora_xr.accessor", "aurora_xr.errors"])]
    for name, prefixes, text in LAYERS:
        if name in ("accessor", "errors, _times"):
            continue
        groups.append((f"{name}: {text}", [f"{p}*" for p in prefixes]))
    return groups


#: Section title and modules (``pkg*``: the package and every public module under it) of
#: the "Modules" page: one section per layer. A public module no section names lands in
#: "Other modules".
GROUPS: list[tuple[str, list[str]]] = _groups()

ACCESSORS = (
    ("Dataset", "aurora_xr.accessor", "AuroraDatasetAccessor"),
    ("DataArray", "aurora_xr.accessor", "AuroraDataArrayAccessor"),
)

KIND_TITLES = {
    "function": "Functions",
    "class": "Classes",
    "exception": "Exceptions",
    "data": "Constants",
}
KIND_ORDER = ("function", "class", "exception", "data")


@dataclass
class Member:
    """One name that a module lists in ``__all__``."""

    name: str
    obj: Any
    kind: str  # function | class | exception | data
    home: str = ""  # module where it is documented


@dataclass
class ModuleInfo:
    """A public module and the members it lists in ``__all__``."""

    name: str
    module: types.ModuleType
    members: list[Member] = field(default_factory=list)


def _is_private(modname: str) -> bool:
    return any(part.startswith("_") for part in modname.split("."))


def public_modules(package: str = PACKAGE) -> list[str]:
    """Names of the importable public modules of ``package`` (itself first)."""
    pkg = importlib.import_module(package)
    names = [package]
    for info in pkgutil.walk_packages(pkg.__path__, prefix=f"{package}.", onerror=lambda _: None):
        if not _is_private(info.name):
            names.append(info.name)
    return names


def _kind(obj: Any) -> str:
    if inspect.isclass(obj):
        return "exception" if issubclass(obj, BaseException) else "class"
    if inspect.isroutine(obj):
        return "function"
    return "data"


def _unique(names: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for name in names:
        seen.setdefault(name, None)
    return list(seen)


def collect(modnames: Iterable[str]) -> dict[str, ModuleInfo]:
    """Import the modules, read their ``__all__`` and find each object's home."""
    infos: dict[str, ModuleInfo] = {}
    for modname in modnames:
        module = importlib.import_module(modname)
        info = ModuleInfo(modname, module)
        for name in _unique(getattr(module, "__all__", ())):
            if name.startswith("_") and name != "__version__":
                continue
            obj = getattr(module, name)
            if isinstance(obj, types.ModuleType):
                continue
            info.members.append(Member(name, obj, _kind(obj)))
        infos[modname] = info

    # Home of every object: its defining module when that is public and lists it; else the
    # deepest public module that lists it.
    # (Keyed by name and identity: small ints and strings are shared between modules.)
    listed_in: dict[tuple[str, int], list[str]] = {}
    for info in infos.values():
        for member in info.members:
            listed_in.setdefault((member.name, id(member.obj)), []).append(info.name)
    for info in infos.values():
        for member in info.members:
            owners = listed_in[(member.name, id(member.obj))]
            defining = getattr(member.obj, "__module__", None) if member.kind != "data" else None
            if defining in owners:
                member.home = defining  # type: ignore[assignment]
            else:
                member.home = max(owners, key=lambda m: (m.count("."), m != PACKAGE))
    return infos


def _underline(title: str, char: str = "=") -> str:
    return f"{title}\n{char * len(title)}\n"


def _first_line(obj: Any) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def _data_directive(fullname: str, obj: Any) -> str:
    lines = [f".. autodata:: {fullname}"]
    if len(repr(obj)) > 100:
        lines.append("   :no-value:")
    return "\n".join(lines) + "\n"


def module_page(info: ModuleInfo) -> str:
    """The reST source of one module's page."""
    title = f"``{info.name}``"
    parts = [
        _underline(title),
        f".. automodule:: {info.name}\n",
        f".. currentmodule:: {info.name}\n",
    ]
    own = [m for m in info.members if m.home == info.name]
    for kind in KIND_ORDER:
        members = sorted((m for m in own if m.kind == kind), key=lambda m: m.name.lower())
        if not members:
            continue
        parts.append(f".. rubric:: {KIND_TITLES[kind]}\n")
        if kind == "data":
            parts.extend(_data_directive(f"{info.name}.{m.name}", m.obj) for m in members)
            continue
        entries = "\n".join(f"   {m.name}" for m in members)
        parts.append(f".. autosummary::\n   :toctree: .\n   :nosignatures:\n\n{entries}\n")
    borrowed = sorted(
        (m for m in info.members if m.home != info.name), key=lambda m: m.name.lower()
    )
    if not borrowed:
        return "\n".join(parts)
    parts.append(".. currentmodule:: None\n")
    if info.name == PACKAGE:
        # The top-level page: what ``import aurora_xr`` gives, by kind.
        parts.append(
            "``import aurora_xr`` gives these names; each is documented in the module that"
            " defines it.\n"
        )
        for kind in KIND_ORDER:
            members = [m for m in borrowed if m.kind == kind]
            if members:
                entries = "\n".join(f"   ~{m.home}.{m.name}" for m in members)
                parts.append(f".. rubric:: {KIND_TITLES[kind]}\n")
                parts.append(f".. autosummary::\n   :nosignatures:\n\n{entries}\n")
        return "\n".join(parts)
    parts.append(".. rubric:: Also available here\n")
    parts.append(
        f"These names are importable from ``{info.name}`` and documented where they are defined.\n"
    )
    entries = "\n".join(f"   ~{m.home}.{m.name}" for m in borrowed)
    parts.append(f".. autosummary::\n   :nosignatures:\n\n{entries}\n")
    return "\n".join(parts)


def _expand(patterns: list[str], names: list[str]) -> list[str]:
    """The modules that ``patterns`` name (``pkg*``: the package and its modules), in order."""
    out: list[str] = []
    for pattern in patterns:
        if pattern.endswith("*"):
            base = pattern[:-1]
            out += [n for n in names if (n == base or n.startswith(base + ".")) and n not in out]
        elif pattern in names and pattern not in out:
            out.append(pattern)
    return out


def modules_page(names: list[str]) -> str:
    """The reST source of the page that lists every module by group."""
    listed: set[str] = set()
    parts = [
        _underline("Modules"),
        "Every public module of the package, by topic. Each page shows the module's"
        " documentation and the functions, classes and constants it defines.\n",
    ]
    groups = [(title, _expand(mods, names)) for title, mods in GROUPS]
    for _, mods in groups:
        listed.update(mods)
    others = [m for m in names if m not in listed]
    if others:
        groups.append(("Other modules", others))
    for title, mods in groups:
        if not mods:
            continue
        parts.append(_underline(title, "-"))
        parts.append(".. autosummary::\n\n" + "\n".join(f"   {m}" for m in mods) + "\n")
        parts.append(".. toctree::\n   :hidden:\n\n" + "\n".join(f"   {m}" for m in mods) + "\n")
    return "\n".join(parts)


def accessor_members(cls: type) -> list[tuple[str, str]]:
    """``(name, template)`` of the public members of an accessor class."""
    out = []
    for name in sorted(dir(cls)):
        if name.startswith("_"):
            continue
        attr = inspect.getattr_static(cls, name)
        if isinstance(attr, property | functools.cached_property):
            out.append((name, "accessor_attribute"))
        elif isinstance(attr, staticmethod | classmethod) or inspect.isfunction(attr):
            out.append((name, "accessor_method"))
        elif callable(getattr(cls, name)):
            out.append((name, "accessor_callable"))
        else:
            out.append((name, "accessor_attribute"))
    return out


def accessor_page() -> tuple[str, list[str]]:
    """The reST source of the accessor page and the stub names autosummary will write."""
    parts = [
        _underline("The ``.aurora`` accessor"),
        "Importing :mod:`aurora_xr` registers an ``aurora`` accessor on every"
        " :class:`xarray.Dataset` and :class:`xarray.DataArray`. Each method forwards in one"
        " line to a public function of the package, which it names in its documentation:"
        " ``cube.aurora.f(...)`` is ``f(cube, ...)``. The accessor holds no state.\n",
        ".. code-block:: python\n\n"
        "   import aurora_xr  # registers .aurora\n\n"
        '   cube = aurora_xr.io.open_cube("archive/*.nc")\n'
        "   cube.aurora  # the accessor of this Dataset\n",
        ".. currentmodule:: xarray\n",
    ]
    stubs: list[str] = []
    for target, modname, clsname in ACCESSORS:
        cls = getattr(importlib.import_module(modname), clsname)
        parts.append(_underline(f"``{target}.aurora``", "-"))
        parts.append(f"Implemented by :class:`{modname}.{clsname}`.\n")
        parts.append(
            ".. autosummary::\n   :toctree: .\n   :template: autosummary/accessor.rst\n\n"
            f"   {target}.aurora\n"
        )
        stubs.append(f"xarray.{target}.aurora")
        members = accessor_members(cls)
        if not members:
            parts.append(f"No methods on ``{target}.aurora`` yet.\n")
            continue
        for template in ("accessor_method", "accessor_attribute", "accessor_callable"):
            names = [name for name, t in members if t == template]
            if not names:
                continue
            entries = "\n".join(f"   {target}.aurora.{name}" for name in names)
            parts.append(
                f".. autosummary::\n   :toctree: .\n   :nosignatures:\n"
                f"   :template: autosummary/{template}.rst\n\n{entries}\n"
            )
            stubs.extend(f"xarray.{target}.aurora.{name}" for name in names)
    return "\n".join(parts), stubs


def _write_if_changed(path: Path, text: str) -> None:
    if path.exists() and path.read_text() == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def aliases(infos: dict[str, ModuleInfo]) -> dict[str, str]:
    """Every re-exported full name -> the full name where the object is documented."""
    return {
        f"{info.name}.{member.name}": f"{member.home}.{member.name}"
        for info in infos.values()
        for member in info.members
        if member.home != info.name
    }


ALIASES: dict[str, str] = {}
"""Filled by :func:`write_api_pages`; ``conf.py`` resolves references to re-exports with it."""


def write_api_pages(outdir: Path) -> list[str]:
    """Write every API page into ``outdir``; remove stale ones. Returns the module names."""
    names = public_modules()
    infos = collect(names)
    ALIASES.clear()
    ALIASES.update(aliases(infos))
    module_pages = {f"{name}.rst" for name in infos}
    member_pages = {
        f"{info.name}.{member.name}.rst"
        for info in infos.values()
        for member in info.members
        if member.home == info.name and member.kind != "data"
    }
    clashes = module_pages & member_pages
    if clashes:
        raise RuntimeError(f"a module and an object would share a page: {sorted(clashes)}")
    for info in infos.values():
        _write_if_changed(outdir / f"{info.name}.rst", module_page(info))
    expected = module_pages | member_pages

    _write_if_changed(outdir / "modules.rst", modules_page(names))
    text, stubs = accessor_page()
    _write_if_changed(outdir / "accessor.rst", text)
    expected.update({"modules.rst", "accessor.rst", *(f"{s}.rst" for s in stubs)})

    for path in outdir.glob("*.rst"):
        if path.name not in expected:
            path.unlink()  # an object that no longer exists: its stub would fail to import
    return names


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parents[1] / "generated/api"
    print("\n".join(write_api_pages(target)))
