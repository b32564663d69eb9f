"""The user-count sweep: how throughput and p99 change as concurrent users grow,
one chart per scenario that ran at more than one user count."""

from pathlib import Path

# common first: it selects matplotlib's Agg backend before pyplot is imported.
from bench.report.charts import common

# isort: split
import matplotlib.pyplot as plt
from matplotlib.lines import Line2D

from bench.analyse import stats
from bench.analyse.groups import by_identity
from bench.report import style
from bench.results.records import CellDocument

# A line of a sweep: the cells that differ only in their load.
LINE = ("endpoint", "server", "style", "stack", "db_mode")
RATE_LINE = ("endpoint", "server", "style", "stack")
RATE_PERCENTILES = (("p50", ":"), ("p99", "-"), ("p99_9", "--"))


def _circle() -> Line2D:
    """The legend's hollow black circle that marks a point on a line."""
    return Line2D(
        [],
        [],
        marker="o",
        markersize=10,
        markerfacecolor="none",
        markeredgecolor="black",
        linestyle="",
    )


def _line_name(server: str, view: str, stack: str) -> str:
    return f"{server} · {view}" + (f" · {stack}" if stack != "none" else "")


def _nan(values: list[float | None]) -> list[float]:
    """A gap in the line where a value is missing."""
    return [v if v is not None else float("nan") for v in values]


def _median(cell: CellDocument, metric: str) -> float | None:
    return cell.median(metric)


def sweep_chart(scenario: str, cells: list[CellDocument], label: str, stem: Path) -> list[Path]:
    """Throughput and p99 against users: one line per server x view style.

    A p99 that a repeat had too few samples for is a gap in its line, named
    under the panel.
    """
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.6))
    for group in by_identity(cells, LINE).values():
        _user_lines(left, right, sorted(group, key=lambda c: c.cell.users))
    left.set_ylabel("throughput (requests/s)")
    right.set_ylabel("p99 response time (ms, log scale)")
    right.set_yscale("log")
    if any(
        common.percentile_median(c, "p99") is None and _median(c, "p99_ms") is not None
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
    if any(cell.loadgen_bound for cell in cells):
        handles.append(_circle())
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
    return common.save(figure, stem)


def _user_lines(left, right, group: list[CellDocument]) -> None:
    """One configuration's throughput (left) and p99 (right) against users; its
    load-generator-bound points circled."""
    identity = group[0].cell
    server, view = identity.server, identity.style
    users = [c.cell.users for c in group]
    throughput = [_median(c, "throughput_rps") for c in group]
    p99 = [common.percentile_median(c, "p99") for c in group]
    for axis, values in ((left, throughput), (right, p99)):
        axis.plot(
            users,
            _nan(values),
            color=style.colour(server),
            marker=style.STYLE_MARKERS[view],
            linestyle="-" if view == "sync" else "--",
            label=_line_name(server, view, identity.stack),
        )
        for user_count, value, cell in zip(users, values, group, strict=True):
            if value is not None and cell.loadgen_bound:
                axis.scatter(
                    [user_count],
                    [value],
                    s=120,
                    facecolors="none",
                    edgecolors="black",
                    linewidths=1,
                )


def rate_sweep_chart(
    scenario: str, cells: list[CellDocument], slo_ms: float, label: str, stem: Path
) -> list[Path]:
    """Open loop: latency from the due time against offered rate, and achieved
    against offered rate; one colour per server, the objective drawn across.

    The hockey stick is where a configuration stops coping: latency leaves the
    floor and crosses the objective. A percentile that a repeat had too few
    samples for is left out; a rate where some repeat was unsustainable (fell
    behind the schedule, dropped requests, or latency kept growing) is circled.
    """
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    top = 0
    for group in by_identity(cells, RATE_LINE).values():
        group = sorted(group, key=lambda c: c.cell.rate)
        top = max(top, *(c.cell.rate for c in group))
        _rate_lines(left, right, group)
    left.axhline(slo_ms, color="crimson", linewidth=1)
    left.annotate(
        f"objective: p99 < {slo_ms:g} ms",
        (0.01, slo_ms),
        xycoords=("axes fraction", "data"),
        color="crimson",
        fontsize=8,
        va="bottom",
    )
    left.set_ylabel("latency from the due time (ms, log scale)")
    left.set_yscale("log")
    if top:
        right.plot([0, top], [0, top], color="grey", linewidth=0.8, linestyle=":")
    right.set_ylabel("achieved requests/s")
    for axis in (left, right):
        axis.set_xlabel("offered requests/s (open loop)")
        axis.grid(alpha=0.3, which="both")
    left.set_xscale("log")
    right.set_xscale("log")
    right.set_yscale("log")
    for axis in (left, right):
        common.plain_log_ticks(axis, "x")
    common.plain_log_ticks(right, "y")
    handles, labels = left.get_legend_handles_labels()
    handles.append(_circle())
    labels.append("unsustainable in some repeat")
    figure.legend(
        handles, labels, loc="lower center", ncol=4, frameon=False, fontsize=7,
        bbox_to_anchor=(0.5, -0.16),
    )  # fmt: skip
    figure.suptitle(f"{scenario}: open-loop rate sweep - {label}")
    figure.tight_layout(rect=(0, 0.1, 1, 1))
    return common.save(figure, stem)


def _rate_lines(left, right, group: list[CellDocument]) -> None:
    """One configuration's percentiles from the due time (left) and achieved
    rate (right) against the offered rate; its unsustainable rates circled."""
    identity = group[0].cell
    server, view = identity.server, identity.style
    rates = [c.cell.rate for c in group]
    name = _line_name(server, view, identity.stack)
    for percentile, line in RATE_PERCENTILES:
        values = [common.percentile_median(c, percentile) for c in group]
        left.plot(
            rates,
            _nan(values),
            color=style.colour(server),
            marker=style.STYLE_MARKERS[view],
            markersize=4,
            linestyle=line,
            label=f"{name} {percentile.replace('_', '.')}",
        )
    achieved = [_median(c, "throughput_rps") for c in group]
    right.plot(
        rates,
        _nan(achieved),
        color=style.colour(server),
        marker=style.STYLE_MARKERS[view],
        label=name,
    )
    for rate, cell, value in zip(rates, group, achieved, strict=True):
        unsustainable = any(
            r.open_loop is not None
            and r.open_loop.has("sustainable")
            and not r.open_loop.sustainable
            for r in cell.ok_repeats
        )
        if unsustainable and value is not None:
            # circled where achieved is drawn: it exists even when p99 lacks samples
            right.scatter([rate], [value], s=140, facecolors="none", edgecolors="black")
