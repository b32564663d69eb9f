"""Charts with one row per cell of a run, one panel per scenario.

cell_bars draws a summarised metric (throughput, CPU per request, peak memory,
peak threads) as bars; latency_chart draws each cell's percentile ladder on a
log axis; hops_chart draws the sync/async switches per request.
"""

from pathlib import Path

# common first: it selects matplotlib's Agg backend before pyplot is imported.
from bench.report.charts import common

# isort: split
from matplotlib.lines import Line2D

from bench.analyse import stats
from bench.report import style
from bench.results.records import CellDocument


def cell_bars(
    panels: dict[str, list[CellDocument]],
    metric_name: str,
    xlabel: str,
    title: str,
    label: str,
    stem: Path,
    log: bool = False,
) -> list[Path]:
    """Horizontal bars, one panel per scenario (each with its own scale).

    The bar is the median over repeats, the whisker spans min to max.
    Load-generator-bound cells are hollow with a dashed edge; failed cells
    have no bar, only the word "failed".
    """
    metric = common.summary_metric(metric_name)
    figure, axes = common.panel_figure(panels)
    every = [cell for cells in panels.values() for cell in cells]
    for axis, (scenario, cells) in zip(axes[:, 0], panels.items(), strict=True):
        positions = list(range(len(cells)))[::-1]
        for y, cell in zip(positions, cells, strict=True):
            median, low, high = metric(cell)
            server, view = cell.cell.server, cell.cell.style
            if median is None:
                failed = cell.status in ("failed", "not run", "interrupted")
                axis.text(
                    0.01,
                    y,
                    "failed" if failed else "not measured",
                    va="center",
                    fontsize=8,
                    color="#b00020" if failed else "#666666",
                    transform=axis.get_yaxis_transform(),
                )
                continue
            bound = bool(cell.loadgen_bound)
            axis.barh(
                y,
                median,
                color="white" if bound else style.colour(server),
                # A hatch is drawn in the edge colour: white shows it on a filled bar.
                edgecolor=style.colour(server) if bound else "white",
                linestyle="--" if bound else "-",
                linewidth=1.5 if bound else 0.6,
                hatch=style.STYLE_HATCHES[view],
                height=0.7,
            )
            if low is not None and high is not None and high > low:
                axis.errorbar(
                    median,
                    y,
                    xerr=[[median - low], [high - median]],
                    fmt="none",
                    ecolor="black",
                    elinewidth=0.8,
                    capsize=2,
                )
        axis.set_yticks(positions, [common.cell_label(c) for c in cells], fontsize=8)
        axis.set_title(scenario, loc="left", fontsize=10, fontweight="bold")
        axis.grid(axis="x", alpha=0.3)
        if log:
            axis.set_xscale("log")
        axis.set_xlabel(xlabel, fontsize=8)
    return common.finish_panels(figure, common.legend_handles(every), 4, f"{title} - {label}", stem)


def latency_chart(panels: dict[str, list[CellDocument]], label: str, stem: Path) -> list[Path]:
    """p50, p90, p99 and p99.9 of every cell (median over repeats) on a log axis.

    A percentile ladder, not bars: on a log scale a bar's length means
    nothing. The line runs from p50 to p99.9; solid for sync views, dashed for
    async; hollow markers for load-generator-bound cells. A percentile that a
    repeat had too few samples for has no marker; the label beside the
    ladder names it.
    """
    figure, axes = common.panel_figure(panels)
    every = [cell for cells in panels.values() for cell in cells]
    for axis, (scenario, cells) in zip(axes[:, 0], panels.items(), strict=True):
        positions = list(range(len(cells)))[::-1]
        for y, cell in zip(positions, cells, strict=True):
            _ladder(axis, y, cell)
        axis.set_yticks(positions, [common.cell_label(c) for c in cells], fontsize=8)
        axis.set_ylim(-0.7, len(cells) - 0.3)
        axis.set_xscale("log")
        common.plain_log_ticks(axis)
        left, right = axis.get_xlim()
        axis.set_xlim(left / 1.3, right * 2.2)  # room for the p99 label
        axis.set_title(scenario, loc="left", fontsize=10, fontweight="bold")
        axis.grid(axis="x", alpha=0.3, which="both")
        axis.set_xlabel("response time (ms, log scale)", fontsize=8)
    return common.finish_panels(
        figure,
        _latency_handles(every),
        5,
        f"Latency percentiles (exact, not bucketed) - {label}",
        stem,
    )


def _ladder(axis, y: float, cell: CellDocument) -> None:
    """One cell's percentiles at height ``y``, its p99 and the percentiles left
    out (too few samples) written beside it; "failed" when it has none."""
    server, view = cell.cell.server, cell.cell.style
    values = {name: common.percentile_median(cell, name) for name in common.PERCENTILE_MARKERS}
    omitted = [
        name.replace("_", ".")
        for name in common.PERCENTILE_MARKERS
        if values[name] is None and cell.median(f"{name}_ms") is not None
    ]
    note = f"{', '.join(omitted)}: {stats.TOO_FEW_SAMPLES}" if omitted else ""
    present = [v for v in values.values() if v is not None]
    if not present:
        axis.text(
            0.01,
            y,
            note or "failed",
            va="center",
            fontsize=8,
            color="#666666" if note else "#b00020",
            transform=axis.get_yaxis_transform(),
        )
        return
    colour = style.colour(server)
    axis.plot(
        [min(present), max(present)],
        [y, y],
        color=colour,
        linewidth=1.2,
        linestyle="-" if view == "sync" else "--",
    )
    bound = bool(cell.loadgen_bound)
    for name, marker in common.PERCENTILE_MARKERS.items():
        if values[name] is not None:
            axis.scatter(
                [values[name]],
                [y],
                marker=marker,
                s=36,
                color=colour,
                facecolors="white" if bound else colour,
                zorder=3,
            )
    label_text = f"p99 {values['p99']:.1f} ms" if values["p99"] is not None else ""
    axis.annotate(
        "; ".join(text for text in (label_text, note) if text),
        (max(present), y),
        xytext=(6, 0),
        textcoords="offset points",
        va="center",
        fontsize=7,
    )


def _latency_handles(every: list[dict]) -> list:
    """The latency chart's legend: servers, percentile markers, view styles, and
    the hollow marker of a load-generator-bound cell when there is one."""
    handles = common.legend_handles(every, bound_note=False, hatches=False)
    handles += [
        Line2D([], [], marker=marker, color="black", linestyle="", label=name.replace("_", "."))
        for name, marker in common.PERCENTILE_MARKERS.items()
    ]
    handles += [
        Line2D([], [], color="black", linestyle="-", label="sync view"),
        Line2D([], [], color="black", linestyle="--", label="async view"),
    ]
    if any(cell.loadgen_bound for cell in every):
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                color="black",
                markerfacecolor="white",
                linestyle="",
                label="load-generator bound",
            )
        )
    return handles


def hops_chart(panels: dict[str, list[CellDocument]], label: str, stem: Path) -> list[Path]:
    """sync_to_async and async_to_sync switches per request, stacked, per cell."""
    from matplotlib.patches import Patch

    figure, axes = common.panel_figure(panels)

    def total(cell: CellDocument) -> float:
        return sum(
            cell.median(name) or 0.0
            for name in ("sync_to_async_per_request", "async_to_sync_per_request")
        )

    # One scale for every panel, with room for the labels: counts compare across scenarios.
    widest = max((total(c) for cells in panels.values() for c in cells), default=1.0)
    for axis, (scenario, cells) in zip(axes[:, 0], panels.items(), strict=True):
        axis.set_xlim(0, widest * 1.15 + 1)
        positions = list(range(len(cells)))[::-1]
        for y, cell in zip(positions, cells, strict=True):
            s2a = cell.median("sync_to_async_per_request")
            a2s = cell.median("async_to_sync_per_request")
            if s2a is None:
                axis.text(0.1, y, "no counts", va="center", fontsize=8, color="#666666")
                continue
            colour = style.colour(cell.cell.server)
            axis.barh(y, s2a, color=colour, height=0.7)
            axis.barh(y, a2s or 0, left=s2a, color=colour, alpha=0.45, hatch="..", height=0.7)
            axis.text(
                s2a + (a2s or 0) + 0.1, y, f"{s2a:.1f} + {a2s or 0:.1f}", va="center", fontsize=7
            )
        axis.set_yticks(positions, [common.cell_label(c) for c in cells], fontsize=8)
        axis.set_title(scenario, loc="left", fontsize=10, fontweight="bold")
        axis.set_xlabel("switches per request", fontsize=8)
        axis.grid(axis="x", alpha=0.3)
    handles = [
        Patch(facecolor="#777777", label="sync_to_async"),
        Patch(facecolor="#777777", alpha=0.45, hatch="..", label="async_to_sync"),
    ]
    return common.finish_panels(
        figure, handles, 2, f"Sync/async switches per request (server-side counts) - {label}", stem
    )
