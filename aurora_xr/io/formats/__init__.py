"""Camera file formats: a plug-in registry of readers, one module per format.

:func:`read_file` reads any supported camera file into a :class:`FrameFile` (frames as the
camera wrote them, per-frame times and metadata, bad frames with reasons);
:func:`read_file_header` gives frame count, size, dtype and times from the headers only;
:func:`identify` names the format of a file from its first bytes and its extension.

Built-in formats (see ``docs/formats.md`` for what each takes from the header):

* ``jpeg``, ``png``, ``tiff``: JPEG (8-bit colour or grey), PNG (also 16-bit grey), TIFF
  (8/16-bit grey or RGB, one frame per page), through Pillow (:mod:`.pillow_images`);
* ``pnm``: PGM/PPM, several images per file, gzipped or not (THEMIS ASI, TREx, Rainbow)
  (:mod:`.pnm_images`);
* ``fits``: FITS through astropy (Poker Flat DASC, Oculus, ...) (:mod:`.fits_images`);
* ``themis_cdf``: the Berkeley THEMIS ASI CDF files ``thg_l1_asf``/``thg_l1_ast``, through
  cdflib (:mod:`.themis_cdf`);
* ``kho_img``: the KHO KeoSentry ``$Spextube`` raw ``.img`` (:mod:`.kho_img`).

Third parties add formats with :func:`register_format` or the ``aurora_xr.formats`` entry-point
group (see :mod:`.registry`).
"""

from __future__ import annotations

# importing the format modules registers the built-in formats
from . import fits_images, kho_img, pillow_images, pnm_images, themis_cdf  # noqa: F401
from .conventions import band_name, metadata_key, utc_offset_ns
from .registry import (
    ENTRY_POINT_GROUP,
    AmbiguousFormatError,
    CameraFormat,
    UnknownFormatError,
    available_formats,
    get_format,
    gunzip_prefix,
    identify,
    load_entry_points,
    read_file,
    read_file_header,
    register_format,
    unregister_format,
)
from .results import FileHeader, FrameError, FrameFile

__all__ = [
    "ENTRY_POINT_GROUP",
    "AmbiguousFormatError",
    "CameraFormat",
    "FileHeader",
    "FrameError",
    "FrameFile",
    "UnknownFormatError",
    "available_formats",
    "band_name",
    "get_format",
    "gunzip_prefix",
    "identify",
    "load_entry_points",
    "metadata_key",
    "read_file",
    "read_file_header",
    "register_format",
    "unregister_format",
    "utc_offset_ns",
]
