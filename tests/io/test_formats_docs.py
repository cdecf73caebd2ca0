"""docs/formats.md: its registration example runs, and its table lists every built-in format."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import aurora_xr.io.formats.registry as registry
from aurora_xr.io.formats import available_formats

PAGE = Path(__file__).resolve().parents[2] / "docs" / "formats.md"


@pytest.fixture
def restore_registry() -> Iterator[None]:
    saved = dict(registry._FORMATS)
    yield
    registry._FORMATS.clear()
    registry._FORMATS.update(saved)


def _section(title: str) -> str:
    text = PAGE.read_text(encoding="utf-8")
    return text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_the_registration_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, restore_registry: None
) -> None:
    blocks = re.findall(r"```python\n(.*?)```", _section("Adding a format"), flags=re.S)
    assert len(blocks) == 1
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "formats_example"}
    exec(compile(blocks[0], str(PAGE), "exec"), namespace)
    assert (tmp_path / "acme_20240101_000000.dat").exists()
    assert "acme_raw" not in {f.name for f in available_formats()}  # it unregisters itself


def test_the_table_lists_every_built_in_format() -> None:
    table = _section("Supported formats")
    names = re.findall(r"^\| `(\w+)` \|", table, flags=re.M)
    built_in = [f.name for f in available_formats() if type(f).__module__.startswith("aurora_xr")]
    assert sorted(names) == sorted(built_in)
