"""The ``calibrate`` subcommand of ``aurora-xr``: a camera's lens from the stars of a clear frame.

Examples::

    aurora-xr calibrate W8446B18_2020-12-11_20-09-36.img --station KHO \\
        --time 2020-12-11T20:09:36 -o kho.json --figure kho.png
    aurora-xr calibrate thg_l1_asf_gako_2011010617_v01.cdf --station GAKO \\
        --frame 7 --stack 9 -o gakona.json
    aurora-xr calibrate 20220307_0600_gill_nir-216_8446.pgm.gz --stack 10 \\
        --lens-circle 123,133,105 --obstruction auto -o gillam.json

The frame is read with the camera-format registry (any file ``aurora-xr ingest``
reads), turned as ingest stores it (Berkeley THEMIS CDF frames 180°), optionally
median-stacked over consecutive frames (clearer stars, less noise), and timed at
mid-exposure from its own header when it has a time (else ``--time`` or
``--time-pattern``). The site comes from ``--station``/``--site`` or the header (a
position in the header wins, as in ingest).

The JSON holds the lens as ``calibration_*`` attributes (what ``aurora-xr ingest
--calibration`` and :meth:`Calibration.from_attrs` read), the star calibration
(matches, residuals, sources) and, with ``--obstruction``, the obstruction mask
(see :mod:`aurora_xr.sky.obstruction_files`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import OptionError
from .commands import EXIT_OK, Subcommand, cli_wording, say
from .options import int_at_least

__all__ = ["COMMANDS"]

_ROT180 = "rot180_vs_skymap"  # reader orientation of frames that ingest turns 180°


def _circle(text: str) -> tuple[float, float, float]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 3 or not values[2] > 0:
        raise argparse.ArgumentTypeError(
            f"expected X,Y,RADIUS in pixels (the horizon circle); found {text!r}"
        )
    return values[0], values[1], values[2]


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("frame", metavar="FRAME", help="camera file with a clear, starry frame")
    parser.add_argument(
        "-o", "--out", required=True, metavar="OUT.json", help="calibration JSON to write"
    )
    parser.add_argument("--figure", metavar="OUT.png", help="also draw the calibration figure")
    pick = parser.add_argument_group("frame")
    pick.add_argument(
        "--frame",
        dest="index",
        type=int_at_least(0),
        default=0,
        metavar="N",
        help="frame of a multi-frame file, from 0 (default: %(default)s)",
    )
    pick.add_argument(
        "--stack",
        type=int_at_least(1),
        default=1,
        metavar="N",
        help="median of N consecutive frames from --frame on (default: %(default)s)",
    )
    pick.add_argument("--format", default=None, help="read with this format (default: detected)")
    when = pick.add_mutually_exclusive_group()
    when.add_argument(
        "--time", default=None, metavar="ISO8601", help="UTC time of the frame (default: header)"
    )
    when.add_argument(
        "--time-pattern",
        default=None,
        metavar="PATTERN",
        help="strftime pattern of the UTC time in the file name, e.g. %%Y-%%m-%%d_%%H-%%M-%%S",
    )
    where = parser.add_argument_group(
        "site (required unless the file header gives it; a header position wins)"
    ).add_mutually_exclusive_group()
    where.add_argument("--station", default=None, metavar="CODE", help="catalogue site code")
    where.add_argument(
        "--site", default=None, metavar="LAT,LON[,ALT_M]", help="any other place (deg, deg E, m)"
    )
    fit = parser.add_argument_group("fit")
    fit.add_argument(
        "--initial", default=None, metavar="JSON", help="a rough calibration to start from"
    )
    fit.add_argument(
        "--lens-circle",
        type=_circle,
        default=None,
        metavar="X,Y,R",
        help="the horizon circle in pixels, if the bright disc on the frame is not it",
    )
    fit.add_argument(
        "--catalogue",
        default="auto",
        choices=("auto", "ephem", "hipparcos"),
        help="star catalogue (default: %(default)s: Hipparcos where installed, else ephem)",
    )
    fit.add_argument(
        "--max-magnitude",
        type=float,
        metavar="M",
        default=5.0,
        help="faintest catalogue star used (default: %(default)s)",
    )
    fit.add_argument(
        "--obstruction",
        default=None,
        metavar="auto|MASK",
        help="store an obstruction mask in the JSON: 'auto' makes one from the file's "
        "frames (a percentile stack), or an image (white: obstructed) drawn over the frame",
    )


def _frames(args: argparse.Namespace) -> tuple[Any, NDArray[Any], NDArray[Any], str]:
    """The file, all its frames (turned as ingest stores them), the stacked frame, a label."""
    from ..io.formats import read_file

    found = read_file(args.frame, format=args.format)
    frames = found.frames
    turned = found.metadata.get("orientation") == _ROT180
    if turned:
        frames = frames[:, ::-1, ::-1]
    first, count = int(args.index), int(args.stack)
    if first + count > found.n_frames:
        raise OptionError(
            f"--frame {first} --stack {count} needs frames {first}..{first + count - 1}; "
            f"{Path(args.frame).name} holds {found.n_frames} good frame(s), "
            f"0..{found.n_frames - 1}"
        )
    chosen = frames[first : first + count]
    frame = chosen[0] if count == 1 else np.median(chosen, axis=0)
    what = f"frame {first}" if count == 1 else f"median of frames {first}..{first + count - 1}"
    label = f"{Path(args.frame).name}, {what} ({found.width}x{found.height}, {found.format})"
    if turned:
        label += ", turned 180° as ingest stores it"
    return found, frames, frame, label


def _time(args: argparse.Namespace, found: Any) -> tuple[np.datetime64, str]:
    """Mid-exposure UTC time of the chosen frame(s), and where it came from."""
    from .._times import as_datetime64

    if args.time is not None:
        return as_datetime64(np.array([args.time], dtype=object), name="--time")[0], "--time"
    if args.time_pattern is not None:
        from ..io.imagefiles import time_from_name, time_regex

        name = Path(args.frame).name
        when = time_from_name(name, time_regex(args.time_pattern), args.time_pattern)
        if when is None:
            raise OptionError(
                f"expected a time matching --time-pattern {args.time_pattern!r} in the file "
                f"name; found none in {name!r}"
            )
        return when, "the file name"
    if found.times is None:
        raise OptionError(
            f"{Path(args.frame).name} holds no time (format {found.format!r}); give the UTC "
            "time of the frame with --time ISO8601 (e.g. --time 2020-12-11T20:09:36) or "
            "--time-pattern"
        )
    picked = slice(args.index, args.index + args.stack)
    start = found.times[picked].astype("datetime64[ns]").astype(np.int64)
    exposure = found.frame_metadata.get("exposure_s")
    half = np.zeros(start.shape)
    if exposure is not None and np.issubdtype(np.asarray(exposure).dtype, np.number):
        half = np.nan_to_num(np.asarray(exposure, float)[picked]) / 2.0
    mid = round(float(np.mean(start + half * 1e9)))
    return np.datetime64(mid, "ns"), "the header, mid-exposure"


def _site(args: argparse.Namespace, found: Any) -> Any:
    from ..sky import get_station, parse_site
    from ..sky.sites import site_with_header

    site = get_station(args.station) if args.station else None
    if args.site:
        site = parse_site(args.site)
    meta = found.metadata
    if meta.get("site_latitude") is not None and meta.get("site_longitude") is not None:
        site, note = site_with_header(
            site,
            meta["site_latitude"],
            meta["site_longitude"],
            meta.get("site_altitude_m"),
            code=str(meta.get("site_id") or "SITE").upper(),
            source=f"header of {Path(args.frame).name}",
        )
        if note:
            say(f"  note: {note}")
    if site is None:
        raise OptionError(
            f"the header of {Path(args.frame).name} gives no site; name it with --station CODE "
            "or --site LAT,LON[,ALT_M]"
        )
    return site


def _obstruction(
    args: argparse.Namespace, frames: NDArray[Any], calibration: Any
) -> NDArray[np.bool_] | None:
    if args.obstruction is None:
        return None
    if args.obstruction == "auto":
        from ..sky.obstructions import obstruction_mask

        return obstruction_mask(frames, field_of_view=calibration)
    from ..io.formats import read_file
    from ..sky.starcal import luminance

    drawn = luminance(read_file(args.obstruction).frames[0]) > 0
    size = (calibration.height, calibration.width)
    if drawn.shape != size:
        raise OptionError(
            f"--obstruction {args.obstruction}: expected a mask of {size[0]}x{size[1]} "
            f"(rows x columns, as the frame); found {drawn.shape[0]}x{drawn.shape[1]}"
        )
    return np.asarray(drawn, dtype=bool)


def _lens_line(cal: Any) -> str:
    sense = "clockwise (mirrored)" if cal.east_clockwise else "counter-clockwise"
    degree = len(cal.poly_coeffs) if cal.projection == "polynomial" else 1
    zx, zy = cal.zenith_pixel
    return (
        f"  lens: zenith at pixel ({zx:.1f}, {zy:.1f}), horizon radius {cal.lens_radius:.1f} px, "
        f"north {cal.rotation_deg:.1f}° from image up, east {sense}, radial degree {degree}, "
        f"tilt {cal.tilt_deg:.2f}° towards {cal.tilt_azimuth_deg:.0f}°, "
        f"pixel aspect {cal.pixel_aspect:.4f}"
    )


def _run(args: argparse.Namespace) -> int:
    from ..sky.starcal import calibrate_from_stars

    initial = None
    if args.initial is not None:
        from ..io.ingest_camera import read_calibration_json

        initial = read_calibration_json(args.initial)
    found, frames, frame, label = _frames(args)
    when, time_from = _time(args, found)
    site = _site(args, found)
    print(f"calibrate: {label}")
    lat = f"{abs(site.latitude):.4f}° {'N' if site.latitude >= 0 else 'S'}"
    lon = f"{abs(site.longitude):.4f}° {'E' if site.longitude >= 0 else 'W'}"
    print(
        f"  time {np.datetime_as_string(when, unit='ms')} UT (from {time_from}); "
        f"site {site.code} {lat} {lon} {site.altitude_m:.0f} m"
    )
    with cli_wording(("lens_circle=", "--lens-circle X,Y,R"), ("initial=", "--initial JSON")):
        result = calibrate_from_stars(
            frame,
            when,
            site,
            initial,
            lens_circle=args.lens_circle,
            catalogue=args.catalogue,
            max_magnitude=args.max_magnitude,
        )
    print(
        f"  sources: {result.n_sources} detected; catalogue: {len(result.catalogue)} stars "
        "and planets above the horizon"
    )
    print(f"  matched: {result.n_matches} stars")
    print(
        f"  residuals: RMS {result.rms_deg:.3f}° ({result.rms_px:.2f} px), "
        f"worst {result.worst_deg:.3f}° ({result.worst_px:.2f} px)"
    )
    print(_lens_line(result.calibration))
    mask = _obstruction(args, frames, result.calibration)
    if mask is not None:
        print(f"  obstruction: {int(mask.sum())} pixels ({mask.mean():.1%} of the frame)")
    result.to_json(args.out, obstruction=mask)
    print(f"  wrote {args.out} (for aurora-xr ingest --calibration)")
    if args.figure:
        from matplotlib.figure import Figure

        from ..plot.starcal import plot_star_calibration

        cal = result.calibration
        fig = Figure(figsize=(7.0, 7.0 * cal.height / cal.width + 0.6), layout="constrained")
        plot_star_calibration(result, frame, ax=fig.add_subplot(), obstruction=mask)
        fig.savefig(args.figure, dpi=110)
        print(f"  wrote {args.figure}")
    return EXIT_OK


COMMANDS: dict[str, Subcommand] = {
    "calibrate": Subcommand(
        "calibrate a camera's lens from the stars of a clear frame (any camera file); "
        "writes the JSON that ingest --calibration reads",
        _arguments,
        _run,
    ),
}
