"""The shipped reference model: ``aurora_xr.pretrained("reference")``.

One checkpoint file ships with the package (``reference.safetensors``, package
data), registered by its SHA-256 in :data:`REGISTRY`. :func:`pretrained` checks
the file and returns a predictor on it (nothing is downloaded; the network is
loaded on the first call); :func:`aurora_xr.segment` uses it when no model is
given. The package itself is callable, so that ``aurora_xr.pretrained("reference")``
reads as the function (the package and the function share the name).

This package imports no torch: the network is loaded through
:mod:`aurora_xr.model` on first use.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from .loader import pretrained
from .registry import REGISTRY, PretrainedEntry, file_sha256, pretrained_path

__all__ = ["REGISTRY", "PretrainedEntry", "file_sha256", "pretrained", "pretrained_path"]


class _CallablePackage(types.ModuleType):
    """This package, callable as :func:`pretrained`."""

    def __call__(self, name: str = "reference", **options: Any) -> Any:
        return pretrained(name, **options)


sys.modules[__name__].__class__ = _CallablePackage
