"""Render the baseline images of tests/plot/test_plot.py into tests/plot/baseline/.

Run after an intended change of a figure, look at the new PNGs, then commit them:

    .venv/bin/python scripts/make_baselines.py            # all cases
    .venv/bin/python scripts/make_baselines.py sky keogram

The figures are drawn from the deterministic hand-made data of tests/plot/test_plot.py
at the dpi the test uses (small files: the whole set stays well under 1 MB).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.plot import test_plot  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    known = sorted(test_plot.BASELINES)
    parser.add_argument("names", nargs="*", help=f"cases (default all): {known}")
    args = parser.parse_args(argv)
    names = args.names or sorted(test_plot.BASELINES)
    unknown = sorted(set(names) - set(test_plot.BASELINES))
    if unknown:
        parser.error(f"unknown cases {unknown}; known: {sorted(test_plot.BASELINES)}")
    test_plot.BASELINE_DIR.mkdir(parents=True, exist_ok=True)
    for name in names:
        path = test_plot.BASELINE_DIR / f"{name}.png"
        test_plot.render(name, path)
        print(f"{path.relative_to(ROOT)}  {path.stat().st_size / 1024:.0f} kB")
    total = sum(p.stat().st_size for p in test_plot.BASELINE_DIR.glob("*.png"))
    print(f"total {total / 1024:.0f} kB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
