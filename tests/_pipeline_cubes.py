"""Small hand-made cubes and cell grids for the pipeline tests (segment, difference,
occurrence, compare). Values are exact so that the tests can assert exact results."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from aurora_xr.sky.stations import get_station, placeholder_lens


def square_cells(size: int, cell: int, *, border: int = 0) -> xr.DataArray:
    """A (y, x) int32 label image of ``cell`` x ``cell`` squares, row-major; ``-1`` on a
    ``border`` of pixels around the frame."""
    y, x = np.mgrid[0:size, 0:size]
    per_row = size // cell
    labels = (y // cell) * per_row + (x // cell)
    labels = labels.astype(np.int32)
    if border:
        edge = (y < border) | (x < border) | (y >= size - border) | (x >= size - border)
        labels[edge] = -1
    return xr.DataArray(labels, dims=("y", "x"), name="cell_index")


def cell_grid_of(index: xr.DataArray) -> xr.Dataset:
    """A minimal cell grid Dataset around a label image."""
    n = int(index.max()) + 1
    cell = np.arange(n)
    return xr.Dataset(
        {
            "cell_index": index,
            "cell_mlat": (
                "cell",
                np.linspace(-85.0, -75.0, n, dtype=np.float32),
                {"units": "degree", "long_name": "cell magnetic latitude"},
            ),
            "cell_mlon": (
                "cell",
                np.linspace(-60.0, -50.0, n, dtype=np.float32),
                {"units": "degree", "long_name": "cell magnetic longitude"},
            ),
        },
        coords={"cell": cell},
    )


def make_cube(
    n_frames: int = 12,
    size: int = 16,
    *,
    start: str = "2020-06-20T00:00",
    step: str = "1min",
    seed: int = 0,
    times: Any = None,
    background: int = 20,
    noise: int = 3,
    chunks: int | None = None,
) -> xr.Dataset:
    """A random cube on JBS with station and calibration attributes, no aurora."""
    rng = np.random.default_rng(seed)
    if times is None:
        times = pd.date_range(start, periods=n_frames, freq=step)
    times = pd.DatetimeIndex(times).values.astype("datetime64[ns]")
    n_frames = times.size
    image = rng.integers(
        background - noise, background + noise + 1, size=(n_frames, size, size, 3)
    ).astype(np.uint8)
    station = get_station("JBS")
    cal = placeholder_lens(station.code, size, size)
    ds = xr.Dataset(
        {"image": (("time", "y", "x", "channel"), image)},
        coords={"time": times, "channel": ["R", "G", "B"]},
        attrs={
            **station.to_attrs(),
            **cal.to_attrs(),
            "Conventions": "CF-1.8",
            "title": "hand-made test cube",
        },
    )
    if chunks:
        ds = ds.chunk({"time": chunks})
    return ds
