"""Colour and single-channel cubes: the channel names, the checks, and the steps that read them."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from aurora_xr.cube.build import cube_from_frames
from aurora_xr.cube.schema import brightness_channel, check_channels, validate_cube
from aurora_xr.detect.segmentation import ChannelThresholdPredictor, segment
from aurora_xr.detect.usable import usable_frames
from aurora_xr.errors import FrameSizeError, OptionError, SchemaError
from tests.conftest import raise_if_dask_computes

TIMES = np.array(["2020-06-21T00:00", "2020-06-21T00:01", "2020-06-21T00:02"], "M8[ns]")


def grey_cube(values: tuple[int, ...] = (0, 3000, 65535), **kwargs: object) -> xr.Dataset:
    frames = np.stack([np.full((20, 24), v, np.uint16) for v in values])
    return cube_from_frames(frames, TIMES, **kwargs)  # type: ignore[arg-type]


def test_single_channel_frames_make_a_one_channel_cube() -> None:
    cube = grey_cube()
    assert cube["image"].dims == ("time", "y", "x", "channel")
    assert cube["image"].shape == (3, 20, 24, 1)
    assert cube["channel"].values.tolist() == ["white"]
    validate_cube(cube)
    named = grey_cube(channels=("557.7nm",))
    assert named["channel"].values.tolist() == ["557.7nm"]
    explicit = cube_from_frames(np.zeros((3, 20, 24, 1), np.uint8), TIMES, channels=["630.0nm"])
    assert explicit["channel"].values.tolist() == ["630.0nm"]


def test_channel_names_are_checked() -> None:
    assert check_channels(["G", "B", "R"]) == ("G", "B", "R")
    assert check_channels(["427.8nm"]) == ("427.8nm",)
    with pytest.raises(SchemaError, match="found 2: R, G"):
        check_channels(["R", "G"])
    with pytest.raises(SchemaError, match="R, G, B"):
        check_channels(["X", "Y", "Z"])
    with pytest.raises(OptionError, match="expected 1 channel names; found 3"):
        grey_cube(channels=("R", "G", "B"))
    with pytest.raises(FrameSizeError, match=r"\(T, H, W, 1\)"):
        cube_from_frames(np.zeros((3, 20, 24, 2), np.uint8), TIMES)
    bad = grey_cube().assign_coords(channel=["R"]).expand_dims(extra=2)
    with pytest.raises(SchemaError):
        validate_cube(bad)


def test_brightness_channel_is_green_or_the_only_one() -> None:
    assert brightness_channel(["R", "G", "B"]) == 1
    assert brightness_channel(["B", "R", "G"]) == 2
    assert brightness_channel(["white"]) == 0


def test_per_frame_header_metadata_become_variables_on_time() -> None:
    cube = grey_cube(frame_variables={"exposure_s": [1.0, 1.0, 2.5], "filter": ["a", "b", "c"]})
    assert cube["exposure_s"].dims == ("time",)
    assert cube["exposure_s"].values.tolist() == [1.0, 1.0, 2.5]
    assert cube["filter"].values.tolist() == ["a", "b", "c"]
    validate_cube(cube)
    with pytest.raises(OptionError, match="'exposure_s' of shape \\(3,\\)"):
        grey_cube(frame_variables={"exposure_s": [1.0]})


@pytest.mark.parametrize("chunked", [False, True])
def test_usable_frames_read_the_single_channel(chunked: bool) -> None:
    cube = grey_cube(values=(0, 400, 65535))
    if chunked:
        cube = cube.chunk({"time": 1})
    with raise_if_dask_computes():
        flags = usable_frames(cube, max_sun_elevation=None)
    flags = flags.compute()
    # blank below 2 raw counts (a 16-bit sky of 400 counts is a real camera's dark sky),
    # saturated when above 10 % of the sky
    assert flags["sky_mean"].values[1] == pytest.approx(400.0)
    assert flags["usable"].values.tolist() == [False, True, False]
    assert flags["sky_mean"].attrs["channel"] == "white"


def test_segment_passes_single_channel_frames_to_the_predictor() -> None:
    frames = np.stack([np.full((20, 24), v, np.uint8) for v in (0, 60, 255)])
    cube = cube_from_frames(frames, TIMES, channels=("557.7nm",))
    seen: list[tuple[int, ...]] = []

    def predictor(frames: np.ndarray) -> np.ndarray:
        seen.append(frames.shape)
        return ChannelThresholdPredictor(low=40.0, high=80.0)(frames)

    out = segment(cube.chunk({"time": 2}), predictor).compute()
    assert sorted(seen) == [(1, 20, 24, 1), (2, 20, 24, 1)]
    assert out["aurora_probability"].values[:, 0, 0].tolist() == [0.0, 0.5, 1.0]
    assert out["aurora_mask"].values[:, 0, 0].tolist() == [False, True, True]
