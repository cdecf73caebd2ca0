"""CF-compliant NetCDF-4 occurrence and comparison products.

:func:`to_netcdf` writes an occurrence map (:func:`aurora_xr.analysis.occurrence.occurrence_map`)
or a comparison (:func:`aurora_xr.analysis.compare.compare_methods`) atomically through
:func:`aurora_xr.io.write_product`, after :func:`prepare_product` has made
sure that every variable carries ``units`` and ``long_name`` and that every
attribute is a NetCDF type. Reopening the file with :func:`open_product` gives
the same Dataset (``history`` gains one line for the write).
"""

from __future__ import annotations

import os
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..errors import SchemaError

__all__ = ["DETECTOR_ATTRS", "attr_value", "open_product", "prepare_product", "to_netcdf"]

DETECTOR_ATTRS: dict[str, str] = {
    "long_name": "detection method",
    "comment": "fcn: cells of the FCN segmentation's aurora_mask; "
    "difference: the frame-difference method of Jee et al. (2021)",
}
"""CF attributes of the ``detector`` coordinate of products (values ``"fcn"``, ``"difference"``)."""

_DEFAULT_ATTRS: dict[str, dict[str, str]] = {
    "cell": {"long_name": "equal-area sky cell number", "units": "1"},
    "detector": DETECTOR_ATTRS,
    "form": {"long_name": "aurora form of the truth"},
    "season": {"long_name": "season by calendar month (UTC)"},
    "year": {"long_name": "calendar year (UTC)", "units": "1"},
    "mlt": {"long_name": "magnetic local time (bin centre)", "units": "hours"},
    "mlt_bounds": {"long_name": "magnetic local time bin edges"},
}


def attr_value(value: Any) -> Any:
    """A value a product attribute can hold in NetCDF (no bool, None or Python objects)."""
    if isinstance(value, bool | np.bool_):
        return int(value)
    if isinstance(value, str | int | float | np.integer | np.floating):
        return value
    if isinstance(value, np.ndarray) and value.dtype.kind in "iuf":
        return value
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return ",".join(value)
    if isinstance(value, list | tuple) and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in value
    ):
        return np.asarray(value)
    return str(value)


def prepare_product(product: xr.Dataset) -> xr.Dataset:
    """The Dataset exactly as :func:`to_netcdf` writes it.

    Adds ``units``/``long_name`` where a variable lacks them (numbers without a
    known unit get ``units = "1"``), ``Conventions = "CF-1.8"``, and turns
    attribute values into NetCDF types (bools to 0/1, sequences of strings to
    comma-separated text, anything else that is not a number to text; ``None``
    dropped). Data are not computed.
    """
    if not isinstance(product, xr.Dataset):
        raise SchemaError(f"expected an xarray.Dataset product; found {type(product).__name__}")
    out = product.copy(deep=False)
    # CF: a boundary variable takes its units from the variable it bounds
    bounds = {str(v.attrs["bounds"]) for v in out.variables.values() if "bounds" in v.attrs}
    for name, var in out.variables.items():
        attrs = dict(var.attrs)
        for key, value in _DEFAULT_ATTRS.get(str(name), {}).items():
            attrs.setdefault(key, value)
        attrs.setdefault("long_name", str(name).replace("_", " "))
        if str(name) in bounds:
            attrs.pop("units", None)
        elif var.dtype.kind in "biuf" and "units" not in attrs:
            attrs["units"] = "1"
        var.attrs = {str(k): attr_value(v) for k, v in attrs.items() if v is not None}
    out.attrs = {str(k): attr_value(v) for k, v in out.attrs.items() if v is not None}
    from ..cube.build import cf_attributes  # the CF defaults the writer adds (time axis etc.)

    return cf_attributes(out)


def to_netcdf(
    product: xr.Dataset,
    path: str | os.PathLike[str],
    *,
    complevel: int = 4,
    engine: str = "netcdf4",
) -> Path:
    """Write an occurrence or comparison product to a CF NetCDF-4 file, atomically.

    Parameters
    ----------
    product : xarray.Dataset
        Output of :func:`aurora_xr.analysis.occurrence.occurrence_map`,
        :func:`aurora_xr.analysis.cube_occurrence.occurrence_from_cube` or
        :func:`aurora_xr.analysis.compare.compare_methods` (lazy data are computed
        while writing, all variables in one pass).
    path : str or path-like
        Destination; replaced only once the new file is complete.
    complevel : int
        zlib compression level.
    engine : {"netcdf4", "h5netcdf"}
        Writer library.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    from .cubefiles import write_product

    prepared = prepare_product(product)
    return write_product(
        prepared,
        path,
        complevel=complevel,
        engine=engine,
        history="product written with aurora_xr.io.products.to_netcdf",
    )


def open_product(path: str | os.PathLike[str], *, load: bool = True) -> xr.Dataset:
    """Open a product written by :func:`to_netcdf` (in memory unless ``load=False``)."""
    ds = xr.open_dataset(path)
    if load:
        with ds:
            ds = ds.load()
    return _restore_strings(ds)


def _restore_strings(ds: xr.Dataset) -> xr.Dataset:
    """String coordinates come back as object arrays; give them a fixed-width dtype."""
    fixes: dict[Hashable, Any] = {}
    for name, var in ds.coords.items():
        if var.dtype == object and var.ndim == 1:
            values = np.asarray(var.values)
            if all(isinstance(v, str) for v in values.tolist()):
                fixes[name] = var.copy(data=values.astype(str))
    return ds.assign_coords(fixes) if fixes else ds
