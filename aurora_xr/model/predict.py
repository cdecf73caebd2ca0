"""Numpy-in, numpy-out aurora predictors, loaded lazily once per process.

A :class:`Predictor` made from a checkpoint carries only its path, checksum
and options when pickled (a few hundred bytes). The first call in a process
loads the network into a module-level cache keyed by (checkpoint path,
checksum, device, precision); later calls, and other predictors on the same
checkpoint, reuse it. So dask workers load the model once and tasks never
ship weights.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from ..errors import CheckpointError, FrameSizeError, ModelError, OptionError
from ..sky.lens import Calibration
from .build import model_architecture
from .checkpoint import (
    CheckpointMetadata,
    file_checksum,
    load_checkpoint,
    model_from_checkpoint,
    read_metadata,
)
from .preprocess import (
    Preprocessing,
    lens_mask_from_calibration,
    lens_mask_from_circle,
    postprocess_probabilities,
    preprocess_frames,
)
from .tta import averaged_probabilities, check_tta

__all__ = [
    "PRECISIONS",
    "LoadedModel",
    "Predictor",
    "clear_model_cache",
    "load_model",
    "native_bf16",
    "resolve_device",
    "resolve_precision",
]

PRECISIONS = ("fp32", "bf16", "fp16")
_AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` becomes CUDA when available, else the CPU; others are checked.

    Raises
    ------
    OptionError
        For an unknown device or CUDA asked for without a GPU.
    """
    if isinstance(device, torch.device):
        resolved = device
    elif device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        try:
            resolved = torch.device(device)
        except (RuntimeError, TypeError) as exc:
            raise OptionError(
                f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', found {device!r}"
            ) from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise OptionError(f"device {str(resolved)!r} was asked for, but CUDA is not available")
    return resolved


def native_bf16(device: torch.device) -> bool:
    """Whether ``device`` computes bfloat16 natively (so bf16 autocast is fast there).

    A CUDA GPU that supports bf16, or a CPU with AVX512-BF16 or AMX tiles.
    """
    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    if device.type != "cpu":
        return False
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)


def resolve_precision(precision: str, device: torch.device) -> str:
    """``"auto"`` becomes ``"bf16"`` where ``device`` computes it natively, else ``"fp32"``.

    Other values are checked: one of :data:`PRECISIONS`, and ``"fp16"`` only
    on CUDA.

    Raises
    ------
    OptionError
        For an unknown precision or fp16 off CUDA.
    """
    if _known_precision(precision) == "auto":
        return "bf16" if native_bf16(device) else "fp32"
    if precision == "fp16" and device.type != "cuda":
        raise OptionError(
            f"precision 'fp16' needs a CUDA device, found {device}; use 'fp32' or 'bf16'"
        )
    return precision


def _known_precision(precision: str) -> str:
    """``precision`` itself if it is ``"auto"`` or one of :data:`PRECISIONS`."""
    if precision != "auto" and precision not in PRECISIONS:
        raise OptionError(f"precision must be 'auto' or one of {PRECISIONS}, found {precision!r}")
    return precision


def _autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager[Any]:
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=_AUTOCAST_DTYPES[precision])


# -- the per-process cache ------------------------------------------------------------
@dataclass
class _Network:
    module: nn.Module
    metadata: CheckpointMetadata
    device: torch.device
    precision: str
    lock: threading.Lock


_CacheKey = tuple[str, str, str, str]
_CACHE: dict[_CacheKey, _Network] = {}
_CACHE_LOCK = threading.Lock()
LOAD_COUNT = {"n": 0}
"""How many networks this process has loaded from checkpoints (for tests)."""


def clear_model_cache() -> None:
    """Forget every network loaded in this process."""
    with _CACHE_LOCK:
        _CACHE.clear()


def _cache_key(path: Path, checksum: str, device: torch.device, precision: str) -> _CacheKey:
    return (str(path), checksum, str(device), precision)


def _load_network(path: Path, checksum: str, device: torch.device, precision: str) -> _Network:
    key = _cache_key(path, checksum, device, precision)
    with _CACHE_LOCK:
        net = _CACHE.get(key)
        if net is not None:
            return net
        ckpt = load_checkpoint(path)
        if ckpt.checksum != checksum:
            raise CheckpointError(
                f"{path} changed since the predictor was made (sha256 {ckpt.checksum[:12]}..., "
                f"expected {checksum[:12]}...); make a new predictor"
            )
        module = model_from_checkpoint(ckpt).to(device)
        net = _Network(module, ckpt.metadata, device, precision, threading.Lock())
        _CACHE[key] = net
        LOAD_COUNT["n"] += 1
        return net


# -- the predictor -------------------------------------------------------------------
class Predictor:
    """A picklable callable: ``(n, H, W, 3)`` frames to ``(n, H, W)`` aurora probabilities.

    Parameters
    ----------
    checkpoint : path
        An aurora_xr checkpoint (safetensors). Only its header is read here;
        the network is loaded lazily, once per process, on the first call.
    device : str
        ``"auto"`` (CUDA when available in the calling process, else CPU),
        ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    precision : {"fp32", "bf16", "fp16", "auto"}
        ``bf16``/``fp16`` run under autocast; ``fp16`` needs CUDA, ``bf16``
        also works on CPUs. ``"auto"`` is resolved in the process that loads
        the network: bf16 where that device computes it natively (a GPU with
        bf16, a CPU with AVX512-BF16 or AMX), else fp32. Probabilities are
        always returned as float32.
    batch_size : int
        Frames per forward pass.
    num_threads : int, optional
        ``torch.set_num_threads`` in the process that loads the network
        (a process-wide setting).
    threshold : float, optional
        Probability at or above which a pixel is aurora; defaults to the
        checkpoint's (0.5).
    calibration : Calibration, optional
        Camera calibration giving the lens circle (scaled to the frame size).
    lens_mask : (H, W) bool ndarray, optional
        Explicit lens mask (True inside); it travels when pickled.
    checksum : str, optional
        The checkpoint's SHA-256 if already known (skips hashing the file).
    tta : {"none", "flip", "dihedral"}
        Test-time augmentation: average the probabilities of the frame and its
        mirror image (2 passes) or of their four quarter turns (8 passes);
        see :mod:`aurora_xr.model.tta`.

    Notes
    -----
    The lens mask used for a call is the first of: the call's ``lens_mask``,
    the predictor's ``lens_mask``, its ``calibration``, the checkpoint's
    recorded lens circle; without any, nothing is masked. Outside the lens
    circle the probability is 0.
    """

    def __init__(
        self,
        checkpoint: str | os.PathLike[str],
        *,
        device: str = "auto",
        precision: str = "fp32",
        batch_size: int = 8,
        num_threads: int | None = None,
        threshold: float | None = None,
        calibration: Calibration | None = None,
        lens_mask: np.ndarray | None = None,
        checksum: str | None = None,
        tta: str = "none",
    ) -> None:
        path = Path(checkpoint).expanduser().resolve()
        metadata = read_metadata(path)
        self._init(
            path=path,
            checksum=checksum if checksum is not None else file_checksum(path),
            metadata=metadata,
            device=device,
            precision=precision,
            batch_size=batch_size,
            num_threads=num_threads,
            threshold=metadata.threshold if threshold is None else threshold,
            calibration=calibration,
            lens_mask=lens_mask,
            tta=tta,
        )

    def _init(
        self,
        *,
        path: Path | None,
        checksum: str,
        metadata: CheckpointMetadata,
        device: str,
        precision: str,
        batch_size: int,
        num_threads: int | None,
        threshold: float,
        calibration: Calibration | None,
        lens_mask: np.ndarray | None,
        tta: str = "none",
    ) -> None:
        _known_precision(precision)
        check_tta(tta)
        if device != "auto":  # else checked where the device is known
            resolve_precision(precision, resolve_device(device))
        if not isinstance(batch_size, int | np.integer) or batch_size < 1:
            raise OptionError(f"batch_size must be an int >= 1, found {batch_size!r}")
        if num_threads is not None and (not isinstance(num_threads, int) or num_threads < 1):
            raise OptionError(f"num_threads must be an int >= 1 or None, found {num_threads!r}")
        if not 0.0 <= float(threshold) <= 1.0:
            raise OptionError(f"threshold must lie in [0, 1], found {threshold}")
        if calibration is not None and not isinstance(calibration, Calibration):
            raise OptionError(
                f"calibration must be an aurora_xr Calibration, found {type(calibration).__name__}"
            )
        self._path = path
        self._checksum = checksum
        self._metadata = metadata
        self.device = str(device)
        self.precision = precision
        self.batch_size = int(batch_size)
        self.num_threads = num_threads
        self.threshold = float(threshold)
        self.calibration = calibration
        self.lens_mask = None if lens_mask is None else np.asarray(lens_mask, dtype=bool)
        self.tta = tta
        self._network: _Network | None = None
        self._token = uuid.uuid4().hex
        self._lens_cache: dict[tuple[int, int], NDArray[np.bool_] | None] = {}

    @classmethod
    def from_model(
        cls,
        model: nn.Module,
        *,
        metadata: CheckpointMetadata | None = None,
        preprocessing: Preprocessing | None = None,
        device: str = "cpu",
        precision: str = "fp32",
        batch_size: int = 8,
        threshold: float | None = None,
        calibration: Calibration | None = None,
        lens_mask: np.ndarray | None = None,
        tta: str = "none",
    ) -> Predictor:
        """A predictor holding an in-memory network; writes nothing.

        It works in this process (and dask's threaded scheduler) but cannot
        be pickled: for worker processes, :func:`save_checkpoint` and use
        ``load_model(path).predictor()``.
        """
        if not isinstance(model, nn.Module):
            raise ModelError(f"expected a torch.nn.Module, found {type(model).__name__}")
        if metadata is None:
            arch = model_architecture(model)
            if arch is None:
                raise ModelError("cannot tell the model's architecture; pass metadata=")
            metadata = CheckpointMetadata(
                architecture=arch, preprocessing=preprocessing or Preprocessing()
            )
        elif preprocessing is not None:
            metadata = metadata.replace(preprocessing=preprocessing)
        self = cls.__new__(cls)
        self._init(
            path=None,
            checksum="",
            metadata=metadata,
            device=device,
            precision=precision,
            batch_size=batch_size,
            num_threads=None,
            threshold=metadata.threshold if threshold is None else threshold,
            calibration=calibration,
            lens_mask=lens_mask,
            tta=tta,
        )
        dev = resolve_device(device)
        self._network = _Network(
            model.to(dev).eval(), metadata, dev, resolve_precision(precision, dev), threading.Lock()
        )
        return self

    # -- small public state ----------------------------------------------------
    @property
    def name(self) -> str:
        """Architecture of the network."""
        return self._metadata.architecture

    @property
    def checksum(self) -> str:
        """SHA-256 of the checkpoint file (of the tensors for in-memory predictors)."""
        if not self._checksum and self._network is not None:
            digest = hashlib.sha256()
            for key, value in sorted(self._network.module.state_dict().items()):
                digest.update(key.encode())
                digest.update(value.detach().cpu().contiguous().numpy().tobytes())
            self._checksum = "tensors:" + digest.hexdigest()
        return self._checksum

    @property
    def path(self) -> Path | None:
        """The checkpoint file (None for in-memory predictors)."""
        return self._path

    @property
    def metadata(self) -> CheckpointMetadata:
        """The checkpoint's metadata."""
        return self._metadata

    @property
    def preprocessing(self) -> Preprocessing:
        """The preprocessing applied to frames."""
        return self._metadata.preprocessing

    def __repr__(self) -> str:
        where = str(self._path) if self._path is not None else "in memory"
        return (
            f"Predictor({self.name}, {where}, device={self.device!r}, "
            f"precision={self.precision!r}, batch_size={self.batch_size}, "
            f"threshold={self.threshold}"
            + ("" if self.tta == "none" else f", tta={self.tta!r}")
            + ")"
        )

    # -- pickling: small state only ------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        if self._path is None:
            raise ModelError(
                "a predictor made with Predictor.from_model holds its network in memory and "
                "cannot be pickled; save_checkpoint(model, path) and use "
                "load_model(path).predictor() for worker processes"
            )
        return {
            "path": str(self._path),
            "checksum": self._checksum,
            # the metadata without metrics and extras, to keep the pickle small
            "metadata": self._metadata.replace(metrics={}, extra={}).to_dict(),
            "device": self.device,
            "precision": self.precision,
            "batch_size": self.batch_size,
            "num_threads": self.num_threads,
            "threshold": self.threshold,
            "calibration": self.calibration,
            "lens_mask": self.lens_mask,
            "tta": self.tta,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._init(
            path=Path(state["path"]),
            checksum=state["checksum"],
            metadata=CheckpointMetadata.from_dict(state["metadata"]),
            device=state["device"],
            precision=state["precision"],
            batch_size=state["batch_size"],
            num_threads=state["num_threads"],
            threshold=state["threshold"],
            calibration=state["calibration"],
            lens_mask=state["lens_mask"],
            tta=state.get("tta", "none"),
        )

    def with_tta(self, tta: str) -> Predictor:
        """This predictor with another test-time augmentation; the loaded network is shared."""
        if check_tta(tta) == self.tta:
            return self
        other = copy.copy(self)
        other.tta = tta
        return other

    def __dask_tokenize__(self) -> tuple[Any, ...]:
        if self._path is None:
            return ("aurora_xr.Predictor.from_model", self._token, self.tta)
        mask = (
            None if self.lens_mask is None else hashlib.sha256(self.lens_mask.tobytes()).hexdigest()
        )
        return (
            "aurora_xr.Predictor",
            str(self._path),
            self._checksum,
            self.device,
            self.precision,
            self.batch_size,
            self.threshold,
            repr(self.calibration),
            mask,
            self.tta,
        )

    # -- the work ---------------------------------------------------------------
    def _get_network(self) -> _Network:
        if self._network is not None:
            return self._network
        assert self._path is not None
        device = resolve_device(self.device)
        precision = resolve_precision(self.precision, device)
        if self.num_threads is not None:
            torch.set_num_threads(self.num_threads)
        self._network = _load_network(self._path, self._checksum, device, precision)
        return self._network

    def load(self) -> Predictor:
        """Load the network now (it is otherwise loaded on the first call)."""
        self._get_network()
        return self

    def _lens_for(self, height: int, width: int) -> NDArray[np.bool_] | None:
        if self.lens_mask is not None:
            if self.lens_mask.shape != (height, width):
                raise FrameSizeError(
                    f"the predictor's lens mask has shape {self.lens_mask.shape}, "
                    f"the frames are {(height, width)}"
                )
            return self.lens_mask
        key = (height, width)
        if key not in self._lens_cache:
            circle = self.preprocessing.lens_circle
            if self.calibration is not None:
                mask = lens_mask_from_calibration(self.calibration, height, width)
            elif circle is not None:
                mask = lens_mask_from_circle(circle, height, width)
            else:
                mask = None
            self._lens_cache[key] = mask
        return self._lens_cache[key]

    def _batches(self, n: int) -> Iterator[slice]:
        for start in range(0, n, self.batch_size):
            yield slice(start, min(start + self.batch_size, n))

    def __call__(
        self, frames: np.ndarray, *, lens_mask: np.ndarray | None = None
    ) -> NDArray[np.float32]:
        """Aurora probabilities for ``frames``.

        Parameters
        ----------
        frames : (n, H, W, 3) uint8 or uint16 ndarray
            Frames, channels R, G, B.
        lens_mask : (H, W) bool ndarray, optional
            True inside the lens circle, for this call.

        Returns
        -------
        (n, H, W) float32 ndarray
            Probabilities in [0, 1]; 0 outside the lens circle.
        """
        arr = np.asarray(frames)
        if arr.ndim != 4 or arr.shape[-1] != 3:
            raise FrameSizeError(
                f"expected frames of shape (n, height, width, 3), found shape {arr.shape}"
            )
        n, height, width = arr.shape[:3]
        out = np.zeros((n, height, width), dtype=np.float32)
        if n == 0:
            return out
        lens: NDArray[np.bool_] | None
        if lens_mask is not None:
            given = np.asarray(lens_mask, dtype=bool)
            if given.shape != (height, width):
                raise FrameSizeError(
                    f"the lens mask has shape {given.shape}, the frames are {(height, width)}"
                )
            lens = given
        else:
            lens = self._lens_for(height, width)
        if not self.preprocessing.mask_outside_lens:
            lens = None
        net = self._get_network()
        prep = self.preprocessing
        for part in self._batches(n):
            x = torch.from_numpy(preprocess_frames(arr[part], prep, lens_mask=lens)).to(net.device)
            with net.lock, torch.inference_mode(), _autocast(net.device, net.precision):
                probs = (
                    averaged_probabilities(lambda view: net.module(view)["out"], x, self.tta)[:, 0]
                    .cpu()
                    .numpy()
                )
            out[part] = postprocess_probabilities(probs, frame_size=(height, width), lens_mask=lens)
        return out

    def predict_mask(
        self, frames: np.ndarray, *, lens_mask: np.ndarray | None = None
    ) -> NDArray[np.bool_]:
        """Boolean aurora masks: probability >= :attr:`threshold`."""
        return self(frames, lens_mask=lens_mask) >= self.threshold


# -- load_model --------------------------------------------------------------------
@dataclass(frozen=True)
class LoadedModel:
    """A network loaded from a checkpoint, with its metadata.

    Attributes
    ----------
    path : pathlib.Path
        The checkpoint file.
    module : torch.nn.Module
        The network, in eval mode, on :attr:`device`.
    metadata : CheckpointMetadata
        Architecture, preprocessing, threshold, metrics, ...
    checksum : str
        SHA-256 of the checkpoint file.
    device : torch.device
        Where the network lives.
    precision : str
        The precision predictors use by default.
    """

    path: Path
    module: nn.Module
    metadata: CheckpointMetadata
    checksum: str
    device: torch.device
    precision: str

    @property
    def name(self) -> str:
        """Architecture."""
        return self.metadata.architecture

    @property
    def threshold(self) -> float:
        """Probability threshold of the checkpoint."""
        return self.metadata.threshold

    @property
    def preprocessing(self) -> Preprocessing:
        """Preprocessing of the checkpoint."""
        return self.metadata.preprocessing

    def predictor(self, **options: Any) -> Predictor:
        """A :class:`Predictor` on this checkpoint (options as for Predictor).

        ``device`` and ``precision`` default to those this model was loaded
        with; the already loaded network is reused in this process.
        """
        options.setdefault("device", str(self.device))
        options.setdefault("precision", self.precision)
        return Predictor(self.path, checksum=self.checksum, **options)


def load_model(
    path: str | os.PathLike[str],
    *,
    device: str = "auto",
    precision: str = "fp32",
    arch: str | None = None,
) -> LoadedModel:
    """Load an aurora_xr checkpoint.

    Parameters
    ----------
    path : path
        A checkpoint written by :func:`save_checkpoint` or :func:`train`.
    device : str
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda[:N]"``.
    precision : {"fp32", "bf16", "fp16", "auto"}
        Default precision of :meth:`LoadedModel.predictor` (``"auto"``: see
        :class:`Predictor`).
    arch : str, optional
        The architecture expected; a checkpoint of another one is an error.

    Returns
    -------
    LoadedModel
        ``.module``, ``.metadata``, ``.checksum`` and ``.predictor(**options)``.

    Raises
    ------
    CheckpointError
        Missing, unsafe, corrupt or truncated file, or another architecture.
    """
    file = Path(path).expanduser().resolve()
    dev = resolve_device(device)
    precision = resolve_precision(precision, dev)
    ckpt = load_checkpoint(file)
    module = model_from_checkpoint(ckpt, arch=arch).to(dev)
    key = _cache_key(file, ckpt.checksum, dev, precision)
    with _CACHE_LOCK:
        _CACHE[key] = _Network(module, ckpt.metadata, dev, precision, threading.Lock())
    return LoadedModel(
        path=file,
        module=module,
        metadata=ckpt.metadata,
        checksum=ckpt.checksum,
        device=dev,
        precision=precision,
    )
