"""A whole cost run: the cells, pass after pass, each repeat written as it ends.

The cells come from the plan as for a timed run, narrowed to one closed-loop
user (one sequential client). Repeats run in passes (every cell once, then
every cell again), so a run stopped early has a figure for every cell rather
than three for the first. ``cost.json`` is rewritten atomically after every
repeat and every failure: nothing finished is lost, and a cell that fails is
recorded with its one-line error while the others go on.
"""

import fnmatch
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from bench import ROOT
from bench.cost import measure, releases, syscalls, valgrind
from bench.cost.records import (
    COST_FILE,
    CostCell,
    CostDocument,
    CostSettingsRecord,
    ValgrindRecord,
)
from bench.errors import BenchError, UsageError
from bench.plan import matrix
from bench.plan.scenarios import OWN, Scenario
from bench.results import metadata
from bench.results import store as results
from bench.results.records.site import SiteFacts
from bench.serve import servers
from bench.site import project as site_project

# Printed as the run goes (the command's formatter words it).
Progress = Callable[[CostCell, str], None]


@dataclass(frozen=True)
class CostPlan:
    """The cells of a cost run and what each requests."""

    targets: list[measure.Target]
    notes: list[str]


def plan(
    scenarios: Iterable[Scenario],
    selection: matrix.Selection,
    patterns: Sequence[str] | None = None,
) -> CostPlan:
    """The cells of ``scenarios`` under ``selection``, one user each, narrowed to
    the ids matching one of ``patterns`` (shell-style, ``*.uvicorn.async.*``)
    when given; a usage error for what the cost mode cannot serve (a
    database, an upstream, no cell)."""
    chosen = list(scenarios)
    for scenario in chosen:
        if scenario.database or scenario.upstream:
            raise UsageError(
                f"scenario {scenario.name} needs a database or an upstream service: "
                "the cost mode measures self-contained scenarios only (json, loop, ...)"
            )
    one_client = replace(selection, users=(1,), rates=None)
    expansion = matrix.expand(chosen, one_client)
    by_name = {scenario.name: scenario for scenario in chosen}
    targets = []
    for cell in expansion.cells:
        if patterns and not any(fnmatch.fnmatchcase(cell.id, p) for p in patterns):
            continue
        path = by_name[cell.scenario].primer_path(cell.endpoint, cell.style)
        if path is None:
            raise UsageError(f"{cell.id}: the scenario names no literal path for {cell.endpoint}")
        targets.append(measure.Target(cell, path, servers.get(cell.server)))
    if not targets:
        raise UsageError("no cells match the selection")
    return CostPlan(targets, expansion.notes)


# A user's site is served by these unless --server names others: the pair that
# answers "what would ASGI cost us per request?".
SITE_SERVERS = ("gunicorn-gthread", "uvicorn")


def page_endpoint(path: str) -> str:
    """A path as a cell's endpoint: letters, digits and dashes ("/" is "root"),
    so that it names a directory and a cell id unchanged on any machine."""
    return re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-") or "root"


def plan_site(
    site: site_project.Site, facts: SiteFacts, server_names: Sequence[str] | None
) -> CostPlan:
    """One cell per page and server of a user's site: each page's own cost,
    never a mix (a mix's figure would move with the mix)."""
    if site.locustfile is not None:
        raise UsageError(
            "--locustfile cannot be used with cost: the cost mode sends one page at a "
            "time from one client; name the pages with --path"
        )
    application = site_project.application(site, facts)
    names = list(server_names or SITE_SERVERS)
    targets, notes = [], []
    for name in names:
        spec = servers.get(name)
        if application.entry(spec.interface) is None:
            notes.append(f"{name} skipped: the site has no {spec.interface.upper()} application")
            continue
        for path, _ in site.paths:
            cell = matrix.Cell("site", page_endpoint(path), name, OWN, OWN, 1)
            targets.append(measure.Target(cell, path, spec, application))
    endpoints = [cell.cell.endpoint for cell in targets]
    if len(set(endpoints)) * len({t.cell.server for t in targets}) != len(endpoints):
        raise UsageError("two --path values name the same page once made a cell id")
    if not targets:
        raise UsageError("no server can serve the site")
    return CostPlan(targets, notes)


def server_env() -> dict[str, str]:
    """The servers' environment: the bundled project, no accounting, a run's secret key."""
    env = dict(os.environ)
    # ASYNC_UNSAFE: a shell that sets it would silence Django's async-safety guard.
    for key in ("BENCH_SWITCH_ACCOUNTING", "BENCH_ACCOUNTING_DIR", servers.ASYNC_UNSAFE):
        env.pop(key, None)
    env["PYTHONPATH"] = str(ROOT)
    env["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)  # never written to results
    return env


def new_document(
    settings: measure.CostSettings, tool: valgrind.Valgrind, command: Sequence[str]
) -> CostDocument:
    """The document of a run about to start, its cells added by ``execute``."""
    return CostDocument(
        created=results.utc_now(),
        command=list(command),
        settings=CostSettingsRecord(
            low_requests=settings.low,
            high_requests=settings.high,
            repeats=settings.repeats,
            hop_requests=settings.hop_requests,
            syscall_requests=list(settings.syscall_requests) if settings.syscall_requests else None,
            server_cpus=sorted(settings.cpus) if settings.cpus else None,
            workers=settings.options.workers,
            threads=settings.options.threads,
        ),
        valgrind=ValgrindRecord(
            version=tool.version,
            tool=valgrind.TOOL,
            options=tool.options(),
            environment=dict(valgrind.ENVIRONMENT),
        ),
        metadata=metadata.collect(),
    )


@dataclass(frozen=True)
class Job:
    """One cell of the run in one environment: what ``_measure_all`` measures."""

    target: measure.Target
    settings: measure.CostSettings  # with the environment's interpreter
    raw_name: str  # its directory under raw/


def execute(
    cost_plan: CostPlan,
    settings: measure.CostSettings,
    root: Path,
    command: Sequence[str],
    progress: Progress,
    environments: Sequence[releases.Environment] = (),
) -> tuple[Path, CostDocument]:
    """Measure every cell of ``cost_plan`` (in each of ``environments``, when
    given: the releases compared); the run's directory and its document."""
    if settings.low < 1 or settings.high <= settings.low:
        raise UsageError(
            f"--requests takes LOW HIGH with 1 <= LOW < HIGH, got {settings.low} {settings.high}"
        )
    if settings.syscall_requests is not None:
        low, high = settings.syscall_requests
        if low < 1 or high <= low:
            raise UsageError(
                f"--syscall-requests takes LOW HIGH with 1 <= LOW < HIGH, got {low} {high}"
            )
        if shutil.which("strace") is None:
            raise UsageError("strace is not installed (apt-get install strace); or --no-syscalls")
    if settings.repeats < 1 or settings.hop_requests < 1 or settings.options.threads < 1:
        raise UsageError("--repeats, --hop-requests and --threads must be >= 1")
    tool = valgrind.find()
    run_dir = results.create_run_dir(root, "cost")
    document = new_document(settings, tool, command)
    env = server_env()
    jobs = []
    for environment in environments or [None]:
        for target in cost_plan.targets:
            job_settings, raw_name = settings, target.cell.id
            cost = CostCell(
                cell=target.cell, path=target.path, server=target.spec.describe(settings.options)
            )
            if environment is not None:
                options = replace(settings.options, python=environment.python)
                job_settings = replace(settings, options=options)
                raw_name = (
                    f"{target.cell.id}@{environment.django.version}-{environment.asgiref.version}"
                )
                cost.release, cost.versions = environment.label, dict(environment.versions)
            jobs.append(Job(target, job_settings, raw_name))
            document.cells.append(cost)
    save(run_dir, document)
    try:
        _measure_all(run_dir, document, jobs, tool, env, settings.repeats, progress)
        document.status = "complete" if all(c.status == "ok" for c in document.cells) else "partial"
    except BaseException:
        document.status = "interrupted"
        raise
    finally:
        document.finished = results.utc_now()
        save(run_dir, document)
    return run_dir, document


def _measure_all(
    run_dir: Path,
    document: CostDocument,
    jobs: list[Job],
    tool: valgrind.Valgrind,
    env: dict[str, str],
    repeats: int,
    progress: Progress,
) -> None:
    """The passes over the cells (each release's in turn, so a run stopped early
    has every cell of every release once); a failed cell is recorded and left
    out of later passes."""
    pairs = list(zip(jobs, document.cells, strict=True))
    for index in range(1, repeats + 1):
        for job, cell in pairs:
            if cell.status == "failed":
                continue
            target, settings = job.target, job.settings
            raw_dir = run_dir / "raw" / job.raw_name
            cell_env = {**env, "BENCH_STACK": target.cell.stack}
            try:
                if cell.hops is None:
                    cell.hops = measure.hops(target, raw_dir, cell_env, settings)
                if settings.syscall_requests and cell.syscalls is None:
                    cell.syscalls = syscalls.count(target, raw_dir, cell_env, settings)
                cell.repeats.append(
                    measure.repeat(target, index, raw_dir, tool, cell_env, settings)
                )
                cell.status = "ok"
                progress(cell, f"r{index}")
            except BenchError as exc:
                cell.status = "failed"
                cell.error = str(exc)
                progress(cell, "failed")
            save(run_dir, document)


def ratios(document: CostDocument) -> dict[str, float]:
    """Each measured cell's instructions per request over those of the WSGI + sync
    cell of its scenario, endpoint and release (the question the project asks:
    what does moving to ASGI, and to async views, cost per request); for a
    user's site, over the same page under WSGI. Keyed by ``CostCell.label``."""
    reference: dict[tuple[str | None, str, str], float] = {}
    for cost in document.cells:
        value = cost.instructions_per_request
        if cost.cell is None or value is None:
            continue
        key = (cost.release, cost.cell.scenario, cost.cell.endpoint)
        if cost.server.get("interface") == "wsgi" and cost.cell.style in ("sync", OWN):
            reference.setdefault(key, value)
    found = {}
    for cost in document.cells:
        value = cost.instructions_per_request
        if cost.cell is None or value is None:
            continue
        base = reference.get((cost.release, cost.cell.scenario, cost.cell.endpoint))
        if base:
            found[cost.label] = value / base
    return found


@dataclass(frozen=True)
class HopCost:
    """Instructions of one hop, from two cells that differ in hops per request."""

    group: str  # scenario, server, style, stack
    low: CostCell
    high: CostCell

    @property
    def hops(self) -> float:
        assert self.low.hops is not None and self.high.hops is not None
        return self.high.hops.per_request - self.low.hops.per_request

    @property
    def instructions_per_hop(self) -> float:
        assert self.low.instructions_per_request is not None
        assert self.high.instructions_per_request is not None
        extra = self.high.instructions_per_request - self.low.instructions_per_request
        return extra / self.hops


def hop_costs(document: CostDocument) -> list[HopCost]:
    """For each scenario, server, view style and stack measured at two hop counts
    or more (the hops scenario's endpoints), the fewest against the most: the
    instructions the extra hops added, per hop. Django's own hops are in both."""
    groups: dict[str, list[CostCell]] = {}
    for cost in document.cells:
        if cost.cell is None or cost.hops is None or cost.instructions_per_request is None:
            continue
        cell = cost.cell
        key = f"{cell.scenario} {cell.server} {cell.style} {cell.stack}"
        if cost.release:
            key += f" [{cost.release}]"
        groups.setdefault(key, []).append(cost)
    found = []
    for key, cells in groups.items():
        cells.sort(key=lambda cost: cost.hops.per_request if cost.hops else 0.0)
        if (
            cells[-1].hops
            and cells[0].hops
            and cells[-1].hops.per_request > cells[0].hops.per_request
        ):
            found.append(HopCost(key, cells[0], cells[-1]))
    return found


def save(run_dir: Path, document: CostDocument) -> None:
    """Write ``cost.json`` atomically."""
    results.write_json(run_dir / COST_FILE, document.to_json())


def read(run_dir: Path) -> CostDocument:
    """A cost run's document, read back."""
    return CostDocument.from_json(results.read_json(run_dir / COST_FILE))
