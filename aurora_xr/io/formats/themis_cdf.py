"""Berkeley THEMIS all-sky imager CDF files (``thg_l1_asf_*``, ``thg_l1_ast_*``) through cdflib.

The file holds one image variable: ``thg_asf_<site>`` (full resolution, ``(n, 256, 256)``
uint16) or ``thg_ast_<site>`` (thumbnails, ``(n, 32, 32)``), with the exposure start of each
frame in ``thg_as?_<site>_time`` (Unix seconds, UTC; the thumbnails' ``_epoch`` is a dummy 0,
so the ``_time`` variable is used for both). ``thg_asf_<site>_tend`` (exposure end), when
present, gives ``exposure_s``.

**Orientation.** Frames are returned **as stored in the file**. The Berkeley CDF frames are
rotated 180° relative to the operators' raw skymap arrays (``themis_skymap_<site>_*.sav``):
``image[y, x]`` belongs with ``FULL_ELEVATION[H-1-y, W-1-x]`` (the README of the real files
says the stars of the Gakona file confirm it). The reader says so in
``metadata["orientation"] = "rot180_vs_skymap"``; whoever pairs the frames with a skymap
rotates one of them (``frames[:, ::-1, ::-1]``, or the skymap grids) so that the cube holds
frames and grids in one orientation. The raw PGM files of the same cameras are not rotated
(``"as_written"``). The thumbnails are declared the same way as the full frames (the pairing
was checked on full frames only).

Bad frames: a frame whose time is missing or not finite, or whose pixels are all the
variable's ``FILLVAL``, is skipped and reported.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ...errors import ImageFileError
from .registry import CameraFormat, register_format
from .results import FileHeader, FrameError, FrameFile, metadata_columns, no_good_frame

__all__ = ["CDF_MAGICS", "ThemisCdfFormat"]

CDF_MAGICS = (b"\xcd\xf3\x00\x01", b"\xcd\xf2\x60\x02", b"\x00\x00\xff\xff")
"""First four bytes of CDF files (version 3, version 2.6/2.7, version 2.5 and older)."""

_IMAGE_VAR = re.compile(r"^thg_as([ft])_([a-z0-9]{3,5})$")


def _open(path: Path) -> Any:
    import cdflib

    try:
        return cdflib.CDF(str(path))
    except Exception as exc:
        raise ImageFileError(f"not a readable CDF file: {type(exc).__name__}: {exc}") from exc


def _variables(cdf: Any) -> list[str]:
    info = cdf.cdf_info()
    return list(info.zVariables) + list(info.rVariables)


def _image_variable(cdf: Any) -> tuple[str, str, str]:
    names = _variables(cdf)
    found = [(n, m.group(1), m.group(2)) for n in names if (m := _IMAGE_VAR.match(n))]
    if not found:
        raise ImageFileError(
            "no THEMIS image variable (thg_asf_<site> or thg_ast_<site>) in the CDF file; "
            f"found {', '.join(names[:8]) or 'no variables'}"
        )
    if f"{found[0][0]}_time" not in names:
        raise ImageFileError(f"{found[0][0]}_time (exposure start, Unix seconds) is missing")
    return found[0]


def _global(cdf: Any, key: str) -> str | None:
    try:
        value = cdf.globalattsget().get(key)
    except Exception:
        return None
    if isinstance(value, list | tuple) and value:
        value = value[0]
    return str(value) if value is not None else None


def _file_metadata(cdf: Any, var: str, kind: str, site: str) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "orientation": "rot180_vs_skymap",
        "site_id": site,
        "cdf_variable": var,
        "thumbnail": kind == "t",
        "project_id": "THEMIS",
    }
    descriptor = _global(cdf, "Descriptor")
    if descriptor and ">" in descriptor:
        meta["site_name"] = descriptor.split(">", 1)[1].strip()
    for name, key in (("logical_file_id", "Logical_file_id"), ("data_type", "Data_type")):
        if value := _global(cdf, key):
            meta[name] = value
    return meta


def _times(cdf: Any, var: str, n: int) -> tuple[NDArray[np.float64], NDArray[np.float64] | None]:
    start = np.asarray(cdf.varget(f"{var}_time"), dtype=np.float64).reshape(-1)
    if start.shape != (n,):
        raise ImageFileError(f"{var}_time has {start.size} values for {n} frames")
    end: NDArray[np.float64] | None = None
    if f"{var}_tend" in _variables(cdf):
        end = np.asarray(cdf.varget(f"{var}_tend"), dtype=np.float64).reshape(-1)
        if end.shape != (n,):
            end = None
    return start, end


def _ns(seconds: NDArray[np.float64]) -> NDArray[np.datetime64]:
    return np.round(seconds * 1e9).astype(np.int64).astype("datetime64[ns]")


def _valid_times(start: NDArray[np.float64]) -> tuple[NDArray[np.bool_], list[FrameError]]:
    good = np.isfinite(start) & (start > 0)
    errors = [
        FrameError(int(i), f"no valid time ({float(start[i])})") for i in np.flatnonzero(~good)
    ]
    return good, errors


def _n_records(cdf: Any, var: str) -> tuple[int, tuple[int, ...]]:
    info = cdf.varinq(var)
    return int(info.Last_Rec) + 1, tuple(int(d) for d in info.Dim_Sizes)


class ThemisCdfFormat(CameraFormat):
    """THEMIS ASI level-1 CDF (full frames and thumbnails)."""

    name = "themis_cdf"
    description = "Berkeley THEMIS ASI CDF, thg_l1_asf (256x256) and thg_l1_ast (32x32) (cdflib)"
    extensions = (".cdf",)

    def accept(self, prefix: bytes, path: Path) -> bool:
        """The CDF magic number."""
        return prefix[:4] in CDF_MAGICS

    def read(self, path: Path, **options: Any) -> FrameFile:
        """Every good frame, as stored (see the module docstring on orientation)."""
        path = Path(path)
        cdf = _open(path)
        var, kind, site = _image_variable(cdf)
        n, _ = _n_records(cdf, var)
        data = np.asarray(cdf.varget(var))
        if data.ndim == 2:
            data = data[None]
        if data.ndim != 3 or data.shape[0] != n or data.dtype not in (np.uint16, np.uint8):
            raise ImageFileError(
                f"{var}: expected ({n}, H, W) uint16 frames; found {data.shape} {data.dtype}"
            )
        start, end = _times(cdf, var, n)
        fill = cdf.varattsget(var).get("FILLVAL")
        good, errors = _valid_times(start)
        if fill is not None:
            filled = (data == fill).reshape(n, -1).all(axis=1) & good
            reason = f"every pixel is FILLVAL {fill}"
            errors += [FrameError(int(i), reason) for i in np.flatnonzero(filled)]
            good &= ~filled
        errors.sort(key=lambda e: e.index)
        if not good.any():
            raise no_good_frame(errors or [FrameError(0, f"{var} holds no frame")])
        keep = np.flatnonzero(good)
        rows: list[dict[str, Any]] = [{"unix_time_s": float(start[i])} for i in keep]
        if end is not None:
            for row, i in zip(rows, keep, strict=True):
                row["exposure_s"] = float(end[i] - start[i])
        return FrameFile(
            path=path,
            format=self.name,
            frames=np.ascontiguousarray(data[keep], dtype=data.dtype.newbyteorder("=")),
            channels=("white",),
            times=_ns(start[keep]),
            frame_metadata=metadata_columns(rows),
            metadata=_file_metadata(cdf, var, kind, site),
            errors=errors,
            index=keep.astype(np.int64),
        )

    def read_header(self, path: Path, **options: Any) -> FileHeader:
        """Frame count, size and times, without reading the images."""
        path = Path(path)
        cdf = _open(path)
        var, kind, site = _image_variable(cdf)
        n, dims = _n_records(cdf, var)
        if len(dims) != 2:
            raise ImageFileError(f"{var}: expected 2-D frames; found record shape {dims}")
        start, _ = _times(cdf, var, n)
        good, errors = _valid_times(start)
        height, width = dims  # CDF dims are (rows, columns) as cdflib returns the arrays
        return FileHeader(
            path=path,
            format=self.name,
            n_frames=int(good.sum()),
            height=height,
            width=width,
            channels=("white",),
            dtype=np.dtype(np.uint16),
            times=_ns(start[good]),
            metadata=_file_metadata(cdf, var, kind, site),
            errors=errors,
        )


register_format(ThemisCdfFormat)
