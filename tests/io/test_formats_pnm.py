"""PGM/PPM multi-frame files (aurora_xr.io.formats.pnm_images), real and hand-made."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pytest

from aurora_xr.errors import ImageFileError
from aurora_xr.io.formats import read_file, read_file_header
from aurora_xr.io.formats.pnm_images import parse_comments

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "real_sequences"
NIR = sorted((REAL / "trex_gill_nir_20220307").glob("*.pgm.gz"))
BLUE = REAL / "trex_gill_blueline_20220308" / "20220308_0600_gill_blue-814_full.pgm.gz"
THEMIS = sorted((REAL / "themis_gill_pgm_20140310").glob("*.pgm.gz"))
RAINBOW = REAL / "rainbow_rabb_pgm_20130205" / "20130205_0500_rabb_rainbow-08_full.pgm.gz"
SIZE = re.compile(rb"\n(\d+) (\d+)\n65535\n")


def independent_frames(path: Path) -> np.ndarray:
    """The 16-bit frames decoded without the package: gunzip, find ``W H 65535``, frombuffer."""
    content = gzip.decompress(path.read_bytes())
    out = []
    for match in SIZE.finditer(content):
        width, height = int(match.group(1)), int(match.group(2))
        out.append(
            np.frombuffer(content, ">u2", width * height, match.end()).reshape(height, width)
        )
    return np.stack(out)


def pnm(pixels: np.ndarray, comments: dict[str, str] | None = None, *, maxval: int = 0) -> bytes:
    """One binary PGM (2-D) or PPM (3-D) image with ``#"key" value`` comments."""
    height, width = pixels.shape[:2]
    maxval = maxval or (65535 if pixels.dtype == np.uint16 else 255)
    head = b"P6\n" if pixels.ndim == 3 else b"P5\n"
    head += b"".join(f'#"{k}" {v}\n'.encode() for k, v in (comments or {}).items())
    head += f"{width} {height}\n{maxval}\n".encode()
    data = pixels.astype(">u2" if maxval > 255 else np.uint8).tobytes()
    return head + data


def stamp(second: int) -> dict[str, str]:
    return {
        "Site unique ID": "test",
        "Geodetic latitude": "60.5",
        "Geodetic Longitude": "-100.25",
        "Exposure options": "WIDTH=4 HEIGHT=3 MSEC=2500",
        "Image request start": f"2020-01-02 03:04:{second:02d}.250000 UTC",
    }


def frames16(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 65536, (n, 3, 4), dtype=np.uint16)


# -- real files -------------------------------------------------------------------------------
def test_trex_nir_five_files_of_ten_frames() -> None:
    assert len(NIR) == 5
    times = []
    for minute, path in enumerate(NIR):
        result = read_file(path)
        assert result.format == "pnm"
        assert result.frames.shape == (10, 256, 256)
        assert result.dtype == np.uint16
        assert result.channels == ("844.6nm",)
        assert not result.errors
        np.testing.assert_array_equal(result.frames, independent_frames(path))
        expected = np.datetime64(f"2022-03-07T06:0{minute}:00") + np.arange(10) * np.timedelta64(
            6, "s"
        )
        np.testing.assert_array_equal(result.times.astype("datetime64[s]"), expected)
        times.append(result.times)
        # "Exposure Options" (capital O in this imager) gives the 5 s exposure
        np.testing.assert_allclose(result.frame_metadata["exposure_s"], 5.0)
        assert result.frame_metadata["ccd_temperature_c"][0] == -64.0
        assert result.metadata["site_latitude"] == pytest.approx(56.376723)
        assert result.metadata["site_longitude"] == pytest.approx(-94.643664)
        assert result.metadata["camera"] == "nir-216"
        assert result.metadata["orientation"] == "as_written"
    assert np.concatenate(times).size == 50


def test_trex_blueline_keeps_320_by_270() -> None:
    result = read_file(BLUE)
    assert result.frames.shape == (20, 270, 320)
    assert result.channels == ("white",)
    np.testing.assert_array_equal(result.frames, independent_frames(BLUE))
    expected = np.datetime64("2022-03-08T06:00:00") + np.arange(20) * np.timedelta64(3, "s")
    np.testing.assert_array_equal(result.times.astype("datetime64[s]"), expected)
    assert result.times[0] == np.datetime64("2022-03-08T06:00:00.233598")
    assert result.frame_metadata["exposure_s"][0] == pytest.approx(2.98952)
    assert result.frame_metadata["exposure_options"][0].startswith("WIDTH=2560 HEIGHT=2160")
    assert result.frame_metadata["geographic_latitude"][0] == "56.376723"
    assert result.metadata["site_latitude"] == pytest.approx(56.376723)


def test_themis_three_files_of_twenty_frames_with_optics() -> None:
    all_times = []
    for minute, path in enumerate(THEMIS):
        result = read_file(path)
        assert result.frames.shape == (20, 256, 256)
        assert result.channels == ("white",)
        np.testing.assert_array_equal(result.frames, independent_frames(path))
        expected = np.datetime64(f"2014-03-10T06:0{minute}:00") + np.arange(20) * np.timedelta64(
            3, "s"
        )
        np.testing.assert_array_equal(result.times.astype("datetime64[s]"), expected)
        all_times.append(result.times)
        meta = result.metadata
        assert (meta["site_latitude"], meta["site_longitude"]) == (56.3539, -94.6557)
        assert meta["site_altitude_m"] == 0.0
        assert meta["site_name"] == "Gillam"
        assert meta["pixel_aspect_ratio"] == pytest.approx(0.5181)
        assert meta["optical_center"] == (382.0, 150.0)
        # XBIN=2 YBIN=1 XOFFSET=126 YOFFSET=22: the centre of the 256x256 frame
        assert meta["optical_center_xy"] == (128.0, 128.0)
        keys = result.frame_metadata
        np.testing.assert_allclose(keys["exposure_s"], 0.999)
        assert keys["ccd_background"][0] == "3300"
        # the key written twice with two values keeps both
        assert keys["project_unique_id"][0] == "themis-gbo"
        assert keys["project_unique_id_2"][0] == "THEMIS"
        # "#1 SMP" inside a value is not a comment line
        assert "comment" not in keys
    assert np.unique(np.concatenate(all_times)).size == 60


def test_rainbow_colour_mosaic_in_one_channel() -> None:
    result = read_file(RAINBOW)
    assert result.frames.shape == (10, 256, 512)
    assert result.dtype == np.uint16
    assert result.channels == ("mosaic",)
    assert result.metadata["colour_mosaic"] is True
    assert result.metadata["pixel_aspect_ratio"] == pytest.approx(0.5122)
    assert result.metadata["optical_center"] == (360.0, 130.0)
    assert result.metadata["optical_center_xy"] == (256.0, 128.0)  # XOFFSET=104 YOFFSET=2
    assert (result.metadata["site_latitude"], result.metadata["site_longitude"]) == (58.17, -103.66)
    expected = np.datetime64("2013-02-05T05:00:00") + np.arange(10) * np.timedelta64(6, "s")
    np.testing.assert_array_equal(result.times.astype("datetime64[s]"), expected)
    np.testing.assert_allclose(result.frame_metadata["exposure_s"], 5.0)
    # the colour filter mosaic: neighbours differ far more than pixels two apart
    patch = result.frames[0, 100:156, 200:312].astype(float)
    step1 = np.abs(np.diff(patch, axis=1)).mean()
    step2 = np.abs(patch[:, 2:] - patch[:, :-2]).mean()
    assert step1 > 3 * step2


@pytest.mark.parametrize("path", [NIR[0], BLUE, THEMIS[0], RAINBOW], ids=lambda p: p.name[:13])
def test_header_only_agrees_with_the_frames(path: Path) -> None:
    full, head = read_file(path), read_file_header(path)
    assert (head.n_frames, head.height, head.width, head.dtype) == (
        full.n_frames,
        full.height,
        full.width,
        full.dtype,
    )
    np.testing.assert_array_equal(head.times, full.times)
    assert head.metadata == full.metadata


# -- hand-made files ------------------------------------------------------------------------
def test_single_8bit_frame_without_time(tmp_path: Path) -> None:
    pixels = np.arange(12, dtype=np.uint8).reshape(3, 4)
    path = tmp_path / "plain.pgm"
    path.write_bytes(b"P5\n# made by hand\n4 3\n255\n" + pixels.tobytes())
    result = read_file(path)
    assert result.dtype == np.uint8
    np.testing.assert_array_equal(result.frames[0], pixels)
    assert result.times is None
    assert result.frame_metadata["comment"][0] == "made by hand"


def test_16bit_is_big_endian_and_native_out(tmp_path: Path) -> None:
    pixels = np.array([[1, 256, 65535, 4660]], dtype=np.uint16)
    path = tmp_path / "one.pgm"
    path.write_bytes(pnm(pixels, stamp(0)))
    result = read_file(path)
    assert result.frames.dtype == np.dtype("=u2")
    np.testing.assert_array_equal(result.frames[0], pixels)
    assert result.times[0] == np.datetime64("2020-01-02T03:04:00.25")
    assert result.frame_metadata["exposure_s"][0] == 2.5
    assert result.metadata["site_longitude"] == -100.25


def test_ppm_colour_frames(tmp_path: Path) -> None:
    pixels = np.random.default_rng(1).integers(0, 256, (2, 3, 4, 3), dtype=np.uint8)
    path = tmp_path / "colour.ppm"
    path.write_bytes(pnm(pixels[0], stamp(0)) + pnm(pixels[1], stamp(3)))
    result = read_file(path)
    assert result.channels == ("R", "G", "B")
    np.testing.assert_array_equal(result.frames, pixels)


def test_multi_frame_gzip_several_members(tmp_path: Path) -> None:
    pixels = frames16(3)
    parts = [pnm(p, stamp(3 * i)) for i, p in enumerate(pixels)]
    path = tmp_path / "stack.pgm.gz"
    path.write_bytes(gzip.compress(parts[0] + parts[1]) + gzip.compress(parts[2]))
    result = read_file(path)
    np.testing.assert_array_equal(result.frames, pixels)
    assert result.times.astype("datetime64[s]").astype(str).tolist() == [
        "2020-01-02T03:04:00",
        "2020-01-02T03:04:03",
        "2020-01-02T03:04:06",
    ]


def test_truncated_last_frame_keeps_the_others(tmp_path: Path) -> None:
    pixels = frames16(4)
    data = b"".join(pnm(p, stamp(i)) for i, p in enumerate(pixels))
    path = tmp_path / "cut.pgm.gz"
    path.write_bytes(gzip.compress(data[:-5]))
    result = read_file(path)
    np.testing.assert_array_equal(result.frames, pixels[:3])
    np.testing.assert_array_equal(result.index, [0, 1, 2])
    assert [e.index for e in result.errors] == [3]
    assert "truncated: 4x3 16-bit grey needs 24 bytes of pixels, the file holds 19" in str(
        result.errors[0]
    )


def test_truncated_gzip_stream_keeps_the_frames_before(tmp_path: Path) -> None:
    pixels = np.random.default_rng(2).integers(0, 65536, (5, 64, 64), dtype=np.uint16)
    data = b"".join(pnm(p, stamp(i)) for i, p in enumerate(pixels))
    packed = gzip.compress(data, compresslevel=0)  # stored blocks: the cut point is predictable
    path = tmp_path / "cut_stream.pgm.gz"
    path.write_bytes(packed[: int(len(packed) * 0.7)])
    result = read_file(path)
    assert 2 <= result.n_frames <= 3
    np.testing.assert_array_equal(result.frames, pixels[: result.n_frames])
    assert "gzip stream truncated" in result.errors[-1].reason


def test_corrupt_middle_header_resyncs_on_the_next_frame(tmp_path: Path) -> None:
    pixels = frames16(3)
    parts = [pnm(p, stamp(i)) for i, p in enumerate(pixels)]
    parts[1] = b"XX" + parts[1][2:]
    path = tmp_path / "bad_middle.pgm"
    path.write_bytes(b"".join(parts))
    result = read_file(path)
    np.testing.assert_array_equal(result.frames, pixels[[0, 2]])
    assert [e.index for e in result.errors] == [1]
    assert "no PNM header at byte" in result.errors[0].reason


def test_frame_of_another_size_or_without_time_is_skipped(tmp_path: Path) -> None:
    pixels = frames16(3)
    other = np.zeros((5, 5), np.uint16)
    no_time = {k: v for k, v in stamp(9).items() if k != "Image request start"}
    data = pnm(pixels[0], stamp(0)) + pnm(other, stamp(3)) + pnm(pixels[1], no_time)
    data += pnm(pixels[2], stamp(6))
    path = tmp_path / "mixed.pgm"
    path.write_bytes(data)
    result = read_file(path)
    np.testing.assert_array_equal(result.frames, pixels[[0, 2]])
    np.testing.assert_array_equal(result.index, [0, 3])
    reasons = {e.index: e.reason for e in result.errors}
    assert reasons[1] == "5x5 16-bit grey differs from the file's first frame (4x3 16-bit grey)"
    assert reasons[2] == "no 'Image request start' time in header"


def test_unreadable_time_is_a_frame_error(tmp_path: Path) -> None:
    bad = stamp(0) | {"Image request start": "yesterday"}
    path = tmp_path / "badtime.pgm"
    path.write_bytes(pnm(frames16(1)[0], stamp(1)) + pnm(frames16(1)[0], bad))
    result = read_file(path)
    assert result.n_frames == 1
    assert "unreadable 'Image request start' 'yesterday'" in result.errors[0].reason


def test_no_good_frame_is_an_image_file_error(tmp_path: Path) -> None:
    path = tmp_path / "empty_pixels.pgm"
    path.write_bytes(b"P5\n4 3\n65535\n\x00\x01")
    with pytest.raises(ImageFileError, match="truncated: 4x3 16-bit grey needs 24 bytes"):
        read_file(path)
    path.write_bytes(b"P5\n4 3\n0\n" + bytes(12))
    with pytest.raises(ImageFileError, match=r"maximum value 0 \(expected 1..65535\)"):
        read_file(path)


def test_parse_comments_normalises_and_keeps_repeats() -> None:
    block = b'\n#"Exposure Options" A=1\n#"Optical center" x0=1,y0=2\n#"Optical center" x0=1,y0=2\n'
    block += b'#"Site" one\n#"Site" two\n# free text\n'
    assert parse_comments(block) == {
        "exposure_options": "A=1",
        "optical_center": "x0=1,y0=2",
        "site": "one",
        "site_2": "two",
        "comment": "free text",
    }
