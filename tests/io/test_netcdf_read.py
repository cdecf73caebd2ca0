"""open_netcdf: lazy NetCDF-4 reads with bounded chunk caches and a bounded set of open files."""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import dask
import numpy as np
import pytest
import xarray as xr

import aurora_xr.io.netcdf_read as netcdf_read
from aurora_xr.cube import cube_from_frames
from aurora_xr.detect.store import open_segmentation_store, segment_to_store
from aurora_xr.io import open_cube, write_netcdf
from aurora_xr.io.netcdf_read import CHUNK_CACHE_BYTES, OPEN_FILES, open_netcdf
from tests.detect.test_segmentation import GreenPredictor


def _cube(day: int, n: int = 6, size: int = 16) -> xr.Dataset:
    rng = np.random.default_rng(day)
    frames = rng.integers(0, 256, (n, size, size, 3), dtype=np.uint8)
    start = np.datetime64("2020-06-01T22:00", "ns") + np.timedelta64(day, "D")
    return cube_from_frames(frames, start + np.arange(n) * np.timedelta64(60, "s"))


@pytest.fixture
def archive(tmp_path: Path) -> tuple[list[Path], xr.Dataset]:
    """More daily cube files than may stay open at once, and the frames they hold."""
    days = [_cube(day) for day in range(OPEN_FILES + 5)]
    paths = []
    for day, cube in enumerate(days):
        paths.append(write_netcdf(cube, tmp_path / f"JBS_202006{day + 1:02d}.nc"))
    whole = xr.concat(days, dim="time", data_vars="minimal", coords="minimal")
    return paths, whole


def _open_files() -> int:
    return len(netcdf_read._OPEN)


def test_reads_the_same_values_as_xarray(archive: tuple[list[Path], xr.Dataset]) -> None:
    paths, _ = archive
    with open_netcdf(paths[0], chunks={}) as ours, xr.open_dataset(paths[0], chunks={}) as plain:
        assert ours.image.chunks is not None
        xr.testing.assert_identical(ours.load(), plain.load())


def _handle(path: Path) -> object:
    """The netCDF4.Dataset of ``path`` among the files open_netcdf holds open."""
    return next(nc for nc in netcdf_read._OPEN.values() if Path(nc.filepath()) == path)


def test_chunk_cache_is_one_chunk_at_most(archive: tuple[list[Path], xr.Dataset]) -> None:
    paths, _ = archive
    with open_netcdf(paths[0]) as ds:
        ds.image.load()
        var = _handle(paths[0]).variables["image"]  # type: ignore[attr-defined]
        chunk = math.prod(var.chunking()) * var.dtype.itemsize
        size, _, _ = var.get_var_chunk_cache()
    assert size == min(chunk, CHUNK_CACHE_BYTES)
    assert size < 64 * 2**20  # netCDF-C's default per variable


def test_open_files_stay_bounded_and_evicted_files_reopen(
    archive: tuple[list[Path], xr.Dataset],
) -> None:
    paths, whole = archive
    cube = open_cube(paths, chunks=4)
    with dask.config.set(scheduler="synchronous"):
        first = cube.image.values
        held = {Path(nc.filepath()) for nc in netcdf_read._OPEN.values()}
        assert len(held) == OPEN_FILES  # 13 files read, 8 held open
        assert held <= set(paths)
        again = cube.image.values  # the first files were closed to make room: read again
    np.testing.assert_array_equal(first, whole.image.values)
    np.testing.assert_array_equal(again, first)
    assert _open_files() <= OPEN_FILES
    cube.close()


def test_the_file_manager_keeps_its_cache_when_sent_to_a_worker(
    archive: tuple[list[Path], xr.Dataset],
) -> None:
    paths, whole = archive
    manager = netcdf_read._ArchiveFileManager(
        netcdf_read._bounded_cache_dataset, str(paths[1]), mode="r"
    )
    received = pickle.loads(pickle.dumps(manager))  # what a dask worker gets
    assert isinstance(received, netcdf_read._ArchiveFileManager)
    assert received._cache is netcdf_read._OPEN
    with received.acquire_context() as nc:
        np.testing.assert_array_equal(nc.variables["image"][:], whole.image.values[6:12])
    manager.close()
    with open_netcdf(paths[1], chunks={}) as ds:  # and a dask graph of its frames
        graph = pickle.loads(pickle.dumps(ds.image.data))
        np.testing.assert_array_equal(np.asarray(graph), whole.image.values[6:12])


def test_other_engines_are_passed_on(archive: tuple[list[Path], xr.Dataset]) -> None:
    paths, whole = archive
    with open_netcdf(paths[2], engine="h5netcdf") as ds:
        assert ds.encoding["source"].endswith(paths[2].name)
        np.testing.assert_array_equal(ds.image.values, whole.image.values[12:18])


def test_segmentation_store_regions_open_through_it(tmp_path: Path) -> None:
    cube = _cube(0, n=12)
    seg = segment_to_store(cube, GreenPredictor(), tmp_path / "store", region_frames=4)
    store = open_segmentation_store(tmp_path / "store")
    with dask.config.set(scheduler="synchronous"):
        np.testing.assert_array_equal(store.aurora_mask.values, seg.aurora_mask.values)
        np.testing.assert_array_equal(
            store.aurora_mask.values, cube.image.values[..., 1] / 255.0 >= GreenPredictor.threshold
        )
    region = tmp_path / "store" / "region_000001.nc"
    assert _handle(region).variables["aurora_mask"].get_var_chunk_cache()[0] <= CHUNK_CACHE_BYTES  # type: ignore[attr-defined]
    store.close()


def test_variable_length_strings_get_the_bounded_cache(tmp_path: Path) -> None:
    cube = _cube(3).assign(source=("time", np.array([f"frame_{i}.png" for i in range(6)], object)))
    path = tmp_path / "named.nc"
    cube.to_netcdf(path, encoding={"source": {"chunksizes": (3,), "zlib": True}})
    with open_netcdf(path) as ds:
        assert list(ds.source.values) == [f"frame_{i}.png" for i in range(6)]
        size = _handle(path).variables["source"].get_var_chunk_cache()[0]  # type: ignore[attr-defined]
    assert 0 < size <= CHUNK_CACHE_BYTES
