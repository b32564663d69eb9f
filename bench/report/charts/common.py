"""What every chart shares: saving, cell labels, percentile lookups, legends and panel layout.

Every chart has a title, axis labels with units, a legend and the run's label,
and uses bench.report.style's colour per server and marker/hatch per view style.
This module selects matplotlib's Agg backend, so every chart module imports it
before pyplot.
"""

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from bench.analyse import stats
from bench.report import style
from bench.results.records import CellDocument

PERCENTILE_MARKERS = {"p50": "o", "p90": "s", "p99": "D", "p99_9": "^"}


def save(figure: Figure, stem: Path) -> list[Path]:
    """Write ``stem``.png and ``stem``.svg; return both paths."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".svg")]
    figure.savefig(paths[0], dpi=110, bbox_inches="tight")
    figure.savefig(paths[1], bbox_inches="tight")
    plt.close(figure)
    return paths


def cell_label(cell: CellDocument) -> str:
    """The short name of a cell on a chart (its scenario is the panel title)."""
    identity = cell.cell
    parts = [
        identity.endpoint,
        identity.server,
        identity.style,
        identity.stack,
        # an open-loop cell is its offered rate; its user pool only serves it
        f"{identity.rate}/s" if identity.rate else f"{identity.users} users",
    ]
    if identity.db_mode:
        parts.append(identity.db_mode)
    return " · ".join(parts)


def summary_metric(name: str):
    """(median, min, max) of a summarised metric of a cell."""

    def metric(cell: CellDocument) -> tuple[float | None, float | None, float | None]:
        spread = cell.spread(name)
        return (spread.median, spread.min, spread.max) if spread else (None, None, None)

    return metric


def percentile_median(cell: CellDocument, name: str) -> float | None:
    """Median over repeats of percentile ``name`` ("p99_9"), or None when it is missing
    or some repeat has too few samples to back it (bench.analyse.stats.backed)."""
    if stats.beyond_answers(cell, name):
        return None  # some repeat's percentile fell among its unanswered requests
    value = cell.median(f"{name}_ms")
    return value if value is not None and stats.backed(cell, name) else None


def legend_handles(
    cells: list[CellDocument], bound_note: bool = True, hatches: bool = True
) -> list:
    """Legend entries for a panel chart: a colour per server, a hatch per view style,
    and notes for load-generator-bound and failed cells when there are any."""
    from matplotlib.patches import Patch

    servers = list(dict.fromkeys(cell.cell.server for cell in cells))
    styles = list(dict.fromkeys(cell.cell.style for cell in cells))
    handles = [Patch(facecolor=style.colour(s), label=s) for s in servers]
    if hatches:
        handles += [
            Patch(facecolor="#dddddd", hatch=style.STYLE_HATCHES[s], label=f"{s} view")
            for s in styles
        ]
    if bound_note and any(cell.loadgen_bound for cell in cells):
        handles.append(
            Patch(
                facecolor="white",
                edgecolor="black",
                linestyle="--",
                label="load-generator bound: a lower bound",
            )
        )
    if any(cell.status == "failed" for cell in cells):
        handles.append(
            Patch(facecolor="white", edgecolor="white", label="failed: no bar (see note)")
        )
    return handles


def panel_figure(panels: dict[str, list[CellDocument]]) -> tuple[Figure, Any]:
    """One panel per scenario, stacked, each as tall as its number of cells."""
    heights = [max(len(cells), 1) * 0.42 + 0.9 for cells in panels.values()]
    return plt.subplots(
        len(panels),
        1,
        figsize=(11, sum(heights) + 1.2),
        gridspec_kw={"height_ratios": heights},
        squeeze=False,
    )


def finish_panels(figure: Figure, handles: list, ncol: int, title: str, stem: Path) -> list[Path]:
    """The legend above the panels, the title above the legend, then save."""
    figure.legend(
        handles=handles,
        loc="upper center",
        ncol=ncol,
        frameon=False,
        fontsize=8,
        bbox_to_anchor=(0.5, 1.0),
    )
    figure.suptitle(title, y=1.04)
    figure.tight_layout(rect=(0, 0, 1, 0.96))
    return save(figure, stem)


def plain_log_ticks(axis, which: str = "x") -> None:
    """Log-scale ticks as plain numbers (200, not 2x10^2)."""
    from matplotlib.ticker import FuncFormatter

    def minor(value: float, _position: int) -> str:
        # Label 2x and 5x of each decade too, so a range inside one decade has numbers.
        leading = f"{value:.0e}"[0]
        return f"{value:g}" if leading in "25" else ""

    target = axis.xaxis if which == "x" else axis.yaxis
    target.set_major_formatter(FuncFormatter(lambda value, _position: f"{value:g}"))
    target.set_minor_formatter(FuncFormatter(minor))
