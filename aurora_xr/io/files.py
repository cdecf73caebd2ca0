"""Files on disk: naming them (paths, folders, glob patterns) and writing them atomically.

Every file aurora_xr writes goes through :func:`atomic_output`: the data go to
a hidden temporary file in the destination folder (``.NAME.XXXX.tmp``), which
is flushed to disk and then renamed over the destination with
:func:`os.replace`. A run that is interrupted or fails leaves the old file (if
any) untouched and no partial output behind.
"""

from __future__ import annotations

import contextlib
import glob as globmod
import os
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from ..errors import NoFilesFoundError

__all__ = ["PathLike", "atomic_output", "resolve_paths"]

PathLike = str | os.PathLike[str]


def _has_magic(text: str) -> bool:
    return any(c in text for c in "*?[")


def resolve_paths(paths: PathLike | Sequence[PathLike], *, pattern: str = "*.nc") -> list[Path]:
    """Files named by a path, a glob pattern, a folder or a list of those.

    A folder stands for the files in it that match ``pattern`` (hidden files,
    such as the temporary files of an unfinished write, are left out). Glob
    patterns may use ``**`` to descend into sub-folders.

    Raises
    ------
    NoFilesFoundError
        If a path does not exist or nothing matches.
    """
    if isinstance(paths, str | os.PathLike):
        items: list[PathLike] = [paths]
    else:
        items = list(paths)
        if not items:
            raise NoFilesFoundError("expected at least one path; found an empty list")
    found: list[Path] = []
    for item in items:
        text = os.fspath(item)
        if _has_magic(text):
            matches = sorted(Path(p) for p in globmod.glob(text, recursive=True))
            matches = [p for p in matches if p.is_file() and not p.name.startswith(".")]
            if not matches:
                raise NoFilesFoundError(f"expected files matching {text!r}; found none")
            found.extend(matches)
        elif Path(text).is_dir():
            matches = sorted(
                p for p in Path(text).glob(pattern) if p.is_file() and not p.name.startswith(".")
            )
            if not matches:
                raise NoFilesFoundError(
                    f"expected {pattern} files in the folder {text!r}; found none"
                )
            found.extend(matches)
        elif Path(text).is_file():
            found.append(Path(text))
        else:
            raise NoFilesFoundError(f"expected an existing file or folder; found no {text!r}")
    unique: dict[Path, None] = dict.fromkeys(found)
    return list(unique)


_UMASK_LOCK = threading.Lock()
_UMASK: list[int] = []


def _umask() -> int:
    with _UMASK_LOCK:
        if not _UMASK:
            current = os.umask(0o022)
            os.umask(current)
            _UMASK.append(current)
        return _UMASK[0]


@contextlib.contextmanager
def atomic_output(path: PathLike) -> Iterator[Path]:
    """Write ``path`` atomically: yield a temporary path beside it, then rename.

    The caller writes the complete file to the yielded path. When the block
    ends normally the file is synced to disk and renamed over ``path``; when
    it raises (or is interrupted) the temporary file is removed, ``path`` is
    left as it was and the exception propagates. Missing parent folders are
    created.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> with atomic_output(out) as tmp:
    ...     _ = tmp.write_text("complete")
    >>> out.read_text()
    'complete'
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        mode = target.stat().st_mode & 0o7777 if target.exists() else 0o666 & ~_umask()
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
