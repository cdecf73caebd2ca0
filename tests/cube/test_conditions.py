"""Per-frame conditions tables: read, attach to a cube, filter on clouds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import aurora_xr
from aurora_xr import cli
from aurora_xr.cube.conditions import CONDITIONS_FILE, attach_conditions, read_conditions
from aurora_xr.errors import MissingDimensionError, MissingVariableError, OptionError, SchemaError
from tests.conftest import raise_if_dask_computes

START = "2020-06-19T06:00"
KW = {"start": START, "n_frames": 8, "cadence": "2min", "size": 64, "seed": 3, "clouds": 0.6}


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("archive")
    aurora_xr.write_synthetic_archive(root, **KW)  # type: ignore[arg-type]
    return root


@pytest.fixture(scope="module")
def cubes(archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cubes")
    aurora_xr.ingest(
        archive,
        out,
        station="JBS",
        calibration=archive / "synthetic_archive.json",
        progress=False,
    )
    return out


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_read_conditions_parses_times_numbers_and_booleans(tmp_path: Path) -> None:
    csv = _write(
        tmp_path / "log.csv",
        "time,cloud_fraction,moon_up,note_flag\n"
        "2020-06-19T00:02:00Z,0.1,false,1\n"
        "2020-06-19T09:00:00+09:00,0.5,True,\n"
        "2020-06-19T00:04:00,,FALSE,0\n",
    )
    table = read_conditions(csv)
    # sorted, UTC, naive: 09:00+09:00 is 00:00 UT
    expected = ["2020-06-19T00:00", "2020-06-19T00:02", "2020-06-19T00:04"]
    assert list(table.index) == list(pd.to_datetime(expected))
    assert table.index.dtype == "datetime64[ns]"
    np.testing.assert_array_equal(table["cloud_fraction"].to_numpy(), [0.5, 0.1, np.nan])
    np.testing.assert_array_equal(table["moon_up"].to_numpy(dtype=float), [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(table["note_flag"].to_numpy(), [np.nan, 1.0, 0.0])


@pytest.mark.parametrize(
    ("text", "error", "match"),
    [
        ("when,cloud_fraction\n2020-06-19T00:00,0.1\n", MissingVariableError, "'time' column"),
        ("time\n2020-06-19T00:00\n", MissingVariableError, "nothing else"),
        ("time,c\nyesterday,0.1\n", SchemaError, "ISO 8601"),
        ("time,c\n2020-06-19T00:00,0.1\n2020-06-19T00:00,0.2\n", SchemaError, "more than one"),
        ("time,c\n2020-06-19T00:00,overcast\n", SchemaError, "neither numbers nor booleans"),
    ],
)
def test_read_conditions_rejects_bad_tables(
    tmp_path: Path, text: str, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        read_conditions(_write(tmp_path / "bad.csv", text))


def test_read_conditions_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nowhere\.csv"):
        read_conditions(tmp_path / "nowhere.csv")


def test_synthetic_archive_conditions_reach_the_ingested_cube(archive: Path, cubes: Path) -> None:
    truth = aurora_xr.synthetic_cube(**KW)  # type: ignore[arg-type]
    ds = aurora_xr.open_cube(cubes, chunks={"time": 3})
    assert "cloud_fraction" not in ds  # images alone carry no cloud estimate
    with raise_if_dask_computes():
        got = ds.aurora.attach_conditions(archive / CONDITIONS_FILE)
    assert got["cloud_fraction"].chunks == ((3, 3, 2),)
    np.testing.assert_allclose(
        got["cloud_fraction"].values, truth["cloud_fraction"].values, atol=5e-5
    )
    np.testing.assert_array_equal(got["moon_up"].values, truth["moon_up"].values.astype(float))
    assert got["cloud_fraction"].attrs["units"] == "1"
    assert got["cloud_fraction"].attrs["conditions_source"] == str(archive / CONDITIONS_FILE)


def test_a_second_archive_run_extends_the_table(tmp_path: Path) -> None:
    aurora_xr.write_synthetic_archive(tmp_path, **KW)  # type: ignore[arg-type]
    later = {**KW, "start": "2020-06-19T07:00", "n_frames": 3}
    aurora_xr.write_synthetic_archive(tmp_path, **later)  # type: ignore[arg-type]
    table = read_conditions(tmp_path / CONDITIONS_FILE)
    assert len(table) == 11
    assert table.index.is_monotonic_increasing


def _cube(times: pd.DatetimeIndex) -> xr.Dataset:
    return xr.Dataset(coords={"time": times.values})


def test_nearest_row_within_tolerance() -> None:
    frames = pd.date_range("2020-06-19T00:00", periods=16, freq="2min")
    log = pd.DataFrame(
        {"time": pd.date_range("2020-06-19T00:00", periods=3, freq="10min"), "cloud": [0.0, 0.5, 1]}
    )
    got = attach_conditions(_cube(frames), log)["cloud"].values
    # default tolerance: half the 10-min spacing; 00:22 is nearest to 00:20, 00:26+ has no row
    expected = [0.0] * 3 + [0.5] * 5 + [1.0] * 5 + [np.nan] * 3
    np.testing.assert_array_equal(got, expected)
    exact = attach_conditions(_cube(frames), log, tolerance="0s")["cloud"].values
    np.testing.assert_array_equal(np.isfinite(exact), frames.isin(log["time"]))
    with pytest.raises(OptionError, match="time span"):
        attach_conditions(_cube(frames), log, tolerance="soon")
    with pytest.raises(MissingVariableError, match="'clouds'"):
        attach_conditions(_cube(frames), log, columns=["clouds"])
    with pytest.raises(MissingDimensionError, match="'time'"):
        attach_conditions(xr.Dataset(), log)


def test_cloud_filter_uses_the_attached_table(cubes: Path, archive: Path) -> None:
    ds = aurora_xr.open_cube(cubes)
    with pytest.raises(MissingVariableError, match="attach_conditions"):
        aurora_xr.usable_frames(ds, max_cloud_fraction=0.5)
    cloud = np.linspace(0.0, 0.7, ds.sizes["time"])
    cloud[2] = np.nan  # unknown cloud passes the filter
    log = pd.DataFrame({"time": ds["time"].values, "cloud_fraction": cloud})
    flags = aurora_xr.usable_frames(
        attach_conditions(ds, log), max_sun_elevation=None, max_cloud_fraction=0.35
    )
    expected = ~(cloud > 0.35)
    np.testing.assert_array_equal(flags["usable"].values, expected)
    assert "cloud_fraction <= 0.35" in flags["usable"].attrs["filters"]


def test_cli_occurrence_takes_a_conditions_table(
    cubes: Path, archive: Path, tmp_path: Path
) -> None:
    table = archive / CONDITIONS_FILE
    argv = ["occurrence", str(cubes), "--detector", "difference", "--no-progress"]
    argv += ["--max-sun-elevation", "90", "--cells", "100"]  # 64-px frames
    limit = float(np.median(read_conditions(table)["cloud_fraction"]))
    cloudy = [*argv, "--max-cloud-fraction", str(limit), "--out", str(tmp_path / "a.nc")]
    assert cli.main(cloudy) == cli.EXIT_ERROR  # no cloud_fraction in the cubes
    assert not (tmp_path / "a.nc").exists()
    assert cli.main([*cloudy, "--conditions", str(table)]) == 0
    assert cli.main([*argv, "--out", str(tmp_path / "all.nc")]) == 0
    product = aurora_xr.open_product(tmp_path / "a.nc")
    assert f"cloud_fraction <= {limit:g}" in product.attrs["usable_filters"]
    ds = attach_conditions(aurora_xr.open_cube(cubes), table)
    expected = aurora_xr.occurrence_from_cube(
        ds, detector="difference", max_sun_elevation=90, max_cloud_fraction=limit, n_cells=100
    )
    np.testing.assert_array_equal(product["n_observed"].values, expected["n_observed"].values)
    used = int(product["n_observed"].max("cell").sum())
    everything = aurora_xr.open_product(tmp_path / "all.nc")
    assert 0 < used < int(everything["n_observed"].max("cell").sum())
