"""Keep the notebooks in ``notebooks/`` free of outputs, as they are committed.

Usage::

    python scripts/strip_notebooks.py            # strip outputs in place
    python scripts/strip_notebooks.py --check    # exit 1 (listing them) if any has outputs

A committed notebook has, in every code cell, ``outputs == []`` and
``execution_count == null``, no widget state in its metadata, and the kernel
``python3``. The test suite runs ``--check`` (tests/test_notebooks.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
_TRANSIENT_METADATA = ("widgets", "execution", "toc", "varInspector")
_TRANSIENT_CELL_METADATA = ("execution", "collapsed", "scrolled", "ExecuteTime")


def problems(nb: dict[str, Any]) -> list[str]:
    """What in a notebook (as JSON) is not as it should be committed."""
    found = []
    for k, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") == "code":
            if cell.get("outputs"):
                found.append(f"cell {k}: has outputs")
            if cell.get("execution_count") is not None:
                found.append(f"cell {k}: has an execution count")
        if cell.get("attachments"):
            found.append(f"cell {k}: has attachments")
        extra = [key for key in _TRANSIENT_CELL_METADATA if key in cell.get("metadata", {})]
        if extra:
            found.append(f"cell {k}: has run metadata {extra}")
    meta = nb.get("metadata", {})
    extra = [key for key in _TRANSIENT_METADATA if key in meta]
    if extra:
        found.append(f"notebook metadata holds {extra}")
    if meta.get("kernelspec", {}).get("name") != KERNELSPEC["name"]:
        found.append(
            f"kernel is {meta.get('kernelspec', {}).get('name')!r}, expected {KERNELSPEC['name']!r}"
        )
    return found


def strip(nb: dict[str, Any]) -> dict[str, Any]:
    """The notebook without outputs, counts, widget state and run metadata."""
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        cell.pop("attachments", None)
        for key in _TRANSIENT_CELL_METADATA:
            cell.get("metadata", {}).pop(key, None)
    meta = nb.setdefault("metadata", {})
    for key in _TRANSIENT_METADATA:
        meta.pop(key, None)
    meta["kernelspec"] = dict(KERNELSPEC)
    return nb


def write(nb: dict[str, Any], path: Path) -> None:
    """Write as Jupyter does (indent 1, a final newline), so diffs stay small."""
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks (default notebooks/*)")
    parser.add_argument("--check", action="store_true", help="only report, exit 1 if dirty")
    args = parser.parse_args(argv)
    paths = args.paths or sorted(NOTEBOOKS.glob("*.ipynb"))
    dirty = 0
    for path in paths:
        nb = json.loads(path.read_text(encoding="utf-8"))
        found = problems(nb)
        if not found:
            continue
        dirty += 1
        if args.check:
            print(f"{path}: " + "; ".join(found))
        else:
            write(strip(nb), path)
            print(f"stripped {path}")
    if args.check and dirty:
        print(f"{dirty} notebook(s) hold outputs: run python scripts/strip_notebooks.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
