"""A :class:`~aurora_xr.model.Predictor` of a shipped model, known by the model's name."""

from __future__ import annotations

import os
from typing import Any

from ..model.predictor import Predictor

__all__ = ["PretrainedPredictor"]


class PretrainedPredictor(Predictor):
    """A :class:`~aurora_xr.model.Predictor` whose :attr:`name` is the shipped model's.

    Products record ``model_name`` (e.g. ``"reference"``) and the file's
    SHA-256 as ``model_checksum``; :attr:`architecture` is the network. It
    pickles as small as any predictor (the path, the checksum and the
    options) and loads the network lazily, once per process.

    Parameters
    ----------
    checkpoint : path
        The checked checkpoint file.
    registry_name : str
        The name it is shipped under.
    **options
        As for :class:`~aurora_xr.model.Predictor`.
    """

    def __init__(
        self, checkpoint: str | os.PathLike[str], *, registry_name: str, **options: Any
    ) -> None:
        super().__init__(checkpoint, **options)
        self._registry_name = str(registry_name)

    @property
    def name(self) -> str:
        """The name the model is shipped under."""
        return self._registry_name

    @property
    def architecture(self) -> str:
        """The network's architecture."""
        return self._name

    def __repr__(self) -> str:
        return f"PretrainedPredictor({self._registry_name!r}, {super().__repr__()})"

    def __getstate__(self) -> dict[str, Any]:
        return {**super().__getstate__(), "registry_name": self._registry_name}

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        name = state.pop("registry_name")
        super().__setstate__(state)
        self._registry_name = name

    def __dask_tokenize__(self) -> tuple[Any, ...]:
        return (*super().__dask_tokenize__(), self._registry_name)
