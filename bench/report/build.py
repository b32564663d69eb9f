"""``bench report``: the charts, report.md and a self-contained report.html of a run.

Everything is derived from the run directory alone (run.json and the cell
JSONs), so a report can be rebuilt at any time, on any machine, and a run
copied elsewhere is still readable.
"""

import base64
import multiprocessing
import os
import threading
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from bench.analyse import held, stats, sustained, verdicts
from bench.numbers import fmt
from bench.report import charts, switch_report
from bench.results import store as results
from bench.site import verdict as site_verdict

TEMPLATES = Path(__file__).resolve().parent / "templates"
NOISE_LIMIT_PCT = 5.0


@dataclass
class Report:
    run: results.Run
    charts: dict[str, Path] = field(default_factory=dict)  # title -> PNG
    verdicts: dict[str, list[dict]] = field(default_factory=dict)
    sustained: list[dict] = field(default_factory=list)  # open loop: rate kept under the SLO
    sustained_verdicts: list[dict] = field(default_factory=list)
    held: list[dict] = field(default_factory=list)  # held connections: cost and how many kept
    caveats: list[str] = field(default_factory=list)
    environment: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    site: dict[str, Any] | None = None  # a run of the user's own project: its verdict


def ordered_cells(run: results.Run) -> list[dict]:
    """Cells in the run's matrix order; cells that never ran appear as failed gaps."""
    order = [cell["id"] for cell in run.data.get("matrix", {}).get("cells", [])]
    cells = []
    for identity in run.data.get("matrix", {}).get("cells", []):
        cell = run.cells.get(identity["id"])
        if cell is None:
            cell = {"cell": identity, "status": "not run", "repeats": [], "summary": {}}
        cells.append(cell)
    cells += [cell for cell_id, cell in run.cells.items() if cell_id not in order]
    return cells


def panels(cells: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = defaultdict(list)
    for cell in cells:
        grouped[cell["cell"]["scenario"]].append(cell)
    return dict(grouped)


def interfaces(run: results.Run) -> dict[str, str]:
    return {
        name: server.get("interface", "")
        for name, server in run.data.get("matrix", {}).get("servers", {}).items()
    }


def baselines(run: results.Run) -> dict[str, str]:
    """The baseline endpoint each scenario of the run declares (BENCH "baseline")."""
    declared = run.data.get("matrix", {}).get("scenarios", {})
    return {
        name: definition["matrix"]["baseline"]
        for name, definition in declared.items()
        if definition.get("matrix", {}).get("baseline")
    }


def caveats(run: results.Run, cells: list[dict]) -> list[str]:
    """What a reader must know before trusting a number of this run."""
    notes = []
    status = run.data.get("status")
    if status != "complete":
        reason = run.data.get("interrupted_reason") or "some repeats failed"
        notes.append(
            f"This run is {status}: {reason}. Its figures cover only the finished repeats."
        )
    notes += calibration_caveats(run.data.get("calibration"))
    for cell in cells:
        identity, state = cell["cell"]["id"], cell.get("status")
        if state in ("failed", "not run", "interrupted"):
            reasons = [r.get("reason") for r in cell.get("repeats", []) if r.get("reason")]
            first = reasons[0].splitlines()[0] if reasons else "it did not run"
            notes.append(f"{identity}: {state}, no figure shown ({first}).")
        elif state == "skipped":
            notes.append(
                f"{identity}: not measured: no pass's search of its configuration needed this rate."
            )
        elif any(r.get("status") == "skipped" for r in cell.get("repeats", [])):
            measured = [r.get("repeat") for r in cell["repeats"] if r.get("status") == "ok"]
            notes.append(
                f"{identity}: measured in pass(es) {', '.join(map(str, measured)) or 'none'} "
                f"of {len(cell['repeats'])} only: the other passes' searches did not need "
                "this rate, so its figures come from fewer repeats."
            )
        if any(
            r.get("status") == "ok" and (r.get("open_loop") or {}).get("latency_from_due") is False
            for r in cell.get("repeats", [])
        ):
            notes.append(
                f"{identity}: latency from sending, not from the due time, in some repeats: "
                "requests were made outside the open-loop schedule (on_start)."
            )
        if state == "partial":
            failed = [r for r in cell.get("repeats", []) if r.get("status") == "failed"]
            why = ""
            if failed:
                first = (failed[0].get("reason") or "no reason recorded").splitlines()[0]
                why = f" (repeat {failed[0].get('repeat', '?')} failed: {first})"
            notes.append(f"{identity}: only some repeats succeeded; its figures use those{why}.")
        if cell.get("loadgen_bound"):
            repeats = cell.get("loadgen_bound_repeats", [])
            reasons = {
                reason
                for r in cell.get("repeats", [])
                for reason in r.get("loadgen", {}).get("bound_reasons", [])
            }
            notes.append(
                f"{identity}: load-generator bound in repeats {repeats} "
                f"({'; '.join(sorted(reasons))}); its throughput is a lower bound and "
                "its latency includes locust's own delays; its CPU per request is "
                "still a measurement."
            )
        notes += repeat_flags(identity, cell.get("repeats", []))
        for metric in ("throughput_rps", "cpu_ms_per_request"):
            spread = (cell.get("summary", {}).get(metric) or {}).get("spread_pct")
            if spread is not None and spread > NOISE_LIMIT_PCT:
                notes.append(
                    f"{identity}: {metric} varies {spread:.1f}% between repeats "
                    f"(above {NOISE_LIMIT_PCT:.0f}%)."
                )
        errors = (cell.get("summary", {}).get("error_rate") or {}).get("median")
        if errors:
            notes.append(f"{identity}: {errors:.1%} of requests failed.")
    return notes


def calibration_caveats(calibration: dict[str, Any] | None) -> list[str]:
    """What the load generator's ceilings say, one per user count and connection mode."""
    if calibration is None:
        return []
    ceilings = calibration.get("ceilings") or []
    if not ceilings:
        return [
            "The load-generator calibration failed: load-generator bound cells are "
            "flagged by the load generator's CPU only."
        ]
    notes = []
    for ceiling in ceilings:
        if ceiling.get("open_loop"):
            if ceiling.get("status") != "ok":
                notes.append(f"The open-loop calibration failed ({ceiling.get('reason')}).")
            elif ceiling["kept"]:
                notes.append(
                    f"locust kept an open-loop schedule of {ceiling['rate']} requests/s against "
                    "a bare ASGI app: p99 from the due time "
                    f"{stats.ms_or_beyond(ceiling['p99_from_due_ms'])}, "
                    "the load generator's own floor under every open-loop latency here."
                )
            else:
                notes.append(
                    f"locust could not keep {ceiling['rate']} requests/s even against a bare "
                    f"ASGI app ({'; '.join(ceiling['reasons'])}): every open-loop cell of this "
                    "run is flagged as load-generator bound."
                )
            continue
        mode = "keep-alive" if ceiling.get("keep_alive") else "a new connection per request"
        head = f"locust's ceiling with {ceiling.get('users')} users and {mode}"
        if ceiling.get("ceiling_rps") is None:
            notes.append(f"{head}: the calibration failed ({ceiling.get('reason')}).")
        elif ceiling.get("valid"):
            notes.append(
                f"{head} was {ceiling['ceiling_rps']:,.0f} requests/s (bare ASGI app): "
                "cells at 80% of it or more are flagged."
            )
        else:
            notes.append(
                f"{head} could not be measured: the load generator was not the limit "
                f"({ceiling.get('note')}); only its CPU flags those cells."
            )
    return notes


def _change(steady: dict[str, Any]) -> str:
    """'+12%', or, when the first third had no completions (nothing to divide
    by: a stalled start), 'from none to 40/s'."""
    if steady.get("change_pct") is not None:
        return fmt(steady["change_pct"], "{:+.0f}%")
    return f"from none to {steady.get('last_rps') or 0:,.0f}/s"


def repeat_flags(identity: str, repeats: list[dict[str, Any]]) -> list[str]:
    """Repeats whose figures describe a moving target or mismatched seconds."""
    notes = []
    good = [r for r in repeats if r.get("status") == "ok"]
    unsteady = [r for r in good if (r.get("steady") or {}).get("steady") is False]
    if unsteady:
        changes = ", ".join(f"r{r.get('repeat')} {_change(r['steady'])}" for r in unsteady)
        notes.append(
            f"{identity}: not steady: throughput in the window's last third differs "
            f"from its first by more than 10% ({changes})."
        )
    mismatched = [r for r in good if (r.get("intervals") or {}).get("differ")]
    if mismatched:
        gaps = ", ".join(
            f"r{r.get('repeat')} {r['intervals']['mismatch_pct']:.1f}%" for r in mismatched
        )
        notes.append(
            f"{identity}: the CPU interval and locust's window differ by more than 1% "
            f"({gaps}); throughput and CPU share the CPU interval, latency is locust's window."
        )
    stolen = {note for r in good for note in (r.get("loadgen") or {}).get("notes", [])}
    for note in sorted(stolen):
        notes.append(f"{identity}: {note}.")
    return notes


def statistics_caveats(rows: list[dict], cells: list[dict]) -> list[str]:
    """How to read the verdicts' intervals (``rows``: every verdict of the report,
    the open-loop headlines included) and the latency table's gaps."""
    notes = []
    metrics = [m for row in rows for m in row["metrics"].values()]
    tested = sum(metric["p_value"] is not None for metric in metrics)
    if tested:
        notes.append(
            "Verdict intervals are unadjusted 95% intervals of the ratio of geometric means "
            "(Welch's t on log values over repeats); significance is decided after Holm's "
            f"correction across all {tested} tested ratios of this report, so an interval that "
            'excludes 1 can still be "not significant after Holm".'
        )
    hidden = [
        name
        for name in stats.PERCENTILES
        if any(
            (cell.get("summary", {}).get(f"{name}_ms") or {}).get("median") is not None
            and not stats.backed(cell, name)
            for cell in cells
        )
    ]
    if hidden:
        needs = ", ".join(
            f"{name.replace('_', '.')} needs {stats.min_samples(stats.PERCENTILES[name] / 100):,}"
            for name in hidden
        )
        notes.append(
            f'Latency percentiles show "{stats.TOO_FEW_SAMPLES}" where a repeat had fewer '
            f"than 10 / (1 - q) samples ({needs}) and the charts leave those markers out; "
            "the values stay in the cell JSON."
        )
    return notes


def environment(run: results.Run) -> list[tuple[str, str]]:
    data = run.data
    meta = data.get("metadata", {})
    packages = meta.get("packages", {})
    machine = meta.get("machine", {})
    options = data.get("options", {})
    database = meta.get("database", {})
    git = meta.get("git", {})
    rows = [
        ("run", f"{data.get('run_id', run.path.name)} ({data.get('status')})"),
        ("started", str(data.get("started_at"))),
        ("Python", str(meta.get("python"))),
        ("Django / asgiref", f"{packages.get('django')} / {packages.get('asgiref')}"),
        (
            "gunicorn / uvicorn / uvicorn-worker",
            " / ".join(
                str(packages.get(name)) for name in ("gunicorn", "uvicorn", "uvicorn-worker")
            ),
        ),
        ("locust", str(packages.get("locust"))),
        ("git", f"{(git.get('commit') or '?')[:12]}{' (dirty)' if git.get('dirty') else ''}"),
        ("CPU", f"{machine.get('cpu_model')}, {machine.get('logical_cpus')} logical CPUs"),
        ("kernel", str(machine.get("kernel"))),
        (
            "pinning",
            f"server CPUs {options.get('server_cpus')}, locust CPUs {options.get('loadgen_cpus')}",
        ),
        (
            "per cell",
            f"{options.get('warmup_s')} s warm-up, {options.get('duration_s')} s window, "
            f"{options.get('repeats')} repeats, {options.get('workers')} worker(s), "
            f"{options.get('threads')} gthread threads",
        ),
        (
            "database",
            database.get("engine", "?") + (f" {database['url']}" if "url" in database else ""),
        ),
        ("switch accounting", "on" if options.get("switch_accounting") else "off"),
    ]
    return rows


def chart_jobs(
    cells: list[dict], grouped: dict, label: str, charts: Path, slo_ms: float = 100.0
) -> list[tuple]:
    """(title, name in bench.report.charts.CHARTS, arguments) of every chart a run gets."""
    if not cells:
        return []
    jobs: list[tuple] = [
        (
            "Throughput",
            "cell_bars",
            (
                grouped,
                "throughput_rps",
                "requests per second (median, whiskers: min-max of repeats)",
                "Throughput per cell",
                label,
                charts / "throughput",
            ),
        ),
        ("Latency percentiles", "latency_chart", (grouped, label, charts / "latency")),
        (
            "Server CPU per request",
            "cell_bars",
            (
                grouped,
                "cpu_ms_per_request",
                "server CPU ms per request (all server processes)",
                "Server CPU per request",
                label,
                charts / "cpu",
            ),
        ),
        (
            "Peak memory",
            "cell_bars",
            (
                grouped,
                "pss_peak_mb",
                "peak PSS of all server processes, shared pages counted once (MiB)",
                "Peak server memory",
                label,
                charts / "memory",
            ),
        ),
        (
            "Peak threads",
            "cell_bars",
            (
                grouped,
                "threads_peak",
                "peak threads of all server processes",
                "Peak server threads",
                label,
                charts / "threads",
            ),
        ),
    ]
    if any(
        (c.get("summary", {}).get("sync_to_async_per_request") or {}).get("median") is not None
        for c in cells
    ):
        jobs.append(("Switches per request", "hops_chart", (grouped, label, charts / "hops")))
    for scenario, scenario_cells in grouped.items():
        closed = [c for c in scenario_cells if not c["cell"].get("rate")]
        opened = [c for c in scenario_cells if c["cell"].get("rate")]
        if len({c["cell"]["users"] for c in closed}) > 1:
            jobs.append(
                (
                    f"{scenario}: user-count sweep",
                    "sweep_chart",
                    (scenario, closed, label, charts / f"sweep-{scenario}"),
                )
            )
        if len({c["cell"]["rate"] for c in opened}) > 1:
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


def build(path: Path, charts: bool = True) -> Report:
    """Draw every chart and write report.md and report.html into the run directory.

    ``charts=False`` writes the documents without drawing (matplotlib is most of
    a report's time): for a caller that only reads the verdicts and caveats.
    """
    started = time.perf_counter()
    run = results.read_run(path)
    report = Report(run=run)
    cells = ordered_cells(run)
    grouped = panels(cells)
    slo_ms = float(run.data.get("options", {}).get("slo_ms") or 100.0)
    if charts:
        report.charts.update(
            draw_all(chart_jobs(cells, grouped, run.label, run.path / "charts", slo_ms))
        )
    if charts and any(cell["cell"]["scenario"] == "switches" for cell in cells):
        _, microbench = switch_report.load_microbench(run.path.parent)
        analysis = switch_report.analyse(run, microbench)
        for written in switch_report.write(run, analysis):
            if written.suffix == ".png":
                kind = written.stem.removeprefix("switch-fit-")
                report.charts[f"Switch cost fit ({kind})"] = written
    report.verdicts = verdicts.verdicts(
        [c for c in cells if c.get("repeats")], interfaces(run), baselines(run)
    )
    report.sustained = sustained.sustained_rates(cells, slo_ms)
    report.sustained_verdicts = sustained.headline_verdicts(report.sustained, interfaces(run))
    report.held = held.rows(cells)
    # One family for Holm: every ratio this report calls significant or not.
    family = [
        *(row for rows in report.verdicts.values() for row in rows),
        *report.sustained_verdicts,
    ]
    verdicts.correct(family)
    report.site = site_verdict.verdict(run.data, cells, interfaces(run))
    report.caveats = caveats(run, cells) + statistics_caveats(family, cells)
    report.environment = environment(run)
    write_markdown(report)
    write_html(report)
    report.seconds = time.perf_counter() - started
    return report


def other_times(cells: list[dict]) -> list[dict[str, Any]]:
    """Every request name of a cell that recorded several, from its first
    successful repeat: a site's pages or a locustfile's tasks (all counted in the
    cell's figures), or times a scenario recorded beside its headline (time to
    first byte, headers...), which are not."""
    rows = []
    for cell in cells:
        repeat = next((r for r in cell.get("repeats", []) if r.get("status") == "ok"), None)
        if not repeat or len(repeat.get("latency_by_name", {})) < 2:
            continue
        # Records older than counted_names counted their one primary name.
        counted = repeat.get("counted_names") or [repeat.get("primary")]
        failures = repeat.get("failures_by_name") or {}
        for name, latency in sorted(repeat["latency_by_name"].items()):
            rows.append(
                {
                    "cell": cell["cell"]["id"],
                    "name": name,
                    "counted": name in counted,
                    "failures": failures.get(name, 0),
                    "p50": percentile_text(latency["p50"], stats.supports(latency, "p50")),
                    "p99": stats.BEYOND_ANSWERS
                    if latency.get("unanswered") and latency["p99"] is None
                    else percentile_text(latency["p99"], stats.supports(latency, "p99")),
                    "count": latency["count"],
                }
            )
    return rows


def percentile_text(value: float | None, supported: bool) -> str:
    """A latency percentile in ms, or "too few samples" when its count does not back it."""
    if value is None:
        return "-"
    return f"{value:.2f}" if supported else stats.TOO_FEW_SAMPLES


def cell_percentile(cell: dict, name: str) -> str:
    """The median over repeats of percentile ``name`` ("p99_9") of a cell, gated per repeat."""
    if stats.beyond_answers(cell, name):
        return stats.BEYOND_ANSWERS
    value = (cell.get("summary", {}).get(f"{name}_ms") or {}).get("median")
    return percentile_text(value, stats.backed(cell, name))


def abandoned_work(cells: list[dict]) -> list[dict[str, Any]]:
    """What the server did with requests whose clients left: cleanups (an async
    view cancelled) and completions (a view that ran to its end for nobody)."""
    rows = []
    for cell in cells:
        for repeat in cell.get("repeats", []):
            switches = repeat.get("switches") or {}
            if repeat.get("status") != "ok" or not (
                switches.get("disconnect_cleanups") or switches.get("disconnect_completed")
            ):
                continue
            abandoned = repeat["requests"] or 1
            rows.append(
                {
                    "cell": cell["cell"]["id"],
                    "repeat": repeat["repeat"],
                    "abandoned": abandoned,
                    "cleanups": switches["disconnect_cleanups"] / abandoned,
                    "completed": switches["disconnect_completed"] / abandoned,
                }
            )
            break
    return rows


def _context(report: Report) -> dict[str, Any]:
    cells = ordered_cells(report.run)
    return {
        "other_times": other_times(cells),
        "abandoned": abandoned_work(cells),
        "label": report.run.label,
        "site": report.site,
        "site_about": report.run.data.get("site"),
        "environment": report.environment,
        "verdicts": {
            scenario: [dict(row, text=verdicts.describe(row)) for row in rows]
            for scenario, rows in report.verdicts.items()
        },
        "caveats": report.caveats,
        "cells": cells,
        # a column for the database's CPU only when some cell measured it
        "db_cpu": any(
            (cell.get("summary", {}).get("db_cpu_ms_per_request") or {}).get("median") is not None
            for cell in cells
        ),
        "sustained": [dict(row, text=sustained.describe_rate(row)) for row in report.sustained],
        "sustained_verdicts": [sustained.describe_verdict(v) for v in report.sustained_verdicts],
        "held": [held.describe(row) for row in report.held],
    }


def _jinja() -> Environment:
    environment_ = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment_.filters["num"] = fmt
    environment_.globals["median"] = lambda cell, metric: (
        cell.get("summary", {}).get(metric) or {}
    ).get("median")
    environment_.globals["percentile"] = cell_percentile
    return environment_


def write_markdown(report: Report) -> Path:
    charts = {
        title: path.relative_to(report.run.path).as_posix() for title, path in report.charts.items()
    }
    text = _jinja().get_template("report.md.j2").render(charts=charts, **_context(report))
    target = report.run.path / "report.md"
    target.write_text(text)
    return target


def write_html(report: Report) -> Path:
    charts = {
        title: "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()
        for title, path in report.charts.items()
    }
    text = _jinja().get_template("report.html.j2").render(charts=charts, **_context(report))
    target = report.run.path / "report.html"
    target.write_text(text)
    return target
