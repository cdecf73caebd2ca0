"""JPEG, PNG and TIFF through Pillow (aurora_xr.io.formats.pillow_images), and KHO ``.img``."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aurora_xr.errors import ImageFileError
from aurora_xr.io.formats import read_file, read_file_header
from aurora_xr.io.imagefiles import read_frame, read_kind, read_mask

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
REFERENCE = SHARED / "reference_frames"
KHO = SHARED / "real_sequences" / "kho_keosentry_img"


def tiff_rgb16(pixels: np.ndarray, *, order: str = "<", deflate: bool = False) -> bytes:
    """A one-strip 48-bit RGB TIFF written by hand (Pillow cannot write one)."""
    height, width, _ = pixels.shape
    data = pixels.astype(order + "u2").tobytes()
    if deflate:
        data = zlib.compress(data)
    entries = [
        (256, 3, 1, width),
        (257, 3, 1, height),
        (258, 3, 3, 0),  # offset of the (16, 16, 16) triple, filled in below
        (259, 3, 1, 8 if deflate else 1),
        (262, 3, 1, 2),
        (273, 4, 1, 0),  # strip offset, filled in below
        (277, 3, 1, 3),
        (278, 3, 1, height),
        (279, 4, 1, len(data)),
        (284, 3, 1, 1),
    ]
    ifd = 8
    bits = ifd + 2 + 12 * len(entries) + 4
    strip = bits + 6
    head = (b"II*\x00" if order == "<" else b"MM\x00*") + struct.pack(order + "I", ifd)
    head += struct.pack(order + "H", len(entries))
    for tag, kind, count, value in entries:
        value = {258: bits, 273: strip}.get(tag, value)
        if kind == 3 and count == 1:
            head += struct.pack(order + "HHIHH", tag, kind, count, value, 0)
        else:
            head += struct.pack(order + "HHII", tag, kind, count, value)
    head += struct.pack(order + "I", 0) + struct.pack(order + "HHH", 16, 16, 16)
    return head + data


# -- real files -------------------------------------------------------------------------------
def test_real_jpeg_and_png_colour_frames() -> None:
    jpeg = read_file(REFERENCE / "kho_lyr_20201211_2009_clear_stars.jpg")
    assert jpeg.format == "jpeg"
    assert jpeg.frames.shape == (1, 2832, 2832, 3)
    assert jpeg.channels == ("R", "G", "B")
    assert jpeg.times is None
    assert jpeg.frame_metadata["model"][0] == "ILCE-7S"
    assert jpeg.frame_metadata["exposure_s"][0] == 4.0
    assert jpeg.frame_metadata["date_time_original"][0] == "2020:12:11 20:09:13"
    png = read_file(REFERENCE / "trex_gill_20211030_0605_aurora.png")
    assert png.format == "png"
    assert png.frames.shape == (1, 480, 553, 3)
    with Image.open(REFERENCE / "trex_gill_20211030_0605_aurora.png") as img:
        np.testing.assert_array_equal(png.frames[0], np.asarray(img.convert("RGB")))
    head = read_file_header(REFERENCE / "kho_lyr_20211121_1707_aurora_moon.jpg")
    assert (head.n_frames, head.height, head.width, head.channels) == (
        1,
        2832,
        2832,
        ("R", "G", "B"),
    )


def test_real_kho_img_frames() -> None:
    path = KHO / "W8446B18_2020-12-11_20-09-36.img"
    result = read_file(path)
    assert result.format == "kho_img"
    assert result.frames.shape == (1, 512, 512)
    assert result.dtype == np.uint16
    assert result.times is None
    assert result.channels == ("844.6nm",)
    raw = path.read_bytes()
    assert raw[60:66] == struct.pack("<3H", 512, 512, 2)
    np.testing.assert_array_equal(
        result.frames[0], np.frombuffer(raw, "<u2", 512 * 512, 66).reshape(512, 512)
    )
    assert result.metadata["header_text"] == "$Spextube IV image file generation -1"
    assert len(bytes.fromhex(result.metadata["trailer_hex"])) == 21
    head = read_file_header(KHO / "W8446B185_2017-12-18_03-14-57.img")
    assert (head.n_frames, head.height, head.width, head.dtype) == (1, 512, 512, np.uint16)


def test_truncated_kho_img(tmp_path: Path) -> None:
    raw = (KHO / "W8446B18_2020-12-11_20-09-36.img").read_bytes()
    path = tmp_path / "cut.img"
    path.write_bytes(raw[:1000])
    with pytest.raises(ImageFileError, match="truncated: 512x512 pixels of 2 bytes need 524354"):
        read_file(path)


# -- hand-made files ------------------------------------------------------------------------
def test_grey_stays_single_channel(tmp_path: Path) -> None:
    grey8 = np.arange(20, dtype=np.uint8).reshape(4, 5)
    grey16 = (np.arange(20, dtype=np.uint16) * 3000).reshape(4, 5)
    Image.fromarray(grey8).save(tmp_path / "g8.png")
    Image.fromarray(grey16).save(tmp_path / "g16.png")
    Image.fromarray(grey8).save(tmp_path / "g8.jpg", quality=100)
    r8, r16 = read_file(tmp_path / "g8.png"), read_file(tmp_path / "g16.png")
    assert (r8.frames.shape, r8.dtype) == ((1, 4, 5), np.uint8)
    assert (r16.frames.shape, r16.dtype) == ((1, 4, 5), np.uint16)
    np.testing.assert_array_equal(r8.frames[0], grey8)
    np.testing.assert_array_equal(r16.frames[0], grey16)
    assert r16.channels == ("white",)
    assert r16.channels_last().shape == (1, 4, 5, 1)
    assert read_file(tmp_path / "g8.jpg").frames.shape == (1, 4, 5)
    # the legacy reader of today's ingest still repeats grey into R = G = B
    assert read_frame(tmp_path / "g16.png").shape == (4, 5, 3)


def test_rgba_drops_alpha(tmp_path: Path) -> None:
    rgba = np.random.default_rng(0).integers(0, 256, (3, 4, 4), dtype=np.uint8)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    result = read_file(tmp_path / "a.png")
    np.testing.assert_array_equal(result.frames[0], rgba[..., :3])


def test_multi_page_tiff_skips_a_page_of_another_size(tmp_path: Path) -> None:
    pages = [np.full((4, 5), v, np.uint16) for v in (100, 200, 300)]
    images = [Image.fromarray(p) for p in pages]
    images.insert(2, Image.fromarray(np.zeros((2, 2), np.uint16)))
    images[0].save(tmp_path / "stack.tif", save_all=True, append_images=images[1:])
    result = read_file(tmp_path / "stack.tif")
    assert result.format == "tiff"
    np.testing.assert_array_equal(result.frames, np.stack(pages))
    np.testing.assert_array_equal(result.index, [0, 1, 3])
    assert result.errors[0].index == 2
    assert "differs from the first good page ((4, 5) uint16)" in result.errors[0].reason
    assert read_file_header(tmp_path / "stack.tif").n_frames == 4


@pytest.mark.parametrize(("order", "deflate"), [("<", False), (">", False), ("<", True)])
def test_rgb16_tiff_keeps_all_16_bits(tmp_path: Path, order: str, deflate: bool) -> None:
    pixels = (np.arange(4 * 5 * 3).reshape(4, 5, 3) * 1000 + 7).astype(np.uint16)
    path = tmp_path / "rgb16.tif"
    path.write_bytes(tiff_rgb16(pixels, order=order, deflate=deflate))
    result = read_file(path)
    assert result.dtype == np.uint16
    assert result.channels == ("R", "G", "B")
    np.testing.assert_array_equal(result.frames[0], pixels)
    assert read_file_header(path).dtype == np.uint16


def test_truncated_png_and_unsupported_modes(tmp_path: Path) -> None:
    Image.fromarray(np.zeros((64, 64, 3), np.uint8) + 9).save(tmp_path / "ok.png")
    data = (tmp_path / "ok.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageFileError, match="truncated or corrupt image data"):
        read_file(tmp_path / "cut.png")
    Image.fromarray(np.zeros((2, 2), np.float32)).save(tmp_path / "float.tif")
    with pytest.raises(ImageFileError, match="unsupported pixel mode 'F'"):
        read_file(tmp_path / "float.tif")


def test_mask_and_kind_readers_stay_available(tmp_path: Path) -> None:
    Image.fromarray(np.array([[0, 255], [0, 0]], np.uint8)).save(tmp_path / "m_mask.png")
    Image.fromarray(np.array([[0, 1], [2, 0]], np.uint8)).save(tmp_path / "m_kind.png")
    np.testing.assert_array_equal(read_mask(tmp_path / "m_mask.png", (2, 2)), [[0, 1], [0, 0]])
    np.testing.assert_array_equal(read_kind(tmp_path / "m_kind.png", (2, 2)), [[0, 1], [2, 0]])
