"""The randomised sky: single-channel cameras, auroral forms, determinism, the default sky kept,
the training mix (aurora_xr.synthetic, realism="randomised")."""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import numpy as np
import pytest
import xarray as xr

from aurora_xr import get_station
from aurora_xr.cube.schema import validate_cube
from aurora_xr.datasets import (
    BANDS,
    CONDITIONS,
    RANDOMISED_TRUTH_DEFINITION,
    SINGLE_BAND_SHARES,
    CameraModel,
    NightScene,
    randomised_nights,
    synthetic_cube,
)
from aurora_xr.errors import OptionError
from aurora_xr.synthetic import Landscape, draw_camera, draw_scene
from aurora_xr.synthetic import randomised_sky as rs
from aurora_xr.synthetic._common import rng_for
from aurora_xr.synthetic.auroral_emission import ROW_A0, ROW_M0, ROW_MLAT, magnetic_sky
from aurora_xr.synthetic.auroral_forms import DYNAMIC, AuroralForm
from aurora_xr.synthetic.auroral_variety import FAMILIES, _family
from aurora_xr.synthetic.magnetic_lookup import camera_magnetic_sky
from aurora_xr.synthetic.spectra import SIG, band_response, colour_response, weights
from aurora_xr.synthetic.static import static_sky
from tests.conftest import raise_if_dask_computes

ACTIVE = "2020-06-21T07:50"
CAMERA = CameraModel(
    key=3, hot_fraction=0.0, snr=40.0, landscape=Landscape(key=5, hills=0.05, masts=0, buildings=0)
)
CLEAR = NightScene(activity=3.0)


def _digest(ds: xr.Dataset) -> str:
    h = hashlib.sha256()
    for name in ("image", "aurora_truth", "aurora_kind", "moon_up", "cloud_fraction"):
        h.update(np.ascontiguousarray(ds[name].values).tobytes())
    return h.hexdigest()


# -- the default sky is the same, bit for bit ------------------------------------------------
# Digests of the default sky made by the tree of commit 3b4f8e4 (before the randomised sky),
# numpy 2.4.6 on x86-64. A change here changes the frames that the tests, the demo and the
# tuned thresholds of the difference method rely on.
DEFAULT_DIGESTS = [
    (
        dict(start=ACTIVE, n_frames=12, size=96, seed=3),
        "d8a368e39023a46a6240a9416badabaf5c8c4c181e3387849ab567e491d2734a",
    ),
    (
        dict(start=ACTIVE, n_frames=4, size=128, seed=0, clouds=0.0, moon=False),
        "453d0b859459edcdb74995ad110c6296283310652d7ffaf10ff05fc8ca01e281",
    ),
    (
        dict(start="2020-07-05T10:00", n_frames=3, size=96, seed=5, moon=True, clouds=0.5,
             activity=2.0),
        "3c436c4b3c41a26a881078557d4f8bd0b8c254d2570bd89664d6cdc1ccb4de8d",
    ),
    (
        dict(start="2020-06-21T01:00", n_frames=3, size=(64, 96), seed=1,
             stationary_fraction=0.9),
        "aafdff634bd4f8b6f09edabcba7007601f80f35873ee4bb3006aa3f32a640dea",
    ),
    (
        dict(start="2021-03-01T00:00", n_frames=3, size=64, seed=11, clouds=1.0,
             truth_outline_deg=0.0),
        "645cb40805ce3e94d946deff287d0e033b4f9da7340d066ed44ef404a05647be",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("kwargs", "digest"), DEFAULT_DIGESTS)
def test_default_sky_is_bit_identical(kwargs: dict[str, Any], digest: str) -> None:
    ds = synthetic_cube(**kwargs)
    assert _digest(ds) == digest
    assert "conditions" not in ds
    assert "synthetic_camera" not in ds.attrs


# -- cubes of every camera kind ------------------------------------------------------------------
@pytest.mark.parametrize("camera", ["colour", *BANDS])
def test_randomised_cubes_are_valid_for_every_camera_kind(camera: str) -> None:
    ds = synthetic_cube(start=ACTIVE, n_frames=2, size=48, seed=4, realism="randomised",
                        camera=camera)  # fmt: skip
    cal = validate_cube(ds)
    names = list(map(str, ds.channel.values))
    assert names == (["R", "G", "B"] if camera == "colour" else [camera])
    assert ds.image.shape == (2, 48, 48, len(names))
    bits = int(__import__("json").loads(ds.attrs["synthetic_camera"])["bits"])
    assert ds.image.dtype == (np.uint8 if bits == 8 else np.uint16)
    assert int(ds.image.values.max()) <= 2**bits - 1
    assert ds.conditions.dims == ("time", "condition")
    assert list(ds.condition.values) == list(CONDITIONS)
    assert ds.aurora_truth.attrs["comment"] == RANDOMISED_TRUTH_DEFINITION
    assert np.array_equal(ds.aurora_kind.values > 0, ds.aurora_truth.values)
    outside = ~np.isfinite(ds.elevation.values)
    assert not ds.aurora_truth.values[:, outside].any()
    assert (cal.width, cal.height) == (48, 48)


def test_single_channel_dn_ranges_are_those_of_real_imagers() -> None:
    """16-bit imagers write counts above a bias, as THEMIS, TREx and DASC files do."""
    rng = np.random.default_rng(0)
    for band in BANDS:
        for _ in range(30):
            cam = draw_camera(rng, channels=band)
            assert cam.channels == (band,)
            if cam.bits == 8:
                assert 0.0 <= cam.bias <= 12.0
                assert 6.0 <= cam.sky_level <= 70.0
            else:
                assert cam.bits in (12, 14, 16)
                assert cam.gamma == 1.0
                assert cam.jpeg_quality == 0
                assert 0.01 * cam.full_scale <= cam.bias <= 0.055 * cam.full_scale
                assert 60.0 <= cam.sky_level <= 0.35 * cam.full_scale
    ds = synthetic_cube(start="2020-06-21T14:00", n_frames=2, size=48, seed=1,
                        realism="randomised", camera=dataclasses.replace(
                            CAMERA, channels=("557.7nm",), response=tuple(
                                map(tuple, band_response("557.7nm").tolist())),
                            bits=14, bias=350.0, sky_level=150.0))  # fmt: skip
    lens = np.isfinite(ds.elevation.values)
    sky = ds.image.values[:, lens, 0]
    assert ds.image.dtype == np.uint16
    assert 350 < np.median(sky) < 350 + 3 * 150  # the DASC 557.7 nm frames: ~490 over 350
    assert sky.max() <= 2**14 - 1


def test_filters_see_their_lines_not_the_sodium_lamps() -> None:
    na, green, red = SIG["sodium"], SIG["aurora_green"], SIG["aurora_red"]
    white, g557, r630 = (band_response(b) for b in ("white", "557.7nm", "630.0nm"))
    assert weights(g557, na)[0] < 0.01 * weights(white, na)[0]
    assert weights(r630, na)[0] < 0.01 * weights(white, na)[0]
    assert weights(g557, green)[0] == 1.0
    assert weights(g557, red)[0] == 0.0
    assert weights(r630, red)[0] == 1.0
    assert weights(r630, green)[0] == 0.0
    rgb = weights(colour_response(), green)
    assert rgb[1] > rgb[0]
    assert rgb[1] > rgb[2]
    assert weights(colour_response(), na)[2] < 0.2 * weights(colour_response(), na)[0]  # orange


# -- determinism -------------------------------------------------------------------------------
def test_randomised_sky_is_deterministic_for_a_seed_and_any_chunking() -> None:
    kw: dict[str, Any] = dict(start=ACTIVE, n_frames=6, size=48, seed=9, realism="randomised")
    a = synthetic_cube(**kw)
    b = synthetic_cube(**kw)
    xr.testing.assert_equal(a, b)
    assert a.attrs["synthetic_camera"] == b.attrs["synthetic_camera"]
    alone = synthetic_cube(**{**kw, "start": a.time.values[4], "n_frames": 1})
    np.testing.assert_array_equal(alone.image.values[0], a.image.values[4])
    np.testing.assert_array_equal(alone.aurora_truth.values[0], a.aurora_truth.values[4])
    with raise_if_dask_computes():
        lazy = synthetic_cube(**kw, chunks={"time": 4})
    assert lazy.conditions.chunks == ((4, 2), (len(CONDITIONS),))
    xr.testing.assert_equal(lazy.compute(), a)
    other = synthetic_cube(**{**kw, "seed": 10})
    assert other.attrs["synthetic_camera"] != a.attrs["synthetic_camera"]


def test_bad_randomised_options() -> None:
    with pytest.raises(OptionError, match="realism"):
        synthetic_cube(n_frames=1, size=32, realism="photoreal")
    with pytest.raises(OptionError, match="randomised"):
        synthetic_cube(n_frames=1, size=32, camera="colour")
    with pytest.raises(OptionError, match="force"):
        synthetic_cube(n_frames=1, size=32, realism="randomised", force={"ufo": 1.0})
    with pytest.raises(OptionError, match="channels"):
        synthetic_cube(n_frames=1, size=32, realism="randomised", camera="infrared")
    with pytest.raises(OptionError, match="single_channel_fraction"):
        randomised_nights(4, 2, size=32, single_channel_fraction=1.5)


# -- auroral forms -------------------------------------------------------------------------------
BASE = AuroralForm(
    key=1, kind=DYNAMIC, patch=False, start_ns=0, duration=30.0, ramp=2.0, mlat=-76.0,
    drift=0.0, width=0.2, along_centre=0.0, along_half=15.0, along_drift=0.0, amplitude=40.0,
    red_ratio=0.3, ray_amp=0.3, ray_scale=25.0, ray_phase=0.0, wave_amp=0.2, wave_k=1.0,
    wave_phase=0.0, wave_speed=0.0, pulse_amp=0.1, pulse_period=5.0, pulse_phase=0.0,
    jitter=0.0,
)  # fmt: skip


def test_every_family_of_auroral_forms_is_what_it_says() -> None:
    rng = np.random.default_rng(5)
    for _ in range(20):
        forms = {f: _family(f, rng, BASE, 64) for f in FAMILIES}
        assert len(forms["arc"]) == 1
        assert 0.1 * 40 <= forms["arc"][0].amplitude <= 3.0 * 40
        multi = forms["multiple"]
        assert 2 <= len(multi) <= 3
        gaps = np.abs(np.diff([f.mlat for f in multi]))
        assert np.all((gaps >= 0.4) & (gaps <= 1.5))
        assert all(f.red_ratio >= 3.0 and f.amplitude <= 14.0 for f in forms["red"])
        assert all(f.ray_amp >= 0.7 and abs(f.mlat + 79.9) < 6 for f in forms["corona"])
        pulsating = forms["pulsating"]
        assert all(f.patch and f.pulse_amp >= 0.7 and f.pulse_period < 0.4 for f in pulsating)
        assert all(f.width >= 1.5 and f.ray_amp == 0.0 for f in forms["diffuse"])


def _with_forms(monkeypatch: pytest.MonkeyPatch, forms: list[AuroralForm], **kw: Any) -> xr.Dataset:
    start = np.datetime64("2020-06-21T14:00", "ns")
    t0 = int(start.astype(np.int64))
    placed = tuple(dataclasses.replace(f, start_ns=t0 - 5 * 60 * 10**9) for f in forms)
    monkeypatch.setattr(
        rs, "varied_forms_starting_in", lambda *a: placed if a[1] == t0 // (600 * 10**9) else ()
    )
    kw.setdefault("camera", CAMERA)
    return synthetic_cube(start=start, n_frames=1, size=64, seed=2, moon=False,
                          realism="randomised", scene=CLEAR, **kw)  # fmt: skip


@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_is_drawn_with_truth_true_where_it_is_bright(
    family: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(1)
    forms = [dataclasses.replace(f, amplitude=max(f.amplitude, 12.0), pulse_amp=0.0)
             for f in _family(family, rng, BASE, 64)]  # fmt: skip
    ds = _with_forms(monkeypatch, forms)
    dark = _with_forms(monkeypatch, forms, activity=0.0)
    truth = ds.aurora_truth.values[0]
    assert truth.any(), family
    rise = ds.image.values[0].astype(int) - dark.image.values[0].astype(int)
    assert rise[truth].max(axis=-1).mean() > 3 * max(rise[~truth].max(axis=-1).mean(), 1.0)
    assert set(np.unique(ds.aurora_kind.values[0][truth])) <= {1, 2}


def test_red_aurora_is_seen_by_a_630_imager_and_hardly_by_a_557_imager(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    red = [dataclasses.replace(BASE, amplitude=6.0, red_ratio=10.0, width=1.0, ray_amp=0.0)]

    def band(name: str) -> CameraModel:
        response = tuple(map(tuple, band_response(name).tolist()))
        return dataclasses.replace(CAMERA, channels=(name,), response=response)

    seen_red = _with_forms(monkeypatch, red, camera=band("630.0nm")).aurora_truth.values.sum()
    seen_green = _with_forms(monkeypatch, red, camera=band("557.7nm")).aurora_truth.values.sum()
    assert seen_red > 100
    assert seen_green < 0.5 * seen_red


def test_aurora_down_to_the_noise_floor_fades_out_of_the_truth(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sizes = []
    for amplitude in (40.0, 8.0, 2.0, 0.3):
        arc = [dataclasses.replace(BASE, amplitude=amplitude, ray_amp=0.0, pulse_amp=0.0)]
        sizes.append(int(_with_forms(monkeypatch, arc).aurora_truth.values.sum()))
    assert sizes[0] > 0
    assert sizes[-1] == 0
    assert sizes == sorted(sizes, reverse=True)


def test_magnetic_lookup_matches_aacgm_for_any_lens() -> None:
    station = get_station("JBS")
    exact = magnetic_sky(station, 64, 64, 2020)
    looked = camera_magnetic_sky(static_sky(station, 64, 64), 2020)
    sky = static_sky(station, 64, 64).sky.ravel()
    for row in (ROW_M0, ROW_A0, ROW_MLAT[0]):
        assert np.abs(exact.table[row] - looked.table[row])[sky].max() < 0.02


# -- the training mix -----------------------------------------------------------------------------
def test_randomised_nights_have_the_single_channel_share_and_dark_skies() -> None:
    cubes = randomised_nights(20, 10, first_seed=300, size=32)
    assert len(cubes) == 10
    assert sum(c.sizes["time"] for c in cubes) == 20
    single = [c for c in cubes if c.sizes["channel"] == 1]
    assert len(single) == 4  # 40 % of the nights, exactly
    assert {str(c.channel.values[0]) for c in single} <= set(BANDS)
    from aurora_xr.synthetic.ephemeris import sun_altaz

    for cube in cubes:
        validate_cube(cube)
        el, _ = sun_altaz(cube.time.values.astype(np.int64), -74.62, 164.22)
        assert (el < -7.5).all()


def test_the_randomised_mix_has_the_documented_proportions() -> None:
    n = 600
    cams = [draw_camera(rng_for(s, 11)) for s in range(n)]
    single = np.array([c.single_channel for c in cams])
    assert abs(single.mean() - 0.4) < 0.06
    bands = [c.channels[0] for c in cams if c.single_channel]
    for band, share in SINGLE_BAND_SHARES.items():
        assert abs(bands.count(band) / len(bands) - share) < 0.08, band
    colour = [c for c in cams if not c.single_channel]
    assert 0.75 < np.mean([c.bits == 8 for c in colour]) < 0.95
    assert 0.12 < np.mean([c.radius_frac > 1.0 for c in cams]) < 0.28  # cut by the frame
    assert 0.18 < np.mean([c.radius_frac < 0.86 for c in cams]) < 0.33  # well inside
    assert 0.17 < np.mean([c.mirrored for c in cams]) < 0.33
    scenes = [draw_scene(rng_for(s, 12)) for s in range(n)]
    hazy = np.array([s.haze for s in scenes if s.haze > 0])
    assert 0.47 < hazy.size / n < 0.63
    assert hazy.min() < 1.0
    assert hazy.max() > 100.0
    assert 0.14 < np.mean([s.activity == 0 for s in scenes]) < 0.26
    assert 0.55 < np.mean([s.clouds > 0 for s in scenes]) < 0.75


def test_rendered_mix_statistics_stay_in_bounds() -> None:
    """A small rendered sample: confounders and aurora in sensible shares of the frames."""
    cubes = randomised_nights(48, 16, first_seed=1000, size=48)
    cond = np.concatenate([c.conditions.values for c in cubes])
    names = list(CONDITIONS)
    with_aurora = (cond[:, names.index("aurora")] > 0).mean()
    assert 0.25 < with_aurora < 0.8
    assert (cond[:, names.index("moon")] > 0).mean() > 0.15
    assert (cond[:, names.index("haze")] > 0).mean() > 0.25
    for cube in cubes:  # never truth outside the sky
        assert not cube.aurora_truth.values[:, ~np.isfinite(cube.elevation.values)].any()
