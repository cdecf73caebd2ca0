"""The package's folders are its layers: imports flow one way, with no circles.

Every import that runs (module level or inside a function; only blocks under
``if TYPE_CHECKING:`` are left out) is read from the source with ``ast`` and
checked against the layer order of docs/_scripts/architecture.py (drawn on
docs/architecture.md).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import pkgutil
from pathlib import Path

import pytest

import aurora_xr

ROOT = Path(aurora_xr.__file__).resolve().parent


def _layers() -> list[tuple[str, ...]]:
    path = Path(__file__).resolve().parents[1] / "docs" / "_scripts" / "architecture.py"
    spec = importlib.util.spec_from_file_location("aurora_xr_docs_architecture", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.layer_prefixes())


#: Layers from the bottom up (docs/_scripts/architecture.py, the one statement of them).
LAYERS = _layers()

TORCH = ("torch", "torchvision", "safetensors")


def _rank(module: str) -> int:
    best = (-1, -1)  # (length of the matching prefix, layer)
    for layer, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                best = max(best, (len(prefix), layer))
    if best[1] < 0:
        raise AssertionError(f"{module} belongs to no layer; add it to LAYERS")
    return best[1]


def _modules() -> dict[str, Path]:
    found = {"aurora_xr": ROOT / "__init__.py"}
    for info in pkgutil.walk_packages([str(ROOT)], prefix="aurora_xr."):
        spec = importlib.util.find_spec(info.name)
        assert spec is not None
        assert spec.origin is not None
        found[info.name] = Path(spec.origin)
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(module: str, path: Path) -> list[tuple[str, int]]:
    """``(imported module, line)`` for every import that runs."""
    is_package = path.name == "__init__.py"
    base = module.split(".") if is_package else module.split(".")[:-1]
    out: list[tuple[str, int]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            out.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = base[: len(base) - (node.level - 1)]
                target = ".".join(parts + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                # "from pkg import sub" imports a module when sub is one
                candidate = f"{target}.{alias.name}"
                out.append((candidate if _exists(candidate) else target, node.lineno))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return out


def _exists(name: str) -> bool:
    if not name.startswith("aurora_xr."):
        return False
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


MODULES = _modules()
EDGES = {m: _imports(m, p) for m, p in MODULES.items()}


def test_every_module_belongs_to_a_layer() -> None:
    for module in MODULES:
        _rank(module)


def test_imports_flow_down_the_layers() -> None:
    wrong = []
    for module, imports in EDGES.items():
        for target, line in imports:
            inside = target == "aurora_xr" or target.startswith("aurora_xr.")
            if inside and _rank(target) > _rank(module):
                wrong.append(f"{module}:{line} imports {target}")
    assert wrong == []


def test_only_the_model_layer_imports_torch() -> None:
    wrong = [
        f"{module}:{line} imports {target}"
        for module, imports in EDGES.items()
        for target, line in imports
        if target.split(".")[0] in TORCH and not module.startswith("aurora_xr.model")
    ]
    assert wrong == []


def test_no_import_circles() -> None:
    graph = {
        module: sorted({t for t, _ in imports if t in MODULES and t != module})
        for module, imports in EDGES.items()
    }
    # a package's __init__ re-exports its modules: an edge into a package is an edge
    # into the __init__ only, whose own edges lead on
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def walk(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                walk(nxt)
        stack.pop()
        state[node] = 2

    for node in graph:
        if node not in state:
            walk(node)
    # the root package imports everything it exports; nothing may import it back
    assert [c for c in cycles if c[0] != "aurora_xr"] == []


def test_at_most_eight_modules_at_the_top_level() -> None:
    top = sorted(p.name for p in ROOT.glob("*.py"))
    assert len(top) <= 8, top


@pytest.mark.parametrize("path", sorted(ROOT.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_over_450_lines(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 450


def test_no_public_name_is_also_a_submodule() -> None:
    packages = [m for m, p in MODULES.items() if p.name == "__init__.py"]
    clashes = []
    for package in packages:
        pkg = importlib.import_module(package)
        children = {info.name for info in pkgutil.iter_modules(pkg.__path__)}
        clashes += [f"{package}.{n}" for n in getattr(pkg, "__all__", ()) if n in children]
    assert clashes == []
