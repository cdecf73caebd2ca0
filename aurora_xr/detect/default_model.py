"""The model :func:`~aurora_xr.segment` uses when none is given: the shipped reference model.

:func:`default_predictor` is ``aurora_xr.pretrained("reference")`` (imported on
first use; it loads torch through :mod:`aurora_xr.model`), given the lens of the
frames it will see: the reference model was trained on cameras of every kind, so
it takes each cube's field of view rather than a lens circle of its own.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..cube.context import CubeContext
from ..errors import AuroraXrError

__all__ = ["DEFAULT_MODEL", "default_predictor", "field_of_view"]

DEFAULT_MODEL = "reference"
"""The shipped model that :func:`segment` uses when no model is given."""


def default_predictor(
    *,
    batch_size: int | None = None,
    device: str | None = None,
    lens_mask: NDArray[np.bool_] | None = None,
) -> Any:
    """The predictor of the shipped reference model, ``aurora_xr.pretrained("reference")``.

    Parameters
    ----------
    batch_size, device : optional
        Frames per forward pass (default 16) and device (default CUDA when available).
    lens_mask : (H, W) bool ndarray, optional
        The camera's field of view: the model was trained on every kind of lens,
        so it takes the lens of the frames it is given (outside, p = 0).

    Raises
    ------
    WeightsNotFoundError, CheckpointError
        When the shipped file is missing or its SHA-256 differs (the message names it).
    """
    from ..pretrained import pretrained  # imports the model (torch) lazily

    options: dict[str, Any] = {"device": device or "auto", "lens_mask": lens_mask}
    if batch_size:
        options["batch_size"] = int(batch_size)
    return pretrained(DEFAULT_MODEL, **options)


def field_of_view(ctx: CubeContext) -> NDArray[np.bool_] | None:
    """The cube's field of view (finite elevation), None when the cube has no calibration."""
    try:
        elevation = ctx.sky_grids[0]
    except AuroraXrError:
        return None
    lens = np.isfinite(elevation)
    return lens if lens.any() and not lens.all() else None
