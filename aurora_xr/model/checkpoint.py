"""Checkpoints without pickle: one safetensors file with JSON metadata in its header.

Format (``aurora_xr.checkpoint``, version 1)
-------------------------------------------
A standard `safetensors <https://huggingface.co/docs/safetensors>`_ file:

* tensors: the network's ``state_dict()`` (names as torchvision gives them);
* header ``__metadata__`` (string to string):

  - ``"format"``: ``"aurora_xr.checkpoint"``,
  - ``"format_version"``: ``"1"``,
  - ``"aurora_xr"``: a JSON object, :meth:`.CheckpointMetadata.to_dict` —
    architecture, num_outputs, aux, preprocessing (contrast ratio,
    normalisation, input size, lens circle), threshold, training-data
    checksum, split, metrics, aurora_xr version, creation time, extra.

Reading never unpickles anything: the file must start like a safetensors
file (an 8-byte little-endian header length followed by a JSON object), or it
is refused before any parsing. The SHA-256 of the whole file is the
checkpoint's checksum (:func:`file_checksum`).
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import CheckpointError, ModelError
from .build import ARCHITECTURES, build_model, get_architecture, guess_architecture
from .build import model_architecture as _model_architecture
from .metadata import CheckpointMetadata

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "Checkpoint",
    "file_checksum",
    "load_checkpoint",
    "model_from_checkpoint",
    "read_metadata",
    "read_tensors",
    "save_checkpoint",
    "save_tensors",
    "tensors_checksum",
]

FORMAT = "aurora_xr.checkpoint"
FORMAT_VERSION = 1
_MAX_HEADER = 100 * 1024 * 1024  # safetensors' own limit on the JSON header


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint read from disk: its tensors, metadata and checksum."""

    path: Path
    metadata: CheckpointMetadata
    state_dict: dict[str, torch.Tensor]
    checksum: str


# -- low level: safetensors with a JSON header -----------------------------------
def file_checksum(path: str | os.PathLike[str]) -> str:
    """SHA-256 (hex) of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def tensors_checksum(tensors: Mapping[str, torch.Tensor]) -> str:
    """SHA-256 (hex) of named tensors (a ``state_dict``): names and bytes, in name order."""
    digest = hashlib.sha256()
    for key, value in sorted(tensors.items()):
        digest.update(key.encode())
        digest.update(value.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def _describe_foreign(head: bytes) -> str:
    if head[:2] == b"PK":
        return "a zip archive (torch.save format, which holds pickled data)"
    if head[:1] == b"\x80":
        return "a pickle stream"
    return f"a file starting with {head[:8]!r}"


def _read_header(path: Path) -> tuple[dict[str, Any], int]:
    """The safetensors JSON header of ``path`` and its size, after safety checks."""
    if not path.exists():
        raise CheckpointError(f"checkpoint file not found: {path}")
    if not path.is_file():
        raise CheckpointError(f"checkpoint path is not a file: {path}")
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(9)
        if len(head) < 9:
            raise CheckpointError(f"{path} is not a safetensors checkpoint: only {size} bytes long")
        (n_header,) = struct.unpack("<Q", head[:8])
        if head[8:9] != b"{" or n_header > min(_MAX_HEADER, size - 8):
            raise CheckpointError(
                f"{path} is not a safetensors checkpoint: found {_describe_foreign(head)}. "
                "aurora_xr reads only safetensors checkpoints and never unpickles files."
            )
        fh.seek(8)
        raw = fh.read(n_header)
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path} is corrupt: its safetensors header is not JSON") from exc
    if not isinstance(header, dict):
        raise CheckpointError(f"{path} is corrupt: its safetensors header is not an object")
    data_size = 0
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            data_size = max(data_size, int(info["data_offsets"][1]))
        except (TypeError, KeyError, IndexError, ValueError) as exc:
            raise CheckpointError(f"{path} is corrupt: bad entry for tensor {name!r}") from exc
    if 8 + n_header + data_size != size:
        raise CheckpointError(
            f"{path} is truncated or corrupt: the header describes "
            f"{8 + n_header + data_size} bytes, the file has {size}"
        )
    return header, n_header


def save_tensors(
    tensors: Mapping[str, torch.Tensor],
    path: str | os.PathLike[str],
    metadata: Mapping[str, str],
) -> Path:
    """Write tensors and string metadata to a safetensors file, atomically."""
    from safetensors.torch import save_file

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    plain = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        save_file(plain, tmp, metadata=dict(metadata))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def read_tensors(
    path: str | os.PathLike[str], *, device: str | torch.device = "cpu"
) -> tuple[dict[str, torch.Tensor], dict[str, str], str]:
    """Tensors, string metadata and SHA-256 of a safetensors file (never unpickles).

    Raises
    ------
    CheckpointError
        Missing, foreign (pickle, zip), truncated or corrupt file.
    """
    from safetensors.torch import load as load_bytes

    file = Path(path)
    header, _ = _read_header(file)
    data = file.read_bytes()
    checksum = hashlib.sha256(data).hexdigest()
    try:
        tensors = load_bytes(data)
    except Exception as exc:
        raise CheckpointError(f"{file} is corrupt: {type(exc).__name__}: {exc}") from exc
    del data
    if str(device) != "cpu":
        tensors = {k: v.to(device) for k, v in tensors.items()}
    meta = header.get("__metadata__") or {}
    return tensors, {str(k): str(v) for k, v in meta.items()}, checksum


def _parse_metadata(meta: Mapping[str, str], path: Path) -> CheckpointMetadata:
    if meta.get("format") != FORMAT or "aurora_xr" not in meta:
        raise CheckpointError(
            f"{path} is a safetensors file but not an aurora_xr checkpoint "
            f"(expected metadata format={FORMAT!r}, found {meta.get('format')!r})"
        )
    try:
        version = int(meta.get("format_version", "0"))
    except ValueError:
        version = -1
    if not 1 <= version <= FORMAT_VERSION:
        raise CheckpointError(
            f"{path} has checkpoint format version {meta.get('format_version')!r}; this "
            f"aurora_xr reads versions 1..{FORMAT_VERSION} (upgrade aurora_xr)"
        )
    try:
        return CheckpointMetadata.from_dict(json.loads(meta["aurora_xr"]))
    except (json.JSONDecodeError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path} has unreadable aurora_xr metadata: {exc}") from exc


def read_metadata(path: str | os.PathLike[str]) -> CheckpointMetadata:
    """The metadata of a checkpoint, reading only its header (fast)."""
    file = Path(path)
    header, _ = _read_header(file)
    meta = header.get("__metadata__") or {}
    return _parse_metadata({str(k): str(v) for k, v in meta.items()}, file)


# -- public ------------------------------------------------------------------------
def save_checkpoint(
    model: nn.Module,
    path: str | os.PathLike[str],
    metadata: CheckpointMetadata | Mapping[str, Any] | None = None,
) -> Path:
    """Save ``model`` and its metadata to a safetensors checkpoint (no pickle).

    Parameters
    ----------
    model : torch.nn.Module
        A network from :func:`~aurora_xr.model.build_model`.
    path : path
        Where to write (conventionally ``*.safetensors``); written atomically.
    metadata : CheckpointMetadata or dict, optional
        Architecture, preprocessing, threshold, metrics, ... A dict is passed
        to :class:`.CheckpointMetadata`; ``architecture`` defaults to the one
        recorded on the model.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    CheckpointError
        If the metadata names another architecture than the model's.
    """
    if not isinstance(model, nn.Module):
        raise ModelError(f"expected a torch.nn.Module, found {type(model).__name__}")
    model_arch = _model_architecture(model)
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, CheckpointMetadata):
        fields = dict(metadata)
        fields.setdefault("architecture", model_arch)
        if fields["architecture"] is None:
            raise CheckpointError(
                "cannot tell the model's architecture; pass metadata={'architecture': ...} "
                f"(one of {sorted(ARCHITECTURES)})"
            )
        metadata = CheckpointMetadata.from_dict(fields)
    if model_arch is not None and model_arch != metadata.architecture:
        raise CheckpointError(
            f"the metadata names architecture {metadata.architecture}, "
            f"but the model is {model_arch}"
        )
    header = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "aurora_xr": json.dumps(metadata.to_dict(), sort_keys=True),
    }
    return save_tensors(model.state_dict(), path, header)


def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint` (tensors on the CPU).

    Raises
    ------
    CheckpointError
        Missing file, not a safetensors file (e.g. a pickle; never executed),
        truncated or corrupt file, or no aurora_xr metadata.
    """
    file = Path(path)
    tensors, meta, checksum = read_tensors(file)
    metadata = _parse_metadata(meta, file)
    return Checkpoint(path=file, metadata=metadata, state_dict=tensors, checksum=checksum)


def model_from_checkpoint(checkpoint: Checkpoint, *, arch: str | None = None) -> nn.Module:
    """Build the network of ``checkpoint`` and load its weights (eval mode, CPU).

    Parameters
    ----------
    checkpoint : Checkpoint
        From :func:`load_checkpoint`.
    arch : str, optional
        The architecture the caller expects; another one is an error.

    Raises
    ------
    CheckpointError
        If the checkpoint is of another architecture than ``arch``, or its
        tensors do not fit the architecture its metadata names.
    """
    meta = checkpoint.metadata
    if arch is not None and arch != meta.architecture:
        get_architecture(arch)
        raise CheckpointError(
            f"{checkpoint.path} holds a {meta.architecture} checkpoint, "
            f"but architecture {arch} was asked for"
        )
    guessed = guess_architecture(checkpoint.state_dict)
    if guessed is not None and guessed != meta.architecture:
        raise CheckpointError(
            f"{checkpoint.path} says architecture {meta.architecture}, "
            f"but its tensors are those of {guessed}"
        )
    model = build_model(meta.architecture, num_outputs=meta.num_outputs, aux=meta.aux)
    try:
        model.load_state_dict(checkpoint.state_dict, strict=True)
    except RuntimeError as exc:
        raise CheckpointError(
            f"the tensors of {checkpoint.path} do not fit architecture {meta.architecture} "
            f"with {meta.num_outputs} outputs: {str(exc)[:500]}"
        ) from exc
    model.eval()
    return model
