"""matplotlib charts, written as PNG and SVG side by side.

Every chart has a title, axis labels with units, a legend and the run's label,
and uses bench.style's colour per server and marker/hatch per view style.
"""

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from bench import stats, style
from bench.switchfit import Fit, Point


def save(figure: Figure, stem: Path) -> list[Path]:
    """Write ``stem``.png and ``stem``.svg; return both paths."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".svg")]
    figure.savefig(paths[0], dpi=110, bbox_inches="tight")
    figure.savefig(paths[1], bbox_inches="tight")
    plt.close(figure)
    return paths


SLOPE_LABELS = {
    "sync_to_async": "sync_to_async switches per request",
    "async_to_sync_warm": "async_to_sync switches per request (to a running loop)",
    "async_to_sync_new_loop": "async_to_sync switches per request (new event loop)",
}


def switch_fit(points: list[Point], fit: Fit, label: str, stem: Path) -> list[Path]:
    """CPU ms per request against switches per request, with the fitted lines.

    One panel per kind of switch. Each removes the fitted effect of the other
    kinds (a partial-residual view), so its points sit on the lines exactly
    when the model is right; one line per fixed-cost group (server, endpoint).
    """
    kinds = [name for name in SLOPE_LABELS if name in fit.slopes_us]
    slopes = {name: fit.slopes_us[name]["us_per_switch"] / 1000 for name in kinds}
    figure, axes = plt.subplots(1, len(kinds), figsize=(5.2 * len(kinds), 5.2), squeeze=False)
    for axis, kind in zip(axes[0], kinds, strict=True):
        for point in points:
            server, endpoint = point.group.split("/")[:2]
            others = sum(slopes[o] * getattr(point, o) for o in kinds if o != kind)
            axis.scatter(
                getattr(point, kind),
                point.cpu_ms - others,
                s=28,
                alpha=0.8,
                marker="o" if endpoint == "json" else "^",
                color=style.colour(server),
                facecolors="none" if point.loadgen_bound else style.colour(server),
            )
        top = max((getattr(p, kind) for p in points), default=1) or 1
        for group, fixed in fit.fixed_ms.items():
            axis.plot(
                [0, top],
                [fixed, fixed + slopes[kind] * top],
                linewidth=1,
                alpha=0.6,
                color=style.colour(group.split("/")[0]),
            )
        value = fit.slopes_us[kind]
        axis.set_title(
            f"{value['us_per_switch']:.0f} µs per switch "
            f"(95% CI {value['ci_low_us']:.0f} to {value['ci_high_us']:.0f})",
            fontsize=9,
        )
        axis.set_xlabel(SLOPE_LABELS[kind], fontsize=9)
        axis.set_ylabel("server CPU per request (ms), other switches removed", fontsize=9)
        axis.grid(alpha=0.3)
    servers = sorted({p.group.split("/")[0] for p in points})
    handles = [
        Line2D([], [], color=style.colour(s), marker="o", linestyle="", label=s) for s in servers
    ]
    handles += [
        Line2D([], [], color="black", marker="o", linestyle="", label="json endpoint"),
        Line2D([], [], color="black", marker="^", linestyle="", label="db endpoint"),
        Line2D([], [], color="black", linestyle="-", label="fit, one line per server/endpoint"),
    ]
    if any(p.loadgen_bound for p in points):
        handles.append(
            Line2D(
                [],
                [],
                color="black",
                marker="o",
                markerfacecolor="none",
                linestyle="",
                label="load-generator bound",
            )
        )
    figure.legend(
        handles=handles, loc="lower center", ncol=5, frameon=False, bbox_to_anchor=(0.5, -0.06)
    )
    figure.suptitle(
        f"CPU per request against switches per request (R² {fit.r_squared:.3f}) - {label}"
    )
    figure.tight_layout(rect=(0, 0.05, 1, 1))
    return save(figure, stem)


# ---- per-run charts -------------------------------------------------------

PERCENTILE_SHADES = {"p50": 0.35, "p90": 0.55, "p99": 0.8, "p99_9": 1.0}


def cell_label(cell: dict) -> str:
    """The short name of a cell on a chart (its scenario is the panel title)."""
    identity = cell["cell"]
    parts = [
        identity["endpoint"],
        identity["server"],
        identity["style"],
        identity["stack"],
        f"{identity['users']} users",
    ]
    if identity.get("db_mode"):
        parts.append(identity["db_mode"])
    return " · ".join(parts)


def summary_metric(name: str):
    """(median, min, max) of a summarised metric of a cell."""

    def metric(cell: dict) -> tuple[float | None, float | None, float | None]:
        summary = cell.get("summary", {}).get(name) or {}
        return summary.get("median"), summary.get("min"), summary.get("max")

    return metric


def percentile_median(cell: dict, name: str) -> float | None:
    """Median over repeats of percentile ``name`` ("p99_9"), or None when it is missing
    or some repeat has too few samples to back it (bench.stats.backed)."""
    value = (cell.get("summary", {}).get(f"{name}_ms") or {}).get("median")
    return value if value is not None and stats.backed(cell, name) else None


def _legend_handles(cells: list[dict], bound_note: bool = True, hatches: bool = True) -> list:
    from matplotlib.patches import Patch

    servers = list(dict.fromkeys(cell["cell"]["server"] for cell in cells))
    styles = list(dict.fromkeys(cell["cell"]["style"] for cell in cells))
    handles = [Patch(facecolor=style.colour(s), label=s) for s in servers]
    if hatches:
        handles += [
            Patch(facecolor="#dddddd", hatch=style.STYLE_HATCHES[s], label=f"{s} view")
            for s in styles
        ]
    if bound_note and any(cell.get("loadgen_bound") for cell in cells):
        handles.append(
            Patch(
                facecolor="white",
                edgecolor="black",
                linestyle="--",
                label="load-generator bound: a lower bound",
            )
        )
    if any(cell.get("status") == "failed" for cell in cells):
        handles.append(
            Patch(facecolor="white", edgecolor="white", label="failed: no bar (see note)")
        )
    return handles


def _panel_figure(panels: dict[str, list[dict]]) -> tuple[Figure, Any]:
    """One panel per scenario, stacked, each as tall as its number of cells."""
    heights = [max(len(cells), 1) * 0.42 + 0.9 for cells in panels.values()]
    return plt.subplots(
        len(panels),
        1,
        figsize=(11, sum(heights) + 1.2),
        gridspec_kw={"height_ratios": heights},
        squeeze=False,
    )


def _finish_panels(figure: Figure, handles: list, ncol: int, title: str, stem: Path) -> list[Path]:
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


def cell_bars(
    panels: dict[str, list[dict]],
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
    metric = summary_metric(metric_name)
    figure, axes = _panel_figure(panels)
    every = [cell for cells in panels.values() for cell in cells]
    for axis, (scenario, cells) in zip(axes[:, 0], panels.items(), strict=True):
        positions = list(range(len(cells)))[::-1]
        for y, cell in zip(positions, cells, strict=True):
            median, low, high = metric(cell)
            server, view = cell["cell"]["server"], cell["cell"]["style"]
            if median is None:
                failed = cell.get("status") in ("failed", "not run", "interrupted")
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
            bound = bool(cell.get("loadgen_bound"))
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
        axis.set_yticks(positions, [cell_label(c) for c in cells], fontsize=8)
        axis.set_title(scenario, loc="left", fontsize=10, fontweight="bold")
        axis.grid(axis="x", alpha=0.3)
        if log:
            axis.set_xscale("log")
        axis.set_xlabel(xlabel, fontsize=8)
    return _finish_panels(figure, _legend_handles(every), 4, f"{title} - {label}", stem)


def _plain_log_ticks(axis, which: str = "x") -> None:
    """Log-scale ticks as plain numbers (200, not 2x10^2)."""
    from matplotlib.ticker import FuncFormatter

    def minor(value: float, _position: int) -> str:
        # Label 2x and 5x of each decade too, so a range inside one decade has numbers.
        leading = f"{value:.0e}"[0]
        return f"{value:g}" if leading in "25" else ""

    target = axis.xaxis if which == "x" else axis.yaxis
    target.set_major_formatter(FuncFormatter(lambda value, _position: f"{value:g}"))
    target.set_minor_formatter(FuncFormatter(minor))


PERCENTILE_MARKERS = {"p50": "o", "p90": "s", "p99": "D", "p99_9": "^"}


def latency_chart(panels: dict[str, list[dict]], label: str, stem: Path) -> list[Path]:
    """p50, p90, p99 and p99.9 of every cell (median over repeats) on a log axis.

    A percentile ladder, not bars: on a log scale a bar's length means
    nothing. The line runs from p50 to p99.9; solid for sync views, dashed for
    async; hollow markers for load-generator-bound cells. A percentile that a
    repeat had too few samples for has no marker; the label beside the
    ladder names it.
    """
    figure, axes = _panel_figure(panels)
    every = [cell for cells in panels.values() for cell in cells]
    for axis, (scenario, cells) in zip(axes[:, 0], panels.items(), strict=True):
        positions = list(range(len(cells)))[::-1]
        for y, cell in zip(positions, cells, strict=True):
            server, view = cell["cell"]["server"], cell["cell"]["style"]
            values = {name: percentile_median(cell, name) for name in PERCENTILE_MARKERS}
            omitted = [
                name.replace("_", ".")
                for name in PERCENTILE_MARKERS
                if values[name] is None
                and (cell.get("summary", {}).get(f"{name}_ms") or {}).get("median") is not None
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
                continue
            colour = style.colour(server)
            axis.plot(
                [min(present), max(present)],
                [y, y],
                color=colour,
                linewidth=1.2,
                linestyle="-" if view == "sync" else "--",
            )
            bound = bool(cell.get("loadgen_bound"))
            for name, marker in PERCENTILE_MARKERS.items():
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
        axis.set_yticks(positions, [cell_label(c) for c in cells], fontsize=8)
        axis.set_ylim(-0.7, len(cells) - 0.3)
        axis.set_xscale("log")
        _plain_log_ticks(axis)
        left, right = axis.get_xlim()
        axis.set_xlim(left / 1.3, right * 2.2)  # room for the p99 label
        axis.set_title(scenario, loc="left", fontsize=10, fontweight="bold")
        axis.grid(axis="x", alpha=0.3, which="both")
        axis.set_xlabel("response time (ms, log scale)", fontsize=8)
    handles = _legend_handles(every, bound_note=False, hatches=False)
    handles += [
        Line2D([], [], marker=marker, color="black", linestyle="", label=name.replace("_", "."))
        for name, marker in PERCENTILE_MARKERS.items()
    ]
    handles += [
        Line2D([], [], color="black", linestyle="-", label="sync view"),
        Line2D([], [], color="black", linestyle="--", label="async view"),
    ]
    if any(cell.get("loadgen_bound") for cell in every):
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
    return _finish_panels(
        figure, handles, 5, f"Latency percentiles (exact, not bucketed) - {label}", stem
    )


def sweep_chart(scenario: str, cells: list[dict], label: str, stem: Path) -> list[Path]:
    """Throughput and p99 against users: one line per server x view style.

    A p99 that a repeat had too few samples for is a gap in its line, named
    under the panel.
    """
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.6))
    lines: dict[tuple, list[dict]] = {}
    for cell in cells:
        identity = cell["cell"]
        key = (
            identity["endpoint"],
            identity["server"],
            identity["style"],
            identity["stack"],
            identity.get("db_mode", ""),
        )
        lines.setdefault(key, []).append(cell)
    for (_endpoint, server, view, stack, _db_mode), group in lines.items():
        group.sort(key=lambda c: c["cell"]["users"])
        users = [c["cell"]["users"] for c in group]
        throughput = [
            (c.get("summary", {}).get("throughput_rps") or {}).get("median") for c in group
        ]
        p99 = [percentile_median(c, "p99") for c in group]
        for axis, values in ((left, throughput), (right, p99)):
            name = f"{server} · {view}" + (f" · {stack}" if stack != "none" else "")
            axis.plot(
                users,
                [v if v is not None else float("nan") for v in values],
                color=style.colour(server),
                marker=style.STYLE_MARKERS[view],
                linestyle="-" if view == "sync" else "--",
                label=name,
            )
            for user_count, value, cell in zip(users, values, group, strict=True):
                if value is not None and cell.get("loadgen_bound"):
                    axis.scatter(
                        [user_count],
                        [value],
                        s=120,
                        facecolors="none",
                        edgecolors="black",
                        linewidths=1,
                    )
    left.set_ylabel("throughput (requests/s)")
    right.set_ylabel("p99 response time (ms, log scale)")
    right.set_yscale("log")
    if any(
        percentile_median(c, "p99") is None
        and (c.get("summary", {}).get("p99_ms") or {}).get("median") is not None
        for c in cells
    ):
        right.set_title(
            f"p99 left out where a repeat had fewer than {stats.min_samples(0.99):,} samples",
            fontsize=8,
        )
    for axis in (left, right):
        axis.set_xlabel("concurrent users")
        axis.set_xscale("log")
        axis.grid(alpha=0.3, which="both")
    handles, labels = left.get_legend_handles_labels()
    if any(cell.get("loadgen_bound") for cell in cells):
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                markersize=10,
                markerfacecolor="none",
                markeredgecolor="black",
                linestyle="",
            )
        )
        labels.append("load-generator bound")
    figure.legend(
        handles,
        labels,
        loc="lower center",
        ncol=3,
        frameon=False,
        fontsize=8,
        bbox_to_anchor=(0.5, -0.1),
    )
    figure.suptitle(f"{scenario}: user-count sweep - {label}")
    figure.tight_layout(rect=(0, 0.06, 1, 1))
    return save(figure, stem)


def hops_chart(panels: dict[str, list[dict]], label: str, stem: Path) -> list[Path]:
    """sync_to_async and async_to_sync switches per request, stacked, per cell."""
    from matplotlib.patches import Patch

    figure, axes = _panel_figure(panels)

    def total(cell: dict) -> float:
        summary = cell.get("summary", {})
        return sum(
            (summary.get(name) or {}).get("median") or 0.0
            for name in ("sync_to_async_per_request", "async_to_sync_per_request")
        )

    # One scale for every panel, with room for the labels: counts compare across scenarios.
    widest = max((total(c) for cells in panels.values() for c in cells), default=1.0)
    for axis, (scenario, cells) in zip(axes[:, 0], panels.items(), strict=True):
        axis.set_xlim(0, widest * 1.15 + 1)
        positions = list(range(len(cells)))[::-1]
        for y, cell in zip(positions, cells, strict=True):
            s2a = (cell.get("summary", {}).get("sync_to_async_per_request") or {}).get("median")
            a2s = (cell.get("summary", {}).get("async_to_sync_per_request") or {}).get("median")
            if s2a is None:
                axis.text(0.1, y, "no counts", va="center", fontsize=8, color="#666666")
                continue
            colour = style.colour(cell["cell"]["server"])
            axis.barh(y, s2a, color=colour, height=0.7)
            axis.barh(y, a2s or 0, left=s2a, color=colour, alpha=0.45, hatch="..", height=0.7)
            axis.text(
                s2a + (a2s or 0) + 0.1, y, f"{s2a:.1f} + {a2s or 0:.1f}", va="center", fontsize=7
            )
        axis.set_yticks(positions, [cell_label(c) for c in cells], fontsize=8)
        axis.set_title(scenario, loc="left", fontsize=10, fontweight="bold")
        axis.set_xlabel("switches per request", fontsize=8)
        axis.grid(axis="x", alpha=0.3)
    handles = [
        Patch(facecolor="#777777", label="sync_to_async"),
        Patch(facecolor="#777777", alpha=0.45, hatch="..", label="async_to_sync"),
    ]
    return _finish_panels(
        figure, handles, 2, f"Sync/async switches per request (server-side counts) - {label}", stem
    )


def comparison(a, b, rows: list[dict], stem: Path) -> list[Path]:
    """Side by side, A and B, per shared cell: throughput, p99 and CPU per request."""
    import numpy as np

    metrics = (
        ("throughput", "requests per second"),
        ("p99", "p99 response time (ms)"),
        ("CPU/request", "server CPU ms per request"),
    )
    height = max(len(rows) * 0.45 + 1.5, 3)
    figure, axes = plt.subplots(1, 3, figsize=(15, height), sharey=True)
    positions = np.arange(len(rows))[::-1]
    for axis, (name, xlabel) in zip(axes, metrics, strict=True):
        for offset, side, colour in ((0.2, "a", "#9e9e9e"), (-0.2, "b", "#1f77b4")):
            # No bar for a percentile its repeats had too few samples for.
            values = [
                float(np.median(r["metrics"][name][side]))
                if r["metrics"][name][side]
                and stats.TOO_FEW_SAMPLES not in r["metrics"][name]["verdict"]
                else 0.0
                for r in rows
            ]
            axis.barh(
                positions + offset,
                values,
                height=0.38,
                color=colour,
                label=f"{'A' if side == 'a' else 'B'}: {(a if side == 'a' else b).path.name}",
            )
        for y, row in zip(positions, rows, strict=True):
            metric = row["metrics"][name]
            if stats.TOO_FEW_SAMPLES in metric["verdict"]:
                axis.annotate(
                    stats.TOO_FEW_SAMPLES,
                    (0, y),
                    xytext=(3, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize=7,
                    color="#666666",
                )
            elif metric["ratio"] is not None:
                # One repeat is no evidence either way: never marked "not significant".
                untested = metric["p_value"] is None
                mark = "" if metric["significant"] else (" not tested" if untested else " ns")
                axis.annotate(
                    f"x{metric['ratio']:.2f}{mark}",
                    (0, y),
                    xytext=(3, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize=7,
                )
        axis.set_xlabel(xlabel)
        axis.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(
        positions,
        [r["cell"] + (" (bound)" if r["loadgen_bound"] else "") for r in rows],
        fontsize=7,
    )
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="upper center", ncol=2, frameon=False, fontsize=8)
    figure.suptitle(
        "B against A per shared cell (bars: medians; x: B/A of geometric means; "
        "ns: not significant after Holm)",
        y=1.02,
    )
    figure.tight_layout(rect=(0, 0, 1, 0.95))
    return save(figure, stem)


def soak_chart(analysis: dict, label: str, stem: Path) -> list[Path]:
    """Throughput, p99, errors and server RSS minute by minute."""
    minutes = analysis["minutes"]
    x = [m["minute"] for m in minutes]
    figure, axes = plt.subplots(1, 3, figsize=(14, 4))
    series = (
        ("throughput_rps", "requests per second", "#1f77b4"),
        ("p99_ms", "p99 response time (ms)", "#d62728"),
        ("rss_peak_mb", "server peak RSS (MiB)", "#2ca02c"),
    )
    for axis, (key, ylabel, colour) in zip(axes, series, strict=True):
        values = [m[key] if m[key] is not None else float("nan") for m in minutes]
        axis.plot(x, values, marker="o", color=colour, label=ylabel)
        axis.set_xlabel("minute of the soak")
        axis.set_ylabel(ylabel)
        axis.set_ylim(bottom=0)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8, loc="lower right")
    errors = sum(m["errors"] for m in minutes)
    flags = "; ".join(analysis["flags"]) or "no flags"
    figure.suptitle(f"Soak of {analysis['cell']}: {errors} errors, {flags} - {label}", fontsize=10)
    figure.tight_layout()
    return save(figure, stem)
