"""Long segmentations written region by region, resumable after an interruption.

:func:`segment_to_store` cuts the cube into regions of ``region_frames``
frames along time, segments them one after the other (each region in
parallel over its dask chunks) and writes each to its own NetCDF-4 file in a
folder, atomically. A ``manifest.json`` in the folder lists the completed
regions together with what they depend on (model checksum, threshold, the
cube's times, the region size). Run again after an interruption, it checks the
manifest and computes only the regions that are missing; a store made with
another model, threshold or cube is refused unless ``overwrite=True``.

Zarr would allow one store with regions; it is not a dependency of the
package, so a folder of NetCDF files is used.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..cube.context import cube_context
from ..errors import MissingVariableError, OptionError, SchemaError
from ..io.netcdf_read import open_netcdf
from .segmentation import MASK_VAR, PROBABILITY_VAR, predictor_info, resolve_predictor, segment

__all__ = ["MANIFEST", "STORE_FORMAT", "open_segmentation_store", "segment_to_store"]

MANIFEST = "manifest.json"
STORE_FORMAT = "aurora_xr.segmentation_store"
_VERSION = 1


def _times_digest(times: np.ndarray) -> str:
    values = np.ascontiguousarray(np.asarray(times, dtype="datetime64[ns]").astype(np.int64))
    return hashlib.sha256(values.tobytes()).hexdigest()


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(payload, indent=1, sort_keys=True))
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _read_manifest(folder: Path) -> dict[str, Any] | None:
    path = folder / MANIFEST
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise SchemaError(f"{path} is not a readable segmentation-store manifest: {err}") from err
    if manifest.get("format") != STORE_FORMAT:
        raise SchemaError(
            f"expected a manifest of format {STORE_FORMAT!r} in {path}; "
            f"found {manifest.get('format')!r}"
        )
    return dict(manifest)


def _default_region(chunks: tuple[int, ...] | None) -> int:
    """The smallest multiple of the cube's time chunk that holds at least 1024 frames."""
    step = max(chunks) if chunks else 64
    return int(step * max(1, -(-1024 // step)))


def segment_to_store(
    ds: xr.Dataset,
    model: Any,
    path: str | os.PathLike[str],
    *,
    region_frames: int | None = None,
    threshold: float | None = None,
    batch_size: int | None = None,
    device: str | None = None,
    overwrite: bool = False,
    progress: bool = False,
    image_var: Hashable = "image",
    time_dim: Hashable = "time",
    y_dim: Hashable = "y",
    x_dim: Hashable = "x",
    channel_dim: Hashable = "channel",
) -> xr.Dataset:
    """Segment a cube region by region into a resumable folder of NetCDF files.

    Parameters
    ----------
    ds : xarray.Dataset
        Image cube (best dask-chunked along time).
    model : Predictor, checkpoint path, model object or callable
        See :func:`aurora_xr.detect.segmentation.segment`.
    path : str or path-like
        Folder of the store (created if needed).
    region_frames : int, optional
        Frames per region file; default the smallest multiple of the cube's
        time chunk that is at least 1024.
    threshold, batch_size, device : optional
        Options of :func:`aurora_xr.detect.segmentation.segment`.
    overwrite : bool
        Discard a store made with another model, threshold, cube or region size
        instead of raising.
    progress : bool
        Show a progress bar over the regions (tqdm).
    image_var, time_dim, y_dim, x_dim, channel_dim : str
        Names in the cube.

    Returns
    -------
    xarray.Dataset
        ``ds`` with ``aurora_probability`` and ``aurora_mask`` read lazily from
        the store (one dask chunk per region file).

    Raises
    ------
    OptionError
        When the folder holds a store made with other settings and
        ``overwrite`` is False.
    """
    ctx = cube_context(
        ds,
        image_var=image_var,
        time_dim=time_dim,
        y_dim=y_dim,
        x_dim=x_dim,
        channel_dim=channel_dim,
        require_image=True,
    )
    if region_frames is None:
        region_frames = _default_region(ctx.chunks)
    if int(region_frames) < 1:
        raise OptionError(f"expected region_frames >= 1; found {region_frames}")
    region_frames = int(region_frames)
    predictor = resolve_predictor(model, batch_size=batch_size, device=device)
    info = predictor_info(predictor, threshold)
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    n = int(ds.sizes[time_dim])
    identity = {
        "format": STORE_FORMAT,
        "version": _VERSION,
        **info,
        "n_frames": n,
        "region_frames": region_frames,
        "times_sha256": _times_digest(ds[time_dim].values),
        "frame_shape": [int(ds.sizes[y_dim]), int(ds.sizes[x_dim])],
    }
    manifest = _read_manifest(folder)
    if manifest is not None:
        differs = [k for k, v in identity.items() if manifest.get(k) != v]
        if differs:
            if not overwrite:
                raise OptionError(
                    f"the store in {folder} was made with other settings ({', '.join(differs)}); "
                    "pass overwrite=True to start it again"
                )
            for old in manifest.get("regions", {}).values():
                with contextlib.suppress(FileNotFoundError):
                    (folder / old["file"]).unlink()
            manifest = None
    if manifest is None:
        manifest = {**identity, "regions": {}}
        _write_json(folder / MANIFEST, manifest)
    regions: dict[str, Any] = manifest["regions"]
    starts = range(0, n, region_frames)
    todo = [
        s
        for s in starts
        if str(s // region_frames) not in regions
        or not (folder / regions[str(s // region_frames)]["file"]).exists()
    ]
    iterator: Any = todo
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(todo, desc="segment regions", unit="region")
    from ..io.cubefiles import write_netcdf

    for start in iterator:
        stop = min(start + region_frames, n)
        index = start // region_frames
        part = ds.isel({time_dim: slice(start, stop)})
        seg = segment(
            part,
            predictor,
            context=ctx.frames(start, stop),
            threshold=info["threshold"],
            batch_size=batch_size,
            image_var=image_var,
            time_dim=time_dim,
            y_dim=y_dim,
            x_dim=x_dim,
            channel_dim=channel_dim,
        )
        keep = [PROBABILITY_VAR, MASK_VAR]
        result = seg[keep].drop_vars([c for c in seg[keep].coords if c != time_dim]).compute()
        result.attrs = {
            "title": "aurora segmentation region",
            "region_index": index,
            "region_start": start,
            "region_stop": stop,
            **info,
        }
        name = f"region_{index:06d}.nc"
        write_netcdf(
            result,
            folder / name,
            time_dim=time_dim,
            history="segmentation region written with aurora_xr.segment_to_store",
        )
        times = ds[time_dim].values[[start, stop - 1]]
        regions[str(index)] = {
            "file": name,
            "start": start,
            "stop": stop,
            "time_start": str(times[0]),
            "time_end": str(times[1]),
        }
        _write_json(folder / MANIFEST, manifest)
    store = open_segmentation_store(folder, time_dim=time_dim)
    if not np.array_equal(store[time_dim].values, ds[time_dim].values):
        raise SchemaError(f"the store in {folder} holds other times than the cube")
    return ds.assign({name: store[name].variable for name in (PROBABILITY_VAR, MASK_VAR)})


def open_segmentation_store(
    path: str | os.PathLike[str], *, time_dim: Hashable = "time"
) -> xr.Dataset:
    """Open a complete store of :func:`segment_to_store` lazily (a chunk per region).

    Raises
    ------
    MissingVariableError
        If regions are missing (the segmentation was interrupted).
    """
    folder = Path(path)
    manifest = _read_manifest(folder)
    if manifest is None:
        raise MissingVariableError(f"expected a segmentation store in {folder}; found no manifest")
    n, step = int(manifest["n_frames"]), int(manifest["region_frames"])
    expected = range(-(-n // step))
    missing = [i for i in expected if str(i) not in manifest["regions"]]
    if missing:
        raise MissingVariableError(
            f"the store in {folder} lacks {len(missing)} of {len(expected)} regions "
            f"(first missing: {missing[0]}); run segment_to_store again to finish it"
        )
    parts = []
    for i in expected:
        part = open_netcdf(folder / manifest["regions"][str(i)]["file"], chunks={})
        parts.append(part.chunk({time_dim: -1}))
    out = xr.concat(
        parts,
        dim=time_dim,
        data_vars="all",
        coords="minimal",
        compat="override",
        combine_attrs="drop_conflicts",
    )
    for name in out.data_vars:
        out[name].encoding = {}

    # closing the combined store closes every region file (not left to the GC)
    def close_regions() -> None:
        for part in parts:
            part.close()

    out.set_close(close_regions)
    return out
