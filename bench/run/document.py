"""run.json and the cell files of a run in progress: written as the run goes.

run.json is written when the run starts (its options, matrix, metadata, order
and harness), again after calibration, after every repeat (its progress), and
when it ends (its status); each cell's file is rewritten the moment one of its
repeats ends, so an interrupted run is still a readable, partial run.
"""

import socket
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.load.loadgen import STOP_TIMEOUT
from bench.measure.settings import Interrupt, Settings
from bench.plan import matrix, scenarios
from bench.results import metadata
from bench.results import store as results
from bench.results.records import (
    Hosts,
    MatrixRecord,
    Metadata,
    PassOrder,
    Progress,
    RepeatRecord,
    RunDocument,
    RunOptionsRecord,
)
from bench.run.cells import planned_repeats
from bench.run.options import RunOptions
from bench.serve import launch
from bench.serve.processes import format_cpus


def options_record(options: RunOptions, fd_limit: Any) -> RunOptionsRecord:
    """run.json's ``options``: what the run was asked for."""
    return RunOptionsRecord(
        duration_s=options.duration,
        warmup_s=options.warmup,
        repeats=options.repeats,
        sweep_repeats=options.sweep_repeats,
        quick=options.quick,
        workers=options.workers,
        threads=options.threads,
        server_cpus=format_cpus(options.server_cpus),
        loadgen_cpus=format_cpus(options.loadgen_cpus),
        switch_accounting=options.switch_accounting,
        seed=options.seed,
        schedule=options.schedule,
        late_bound_s=options.late_bound,
        slo_ms=options.slo_ms,
        full=options.selection.full,
        loadgen=asdict(options.loadgen),
        ready_timeout_s=options.ready_timeout,
        stop_timeout_s=STOP_TIMEOUT,
        fd_limit=fd_limit,
        target_interval_pct=options.target_interval,
        budget_s=options.budget_s,
    )


def start_document(
    run_dir: Path,
    options: RunOptions,
    expansion: matrix.Expansion,
    used: list[scenarios.Scenario],
    settings: Settings,
    *,
    db_info: dict[str, Any],
    fd_limit: Any,
    planned: int,
) -> RunDocument:
    """run.json as the run starts: its first thirteen keys (``RunDocument.STARTED``)."""
    application = options.application
    return RunDocument(
        schema_version=results.SCHEMA_VERSION,
        run_id=run_dir.name,
        label=options.label,
        status="running",
        started_at=results.utc_now(),
        finished_at=None,
        command=options.command,
        options=options_record(options, fd_limit),
        matrix=MatrixRecord(
            cells=list(expansion.cells),
            notes=expansion.notes,  # the same list: notes found later are added to both
            scenarios={s.name: s.definition() for s in used},
            servers={
                name: launch.served(name, application).describe(settings.options)
                for name in dict.fromkeys(cell.server for cell in expansion.cells)
            },
            application=application.describe(),
        ),
        metadata=Metadata.from_json({**metadata.collect(), "database": db_info}),
        calibration=None,
        progress=Progress(planned=planned),
        hosts=Hosts(
            server=urlsplit(application.url).hostname if application.url else "127.0.0.1",
            target=application.url,
            loadgen=[socket.gethostname()],
        ),
        json_keys=RunDocument.STARTED,
    )


def site_block(options: RunOptions, warnings: list[str]) -> dict[str, Any] | None:
    """run.json's ``site``: the user's project the run served, and what its
    inspection found; None for the bundled project."""
    if options.site is None:
        return None
    return {
        "directory": str(options.site.directory),
        "settings": options.site.settings,
        "paths": [[path, weight] for path, weight in options.site.paths],
        "locustfile": str(options.site.locustfile) if options.site.locustfile else None,
        "git": metadata.git_state(options.site.directory),
        "facts": options.site_facts.to_json() if options.site_facts is not None else None,
        "warnings": warnings,
    }


def set_order(
    document: RunDocument,
    seed: int,
    passes: list[list[matrix.Cell]],
    blocks: list[list[matrix.Cell]] | None = None,
    pairs: list[tuple[matrix.Cell, matrix.Cell]] | None = None,
) -> None:
    """run.json's ``order``: the seed, each pass's cells, and the blocks and
    pairs that make a verdict paired (a block of one cell is not listed)."""
    document.order = PassOrder(
        seed=seed,
        passes=[[cell.id for cell in order] for order in passes],
        blocks=[[c.id for c in block] for block in blocks or [] if len(block) > 1],
        pairs=[[a.id, b.id] for a, b in pairs or []],
    )


def finish(document: RunDocument, interrupt: Interrupt) -> None:
    """The run's final status: interrupted, complete, or partial when a repeat failed."""
    if interrupt.event.is_set():
        document.status = "interrupted"
        document.interrupted_reason = interrupt.reason
    elif not document.progress.failed:
        # every pass ran to its end (open-loop searches choose their own
        # trials, so the planned count is an estimate, not a target)
        document.status = "complete"
    else:
        document.status = "partial"
    document.finished_at = results.utc_now()


class RunFiles:
    """The run's files on disk: run.json, and one file per cell with its repeats so far."""

    def __init__(
        self, run_dir: Path, document: RunDocument, cells: list[matrix.Cell], options: RunOptions
    ) -> None:
        self.run_dir, self.document, self.options = run_dir, document, options
        # open-loop cells get their files as their sweeps measure them
        self.repeats: dict[str, list[RepeatRecord]] = {
            cell.id: [] for cell in cells if not cell.rate
        }
        # repeats the stopping rule added to a cell beyond --repeats
        self.extra: dict[str, int] = {}

    def plan_extra_pass(self, cells: list[matrix.Cell]) -> None:
        """One more repeat of each of ``cells``, counted before it is measured."""
        for cell in cells:
            self.extra[cell.id] = self.extra.get(cell.id, 0) + 1
        self.document.progress.planned += len(cells)

    def write_run(self) -> None:
        results.write_json(self.run_dir / "run.json", self.document.to_json())

    def store(self, cell: matrix.Cell, record: RepeatRecord) -> None:
        """Keep one repeat: its cell's file rewritten, run.json's progress counted."""
        repeats = self.repeats.setdefault(cell.id, [])
        repeats.append(record)
        repeats.sort(key=lambda r: r.repeat or 0)
        hosts = self.document.hosts
        for worker in record.locust_workers:
            host = worker.rsplit("_", 1)[0]
            if hosts is not None and host not in hosts.loadgen:
                hosts.loadgen.append(host)
        planned = planned_repeats(cell, self.options) + self.extra.get(cell.id, 0)
        document = results.cell_record(cell, repeats, planned)
        results.write_json(results.cell_path(self.run_dir, cell.id), document.to_json())
        progress = self.document.progress
        progress.done += record.status == "ok"
        progress.failed += record.status == "failed"
        progress.skipped += record.status == "skipped"
        self.write_run()
