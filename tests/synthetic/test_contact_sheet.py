"""The contact-sheet script reads the real frames of ../shared and shows them like the synthetic."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="module")
def sheet() -> ModuleType:
    script = ROOT / "scripts" / "contact_sheet.py"
    spec = importlib.util.spec_from_file_location("contact_sheet", script)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_every_real_file_of_the_sheet_is_read_and_stretched(sheet: ModuleType) -> None:
    for cond in sheet.conditions():
        rgb = sheet.read_real(SHARED / cond.real, cond.real_index)
        assert rgb.dtype == np.uint8
        assert rgb.ndim == 3
        assert rgb.shape[-1] == 3
        assert np.percentile(rgb, 99) - np.percentile(rgb, 5) > 40, cond.real  # not flat
        tile = sheet.fit(rgb, 64)
        assert tile.shape == (64, 64, 3)


def test_sixteen_bit_frames_get_a_robust_stretch(sheet: ModuleType) -> None:
    frame = np.full((40, 40), 3400, np.uint16)
    frame[10:30, 10:30] = 5000
    frame[0, 0] = 65535  # a saturated hot pixel does not set the scale
    rgb = sheet.stretch(frame)
    assert rgb.shape == (40, 40, 3)
    assert rgb[20, 20, 0] == 255
    assert rgb[35, 35, 0] == 0
    colour = np.zeros((8, 8, 3), np.uint8)
    assert sheet.stretch(colour) is colour  # 8-bit colour is shown as it is


def test_sheets_are_written_only_where_git_ignores_them(sheet: ModuleType) -> None:
    ignored = (ROOT / ".gitignore").read_text().split()
    assert sheet.DEFAULT_OUT.relative_to(ROOT).as_posix() + "/" in ignored
    assert "docs/generated/" in ignored  # where the documentation draws them
