"""The charts of a report: which a run gets, drawn on every CPU this process may use."""

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bench.report import charts

FOREST = "Verdict ratios"  # the chart the answer shows, right under its sentences

# The bar charts of every run: (title, metric, axis label, chart heading, file stem).
CELL_BARS = (
    (
        "Throughput",
        "throughput_rps",
        "requests per second (median, whiskers: min-max of repeats)",
        "Throughput per cell",
        "throughput",
    ),
    (
        "Server CPU per request",
        "cpu_ms_per_request",
        "server CPU ms per request (all server processes)",
        "Server CPU per request",
        "cpu",
    ),
    (
        "Peak memory",
        "pss_peak_mb",
        "peak PSS of all server processes, shared pages counted once (MiB)",
        "Peak server memory",
        "memory",
    ),
    (
        "Peak threads",
        "threads_peak",
        "peak threads of all server processes",
        "Peak server threads",
        "threads",
    ),
)


def chart_jobs(
    cells: list[dict], grouped: dict, label: str, charts: Path, slo_ms: float = 100.0
) -> list[tuple]:
    """(title, name in bench.report.charts.CHARTS, arguments) of every chart a run gets."""
    if not cells:
        return []
    # An open-loop cell's throughput is the rate it was offered, not what it
    # could serve: it stays out of the closed-loop throughput bars.
    closed = {
        scenario: kept
        for scenario, scenario_cells in grouped.items()
        if (kept := [cell for cell in scenario_cells if not cell.cell.rate])
    }
    bars = [
        (
            title,
            "cell_bars",
            (
                closed if metric == "throughput_rps" else grouped,
                metric,
                axis,
                heading,
                label,
                charts / stem,
            ),
        )
        for title, metric, axis, heading, stem in CELL_BARS
        if metric != "throughput_rps" or closed
    ]
    # the latency ladder comes second, after throughput
    first = 1 if closed else 0
    jobs = [
        *bars[:first],
        ("Latency percentiles", "latency_chart", (grouped, label, charts / "latency")),
        *bars[first:],
    ]
    if any(c.median("sync_to_async_per_request") is not None for c in cells):
        jobs.append(("Switches per request", "hops_chart", (grouped, label, charts / "hops")))
    return jobs + sweep_jobs(grouped, label, charts, slo_ms)


def forest_job(points: list[tuple], names: tuple[str, str], label: str, charts: Path) -> tuple:
    """The forest plot of the answer's ratios (bench.report.answer.forest_points)."""
    return (FOREST, "forest", (points, *names, label, charts / "verdicts"))


def sweep_jobs(grouped: dict, label: str, charts: Path, slo_ms: float) -> list[tuple]:
    """A user-count sweep per scenario run at several user counts, and an
    open-loop rate sweep per scenario run at several rates."""
    jobs: list[tuple] = []
    for scenario, scenario_cells in grouped.items():
        closed = [c for c in scenario_cells if not c.cell.rate]
        opened = [c for c in scenario_cells if c.cell.rate]
        if len({c.cell.users for c in closed}) > 1:
            jobs.append(
                (
                    f"{scenario}: user-count sweep",
                    "sweep_chart",
                    (scenario, closed, label, charts / f"sweep-{scenario}"),
                )
            )
        if len({c.cell.rate for c in opened}) > 1:
            jobs.append(
                (
                    f"{scenario}: open-loop rate sweep",
                    "rate_sweep_chart",
                    (scenario, opened, slo_ms, label, charts / f"rates-{scenario}"),
                )
            )
    return jobs


def draw(job: tuple) -> tuple[str, Path]:
    """Draw one chart (in a worker process); its title and PNG path."""
    title, function, args = job
    paths = charts.draw(function, *args)
    return title, next(path for path in paths if path.suffix == ".png")


def draw_all(jobs: list[tuple]) -> dict[str, Path]:
    """Draw the charts on every CPU this process may use: matplotlib is single-threaded.

    Workers are forked (spawned ones would leave multiprocessing's resource
    tracker running), and only from a single-threaded process, where forking
    is safe; otherwise the charts are drawn one after another.
    """
    cpus = len(os.sched_getaffinity(0))
    if cpus < 2 or len(jobs) < 2 or threading.active_count() > 1:
        return dict(draw(job) for job in jobs)
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=min(cpus, len(jobs)), mp_context=context) as pool:
        return dict(pool.map(draw, jobs))
