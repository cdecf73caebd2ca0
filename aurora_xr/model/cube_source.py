"""Labelled frames of image cubes, read a batch at a time (numpy only, no torch).

:class:`CubeSource` gives the frames and ``aurora_truth`` masks of one image
cube (``xarray.Dataset``), or of a list of cubes, to training and
evaluation; dask-backed variables are computed per batch only. It is one of
the two frame sources of :mod:`aurora_xr.model.data`, which opens either
from what a caller passes.

Several cameras in one source
-----------------------------
A list of cubes may mix cameras (the training mix of
:func:`aurora_xr.datasets.randomised_nights`): each cube with its own lens,
colour (R, G, B) or one band, 8 or 16 bits, all on frames of one size.
Cubes that share the lens, the channel count and the dtype are read as they
are. Otherwise a batch cannot be one array of raw frames, so
:meth:`~CubeSource.read` gives every frame in one *common form*, float32
``(k, H, W, 3)``, from which the one preprocessing
(:mod:`aurora_xr.model.preprocess`) makes exactly the network input that
the raw frame gets with its own lens mask:

* with the robust levels: the frame's black level ``b`` and span ``s`` are
  measured as inference measures them (inside its own lens circle), and the
  frame is written as ``v = m * (x - b) / s`` (``m`` the preprocessing's
  ``min_span``, 0.1), 0 outside its lens. Measured again on the whole frame,
  ``v`` has black level 0 and a white level of at most ``m``, so its span is
  the cap ``m`` and the stretch gives ``clip((x - b) / s, 0, 1)``: the same
  values, black outside the lens, whatever the share of the frame the lens
  covers;
* with the dtype levels: ``x / 255`` or ``x / 65535``, 0 outside the lens;
* one band is replicated to R, G and B (the preprocessing does the same);
* :attr:`~CubeSource.lens_mask` is None: the whole frame counts (outside
  the lenses it is black and the truth is "no aurora").

Evaluation does not need the common form: :meth:`~CubeSource.read_groups`
gives the raw frames of each cube with that cube's lens mask, so a
predictor sees them exactly as :func:`~aurora_xr.segment` would.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ..errors import (
    CalibrationError,
    DtypeError,
    FrameSizeError,
    MissingVariableError,
    OptionError,
    SchemaError,
)
from ..sky.lens import Calibration
from .lens_masks import lens_mask_from_calibration, lens_mask_from_elevation
from .levels import check_levels, frame_levels, scale_to_unit
from .preprocess import Preprocessing

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["CubeSource", "FrameGroup"]


@dataclass(frozen=True)
class FrameGroup:
    """Frames of one cube out of a batch, as the camera wrote them.

    Attributes
    ----------
    positions : list of int
        Where these frames stand in the batch asked for.
    frames : (k, H, W, C) uint8 or uint16 ndarray
        Raw frames (``C`` 3 for R, G, B, 1 for one band).
    masks : (k, H, W) bool ndarray
        Aurora truth.
    lens_mask : (H, W) bool ndarray or None
        The cube's lens circle (None: unknown, the whole frame).
    kinds : (k, H, W) uint8 ndarray or None
        ``aurora_kind`` (0 none, 1 dynamic, 2 stationary), when the cube has it.
    """

    positions: list[int]
    frames: NDArray[Any]
    masks: NDArray[np.bool_]
    lens_mask: NDArray[np.bool_] | None
    kinds: NDArray[np.uint8] | None


@dataclass(frozen=True)
class _Cube:
    """One cube of a source, checked: its variables transposed, lens, ids."""

    image: Any  # xarray.DataArray (time, y, x, channel)
    truth: Any  # xarray.DataArray (time, y, x)
    kind: Any  # xarray.DataArray (time, y, x) or None
    lens: NDArray[np.bool_] | None
    ids: list[str]
    shape: tuple[int, int]

    @property
    def channels(self) -> int:
        return int(self.image.shape[-1])

    @property
    def dtype(self) -> np.dtype[Any]:
        return np.dtype(self.image.dtype)

    def __len__(self) -> int:
        return int(self.image.shape[0])


def _open_cube(
    ds: xr.Dataset,
    *,
    image_var: str,
    truth_var: str,
    kind_var: str,
    dims: tuple[str, str, str, str],
    calibration: Calibration | None,
) -> _Cube:
    """Check one cube and take what a source reads from it."""
    time_dim, y_dim, x_dim, channel_dim = dims
    for name in (image_var, truth_var):
        if name not in ds.variables:
            raise MissingVariableError(
                f"expected variable {name!r} in the cube (frames and aurora truth masks); "
                f"found {sorted(map(str, ds.data_vars))}"
            )
    image = ds[image_var]
    if set(image.dims) != set(dims):
        raise SchemaError(f"expected {image_var} dims {dims}, found {image.dims}")
    image = image.transpose(*dims)
    if channel_dim in image.coords:
        labels = [str(v) for v in image[channel_dim].values]
        if all(c in labels for c in "RGB") and labels != ["R", "G", "B"]:
            image = image.sel({channel_dim: ["R", "G", "B"]})
    if image.sizes[channel_dim] not in (1, 3):
        raise FrameSizeError(
            f"expected 3 channels (R, G, B) or one (a single-channel camera) in {image_var}, "
            f"found {image.sizes[channel_dim]}"
        )
    if image.dtype not in (np.uint8, np.uint16):
        raise DtypeError(f"expected {image_var} of dtype uint8 or uint16, found {image.dtype}")
    truth = ds[truth_var]
    if set(truth.dims) != {time_dim, y_dim, x_dim}:
        raise SchemaError(
            f"expected {truth_var} dims {(time_dim, y_dim, x_dim)}, found {truth.dims}"
        )
    kind = None
    if kind_var in ds.variables and set(ds[kind_var].dims) == {time_dim, y_dim, x_dim}:
        kind = ds[kind_var].transpose(time_dim, y_dim, x_dim)
    shape = (int(image.sizes[y_dim]), int(image.sizes[x_dim]))
    lens: NDArray[np.bool_] | None = None
    if calibration is not None:
        lens = lens_mask_from_calibration(calibration, *shape)
    elif "elevation" in ds.variables:
        lens = lens_mask_from_elevation(ds["elevation"].transpose(y_dim, x_dim).values)
    else:
        try:
            cal = Calibration.from_attrs(dict(ds.attrs))
        except CalibrationError:
            cal = None
        if cal is not None:
            lens = lens_mask_from_calibration(cal, *shape)
    if time_dim in ds.coords:
        ids = [str(t) for t in ds[time_dim].values]
    else:
        ids = [str(i) for i in range(image.sizes[time_dim])]
    return _Cube(image, truth.transpose(time_dim, y_dim, x_dim), kind, lens, ids, shape)


def _same_lens(a: NDArray[np.bool_] | None, b: NDArray[np.bool_] | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return bool(np.array_equal(a, b))


def common_form(
    frames: np.ndarray, lens: np.ndarray | None, *, levels: str = "robust"
) -> NDArray[np.float32]:
    """Raw frames of one camera in the common form of a mixed source (see the module).

    Parameters
    ----------
    frames : (k, H, W, C) uint8 or uint16 ndarray
        Raw frames, ``C`` 1 or 3.
    lens : (H, W) bool ndarray or None
        The camera's lens circle (None: the whole frame).
    levels : {"robust", "dtype"}
        The levels of the preprocessing the frames are for.

    Returns
    -------
    (k, H, W, 3) float32 ndarray
        In [0, 1]; one band replicated to three.
    """
    arr = np.asarray(frames)
    channels = arr.shape[-1]
    if levels == "dtype":
        values = scale_to_unit(arr)
    else:
        prep = Preprocessing()
        black, span = frame_levels(
            arr,
            lens=lens,
            black_percentile=prep.black_percentile,
            white_percentile=prep.white_percentile,
            min_span=prep.min_span,
        )
        gain = (prep.min_span / span).astype(np.float32).reshape(-1, 1, 1, 1)
        values = (arr.astype(np.float32) - black.astype(np.float32).reshape(-1, 1, 1, 1)) * gain
        np.clip(values, 0.0, 1.0, out=values)
    if lens is not None:
        values[:, ~np.asarray(lens, dtype=bool), :] = 0.0
    if channels == 1:
        values = np.repeat(values, 3, axis=-1)
    return np.ascontiguousarray(values, dtype=np.float32)


class CubeSource:
    """Frames and truth masks of an image cube (or a list of cubes), read per batch.

    Parameters
    ----------
    ds : xarray.Dataset or sequence of xarray.Dataset
        Image cube(s) with ``image`` (time, y, x, channel), colour (R, G, B)
        or single-channel, uint8 or uint16, and ``aurora_truth`` (time, y, x);
        dask-backed variables are computed per batch only. Cubes of a list
        must have frames of one size; they may differ in lens, channels and
        dtype (see the module text for how such a mix is read). Frames are
        numbered cube after cube.
    image_var, truth_var, kind_var : str
        Variable names (``kind_var``, optional in the cubes, holds the form of
        aurora: 0 none, 1 dynamic, 2 stationary).
    time_dim, y_dim, x_dim, channel_dim : str
        Dimension names.
    calibration : Calibration, optional
        Gives the lens circle of every cube (otherwise each cube's
        ``elevation`` coordinate does, or its calibration attributes, if any).
    levels : {"robust", "dtype"}
        The levels of the preprocessing that the frames of a mixed list are
        read for (the ``levels`` of :func:`~aurora_xr.model.train`).

    Examples
    --------
    >>> from aurora_xr.datasets import randomised_nights
    >>> source = CubeSource(randomised_nights(40, 4, size=64))  # doctest: +SKIP
    >>> frames, masks = source.read([0, 39])  # doctest: +SKIP
    >>> frames.dtype, frames.shape  # doctest: +SKIP
    (dtype('float32'), (2, 64, 64, 3))
    """

    def __init__(
        self,
        ds: xr.Dataset | Sequence[xr.Dataset],
        *,
        image_var: str = "image",
        truth_var: str = "aurora_truth",
        kind_var: str = "aurora_kind",
        time_dim: str = "time",
        y_dim: str = "y",
        x_dim: str = "x",
        channel_dim: str = "channel",
        calibration: Calibration | None = None,
        levels: str = "robust",
    ) -> None:
        import xarray as xr

        self._levels = check_levels(levels)
        self._single = isinstance(ds, xr.Dataset)
        cubes = [ds] if isinstance(ds, xr.Dataset) else list(ds)
        if not cubes or not all(isinstance(c, xr.Dataset) for c in cubes):
            raise OptionError(
                "expected an image cube (xarray.Dataset) or a non-empty list of them; found "
                f"{type(ds).__name__}"
                + ("" if isinstance(ds, xr.Dataset) else f" of {[type(c).__name__ for c in cubes]}")
            )
        dims = (time_dim, y_dim, x_dim, channel_dim)
        self._cubes = [
            _open_cube(
                c,
                image_var=image_var,
                truth_var=truth_var,
                kind_var=kind_var,
                dims=dims,
                calibration=calibration,
            )
            for c in cubes
        ]
        first = self._cubes[0]
        for k, cube in enumerate(self._cubes):
            if cube.shape != first.shape:
                raise FrameSizeError(
                    f"the cubes of a source must have frames of one size: cube 0 has "
                    f"{first.shape}, cube {k} {cube.shape} (render or resample them to one size)"
                )
        self._shape = first.shape
        self._mixed = not all(
            (c.channels, c.dtype) == (first.channels, first.dtype)
            and _same_lens(c.lens, first.lens)
            for c in self._cubes
        )
        self._starts = np.cumsum([0] + [len(c) for c in self._cubes])
        if self._single:
            self._ids = list(first.ids)
        else:
            self._ids = [f"{k}/{i}" for k, c in enumerate(self._cubes) for i in c.ids]

    @property
    def frame_shape(self) -> tuple[int, int]:
        """``(height, width)`` of every frame."""
        return self._shape

    @property
    def lens_mask(self) -> NDArray[np.bool_] | None:
        """The lens circle shared by all frames (None for a mixed list, see the module)."""
        return None if self._mixed else self._cubes[0].lens

    @property
    def mixed(self) -> bool:
        """Whether the cubes differ in lens, channels or dtype (frames in the common form)."""
        return self._mixed

    @property
    def n_cubes(self) -> int:
        """Number of cubes."""
        return len(self._cubes)

    @property
    def ids(self) -> list[str]:
        """One identifier per frame: its time (``"k/time"`` in a list, ``k`` the cube)."""
        return self._ids

    def __len__(self) -> int:
        return int(self._starts[-1])

    def _locate(self, indices: Sequence[int]) -> dict[int, tuple[list[int], list[int]]]:
        """Per cube: positions in ``indices`` and frame numbers in the cube."""
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        if idx.size and (idx.min() < 0 or idx.max() >= len(self)):
            raise OptionError(f"frame indices must lie in [0, {len(self)}), found {idx.tolist()}")
        which = np.searchsorted(self._starts, idx, side="right") - 1
        groups: dict[int, tuple[list[int], list[int]]] = {}
        for pos, (k, i) in enumerate(zip(which.tolist(), idx.tolist(), strict=True)):
            positions, local = groups.setdefault(int(k), ([], []))
            positions.append(pos)
            local.append(int(i - self._starts[k]))
        return groups

    def read_groups(self, indices: Sequence[int], *, kinds: bool = False) -> list[FrameGroup]:
        """Raw frames ``indices``, cube by cube, each group with its cube's lens mask.

        Parameters
        ----------
        indices : sequence of int
            Frame numbers of the source.
        kinds : bool
            Also read ``aurora_kind`` (None for a cube without it).
        """
        out = []
        for k, (positions, local) in self._locate(indices).items():
            cube = self._cubes[k]
            sel = {cube.image.dims[0]: np.asarray(local, dtype=np.int64)}
            frames = np.asarray(cube.image.isel(sel).values)
            masks = np.asarray(cube.truth.isel(sel).values).astype(bool)
            kind = None
            if kinds and cube.kind is not None:
                kind = np.asarray(cube.kind.isel(sel).values).astype(np.uint8)
            out.append(FrameGroup(positions, frames, masks, cube.lens, kind))
        return out

    def read(self, indices: Sequence[int]) -> tuple[NDArray[Any], NDArray[np.bool_]]:
        """Frames ``(k, H, W, C)`` and truth masks ``(k, H, W)`` of ``indices``.

        Raw frames when the cubes share lens, channels and dtype; otherwise
        float32 frames ``(k, H, W, 3)`` in the common form (see the module).
        """
        groups = self.read_groups(indices)
        n = len(np.asarray(indices).reshape(-1))
        if len(groups) == 1 and not self._mixed:
            return groups[0].frames, groups[0].masks
        height, width = self._shape
        masks = np.zeros((n, height, width), dtype=bool)
        if self._mixed:
            frames: NDArray[Any] = np.zeros((n, height, width, 3), dtype=np.float32)
        else:
            first = self._cubes[0]
            frames = np.zeros((n, height, width, first.channels), dtype=first.dtype)
        for group in groups:
            part = group.frames
            if self._mixed:
                part = common_form(part, group.lens_mask, levels=self._levels)
            frames[group.positions] = part
            masks[group.positions] = group.masks
        return frames, masks

    def checksum(self, *, block: int = 64) -> str:
        """SHA-256 of the raw frames and masks (and, for a list, of each cube's lens)."""
        digest = hashlib.sha256()
        if self._single:
            digest.update(repr((len(self), self._shape, str(self._cubes[0].dtype))).encode())
        else:
            digest.update(repr(("cubes", len(self._cubes), self._shape, self._levels)).encode())
        for k, cube in enumerate(self._cubes):
            if not self._single:
                digest.update(repr((len(cube), str(cube.dtype), cube.channels)).encode())
                lens = b"" if cube.lens is None else np.packbits(cube.lens).tobytes()
                digest.update(lens)
            start = int(self._starts[k])
            for first in range(start, start + len(cube), block):
                last = min(first + block, start + len(cube))
                (group,) = self.read_groups(range(first, last))
                digest.update(np.ascontiguousarray(group.frames).tobytes())
                digest.update(np.packbits(group.masks).tobytes())
        return digest.hexdigest()
