"""What an ingest run did: :class:`IngestReport`, written to ``DEST/ingest_report.json``.

Every file (or frame of a multi-frame file, named ``path[frame k]``) that is not ingested is
listed once with the reason; notes record decisions a reader of the cube should know about
(a site position taken from a file header that differs from the catalogue, the skymap chosen
for frames outside every validity interval, ...).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..cube.build import package_version
from .files import atomic_output

__all__ = ["REPORT_NAME", "IngestReport", "frame_label"]

REPORT_NAME = "ingest_report.json"
"""Name of the report written into the destination folder by every run."""

PathLike = str | os.PathLike[str]


def frame_label(path: PathLike, index: int | None = None) -> str:
    """``path`` for a single-frame file, ``path[frame k]`` for frame ``k`` of a multi-frame file."""
    text = os.fspath(path)
    return text if index is None else f"{text}[frame {int(index)}]"


@dataclass
class IngestReport:
    """What an :func:`~aurora_xr.io.ingestion.ingest` run did.

    Attributes
    ----------
    src : str
        Source folder (or file).
    dest : str
        Destination folder.
    station : str
        Code(s) of the site(s) of the outputs, comma-separated.
    period : str
        The period of one output file.
    written : list of str
        Output files created or updated by this run.
    unchanged : list of str
        Existing outputs that already held every good frame found for them.
    n_frames_added : int
        Frames written that the outputs did not hold before.
    n_frames_present : int
        Frames found that the outputs already held (not read again).
    n_ignored : int
        Files that are neither camera frames nor truth masks (other extensions, calibration
        files such as skymaps, masks without a time stamp).
    skipped : list of (str, str)
        ``(path, reason)`` for every file or frame not ingested; a frame of a multi-frame file
        is named ``path[frame k]``.
    notes : list of str
        Decisions worth knowing: header positions that differ from the catalogue, the skymap
        used where none covers a frame, outputs without a calibration, ...
    workers : int
        Worker processes used (1: serial); 0 for a dask.distributed cluster.
    """

    src: str
    dest: str
    station: str
    period: str
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    n_frames_added: int = 0
    n_frames_present: int = 0
    n_ignored: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    workers: int = 1

    @property
    def n_skipped(self) -> int:
        """Number of files or frames skipped (bad frames, masks, names, duplicates)."""
        return len(self.skipped)

    @property
    def ok(self) -> bool:
        """True when nothing was skipped."""
        return not self.skipped

    def skip(self, path: PathLike, reason: str) -> None:
        """Record a skipped file (or ``path[frame k]``) once; a repeated entry is dropped."""
        entry = (os.fspath(path), str(reason))
        if entry not in self._seen:
            self._seen.add(entry)
            self.skipped.append(entry)

    def note(self, text: str) -> None:
        """Record a note once."""
        if text not in self.notes:
            self.notes.append(text)

    @property
    def _seen(self) -> set[tuple[str, str]]:
        seen: set[tuple[str, str]] | None = self.__dict__.get("_seen_entries")
        if seen is None or len(seen) != len(self.skipped):
            seen = set(self.skipped)
            self.__dict__["_seen_entries"] = seen
        return seen

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        data = asdict(self)
        data["skipped"] = [{"path": p, "reason": r} for p, r in self.skipped]
        data["n_skipped"] = self.n_skipped
        data["aurora_xr_version"] = package_version()
        return data

    def to_json(self, path: PathLike) -> Path:
        """Write the report as JSON (atomically) and return the path."""
        target = Path(path)
        with atomic_output(target) as tmp:
            tmp.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        return target

    def summary(self) -> str:
        """One line for people."""
        text = (
            f"{self.n_frames_added} frames added to {len(self.written)} file(s) in {self.dest}"
            f" ({self.n_frames_present} already present)"
        )
        if self.skipped:
            text += f"; {self.n_skipped} file(s) skipped"
        return text
