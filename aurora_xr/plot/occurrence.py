"""Polar occurrence maps: one MLT bin, the 24-bin grid, and the two methods compared.

The cells are drawn as polygons from their vertices in the geomagnetic view
(magnetic north up, magnetic east left, zenith angle as radius), coloured by
the value of the product; cells without observations (NaN) are grey and
hatched. These functions only select and draw what the product holds.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Colormap, LogNorm, Normalize
from matplotlib.figure import Figure

from ..errors import MissingDimensionError, MissingVariableError, OptionError, SchemaError
from . import _common as c
from ._style import DEFAULT_ELEVATIONS, SIZE_LABEL, SIZE_SMALL, SIZE_TITLE, method_label

__all__ = ["mlt_bin", "plot_comparison", "plot_occurrence", "plot_occurrence_grid"]

_LABELS = {
    "occurrence_rate": "occurrence rate",
    "rate_ratio": "occurrence-rate ratio FCN / difference",
    "n_aurora": "frames with aurora",
    "n_observed": "frames observed",
}


def _hour(h: float) -> str:
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


def _pick_methods(
    da: xr.DataArray, methods: Sequence[Any] | Any | None, method_dim: Hashable
) -> list[Any]:
    if method_dim not in da.dims:
        if methods not in (None, [], ()):
            wanted = [methods] if isinstance(methods, str) else list(methods)
            raise OptionError(f"{da.name!r} has no {method_dim!r} dim to select {wanted} from")
        return [None]
    available = [v.item() if hasattr(v, "item") else v for v in da[method_dim].values]
    if methods is None:
        return available
    wanted = [methods] if isinstance(methods, str) else list(methods)
    unknown = [m for m in wanted if m not in available]
    if unknown:
        raise OptionError(f"methods {unknown} not in the product; it has {available}")
    return wanted


def _select(
    occ: xr.Dataset,
    *,
    variable: Hashable,
    method: Any,
    sel: Mapping[Hashable, Any] | None,
    method_dim: Hashable,
) -> tuple[xr.DataArray, str]:
    """The variable for one method (and ``sel``), and the method's display label."""
    if not isinstance(occ, xr.Dataset):
        raise SchemaError(f"expected an occurrence Dataset; found {type(occ).__name__}")
    if variable not in occ.data_vars:
        raise MissingVariableError(
            f"expected a variable {variable!r} in the occurrence product; found "
            f"{', '.join(map(str, occ.data_vars)) or 'no variables'}"
        )
    da = occ[variable]
    if method_dim in da.dims:
        available = [str(v) for v in da[method_dim].values]
        if method is None:
            if len(available) != 1:
                raise OptionError(
                    f"the product holds methods {available}; pass method= to pick one"
                )
            method = available[0]
        if str(method) not in available:
            raise OptionError(f"method {method!r} not in the product; it has {available}")
        da = da.sel({method_dim: method})
    elif method is None:
        method = occ.attrs.get("method", da.attrs.get("method", ""))
    if sel:
        missing = [k for k in sel if k not in da.dims and k not in da.coords]
        if missing:
            raise MissingDimensionError(
                f"cannot select {missing}: {variable!r} has dims {tuple(da.dims)}"
            )
        da = da.sel(dict(sel))
    label = "ratio" if variable == "rate_ratio" and not method else str(method)
    return da, method_label(label) if label else ""


def _geometry(
    occ: xr.Dataset, cells: xr.Dataset | None, cell_dim: Hashable
) -> tuple[list[np.ndarray], float | None]:
    source = cells if cells is not None else occ
    el_v, az_v = c.cell_vertices(source, cell_dim)
    north = source.attrs.get("magnetic_north_azimuth", occ.attrs.get("magnetic_north_azimuth"))
    return c.sky_polygons(el_v, az_v, c.zenith_radius), (None if north is None else float(north))


def _norm(
    values: np.ndarray, norm: Normalize | None, vmin: float | None, vmax: float | None
) -> Normalize:
    if norm is not None:
        return norm
    finite = values[np.isfinite(values)]
    if vmax is None:
        vmax = float(finite.max()) if finite.size else 1.0
    if vmin is None:
        vmin = float(finite.min()) if finite.size else 0.0
    if vmax <= vmin:
        vmax = vmin + 1.0 if vmin == 0 else vmin * 1.001 + 1e-12
    return Normalize(vmin=vmin, vmax=vmax)


def _label(da: xr.DataArray, variable: Hashable) -> str:
    text = str(da.attrs.get("long_name", _LABELS.get(str(variable), str(variable))))
    units = da.attrs.get("units")
    return f"{text} [{units}]" if units and units not in ("1", "") else text


def _draw_map(
    ax: Axes,
    polys: list[np.ndarray],
    values: np.ndarray,
    *,
    cmap: str | Colormap,
    norm: Normalize,
    north: float | None,
    elevations: Iterable[float],
    compact: bool,
    blank: np.ndarray | None = None,
) -> Any:
    import matplotlib as mpl

    cm = mpl.colormaps[cmap] if isinstance(cmap, str) else cmap
    coll, _ = c.add_cells(
        ax,
        polys,
        values,
        cmap=cm,
        norm=norm,
        edgecolor=(1.0, 1.0, 1.0, 0.45) if compact else "white",
        linewidth=0.12 if compact else 0.3,
        blank=blank,
    )
    c.draw_sky_grid(
        ax,
        elevations=elevations,
        dark=False,
        label_rings=not compact,
        compass=not compact,
        spokes=not compact,
        geo_north_azimuth_mag=None if (north is None or compact) else (-north) % 360.0,
        fontsize=SIZE_SMALL if compact else SIZE_LABEL,
    )
    return coll


def plot_occurrence(
    occ: xr.Dataset,
    *,
    mlt: float,
    method: Any = None,
    variable: Hashable = "occurrence_rate",
    sel: Mapping[Hashable, Any] | None = None,
    cells: xr.Dataset | None = None,
    ax: Axes | None = None,
    vmin: float | None = 0.0,
    vmax: float | None = None,
    cmap: str | Colormap = "viridis",
    norm: Normalize | None = None,
    colorbar: bool = True,
    title: str | None = None,
    elevation_circles: Iterable[float] = DEFAULT_ELEVATIONS,
    mlt_dim: Hashable = "mlt",
    method_dim: Hashable = "method",
    cell_dim: Hashable = "cell",
) -> Axes:
    """Polar occurrence map of one MLT bin.

    Parameters
    ----------
    occ : xarray.Dataset
        Occurrence product on (``mlt``, ``cell``) (optionally ``method``,
        ``year``, ``season``) with the cell vertex coordinates.
    mlt : float
        Any hour inside the wanted bin (``7`` and ``7.5`` both give 07-08 MLT).
    method : str, optional
        ``"fcn"`` or ``"difference"`` when the product has a ``method`` dim
        (needed when it holds more than one).
    variable : hashable
        Variable to colour by (``occurrence_rate``, ``rate_ratio``, ``n_aurora``...).
    sel : mapping, optional
        Further selection, e.g. ``{"year": 2020}`` or ``{"season": "winter"}``.
    cells : xarray.Dataset, optional
        Cell grid with the vertices when ``occ`` does not carry them.
    ax : matplotlib.axes.Axes, optional
        Cartesian axes to draw into; a new figure otherwise.
    vmin, vmax : float, optional
        Colour range; ``vmax`` defaults to the largest value shown.
    cmap : str or Colormap
        Colour map.
    norm : matplotlib.colors.Normalize, optional
        Overrides ``vmin``/``vmax`` (e.g. a ``LogNorm`` for ratios).
    colorbar : bool
        Add a colour bar.
    title : str, optional
        Default ``"<method> · MLT hh–hh"``.
    elevation_circles : iterable of float
        Elevations (degrees) of the labelled circles.
    mlt_dim, method_dim, cell_dim : hashable
        Dimension names.

    Returns
    -------
    matplotlib.axes.Axes
    """
    da, label = _select(occ, variable=variable, method=method, sel=sel, method_dim=method_dim)
    if mlt_dim not in da.dims:
        raise MissingDimensionError(
            f"expected {variable!r} with a {mlt_dim!r} dim; found dims {tuple(da.dims)}"
        )
    i, lo, hi = mlt_bin(da[mlt_dim].values, mlt)
    one = da.isel({mlt_dim: i})
    c.require_cell_dims(one, cell_dim, repr(variable))
    polys, north = _geometry(occ, cells, cell_dim)
    (one,) = c.compute_together(one)
    values = np.asarray(one.values, dtype=float)
    if values.shape != (len(polys),):
        raise SchemaError(f"{values.size} values for {len(polys)} cells")
    if ax is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(4.6, 4.0), layout="constrained")
        ax = fig.add_subplot()
    nrm = _norm(values, norm, vmin, vmax)
    coll = _draw_map(
        ax,
        polys,
        values,
        cmap=cmap,
        norm=nrm,
        north=north,
        elevations=elevation_circles,
        compact=False,
    )
    if colorbar:
        cb = ax.get_figure().colorbar(coll, ax=ax, shrink=0.78, pad=0.02)  # type: ignore[union-attr]
        cb.set_label(_label(da, variable), fontsize=SIZE_LABEL)
        cb.ax.tick_params(labelsize=SIZE_SMALL)
    if np.isnan(values).any():
        ax.legend(
            handles=[c.nan_patch()],
            loc="lower right",
            fontsize=SIZE_SMALL,
            frameon=False,
            handlelength=1.2,
            borderaxespad=0.0,
        )
    if title is None:
        title = " · ".join(s for s in (label, f"MLT {_hour(lo)}–{_hour(hi)}") if s)
    if title:
        ax.set_title(title, fontsize=SIZE_TITLE)
    return ax


def plot_occurrence_grid(
    occ: xr.Dataset,
    *,
    methods: Sequence[Any] | Any | None = None,
    variable: Hashable = "occurrence_rate",
    sel: Mapping[Hashable, Any] | None = None,
    cells: xr.Dataset | None = None,
    vmin: float | None = 0.0,
    vmax: float | None = None,
    cmap: str | Colormap = "viridis",
    norm: Normalize | None = None,
    ncols: int = 6,
    panel_size: float = 1.25,
    elevation_circles: Iterable[float] = (30, 60),
    title: str | None = None,
    mlt_dim: Hashable = "mlt",
    method_dim: Hashable = "method",
    cell_dim: Hashable = "cell",
    blank: xr.DataArray | None = None,
) -> Figure:
    """The maps of every MLT bin, one block per method side by side, one colour bar.

    Parameters
    ----------
    occ : xarray.Dataset
        Occurrence product (see :func:`plot_occurrence`).
    methods : str or sequence, optional
        Methods to show (default all in the ``method`` dim, or the single one).
    variable, sel, cells, vmin, vmax, cmap, norm
        As in :func:`plot_occurrence`; the colour range is shared by all panels.
    ncols : int
        Panels per row in each method's block (24 bins: 6 gives 4 rows).
    panel_size : float
        Size of one panel in inches.
    elevation_circles : iterable of float
        Faint elevation circles drawn in each panel.
    title : str, optional
        Figure title.
    mlt_dim, method_dim, cell_dim : hashable
        Dimension names.
    blank : xarray.DataArray, optional
        Booleans on the MLT and cell dims: observed cells with nothing to
        colour, drawn white and listed in the
        legend as "no aurora in either method" (:func:`plot_comparison` uses
        it for ratios of two zero rates).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    if not isinstance(occ, xr.Dataset) or variable not in occ.data_vars:
        _select(occ, variable=variable, method=None, sel=None, method_dim=method_dim)
    chosen = _pick_methods(occ[variable], methods, method_dim)
    blocks: list[tuple[str, xr.DataArray]] = []
    for m in chosen:
        da, label = _select(occ, variable=variable, method=m, sel=sel, method_dim=method_dim)
        if mlt_dim not in da.dims:
            raise MissingDimensionError(
                f"expected {variable!r} with a {mlt_dim!r} dim; found dims {tuple(da.dims)}"
            )
        extra = [d for d in da.dims if d not in (mlt_dim, cell_dim)]
        if extra:
            raise MissingDimensionError(
                f"expected {variable!r} on ({mlt_dim!r}, {cell_dim!r}) after selection; "
                f"found extra dims {extra} (select them with sel=)"
            )
        blocks.append((label, da.transpose(mlt_dim, cell_dim)))
    polys, _ = _geometry(occ, cells, cell_dim)
    arrays = c.compute_together(*(b[1] for b in blocks))
    values = [np.asarray(a.values, dtype=float) for a in arrays]
    blanks: np.ndarray | None = None
    if blank is not None:
        blanks = np.asarray(blank.transpose(mlt_dim, cell_dim).values, dtype=bool)
        if blanks.shape != values[0].shape:
            raise OptionError(
                f"blank must have the shape of the maps {values[0].shape}; found {blanks.shape}"
            )
    nrm = _norm(np.concatenate([v.ravel() for v in values]), norm, vmin, vmax)
    nbins = values[0].shape[0]
    ncols = max(1, min(int(ncols), nbins))
    nrows = -(-nbins // ncols)
    nblocks = len(blocks)
    gap, cbar = 0.22, 0.10
    ratios: list[float] = []
    for k in range(nblocks):
        ratios += [1.0] * ncols + ([gap] if k < nblocks - 1 else [])
    ratios += [0.06, cbar]
    width = panel_size * sum(ratios) + 0.9
    height = panel_size * nrows + 1.0
    fig = plt.figure(figsize=(width, height))
    gs = fig.add_gridspec(
        nrows,
        len(ratios),
        width_ratios=ratios,
        left=0.01,
        right=0.94,
        bottom=0.3 / height,
        top=1 - 0.62 / height,
        wspace=0.03,
        hspace=0.06,
    )
    rings = ", ".join(f"{float(e):g}°" for e in elevation_circles)
    fig.text(
        0.01,
        0.08 / height,
        "MLT bin in each panel's corner · magnetic north up, magnetic east left"
        + (f" · circles at {rings} elevation" if rings else ""),
        ha="left",
        va="bottom",
        fontsize=SIZE_SMALL,
        color="0.3",
    )
    centres = arrays[0][mlt_dim].values
    mappable = None
    any_nan = False
    for k, ((label, _), vals) in enumerate(zip(blocks, values, strict=True)):
        col0 = k * (ncols + 1)
        for b in range(nbins):
            ax = fig.add_subplot(gs[b // ncols, col0 + b % ncols])
            mappable = _draw_map(
                ax,
                polys,
                vals[b],
                cmap=cmap,
                norm=nrm,
                north=None,
                elevations=elevation_circles,
                compact=True,
                blank=None if blanks is None else blanks[b],
            )
            ax.set_gid(f"mlt_{k}_{b}")
            shown = vals[b] if blanks is None else vals[b][~blanks[b]]
            any_nan = any_nan or bool(np.isnan(shown).any())
            _, lo, hi = mlt_bin(centres, float(centres[b]))
            c.corner_text(
                ax,
                f"{_hour(lo)}–{_hour(hi)}",
                loc="upper left",
                fontsize=SIZE_SMALL - 0.5,
                color="0.2",
            )
        left = gs[0, col0].get_position(fig).x0
        right = gs[0, col0 + ncols - 1].get_position(fig).x1
        fig.text(
            (left + right) / 2.0,
            1 - 0.18 / height,
            label or str(variable),
            ha="center",
            va="top",
            fontsize=SIZE_TITLE,
            fontweight="bold",
        )
    cax = fig.add_subplot(gs[max(0, nrows // 2 - 1) : max(1, nrows // 2 + 1), -1])
    sm = ScalarMappable(norm=nrm, cmap=mappable.get_cmap() if mappable is not None else cmap)
    cb = fig.colorbar(sm, cax=cax)
    cb.set_label(_label(occ[variable], variable), fontsize=SIZE_LABEL)
    if isinstance(nrm, LogNorm):
        _ratio_ticks(cb, nrm)
    cb.ax.tick_params(labelsize=SIZE_SMALL)
    handles = [c.nan_patch()] if any_nan else []
    if blanks is not None and blanks.any():
        handles.append(c.none_patch())
    if handles:
        fig.legend(
            handles=handles,
            loc="lower right",
            fontsize=SIZE_SMALL,
            frameon=False,
            handlelength=1.2,
            bbox_to_anchor=(1.0, 0.0),
        )
    if title:
        fig.suptitle(title, fontsize=SIZE_TITLE + 1, y=1.0)
    return fig


def _ratio_ticks(cb: Any, norm: Normalize) -> None:
    """Plain-number ticks (0.5, 1, 2, 5 ...) on a logarithmic ratio colour bar."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    steps = [m * 10.0**e for e in range(-3, 4) for m in (1.0, 2.0, 5.0)]
    lo, hi = float(norm.vmin or 0.0), float(norm.vmax or 0.0)
    ticks = [t for t in steps if lo * 0.999 <= t <= hi * 1.001]
    cb.ax.yaxis.set_major_locator(FixedLocator(ticks))
    cb.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    cb.ax.yaxis.set_minor_locator(NullLocator())


def _ratio_norm(values: np.ndarray, limit: float = 100.0) -> LogNorm:
    finite = values[np.isfinite(values) & (values > 0)]
    span = float(np.max(np.abs(np.log10(finite)))) if finite.size else 1.0
    span = min(max(span, np.log10(2.0)), np.log10(limit))
    return LogNorm(vmin=10.0**-span, vmax=10.0**span)


def _ratio_display(
    ratio: np.ndarray, num: np.ndarray, den: np.ndarray, norm: LogNorm
) -> tuple[np.ndarray, np.ndarray]:
    """Ratio values to colour, and the cells where both rates are 0.

    A ratio with a zero denominator is NaN in the product; where the
    numerator is positive it is drawn beyond the top of the colour bar (its
    "over" colour), a zero ratio below the bottom, and 0/0 as "no aurora in
    either method". NaN stays "not observed" where either rate is NaN.
    """
    top, bottom = float(norm.vmax or 1.0), float(norm.vmin or 1.0)
    shown = np.array(ratio, dtype=float, copy=True)
    shown[(num > 0) & (den == 0)] = top * 10.0
    shown[(num == 0) & (den > 0)] = bottom / 10.0
    return shown, (num == 0) & (den == 0)


def plot_comparison(
    cmp: xr.Dataset,
    *,
    mlt: float | None = None,
    methods: Sequence[str] = ("fcn", "difference"),
    ratio_var: Hashable = "rate_ratio",
    variable: Hashable = "occurrence_rate",
    sel: Mapping[Hashable, Any] | None = None,
    cells: xr.Dataset | None = None,
    vmax: float | None = None,
    cmap: str | Colormap = "viridis",
    ratio_cmap: str | Colormap = "RdBu_r",
    mlt_dim: Hashable = "mlt",
    method_dim: Hashable = "method",
    cell_dim: Hashable = "cell",
) -> Figure:
    """The two methods compared (output of ``compare_methods``).

    With ``mlt``: three maps of that bin, the FCN rate, the difference-method
    rate (one colour bar) and their ratio (logarithmic, centred on 1). Without:
    the grid of ratio maps over all MLT bins.

    On the ratio maps a cell where only the numerator's rate is positive gets
    the colour beyond the top of the bar, one where only the denominator's is
    positive the colour below its bottom, and one where both rates are 0 is
    white ("no aurora in either method"); grey hatching is kept for cells
    that either method did not observe.

    Parameters
    ----------
    cmp : xarray.Dataset
        ``occurrence_rate`` on (method, mlt, cell) and ``rate_ratio`` on (mlt, cell).
    mlt : float, optional
        Hour inside the bin to show.
    methods : (str, str)
        The two methods, numerator first.
    ratio_var, variable : hashable
        Names of the ratio and of the rates.
    sel, cells
        As in :func:`plot_occurrence`.
    vmax : float, optional
        Upper end of the rate colour range (default the largest rate shown).
    cmap, ratio_cmap : str or Colormap
        Colour maps of the rates and of the ratio.
    mlt_dim, method_dim, cell_dim : hashable
        Dimension names.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    if not isinstance(cmp, xr.Dataset) or ratio_var not in cmp.data_vars:
        _select(cmp, variable=ratio_var, method=None, sel=None, method_dim=method_dim)
    ratio = cmp[ratio_var]
    if len(methods) != 2:
        raise OptionError(f"methods must name two methods; found {methods}")
    if mlt is None:
        ratio_all = ratio.sel(dict(sel)) if sel else ratio
        pair = [
            _select(cmp, variable=variable, method=m, sel=sel, method_dim=method_dim)[0]
            for m in methods
        ]
        ratio_all, num, den = c.compute_together(ratio_all, *pair)
        norm = _ratio_norm(np.asarray(ratio_all.values, dtype=float))
        shown, blank = _ratio_display(
            np.asarray(ratio_all.values, dtype=float),
            np.asarray(num.transpose(*ratio_all.dims).values, dtype=float),
            np.asarray(den.transpose(*ratio_all.dims).values, dtype=float),
            norm,
        )
        sub = cmp.assign({ratio_var: ratio_all.copy(data=shown)})
        return plot_occurrence_grid(
            sub,
            variable=ratio_var,
            cells=cells,
            norm=norm,
            cmap=ratio_cmap,
            mlt_dim=mlt_dim,
            method_dim=method_dim,
            cell_dim=cell_dim,
            title="Occurrence-rate ratio, FCN / difference method",
            blank=ratio_all.copy(data=blank),
        )
    rates = []
    for m in methods:
        da, _ = _select(cmp, variable=variable, method=m, sel=sel, method_dim=method_dim)
        rates.append(da)
    i, lo, hi = mlt_bin(cmp[mlt_dim].values, mlt)
    one = [r.isel({mlt_dim: i}) for r in rates]
    rsel = ratio.sel(dict(sel)) if sel else ratio
    one.append(rsel.isel({mlt_dim: i}))
    for da in one:
        c.require_cell_dims(da, cell_dim, "the compared variables")
    loaded = c.compute_together(*one)
    vals = [np.asarray(v.values, dtype=float) for v in loaded]
    polys, north = _geometry(cmp, cells, cell_dim)
    rate_norm = _norm(np.concatenate(vals[:2]), None, 0.0, vmax)
    fig = plt.figure(figsize=(11.0, 3.9), layout="constrained")
    axes = fig.subplots(1, 3)
    for k, ax in enumerate(axes[:2]):
        coll = _draw_map(
            ax,
            polys,
            vals[k],
            cmap=cmap,
            norm=rate_norm,
            north=north,
            elevations=DEFAULT_ELEVATIONS,
            compact=False,
        )
        ax.set_title(f"({'ab'[k]}) {method_label(methods[k])}", fontsize=SIZE_TITLE)
    cb = fig.colorbar(coll, ax=list(axes[:2]), shrink=0.78, pad=0.02)
    cb.set_label(_LABELS["occurrence_rate"], fontsize=SIZE_LABEL)
    cb.ax.tick_params(labelsize=SIZE_SMALL)
    rnorm = _ratio_norm(vals[2])
    shown, blank = _ratio_display(vals[2], vals[0], vals[1], rnorm)
    coll = _draw_map(
        axes[2],
        polys,
        shown,
        cmap=ratio_cmap,
        norm=rnorm,
        north=north,
        elevations=DEFAULT_ELEVATIONS,
        compact=False,
        blank=blank,
    )
    axes[2].set_title(
        f"(c) {method_label(methods[0])} / {method_label(methods[1])}", fontsize=SIZE_TITLE
    )
    cb = fig.colorbar(coll, ax=axes[2], shrink=0.78, pad=0.02, extend="both")
    cb.set_label("rate ratio", fontsize=SIZE_LABEL)
    _ratio_ticks(cb, rnorm)
    cb.ax.tick_params(labelsize=SIZE_SMALL)
    handles = [c.nan_patch()] if any(np.isnan(v).any() for v in (*vals[:2], shown)) else []
    if blank.any():
        handles.append(c.none_patch())
    if handles:
        fig.legend(
            handles=handles,
            loc="lower right",
            fontsize=SIZE_SMALL,
            frameon=False,
            handlelength=1.2,
        )
    fig.suptitle(f"MLT {_hour(lo)}–{_hour(hi)}", fontsize=SIZE_TITLE + 1)
    return fig
