"""open_cube, write_netcdf and write_product (aurora_xr.io)."""

from __future__ import annotations

from pathlib import Path

import dask
import netCDF4
import numpy as np
import pytest
import xarray as xr

import aurora_xr.io.files as files
from aurora_xr.cube import cube_from_frames
from aurora_xr.errors import (
    AuroraXrError,
    CalibrationError,
    DtypeError,
    FrameSizeError,
    MissingCalibrationError,
    MissingDimensionError,
    MissingVariableError,
    OptionError,
    SchemaError,
    TimeOrderError,
)
from aurora_xr.io import (
    NoFilesFoundError,
    open_cube,
    write_netcdf,
    write_product,
)
from aurora_xr.sky.lens import sky_grids
from aurora_xr.sky.stations import placeholder_lens
from tests.conftest import raise_if_dask_computes

H, W = 24, 32


def make_cube(start: str, n: int, *, size: tuple[int, int] = (H, W), seed: int = 0) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    frames = rng.integers(0, 256, (n, *size, 3), dtype=np.uint8)
    times = np.datetime64(start, "ns") + np.arange(n) * np.timedelta64(60, "s")
    return cube_from_frames(frames, times)


@pytest.fixture
def two_days(tmp_path: Path) -> tuple[Path, xr.Dataset]:
    a = make_cube("2020-06-21T22:00", 5, seed=1)
    b = make_cube("2020-06-22T00:00", 6, seed=2)
    write_netcdf(a, tmp_path / "JBS_20200621.nc")
    write_netcdf(b, tmp_path / "JBS_20200622.nc")
    return tmp_path, xr.concat([a, b], dim="time", data_vars="minimal", coords="minimal")


# -- open_cube ------------------------------------------------------------------------------
def test_open_cube_is_lazy_and_chunked_along_time_only(two_days: tuple[Path, xr.Dataset]) -> None:
    folder, expected = two_days
    with raise_if_dask_computes():
        cube = open_cube(str(folder / "JBS_*.nc"), chunks=4)
        assert isinstance(cube.image.data, dask.array.Array)
        assert cube.image.chunks == ((4, 1, 4, 2), (H,), (W,), (3,))
        assert isinstance(cube.elevation.data, np.ndarray)  # in memory, not dask
        assert cube.image.dtype == np.uint8
        subset = cube.image.isel(time=slice(2, 7)).astype(float).mean()
    np.testing.assert_array_equal(cube.time.values, expected.time.values)
    np.testing.assert_array_equal(cube.image.values, expected.image.values)
    assert float(subset) == pytest.approx(expected.image.values[2:7].mean())
    el, _ = sky_grids(placeholder_lens("JBS", W, H))
    np.testing.assert_array_equal(cube.elevation.values, el)
    assert list(cube.channel.values) == ["R", "G", "B"]
    cube.close()


def test_open_cube_default_chunks_and_threads(two_days: tuple[Path, xr.Dataset]) -> None:
    folder, expected = two_days
    cube = open_cube(folder, engine="netcdf4")
    assert cube.image.chunks[0] == (5, 6)  # default 64 frames, never across files
    with dask.config.set(scheduler="threads", num_workers=4):
        total = int(cube.image.astype(np.int64).sum().compute())
    assert total == int(expected.image.values.astype(np.int64).sum())


@pytest.mark.parametrize("kind", ["path", "glob", "list", "reversed-list", "folder"])
def test_open_cube_paths(two_days: tuple[Path, xr.Dataset], kind: str) -> None:
    folder, expected = two_days
    files = sorted(folder.glob("*.nc"))
    arg: object = {
        "path": files[0],
        "glob": str(folder / "**" / "*.nc"),
        "list": files,
        "reversed-list": [str(f) for f in files[::-1]],
        "folder": folder,
    }[kind]
    cube = open_cube(arg)  # type: ignore[arg-type]
    n = 5 if kind == "path" else 11
    np.testing.assert_array_equal(cube.time.values, expected.time.values[:n])


def test_open_cube_with_h5netcdf(tmp_path: Path) -> None:
    cube = make_cube("2020-06-21T00:00", 3)
    write_netcdf(cube, tmp_path / "a.nc", engine="h5netcdf")
    back = open_cube(tmp_path / "a.nc", engine="h5netcdf")
    np.testing.assert_array_equal(back.image.values, cube.image.values)
    with pytest.raises(OptionError, match="engine"):
        write_netcdf(cube, tmp_path / "b.nc", engine="zarr")


def test_open_cube_chunk_option_is_time_only(two_days: tuple[Path, xr.Dataset]) -> None:
    folder, _ = two_days
    assert open_cube(folder, chunks={"time": 3}).image.chunks[0] == (3, 2, 3, 3)
    with pytest.raises(OptionError, match="along 'time' only"):
        open_cube(folder, chunks={"time": 3, "y": 8})
    with pytest.raises(OptionError, match="positive number"):
        open_cube(folder, chunks=0)


def test_open_cube_fills_truth_missing_in_some_files(tmp_path: Path) -> None:
    a = make_cube("2020-06-21T00:00", 2)
    b = make_cube("2020-06-22T00:00", 3)
    b["aurora_truth"] = (("time", "y", "x"), np.ones((3, H, W), bool))
    write_netcdf(a, tmp_path / "a.nc")
    write_netcdf(b, tmp_path / "b.nc")
    with raise_if_dask_computes():
        cube = open_cube(tmp_path)
    assert cube.aurora_truth.dtype == bool
    assert cube.aurora_truth.values.sum() == 3 * H * W
    assert cube.truth_available.values.tolist() == [False, False, True, True, True]


# -- open_cube: bad input ---------------------------------------------------------------------
def test_no_files(tmp_path: Path) -> None:
    for arg in (str(tmp_path / "*.nc"), tmp_path / "missing.nc", [], tmp_path):
        with pytest.raises(NoFilesFoundError) as info:
            open_cube(arg)  # type: ignore[arg-type]
        assert isinstance(info.value, FileNotFoundError)
        assert isinstance(info.value, AuroraXrError)
        assert "expected" in str(info.value)
        assert "found" in str(info.value)


def test_not_netcdf(tmp_path: Path) -> None:
    (tmp_path / "a.nc").write_bytes(b"not a netcdf file at all")
    with pytest.raises(SchemaError, match="cannot be opened as NetCDF"):
        open_cube(tmp_path / "a.nc")


def test_missing_dims_variable_and_wrong_dtype(tmp_path: Path) -> None:
    cube = make_cube("2020-06-21T00:00", 2)
    grey = cube.isel(channel=0, drop=True)
    write_netcdf(grey, tmp_path / "grey.nc")
    with pytest.raises(MissingDimensionError, match=r"grey\.nc.*dims \('time', 'y', 'x'\)"):
        open_cube(tmp_path / "grey.nc")
    write_netcdf(cube.rename(image="frames"), tmp_path / "renamed.nc")
    with pytest.raises(MissingVariableError, match="expected a variable 'image'"):
        open_cube(tmp_path / "renamed.nc")
    write_netcdf(cube.assign(image=cube.image.astype(np.float32)), tmp_path / "float.nc")
    with pytest.raises(DtypeError, match="uint8 or uint16; found float32"):
        open_cube(tmp_path / "float.nc")


def test_unsorted_and_duplicate_times(tmp_path: Path) -> None:
    cube = make_cube("2020-06-21T00:00", 3)
    write_netcdf(cube.isel(time=[0, 2, 1]), tmp_path / "unsorted.nc")
    with pytest.raises(TimeOrderError, match="sorted"):
        open_cube(tmp_path / "unsorted.nc")
    write_netcdf(cube.isel(time=slice(0, 2)), tmp_path / "a.nc")
    write_netcdf(cube.isel(time=slice(1, 3)), tmp_path / "b.nc")
    with pytest.raises(TimeOrderError, match=r"unique times across files.*a\.nc.*b\.nc"):
        open_cube([tmp_path / "a.nc", tmp_path / "b.nc"])
    longer = make_cube("2020-06-21T00:00", 5, seed=3)
    write_netcdf(longer.isel(time=[0, 4]), tmp_path / "c.nc")
    with pytest.raises(TimeOrderError, match="do not overlap"):
        open_cube([tmp_path / "c.nc", tmp_path / "b.nc"])


def test_frame_size_mismatch_between_files(tmp_path: Path) -> None:
    write_netcdf(make_cube("2020-06-21T00:00", 2), tmp_path / "a.nc")
    write_netcdf(make_cube("2020-06-22T00:00", 2, size=(20, 20)), tmp_path / "b.nc")
    with pytest.raises(FrameSizeError, match=r"32x24 in every file.*found 20x20 in .*b\.nc"):
        open_cube(tmp_path)


def test_calibration_missing_or_different(tmp_path: Path) -> None:
    cube = make_cube("2020-06-21T00:00", 2)
    bare = cube.copy()
    bare.attrs = {k: v for k, v in cube.attrs.items() if not k.startswith("calibration_")}
    write_netcdf(bare, tmp_path / "bare.nc")
    with pytest.raises(MissingCalibrationError, match=r"bare\.nc.*calibration_width"):
        open_cube(tmp_path / "bare.nc")
    assert open_cube(tmp_path / "bare.nc", validate=False).sizes["time"] == 2

    other = make_cube("2020-06-22T00:00", 2)
    other.attrs["calibration_rotation_deg"] = 12.0
    write_netcdf(cube, tmp_path / "a.nc")
    write_netcdf(other, tmp_path / "b.nc")
    with pytest.raises(CalibrationError, match="one camera calibration"):
        open_cube([tmp_path / "a.nc", tmp_path / "b.nc"])


def test_cubes_without_calibration_open_and_do_not_mix(tmp_path: Path) -> None:
    cube = make_cube("2020-06-21T00:00", 2)
    bare = cube.drop_vars(["elevation", "azimuth"])
    bare.attrs = {k: v for k, v in cube.attrs.items() if not k.startswith("calibration_")}
    bare["exposure_s"] = ("time", np.array([1.0, 2.0]))
    write_netcdf(bare, tmp_path / "bare.nc")
    opened = open_cube(tmp_path / "bare.nc")  # a new camera before its calibration
    assert "elevation" not in opened.variables
    later = bare.assign_coords(time=bare.time + np.timedelta64(1, "D")).drop_vars("exposure_s")
    later["filter"] = ("time", np.array(["open", "557.7nm"]))
    write_netcdf(later, tmp_path / "later.nc")
    both = open_cube([tmp_path / "bare.nc", tmp_path / "later.nc"]).load()
    np.testing.assert_array_equal(both.exposure_s.values, [1.0, 2.0, np.nan, np.nan])
    assert both.filter.values.tolist() == ["", "", "open", "557.7nm"]
    write_netcdf(make_cube("2020-06-25T00:00", 1), tmp_path / "calibrated.nc")
    with pytest.raises(CalibrationError, match=r"calibrated.nc has the lens .* has no calibration"):
        open_cube([tmp_path / "bare.nc", tmp_path / "calibrated.nc"])


def test_files_of_other_channels_do_not_mix(tmp_path: Path) -> None:
    a = make_cube("2020-06-21T00:00", 2)
    grey = cube_from_frames(
        np.zeros((1, H, W), np.uint8), [np.datetime64("2020-06-22")], channels=["557.7nm"]
    )
    write_netcdf(a, tmp_path / "a.nc")
    write_netcdf(grey, tmp_path / "b.nc")
    with pytest.raises(SchemaError, match=r"same channels in every file; .*b.nc has 557.7nm"):
        open_cube(tmp_path)


# -- writers ------------------------------------------------------------------------------------
def test_write_netcdf_cf_compression_chunks_history(tmp_path: Path) -> None:
    cube = make_cube("2020-06-21T00:00", 7)
    cube.attrs["history"] = "made by hand"
    out = write_netcdf(cube, tmp_path / "cube.nc", time_chunk=4)
    with netCDF4.Dataset(out) as nc:
        assert nc.Conventions == "CF-1.8"
        lines = nc.history.splitlines()
        assert lines[0] == "made by hand"
        assert "write_netcdf" in lines[1]
        image = nc["image"]
        filters = image.filters()
        assert filters["zlib"]
        assert filters["shuffle"]
        assert filters["complevel"] == 4
        assert image.chunking() == [4, H, W, 3]
        assert image.dtype == np.uint8
        assert image.units == "1"
        assert nc["elevation"].units == "degree"
        assert nc["time"].standard_name == "time"
        assert nc["time"].units.startswith("seconds since 1970-01-01")
        assert nc["time"].dtype == np.int64
        assert set(image.coordinates.split()) == {"elevation", "azimuth"}
    back = open_cube(out)
    xr.testing.assert_equal(back.image.load(), cube.image)
    np.testing.assert_array_equal(back.azimuth.values, cube.azimuth.values)

    # rewriting a cube read from a file appends to its history, not to the old encoding
    write_netcdf(back.isel(time=slice(0, 2)), tmp_path / "again.nc")
    again = open_cube(tmp_path / "again.nc")
    assert again.attrs["history"].count("\n") == 2
    assert again.sizes["time"] == 2


def test_write_netcdf_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "cube.nc"
    write_netcdf(make_cube("2020-06-21T00:00", 2), target)
    old = target.read_bytes()

    def broken(self: xr.Dataset, path: Path, *args: object, **kwargs: object) -> None:
        Path(path).write_bytes(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", broken)
    with pytest.raises(OSError, match="No space left"):
        write_netcdf(make_cube("2020-06-22T00:00", 3), target)
    with pytest.raises(OSError, match="No space left"):
        write_netcdf(make_cube("2020-06-22T00:00", 3), tmp_path / "new.nc")
    assert target.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cube.nc"]


def test_atomic_output_keeps_permissions_and_cleans_up(tmp_path: Path) -> None:
    target = tmp_path / "x.txt"
    target.write_text("old")
    target.chmod(0o640)
    with files.atomic_output(target) as tmp:
        assert tmp.parent == tmp_path
        assert tmp.name.startswith(".x.txt.")
        tmp.write_text("new")
    assert target.read_text() == "new"
    assert target.stat().st_mode & 0o777 == 0o640

    def interrupted() -> None:
        with files.atomic_output(target) as tmp:
            tmp.write_text("half")
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted()
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["x.txt"]


def test_write_product_converts_attributes(tmp_path: Path) -> None:
    rate = xr.DataArray(
        np.linspace(0, 1, 24 * 4, dtype=np.float32).reshape(24, 4),
        dims=("mlt", "cell"),
        name="occurrence_rate",
        attrs={"long_name": "aurora occurrence rate", "units": "1"},
    )
    product = rate.to_dataset()
    product.attrs = {
        "detector": "fcn",
        "filters": {"sun_max_elevation": -10.0, "moon": None},
        "moon_filter": True,
        "thresholds": [0.5, 0.6],
        "skip": None,
    }
    out = write_product(product, tmp_path / "occ" / "occurrence.nc")
    back = xr.open_dataset(out)
    assert back.attrs["moon_filter"] == 1
    assert back.attrs["filters"] == '{"moon": null, "sun_max_elevation": -10.0}'
    assert list(back.attrs["thresholds"]) == [0.5, 0.6]
    assert "skip" not in back.attrs
    assert back.attrs["Conventions"] == "CF-1.8"
    assert "write_product" in back.attrs["history"]
    np.testing.assert_array_equal(back.occurrence_rate.values, rate.values)
    assert back.occurrence_rate.encoding["zlib"]
    back.close()
    with pytest.raises(SchemaError, match="unnamed DataArray"):
        write_product(rate.rename(None), tmp_path / "x.nc")  # type: ignore[arg-type]


def test_cube_from_frames_checks_input() -> None:
    times = np.array(["2020-06-21T00:00", "2020-06-21T00:01"], "M8[ns]")
    with pytest.raises(FrameSizeError, match=r"\(T, H, W, 3\)"):
        cube_from_frames(np.zeros((2, H, W, 2), np.uint8), times)
    with pytest.raises(DtypeError, match="float64"):
        cube_from_frames(np.zeros((2, H, W, 3)), times)
    with pytest.raises(TimeOrderError):
        cube_from_frames(np.zeros((2, H, W, 3), np.uint8), times[::-1])
    cube = cube_from_frames(np.zeros((2, H, W, 3), np.uint16), times)
    assert cube.image.dtype == np.uint16
    assert cube.attrs["calibration_width"] == W
