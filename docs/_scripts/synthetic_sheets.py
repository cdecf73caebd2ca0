"""Draw the contact sheets of the synthetic sky for the documentation (at build time).

Called by ``docs/conf.py`` before every build (alone:
``python docs/_scripts/synthetic_sheets.py``). It runs ``scripts/contact_sheet.py`` into
``docs/generated/figures/`` (git-ignored), so the real frames of ``../shared/`` are only
ever drawn, downscaled, into generated files and never copied into the repository:

* ``synthetic_vs_real.png``: real frames beside synthetic frames of the same conditions;
* ``training_mix.png``: frames of the randomised training mix as drawn.

The work is skipped when neither the package's synthetic sky nor the sheet script changed
since the last run (a stamp file holds a hash of their sources). Without ``../shared`` the
real tiles are left black and a problem is reported.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1]
ROOT = DOCS.parent
SHARED = ROOT.parent / "shared"
SCRIPT = ROOT / "scripts" / "contact_sheet.py"
NAMES = ("synthetic_vs_real.png", "training_mix.png")
TILE = 256


def _sources_hash() -> str:
    digest = hashlib.sha256()
    paths = [*sorted((ROOT / "aurora_xr" / "synthetic").glob("*.py")), SCRIPT, Path(__file__)]
    for path in paths:
        digest.update(path.read_bytes())
    digest.update(str(SHARED.is_dir()).encode())
    return digest.hexdigest()


def main(figures: Path = DOCS / "generated" / "figures") -> list[str]:
    """Write the sheets into ``figures``; returns the problems met (empty when all is well)."""
    problems = []
    if not SHARED.is_dir():
        problems.append(f"no real frames at {SHARED}: the real tiles of the sheet are black")
    stamp = figures / ".synthetic_sheets_stamp"
    key = _sources_hash()
    if stamp.exists() and stamp.read_text() == key and all((figures / n).exists() for n in NAMES):
        return problems
    spec = importlib.util.spec_from_file_location("contact_sheet", SCRIPT)
    if spec is None or spec.loader is None:
        return [*problems, f"cannot load {SCRIPT}"]
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    module.make_sheets(figures, shared=SHARED, tile=TILE, log=lambda _line: None)
    stamp.write_text(key)
    return problems


if __name__ == "__main__":
    for problem in main():
        print(problem, file=sys.stderr)
