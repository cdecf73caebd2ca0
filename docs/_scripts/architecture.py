"""The layers of aurora_xr, and the drawing of them on the architecture page.

:data:`LAYERS` is the one statement of the layer order: ``tests/test_layers.py`` checks
every import of the package against it, and :func:`draw` makes
``generated/figures/architecture.png`` for ``docs/architecture.md`` at every build.
"""

from __future__ import annotations

from pathlib import Path

#: Layers from the bottom up: (name on the drawing, packages or modules, what it holds).
#: A module may import its own layer and the layers below it, never one above.
LAYERS: list[tuple[str, tuple[str, ...], str]] = [
    (
        "errors, _times",
        ("aurora_xr.errors", "aurora_xr._times", "aurora_xr._version"),
        "the AuroraXrError hierarchy; datetimes, durations, time nodes",
    ),
    ("sky", ("aurora_xr.sky",), "lens models, emission shell, stations, Sun and Moon"),
    ("geo", ("aurora_xr.geo",), "AACGM-v2 and MLT, equal-area cells, grouped sums"),
    ("cube", ("aurora_xr.cube",), "the data model on xarray: checks, context, coordinates"),
    ("io", ("aurora_xr.io",), "camera formats, ingest, NetCDF cubes and products"),
    ("labels", ("aurora_xr.labels",), "label formats: frames and their masks"),
    ("model", ("aurora_xr.model",), "the FCN and friends (the only torch)"),
    ("pretrained", ("aurora_xr.pretrained",), "the shipped reference model"),
    ("detect", ("aurora_xr.detect",), "segmentation, difference method, usable frames"),
    ("analysis", ("aurora_xr.analysis",), "cell detections, occurrence, comparison, views"),
    (
        "synthetic",
        ("aurora_xr.synthetic", "aurora_xr.datasets"),
        "the synthetic sky with exact truth",
    ),
    ("plot", ("aurora_xr.plot",), "matplotlib and cartopy figures"),
    ("widgets", ("aurora_xr.widgets",), "ipywidgets browsers and tools"),
    ("cli", ("aurora_xr.cli",), "the aurora-xr command"),
    ("accessor", ("aurora_xr.accessor", "aurora_xr"), "the .aurora accessor, the top level"),
]

#: What flows through the layers, from files to papers: (thing, the layer that makes it).
FLOW: list[tuple[str, str]] = [
    ("camera files", "io"),
    ("image cube", "cube"),
    ("probability, mask", "detect"),
    ("cell detections", "analysis"),
    ("occurrence maps", "analysis"),
    ("CF NetCDF products", "io"),
]


def layer_prefixes() -> list[tuple[str, ...]]:
    """The module prefixes of each layer, bottom first (for the import test)."""
    return [modules for _, modules, _ in LAYERS]


def draw(path: Path) -> None:
    """Draw the layers (bottom up) and the data flow beside them into ``path`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    n = len(LAYERS)
    fig, ax = plt.subplots(figsize=(10.0, 0.5 * n + 0.8))
    ax.set_xlim(0.0, 10.0)
    ax.set_ylim(-0.3, n + 0.2)
    ax.axis("off")
    for k, (name, _, text) in enumerate(LAYERS):
        colour = "#dbe8f5" if k % 2 else "#eef4fa"
        ax.add_patch(
            FancyBboxPatch(
                (0.1, k + 0.08),
                5.6,
                0.84,
                boxstyle="round,pad=0.0,rounding_size=0.12",
                facecolor=colour,
                edgecolor="#5b7fa6",
            )
        )
        ax.text(0.3, k + 0.5, name, va="center", fontsize=10, fontweight="bold")
        ax.text(1.75, k + 0.5, text, va="center", fontsize=8.5, color="#223")
    ax.annotate(
        "",
        xy=(6.3, 0.3),
        xytext=(6.3, n - 0.3),
        arrowprops={"arrowstyle": "-|>", "color": "#5b7fa6"},
    )
    ax.text(6.45, n / 2, "imports flow down", rotation=90, va="center", fontsize=8)
    top, bottom = n - 0.6, 0.6
    ys = [top - k * (top - bottom) / (len(FLOW) - 1) for k in range(len(FLOW))]
    ax.text(8.2, n - 0.05, "what flows (and which layer makes it)", ha="center", fontsize=9)
    for k, ((thing, layer), y) in enumerate(zip(FLOW, ys, strict=True)):
        ax.text(
            8.2,
            y,
            f"{thing}\n({layer})",
            ha="center",
            va="center",
            fontsize=8.5,
            bbox={"boxstyle": "round,pad=0.35", "facecolor": "#fff4d6", "edgecolor": "#b58b00"},
        )
        if k:
            ax.add_patch(
                FancyArrowPatch(
                    (8.2, ys[k - 1] - 0.45),
                    (8.2, y + 0.45),
                    arrowstyle="-|>",
                    mutation_scale=12,
                    color="#b58b00",
                )
            )
    ax.set_title("aurora_xr: the layers and what flows through them", fontsize=11)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
