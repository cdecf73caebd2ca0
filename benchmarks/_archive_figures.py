"""Figures of ``bench_archive.py``: the task stream of the six-year run and the night lengths."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from dask.utils import key_split

# the task prefixes of each stage, coloured alike in the task stream
_PALETTE = (
    "#1b9e77",
    "#d95f02",
    "#7570b3",
    "#e7298a",
    "#66a61e",
    "#e6ab02",
    "#a6761d",
    "#666666",
    "#1f78b4",
    "#b2df8a",
)


def task_stream_figure(
    records: Sequence[Mapping[str, Any]],
    stages: Mapping[str, Mapping[str, Any]],
    starts: Mapping[str, float],
    path: Path,
    *,
    title: str,
    max_prefixes: int = 9,
) -> Path:
    """One row per worker thread, one bar per task computed, the stages marked above."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bars: list[tuple[str, str, float, float]] = []
    for rec in records:
        for ss in rec.get("startstops", ()):
            if ss.get("action") == "compute":
                bars.append((rec["worker"], key_split(rec["key"]), ss["start"], ss["stop"]))
    if not bars:
        raise ValueError("no task was computed")
    t0 = min(min(b[2] for b in bars), *starts.values())
    workers = sorted({b[0] for b in bars})
    seconds: dict[str, float] = {}
    for _, prefix, start, stop in bars:
        seconds[prefix] = seconds.get(prefix, 0.0) + stop - start
    top = sorted(seconds, key=seconds.__getitem__, reverse=True)[:max_prefixes]
    colours = {p: _PALETTE[i % len(_PALETTE)] for i, p in enumerate(top)}
    fig, ax = plt.subplots(figsize=(9, 1.2 + 0.6 * len(workers)), dpi=110)
    for row, worker in enumerate(workers):
        for prefix in [*top, None]:
            spans = [
                (b[2] - t0, b[3] - b[2])
                for b in bars
                if b[0] == worker and (b[1] == prefix or (prefix is None and b[1] not in top))
            ]
            if spans:
                colour = colours.get(prefix, "#cccccc") if prefix else "#cccccc"
                ax.broken_barh(spans, (row - 0.4, 0.8), facecolors=colour, linewidth=0, zorder=2)
    for name, stage in stages.items():
        edge = starts[name] - t0
        ax.axvspan(
            edge,
            edge + float(stage["wall_s"]),
            color="#f2f2f2" if len(name) % 2 else "w",
            zorder=0,
        )
        ax.axvline(edge, color="k", lw=0.6, ls=":")
        ax.text(edge, len(workers) - 0.45, f" {name}", fontsize=7, va="bottom")
    ax.set_yticks(range(len(workers)), [f"worker {i + 1}" for i in range(len(workers))])
    ax.set_xlabel("seconds from the start of the run")
    ax.set_ylim(-0.6, len(workers) + 0.1)
    handles = [plt.Rectangle((0, 0), 1, 1, color=colours[p]) for p in top]
    handles.append(plt.Rectangle((0, 0), 1, 1, color="#cccccc"))
    ax.legend(
        handles,
        [*top, "other"],
        fontsize=6,
        ncol=5,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.5),
        frameon=False,
    )
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
    return path


def nights_figure(days: Sequence[Any], counts: Sequence[int], cadence_s: int, path: Path) -> Path:
    """Hours of darkness (Sun below -10 degrees) of every sampled date."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 2.4), dpi=110)
    hours = np.asarray(counts, float) * cadence_s / 3600.0
    ax.plot(np.asarray(days, "datetime64[D]"), hours, ".", ms=3)
    ax.set_ylabel("dark hours (Sun < -10°)")
    ax.set_ylim(0, 24.5)
    ax.set_title(f"Jang Bogo: the sampled nights, {int(sum(counts))} frames", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
