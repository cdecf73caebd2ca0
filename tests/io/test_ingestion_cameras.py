"""Ingest's sites, calibrations, skymaps, channels and per-frame header variables (API)."""

from __future__ import annotations

import gzip
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from aurora_xr.errors import (
    FrameSizeError,
    IngestError,
    MissingCalibrationError,
    OptionError,
    StationError,
)
from aurora_xr.io import ingest, open_cube
from aurora_xr.io.ingest_camera import read_calibration_json
from aurora_xr.sky.lens import Calibration, sky_grids
from aurora_xr.sky.skymap import Skymap
from aurora_xr.sky.skymap_choice import SkymapValidityWarning
from aurora_xr.sky.stations import Station, placeholder_lens
from tests.io.test_ingestion import DAY1, DAY2, H, W, make_archive

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "real_sequences"


def pgm(path: Path, frames: list[tuple[str, np.ndarray]], extra: str = "") -> None:
    """A gzipped multi-frame 16-bit PGM as THEMIS writes it (header comments per frame)."""
    parts = []
    for when, image in frames:
        head = (
            f'P5\n#"Image request start" {when} UTC\n#"Geodetic latitude" 62.0\n'
            f'#"Geodetic Longitude" -150.0\n{extra}{image.shape[1]} {image.shape[0]}\n65535\n'
        )
        parts.append(head.encode() + image.astype(">u2").tobytes())
    path.write_bytes(gzip.compress(b"".join(parts)))


def grey16(seed: int, shape: tuple[int, int] = (H, W)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 65535, shape, dtype=np.uint16)


def skymap(name: str, start: str | None, shape: tuple[int, int] = (H, W)) -> Skymap:
    h, w = shape
    lens = Calibration(
        width=w, height=h, zenith_x=(w - 1) / 2, zenith_y=(h - 1) / 2, lens_radius=min(h, w) / 2
    )
    el, az = sky_grids(lens)
    lat = np.stack([np.full(shape, 60.0 + k) for k in range(2)]).astype(np.float32)
    lon = np.stack([np.full(shape, -150.0 - k) for k in range(2)]).astype(np.float32)
    return Skymap(
        el,
        az,
        name=name,
        valid_from=None if start is None else np.datetime64(start),
        altitudes_km=(110.0, 230.0),
        latitude=lat,
        longitude=lon,
    )


# -- sites ------------------------------------------------------------------------------------
def test_a_station_object_a_site_and_a_station_file(tmp_path: Path) -> None:
    make_archive(tmp_path / "src", DAY1)
    here = Station("ABC", "A camera", 70.5, 20.25, 12.0, source="my notes")
    ingest(tmp_path / "src", tmp_path / "a", station=here, progress=False)
    assert open_cube(tmp_path / "a").attrs["station_position_source"] == "my notes"
    ingest(tmp_path / "src", tmp_path / "b", site="-70.5,10,5", progress=False)
    b = open_cube(tmp_path / "b" / "SITE_20200621.nc")
    assert (b.attrs["station_latitude"], b.attrs["station_altitude_m"]) == (-70.5, 5.0)
    assert b.attrs["station_position_source"] == "--site -70.5,10,5"
    ingest(tmp_path / "src", tmp_path / "c", station="OWN", site="1,2", progress=False)
    assert (tmp_path / "c" / "OWN_20200621.nc").exists()
    sites = tmp_path / "sites.toml"
    sites.write_text(
        '[[station]]\ncode = "LYR2"\nlatitude = 78.2\nlongitude = 15.8\naltitude_m = 10\n'
    )
    ingest(tmp_path / "src", tmp_path / "d", station_file=sites, progress=False)
    d = open_cube(tmp_path / "d" / "LYR2_20200621.nc")
    assert (d.attrs["station_latitude"], d.attrs["station_position_source"]) == (
        78.2,
        "station file sites.toml",
    )


def test_no_site_and_no_calibration_is_an_error_that_says_what_to_pass(tmp_path: Path) -> None:
    make_archive(tmp_path / "src", DAY1)
    with pytest.raises(StationError, match=r"--station CODE .* --site LAT,LON\[,ALT_M\]"):
        ingest(tmp_path / "src", tmp_path / "nc", progress=False)
    with pytest.raises(StationError, match="unknown station 'LYRR'; nearest matches: LYR"):
        ingest(tmp_path / "src", tmp_path / "nc", station="LYRR", progress=False)
    with pytest.raises(OptionError, match="expected --site LAT,LON"):
        ingest(tmp_path / "src", tmp_path / "nc", site="78N", progress=False)
    assert not (tmp_path / "nc").exists()


def test_the_header_position_wins_over_the_station_given_and_is_noted(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    pgm(src / "a.pgm.gz", [("2020-01-01 10:00:00.000000", grey16(0))])
    report = ingest(src, tmp_path / "nc", station="GAKO", progress=False)
    ds = open_cube(tmp_path / "nc" / "GAKO_20200101.nc")
    assert (ds.attrs["station_latitude"], ds.attrs["station_longitude"]) == (62.0, -150.0)
    assert ds.attrs["station_position_source"] == "pnm header of a.pgm.gz"
    assert "from the catalogue position" in ds.attrs["station_position_note"]
    assert report.notes
    assert report.notes[0] == ds.attrs["station_position_note"]


# -- calibrations -----------------------------------------------------------------------------
def test_a_known_site_without_calibration_makes_a_cube_without_one(tmp_path: Path) -> None:
    frames = make_archive(tmp_path / "src", DAY1 + DAY2)
    report = ingest(tmp_path / "src", tmp_path / "nc", station="JBS", progress=False)
    assert any("no calibration given" in n for n in report.notes)
    cube = open_cube(tmp_path / "nc").load()  # the folder opens: calibration checked if present
    assert "elevation" not in cube.variables
    assert "azimuth" not in cube.variables
    assert not any(k.startswith("calibration_") for k in cube.attrs)
    assert cube.sizes["time"] == len(frames)
    # a calibrated cube and an uncalibrated one cannot share a folder
    make_archive(tmp_path / "src2", ["2020-06-23T00:00:00"])
    ingest(tmp_path / "src2", tmp_path / "nc", station="JBS", calibration="placeholder:JBS")
    with pytest.raises(Exception, match="expected one camera calibration for all files"):
        open_cube(tmp_path / "nc")


def test_the_placeholder_lens_only_by_name_and_lens_json(tmp_path: Path) -> None:
    make_archive(tmp_path / "src", DAY1)
    ingest(tmp_path / "src", tmp_path / "nc", station="JBS", calibration="placeholder:JBS")
    cube = open_cube(tmp_path / "nc")
    assert Calibration.from_attrs(cube.attrs) == placeholder_lens("JBS", W, H)
    with pytest.raises(MissingCalibrationError, match="only JBS has a placeholder lens"):
        ingest(tmp_path / "src", tmp_path / "x", station="KHO", calibration="placeholder:KHO")
    sidecar = tmp_path / "sidecar.json"  # the synthetic archive's: {"calibration": attrs}
    lens = Calibration(width=W, height=H, zenith_x=30, zenith_y=20, lens_radius=19)
    sidecar.write_text(json.dumps({"station": {}, "calibration": lens.to_attrs()}))
    assert read_calibration_json(sidecar) == lens
    ingest(tmp_path / "src", tmp_path / "j", station="JBS", calibration=sidecar, progress=False)
    assert Calibration.from_attrs(open_cube(tmp_path / "j").attrs) == lens


def test_skymaps_by_validity_size_errors_and_periods_that_mix_two(tmp_path: Path) -> None:
    make_archive(tmp_path / "src", DAY1)
    early, late = skymap("early", "2020-01-01"), skymap("late", "2020-06-21T23:01:30")
    with pytest.raises(IngestError, match=r"JBS_20200621.nc would mix the skymaps early .* late"):
        ingest(tmp_path / "src", tmp_path / "nc", station="JBS", skymap=[early, late])
    assert not (tmp_path / "nc").exists()
    report = ingest(
        tmp_path / "src", tmp_path / "nc", station="JBS", skymap=[early, late], period="1min"
    )
    names = sorted(Path(p).name for p in report.written)
    assert names == ["JBS_20200621T2300.nc", "JBS_20200621T2301.nc", "JBS_20200621T2302.nc"]
    assert open_cube(tmp_path / "nc" / names[0]).attrs["calibration_name"] == "early"
    last = open_cube(tmp_path / "nc" / names[-1])
    assert last.attrs["calibration_name"] == "late"
    assert last.skymap_latitude.dims == ("skymap_altitude", "y", "x")
    assert last.skymap_altitude.values.tolist() == [110.0, 230.0]
    assert float(last.aurora.geo_coords(altitude_km=230).latitude[0, 0]) == 61.0
    with pytest.warns(SkymapValidityWarning, match="2020-06-21T23:00:00 and 2 other"):
        ingest(tmp_path / "src", tmp_path / "w", station="JBS", skymap=skymap("x", "2021-01-01"))
    with pytest.raises(FrameSizeError, match=r"fit none of the frames, which are 48x64"):
        ingest(tmp_path / "src", tmp_path / "s", station="JBS", skymap=skymap("s", None, (8, 8)))
    lens = placeholder_lens("JBS", W, H)
    with pytest.raises(OptionError, match="not both"):
        ingest(tmp_path / "src", tmp_path / "b", station="JBS", skymap=early, calibration=lens)


def test_an_existing_output_with_another_skymap_is_refused(tmp_path: Path) -> None:
    make_archive(tmp_path / "src", DAY1)
    ingest(tmp_path / "src", tmp_path / "nc", station="JBS", skymap=skymap("a", None))
    make_archive(tmp_path / "src", ["2020-06-21T23:30:00"], seed=9)
    with pytest.raises(IngestError, match=r"written with skymap a .* found skymap b"):
        ingest(tmp_path / "src", tmp_path / "nc", station="JBS", skymap=skymap("b", None))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = ingest(tmp_path / "src", tmp_path / "nc", station="JBS", progress=False)
    assert report.n_frames_added == 1  # the output's own skymap is kept
    assert open_cube(tmp_path / "nc").attrs["calibration_name"] == "a"


# -- multi-frame files, header variables, channels -----------------------------------------
def test_multi_frame_files_lose_only_bad_frames_and_keep_header_values(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    a = [(f"2020-01-01 10:00:0{k}.500000", grey16(k)) for k in range(3)]
    pgm(src / "a.pgm.gz", a, extra='#"Exposure options" MSEC=1000\n')
    b = [(f"2020-01-01 10:00:1{k}.000000", grey16(10 + k)) for k in range(2)]
    pgm(src / "b.pgm.gz", b, extra='#"Ccd temperature" -40C\n#"Filter" open\n')
    raw = gzip.decompress((src / "b.pgm.gz").read_bytes())
    (src / "b.pgm.gz").write_bytes(gzip.compress(raw[: len(raw) - 100]))  # frame 1 truncated
    report = ingest(src, tmp_path / "nc", station="GAKO", progress=False)
    ((label, reason),) = report.skipped
    assert label == f"{src / 'b.pgm.gz'}[frame 1]"
    assert reason
    ds = open_cube(tmp_path / "nc" / "GAKO_20200101.nc").load()
    assert ds.time.values.tolist() == [
        np.datetime64(t.replace(" ", "T"), "ns").astype(int) for t, _ in a + b[:1]
    ]
    np.testing.assert_array_equal(ds.image.values[..., 0], [f for _, f in a + b[:1]])
    np.testing.assert_array_equal(ds.exposure_s.values, [1.0, 1.0, 1.0, np.nan])
    assert ds.filter.values.tolist() == ["", "", "", "open"]
    assert ds.ccd_temperature.values.tolist() == ["", "", "", "-40C"]
    # a rerun with a new file keeps the header variables of the frames held before
    c = [("2020-01-01 10:00:20.000000", grey16(20))]
    pgm(src / "c.pgm.gz", c, extra='#"Exposure options" MSEC=250\n')
    again = ingest(src, tmp_path / "nc", station="GAKO", progress=False)
    assert (again.n_frames_added, again.n_frames_present) == (1, 4)
    ds = open_cube(tmp_path / "nc" / "GAKO_20200101.nc").load()
    np.testing.assert_array_equal(ds.exposure_s.values, [1.0, 1.0, 1.0, np.nan, 0.25])
    assert ds.filter.values.tolist() == ["", "", "", "open", ""]
