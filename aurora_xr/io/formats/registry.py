"""The registry of camera file formats: sniffing, choosing a reader, third-party formats.

A camera format is one object (usually an instance of a :class:`CameraFormat` subclass) with

* ``name``, ``description`` and ``extensions`` (lower case, with the dot: ``(".pgm", ".pgm.gz")``);
* ``accept(prefix, path) -> bool``: a cheap test on the first :data:`PREFIX_BYTES` bytes of the
  file (magic numbers; :func:`gunzip_prefix` looks inside gzip);
* ``read(path, **options) -> FrameFile`` and ``read_header(path, **options) -> FileHeader``;
* ``options``: the names of the keyword options ``read`` takes (e.g. ``("utc_offset",)``).

The built-in formats register when :mod:`aurora_xr.io.formats` is imported. Third parties add a
format with :func:`register_format` (also a class decorator) or, without any import by the user,
through the ``aurora_xr.formats`` entry-point group of their package's metadata::

    [project.entry-points."aurora_xr.formats"]
    my_camera = "my_package.my_module:MyCameraFormat"

Entry points are loaded lazily, on the first look-up. :func:`identify` picks the format of a
file from its content and its extension, as astropy's ``io.registry`` and Pillow's
``register_open`` do; :func:`read_file` and :func:`read_file_header` read it.
"""

from __future__ import annotations

import os
import warnings
import zlib
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from ...errors import AuroraXrError, AuroraXrWarning, ImageFileError, OptionError
from .results import FileHeader, FrameFile

__all__ = [
    "ENTRY_POINT_GROUP",
    "PREFIX_BYTES",
    "AmbiguousFormatError",
    "CameraFormat",
    "UnknownFormatError",
    "available_formats",
    "get_format",
    "gunzip_prefix",
    "identify",
    "load_entry_points",
    "read_file",
    "read_file_header",
    "register_format",
    "unregister_format",
]

ENTRY_POINT_GROUP = "aurora_xr.formats"
PREFIX_BYTES = 4096
"""How many bytes of a file :func:`identify` hands to each format's ``accept``."""

PathLike = str | os.PathLike[str]


class UnknownFormatError(ImageFileError):
    """No registered camera format accepts a file."""


class AmbiguousFormatError(ImageFileError):
    """Several registered camera formats accept a file; pass ``format=`` to choose."""


class CameraFormat:
    """Base class of a camera file format (subclass it, then :func:`register_format`).

    Subclasses set the class attributes and implement :meth:`accept` and :meth:`read`;
    :meth:`read_header` falls back to reading the whole file.

    Attributes
    ----------
    name : str
        Unique name, e.g. ``"pnm"``.
    description : str
        One line for listings and error messages.
    extensions : tuple of str
        File-name endings, lower case with the dot (``".fits"``, ``".pgm.gz"``).
    options : tuple of str
        Names of the keyword options :meth:`read` and :meth:`read_header` take.
    """

    name: str = ""
    description: str = ""
    extensions: tuple[str, ...] = ()
    options: tuple[str, ...] = ()

    def accept(self, prefix: bytes, path: Path) -> bool:
        """Whether ``prefix`` (the first bytes of the file at ``path``) is this format."""
        raise NotImplementedError

    def read(self, path: Path, **options: Any) -> FrameFile:
        """Read every good frame of ``path``; raise :class:`ImageFileError` if there is none."""
        raise NotImplementedError

    def read_header(self, path: Path, **options: Any) -> FileHeader:
        """Frame count, size, dtype and times of ``path`` (this default reads the whole file)."""
        return self.read(path, **options).header()

    def matches_extension(self, path: Path) -> bool:
        """Whether the file name ends with one of :attr:`extensions` (case ignored)."""
        return Path(path).name.lower().endswith(tuple(self.extensions))

    def __repr__(self) -> str:
        return f"<camera format {self.name!r}: {self.description}>"


_FORMATS: dict[str, CameraFormat] = {}
_ENTRY_POINTS_LOADED = False


def _check_format(fmt: Any) -> None:
    name = getattr(fmt, "name", None)
    if not isinstance(name, str) or not name:
        raise OptionError(f"a camera format needs a non-empty string 'name'; found {name!r}")
    for attr in ("accept", "read", "read_header"):
        if not callable(getattr(fmt, attr, None)):
            raise OptionError(f"camera format {name!r} has no callable {attr!r}")
    extensions = getattr(fmt, "extensions", None)
    if not isinstance(extensions, tuple | list) or not all(
        isinstance(e, str) and e.startswith(".") and e == e.lower() for e in extensions
    ):
        raise OptionError(
            f"camera format {name!r}: 'extensions' must be lower-case strings starting with "
            f"'.'; found {extensions!r}"
        )
    if not isinstance(getattr(fmt, "options", ()), tuple | list):
        raise OptionError(f"camera format {name!r}: 'options' must be a tuple of option names")


def register_format(fmt: Any, *, replace: bool = False) -> Any:
    """Register a camera format (an instance, or a class that is instantiated without arguments).

    Usable as a class decorator. Returns its argument.

    Parameters
    ----------
    fmt : CameraFormat or type
        The format (see the module docstring for what it must provide).
    replace : bool
        Replace a registered format of the same name instead of refusing.

    Raises
    ------
    OptionError
        When the format lacks a name, ``accept``, ``read`` or ``read_header``, or its name is
        taken and ``replace`` is false.

    Examples
    --------
    >>> from aurora_xr.io.formats import CameraFormat, register_format, unregister_format
    >>> @register_format
    ... class Dummy(CameraFormat):
    ...     name, description, extensions = "dummy", "an example", (".dummy",)
    ...     def accept(self, prefix, path):
    ...         return prefix.startswith(b"DUMMY")
    >>> unregister_format("dummy").name
    'dummy'
    """
    instance = fmt() if isinstance(fmt, type) else fmt
    _check_format(instance)
    if instance.name in _FORMATS and not replace and _FORMATS[instance.name] is not instance:
        raise OptionError(
            f"a camera format named {instance.name!r} is already registered "
            f"({_FORMATS[instance.name]!r}); pass replace=True to replace it"
        )
    _FORMATS[instance.name] = instance
    return fmt


def unregister_format(name: str) -> CameraFormat:
    """Remove the format ``name`` from the registry and return it."""
    try:
        return _FORMATS.pop(name)
    except KeyError:
        raise OptionError(
            f"no camera format named {name!r}; registered: {', '.join(_FORMATS) or 'none'}"
        ) from None


def load_entry_points() -> list[str]:
    """Register the formats of the ``aurora_xr.formats`` entry-point group not registered yet.

    Called once, lazily, by the look-up functions; call it again after installing a package.
    A broken entry point is skipped with an :class:`~aurora_xr.errors.AuroraXrWarning`.

    Returns
    -------
    list of str
        Names of the formats newly registered.
    """
    global _ENTRY_POINTS_LOADED
    _ENTRY_POINTS_LOADED = True
    added: list[str] = []
    for entry in importlib_metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = entry.load()
            fmt = loaded() if isinstance(loaded, type) else loaded
            _check_format(fmt)
        except Exception as exc:
            warnings.warn(
                f"camera format entry point {entry.name!r} ({entry.value}) cannot be loaded: "
                f"{type(exc).__name__}: {exc}",
                AuroraXrWarning,
                stacklevel=2,
            )
            continue
        if fmt.name in _FORMATS:
            if type(_FORMATS[fmt.name]) is not type(fmt):
                warnings.warn(
                    f"camera format entry point {entry.name!r} ({entry.value}) is named "
                    f"{fmt.name!r}, which is already registered; it is ignored",
                    AuroraXrWarning,
                    stacklevel=2,
                )
            continue
        _FORMATS[fmt.name] = fmt
        added.append(fmt.name)
    return added


def available_formats() -> list[CameraFormat]:
    """The registered formats, in registration order (built-in ones first)."""
    if not _ENTRY_POINTS_LOADED:
        load_entry_points()
    return list(_FORMATS.values())


def _listing() -> str:
    return "; ".join(f"{f.name} ({' '.join(f.extensions)})" for f in available_formats())


def get_format(name: str | CameraFormat) -> CameraFormat:
    """The registered format called ``name`` (a format object is returned as it is)."""
    if not isinstance(name, str):
        return name
    formats = {f.name: f for f in available_formats()}
    if name not in formats:
        raise OptionError(f"unknown camera format {name!r}; registered formats: {_listing()}")
    return formats[name]


def gunzip_prefix(prefix: bytes) -> bytes:
    """The start of the decompressed content when ``prefix`` starts a gzip file, else ``prefix``."""
    if not prefix.startswith(b"\x1f\x8b"):
        return prefix
    try:
        return zlib.decompressobj(wbits=31).decompress(prefix)
    except zlib.error:
        return b""


def _read_prefix(path: Path) -> bytes:
    try:
        with open(path, "rb") as handle:
            prefix = handle.read(PREFIX_BYTES)
    except OSError as exc:
        raise ImageFileError(f"cannot be read: {exc.strerror or exc}") from exc
    if not prefix:
        raise ImageFileError("empty file (0 bytes)")
    return prefix


def _accepts(fmt: CameraFormat, prefix: bytes, path: Path) -> bool:
    try:
        return bool(fmt.accept(prefix, path))
    except Exception:  # a sniffing test that fails says "not mine"
        return False


def identify(path: PathLike) -> CameraFormat:
    """The registered format of the file at ``path``, from its first bytes and its extension.

    Every format's ``accept`` sees the first :data:`PREFIX_BYTES` bytes. When several accept,
    those whose extensions match the file name are preferred; if that leaves more than one,
    the file is ambiguous.

    Raises
    ------
    UnknownFormatError
        When no format accepts the file (empty, unreadable, or of an unknown format).
    AmbiguousFormatError
        When several formats accept it (the message names them; pass ``format=``).

    Examples
    --------
    >>> import gzip, pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "frame.dat").write_bytes(b"P5\\n2 1\\n255\\n\\x00\\xff")
    >>> identify(folder / "frame.dat").name
    'pnm'
    """
    path = Path(path)
    try:
        prefix = _read_prefix(path)
    except ImageFileError as exc:
        raise UnknownFormatError(str(exc)) from exc
    formats = available_formats()
    accepted = [f for f in formats if _accepts(f, prefix, path)]
    if len(accepted) > 1:
        by_name = [f for f in accepted if f.matches_extension(path)]
        accepted = by_name or accepted
    if len(accepted) == 1:
        return accepted[0]
    if accepted:
        names = ", ".join(repr(f.name) for f in accepted)
        raise AmbiguousFormatError(
            f"several camera formats accept {path.name}: {names}; pass format=NAME to choose"
        )
    named = [f.name for f in formats if f.matches_extension(path)]
    start = gunzip_prefix(prefix)[:16]
    if named:
        raise UnknownFormatError(
            f"named like a {' or '.join(named)} file, but its content does not match "
            f"(first bytes {start!r}); corrupt or another format"
        )
    raise UnknownFormatError(
        f"no registered camera format accepts {path.name} (first bytes {start!r}); "
        f"registered formats: {_listing()}"
    )


def _check_options(fmt: CameraFormat, options: dict[str, Any]) -> None:
    unknown = sorted(set(options) - set(fmt.options))
    if unknown:
        takes = ", ".join(fmt.options) if fmt.options else "no options"
        raise OptionError(f"camera format {fmt.name!r} takes {takes}; found {', '.join(unknown)}")


def _choose(path: Path, format: str | CameraFormat | None) -> CameraFormat:
    return identify(path) if format is None else get_format(format)


def _guarded(fmt: CameraFormat, call: Any, path: Path, options: dict[str, Any]) -> Any:
    """Run a reader; any failure other than an aurora_xr error becomes an ImageFileError."""
    try:
        return call(path, **options)
    except AuroraXrError:
        raise
    except OSError as exc:
        raise ImageFileError(f"cannot be read: {exc.strerror or exc}") from exc
    except Exception as exc:
        raise ImageFileError(
            f"the {fmt.name!r} reader failed: {type(exc).__name__}: {exc}"
        ) from exc


def read_file(
    path: PathLike, *, format: str | CameraFormat | None = None, **options: Any
) -> FrameFile:
    """Read the frames of one camera file, whatever its format.

    Parameters
    ----------
    path : str or path-like
        The file.
    format : str or CameraFormat, optional
        The format to use; by default :func:`identify` picks it.
    **options
        Options of that format (e.g. ``utc_offset="-05:00"`` for FITS); an option the format
        does not take is an :class:`~aurora_xr.errors.OptionError`.

    Returns
    -------
    FrameFile
        The good frames, their times and metadata, and the bad frames with reasons.

    Raises
    ------
    ImageFileError
        When the file cannot be read at all (no format, no good frame, unreadable).
    """
    path = Path(path)
    fmt = _choose(path, format)
    _check_options(fmt, options)
    result = _guarded(fmt, fmt.read, path, options)
    if not isinstance(result, FrameFile):
        raise ImageFileError(
            f"the {fmt.name!r} reader returned {type(result).__name__}, not a FrameFile"
        )
    return result


def read_file_header(
    path: PathLike, *, format: str | CameraFormat | None = None, **options: Any
) -> FileHeader:
    """Frame count, frame size, dtype, channels and times of a file, from its headers only.

    Parameters and errors are those of :func:`read_file`.
    """
    path = Path(path)
    fmt = _choose(path, format)
    _check_options(fmt, options)
    result = _guarded(fmt, fmt.read_header, path, options)
    if not isinstance(result, FileHeader):
        raise ImageFileError(
            f"the {fmt.name!r} header reader returned {type(result).__name__}, not a FileHeader"
        )
    return result
