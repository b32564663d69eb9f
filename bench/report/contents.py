"""What a report says, before anything is drawn or written: its contents.

The run's cells in matrix order, the verdicts with Holm's correction over
every ratio, the open-loop sustained rates, the held connections, a site's
verdict and the caveats. ``read`` is all a caller needs that only prints the
verdicts (``verdict_lines``); ``bench.report.build`` draws and writes them.
"""

import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bench.analyse import held, pairs, sustained, verdicts
from bench.report import answer
from bench.report import caveats as notes
from bench.results import store as results
from bench.results.records import CellDocument
from bench.results.rows import HeldRow, SiteVerdict, SustainedRate, SustainedVerdict, VerdictRow
from bench.site import verdict as site_verdict


@dataclass
class Report:
    run: results.Run
    charts: dict[str, Path] = field(default_factory=dict)  # title -> PNG
    verdicts: dict[str, list[VerdictRow]] = field(default_factory=dict)
    sustained: list[SustainedRate] = field(default_factory=list)  # open loop: rate under the SLO
    sustained_verdicts: list[SustainedVerdict] = field(default_factory=list)
    held: list[HeldRow] = field(default_factory=list)  # held connections: cost, how many kept
    question: str = ""
    answers: list[answer.Sentence] = field(default_factory=list)  # the report's first lines
    caveats: list[str] = field(default_factory=list)
    cell_notes: list[str] = field(default_factory=list)  # every cell's own notes
    environment: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    site: SiteVerdict | None = None  # a run of the user's own project: its verdict


def ordered_cells(run: results.Run) -> list[CellDocument]:
    """Cells in the run's matrix order; cells that never ran appear as failed gaps."""
    planned = run.document.matrix.cells
    order = {identity.id for identity in planned}
    cells = [
        run.documents.get(identity.id) or CellDocument(cell=identity, status="not run")
        for identity in planned
    ]
    return cells + [cell for cell_id, cell in run.documents.items() if cell_id not in order]


def panels(cells: list[CellDocument]) -> dict[str, list[CellDocument]]:
    """The cells of each scenario: one panel of a chart each."""
    grouped: dict[str, list[CellDocument]] = defaultdict(list)
    for cell in cells:
        grouped[cell.cell.scenario].append(cell)
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


def blocked(run: results.Run) -> set[frozenset[str]] | None:
    """The pairs of cells the run measured back to back, or None for a run
    from before blocks (its verdicts are unpaired, as they always were)."""
    order = run.document.order
    if order is None or order.blocks is None:
        return None
    return pairs.blocked_ids(order.blocks)


def read(path: Path) -> Report:
    """The contents of the run at ``path``: verdicts, rates, caveats; no chart, no file."""
    started = time.perf_counter()
    run = results.read_run(path)
    report = Report(run=run)
    cells = ordered_cells(run)
    slo_ms = slo(run)
    report.verdicts = verdicts.verdicts(
        [c for c in cells if c.repeats], interfaces(run), baselines(run), blocked(run)
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
    report.question = answer.question(report.verdicts)
    report.answers = answer.sentences(
        report.verdicts, report.sustained_verdicts, scenario_docs(run)
    )
    report.site = site_verdict.verdict(run.data, cells, interfaces(run))
    report.caveats = (
        notes.caveats(run, cells)
        + notes.statistics_caveats(family, cells)
        + notes.stopping_caveat(run.document.stopping)
    )
    report.cell_notes = notes.cell_details(cells)
    report.environment = environment(run)
    report.seconds = time.perf_counter() - started
    return report


def scenario_docs(run: results.Run) -> dict[str, str]:
    """Each scenario's docstring as the run recorded it: what its views do."""
    return {
        name: str(definition.get("doc") or "")
        for name, definition in run.document.matrix.scenarios.items()
        if isinstance(definition, dict)
    }


def slo(run: results.Run) -> float:
    """The run's latency objective for the open loop (ms)."""
    return float(run.document.options.slo_ms or 100.0)


def verdict_lines(report: Report) -> list[str]:
    """The verdicts and caveats of a report as the command line prints them."""
    lines = [f"your site: {line}" for line in (report.site.lines if report.site else [])]
    for scenario, rows in report.verdicts.items():
        lines += [f"{scenario}: {row.question}: {verdicts.describe(row)}" for row in rows]
    lines += [
        f"{verdict.scenario}: open loop: {sustained.describe_verdict(verdict)}"
        for verdict in report.sustained_verdicts
    ]
    return lines + [f"caveat: {note}" for note in report.caveats]


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
