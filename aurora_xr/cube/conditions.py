"""Per-frame observing conditions from a table: clouds, moonlight, operator flags.

A camera archive holds images; whether the sky was clouded is usually known
from elsewhere: a cloud camera, a weather log, an operator's notes, or (for
the synthetic sky) the generator itself, which writes
:data:`CONDITIONS_FILE` beside its frames. :func:`read_conditions` reads such
a table (CSV with a ``time`` column, or a DataFrame) and
:func:`attach_conditions` puts its columns on the cube's ``time`` axis, each
frame taking the row nearest in time within a tolerance. A
``cloud_fraction`` column then drives the ``max_cloud_fraction`` filter of
:func:`~aurora_xr.detect.usable.usable_frames` and of the occurrence maps.

Frames with no row within the tolerance get NaN (a frame of unknown
cloudiness passes the cloud filter: only known cloud removes a frame).
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .._times import duration_ns
from ..errors import MissingDimensionError, MissingVariableError, SchemaError

__all__ = ["CONDITIONS_FILE", "attach_conditions", "read_conditions"]

CONDITIONS_FILE = "frame_conditions.csv"
"""Name of the per-frame conditions table the synthetic archive writes at its root."""

_LONG_NAMES = {
    "cloud_fraction": "fraction of the sky covered by cloud",
    "moon_up": "the moon lights the sky in this frame",
}
_UNITS = {"cloud_fraction": "1", "moon_up": "1"}


def read_conditions(source: str | os.PathLike[str] | pd.DataFrame) -> pd.DataFrame:
    """A per-frame conditions table indexed by UTC time.

    Parameters
    ----------
    source : path or pandas.DataFrame
        CSV file (or a DataFrame) with a ``time`` column of ISO 8601 times
        (UTC; a time zone, if given, is converted to UTC) and one column per
        quantity: numbers or booleans (``true``/``false``, ``1``/``0``).

    Returns
    -------
    pandas.DataFrame
        Sorted by its ``time`` index (``datetime64[ns]``, UTC, naive).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    MissingVariableError
        Without a ``time`` column, or with no other column.
    SchemaError
        For times that cannot be read, repeated times, or a column that is
        neither numeric nor boolean.
    """
    if isinstance(source, pd.DataFrame):
        table, name = source.copy(), "the conditions table"
    else:
        path = Path(source).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"conditions table not found: {path}")
        name = str(path)
        try:
            table = pd.read_csv(path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise SchemaError(f"cannot read {name} as CSV: {exc}") from exc
    if "time" not in table.columns:
        if table.index.name == "time":
            table = table.reset_index()
        else:
            raise MissingVariableError(
                f"{name} needs a 'time' column; found columns {list(table.columns)}"
            )
    try:
        times = pd.to_datetime(table["time"], utc=True, format="ISO8601")
    except (ValueError, TypeError) as exc:
        raise SchemaError(
            f"{name}: cannot read the 'time' column as ISO 8601 times: {exc}"
        ) from exc
    table = table.drop(columns="time")
    table.index = pd.DatetimeIndex(times.dt.tz_localize(None), name="time").as_unit("ns")
    if table.shape[1] == 0:
        raise MissingVariableError(f"{name} has a 'time' column and nothing else")
    if table.index.has_duplicates:
        first = table.index[table.index.duplicated()][0]
        raise SchemaError(f"{name} has more than one row for {first}")
    for column in table.columns:
        values = table[column]
        if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
            continue
        if pd.api.types.is_string_dtype(values) or values.dtype == object:
            lowered = values.astype(str).str.strip().str.lower()
            if lowered.isin(["true", "false", "nan", ""]).all():
                table[column] = lowered.map({"true": 1.0, "false": 0.0}).astype(float)
                continue
            raise SchemaError(
                f"{name}: column {column!r} holds values that are neither numbers nor "
                f"booleans (e.g. {values.iloc[0]!r})"
            )
        raise SchemaError(f"{name}: column {column!r} has unsupported type {values.dtype}")
    return table.sort_index()


def _tolerance(table: pd.DataFrame, tolerance: Any) -> pd.Timedelta:
    if tolerance is not None:
        return pd.Timedelta(duration_ns(tolerance, "tolerance", allow_zero=True))
    if len(table.index) < 2:
        return pd.Timedelta(0)
    return pd.Series(np.diff(table.index.values)).median() / 2


def attach_conditions(
    ds: xr.Dataset,
    conditions: str | os.PathLike[str] | pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    tolerance: Any = None,
    time_dim: Hashable = "time",
) -> xr.Dataset:
    """The cube with the columns of a conditions table as (time,) variables.

    Each frame takes the row nearest to it in time, if that row lies within
    ``tolerance``; otherwise the value is NaN. The variables follow the
    cube's time chunks (a chunked cube gets dask arrays).

    Parameters
    ----------
    ds : xarray.Dataset
        Cube with a ``time`` coordinate.
    conditions : path or pandas.DataFrame
        Table read by :func:`read_conditions`.
    columns : sequence of str, optional
        Columns to attach (default all).
    tolerance : time span, optional
        Largest distance between a frame and its row, e.g. ``"5min"``
        (default: half the median spacing of the table's rows, so a table
        with a row per frame matches exactly and a coarser log covers the
        frames between its rows).
    time_dim : hashable
        Name of the time dimension.

    Returns
    -------
    xarray.Dataset
        A new Dataset; booleans become 0/1 floats so that unmatched frames
        can be NaN. The ``conditions_source`` attribute of each variable
        names the table.

    Raises
    ------
    MissingDimensionError
        If ``ds`` has no ``time_dim``.
    MissingVariableError
        For a column the table lacks.
    SchemaError, OptionError
        From :func:`read_conditions`, or for a bad ``tolerance``.
    """
    if time_dim not in ds.dims:
        raise MissingDimensionError(
            f"expected a {time_dim!r} dim to attach conditions to; found dims {tuple(ds.dims)}"
        )
    table = read_conditions(conditions)
    source = "DataFrame" if isinstance(conditions, pd.DataFrame) else str(conditions)
    chosen = list(table.columns) if columns is None else [str(c) for c in columns]
    missing = [c for c in chosen if c not in table.columns]
    if missing:
        raise MissingVariableError(
            f"the conditions table has no column {missing[0]!r}; found {list(table.columns)}"
        )
    tol = _tolerance(table, tolerance)
    frames = pd.DatetimeIndex(ds[time_dim].values)
    rows = table.index.get_indexer(frames, method="nearest", tolerance=tol)
    chunks = ds.chunksizes.get(time_dim)
    found = rows >= 0
    out: dict[Hashable, xr.Variable] = {}
    for column in chosen:
        values = np.full(frames.size, np.nan)
        values[found] = table[column].to_numpy(dtype=float)[rows[found]]
        attrs = {"conditions_source": source}
        if column in _LONG_NAMES:
            attrs.update(long_name=_LONG_NAMES[column], units=_UNITS[column])
        var = xr.Variable((time_dim,), values, attrs=attrs)
        out[column] = var.chunk({time_dim: chunks}) if chunks else var
    return ds.assign(out)
