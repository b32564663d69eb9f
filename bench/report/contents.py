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
from bench.report.beside import BesideRow
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
    # With a cost run (``bench report RUN --cost DIR``): its instructions per
    # request beside each verdict's CPU time, and the cost run's directory.
    beside: list[BesideRow] = field(default_factory=list)
    cost_run: Path | None = None


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
        name: server.get("interface", "") for name, server in run.document.matrix.servers.items()
    }


def baselines(run: results.Run) -> dict[str, str]:
    """The baseline endpoint each scenario of the run declares (BENCH "baseline")."""
    declared = run.document.matrix.scenarios
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
    """The report's environment table, from run.json's typed metadata and options."""
    doc = run.document
    meta, options = doc.metadata, doc.options
    packages = meta.packages
    git, machine, database = meta.git, meta.machine, meta.database

    def version(name: str) -> str:
        return str(packages.get(name))

    return [
        ("run", f"{doc.run_id or run.path.name} ({doc.status})"),
        ("started", str(doc.started_at)),
        ("Python", str(meta.python)),
        ("Django / asgiref", f"{version('django')} / {version('asgiref')}"),
        (
            "gunicorn / uvicorn / uvicorn-worker",
            " / ".join(version(name) for name in ("gunicorn", "uvicorn", "uvicorn-worker")),
        ),
        ("locust", version("locust")),
        ("git", f"{(git.commit or '?')[:12]}{' (dirty)' if git.dirty else ''}"),
        ("CPU", f"{machine.cpu_model}, {machine.logical_cpus} logical CPUs"),
        ("kernel", str(machine.kernel)),
        (
            "pinning",
            f"server CPUs {options.server_cpus}, locust CPUs {options.loadgen_cpus}",
        ),
        (
            "per cell",
            f"{options.warmup_s} s warm-up, {options.duration_s} s window, "
            f"{options.repeats} repeats, {options.workers} worker(s), "
            f"{options.threads} gthread threads",
        ),
        ("database", (database.engine or "?") + (f" {database.url}" if database.url else "")),
        ("switch accounting", "on" if options.switch_accounting else "off"),
    ]
