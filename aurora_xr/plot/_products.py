"""Selecting what an occurrence map shows: a variable, a detector, an MLT bin, the cells.

An occurrence product (:func:`aurora_xr.occurrence_map`, :func:`aurora_xr.compare_methods`)
holds its values on (``detector``, ``mlt``, ``cell``) (optionally ``year``, ``season``) and
the cell vertices as coordinates. These helpers select from it with errors that say what
the product holds; nothing here draws.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from ..errors import MissingDimensionError, MissingVariableError, OptionError, SchemaError
from ._cells import cell_vertices, sky_polygons
from ._polar import zenith_radius
from ._style import detector_label

__all__ = [
    "LABELS",
    "hour_text",
    "mlt_bin",
    "pick_detectors",
    "product_cells",
    "select_variable",
    "value_label",
]

LABELS = {
    "occurrence_rate": "occurrence rate",
    "rate_ratio": "occurrence-rate ratio FCN / difference",
    "n_aurora": "frames with aurora",
    "n_observed": "frames observed",
}


def hour_text(h: float) -> str:
    """``07`` for 7.0, ``07.5`` for 7.5."""
    return f"{h:02.0f}" if float(h).is_integer() else f"{h:04.1f}"


def mlt_bin(centres: np.ndarray, mlt: float) -> tuple[int, float, float]:
    """Position and edges (hours) of the MLT bin that contains ``mlt``.

    Parameters
    ----------
    centres : (n,) ndarray
        Bin centres in hours (e.g. 0.5 .. 23.5), equally spaced over 24 h.
    mlt : float
        Any hour; taken modulo 24 (an integer hour ``h`` falls in ``[h, h+1)``).
    """
    centres = np.asarray(centres, dtype=float)
    if centres.ndim != 1 or centres.size == 0:
        raise SchemaError(f"expected 1-D MLT bin centres; found shape {centres.shape}")
    width = 24.0 / centres.size if centres.size > 1 else 24.0
    lo = centres - width / 2.0
    m = float(mlt) % 24.0
    offset = (m - lo) % 24.0
    hit = np.flatnonzero(offset < width - 1e-9)
    if hit.size == 0:
        raise OptionError(f"MLT {mlt} falls in no bin of {centres.tolist()}")
    i = int(hit[0])
    return i, float(lo[i] % 24.0), float(lo[i] % 24.0 + width)


def pick_detectors(
    da: xr.DataArray, detectors: Sequence[Any] | Any | None, detector_dim: Hashable
) -> list[Any]:
    """The detectors to show: those asked for (checked), or all of the product's."""
    if detector_dim not in da.dims:
        if detectors not in (None, [], ()):
            wanted = [detectors] if isinstance(detectors, str) else list(detectors)
            raise OptionError(f"{da.name!r} has no {detector_dim!r} dim to select {wanted} from")
        return [None]
    available = [v.item() if hasattr(v, "item") else v for v in da[detector_dim].values]
    if detectors is None:
        return available
    wanted = [detectors] if isinstance(detectors, str) else list(detectors)
    unknown = [m for m in wanted if m not in available]
    if unknown:
        raise OptionError(f"detectors {unknown} not in the product; it has {available}")
    return wanted


def select_variable(
    occ: xr.Dataset,
    *,
    variable: Hashable,
    detector: Any,
    sel: Mapping[Hashable, Any] | None,
    detector_dim: Hashable,
) -> tuple[xr.DataArray, str]:
    """The variable for one detector (and ``sel``), and the detector's display label."""
    if not isinstance(occ, xr.Dataset):
        raise SchemaError(f"expected an occurrence Dataset; found {type(occ).__name__}")
    if variable not in occ.data_vars:
        raise MissingVariableError(
            f"expected a variable {variable!r} in the occurrence product; found "
            f"{', '.join(map(str, occ.data_vars)) or 'no variables'}"
        )
    da = occ[variable]
    if detector_dim in da.dims:
        available = [str(v) for v in da[detector_dim].values]
        if detector is None:
            if len(available) != 1:
                raise OptionError(
                    f"the product holds detectors {available}; pass detector= to pick one"
                )
            detector = available[0]
        if str(detector) not in available:
            raise OptionError(f"detector {detector!r} not in the product; it has {available}")
        da = da.sel({detector_dim: detector})
    elif detector is None:
        detector = occ.attrs.get("detector", da.attrs.get("detector", ""))
    if sel:
        missing = [k for k in sel if k not in da.dims and k not in da.coords]
        if missing:
            raise MissingDimensionError(
                f"cannot select {missing}: {variable!r} has dims {tuple(da.dims)}"
            )
        da = da.sel(dict(sel))
    label = "ratio" if variable == "rate_ratio" and not detector else str(detector)
    return da, detector_label(label) if label else ""


def product_cells(
    occ: xr.Dataset, cells: xr.Dataset | None, cell_dim: Hashable
) -> tuple[list[np.ndarray], float | None]:
    """The cells as display polygons (zenith angle as radius) and the magnetic north azimuth."""
    source = cells if cells is not None else occ
    el_v, az_v = cell_vertices(source, cell_dim)
    north = source.attrs.get("magnetic_north_azimuth", occ.attrs.get("magnetic_north_azimuth"))
    return sky_polygons(el_v, az_v, zenith_radius), (None if north is None else float(north))


def value_label(da: xr.DataArray, variable: Hashable) -> str:
    """Colour-bar label of a variable: its ``long_name`` (or a default) and units."""
    text = str(da.attrs.get("long_name", LABELS.get(str(variable), str(variable))))
    units = da.attrs.get("units")
    return f"{text} [{units}]" if units and units not in ("1", "") else text
