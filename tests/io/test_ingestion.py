"""Ingest of JPEG/PNG frame folders into NetCDF-4 cubes (aurora_xr.io.ingestion).

The frames are those of the synthetic Jang Bogo camera: the station and its placeholder lens
are named (:data:`JBS`), never defaults. Real camera files: test_ingestion_real.py.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import aurora_xr.io.ingestion as ingestion
from aurora_xr.errors import AuroraXrError, IngestError, OptionError
from aurora_xr.io import NoFilesFoundError, ingest, open_cube
from aurora_xr.io.appender import CubeAppender, FrameBatch
from aurora_xr.io.imagefiles import time_from_name, time_regex
from aurora_xr.sky.lens import Calibration, sky_grids
from aurora_xr.sky.stations import placeholder_lens
from tests.conftest import raise_if_dask_computes

H, W = 48, 64
JBS: dict[str, Any] = {"station": "JBS", "calibration": "placeholder:JBS"}
"""The site and calibration of the synthetic frames (there are no defaults)."""
DAY1 = ["2020-06-21T23:00:00", "2020-06-21T23:01:00", "2020-06-21T23:02:00"]
DAY2 = ["2020-06-22T00:00:00", "2020-06-22T00:01:00", "2020-06-22T00:02:00", "2020-06-22T00:03:00"]


# -- helpers (also used by test_cli.py) ----------------------------------------------
def frame_array(seed: int, shape: tuple[int, int] = (H, W)) -> np.ndarray:
    """A deterministic random RGB frame."""
    return np.random.default_rng(seed).integers(0, 256, (*shape, 3), dtype=np.uint8)


def stamp(when: str) -> str:
    """``20200621_230000`` for ``2020-06-21T23:00:00``."""
    t = np.datetime64(when, "s").astype(object)
    return t.strftime("%Y%m%d_%H%M%S")


def make_archive(
    root: Path,
    times: list[str],
    *,
    masks_for: tuple[str, ...] = (),
    seed: int = 0,
) -> dict[np.datetime64, np.ndarray]:
    """PNG frames ``JBS_YYYYMMDD_HHMMSS_rgb.png`` in one folder per UT day, masks beside some."""
    frames: dict[np.datetime64, np.ndarray] = {}
    for i, when in enumerate(times):
        array = frame_array(seed + i)
        folder = root / when[:10]
        folder.mkdir(parents=True, exist_ok=True)
        name = f"JBS_{stamp(when)}"
        Image.fromarray(array).save(folder / f"{name}_rgb.png")
        if when in masks_for:
            Image.fromarray(mask_array(array)).save(folder / f"{name}_mask.png")
            Image.fromarray(kind_array(array)).save(folder / f"{name}_kind.png")
        frames[np.datetime64(when, "ns")] = array
    return frames


def mask_array(frame: np.ndarray) -> np.ndarray:
    return np.where(frame[..., 1] > 128, 255, 0).astype(np.uint8)


def kind_array(frame: np.ndarray) -> np.ndarray:
    return (frame[..., 0] % 3).astype(np.uint8)


def tmp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# -- round trips ------------------------------------------------------------------------------
def test_png_round_trip_is_pixel_exact_one_file_per_ut_day(tmp_path: Path) -> None:
    masked = (DAY2[1], DAY2[2])
    frames = make_archive(tmp_path / "src", DAY1 + DAY2, masks_for=masked)
    report = ingest(tmp_path / "src", tmp_path / "nc", progress=False, **JBS, chunk_frames=2)

    names = sorted(p.name for p in (tmp_path / "nc").iterdir())
    assert names == ["JBS_20200621.nc", "JBS_20200622.nc", "ingest_report.json"]
    assert report.n_frames_added == 7
    assert report.skipped == []
    assert sorted(Path(p).name for p in report.written) == names[:2]

    with raise_if_dask_computes():
        lazy = open_cube(tmp_path / "nc", chunks=3)
    assert lazy.image.chunks == ((3, 3, 1), (H,), (W,), (3,))
    cube = lazy.load()
    assert cube.image.dtype == np.uint8
    assert list(cube.channel.values) == ["R", "G", "B"]
    np.testing.assert_array_equal(cube.time.values, np.array(sorted(frames), "datetime64[ns]"))
    for when, array in frames.items():
        np.testing.assert_array_equal(cube.image.sel(time=when).values, array)

    # truth only where a mask sat beside the frame
    for when in DAY1 + DAY2:
        t = np.datetime64(when, "ns")
        has = when in masked
        assert bool(cube.truth_available.sel(time=t)) is has
        expected_truth = mask_array(frames[t]) > 0 if has else np.zeros((H, W), bool)
        np.testing.assert_array_equal(cube.aurora_truth.sel(time=t).values, expected_truth)
        expected_kind = kind_array(frames[t]) if has else np.zeros((H, W), np.uint8)
        np.testing.assert_array_equal(cube.aurora_kind.sel(time=t).values, expected_kind)
    assert cube.aurora_truth.dtype == bool
    assert cube.aurora_kind.dtype == np.uint8

    # data model: geometry and attributes
    cal = placeholder_lens("JBS", W, H)
    el, az = sky_grids(cal)
    np.testing.assert_array_equal(cube.elevation.values, el)
    np.testing.assert_array_equal(cube.azimuth.values, az)
    assert cube.attrs["station_code"] == "JBS"
    assert cube.attrs["calibration_width"] == W
    assert cube.attrs["calibration_height"] == H
    assert cube.attrs["Conventions"] == "CF-1.8"
    assert cube.attrs["history"].endswith(f"ingest of 3 frames from {tmp_path / 'src'}")


def test_jpeg_frames_are_close(tmp_path: Path) -> None:
    yy, xx = np.mgrid[0:H, 0:W]
    smooth = np.stack([xx * 3, yy * 4, (xx + yy) * 2], axis=-1).astype(np.uint8)
    src = tmp_path / "src"
    src.mkdir()
    for i, when in enumerate(DAY1):
        Image.fromarray(smooth + i).save(src / f"JBS_{stamp(when)}.jpg", quality=95)
    report = ingest(src, tmp_path / "nc", progress=False, **JBS)
    assert report.n_frames_added == 3
    assert report.ok
    cube = open_cube(tmp_path / "nc" / "JBS_20200621.nc")
    for i in range(3):
        diff = np.abs(cube.image.isel(time=i).values.astype(int) - (smooth + i).astype(int))
        assert diff.mean() < 1.5
        assert diff.max() < 24


def test_grey_frames_stay_single_channel(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    grey = frame_array(3)[..., 0]
    Image.fromarray(grey).save(src / f"JBS_{stamp(DAY1[0])}.png")
    report = ingest(src, tmp_path / "nc", progress=False, **JBS)
    assert [Path(p).name for p in report.written] == ["JBS_20200621.nc"]
    cube = open_cube(tmp_path / "nc").load()
    assert dict(cube.image.sizes) == {"time": 1, "y": H, "x": W, "channel": 1}
    assert cube.channel.values.tolist() == ["white"]
    np.testing.assert_array_equal(cube.image.values[0, ..., 0], grey)


def test_grey_and_colour_frames_cannot_share_an_output(tmp_path: Path) -> None:
    frames = make_archive(tmp_path / "src", DAY1)
    grey = tmp_path / "src" / "2020-06-21" / "JBS_20200621_235900.png"
    Image.fromarray(frame_array(4)[..., 0]).save(grey)
    report = ingest(tmp_path / "src", tmp_path / "nc", progress=False, **JBS)
    assert report.skipped == [
        (
            str(grey),
            "channels white differ from R, G, B (most frames of the station): files "
            "of other channels cannot share an output",
        )
    ]
    assert open_cube(tmp_path / "nc").sizes["time"] == len(frames)


def test_months_in_one_file_with_period_1MS(tmp_path: Path) -> None:
    make_archive(tmp_path / "src", DAY1 + DAY2)
    report = ingest(tmp_path / "src", tmp_path / "nc", period="1MS", progress=False, **JBS)
    assert [Path(p).name for p in report.written] == ["JBS_202006.nc"]
    assert open_cube(report.written[0]).sizes["time"] == 7


def test_period_labels() -> None:
    t = np.array(["2020-06-21T05:59:59", "2020-06-21T06:00:00", "2020-12-31T23:30"], "M8[ns]")
    six_hours = ingestion.period_labels(t, "6h").tolist()
    assert six_hours == ["20200621T00", "20200621T06", "20201231T18"]
    assert ingestion.period_labels(t, "1YS").tolist() == ["2020", "2020", "2020"]
    assert ingestion.period_labels(t, "30min").tolist()[1] == "20200621T0600"
    # fixed periods count from 1970-01-01 (a Thursday): the same frame, the same file
    assert ingestion.period_labels(t[:1], "7D").tolist() == ["20200618"]
    for bad in ("1ME", "2MS", "W", "nonsense", "1ms"):
        with pytest.raises(OptionError):
            ingestion.period_labels(t, bad)


# -- bad input ----------------------------------------------------------------------------------
def test_bad_files_are_reported_and_good_frames_all_kept(tmp_path: Path) -> None:
    src = tmp_path / "src"
    frames = make_archive(src, DAY1 + DAY2)
    folder = src / "2020-06-22"
    good = (folder / f"JBS_{stamp(DAY2[0])}_rgb.png").read_bytes()
    rng = np.random.default_rng(9)
    bad = {
        "JBS_20200622_010000_rgb.png": ("corrupt", rng.bytes(2000)),
        "JBS_20200622_010100_rgb.png": ("truncated", good[: len(good) // 2]),
        "JBS_20200622_010200_rgb.png": ("empty", b""),
        "JBS_20200622_010400.jpg": ("corrupt", b"\xff\xd8\xff" + rng.bytes(300)),
    }
    for name, (_, data) in bad.items():
        (folder / name).write_bytes(data)
    Image.fromarray(frame_array(50, (40, 40))).save(folder / "JBS_20200622_010300_rgb.png")
    Image.fromarray(frame_array(51)).save(folder / "sky_without_time.png")
    (folder / "notes.txt").write_text("not an image")

    report = ingest(src, tmp_path / "nc", progress=False, **JBS)

    reasons = {Path(p).name: r for p, r in report.skipped}
    assert report.n_skipped == 6
    assert "its content does not match" in reasons["JBS_20200622_010000_rgb.png"]
    assert "truncated" in reasons["JBS_20200622_010100_rgb.png"]
    assert reasons["JBS_20200622_010200_rgb.png"] == "empty file (0 bytes)"
    assert "JBS_20200622_010400.jpg" in reasons
    assert reasons["JBS_20200622_010300_rgb.png"].startswith("frame size 40x40 differs from 64x48")
    assert "no time stamp matching '%Y%m%d_%H%M%S'" in reasons["sky_without_time.png"]
    assert report.n_ignored == 1  # notes.txt
    assert report.n_frames_added == len(frames)

    cube = open_cube(tmp_path / "nc").load()
    np.testing.assert_array_equal(cube.time.values, np.array(sorted(frames), "M8[ns]"))
    for when, array in frames.items():
        np.testing.assert_array_equal(cube.image.sel(time=when).values, array)

    saved = json.loads((tmp_path / "nc" / "ingest_report.json").read_text())
    assert saved["n_skipped"] == 6
    assert saved["n_frames_added"] == 7
    assert {Path(s["path"]).name: s["reason"] for s in saved["skipped"]} == reasons


def test_wrong_size_against_the_majority_not_the_first_frame(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    Image.fromarray(frame_array(0, (30, 30))).save(src / f"JBS_{stamp(DAY1[0])}.png")
    for i, when in enumerate(DAY1[1:] + DAY2[:2], start=1):
        Image.fromarray(frame_array(i)).save(src / f"JBS_{stamp(when)}.png")
    report = ingest(src, tmp_path / "nc", progress=False, **JBS)
    assert [Path(p).name for p, _ in report.skipped] == [f"JBS_{stamp(DAY1[0])}.png"]
    assert report.n_frames_added == 4


def test_calibration_given_sets_the_size_and_attributes(tmp_path: Path) -> None:
    make_archive(tmp_path / "src", DAY1)
    Image.fromarray(frame_array(9, (40, 40))).save(tmp_path / "src" / "JBS_20200621_235900.png")
    cal = Calibration(
        width=40, height=40, zenith_x=20, zenith_y=19, lens_radius=18, rotation_deg=30
    )
    report = ingest(
        tmp_path / "src", tmp_path / "nc", calibration=cal, station="JBS", progress=False
    )
    assert report.n_frames_added == 1
    assert report.n_skipped == 3
    assert all("differs from 40x40 (the calibration given)" in r for _, r in report.skipped)
    cube = open_cube(tmp_path / "nc")
    assert Calibration.from_attrs(cube.attrs) == cal
    # an existing output with another calibration is refused, not mixed
    with pytest.raises(IngestError, match="another folder or pass the same calibration"):
        ingest(
            tmp_path / "src",
            tmp_path / "nc",
            calibration=cal.rotated(10),
            station="JBS",
            progress=False,
        )


def test_duplicate_times_are_reported_and_one_kept(tmp_path: Path) -> None:
    frames = make_archive(tmp_path / "src", DAY1)
    other = tmp_path / "src" / "copy"
    other.mkdir()
    Image.fromarray(frame_array(77)).save(other / f"JBS_{stamp(DAY1[1])}.jpg")
    report = ingest(tmp_path / "src", tmp_path / "nc", progress=False, **JBS)
    assert report.n_frames_added == 3
    ((path, reason),) = report.skipped
    assert Path(path).name == f"JBS_{stamp(DAY1[1])}.jpg"
    assert reason.startswith("duplicate time 2020-06-21T23:01:00")
    cube = open_cube(tmp_path / "nc").load()
    np.testing.assert_array_equal(cube.image.values[1], frames[np.datetime64(DAY1[1], "ns")])


def test_masks_without_frames_bad_masks_and_lens_mask(tmp_path: Path) -> None:
    src = tmp_path / "src"
    make_archive(src, DAY1, masks_for=(DAY1[0],))
    folder = src / "2020-06-21"
    Image.fromarray(np.zeros((H, W), np.uint8)).save(folder / "lens_mask.png")  # no time: ignored
    Image.fromarray(np.zeros((H, W), np.uint8)).save(folder / "JBS_20200621_120000_mask.png")
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(folder / f"JBS_{stamp(DAY1[1])}_mask.png")
    report = ingest(src, tmp_path / "nc", progress=False, **JBS)
    reasons = {Path(p).name: r for p, r in report.skipped}
    assert reasons["JBS_20200621_120000_mask.png"].startswith("mask without a frame")
    bad_mask = reasons[f"JBS_{stamp(DAY1[1])}_mask.png"]
    assert bad_mask == "mask size 10x10 differs from the frame's 64x48"
    assert report.n_skipped == 2
    assert report.n_ignored == 1
    assert report.n_frames_added == 3  # the frame with a bad mask is kept
    cube = open_cube(tmp_path / "nc").load()
    assert cube.truth_available.values.tolist() == [True, False, False]


def test_frame_suffix_selects_frames(tmp_path: Path) -> None:
    make_archive(tmp_path / "src", DAY1)
    Image.fromarray(frame_array(5)).save(tmp_path / "src" / "JBS_20200621_235900_thumb.png")
    report = ingest(
        tmp_path / "src", tmp_path / "nc", frame_suffix="_rgb.png", progress=False, **JBS
    )
    assert report.n_frames_added == 3
    assert report.n_ignored == 1
    assert report.ok


def test_time_pattern_anywhere_in_the_name(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    Image.fromarray(frame_array(1)).save(src / "cam-a_2020-06-21T23-05-09_x.png")
    report = ingest(src, tmp_path / "nc", time_pattern="%Y-%m-%dT%H-%M-%S", progress=False, **JBS)
    assert report.n_frames_added == 1
    cube = open_cube(tmp_path / "nc")
    assert cube.time.values[0] == np.datetime64("2020-06-21T23:05:09", "ns")

    regex = time_regex("%Y%m%d_%H%M%S")
    assert time_from_name("x_120200621_000000.png", regex, "%Y%m%d_%H%M%S") is None
    assert time_from_name("JBS_20201321_000000.png", regex, "%Y%m%d_%H%M%S") is None
    with pytest.raises(OptionError, match="supported directives"):
        time_regex("%Y%m%d_%Q")
    with pytest.raises(OptionError, match="must give the date"):
        time_regex("%H%M%S")


def test_missing_or_empty_source(tmp_path: Path) -> None:
    with pytest.raises(NoFilesFoundError, match="found no") as info:
        ingest(tmp_path / "nowhere", tmp_path / "nc", progress=False, **JBS)
    assert isinstance(info.value, FileNotFoundError)
    assert isinstance(info.value, AuroraXrError)
    (tmp_path / "empty").mkdir()
    with pytest.raises(NoFilesFoundError, match="camera files"):
        ingest(tmp_path / "empty", tmp_path / "nc", progress=False, **JBS)
    make_archive(tmp_path / "src", DAY1[:1])
    with pytest.raises(OptionError, match="chunk_frames"):
        ingest(tmp_path / "src", tmp_path / "nc", chunk_frames=0, progress=False, **JBS)


# -- re-running and atomic writes ----------------------------------------------------------------
def test_rerun_adds_only_new_frames_and_leaves_unchanged_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, dest = tmp_path / "src", tmp_path / "nc"
    frames = make_archive(src, DAY1 + DAY2[::2], masks_for=(DAY2[0],))
    first = ingest(src, dest, progress=False, **JBS, chunk_frames=2)
    assert first.n_frames_added == 5
    day1, day2 = dest / "JBS_20200621.nc", dest / "JBS_20200622.nc"
    before = {p: (p.stat().st_mtime_ns, p.stat().st_ino, p.read_bytes()) for p in (day1, day2)}

    again = ingest(src, dest, progress=False, **JBS)
    assert again.n_frames_added == 0
    assert again.written == []
    assert again.ok
    assert again.n_frames_present == 5
    assert sorted(again.unchanged) == sorted(map(str, (day1, day2)))
    for p in (day1, day2):
        assert (p.stat().st_mtime_ns, p.stat().st_ino, p.read_bytes()) == before[p]

    # a new frame between two old ones, with a mask
    new = make_archive(src, [DAY2[1]], masks_for=(DAY2[1],), seed=100)
    frames.update(new)
    monkeypatch.setattr(ingestion, "BATCH_BYTES", 1)  # one frame per batch, whatever the size
    third = ingest(src, dest, progress=False, **JBS, chunk_frames=2)
    assert third.n_frames_added == 1
    assert third.written == [str(day2)]
    assert third.unchanged == [str(day1)]
    assert (day1.stat().st_mtime_ns, day1.stat().st_ino) == before[day1][:2]
    cube = open_cube(dest).load()
    np.testing.assert_array_equal(cube.time.values, np.array(sorted(frames), "M8[ns]"))
    for when, array in frames.items():
        np.testing.assert_array_equal(cube.image.sel(time=when).values, array)
    assert cube.truth_available.values.tolist() == [False] * 3 + [True, True, False]
    assert cube.attrs["history"].count("ingest of") == 1
    with open_cube(day2) as d2:
        assert d2.attrs["history"].count("ingest of") == 2
    assert tmp_files(dest) == []


def test_failure_while_writing_leaves_old_file_and_no_partial_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, dest = tmp_path / "src", tmp_path / "nc"
    make_archive(src, DAY1)
    ingest(src, dest, progress=False, **JBS)
    day1 = dest / "JBS_20200621.nc"
    old = day1.read_bytes()
    make_archive(src, DAY2[:1], seed=40)  # a new day
    (src / "2020-06-21" / "JBS_20200621_235900_rgb.png").write_bytes(
        (src / "2020-06-21" / f"JBS_{stamp(DAY1[0])}_rgb.png").read_bytes()
    )  # and a new frame for the old day

    calls = {"n": 0}
    original = CubeAppender.append

    def failing(self: CubeAppender, piece: FrameBatch) -> None:
        calls["n"] += 1
        original(self, piece)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(CubeAppender, "append", failing)
    with pytest.raises(OSError, match="No space left"):
        ingest(src, dest, progress=False, **JBS, chunk_frames=1)
    assert calls["n"] == 1
    assert day1.read_bytes() == old
    assert sorted(p.name for p in dest.iterdir()) == ["JBS_20200621.nc", "ingest_report.json"]

    monkeypatch.undo()
    report = ingest(src, dest, progress=False, **JBS)
    assert report.n_frames_added == 2
    assert open_cube(dest).sizes["time"] == 5


def test_report_dataclass_to_json(tmp_path: Path) -> None:
    report = ingestion.IngestReport(src="a", dest="b", station="JBS", period="1D")
    report.skip(Path("x.png"), "empty file (0 bytes)")
    out = report.to_json(tmp_path / "sub" / "r.json")
    data = json.loads(out.read_text())
    assert data["skipped"] == [{"path": "x.png", "reason": "empty file (0 bytes)"}]
    assert data["n_skipped"] == 1
    assert not report.ok
    assert "1 file(s) skipped" in report.summary()
    assert os.listdir(tmp_path / "sub") == ["r.json"]


def test_a_good_duplicate_takes_the_mask_of_a_bad_frame(tmp_path: Path) -> None:
    frames = make_archive(tmp_path / "src", DAY1[:1], masks_for=(DAY1[0],))
    folder = tmp_path / "src" / "2020-06-21"
    (folder / f"JBS_{stamp(DAY1[0])}.jpg").write_bytes(b"\xff\xd8 broken")  # sorts first
    report = ingest(tmp_path / "src", tmp_path / "nc", progress=False, **JBS)
    assert [Path(p).name for p, _ in report.skipped] == [f"JBS_{stamp(DAY1[0])}.jpg"]
    cube = open_cube(tmp_path / "nc").load()
    t = np.datetime64(DAY1[0], "ns")
    np.testing.assert_array_equal(cube.image.sel(time=t).values, frames[t])
    np.testing.assert_array_equal(cube.aurora_truth.sel(time=t), mask_array(frames[t]) > 0)
    assert cube.truth_available.values.tolist() == [True]
