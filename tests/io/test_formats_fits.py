"""FITS frames (aurora_xr.io.formats.fits_images): DASC, Oculus, and hand-made files."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from aurora_xr.errors import ImageFileError, OptionError
from aurora_xr.io.formats import identify, read_file, read_file_header

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "real_sequences"
DASC = REAL / "dasc_pkr_fits_20151007"
DASC_FRAMES = sorted(DASC.glob("PKR_DASC_*_20151007_*.FITS"))
OCULUS = sorted((REAL / "oculus_umd_fits_20151108").glob("*.FIT"))


def write_fits(path: Path, data: np.ndarray, **cards: object) -> Path:
    hdu = fits.PrimaryHDU(data)
    for key, value in cards.items():
        hdu.header[key.replace("_", "-")] = value
    hdu.writeto(path)
    return path


# -- real files -------------------------------------------------------------------------------
def test_dasc_four_frames_times_site_filter() -> None:
    assert len(DASC_FRAMES) == 4
    bands = {"0428": "427.8nm", "0558": "557.7nm", "0630": "630.0nm"}
    exposures = {"0428": 1.0, "0558": 1.0, "0630": 1.5}
    times = []
    for path in DASC_FRAMES:
        result = read_file(path)
        assert result.format == "fits"
        assert result.frames.shape == (1, 512, 512)
        assert result.dtype == np.uint16
        # the name carries the same UT stamp as OBSDATE + OBSSTART
        stamp = path.stem.split("_", 3)[3]
        named = np.datetime64(
            f"2015-10-07T{stamp[9:11]}:{stamp[11:13]}:{stamp[13:15]}.{stamp[16:19]}", "ns"
        )
        assert result.times[0] == named
        times.append(result.times[0])
        wave = path.name.split("_")[2]
        assert result.channels == (bands[wave],)
        assert result.metadata["site_latitude"] == pytest.approx(65.126)
        assert result.metadata["site_longitude"] == pytest.approx(-147.479)
        assert result.metadata["site_id"] == "PKR"
        keys = result.frame_metadata
        assert keys["exposure_s"][0] == exposures[wave]
        assert keys["filter"][0] == bands[wave]
        assert keys["time_keys"][0] == "OBSDATE + OBSSTART"
        assert keys["filtwav"][0] == wave
        assert keys["ccd_temperature_c"][0] == pytest.approx(-39.658, abs=0.01)
        assert keys["emgain"][0] == 5
        with fits.open(path) as hdus:  # signed int16 without BZERO holding 14-bit counts
            raw = hdus[0].data
            assert raw.dtype == np.dtype(">i2")
            np.testing.assert_array_equal(result.frames[0], raw.astype(np.int64))
        assert result.frames.max() < 2**14
    assert str(min(times))[:19] == "2015-10-07T08:23:51"
    assert str(max(times))[:19] == "2015-10-07T08:24:04"


@pytest.mark.parametrize("which", ["Az", "El"])
def test_dasc_az_el_calibrations_are_not_frames(which: str) -> None:
    path = DASC / f"PKR_DASC_0558_20150213_{which}.FIT"
    for reader in (read_file, read_file_header):
        with pytest.raises(ImageFileError) as info:
            reader(path)
        message = str(info.value)
        assert "no frame time in the FITS header: looked for DATE-OBS (date and time), " in message
        assert "DATE-OBS + TIME-OBS, OBSDATE + OBSSTART" in message
        assert "a calibration such as an Az/El map, not a camera frame" in message


def test_oculus_local_time_with_utc_offset_and_bzero_32767() -> None:
    first, second = (read_file(p, utc_offset="-05:00") for p in OCULUS)
    assert first.frames.shape == (1, 1040, 1392)
    assert first.dtype == np.uint16
    # TIME-OBS 05:11:52 EST is 10:11:52 UT (the Moon and planets are up then)
    assert first.times[0] == np.datetime64("2015-11-08T10:11:52")
    assert second.times[0] == np.datetime64("2015-11-08T10:12:22")
    assert first.metadata["utc_offset_h"] == -5.0
    assert first.metadata["camera"] == "Starlight Xpress Oculus"
    assert "site_latitude" not in first.metadata
    assert first.frame_metadata["exposure_s"][0] == 25.0
    assert first.frame_metadata["time_keys"][0] == "DATE-OBS + TIME-OBS"
    assert first.channels == ("white",)  # FILTER = 'Blank'
    with fits.open(OCULUS[0]) as hdus:  # astropy scales to float32 with BZERO = 32767
        scaled = hdus[0].data
        assert scaled.dtype == np.float32
        np.testing.assert_array_equal(first.frames[0], scaled.astype(np.int64))
    stamped = read_file(OCULUS[0])  # without the option the stamp is taken as UT
    assert stamped.times[0] == np.datetime64("2015-11-08T05:11:52")
    assert read_file(OCULUS[0], utc_offset=-5).times[0] == first.times[0]


def test_header_only_path() -> None:
    head = read_file_header(OCULUS[0], utc_offset=-5)
    assert (head.n_frames, head.height, head.width, head.dtype) == (1, 1040, 1392, np.uint16)
    assert head.times[0] == np.datetime64("2015-11-08T10:11:52")
    dasc = read_file_header(DASC_FRAMES[0])
    assert dasc.channels == ("427.8nm",)
    assert dasc.metadata["site_latitude"] == pytest.approx(65.126)


# -- hand-made files ------------------------------------------------------------------------
def test_full_iso_date_obs_and_uint16_bzero(tmp_path: Path) -> None:
    data = np.array([[0, 1], [40000, 65535]], dtype=np.uint16)
    path = write_fits(
        tmp_path / "a.fits", data, DATE_OBS="2021-02-03T04:05:06.5Z", EXPTIME=2.0, FILTER="OI"
    )
    with fits.open(path) as hdus:
        assert hdus[0].header["BZERO"] == 32768
    result = read_file(path)
    np.testing.assert_array_equal(result.frames[0], data)
    assert result.times[0] == np.datetime64("2021-02-03T04:05:06.5")
    assert result.frame_metadata["filter"][0] == "OI"
    assert result.channels == ("OI",)


def test_8bit_and_gzipped(tmp_path: Path) -> None:
    data = np.arange(12, dtype=np.uint8).reshape(3, 4)
    plain = write_fits(tmp_path / "b.fits", data, DATE_OBS="2021-02-03", TIME_OBS="01:02:03")
    gz = tmp_path / "b.fits.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    assert identify(gz).name == "fits"
    result = read_file(gz)
    assert result.dtype == np.uint8
    np.testing.assert_array_equal(result.frames[0], data)
    assert result.times[0] == np.datetime64("2021-02-03T01:02:03")


def test_old_style_date_obs(tmp_path: Path) -> None:
    data = np.zeros((2, 2), np.uint16)
    path = write_fits(tmp_path / "old.fit", data, DATE_OBS="07/10/95", TIME_OBS="23:59:59")
    assert read_file(path).times[0] == np.datetime64("1995-10-07T23:59:59")


def test_no_time_key_names_the_keys(tmp_path: Path) -> None:
    path = write_fits(tmp_path / "c.fits", np.zeros((2, 2), np.int16), DATE_OBS="2021-02-03")
    with pytest.raises(ImageFileError) as info:
        read_file(path)
    assert str(info.value) == (
        "HDU 0: no frame time in the FITS header: looked for DATE-OBS (date and time), "
        "DATE-OBS + TIME-OBS, OBSDATE + OBSSTART; DATE-OBS is '2021-02-03' (a date without a time)"
    )


def test_negative_counts_and_floats_are_refused(tmp_path: Path) -> None:
    neg = write_fits(
        tmp_path / "neg.fits", np.array([[-3, 5]], np.int16), DATE_OBS="2021-02-03T00:00"
    )
    with pytest.raises(ImageFileError, match=r"counts -3..5 \(BITPIX 16, BZERO 0\) do not fit"):
        read_file(neg)
    flt = write_fits(tmp_path / "f.fits", np.ones((2, 2), np.float32), DATE_OBS="2021-02-03T00:00")
    with pytest.raises(ImageFileError, match=r"float32 data \(BITPIX -32\) where integer camera"):
        read_file(flt)


def test_multi_hdu_file_loses_only_its_bad_frame(tmp_path: Path) -> None:
    good = np.full((3, 4), 7, np.uint16)
    primary = fits.PrimaryHDU()
    primary.header["GLAT"] = 69.3
    primary.header["GLON"] = 19.2
    first = fits.ImageHDU(good)
    first.header["DATE-OBS"] = "2021-02-03T00:00:00"
    bad = fits.ImageHDU(good + 1)  # no time
    third = fits.ImageHDU(good + 2)
    third.header["DATE-OBS"] = "2021-02-03T00:00:10"
    path = tmp_path / "multi.fits"
    fits.HDUList([primary, first, bad, third]).writeto(path)
    result = read_file(path)
    np.testing.assert_array_equal(result.frames, np.stack([good, good + 2]))
    np.testing.assert_array_equal(result.index, [0, 2])
    assert result.errors[0].index == 1
    assert result.errors[0].reason.startswith("HDU 2: no frame time")
    assert result.metadata["site_latitude"] == 69.3
    head = read_file_header(path)
    assert head.n_frames == 2
    assert [e.index for e in head.errors] == [1]


def test_three_plane_hdu_is_one_rgb_frame(tmp_path: Path) -> None:
    planes = np.arange(3 * 2 * 4, dtype=np.uint8).reshape(3, 2, 4)
    path = write_fits(tmp_path / "rgb.fits", planes, DATE_OBS="2021-02-03T00:00:00")
    result = read_file(path)
    assert result.channels == ("R", "G", "B")
    np.testing.assert_array_equal(result.frames[0], np.moveaxis(planes, 0, -1))


def test_utc_offset_is_checked(tmp_path: Path) -> None:
    path = write_fits(tmp_path / "d.fits", np.zeros((2, 2), np.uint8), DATE_OBS="2021-02-03T00:00")
    with pytest.raises(OptionError, match="expected a UTC offset such as '-05:00'"):
        read_file(path, utc_offset="EST")
    with pytest.raises(OptionError, match="within ±14 h"):
        read_file(path, utc_offset=20)
    assert read_file(path, utc_offset="+0530").times[0] == np.datetime64("2021-02-02T18:30")
