"""``aurora_xr.pretrained(name)``: a predictor on a shipped model, offline."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from .registry import REGISTRY, pretrained_path

if TYPE_CHECKING:
    from .named_predictor import PretrainedPredictor

__all__ = ["pretrained"]


def pretrained(
    name: str = "reference",
    *,
    device: str = "auto",
    precision: str = "auto",
    batch_size: int = 16,
    threshold: float | None = None,
    lens_mask: Any = None,
    calibration: Any = None,
    tta: str = "none",
    num_threads: int | None = None,
    directory: str | os.PathLike[str] | None = None,
) -> PretrainedPredictor:
    """A predictor on the shipped model ``name``, checked against its SHA-256.

    The file ships with the package (nothing is downloaded); its checksum is
    checked first, the network is loaded lazily on the first call, once per
    process. The predictor is what :func:`aurora_xr.segment` uses when no
    model is given (``ds.aurora.segment()``).

    Parameters
    ----------
    name : str
        ``"reference"``: LR-ASPP MobileNetV3-Large trained on the randomised
        synthetic sky (any camera: colour or single-channel, 8 or 16 bits;
        see the documentation page "The reference model").
    device, precision, batch_size, threshold, lens_mask, calibration, tta, num_threads :
        As for :class:`aurora_xr.model.Predictor` (``precision="auto"``: bf16
        where the device computes it natively, else fp32). Give the camera's
        lens (``lens_mask`` or ``calibration``) when calling the predictor on
        raw frames; :func:`aurora_xr.segment` passes the cube's.
    directory : path, optional
        Look for the file there instead of the package's folder.

    Returns
    -------
    PretrainedPredictor
        A :class:`aurora_xr.model.Predictor` whose ``name`` is ``name`` and
        ``checksum`` the file's SHA-256.

    Raises
    ------
    OptionError
        For a name that is not registered.
    WeightsNotFoundError, CheckpointError
        When the file is missing, or its SHA-256 differs (the message names it).

    Examples
    --------
    >>> import aurora_xr
    >>> model = aurora_xr.pretrained("reference")  # doctest: +SKIP
    >>> probs = model(frames, lens_mask=lens)  # (n, H, W, C) uint8/uint16  # doctest: +SKIP
    >>> seg = ds.aurora.segment()  # the same model, the cube's lens  # doctest: +SKIP
    """
    path = pretrained_path(name, directory=directory)
    from .named_predictor import PretrainedPredictor

    return PretrainedPredictor(
        path,
        registry_name=name,
        checksum=REGISTRY[name].sha256,
        device=device,
        precision=precision,
        batch_size=batch_size,
        threshold=threshold,
        lens_mask=lens_mask,
        calibration=calibration,
        tta=tta,
        num_threads=num_threads,
    )
