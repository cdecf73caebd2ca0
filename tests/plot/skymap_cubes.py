"""Small cubes on the real per-pixel calibrations, and a synthetic single-band 16-bit cube.

* Gakona: frames of THEMIS ``themis20`` from the Berkeley CDF with the operator's ``.sav``
  skymap turned 180° (``Skymap.rotated(2)``: the CDF frames are rotated against the raw
  skymap arrays), single channel ``white``, uint16;
* Poker Flat: the two 557.7 nm DASC FITS frames with the Az/El FITS pair (the pair matches
  the raw frames without rotation), uint16 14-bit counts, field of view cut at 10°;
* a synthetic lens cube with one 16-bit band, for the grey stretch.

The skymap cubes are made the way an ingest makes them: the skymap's grids are the cube's
``elevation``/``azimuth`` and its ``calibration_*`` attributes are the skymap's.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from aurora_xr.cube.build import cube_from_frames
from aurora_xr.io.formats import read_file
from aurora_xr.sky.lens import Calibration
from aurora_xr.sky.skymap import Skymap
from aurora_xr.sky.skymap_files import read_skymap
from aurora_xr.sky.stations import get_station

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "real_sequences"
GAKO_DIR = REAL / "themis_gako_skymap_2011"
GAKO_SAV = GAKO_DIR / "themis_skymap_gako_20110305-+_vXX.sav"
GAKO_CDF = GAKO_DIR / "thg_l1_asf_gako_2011010617_v01.cdf"
DASC_DIR = REAL / "dasc_pkr_fits_20151007"
DASC_EL = DASC_DIR / "PKR_DASC_0558_20150213_El.FIT"
DASC_FRAMES = (
    DASC_DIR / "PKR_DASC_0558_20151007_082351.743.FITS",
    DASC_DIR / "PKR_DASC_0558_20151007_082404.243.FITS",
)


def skymap_cube(
    frames: np.ndarray,
    times: np.ndarray,
    skymap: Skymap,
    station: str,
    channels: Sequence[str],
) -> xr.Dataset:
    """A cube of (T, H, W) or (T, H, W, C) frames calibrated by ``skymap``."""
    image = frames[..., None] if frames.ndim == 3 else frames
    el, az = skymap.sky_grids()
    return xr.Dataset(
        {"image": (("time", "y", "x", "channel"), image)},
        coords={
            "time": np.asarray(times, dtype="datetime64[ns]"),
            "channel": list(channels),
            "elevation": (("y", "x"), el),
            "azimuth": (("y", "x"), az),
        },
        attrs={
            **get_station(station).to_attrs(),
            **skymap.to_attrs(),
            "Conventions": "CF-1.8",
            "title": f"real frames of {station} on the operator's skymap",
        },
    )


@functools.cache
def gakona_skymap() -> Skymap:
    """The Gakona skymap in the orientation of the Berkeley CDF frames."""
    return read_skymap(GAKO_SAV).rotated(2)


@functools.cache
def dasc_skymap() -> Skymap:
    return read_skymap(DASC_EL)


def gakona_cube(n_frames: int = 4) -> xr.Dataset:
    found = read_file(GAKO_CDF)
    return skymap_cube(
        found.frames[:n_frames], found.times[:n_frames], gakona_skymap(), "GAKO", found.channels
    )


def dasc_cube() -> xr.Dataset:
    files = [read_file(p) for p in DASC_FRAMES]
    frames = np.concatenate([f.frames for f in files])
    times = np.concatenate([f.times for f in files])
    return skymap_cube(frames, times, dasc_skymap(), "PKR", files[0].channels)


def single_band_cube(
    n_times: int = 3, size: int = 97, *, band: str = "557.7nm", dtype: type = np.uint16
) -> xr.Dataset:
    """A lens cube of one band: a smooth sky of a few thousand counts with one bright star.

    Values span 1000..5000 counts (a 16-bit camera filling a small part of its range),
    or 10..60 for ``dtype=np.uint8``; pixel (10, 48) is saturated.
    """
    centre = (size - 1) / 2.0
    cal = Calibration(
        width=size, height=size, zenith_x=centre, zenith_y=centre, lens_radius=size / 2 - 2
    )
    el, _ = cal.sky_grids()
    sky = np.isfinite(el)
    level = np.where(sky, 90.0 - np.nan_to_num(el), 0.0) / 90.0  # 0 at the zenith
    top, low = (5000.0, 1000.0) if dtype == np.uint16 else (60.0, 10.0)
    frames = []
    for t in range(n_times):
        frame = low + (top - low) * level * (1.0 + 0.1 * t) / 1.2
        frame[10, 48] = np.iinfo(dtype).max
        frames.append(np.where(sky, frame, 0).astype(dtype))
    times = np.datetime64("2020-07-02T07:00", "ns") + np.arange(n_times) * np.timedelta64(60, "s")
    return cube_from_frames(
        np.stack(frames), times, station="JBS", calibration=cal, channels=(band,)
    )
