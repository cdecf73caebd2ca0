"""The registry of the shipped models: file name and SHA-256 of each (no torch).

A shipped model is one safetensors checkpoint in this folder (package data),
registered here by the SHA-256 of the whole file. :func:`pretrained_path`
finds a registered file and checks it before anything reads it: a missing
file is a :class:`~aurora_xr.errors.WeightsNotFoundError`, a file whose
checksum differs (damaged, truncated, or replaced) a
:class:`~aurora_xr.errors.CheckpointError`; both name the file. Nothing is
ever downloaded.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import CheckpointError, OptionError, WeightsNotFoundError

__all__ = ["REGISTRY", "PretrainedEntry", "file_sha256", "pretrained_path"]

FOLDER = Path(__file__).resolve().parent
"""Where the package keeps its shipped checkpoints."""


@dataclass(frozen=True)
class PretrainedEntry:
    """A shipped model.

    Attributes
    ----------
    name : str
        Its name (``aurora_xr.pretrained(name)``).
    filename : str
        The checkpoint file in this package's folder.
    sha256 : str
        SHA-256 (hex) of the whole file.
    architecture : str
        The network (a name of :data:`aurora_xr.model.ARCHITECTURES`).
    summary : str
        What it is, in one line.
    """

    name: str
    filename: str
    sha256: str
    architecture: str
    summary: str


REGISTRY: dict[str, PretrainedEntry] = {
    "reference": PretrainedEntry(
        name="reference",
        filename="reference.safetensors",
        sha256="0bada9c3441dd572d519a8598baa63b1c60099dd0121f1c05e7ed1288d564e0e",
        architecture="lraspp_mobilenet_v3_large",
        summary=(
            "LR-ASPP MobileNetV3-Large (3.2 M parameters, float16) trained from scratch on the "
            "randomised synthetic sky and the default sky (scripts/train_reference.py)"
        ),
    ),
}
"""The shipped models by name."""

_VERIFIED: dict[tuple[str, int, int], str] = {}


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 (hex) of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _entry(name: str) -> PretrainedEntry:
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):
        raise OptionError(
            f"unknown pretrained model {name!r}; the package ships {sorted(REGISTRY)}"
        ) from None


def pretrained_path(
    name: str = "reference", *, directory: str | os.PathLike[str] | None = None
) -> Path:
    """The checked checkpoint file of the shipped model ``name``.

    Parameters
    ----------
    name : str
        A name in :data:`REGISTRY`.
    directory : path, optional
        Where to look for the file (default: this package's folder); the
        file must still have the registered SHA-256.

    Returns
    -------
    pathlib.Path
        The file, whose SHA-256 matches the registry (checked once per
        process, file size and modification time, afterwards).

    Raises
    ------
    OptionError
        For a name that is not registered.
    WeightsNotFoundError
        When the file is missing (a broken installation).
    CheckpointError
        When its SHA-256 is not the registered one.
    """
    entry = _entry(name)
    folder = FOLDER if directory is None else Path(directory).expanduser().resolve()
    path = folder / entry.filename
    if not path.is_file():
        raise WeightsNotFoundError(
            f"the shipped model {name!r} is missing: expected the file {path} (package data of "
            "aurora_xr; reinstall aurora_xr, or retrain it with scripts/train_reference.py)"
        )
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    found = _VERIFIED.get(key) or file_sha256(path)
    if found != entry.sha256:
        raise CheckpointError(
            f"the file {path} of the shipped model {name!r} has SHA-256 {found}, expected "
            f"{entry.sha256}: it is damaged or was replaced; reinstall aurora_xr"
        )
    _VERIFIED[key] = found
    return path
