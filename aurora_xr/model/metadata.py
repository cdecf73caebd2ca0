"""What a checkpoint says about its network: :class:`CheckpointMetadata`.

Every checkpoint (see :mod:`aurora_xr.model.checkpoint`) carries one, as JSON in
its safetensors header: the architecture, the preprocessing its network was
trained with, the probability threshold, where its training data came from and
how they were split, its scores, and the aurora_xr version that wrote it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..cube.build import package_version
from ..errors import CheckpointError, OptionError
from .build import get_architecture
from .preprocess import Preprocessing

__all__ = ["CheckpointMetadata"]


def _package_version() -> str:
    return package_version()


def _utc_now() -> str:
    return datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


@dataclass(frozen=True)
class CheckpointMetadata:
    """What a checkpoint says about its network.

    Parameters
    ----------
    architecture : str
        A name in :data:`~aurora_xr.model.ARCHITECTURES`.
    num_outputs : int
        Output channels of the head (1: aurora).
    aux : bool
        Whether the auxiliary classifier is kept.
    preprocessing : Preprocessing
        Contrast ratio, normalisation, input size, lens circle.
    threshold : float
        Probability at or above which a pixel is aurora (0.5).
    training_data_checksum : str or None
        SHA-256 of the training data (frames and masks).
    split : dict or None
        How the data were split: ``{"fractions": [...], "seed": int, "sizes": [...]}``.
    metrics : dict
        Validation/test metrics, e.g. ``{"val": {"iou": ...}, "test": {...}}``.
    aurora_xr_version : str
        Package version that wrote the checkpoint.
    created : str
        UTC time of writing (ISO 8601).
    extra : dict
        Anything else JSON-serialisable (training options, history, ...).
    """

    architecture: str
    num_outputs: int = 1
    aux: bool = False
    preprocessing: Preprocessing = field(default_factory=Preprocessing)
    threshold: float = 0.5
    training_data_checksum: str | None = None
    split: dict[str, Any] | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    aurora_xr_version: str = field(default_factory=_package_version)
    created: str = field(default_factory=_utc_now)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        get_architecture(self.architecture)
        if not 0.0 <= float(self.threshold) <= 1.0:
            raise OptionError(f"threshold must lie in [0, 1], found {self.threshold}")
        if isinstance(self.preprocessing, Mapping):
            object.__setattr__(self, "preprocessing", Preprocessing.from_dict(self.preprocessing))
        object.__setattr__(self, "threshold", float(self.threshold))
        object.__setattr__(self, "num_outputs", int(self.num_outputs))

    @property
    def input_size(self) -> tuple[int, int] | None:
        """``(height, width)`` of the network input (None: the frame size)."""
        return self.preprocessing.input_size

    def replace(self, **changes: Any) -> CheckpointMetadata:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["preprocessing"] = self.preprocessing.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckpointMetadata:
        """Read :meth:`to_dict` output; unknown keys go to ``extra``."""
        known = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        unknown = {k: v for k, v in data.items() if k not in known}
        if unknown:
            kwargs["extra"] = {**dict(kwargs.get("extra") or {}), **unknown}
        if "architecture" not in kwargs:
            raise CheckpointError("the checkpoint metadata names no architecture")
        if isinstance(kwargs.get("preprocessing"), Mapping):
            kwargs["preprocessing"] = Preprocessing.from_dict(kwargs["preprocessing"])
        return cls(**kwargs)
