"""The camera-format registry (aurora_xr.io.formats.registry): sniffing, plug-ins, errors."""

from __future__ import annotations

import gzip
import re
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import aurora_xr.io.formats.registry as registry
from aurora_xr.errors import AuroraXrWarning, ImageFileError, OptionError
from aurora_xr.io.formats import (
    AmbiguousFormatError,
    CameraFormat,
    FrameFile,
    UnknownFormatError,
    available_formats,
    band_name,
    get_format,
    identify,
    load_entry_points,
    metadata_key,
    read_file,
    read_file_header,
    register_format,
    unregister_format,
    utc_offset_ns,
)

ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT.parent / "shared" / "real_sequences"
BUILT_IN = ["fits", "kho_img", "jpeg", "png", "tiff", "pnm", "themis_cdf"]
PGM = b"P5\n# tiny\n2 1\n255\n\x00\xff"


@pytest.fixture(autouse=True)
def restore_registry() -> Iterator[None]:
    """Every test leaves the registry as it found it."""
    saved = dict(registry._FORMATS)
    loaded = registry._ENTRY_POINTS_LOADED
    yield
    registry._FORMATS.clear()
    registry._FORMATS.update(saved)
    registry._ENTRY_POINTS_LOADED = loaded


class Magic(CameraFormat):
    """A test format: files starting with ``MAGIC`` hold one 1x2 uint8 frame."""

    name = "magic"
    description = "test format"
    extensions = (".mgc",)

    def accept(self, prefix: bytes, path: Path) -> bool:
        return prefix.startswith(b"MAGIC")

    def read(self, path: Path, **options: Any) -> FrameFile:
        return FrameFile(
            path=path,
            format=self.name,
            frames=np.frombuffer(Path(path).read_bytes()[5:7], np.uint8).reshape(1, 1, 2),
            channels=("white",),
            times=None,
        )


# -- built-in formats and sniffing -------------------------------------------------------------
def test_built_in_formats_are_registered() -> None:
    assert [f.name for f in available_formats()][: len(BUILT_IN)] == BUILT_IN
    assert get_format("pnm").extensions[:2] == (".pgm", ".pgm.gz")
    assert get_format("fits").options == ("utc_offset",)


@pytest.mark.parametrize(
    ("relative", "name"),
    [
        ("trex_gill_nir_20220307/20220307_0600_gill_nir-216_8446.pgm.gz", "pnm"),
        ("themis_gako_skymap_2011/thg_l1_asf_gako_2011010617_v01.cdf", "themis_cdf"),
        ("dasc_pkr_fits_20151007/PKR_DASC_0558_20151007_082351.743.FITS", "fits"),
        ("oculus_umd_fits_20151108/IMG01328.FIT", "fits"),
        ("kho_keosentry_img/W8446B18_2020-12-11_20-09-36.img", "kho_img"),
        ("../reference_frames/trex_gill_20211030_0605_aurora.png", "png"),
        ("../reference_frames/kho_lyr_20201211_2009_clear_stars.jpg", "jpeg"),
    ],
)
def test_real_files_are_identified(relative: str, name: str) -> None:
    assert identify(REAL / relative).name == name


def test_content_wins_over_the_name(tmp_path: Path) -> None:
    (tmp_path / "frame.dat").write_bytes(PGM)
    (tmp_path / "frame.bin").write_bytes(gzip.compress(PGM))
    source = REAL / "../reference_frames/kho_lyr_20201211_2009_clear_stars.jpg"
    (tmp_path / "really_a_jpeg.png").write_bytes(source.read_bytes())
    assert identify(tmp_path / "frame.dat").name == "pnm"
    assert identify(tmp_path / "frame.bin").name == "pnm"
    assert identify(tmp_path / "really_a_jpeg.png").name == "jpeg"
    np.testing.assert_array_equal(read_file(tmp_path / "frame.bin").frames, [[[0, 255]]])


def test_unknown_empty_missing_and_misnamed_files(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_bytes(b"hello aurora")
    with pytest.raises(UnknownFormatError) as info:
        identify(tmp_path / "notes.txt")
    assert str(info.value).startswith(
        "no registered camera format accepts notes.txt (first bytes b'hello aurora'); "
        "registered formats: fits (.fits .fit .fts .fits.gz .fit.gz); kho_img (.img); "
    )
    (tmp_path / "fake.pgm.gz").write_bytes(b"not gzip at all")
    with pytest.raises(UnknownFormatError, match=r"^named like a pnm file, but its content does"):
        read_file(tmp_path / "fake.pgm.gz")
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ImageFileError, match=r"^empty file \(0 bytes\)$"):
        read_file(tmp_path / "empty.png")
    with pytest.raises(ImageFileError, match=r"^cannot be read: No such file or directory$"):
        read_file_header(tmp_path / "missing.fits")


# -- third-party formats -------------------------------------------------------------------------
def test_register_read_and_unregister(tmp_path: Path) -> None:
    register_format(Magic)
    (tmp_path / "x.anything").write_bytes(b"MAGIC\x07\x09")
    result = read_file(tmp_path / "x.anything")
    assert result.format == "magic"
    np.testing.assert_array_equal(result.frames, [[[7, 9]]])
    head = read_file_header(tmp_path / "x.anything")  # the default header path reads the file
    assert (head.n_frames, head.height, head.width, head.channels) == (1, 1, 2, ("white",))
    assert unregister_format("magic").name == "magic"
    with pytest.raises(UnknownFormatError):
        identify(tmp_path / "x.anything")


def test_registration_errors() -> None:
    register_format(Magic)
    with pytest.raises(OptionError, match=r"'magic' is already registered .* pass replace=True"):
        register_format(Magic())
    register_format(Magic(), replace=True)

    class Nameless(Magic):
        name = ""

    class BadExtensions(Magic):
        name = "bad_ext"
        extensions = ("MGC",)

    with pytest.raises(OptionError, match="needs a non-empty string 'name'; found ''"):
        register_format(Nameless)
    with pytest.raises(OptionError, match="'extensions' must be lower-case strings starting"):
        register_format(BadExtensions)
    with pytest.raises(OptionError, match="no camera format named 'nope'; registered: fits"):
        unregister_format("nope")
    with pytest.raises(OptionError, match="unknown camera format 'nope'; registered formats: "):
        get_format("nope")


def test_ambiguous_formats_are_named(tmp_path: Path) -> None:
    class OtherPgm(Magic):
        name = "other_pgm"
        extensions = (".raw",)

        def accept(self, prefix: bytes, path: Path) -> bool:
            return prefix.startswith(b"P5")

    register_format(OtherPgm)
    (tmp_path / "a.dat").write_bytes(PGM)
    (tmp_path / "a.raw").write_bytes(PGM)
    (tmp_path / "a.pgm").write_bytes(PGM)
    with pytest.raises(AmbiguousFormatError) as info:
        identify(tmp_path / "a.dat")
    assert str(info.value) == (
        "several camera formats accept a.dat: 'pnm', 'other_pgm'; pass format=NAME to choose"
    )
    assert identify(tmp_path / "a.raw").name == "other_pgm"  # the extension decides
    assert identify(tmp_path / "a.pgm").name == "pnm"
    assert read_file(tmp_path / "a.dat", format="pnm").format == "pnm"


def test_options_are_checked_per_format(tmp_path: Path) -> None:
    (tmp_path / "a.pgm").write_bytes(PGM)
    with pytest.raises(
        OptionError, match=r"^camera format 'pnm' takes no options; found utc_offset$"
    ):
        read_file(tmp_path / "a.pgm", utc_offset=-5)


def test_a_failing_or_wrong_reader_becomes_an_image_file_error(tmp_path: Path) -> None:
    class Crashing(Magic):
        name = "crashing"

        def read(self, path: Path, **options: Any) -> FrameFile:
            raise ValueError("bad bytes")

    class FloatFrames(Magic):
        name = "floats"

        def read(self, path: Path, **options: Any) -> FrameFile:
            return FrameFile(path, self.name, np.zeros((1, 2, 2)), ("white",), None)

    (tmp_path / "x.mgc").write_bytes(b"MAGIC\x00\x00")
    with pytest.raises(
        ImageFileError, match=r"^the 'crashing' reader failed: ValueError: bad bytes$"
    ):
        read_file(tmp_path / "x.mgc", format=Crashing())
    with pytest.raises(ImageFileError, match="expected native uint8 or uint16 frames; found <f8"):
        read_file(tmp_path / "x.mgc", format=FloatFrames())


def test_frame_file_checks_its_fields(tmp_path: Path) -> None:
    frames = np.zeros((2, 3, 4), np.uint16)
    with pytest.raises(
        ImageFileError, match=r"1 channel name\(s\) expected .* found \('R', 'G', 'B'\)"
    ):
        FrameFile(tmp_path, "x", frames, ("R", "G", "B"), None)
    with pytest.raises(ImageFileError, match=r"times of dtype datetime64\[ns\] and shape \(2,\)"):
        FrameFile(tmp_path, "x", frames, ("white",), np.zeros(3, "datetime64[ns]"))
    with pytest.raises(ImageFileError, match="per-frame metadata 'a' has 1 values for 2 frames"):
        FrameFile(tmp_path, "x", frames, ("white",), None, {"a": np.zeros(1)})
    ok = FrameFile(tmp_path, "x", frames, ("white",), None)
    np.testing.assert_array_equal(ok.index, [0, 1])
    assert ok.header().frame_shape == (3, 4)


# -- entry points ------------------------------------------------------------------------------
def test_entry_point_formats_load_lazily(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "acme_plugin.py").write_text(
        textwrap.dedent(
            """
            import numpy as np
            from aurora_xr.io.formats import CameraFormat, FrameFile

            class Acme(CameraFormat):
                name, description, extensions = "acme", "entry-point test", (".acme",)

                def accept(self, prefix, path):
                    return prefix.startswith(b"ACME")

                def read(self, path, **options):
                    frames = np.ones((1, 2, 2), np.uint8)
                    return FrameFile(path, self.name, frames, ("white",), None)
            """
        )
    )
    info = tmp_path / "acme_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[aurora_xr.formats]\nacme = acme_plugin:Acme\nbroken = acme_plugin:Missing\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "_ENTRY_POINTS_LOADED", False)
    (tmp_path / "sky.bin").write_bytes(b"ACME....")
    with pytest.warns(
        AuroraXrWarning, match=r"entry point 'broken' \(acme_plugin:Missing\) cannot"
    ):
        assert identify(tmp_path / "sky.bin").name == "acme"  # loaded on first use
    assert read_file(tmp_path / "sky.bin").frames.shape == (1, 2, 2)
    with pytest.warns(AuroraXrWarning, match="'broken'"):
        assert load_entry_points() == []  # already registered: nothing new


# -- conventions -------------------------------------------------------------------------------
def test_conventions() -> None:
    assert metadata_key(" Geodetic Longitude ") == "geodetic_longitude"
    assert metadata_key("CCD-TEMP") == "ccd_temp"
    assert [band_name(x) for x in (428, 557.7, 558, 630, 844.6, 777.0, 500)] == [
        "427.8nm",
        "557.7nm",
        "557.7nm",
        "630.0nm",
        "844.6nm",
        "777.4nm",
        "500.0nm",
    ]
    hour = 3600 * 10**9
    assert utc_offset_ns("-05:00") == utc_offset_ns(-5) == utc_offset_ns("UTC-5") == -5 * hour
    assert utc_offset_ns("+0530") == utc_offset_ns(5.5) == 5 * hour + 30 * 60 * 10**9
    assert utc_offset_ns(np.timedelta64(2, "h")) == 2 * hour
    with pytest.raises(OptionError, match=re.escape("found 'EST'")):
        utc_offset_ns("EST")
