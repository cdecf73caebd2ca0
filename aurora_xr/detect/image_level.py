"""Whether a frame shows aurora: the one image-level rule of aurora_xr.

**The rule.** A frame shows aurora when at least ``min_fraction`` of its sky
(the pixels inside the lens circle, or any sky mask given) has an aurora
probability of at least ``threshold``::

    aurora_present = count(p >= threshold inside the sky) / count(sky) >= min_fraction

with the defaults :data:`MIN_FRACTION` = 0.01 (1 % of the sky) and
:data:`THRESHOLD` = 0.5 (the model's own threshold where it has one). A frame
with no sky pixel shows none. A boolean mask (already thresholded, or a
truth mask) counts its True pixels.

Every image-level decision of the package goes through :func:`has_aurora`
(the numpy kernel, :mod:`aurora_xr.model.image_rule`, re-exported here) or
:func:`frame_flags` (the same on a segmented cube, lazily): the image-level
scores of :func:`aurora_xr.model.evaluate`, the per-frame flags of the
occurrence and comparison products, the real-frame table of the reference
model.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from ..cube.context import CubeContext, context_of
from ..errors import AuroraXrError, MissingVariableError
from ..model.image_rule import (
    MIN_FRACTION,
    THRESHOLD,
    check_rule,
    has_aurora,
    present,
    sky_fraction,
)

__all__ = [
    "MIN_FRACTION",
    "PRESENT_VAR",
    "SKY_FRACTION_VAR",
    "THRESHOLD",
    "frame_flags",
    "has_aurora",
    "sky_fraction",
]

PRESENT_VAR = "aurora_present"
SKY_FRACTION_VAR = "aurora_sky_fraction"


def _sky_of(ctx: CubeContext) -> NDArray[np.bool_] | None:
    """The sky pixels of a cube: finite elevation less obstructions (None: unknown)."""
    try:
        return np.asarray(ctx.sky_mask, dtype=bool)
    except AuroraXrError:
        return None


def frame_flags(
    ds: xr.Dataset,
    *,
    min_fraction: float = MIN_FRACTION,
    threshold: float | None = None,
    var: Hashable = "aurora_probability",
    lens_mask: np.ndarray | None = None,
    context: CubeContext | None = None,
    time_dim: Hashable = "time",
    y_dim: Hashable = "y",
    x_dim: Hashable = "x",
) -> xr.Dataset:
    """Add whether each frame shows aurora (:func:`has_aurora`) to a segmented cube, lazily.

    Parameters
    ----------
    ds : xarray.Dataset
        A cube with ``var`` (time, y, x): the probabilities of
        :func:`~aurora_xr.segment`, or any bool mask (``aurora_mask``,
        ``aurora_truth``).
    min_fraction : float
        Share of the sky (default 0.01).
    threshold : float, optional
        Probability threshold; default the one in ``var``'s attributes (the
        model's), else 0.5. Ignored for a bool mask.
    var : str
        The variable to judge.
    lens_mask : (y, x) bool ndarray, optional
        The sky; default the cube's sky (finite ``elevation`` less its
        ``obstruction``), else the whole frame.
    context : CubeContext, optional
        The cube's context when the caller has resolved it.
    time_dim, y_dim, x_dim : str
        Dimension names.

    Returns
    -------
    xarray.Dataset
        ``ds`` with ``aurora_present`` (time) bool and ``aurora_sky_fraction``
        (time) float64, dask-backed when ``var`` is; the rule's parameters in
        their attributes.

    Examples
    --------
    >>> seg = aurora_xr.segment(ds)  # doctest: +SKIP
    >>> frame_flags(seg).aurora_present.mean().compute()  # doctest: +SKIP
    """
    if var not in ds.variables:
        raise MissingVariableError(
            f"expected {var!r} (time, y, x) in the cube (segment it first); "
            f"found {sorted(map(str, ds.data_vars))}"
        )
    values = ds[var]
    if set(values.dims) != {time_dim, y_dim, x_dim}:
        raise MissingVariableError(
            f"expected {var!r} on dims ({time_dim!r}, {y_dim!r}, {x_dim!r}); found {values.dims}"
        )
    if threshold is None:
        threshold = float(values.attrs.get("threshold", THRESHOLD))
    frac, thr = check_rule(min_fraction, threshold)
    if lens_mask is None:
        ctx = context_of(ds, context, time_dim=time_dim, y_dim=y_dim, x_dim=x_dim)
        sky = _sky_of(ctx)
    else:
        sky = np.asarray(lens_mask, dtype=bool)
    values = values.transpose(time_dim, y_dim, x_dim)
    if values.chunks is not None:
        values = values.chunk({y_dim: -1, x_dim: -1})
    fraction = xr.apply_ufunc(
        _fraction_kernel,
        values,
        input_core_dims=[[y_dim, x_dim]],
        dask="parallelized",
        output_dtypes=[np.float64],
        kwargs={"lens_mask": sky, "threshold": thr},
        keep_attrs=False,
    )
    rule: dict[str, Any] = {
        "min_fraction": frac,
        "threshold": thr,
        "source_variable": str(var),
        "rule": "aurora when at least min_fraction of the sky has p >= threshold",
    }
    fraction.attrs = {"long_name": "share of the sky flagged as aurora", "units": "1", **rule}
    present = xr.apply_ufunc(
        _present_kernel,
        fraction,
        dask="parallelized",
        output_dtypes=[bool],
        kwargs={"min_fraction": frac},
    )
    present.attrs = {"long_name": "aurora in the frame", **rule}
    return ds.assign({PRESENT_VAR: present, SKY_FRACTION_VAR: fraction})


def _fraction_kernel(
    values: np.ndarray, *, lens_mask: np.ndarray | None, threshold: float
) -> NDArray[np.float64]:
    return np.asarray(sky_fraction(values, lens_mask, threshold=threshold), dtype=np.float64)


def _present_kernel(fractions: np.ndarray, *, min_fraction: float) -> NDArray[np.bool_]:
    return present(np.asarray(fractions, dtype=np.float64), min_fraction)
