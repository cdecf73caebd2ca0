"""Sites: the bundled catalogue, lookups, --site text, station files, header positions."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest

from aurora_xr.errors import MissingCalibrationError, NoFilesFoundError, OptionError, StationError
from aurora_xr.sky.lens import Calibration
from aurora_xr.sky.sites import (
    parse_site,
    read_station_file,
    site_distance_km,
    site_with_header,
)
from aurora_xr.sky.stations import (
    Station,
    get_station,
    normalize_longitude,
    placeholder_lens,
    register_station,
    station_codes,
    station_from_attrs,
    stations,
)

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "real_sequences"
THEMIS = [
    "atha",
    "chbg",
    "ekat",
    "fsim",
    "fsmi",
    "fykn",
    "gako",
    "gbay",
    "gill",
    "inuv",
    "kapu",
    "kian",
    "kuuj",
    "mcgr",
    "nrsq",
    "pgeo",
    "pina",
    "rank",
    "snkq",
    "talo",
    "tpas",
    "whit",
    "yknf",
]
OTHERS = [
    "luck",
    "rabb",
    "resu",
    "pkr",
    "kho",
    "lyr",
    "nya",
    "jbs",
    "syo",
    "zhs",
    "yrs",
    "tro",
    "kir",
    "sod",
]


# -- the catalogue ------------------------------------------------------------------------
def test_catalogue_holds_the_required_sites_each_with_a_source() -> None:
    for code in THEMIS + OTHERS:
        site = get_station(code)
        assert site.source.strip(), code
    assert len(stations()) >= 37
    assert station_codes() == sorted(station_codes())


def test_catalogue_rows_are_consistent() -> None:
    keys: list[str] = []
    for s in stations():
        assert -90 <= s.latitude <= 90, s.code
        assert -180 <= s.longitude < 180, s.code
        assert -500 <= s.altitude_m <= 9000, s.code
        assert s.code == s.code.upper()
        assert s.name
        keys += [s.code, *s.aliases]
    assert len(keys) == len(set(keys))  # no code or alias names two sites


@pytest.mark.parametrize(
    ("code", "lat", "lon", "alt", "tol"),
    [
        ("GILL", 56.38, -94.64, 0.0, 0.05),  # README: Gillam 56.38 N 94.64 W
        ("RABB", 58.17, -103.66, 0.0, 1e-9),  # the Rainbow file's header
        ("GAKO", 62.41, 214.84 - 360.0, 0.0, 0.01),  # the skymap's site
        ("PKR", 65.126, -147.479, 0.0, 1e-9),  # DASC GLAT/GLON
        ("KHO", 78.148, 16.043, 520.0, 1e-9),
        ("JBS", -74.62, 164.22, 30.0, 1e-9),  # SCIENCE.md (Kwon et al. 2018)
        ("TALO", 69.546, 266.423 - 360.0, 0.0, 1e-9),  # SPEDAS thm_asi_stations
    ],
)
def test_catalogue_positions_match_their_sources(
    code: str, lat: float, lon: float, alt: float, tol: float
) -> None:
    site = get_station(code)
    assert site.latitude == pytest.approx(lat, abs=tol)
    assert site.longitude == pytest.approx(lon, abs=tol)
    assert site.altitude_m == alt


def test_codes_are_case_insensitive_and_aliases_name_the_same_site() -> None:
    assert get_station("gill") is get_station("GILL") is get_station(" Gill ")
    assert get_station("lyr") is get_station("KHO")
    assert get_station("RSB") is get_station("resu")
    jbs = get_station("JBS")
    assert get_station(jbs) is jbs


@pytest.mark.parametrize(
    ("code", "suggested"),
    [("GIL", "GILL (Gillam"), ("LYRN", "LYR (Kjell Henriksen"), ("Gilam", "GILL"), ("JBX", "JBS")],
)
def test_unknown_code_names_the_nearest_matches(code: str, suggested: str) -> None:
    with pytest.raises(StationError, match="nearest matches") as info:
        get_station(code)
    message = str(info.value)
    assert f"unknown station {code!r}" in message
    assert suggested in message
    assert "--site LAT,LON[,ALT_M]" in message
    assert isinstance(info.value, KeyError)  # callers that caught KeyError still do


def test_unknown_code_without_close_match_lists_the_codes() -> None:
    with pytest.raises(StationError, match="known stations: ATHA, CHBG"):
        get_station("QQQQQQ")


# -- the placeholder lens ---------------------------------------------------------------
def test_placeholder_lens_is_available_by_name_only() -> None:
    lens = placeholder_lens("jbs", 256, 256)
    assert isinstance(lens, Calibration)
    assert (lens.width, lens.height, lens.projection) == (256, 256, "equidistant")
    assert lens.lens_radius == pytest.approx(240.0 * 255 / 511)
    assert lens.zenith_x == pytest.approx(127.5)
    jbs = get_station("JBS")
    assert jbs.placeholder_lens(256, 256) == lens
    assert placeholder_lens("JBS").width == 512
    assert not hasattr(jbs, "calibration")  # a site has no camera
    with pytest.raises(MissingCalibrationError, match=r"'GILL'.*--skymap"):
        get_station("GILL").placeholder_lens(256, 256)
    with pytest.raises(MissingCalibrationError, match="only JBS has a placeholder lens"):
        placeholder_lens("KHO")


# -- sites -------------------------------------------------------------------------------
def test_station_checks_and_normalises_its_position() -> None:
    s = Station(code="abc", name="", latitude=62.41, longitude=214.84, altitude_m=12.0)
    assert (s.code, s.name) == ("ABC", "ABC")
    assert s.longitude == pytest.approx(-145.16, abs=1e-9)
    assert s.altitude_km == pytest.approx(0.012)
    for bad in ({"latitude": 91.0}, {"longitude": 400.0}, {"altitude_m": 12000.0}):
        with pytest.raises(OptionError):
            Station(**{"code": "X", "name": "x", "latitude": 0.0, "longitude": 0.0, **bad})
    with pytest.raises(OptionError, match="one word"):
        Station(code="two words", name="x", latitude=0.0, longitude=0.0)
    assert normalize_longitude(180.0) == -180.0
    assert normalize_longitude(360.0) == 0.0


def test_station_attributes_round_trip() -> None:
    kho = get_station("KHO")
    attrs = kho.to_attrs()
    assert attrs["station_code"] == "KHO"
    assert attrs["station_altitude_m"] == 520.0
    assert attrs["station_position_source"] == kho.source
    assert station_from_attrs(attrs) == ("KHO", 78.148, 16.043, 0.52)
    back = Station.from_attrs(attrs)
    assert (back.code, back.latitude, back.longitude, back.altitude_m, back.source) == (
        "KHO",
        78.148,
        16.043,
        520.0,
        kho.source,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("78.148,16.043,520", (78.148, 16.043, 520.0)),
        (" -74.62 , 164.22 ", (-74.62, 164.22, 0.0)),
        ("62.41,214.84", (62.41, 214.84 - 360.0, 0.0)),
        ("-90,-180,-10", (-90.0, -180.0, -10.0)),
    ],
)
def test_parse_site_reads_lat_lon_and_altitude(
    text: str, expected: tuple[float, float, float]
) -> None:
    site = parse_site(text, code="here")
    assert site.code == "HERE"
    assert (site.latitude, site.longitude, site.altitude_m) == pytest.approx(expected)
    assert site.source == f"--site {text.strip()}"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "expected --site LAT,LON"),
        ("78.1", "expected --site LAT,LON"),
        ("1,2,3,4", "expected --site LAT,LON"),
        ("1,,2", "expected --site LAT,LON"),
        ("north,east", "not numbers"),
        ("78.1 16.0", "expected --site LAT,LON"),
        ("91,0", "latitude must lie in -90..90"),
        ("0,400", "longitude must lie in -180..360"),
        ("0,0,20000", "metres, not km"),
        ("nan,0", "finite"),
    ],
)
def test_parse_site_rejects_malformed_text(text: str, why: str) -> None:
    with pytest.raises(OptionError, match=re.escape(why)):
        parse_site(text)


# -- station files -----------------------------------------------------------------------
def test_toml_file_with_one_site(tmp_path: Path) -> None:
    path = tmp_path / "lyr.toml"
    path.write_text(
        'code = "lyrcam"\nname = "Longyearbyen camera"\nlatitude = 78.148\n'
        'longitude = 16.043\naltitude_m = 520\naliases = ["LYC"]\n',
        encoding="utf-8",
    )
    (site,) = read_station_file(path)
    assert (site.code, site.name, site.latitude, site.altitude_m) == (
        "LYRCAM",
        "Longyearbyen camera",
        78.148,
        520.0,
    )
    assert site.aliases == ("LYC",)
    assert site.source == "station file lyr.toml"
    register_station(site, overwrite=True)
    assert get_station("lyc") is site


def test_toml_and_json_files_with_several_sites(tmp_path: Path) -> None:
    toml = tmp_path / "sites.toml"
    toml.write_text(
        '[[station]]\ncode = "AAA1"\nlatitude = 10\nlongitude = 20\nsource = "survey"\n\n'
        '[[station]]\ncode = "AAA2"\nlatitude = -10\nlongitude = 200\n',
        encoding="utf-8",
    )
    a1, a2 = read_station_file(toml)
    assert (a1.code, a1.source, a2.code, a2.longitude) == ("AAA1", "survey", "AAA2", -160.0)
    data = [{"code": "BBB1", "latitude": 1.5, "longitude": 2.5, "altitude_m": 3}]
    for i, payload in enumerate((data, {"stations": data}, data[0])):
        path = tmp_path / f"s{i}.json"
        path.write_text(json.dumps(payload), encoding="utf-8")
        (b,) = read_station_file(path)
        assert (b.code, b.latitude, b.longitude, b.altitude_m) == ("BBB1", 1.5, 2.5, 3.0)


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ('{"code": "X", "latitude": 1}', "missing longitude"),
        ('{"code": "X", "latitude": 1, "longitude": 2, "lat": 3}', "unknown key(s) lat"),
        ('{"code": "X", "latitude": 100, "longitude": 2}', "latitude must lie"),
        ('{"code": "X", "latitude": "north", "longitude": 2}', "must be numbers"),
        ('{"code": "X", "latitude": 1, "longitude": 2, "aliases": [1]}', "aliases must be"),
        ("[]", "at least one site"),
        ("{not json", "not valid JSON"),
        ("code = ", "not valid TOML"),
        ("42", "expected a site or a list"),
    ],
)
def test_bad_station_files_raise_option_errors(tmp_path: Path, content: str, why: str) -> None:
    path = tmp_path / ("bad.toml" if "=" in content else "bad.json")
    path.write_text(content, encoding="utf-8")
    with pytest.raises(OptionError, match=re.escape(why)):
        read_station_file(path)


def test_missing_station_file_and_duplicate_registration(tmp_path: Path) -> None:
    with pytest.raises(NoFilesFoundError, match="does not exist"):
        read_station_file(tmp_path / "nope.toml")
    with pytest.raises(StationError, match="already registered"):
        register_station(Station(code="KHO", name="x", latitude=0.0, longitude=0.0))
    with pytest.raises(StationError, match="LYR already registered"):
        register_station(Station(code="ZZZ9", name="x", latitude=0, longitude=0, aliases=("LYR",)))


# -- the header's position wins ----------------------------------------------------------
def _trex_header_position() -> tuple[float, float]:
    path = REAL / "trex_gill_nir_20220307" / "20220307_0600_gill_nir-216_8446.pgm.gz"
    with gzip.open(path, "rb") as fh:
        head = fh.read(4000).decode("latin-1")
    lat = float(re.search(r'#"Geographic latitude" (\S+)', head).group(1))  # type: ignore[union-attr]
    lon = float(re.search(r'#"Geographic longitude" (\S+)', head).group(1))  # type: ignore[union-attr]
    return lat, lon


def test_header_position_of_a_real_file_wins_and_the_difference_is_noted() -> None:
    lat, lon = _trex_header_position()
    assert (lat, lon) == (56.376723, -94.643664)
    gill = get_station("GILL")
    site, note = site_with_header(gill, lat, lon, source="TREx NIR PGM header")
    assert (site.code, site.name, site.latitude, site.longitude) == ("GILL", gill.name, lat, lon)
    assert site.altitude_m == gill.altitude_m
    assert site.source == "TREx NIR PGM header"
    km = site_distance_km(gill, site)
    assert 2.0 < km < 3.5  # 0.023° of latitude and 0.012° of longitude apart
    assert note is not None
    assert f"{km:.1f} km" in note
    assert "using the TREx NIR PGM header" in note
    assert gill.source in note


def test_header_position_close_to_the_catalogue_gives_no_note() -> None:
    rabb = get_station("RABB")
    site, note = site_with_header(rabb, 58.17, 256.34, 0.0)  # 0..360 east in the header
    assert note is None
    assert site.longitude == pytest.approx(-103.66, abs=1e-9)
    _, note = site_with_header(rabb, 58.17, -103.66, 450.0)
    assert note is not None
    assert "450 m" in note


def test_header_position_without_a_named_station() -> None:
    site, note = site_with_header(None, 65.126, -147.479, code="pkr", source="FITS GLAT/GLON")
    assert note is None
    assert (site.code, site.latitude, site.altitude_m, site.source) == (
        "PKR",
        65.126,
        0.0,
        "FITS GLAT/GLON",
    )
    with pytest.raises(OptionError, match="latitude must lie"):
        site_with_header(None, 123.0, 0.0)


def test_a_catalogue_row_without_a_source_is_refused() -> None:
    from aurora_xr.errors import SchemaError
    from aurora_xr.sky.stations import _parse_catalogue

    header = "code,aliases,name,latitude,longitude,altitude_m,networks,source\n"
    (ok,) = _parse_catalogue("# comment\n" + header + 'AB1,X1;X2,"A, B",1,2,3,N,"a list"\n')
    assert (ok.code, ok.aliases, ok.name, ok.altitude_m) == ("AB1", ("X1", "X2"), "A, B", 3.0)
    with pytest.raises(SchemaError, match="names no source"):
        _parse_catalogue(header + "AB2,,name,1,2,0,,\n")
