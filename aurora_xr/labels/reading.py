"""``read_labels``: any supported label set -> one lazy Dataset of frames and aurora masks."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path

import xarray as xr

from ..cube.build import package_version
from ..errors import LabelError, NoFilesFoundError, OptionError, SchemaError
from .assembly import DEFAULT_CHUNK_FRAMES, assemble, label_checksum
from .coco import is_coco, scan_coco
from .cvat import is_cvat, scan_cvat
from .folders import is_folder_pair, scan_folders
from .labelme import is_labelme, scan_labelme
from .manifest import IMAGE_LEVEL_COLUMNS, MANIFEST_COLUMNS, csv_columns, scan_manifest
from .pixels import name_times
from .raster import centre_offset
from .records import FrameRecord, ScanContext, keep_uniform
from .report import REPORT_ATTR, LabelReport
from .shapes import LabelMap

__all__ = ["FORMATS", "detect_format", "read_labels"]

PathLike = str | os.PathLike[str]
Scanner = Callable[[Path, ScanContext], list[FrameRecord]]

FORMATS: dict[str, Scanner] = {
    "folders": scan_folders,
    "labelme": scan_labelme,
    "coco": scan_coco,
    "cvat": scan_cvat,
    "manifest": scan_manifest,
}
"""Label formats by name, each a scanner ``(source, context) -> frame records``."""

RASTERISATION = (
    "a pixel is aurora when its centre lies inside an aurora shape painted last "
    "(even-odd polygons, half-open at right and bottom edges; ellipses closed); "
    "pixel_origin 'corner': integer coordinates are pixel corners (COCO, CVAT, pycocotools), "
    "'centre': integer coordinates are pixel centres (PIL ImageDraw)"
)


def _sniff_json(path: Path) -> str:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LabelError(f"{path}: not a readable JSON file ({exc})") from exc
    if is_coco(data):
        return "coco"
    if is_labelme(data):
        return "labelme"
    keys = sorted(data) if isinstance(data, dict) else type(data).__name__
    raise LabelError(
        f"{path}: expected a LabelMe file (with 'shapes') or a COCO file (with 'images' and "
        f"'annotations'); found {keys}"
    )


def _label_file(folder: Path, format: str) -> Path | None:
    """The one COCO ``.json`` or CVAT ``.xml`` file at the top of a folder, if there is one."""
    suffix = ".xml" if format == "cvat" else ".json"
    files = sorted(p for p in folder.glob(f"*{suffix}") if p.is_file())
    if len(files) != 1:
        return None
    if format == "cvat":
        return files[0] if is_cvat(files[0]) else None
    try:
        return files[0] if _sniff_json(files[0]) == "coco" else None
    except SchemaError:
        return None


def detect_format(source: PathLike) -> str:
    """The label format of ``source``, from its layout, extension and header.

    * a folder with ``images/`` and ``masks/`` -> ``"folders"``; a folder with one CVAT
      ``.xml`` or one COCO ``.json`` at its top (an unpacked export) -> ``"cvat"`` or
      ``"coco"``; another folder holding ``*.json`` files -> ``"labelme"``;
    * ``.json``: ``"coco"`` (``images`` and ``annotations``) or ``"labelme"`` (``shapes``);
    * ``.xml`` with an ``<annotations>`` root -> ``"cvat"``;
    * ``.csv`` with ``image`` and ``mask`` columns -> ``"manifest"`` (a ``frame,aurora`` CSV
      holds image-level labels: read it with :func:`read_image_labels`).

    Raises
    ------
    NoFilesFoundError
        If ``source`` does not exist.
    SchemaError
        If it is none of these, with what was expected and found.
    """
    path = Path(source)
    if not path.exists():
        raise NoFilesFoundError(f"expected a label folder or file; found no {path}")
    if path.is_dir():
        if is_folder_pair(path):
            return "folders"
        if _label_file(path, "cvat") is not None:
            return "cvat"
        if _label_file(path, "coco") is not None:
            return "coco"
        if next(path.rglob("*.json"), None) is not None:
            return "labelme"
        raise LabelError(
            f"{path}: expected a folder with images/ and masks/, LabelMe *.json files, or one "
            f"COCO .json or CVAT .xml file; found {sorted(p.name for p in path.iterdir())[:10]}"
        )
    suffix = path.suffix.lower()
    if suffix == ".json":
        return _sniff_json(path)
    if suffix == ".xml":
        if is_cvat(path):
            return "cvat"
        raise LabelError(f"{path}: expected CVAT for images XML with an <annotations> root")
    if suffix == ".csv":
        columns = csv_columns(path)
        if all(c in columns for c in MANIFEST_COLUMNS):
            return "manifest"
        if all(c in columns for c in IMAGE_LEVEL_COLUMNS):
            raise LabelError(
                f"{path} holds image-level labels (frame,aurora), not masks: read it with "
                "aurora_xr.labels.read_image_labels"
            )
        raise LabelError(
            f"{path}: expected a manifest CSV with columns image,mask[,split]; found "
            f"{','.join(columns) or 'no header'}"
        )
    raise LabelError(
        f"{path}: expected a folder, a .json (LabelMe or COCO), .xml (CVAT) or .csv "
        f"(manifest) label source; found a {suffix or 'file without extension'}"
    )


def read_labels(
    source: PathLike,
    format: str = "auto",
    *,
    label_map: Mapping[str, bool | None] | None = None,
    time_pattern: str | None = "%Y%m%d_%H%M%S",
    image_root: PathLike | None = None,
    pixel_origin: str = "corner",
    errors: str = "raise",
    chunk_frames: int = DEFAULT_CHUNK_FRAMES,
    grey_band: str = "white",
    frame_dim: str = "frame",
    verbose: bool = False,
) -> xr.Dataset:
    """Read labelled frames and their aurora masks, lazily, from any supported label set.

    Parameters
    ----------
    source : str or path-like
        A folder with ``images/`` and ``masks/``; a LabelMe ``.json`` file or a folder of
        them; a COCO ``.json``; a CVAT for images ``.xml``; a folder holding one COCO or
        CVAT file (an unpacked export); or a manifest ``.csv`` (``image,mask[,split]``).
    format : {"auto", "folders", "labelme", "coco", "cvat", "manifest"}
        ``"auto"`` detects the format (:func:`detect_format`).
    label_map : mapping of str to bool or None, optional
        Label (category) names -> True (aurora), False (not aurora: painted over earlier
        shapes) or None (ignored, reported). ``"*"`` sets every other name. Default
        ``{"aurora": True}``; a name the map does not know is an error.
    time_pattern : str or None
        strftime pattern of the UT time in an image's file name (as in
        :func:`aurora_xr.io.ingest`); names without one get NaT. None: all NaT.
    image_root : str or path-like, optional
        Folder searched first for the images that COCO, CVAT and LabelMe files name.
    pixel_origin : {"corner", "centre"}
        Whether integer label coordinates are pixel corners (COCO, CVAT, pycocotools; the
        default) or pixel centres (PIL's ``ImageDraw``). See ``docs/labels.md``.
    errors : {"raise", "skip"}
        A bad label (missing image, mask of another size, shape outside the image, unknown
        label name, odd frame size) raises, or skips that frame with the reason in the report.
    chunk_frames : int
        Frames per dask chunk (one read task per chunk for images, one for masks).
    grey_band : str
        Channel name of single-channel (grey) images.
    frame_dim : str
        Name of the frame dimension.
    verbose : bool
        Print the report.

    Returns
    -------
    xarray.Dataset
        ``image (frame, y, x, channel)`` uint8/uint16 as stored (``channel`` R, G, B, or
        ``grey_band``), ``mask (frame, y, x)`` bool, coordinates ``source`` (image path),
        ``time`` (datetime64[ns], NaT where the name has none), ``label_file`` and, when the
        labels give one, ``split``; all dask-backed, chunked along ``frame``. Attributes
        hold the format, label map, pixel origin, a checksum of the labels and the report
        (:func:`~aurora_xr.labels.label_report`).

    Raises
    ------
    NoFilesFoundError
        If ``source`` is missing, an image is missing, or no labelled frame is found.
    SchemaError
        For an unknown label name, a shape outside the image (beyond half a pixel), a
        malformed label file; each names the file.
    FrameSizeError
        For a mask whose size differs from its image, or frames of different sizes.
    OptionError
        For an unknown format or option value.

    Notes
    -----
    Frames of different sizes cannot share one array: they are refused with an error that
    names the odd files (``errors="skip"`` keeps the most common size and reports the
    others). Only headers and label text are read here; pixels are decoded when the arrays
    are computed.

    Examples
    --------
    >>> ds = read_labels("labelled/", label_map={"aurora": True, "arc": True, "cloud": False})
    ... # doctest: +SKIP
    >>> ds.mask.sum(("y", "x")).compute()  # aurora pixels per frame  # doctest: +SKIP
    """
    path = Path(source)
    if not path.exists():
        raise NoFilesFoundError(f"expected a label folder or file; found no {path}")
    if format == "auto":
        format = detect_format(path)
    if format not in FORMATS:
        raise OptionError(f"format must be 'auto' or one of {sorted(FORMATS)}; found {format!r}")
    if path.is_dir() and format in ("coco", "cvat"):
        found = _label_file(path, format)
        if found is None:
            raise NoFilesFoundError(f"expected one {format} label file at the top of {path}")
        path = found
    centre_offset(pixel_origin)  # checks the options early
    name_times([], time_pattern)
    root = Path(image_root) if image_root is not None else None
    if root is not None and not root.is_dir():
        raise NoFilesFoundError(f"expected an image_root folder; found no folder {root}")
    report = LabelReport(source=os.fspath(path), format=format)
    ctx = ScanContext(
        report=report,
        label_map=LabelMap(label_map),
        pixel_origin=pixel_origin,
        errors=errors,
        image_root=root,
    )
    records = keep_uniform(FORMATS[format](path, ctx), ctx)
    report.n_frames = len(records)
    report.n_label_files = len(ctx.label_files)
    if not records:
        raise NoFilesFoundError(f"no labelled frame found in {path}\n{report}")
    attrs = {
        "title": "aurora_xr labelled frames",
        "label_format": format,
        "label_source": os.fspath(path),
        "label_map": ctx.label_map.to_json(),
        "pixel_origin": pixel_origin,
        "rasterisation": RASTERISATION,
        "label_checksum": label_checksum(records, pixel_origin=pixel_origin),
        "aurora_xr_version": package_version(),
        REPORT_ATTR: report.to_json(),
    }
    ds = assemble(
        records,
        pixel_origin=pixel_origin,
        time_pattern=time_pattern,
        chunk_frames=chunk_frames,
        grey_band=grey_band,
        frame_dim=frame_dim,
        attrs=attrs,
    )
    if verbose:
        print(report)
    return ds
