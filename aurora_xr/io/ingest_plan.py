"""Planning an ingest: which frames go to which output file, with which site and calibration.

:func:`plan_outputs` turns the scanned headers (:class:`~aurora_xr.io.ingest_sources.SourceFile`)
into one :class:`OutputJob` per output file that needs writing. Outputs are keyed by site code,
band (:func:`~aurora_xr.io.ingest_periods.band_tag`) and UT period; frames that an existing
output holds already are counted, not read; frames that do not fit their output (size, dtype,
channels) are reported. Every output is owned by exactly one job, so jobs run in any order, in
parallel, and a rerun skips what is complete.

An output period whose frames would fall under two skymaps (a camera re-pointed within the
period) is refused before anything is written: the error names the period and both skymaps
and asks for a shorter ``period``.
"""

from __future__ import annotations

import os
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FrameSizeError, IngestError, StationError
from ..sky.skymap import Skymap
from ..sky.skymap_choice import skymap_index
from ..sky.stations import Station, placeholder_lens
from .ingest_camera import CameraSetup
from .ingest_layout import CubeCamera
from .ingest_outputs import ExistingOutput, Expected, majority, read_existing
from .ingest_periods import band_tag, output_name, period_labels
from .ingest_report import IngestReport
from .ingest_sources import SourceFile

__all__ = ["FrameRef", "OutputJob", "plan_outputs"]

_ROTATED_NOTE = (
    "frames of the Berkeley THEMIS CDF files (thg_l1_asf/ast) turned 180 degrees on ingest, "
    "so that they pair index for index with the operator's raw skymap arrays and with the raw "
    "PGM files of the same camera; other frames as the camera wrote them (rows in file order)"
)
_AS_WRITTEN = "as the camera wrote them (rows in file order, not flipped or turned)"


@dataclass(frozen=True)
class FrameRef:
    """One planned frame: its time (ns) and where it is."""

    time: int
    path: str
    format: str
    rotation: int = 0
    multi: bool = False
    mask: str | None = None
    kind: str | None = None


@dataclass
class OutputJob:
    """Everything a worker needs to write one output file (picklable)."""

    out: str
    candidates: list[list[FrameRef]]
    existing: ExistingOutput | None
    expected: Expected
    channels: tuple[str, ...]
    camera: CubeCamera
    attrs: dict[str, Any]
    reader_options: dict[str, dict[str, Any]]
    chunk_frames: int
    batch_bytes: int
    compression: str
    src: str
    has_truth: bool
    has_kind: bool
    known_bad: dict[str, frozenset[int]] = field(default_factory=dict)

    @property
    def n_candidates(self) -> int:
        """Frame files (or frames of multi-frame files) to look at."""
        return sum(len(g) for g in self.candidates)


def _skymap_choice(
    sources: list[SourceFile], skymaps: tuple[Skymap, ...], report: IngestReport
) -> list[np.ndarray]:
    if not skymaps:
        return [np.full(len(s.times), -1, dtype=np.intp) for s in sources]
    times = np.concatenate([s.times for s in sources]).astype("datetime64[ns]")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        index = skymap_index(list(skymaps), times, warn=True)
    for w in caught:
        report.note(str(w.message))
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    out, start = [], 0
    for s in sources:
        out.append(index[start : start + len(s.times)])
        start += len(s.times)
    return out


def _camera_for(
    setup: CameraSetup, expected: Expected, code: str, skymaps: set[int]
) -> tuple[CubeCamera, Skymap | None]:
    if setup.lens is not None:
        return CubeCamera.of(setup.lens), None
    if setup.placeholder is not None and expected.width and expected.height:
        lens = placeholder_lens(setup.placeholder, expected.width, expected.height)
        return CubeCamera.of(lens), None
    if skymaps:
        chosen = setup.skymaps[min(skymaps)]
        return CubeCamera.of(chosen), chosen
    return CubeCamera.none(), None


def _expected_for(
    setup: CameraSetup, layouts: list[tuple[tuple[int, int, str, tuple[str, ...]], int]]
) -> Expected:
    if setup.lens is not None:
        size = (setup.lens.height, setup.lens.width)
        fit = majority([(lay, n) for lay, n in layouts if lay[:2] == size])
        return Expected(size[0], size[1], fit.dtype, fit.channels, "the calibration given")
    if setup.skymaps:
        shapes = {(m.height, m.width) for m in setup.skymaps}
        fit = majority([(lay, n) for lay, n in layouts if lay[:2] in shapes])
        if fit.height is None:
            found = ", ".join(sorted({f"{h}x{w}" for (h, w, _, _), _ in layouts}))
            names = ", ".join(f"{m.name} ({m.height}x{m.width})" for m in setup.skymaps)
            raise FrameSizeError(
                f"the skymap(s) {names} (rows x columns) fit none of the frames, which are "
                f"{found}: give the skymap of this camera and binning"
            )
        return Expected(fit.height, fit.width, fit.dtype, fit.channels, "the skymap given")
    return majority(layouts)


def _identity_clash(existing: ExistingOutput, camera: CubeCamera, setup: CameraSetup) -> str | None:
    if not setup.has_calibration:
        return None
    if existing.camera.identity == camera.identity:
        return None
    return (
        f"{existing.path} was written with {existing.camera.identity}; found {camera.identity} "
        "given now. Ingest into another folder or pass the same calibration"
    )


def plan_outputs(
    sources: list[SourceFile],
    setup: CameraSetup,
    *,
    dest: Path,
    period: str,
    reader_options: dict[str, dict[str, Any]],
    chunk_frames: int,
    batch_bytes: int,
    compression: str,
    src: str,
    report: IngestReport,
) -> list[OutputJob]:
    """The jobs of an ingest, one per output file with new frames (see the module docstring).

    Raises
    ------
    StationError
        When no site is known for a file (its header gives none and none was given).
    FrameSizeError
        When the skymaps given fit none of the frames.
    IngestError
        When an existing output has another calibration, or a period mixes two skymaps.
    """
    choice = _skymap_choice(sources, setup.skymaps, report)
    sites: list[Station] = []
    noted: set[tuple[str, float, float, float]] = set()
    for source, chosen in zip(sources, choice, strict=True):
        skymap = setup.skymaps[int(chosen[0])] if len(chosen) and chosen[0] >= 0 else None
        what = f"{source.format} header of {Path(source.path).name}"
        site, note = setup.site_of(source.metadata, source=what, skymap=skymap)
        if site is None:
            raise StationError(setup.missing_site_message(source.path))
        where = (site.code, site.latitude, site.longitude, site.altitude_m)
        if note and where not in noted:
            noted.add(where)
            report.note(note)
        sites.append(site)

    all_times = np.concatenate([s.times for s in sources]) if sources else np.array([], "i8")
    labels = period_labels(all_times.astype("datetime64[ns]"), period).tolist()
    members: dict[tuple[str, str, str], list[tuple[int, int, int]]] = defaultdict(list)
    layouts: dict[tuple[str, str], dict[tuple[int, int, str, tuple[str, ...]], int]] = defaultdict(
        lambda: defaultdict(int)
    )
    pos = 0
    for i, source in enumerate(sources):
        band = band_tag(source.channels)
        layout = (source.height, source.width, source.dtype, source.channels)
        layouts[(sites[i].code, band)][layout] += len(source.times)
        for j in range(len(source.times)):
            members[(sites[i].code, band, labels[pos + j])].append((i, j, int(choice[i][j])))
        pos += len(source.times)

    expectations = {key: _expected_for(setup, list(v.items())) for key, v in layouts.items()}
    jobs: list[OutputJob] = []
    clashes: list[str] = []
    for code, band, label in sorted(members):
        out = dest / output_name(code, label, band)
        refs = members[(code, band, label)]
        expected = expectations[(code, band)]
        existing: ExistingOutput | None = None
        if out.exists():
            try:
                existing = read_existing(out)
            except Exception as exc:  # an unusable output is left alone, never overwritten
                for i, j, _ in refs:
                    report.skip(
                        sources[i].label(j), f"not ingested: the existing output {out} is unusable"
                    )
                report.skip(out, f"existing output cannot be used ({exc}); left untouched")
                continue
            expected = Expected(
                existing.height,
                existing.width,
                existing.dtype,
                existing.channels,
                f"the existing {out.name}",
            )
        fitting: list[tuple[int, int, int]] = []
        for i, j, k in refs:
            s = sources[i]
            reason = expected.misfit(s.height, s.width, s.dtype, s.channels)
            if reason is None:
                fitting.append((i, j, k))
            else:
                report.skip(s.path, reason)
        maps = {k for _, _, k in fitting if k >= 0}
        if len(maps) > 1:
            names = " and ".join(
                f"{setup.skymaps[k].name} (valid {setup.skymaps[k].validity_text()})"
                for k in sorted(maps)
            )
            clashes.append(f"{out.name} would mix the skymaps {names}")
            continue
        camera, skymap = _camera_for(setup, expected, code, maps)
        if existing is not None:
            clash = _identity_clash(existing, camera, setup)
            if clash:
                raise IngestError(clash)
            camera = existing.camera
        job = _job(out, fitting, sources, sites, existing, expected, camera, skymap, report)
        if job is None:
            continue
        job.reader_options = reader_options
        job.chunk_frames, job.batch_bytes, job.compression, job.src = (
            chunk_frames,
            batch_bytes,
            compression,
            src,
        )
        jobs.append(job)
    if clashes:
        raise IngestError(
            "an output would hold frames of two skymaps: "
            + "; ".join(clashes)
            + ". Nothing was written: pass a shorter period (e.g. '1h') so that no output "
            "period spans the change of skymap"
        )
    report.station = ", ".join(sorted({s.code for s in sites})) or report.station
    return jobs


def _job(
    out: Path,
    fitting: list[tuple[int, int, int]],
    sources: list[SourceFile],
    sites: list[Station],
    existing: ExistingOutput | None,
    expected: Expected,
    camera: CubeCamera,
    skymap: Skymap | None,
    report: IngestReport,
) -> OutputJob | None:
    present = set(existing.times.tolist()) if existing is not None else set()
    groups: dict[int, list[FrameRef]] = defaultdict(list)
    seen_present: set[int] = set()
    for i, j, _ in sorted(
        fitting, key=lambda r: (int(sources[r[0]].times[r[1]]), sources[r[0]].path)
    ):
        s = sources[i]
        t = int(s.times[j])
        if t in present:
            if t in seen_present:
                stamp = np.datetime64(t, "ns")
                report.skip(
                    s.label(j), f"duplicate time {stamp} (the output already holds a frame there)"
                )
            else:
                seen_present.add(t)
                report.n_frames_present += 1
            continue
        groups[t].append(FrameRef(t, s.path, s.format, s.rotation, s.multi_frame, s.mask, s.kind))
    if not groups:
        if existing is not None:
            report.unchanged.append(os.fspath(out))
        return None
    first = min(
        (i for i, _, _ in fitting), key=lambda i: (int(sources[i].times.min()), sources[i].path)
    )
    attrs = _new_attrs(sources, [i for i, _, _ in fitting], sites[first], camera, skymap, report)
    held = existing.variables if existing is not None else set()
    refs = [r for g in groups.values() for r in g]
    channels = existing.channels if existing is not None else tuple(sources[first].channels)
    known_bad = {
        sources[i].path: frozenset(k for k, _ in sources[i].bad_frames)
        for i in dict.fromkeys(i for i, _, _ in fitting)
        if sources[i].bad_frames
    }
    return OutputJob(
        out=os.fspath(out),
        candidates=[groups[t] for t in sorted(groups)],
        existing=existing,
        expected=expected,
        channels=channels,
        camera=camera,
        attrs=attrs,
        reader_options={},
        chunk_frames=1,
        batch_bytes=1,
        compression="zlib",
        src="",
        has_truth="aurora_truth" in held or any(r.mask for r in refs),
        has_kind="aurora_kind" in held or any(r.kind for r in refs),
        known_bad=known_bad,
    )


def _new_attrs(
    sources: list[SourceFile],
    members: list[int],
    site: Station,
    camera: CubeCamera,
    skymap: Skymap | None,
    report: IngestReport,
) -> dict[str, Any]:
    used = [sources[i] for i in dict.fromkeys(members)]
    formats = sorted({s.format for s in used})
    rotated = any(s.rotation for s in used)
    attrs: dict[str, Any] = {
        **site.to_attrs(),
        **camera.attrs,
        "title": f"All-sky camera frames, {site.name}",
        "source": f"all-sky camera files ({', '.join(formats)}) ingested with aurora_xr",
        "source_format": ", ".join(formats),
        "frame_orientation": _ROTATED_NOTE if rotated else _AS_WRITTEN,
        "frame_rotation_deg": 180 if rotated else 0,
    }
    note = next((n for n in report.notes if site.code in n and "catalogue position" in n), None)
    if note:
        attrs["station_position_note"] = note
    meta = used[0].metadata
    if meta.get("pixel_aspect_ratio") is not None:
        attrs["pixel_aspect_ratio"] = float(meta["pixel_aspect_ratio"])
    if meta.get("optical_center_xy") is not None:
        attrs["optical_center_xy"] = [float(v) for v in meta["optical_center_xy"]]
    if meta.get("utc_offset_h") is not None:
        attrs["utc_offset_h"] = float(meta["utc_offset_h"])
    if not camera.attrs:
        report.note(
            f"{site.code}: no calibration given; the outputs have no elevation/azimuth (pass "
            "--skymap or --calibration to add them)"
        )
        attrs["comment"] = (
            "no camera calibration was given at ingest: no elevation/azimuth; calibrate the "
            "camera (e.g. from stars) and ingest again with --calibration or --skymap"
        )
    elif skymap is not None and skymap.source:
        attrs["skymap_source"] = str(skymap.source)
    return attrs
