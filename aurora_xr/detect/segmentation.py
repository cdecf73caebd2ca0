"""Lazy segmentation of an image cube, chunk by chunk along time.

:func:`segment` sees only a *predictor*: a picklable callable that maps
``(n, H, W, C)`` frames (C = 3 for colour, 1 for a single-channel camera) to
``(n, H, W)`` float32 aurora probabilities (the predictor contract of
``docs/dev/contracts.md``). It never imports torch: a
checkpoint path is turned into a predictor by :mod:`aurora_xr.model`, imported
only when a path is given.

:class:`ChannelThresholdPredictor` is a predictor without a network: the
probability rises linearly with the brightness of one channel. It is a
baseline for the comparison of methods and the predictor the scaling tests
use, because it follows the contract in full (small pickled state, a lookup
table built once per process and counted in :func:`predictor_loads`).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from ..cube.context import CubeContext, context_of
from ..errors import ModelError, OptionError
from .default_model import default_predictor, field_of_view

__all__ = [
    "MASK_VAR",
    "PROBABILITY_VAR",
    "ChannelThresholdPredictor",
    "predictor_info",
    "predictor_loads",
    "resolve_predictor",
    "segment",
]

PROBABILITY_VAR = "aurora_probability"
MASK_VAR = "aurora_mask"
_RGB = ("R", "G", "B")

Predictor = Callable[[NDArray[Any]], NDArray[Any]]

# --------------------------------------------------------------------------
# A predictor without a network


_LOAD_LOCK = threading.Lock()
_LUTS: dict[tuple[float, float, str], NDArray[np.float32]] = {}
_LOADS: dict[str, int] = {}


def predictor_loads() -> dict[str, int]:
    """How often each predictor kind loaded its state in this process.

    Keys are predictor names; a well-behaved predictor loads once per process
    and set of options, however many chunks it is applied to.
    """
    with _LOAD_LOCK:
        return dict(_LOADS)


def _record_load(name: str) -> None:
    _LOADS[name] = _LOADS.get(name, 0) + 1


class ChannelThresholdPredictor:
    """Aurora probability rising linearly with the brightness of one channel.

    ``p = clip((v - low) / (high - low), 0, 1)`` for the value ``v`` of
    ``channel`` in each pixel, so that ``p >= 0.5`` wherever
    ``v >= (low + high) / 2``. Green (557.7 nm) is the usual choice.

    Parameters
    ----------
    channel : {"R", "G", "B"}
        Channel to read.
    low, high : float
        Values (counts of the frame's dtype) where the probability is 0 and 1.
    threshold : float
        Probability threshold recommended for the mask.
    batch_size : int, optional
        Frames per call (not needed: the lookup is per pixel).

    Notes
    -----
    The lookup table from value to probability is built lazily, once per
    process and set of options, and counted in :func:`predictor_loads`, like
    the network of a real predictor; the pickled object holds only the options.
    """

    name = "channel_threshold"

    def __init__(
        self,
        *,
        channel: str = "G",
        low: float = 40.0,
        high: float = 80.0,
        threshold: float = 0.5,
        batch_size: int | None = None,
    ) -> None:
        if channel not in _RGB:
            raise OptionError(f"expected channel one of {_RGB}; found {channel!r}")
        if not high > low:
            raise OptionError(f"expected high > low; found low={low}, high={high}")
        self.channel = channel
        self.low = float(low)
        self.high = float(high)
        self.threshold = float(threshold)
        self.batch_size = batch_size

    @property
    def checksum(self) -> str:
        """sha256 of the options (the predictor's 'weights')."""
        text = f"{self.name}:{self.channel}:{self.low!r}:{self.high!r}"
        return hashlib.sha256(text.encode()).hexdigest()

    def __repr__(self) -> str:
        return (
            f"ChannelThresholdPredictor(channel={self.channel!r}, low={self.low}, "
            f"high={self.high}, threshold={self.threshold})"
        )

    def _table(self, dtype: np.dtype[Any]) -> NDArray[np.float32]:
        key = (self.low, self.high, dtype.str)
        with _LOAD_LOCK:
            table = _LUTS.get(key)
            if table is None:
                values = np.arange(np.iinfo(dtype).max + 1, dtype=np.float64)
                ramp = (values - self.low) / (self.high - self.low)
                table = np.clip(ramp, 0.0, 1.0).astype(np.float32)
                _LUTS[key] = table
                _record_load(self.name)
        return table

    def __call__(self, frames: NDArray[Any]) -> NDArray[np.float32]:
        frames = np.asarray(frames)
        if frames.ndim != 4 or frames.shape[-1] not in (1, 3):
            raise ModelError(
                f"expected frames of shape (n, H, W, 3) or (n, H, W, 1); found {frames.shape}"
            )
        if frames.dtype not in (np.dtype("uint8"), np.dtype("uint16")):
            raise ModelError(f"expected uint8 or uint16 frames; found {frames.dtype}")
        table = self._table(frames.dtype)
        position = _RGB.index(self.channel) if frames.shape[-1] == 3 else 0
        return table[frames[..., position]]


# --------------------------------------------------------------------------
# Resolving what the user passed as a model


def resolve_predictor(
    model: Any, *, batch_size: int | None = None, device: str | None = None
) -> Predictor:
    """A predictor from what a user passes as the model.

    Parameters
    ----------
    model : None, path, Predictor, LoadedModel, torch.nn.Module or callable
        * ``None``: the shipped reference model, ``aurora_xr.pretrained("reference")``
          (:func:`default_predictor`; torch is imported only then);
        * a checkpoint path (``str`` or ``os.PathLike``): an
          :class:`aurora_xr.model.Predictor` on it (torch is imported only
          then; the network loads lazily, once per process);
        * an :class:`aurora_xr.model.Predictor` or any other callable
          ``frames (n, H, W, C) -> probabilities (n, H, W)``: used as it is;
        * an :class:`aurora_xr.model.LoadedModel` (any object with a
          ``predictor()`` method that is not itself callable): its predictor;
        * a torch ``nn.Module`` (e.g. from :func:`aurora_xr.build_model`):
          wrapped by :meth:`aurora_xr.model.Predictor.from_module` with the
          default preprocessing (robust levels, ImageNet normalisation, the
          network run at the frame size; a single channel replicated to
          three), on ``device`` (default: CUDA when available, else CPU).
    batch_size, device : optional
        Passed to the model's predictor when it is built here; ``device`` cannot
        be applied to a ready-made callable.

    Raises
    ------
    OptionError
        A device that a ready-made predictor cannot move to.
    ModelError
        Anything else that is not a model; the message lists what is accepted.

    Notes
    -----
    torch is never imported here for a callable or a predictor: a module can
    only be an ``nn.Module`` if torch is already imported, so the check looks
    in ``sys.modules`` first.
    """
    import sys

    accepted = (
        "a checkpoint path (str or os.PathLike), an aurora_xr.model.Predictor, an "
        "aurora_xr.model.LoadedModel (or any object with a predictor() method), a torch "
        "nn.Module (wrapped by Predictor.from_module with the default preprocessing), or a "
        "callable frames (n, H, W, C) -> probabilities (n, H, W)"
    )
    if model is None:
        return default_predictor(batch_size=batch_size, device=device)
    options: dict[str, Any] = {}
    if batch_size:
        options["batch_size"] = int(batch_size)
    if isinstance(model, str | os.PathLike):
        from ..model import Predictor as CheckpointPredictor  # imports torch

        # reads the checkpoint header only; the network loads lazily, once per process
        return CheckpointPredictor(model, device=device or "auto", **options)
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(model, torch.nn.Module):
        from ..model import Predictor as ModulePredictor

        return ModulePredictor.from_module(model, device=device or "auto", **options)
    if not callable(model) and callable(getattr(model, "predictor", None)):
        return _predictor_from_model(model, batch_size=batch_size, device=device)
    if callable(model) and not isinstance(model, type):
        own = getattr(model, "device", None)
        if (
            device is not None
            and str(device) != str(own)
            and not (own is None and str(device) in ("cpu", "auto"))
        ):
            raise OptionError(
                f"cannot move a ready-made predictor to device {device!r}; it runs on "
                f"{getattr(model, 'device', None)!r} (pass a checkpoint path or a model instead)"
            )
        return model
    raise ModelError(f"expected a model: {accepted}; found {type(model).__name__}")


def _predictor_from_model(model: Any, *, batch_size: int | None, device: str | None) -> Predictor:
    options = {k: v for k, v in {"batch_size": batch_size, "device": device}.items() if v}
    predictor = model.predictor(**options)
    if not callable(predictor):
        raise ModelError(f"{type(model).__name__}.predictor() did not return a callable")
    return predictor


def predictor_info(predictor: Any, threshold: float | None = None) -> dict[str, Any]:
    """Name, weights checksum and threshold of a predictor, as NetCDF-safe attributes."""
    name = getattr(predictor, "name", None) or getattr(predictor, "__name__", None)
    if name is None:
        name = type(predictor).__name__
    checksum = getattr(predictor, "checksum", None) or "unknown"
    if threshold is None:
        threshold = getattr(predictor, "threshold", None)
    threshold = 0.5 if threshold is None else float(threshold)
    if not 0.0 <= threshold <= 1.0:
        raise OptionError(f"expected a probability threshold in [0, 1]; found {threshold}")
    info: dict[str, Any] = {
        "model_name": str(name),
        "model_checksum": str(checksum),
        "threshold": threshold,
    }
    tta = getattr(predictor, "tta", "none")
    if tta != "none":  # test-time augmentation changes the probabilities
        info["model_tta"] = str(tta)
    return info


# --------------------------------------------------------------------------
# The kernel and the public function


def _predict_frames(
    frames: NDArray[Any], *, predictor: Predictor, batch_size: int | None
) -> NDArray[np.float32]:
    """Run ``predictor`` over ``(n, H, W, C)`` frames, ``batch_size`` at a time."""
    n = frames.shape[0]
    if n == 0:
        return np.zeros(frames.shape[:3], dtype=np.float32)
    step = n if not batch_size else int(batch_size)
    parts = []
    for start in range(0, n, step):
        batch = np.ascontiguousarray(frames[start : start + step])
        out = np.asarray(predictor(batch))
        if out.shape != batch.shape[:3]:
            raise ModelError(
                f"the predictor returned shape {out.shape} for frames of shape {batch.shape}; "
                f"expected {batch.shape[:3]}"
            )
        if out.dtype.kind != "f":
            raise ModelError(f"the predictor returned dtype {out.dtype}; expected float32")
        out = out.astype(np.float32, copy=False)
        if out.size and (np.isnan(out).any() or out.min() < 0.0 or out.max() > 1.0):
            raise ModelError(
                "the predictor returned values outside [0, 1] or NaN; expected probabilities"
            )
        parts.append(out)
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=0)


def segment(
    ds: xr.Dataset,
    model: Any = None,
    *,
    threshold: float | None = None,
    batch_size: int | None = None,
    device: str | None = None,
    context: CubeContext | None = None,
    image_var: Hashable = "image",
    time_dim: Hashable = "time",
    y_dim: Hashable = "y",
    x_dim: Hashable = "x",
    channel_dim: Hashable = "channel",
) -> xr.Dataset:
    """Add the aurora probability and mask of every frame to a cube, lazily.

    Parameters
    ----------
    ds : xarray.Dataset
        Image cube with ``image`` (time, y, x, channel) uint8/uint16, colour
        (R, G, B) or single-channel; the predictor gets the frames as they are.
    model : Predictor, checkpoint path, model object, callable or None
        See :func:`resolve_predictor`. ``None`` (the default) uses the shipped
        reference model, ``aurora_xr.pretrained("reference")`` (LR-ASPP
        MobileNetV3-Large trained on the randomised synthetic sky, for any
        camera: colour or single-channel, 8 or 16 bits), with the cube's field
        of view (finite ``elevation``) as its lens mask; the products then say
        ``model_name = "reference"`` and its SHA-256 in ``model_checksum``.
    threshold : float, optional
        Probability at or above which a pixel is aurora; default the model's
        own threshold (0.5 when it has none).
    batch_size : int, optional
        Frames per call of the predictor (default: the predictor's own batching;
        a whole chunk for a plain callable).
    device : str, optional
        Device for a model loaded here (``"cuda"``, ``"cpu"``; default CUDA if available).
    context : CubeContext, optional
        The cube's context when the caller has resolved it already.
    image_var, time_dim, y_dim, x_dim, channel_dim : str
        Names in the cube.

    Returns
    -------
    xarray.Dataset
        ``ds`` with ``aurora_probability`` (time, y, x) float32 in [0, 1] and
        ``aurora_mask`` (time, y, x) bool, with the model name, weights checksum
        and threshold in their attributes. For a dask-chunked cube both are dask
        arrays with the cube's time chunks: nothing runs until asked, and each
        chunk goes through the predictor once when both are computed together.

    Examples
    --------
    >>> seg = segment(cube)  # the shipped reference model  # doctest: +SKIP
    >>> seg = segment(cube, ChannelThresholdPredictor())  # doctest: +SKIP
    >>> seg.aurora_mask.mean().compute()  # doctest: +SKIP
    """
    ctx = context_of(
        ds,
        context,
        image_var=image_var,
        time_dim=time_dim,
        y_dim=y_dim,
        x_dim=x_dim,
        channel_dim=channel_dim,
        require_image=True,
    )
    if batch_size is not None and int(batch_size) < 1:
        raise OptionError(f"expected batch_size >= 1; found {batch_size}")
    if model is None:
        lens = field_of_view(ctx)
        predictor = default_predictor(batch_size=batch_size, device=device, lens_mask=lens)
    else:
        predictor = resolve_predictor(model, batch_size=batch_size, device=device)
    info = predictor_info(predictor, threshold)
    if model is None:
        info["model_default"] = "no model was given: the shipped aurora_xr.pretrained(name)"
        info["model_architecture"] = str(getattr(predictor, "architecture", ""))
    image = ds[image_var]
    names = ctx.channels
    if len(names) == 3 and tuple(names) != _RGB:
        image = image.sel({channel_dim: list(_RGB)})
    if image.chunks is not None:
        image = image.chunk({y_dim: -1, x_dim: -1, channel_dim: -1})
    probability = xr.apply_ufunc(
        _predict_frames,
        image,
        input_core_dims=[[y_dim, x_dim, channel_dim]],
        output_core_dims=[[y_dim, x_dim]],
        dask="parallelized",
        output_dtypes=[np.float32],
        kwargs={"predictor": predictor, "batch_size": batch_size},
        keep_attrs=False,
    )
    probability.attrs = {
        "long_name": "aurora probability",
        "units": "1",
        "valid_min": np.float32(0.0),
        "valid_max": np.float32(1.0),
        **info,
    }
    mask = probability >= np.float32(info["threshold"])
    mask.attrs = {
        "long_name": "aurora mask (probability at or above the threshold)",
        "units": "1",
        **info,
    }
    return ds.assign({PROBABILITY_VAR: probability, MASK_VAR: mask})
