"""A pipeline checks its cube once: the context is resolved at the entry and passed down."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import xarray as xr

import aurora_xr
from aurora_xr.cube import context as context_module
from aurora_xr.cube import grid as grid_module
from aurora_xr.detect.segmentation import ChannelThresholdPredictor
from tests.conftest import raise_if_dask_computes

PREDICTOR = ChannelThresholdPredictor(low=30.0, high=60.0)


@pytest.fixture(scope="module")
def cube() -> xr.Dataset:
    ds = aurora_xr.synthetic_cube(start="2020-06-21T07:00", n_frames=8, size=96, seed=5)
    return ds.chunk({"time": 4})


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often the cube is checked, its station read and its cell grid built."""
    counts: Counter[str] = Counter()

    def counting(name: str, func: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            counts[name] += 1
            return func(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(
        context_module, "validate_cube", counting("validate_cube", context_module.validate_cube)
    )
    monkeypatch.setattr(
        context_module,
        "station_from_attrs",
        counting("station_from_attrs", context_module.station_from_attrs),
    )
    monkeypatch.setattr(grid_module, "cell_grid", counting("cell_grid", grid_module.cell_grid))
    return counts


def test_compare_methods_resolves_the_cube_once(cube: xr.Dataset, calls: Counter[str]) -> None:
    with raise_if_dask_computes():
        out = aurora_xr.compare_methods(cube, PREDICTOR, n_cells=100, mlt_bins=4)
    assert calls == {"validate_cube": 1, "station_from_attrs": 1, "cell_grid": 1}
    assert out.sizes["detector"] == 2


def test_occurrence_from_cube_resolves_the_cube_once(cube: xr.Dataset, calls: Counter[str]) -> None:
    with raise_if_dask_computes():
        aurora_xr.occurrence_from_cube(cube, detector="fcn", model=PREDICTOR, n_cells=100)
        aurora_xr.occurrence_from_cube(cube, detector="difference", n_cells=100)
    # once per call, whatever the detector
    assert calls == {"validate_cube": 2, "station_from_attrs": 2, "cell_grid": 2}


def test_a_given_context_is_not_resolved_again(cube: xr.Dataset, calls: Counter[str]) -> None:
    ctx = aurora_xr.cube_context(cube)
    grid = grid_module.cell_grid(cube, n_cells=100, context=ctx)
    assert calls == {"validate_cube": 1, "station_from_attrs": 1, "cell_grid": 1}
    seg = aurora_xr.segment(cube, PREDICTOR, context=ctx)
    aurora_xr.cell_detections(seg, cells=grid, context=ctx)
    aurora_xr.difference_detect(cube, cells=grid, context=ctx)
    aurora_xr.usable_frames(cube, context=ctx)
    aurora_xr.mlt(cube, context=ctx)
    aurora_xr.magnetic_coords(cube, context=ctx)
    assert calls == {"validate_cube": 1, "station_from_attrs": 1, "cell_grid": 1}
