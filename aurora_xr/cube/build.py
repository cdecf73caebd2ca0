"""Build and decode image cubes of the aurora_xr data model (DESIGN §2).

:func:`cube_from_frames` turns frames held in memory into a cube with every
coordinate and attribute of the data model; :func:`decode_cube` repairs the
small things a file written elsewhere may lack (``elevation``/``azimuth`` as
data variables instead of coordinates, no ``channel`` labels);
:func:`cf_attributes` fills in CF ``units``/``long_name``/``standard_name``
where a variable has none. No file is read or written here.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike

from ..errors import DtypeError, FrameSizeError, MissingCalibrationError, OptionError
from ..sky.camera import Camera, require_frame_size
from ..sky.stations import Station, get_station, placeholder_lens
from .schema import IMAGE_DTYPES, check_channels, check_times

__all__ = [
    "CHANNELS",
    "CONVENTIONS",
    "TRUTH_VARIABLES",
    "VARIABLE_ATTRS",
    "append_history",
    "cf_attributes",
    "cube_from_frames",
    "decode_cube",
    "history_line",
    "package_version",
]

CHANNELS = ("R", "G", "B")
CONVENTIONS = "CF-1.8"

TRUTH_VARIABLES = ("aurora_truth", "aurora_kind", "truth_available")
"""Per-frame truth variables: masks, forms, and which frames carry a mask."""

VARIABLE_ATTRS: dict[str, dict[str, Any]] = {
    "time": {"standard_name": "time", "long_name": "exposure start time (UTC)", "axis": "T"},
    "image": {
        "long_name": "all-sky camera frame (raw counts)",
        "units": "1",
        "comment": "pixel (y, x) seen looking up; channel holds R, G, B or one band",
    },
    "channel": {"long_name": "colour channel or spectral band of the camera"},
    "elevation": {
        "long_name": "elevation of the line of sight above the horizon",
        "units": "degree",
        "valid_range": np.array([0.0, 90.0], dtype=np.float32),
        "comment": "from the camera calibration; NaN outside the lens circle",
    },
    "azimuth": {
        "long_name": "azimuth of the line of sight from geographic north through east",
        "units": "degree",
        "valid_range": np.array([0.0, 360.0], dtype=np.float32),
        "comment": "from the camera calibration; NaN outside the lens circle",
    },
    "aurora_truth": {
        "long_name": "true aurora mask (True where a pixel shows aurora)",
        "units": "1",
    },
    "aurora_kind": {
        "long_name": "form of the true aurora",
        "units": "1",
        "flag_values": np.array([0, 1, 2], dtype=np.uint8),
        "flag_meanings": "none dynamic stationary",
    },
    "truth_available": {
        "long_name": "frame carries a true aurora mask",
        "units": "1",
        "comment": "aurora_truth is all False where this flag is False",
    },
}


def package_version() -> str:
    """The installed version of aurora_xr (``"unknown"`` when not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("aurora-xr")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def history_line(action: str) -> str:
    """One ``history`` entry: UTC time stamp, package and version, then ``action``."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{stamp} aurora_xr {package_version()}: {action}"


def append_history(attrs: Mapping[Any, Any], action: str) -> str:
    """The ``history`` of ``attrs`` with a new line for ``action`` appended (CF style)."""
    old = str(attrs.get("history", "")).rstrip("\n")
    line = history_line(action)
    return f"{old}\n{line}" if old else line


def cf_attributes(ds: xr.Dataset) -> xr.Dataset:
    """A shallow copy of ``ds`` with CF attributes added where missing.

    Known variables (:data:`VARIABLE_ATTRS`) get ``units``, ``long_name`` and
    ``standard_name`` where one exists; the dataset gets ``Conventions``.
    Attributes already present are never overwritten. Datetime variables do
    not get ``units`` (xarray writes those when it encodes the times).
    """
    out = ds.copy(deep=False)
    for name, defaults in VARIABLE_ATTRS.items():
        if name not in out.variables:
            continue
        var = out[name]
        attrs = dict(var.attrs)
        for key, value in defaults.items():
            if np.issubdtype(var.dtype, np.datetime64) and key in ("units", "calendar"):
                continue
            attrs.setdefault(key, value)
        out[name].attrs = attrs
    out.attrs.setdefault("Conventions", CONVENTIONS)
    return out


def _as_times(times: ArrayLike) -> np.ndarray:
    values = np.asarray(times)
    if values.dtype.kind == "M":
        return values.astype("datetime64[ns]")
    try:
        return np.asarray(values, dtype="datetime64[ns]")
    except (TypeError, ValueError) as exc:
        raise DtypeError(f"expected times convertible to datetime64[ns]; found {exc}") from exc


def cube_from_frames(
    frames: ArrayLike,
    times: ArrayLike,
    *,
    station: str | Station = "JBS",
    calibration: Camera | None = None,
    truth: ArrayLike | None = None,
    kind: ArrayLike | None = None,
    truth_available: ArrayLike | None = None,
    channels: Sequence[str] | None = None,
    frame_variables: Mapping[str, ArrayLike] | None = None,
    title: str | None = None,
    source: str = "all-sky camera frames",
    history: str | None = None,
) -> xr.Dataset:
    """An image cube of the data model from frames held in memory.

    Parameters
    ----------
    frames : (T, H, W, 3), (T, H, W, 1) or (T, H, W) ndarray of uint8 or uint16
        Colour (R, G, B) or single-channel frames, row 0 at the top of the image.
    times : (T,) array of datetime64
        UTC exposure start of each frame (naive), sorted and unique.
    station : str or Station
        Station code (see :func:`aurora_xr.get_station`) or a Station.
    calibration : Calibration or Skymap, optional
        Camera calibration for ``W`` x ``H`` frames (a lens or a per-pixel skymap);
        by default the station's placeholder lens scaled to the frame size where it
        has one (Jang Bogo Station, the synthetic sky's), else no calibration: the
        cube then has no ``elevation``/``azimuth`` until
        :func:`aurora_xr.with_calibration` gives it one.
    truth : (T, H, W) array of bool, optional
        True aurora masks, stored as ``aurora_truth``.
    kind : (T, H, W) array of uint8, optional
        Auroral form (0 none, 1 dynamic, 2 stationary), stored as ``aurora_kind``.
    truth_available : (T,) array of bool, optional
        Which frames carry a mask (stored as ``truth_available``; only with ``truth``).
    channels : sequence of str, optional
        Channel names: default ``("R", "G", "B")`` for colour frames and ``("white",)``
        for single-channel frames; a single channel is named by its band
        (``"557.7nm"``, ``"630.0nm"``, ...).
    frame_variables : mapping of str to (T,) arrays, optional
        Per-frame header metadata (exposure, filter, temperature, ...), stored as
        variables on ``time``.
    title, source, history : str, optional
        Global attributes (``history`` gets one line if not given).

    Returns
    -------
    xarray.Dataset
        The cube, in memory (numpy-backed).

    Raises
    ------
    DtypeError, FrameSizeError, TimeOrderError, OptionError
        For frames, times or masks that do not fit together.

    Examples
    --------
    >>> import numpy as np
    >>> frames = np.zeros((2, 48, 64, 3), np.uint8)
    >>> times = np.array(["2020-06-21T00:00", "2020-06-21T00:01"], "datetime64[ns]")
    >>> cube = cube_from_frames(frames, times)
    >>> dict(cube.image.sizes)
    {'time': 2, 'y': 48, 'x': 64, 'channel': 3}
    """
    stn = get_station(station)
    image = np.asarray(frames)
    if image.ndim == 3:
        image = image[..., None]
    if image.ndim != 4 or image.shape[-1] not in (1, 3):
        raise FrameSizeError(
            f"expected frames of shape (T, H, W, 3), (T, H, W, 1) or (T, H, W); "
            f"found {np.shape(frames)}"
        )
    if image.dtype not in IMAGE_DTYPES:
        raise DtypeError(f"expected frames of dtype uint8 or uint16; found {image.dtype}")
    n, height, width, n_channels = image.shape
    if channels is None:
        channels = CHANNELS if n_channels == 3 else ("white",)
    names = check_channels(list(channels))
    if len(names) != n_channels:
        raise OptionError(f"expected {n_channels} channel names; found {len(names)}: {names}")
    t = _as_times(times)
    if t.shape != (n,):
        raise OptionError(f"expected {n} times (one per frame); found shape {t.shape}")
    check_times(t)
    cal = calibration if calibration is not None else _placeholder(stn, width, height)
    grids: dict[str, Any] = {}
    if cal is not None:
        require_frame_size(cal, height, width)
        elevation, azimuth = cal.sky_grids()
        grids = {"elevation": (("y", "x"), elevation), "azimuth": (("y", "x"), azimuth)}
    data_vars: dict[str, tuple[tuple[str, ...], np.ndarray]] = {
        "image": (("time", "y", "x", "channel"), image)
    }
    if truth is not None:
        mask = np.asarray(truth)
        if mask.shape != (n, height, width):
            raise FrameSizeError(
                f"expected truth of shape {(n, height, width)}; found {mask.shape}"
            )
        data_vars["aurora_truth"] = (("time", "y", "x"), mask.astype(bool, copy=False))
        if truth_available is not None:
            avail = np.asarray(truth_available, dtype=bool)
            if avail.shape != (n,):
                raise OptionError(f"expected truth_available of shape ({n},); found {avail.shape}")
            data_vars["truth_available"] = (("time",), avail)
    elif truth_available is not None:
        raise OptionError("truth_available is given without truth")
    for name, values in (frame_variables or {}).items():
        column = np.asarray(values)
        if column.shape != (n,):
            raise OptionError(
                f"expected the per-frame variable {name!r} of shape ({n},); found {column.shape}"
            )
        data_vars[str(name)] = (("time",), column)
    if kind is not None:
        forms = np.asarray(kind)
        if forms.shape != (n, height, width):
            raise FrameSizeError(
                f"expected kind of shape {(n, height, width)}; found {forms.shape}"
            )
        data_vars["aurora_kind"] = (("time", "y", "x"), forms.astype(np.uint8, copy=False))
    attrs: dict[str, Any] = {
        **stn.to_attrs(),
        **(cal.to_attrs() if cal is not None else {}),
        "Conventions": CONVENTIONS,
        "title": title or f"All-sky camera frames, {stn.name}",
        "source": source,
        "history": history if history is not None else history_line("cube built from frames"),
    }
    ds = xr.Dataset(
        data_vars,
        coords={
            "time": ("time", t),
            "channel": ("channel", np.array(names)),
            **grids,
        },
        attrs=attrs,
    )
    return cf_attributes(ds)


def _placeholder(station: Station, width: int, height: int) -> Camera | None:
    """The station's placeholder lens (Jang Bogo Station only), else no calibration."""
    try:
        return placeholder_lens(station.code, width, height)
    except MissingCalibrationError:
        return None


def decode_cube(ds: xr.Dataset, *, channel_dim: Hashable = "channel") -> xr.Dataset:
    """Bring a cube read from a file into the data model's shape.

    ``elevation`` and ``azimuth`` become coordinates and are read into
    memory (they are small and every step uses them); a ``channel``
    dimension of length 3 without labels gets ``["R", "G", "B"]``. The image
    itself is never read.
    """
    out = ds
    grids = [name for name in ("elevation", "azimuth") if name in out.variables]
    if grids:
        out = out.set_coords(grids)
        out = out.assign_coords(
            {
                name: out[name].variable.load() if not _is_dask(out[name]) else out[name].variable
                for name in grids
            }
        )
    if channel_dim in out.dims and channel_dim not in out.coords and out.sizes[channel_dim] == 3:
        out = out.assign_coords({channel_dim: np.array(CHANNELS)})
    return out


def _is_dask(da: xr.DataArray) -> bool:
    return da.chunks is not None
