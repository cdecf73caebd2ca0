"""The :class:`Predictor`: numpy frames in, aurora probabilities out, loaded lazily.

Pickled, a predictor of a checkpoint is its path, checksum and options (a few
hundred bytes); the first call in a process loads the network into the
per-process cache (:mod:`aurora_xr.model.network_cache`), so dask workers load
it once and tasks never ship weights. :meth:`Predictor.from_module` wraps any
torch module in memory with the default preprocessing.
"""

from __future__ import annotations

import copy
import hashlib
import os
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from ..errors import ModelError
from ..sky.lens import Calibration
from .build import model_architecture
from .checkpoint import file_checksum, read_metadata, tensors_checksum
from .device_prep import FrameSetups
from .devices import resolve_plan
from .inference import check_options, run_network
from .metadata import CheckpointMetadata
from .network_cache import ReadyNetwork, cached_network, make_ready
from .preprocess import Preprocessing, check_frames
from .tta import check_tta

__all__ = ["Predictor"]


class Predictor:
    """A picklable callable: ``(n, H, W, C)`` frames to ``(n, H, W)`` aurora probabilities.

    Parameters
    ----------
    checkpoint : path
        An aurora_xr checkpoint (safetensors). Only its header is read here;
        the network is loaded lazily, once per process, on the first call.
    device : str
        ``"auto"`` (CUDA when available in the calling process, else CPU),
        ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    precision : {"fp32", "bf16", "fp16", "auto"}
        ``bf16``/``fp16`` run under autocast with channels-last activations;
        ``fp16`` needs CUDA. ``"auto"`` is resolved in the process that loads
        the network: the fastest path that keeps the quality there (bf16 on
        a CPU with AVX512-BF16 or AMX and on GPUs with bf16, fp16 on older
        GPUs, else fp32; see :mod:`aurora_xr.model.devices`). Probabilities
        are always returned as float32.
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
    compile : bool
        Run the network through ``torch.compile`` (a compilation of tens of
        seconds per process on the first call; then faster on the CPU).

    Notes
    -----
    Colour (``C = 3``) or single-channel (``C = 1``) uint8/uint16 frames go through the
    checkpoint's preprocessing (:mod:`~aurora_xr.model.preprocess`) on the network's
    device; on CUDA in pinned, prefetched batches (:mod:`~aurora_xr.model.inference`).

    The lens mask of a call is the first of its ``lens_mask``, the predictor's,
    its ``calibration``'s, the checkpoint's lens circle (else none); outside, p = 0.
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
        compile: bool = False,
    ) -> None:
        path = Path(checkpoint).expanduser().resolve()
        metadata = read_metadata(path)
        self._init(
            path=path,
            checksum=checksum if checksum is not None else file_checksum(path),
            metadata=metadata,
            name=metadata.architecture,
            preprocessing=metadata.preprocessing,
            options={
                "device": device,
                "precision": precision,
                "batch_size": batch_size,
                "num_threads": num_threads,
                "threshold": metadata.threshold if threshold is None else threshold,
                "calibration": calibration,
                "lens_mask": lens_mask,
                "tta": tta,
                "compile": compile,
            },
        )

    def _init(
        self,
        *,
        path: Path | None,
        checksum: str,
        metadata: CheckpointMetadata | None,
        name: str,
        preprocessing: Preprocessing,
        options: dict[str, Any],
    ) -> None:
        check_options(options)
        self._path = path
        self._checksum = checksum
        self._metadata = metadata
        self._name = name
        self._preprocessing = preprocessing
        self.device = str(options["device"])
        self.precision = options["precision"]
        self.batch_size = int(options["batch_size"])
        self.num_threads = options["num_threads"]
        self.threshold = float(options["threshold"])
        self.calibration = calibration = options["calibration"]
        lens_mask = options["lens_mask"]
        self.lens_mask = None if lens_mask is None else np.asarray(lens_mask, dtype=bool)
        self.tta = options["tta"]
        self.compile = bool(options["compile"])
        self._network: ReadyNetwork | None = None
        self._token = uuid.uuid4().hex
        self._frames = FrameSetups(preprocessing, lens_mask=self.lens_mask, calibration=calibration)

    @classmethod
    def from_module(
        cls,
        module: nn.Module,
        *,
        preprocessing: Preprocessing | None = None,
        metadata: CheckpointMetadata | None = None,
        name: str | None = None,
        device: str = "cpu",
        precision: str = "fp32",
        batch_size: int = 8,
        threshold: float | None = None,
        calibration: Calibration | None = None,
        lens_mask: np.ndarray | None = None,
        tta: str = "none",
        compile: bool = False,
    ) -> Predictor:
        """A predictor on a network in memory (any torch module); writes nothing.

        The module is put in eval mode on ``device`` (in place). Its output
        may be what torchvision's segmentation networks return (a dict whose
        ``"out"`` holds logits) or a logits tensor ``(n, 1, h, w)`` or
        ``(n, h, w)``; the predictor applies the sigmoid.

        Parameters
        ----------
        module : torch.nn.Module
            The network, e.g. from :func:`~aurora_xr.model.build_model`.
        preprocessing : Preprocessing, optional
            How frames become its input. Default: the metadata's, else
            ``Preprocessing()``: the robust levels, no contrast change, the
            network run at the frame size, ImageNet normalisation, a single
            channel replicated to three (see :mod:`aurora_xr.model.preprocess`).
        metadata : CheckpointMetadata, optional
            What a checkpoint would say about it (threshold, split, ...).
        name : str, optional
            Its name in products; default the architecture of
            :func:`~aurora_xr.model.build_model`, else the class name.
        device, precision, batch_size, threshold, calibration, lens_mask, tta, compile :
            As for :class:`Predictor`.

        Notes
        -----
        It cannot be pickled: for worker processes, :func:`.save_checkpoint`
        and ``load_model(path).predictor()``.

        Examples
        --------
        >>> net = aurora_xr.build_model("lraspp_mobilenet_v3_large")  # doctest: +SKIP
        >>> ds.aurora.segment(Predictor.from_module(net, batch_size=4))  # doctest: +SKIP
        """
        if not isinstance(module, nn.Module):
            raise ModelError(f"expected a torch.nn.Module, found {type(module).__name__}")
        arch = model_architecture(module)
        if metadata is None and arch is not None:
            metadata = CheckpointMetadata(architecture=arch)
        prep = preprocessing or (metadata.preprocessing if metadata else Preprocessing())
        if metadata is not None:
            metadata = metadata.replace(preprocessing=prep)
        if threshold is None:
            threshold = metadata.threshold if metadata is not None else 0.5
        self = cls.__new__(cls)
        self._init(
            path=None,
            checksum="",
            metadata=metadata,
            name=name or arch or type(module).__name__,
            preprocessing=prep,
            options={
                "device": device,
                "precision": precision,
                "batch_size": batch_size,
                "num_threads": None,
                "threshold": threshold,
                "calibration": calibration,
                "lens_mask": lens_mask,
                "tta": tta,
                "compile": compile,
            },
        )
        self._network = make_ready(module, resolve_plan(device, precision, compile=compile))
        return self

    from_model = from_module  # the name used before from_module existed

    # -- small public state ----------------------------------------------------
    @property
    def name(self) -> str:
        """Architecture of the network (or the name it was given)."""
        return self._name

    @property
    def checksum(self) -> str:
        """SHA-256 of the checkpoint file (of the tensors for in-memory predictors)."""
        if not self._checksum and self._network is not None:
            self._checksum = "tensors:" + tensors_checksum(self._network.module.state_dict())
        return self._checksum

    @property
    def path(self) -> Path | None:
        """The checkpoint file (None for in-memory predictors)."""
        return self._path

    @property
    def metadata(self) -> CheckpointMetadata | None:
        """The checkpoint's metadata (None for a module of no known architecture)."""
        return self._metadata

    @property
    def preprocessing(self) -> Preprocessing:
        """The preprocessing applied to frames."""
        return self._preprocessing

    def __repr__(self) -> str:
        where = str(self._path) if self._path is not None else "in memory"
        return (
            f"Predictor({self.name}, {where}, device={self.device!r}, "
            f"precision={self.precision!r}, batch_size={self.batch_size}, "
            f"threshold={self.threshold}"
            + ("" if self.tta == "none" else f", tta={self.tta!r}")
            + (", compile=True" if self.compile else "")
            + ")"
        )

    # -- pickling: small state only ------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        if self._path is None or self._metadata is None:
            raise ModelError(
                "a predictor made with Predictor.from_module holds its network in memory and "
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
            "compile": self.compile,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        metadata = CheckpointMetadata.from_dict(state["metadata"])
        options = {k: state.get(k) for k in ("device", "precision", "batch_size", "num_threads")}
        options.update(
            threshold=state["threshold"],
            calibration=state["calibration"],
            lens_mask=state["lens_mask"],
            tta=state.get("tta", "none"),
            compile=state.get("compile", False),
        )
        self._init(
            path=Path(state["path"]),
            checksum=state["checksum"],
            metadata=metadata,
            name=metadata.architecture,
            preprocessing=metadata.preprocessing,
            options=options,
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
            return ("aurora_xr.Predictor.from_module", self._token, self.tta)
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
            self.compile,
        )

    # -- the work ---------------------------------------------------------------
    def _get_network(self) -> ReadyNetwork:
        if self._network is not None:
            return self._network
        assert self._path is not None
        plan = resolve_plan(self.device, self.precision, compile=self.compile)
        if self.num_threads is not None:
            torch.set_num_threads(self.num_threads)
        self._network = cached_network(self._path, self._checksum, plan)
        return self._network

    def load(self) -> Predictor:
        """Load the network now (it is otherwise loaded on the first call)."""
        self._get_network()
        return self

    def __call__(
        self, frames: np.ndarray, *, lens_mask: np.ndarray | None = None
    ) -> NDArray[np.float32]:
        """Aurora probabilities for ``frames``.

        Parameters
        ----------
        frames : (n, H, W, C) uint8 or uint16 ndarray
            Frames: ``C = 3`` (R, G, B) or ``C = 1`` (a single-channel camera).
        lens_mask : (H, W) bool ndarray, optional
            True inside the lens circle, for this call.

        Returns
        -------
        (n, H, W) float32 ndarray
            Probabilities in [0, 1]; 0 outside the lens circle.
        """
        arr = np.asarray(frames)
        check_frames(arr)
        n, height, width = arr.shape[:3]
        if n == 0:
            return np.zeros((n, height, width), dtype=np.float32)
        net = self._get_network()
        geometry = self._frames.geometry(net.device, height, width, lens_mask)
        return run_network(
            net, arr, self.preprocessing, geometry, batch_size=self.batch_size, tta=self.tta
        )

    def predict_mask(
        self, frames: np.ndarray, *, lens_mask: np.ndarray | None = None
    ) -> NDArray[np.bool_]:
        """Boolean aurora masks: probability >= :attr:`threshold`."""
        return self(frames, lens_mask=lens_mask) >= self.threshold
