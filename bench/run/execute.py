"""``bench run``: measure a matrix of cells, repeats interleaved, every figure kept.

Order of work: check everything a user can get wrong (scenarios, names,
database, results path) before any server starts; write run.json; set up the
database and the upstream service when the cells need them; calibrate the
load generator for each user count and connection mode; then measure repeat 1
of every cell, repeat 2 of every cell, and so on, each pass in a fresh random
order (its seed recorded), so that drift on a noisy machine spreads over all
cells evenly instead of becoming a fixed offset between them.
Each repeat's record is written the moment it ends. Ctrl-C or SIGTERM stops
the current measurement, keeps what is finished and marks the run interrupted.
"""

import math
import os
import random
import secrets
import signal
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench import ROOT
from bench.analyse import search, sustained
from bench.errors import UsageError
from bench.load import schedule
from bench.load.loadgen import STOP_TIMEOUT, Topology
from bench.measure import repeat as measure
from bench.measure import rowcheck
from bench.plan import fdlimit, matrix, scenarios
from bench.results import metadata
from bench.results import store as results
from bench.run import calibrate
from bench.run.progress import RunProgress, console
from bench.serve import database, launch, processes, servers
from bench.serve.processes import format_cpus
from bench.site import project as site
from bench.site.in_server import exception_files
from bench.site.project import Site

OVERHEAD_ESTIMATE_S = 2.0  # server and locust start, drain, stop: measured about 1.5 s here
# Many short repeats: on this shared machine 9 x 5 s windows gave verdict
# intervals 2-4x narrower than 3 x 15 s in the same time (README, "How a cell
# is measured"); an open-loop sweep takes 3 passes of each rate.
DEFAULT_DURATION = 5.0
DEFAULT_WARMUP = 1.5
DEFAULT_REPEATS = 9
DEFAULT_SWEEP_REPEATS = 3
DEFAULT_LATE_BOUND_S = 1.0  # open loop: an unsent due request is dropped after this
DEFAULT_SLO_MS = 100.0  # open loop: the p99 objective of the sustained-rate headline
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"  # never passed on to a server (base_env)
# The slow service the upstream scenario's views call; on the load generator's CPUs.
UPSTREAM_APP = servers.Application("upstream", asgi="project.upstream:app")


@dataclass
class RunOptions:
    scenario_names: list[str] | None = None
    selection: matrix.Selection = field(default_factory=matrix.Selection)
    duration: float = DEFAULT_DURATION
    warmup: float = DEFAULT_WARMUP
    repeats: int = DEFAULT_REPEATS
    sweep_repeats: int = DEFAULT_SWEEP_REPEATS
    label: str = "bench"
    results_root: Path = results.DEFAULT_RESULTS
    server_cpus: frozenset[int] | None = frozenset({0})
    loadgen_cpus: frozenset[int] | None = frozenset({1})
    workers: int = 1
    threads: int = 4
    switch_accounting: bool = True
    calibrate: bool = True
    calibration_duration: float = 5.0
    quick: bool = False
    loadgen: Topology = field(default_factory=Topology)
    ready_timeout: float = 30.0
    # What the servers serve: the bundled project, a user's site (--project),
    # or a server someone else runs (--target).
    application: servers.Application = servers.BUNDLED
    site: Site | None = None
    site_facts: dict[str, Any] | None = None  # what bench.site.in_site.check found in it
    seed: int | None = None  # the order of cells in each pass; None: a fresh one
    schedule: str = "uniform"  # open loop: "uniform" or "poisson"
    late_bound: float = DEFAULT_LATE_BOUND_S
    slo_ms: float = DEFAULT_SLO_MS
    command: list[str] = field(default_factory=list)


def with_site(options: RunOptions, probe: bool = True) -> RunOptions:
    """The options with the user's site inspected (refused in one line when
    unfit) and made the run's application; unchanged without ``--project``."""
    if options.site is None or options.site_facts is not None:
        return options
    facts = site.inspect(options.site, probe=probe)
    return replace(options, application=site.application(options.site, facts), site_facts=facts)


def site_warnings(options: RunOptions, cells: list[matrix.Cell]) -> list[str]:
    """What the inspection found that will make a cell fail, said before the run
    (persistent database connections under an ASGI server)."""
    if options.site is None or not options.site_facts:
        return []
    used = dict.fromkeys(cell.server for cell in cells)
    asgi = [name for name in used if servers.get(name).interface == "asgi"]
    return site.connection_warnings(options.site_facts, asgi)


def plan_cells(options: RunOptions) -> tuple[list[scenarios.Scenario], matrix.Expansion]:
    """The scenarios and cells a run would measure (also used by --dry-run and tests)."""
    if options.site is not None:
        chosen = [site.scenario(options.site)]
    else:
        chosen = scenarios.select(scenarios.discover(), options.scenario_names)
    expansion = matrix.expand(chosen, options.selection, options.application)
    if options.application.external:
        expansion.cells = matrix.external(expansion.cells)
    if not expansion.cells:
        detail = "; ".join(expansion.notes) or "the selection matches nothing"
        raise UsageError(f"no cells to run: {detail}")
    fdlimit.check(expansion.cells)
    return chosen, expansion


def estimate_seconds(options: RunOptions, cells: list[matrix.Cell]) -> float:
    """The run's expected length: closed-loop repeats as planned, and for each
    open-loop sweep the trials its searches are expected to take, each with a
    window long enough to back its p99 (at the grid's geometric middle rate)."""
    per_repeat = options.warmup + options.duration + OVERHEAD_ESTIMATE_S
    open_loop = any(cell.rate for cell in cells)
    calibrations = len(connection_modes(cells, options)) + open_loop if options.calibrate else 0
    calibration = calibrations * (options.calibration_duration + 1 + OVERHEAD_ESTIMATE_S)
    # Scenarios that hold connections open warm up longer at high user counts.
    declared = scenarios.discover() if options.site is None else {}
    longer = sum(
        planned_repeats(cell, options)
        * (declared[cell.scenario].warmup_for(cell.users, options.warmup) - options.warmup)
        for cell in cells
        if cell.scenario in declared and not cell.rate
    )
    closed = sum(planned_repeats(cell, options) for cell in cells if not cell.rate) * per_repeat
    return closed + sweep_seconds(options, cells) + calibration + longer


def sweep_seconds(options: RunOptions, cells: list[matrix.Cell]) -> float:
    """The expected seconds of the open-loop searches (see ``estimate_seconds``)."""
    total = 0.0
    for grid in sweep_grids(cells).values():
        middle = math.exp(sum(math.log(rate) for rate in grid) / len(grid))
        window = schedule.window_for(middle, options.duration)
        trials = search.expected_trials(grid, options.sweep_repeats)
        total += trials * (options.warmup + window + OVERHEAD_ESTIMATE_S)
    return total


def sweep_grids(cells: list[matrix.Cell]) -> dict[tuple, list[int]]:
    """Each open-loop sweep's grid of rates, ascending."""
    grids: dict[tuple, list[int]] = {}
    for cell in cells:
        if cell.rate:
            grids.setdefault(cell.sweep_key, []).append(cell.rate)
    return {key: sorted(rates) for key, rates in grids.items()}


def base_env(options: RunOptions) -> dict[str, str]:
    """The environment of the run's servers and locust: a user's site keeps its
    own secret key and path (its application adds its settings)."""
    env = dict(os.environ)
    env.pop("BENCH_SWITCH_ACCOUNTING", None)
    # A shell that sets it would silence Django's async-safety guard in every
    # server the run starts: a mistake would then be measured as a figure.
    env.pop(ASYNC_UNSAFE, None)
    if options.site is not None:
        env.update(site.locust_environment(options.site))
        return env
    env["DJANGO_SECRET_KEY"] = measure.new_secret_key()  # per run, never written to results
    env.setdefault("BENCH_SQLITE_PATH", str(database.DEFAULT_SQLITE))
    env["PYTHONPATH"] = str(ROOT)
    return env


class _Signals:
    """SIGINT/SIGTERM set the interrupt once; a second one aborts at once."""

    def __init__(self, interrupt: measure.Interrupt) -> None:
        self.interrupt = interrupt
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> "_Signals":
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _handle(self, signum: int, frame: object) -> None:
        name = signal.Signals(signum).name
        if self.interrupt.event.is_set():
            raise KeyboardInterrupt(name)
        self.interrupt.set(f"interrupted by {name}")


def _plan(
    cell: matrix.Cell,
    scenario: scenarios.Scenario,
    repeat: int,
    run_dir: Path,
    settings: measure.Settings,
    options: RunOptions,
    db_connections: Callable[[], int] | None = None,
) -> measure.Plan:
    out_dir = run_dir / "raw" / cell.id / f"r{repeat}"
    primary = (
        scenario.primary.format(style=cell.style, endpoint=cell.endpoint)
        if scenario.primary
        else None
    )
    accounting = options.switch_accounting or scenario.accounting
    postgres = bool(cell.db_mode) and cell.db_mode != "sqlite"
    app_name = f"djbench-{os.getpid()}-{abs(hash(cell.id)) % 10**8}" if postgres else None
    env = measure.server_env(
        settings.base_env,
        stack=cell.stack,
        accounting_dir=(out_dir / "switches") if accounting else None,
        db_mode=cell.db_mode if postgres else "",
        db_application_name=app_name,
    )
    if options.site is not None:
        env[exception_files.ENV] = str(out_dir / "exceptions")
    return measure.Plan(
        served=launch.served(cell.server, options.application),
        scenario_path=scenario.path,
        user_class=scenario.endpoints[cell.endpoint],
        users=cell.users,
        rate=cell.rate,
        style=cell.style if scenario.styled else None,
        out_dir=out_dir,
        env=env,
        primer_path=scenario.primer_path(cell.endpoint, cell.style),
        expected_errors=scenario.expected_errors,
        primary=primary,
        accounting=accounting,
        db_application_name=app_name,
        db_admin_url=settings.base_env.get("DATABASE_URL") if postgres else None,
        db_connections=db_connections,
        server_options=cell_server_options(cell, scenario, settings.options),
        warmup=scenario.warmup_for(cell.users, settings.warmup),
        duration=schedule.window_for(cell.rate, settings.duration) if cell.rate else None,
    )


def cell_server_options(
    cell: matrix.Cell, scenario: scenarios.Scenario, options: servers.ServerOptions
) -> servers.ServerOptions | None:
    """A cell's own server options, None for the run's: a thread per held
    connection, or room in the server's connection limit for an open-loop pool."""
    if scenario.threads_per_user:
        return servers.thread_per_connection(options, cell.users)
    if cell.rate:
        roomier = servers.room_for(options, cell.users)
        return roomier if roomier != options else None
    return None


def with_exceptions(record: dict[str, Any], directory: Path) -> dict[str, Any]:
    """The repeat with the first exception per path its server recorded; a failed
    repeat's reason names the first of them on its first line (the line the
    progress and the report's caveats show), since the server log has none."""
    found = exception_files.read(directory)
    record["server_exceptions"] = found
    if found and record.get("status") == "failed" and record.get("reason"):
        path, line = next(iter(found.items()))
        first, newline, rest = record["reason"].partition("\n")
        record["reason"] = f"{first} (the server raised {line} at {path}){newline}{rest}"
    return record


def describe_repeat(record: dict[str, Any]) -> str:
    if record["status"] != "ok":
        reason = (record.get("reason") or "").splitlines()[0] if record.get("reason") else ""
        return f"{record['status'].upper()}: {reason}"
    p99 = record["latency_ms"]["p99"]
    p99_text = f"{p99:.1f} ms" if p99 is not None else "beyond every answer"
    text = (
        f"{record['throughput_rps']:,.0f} req/s, p99 {p99_text}, "
        f"CPU {record['server']['cpu_ms_per_request'] or 0:.3f} ms/req"
    )
    switches = record.get("switches")
    if switches and switches.get("sync_to_async_per_request") is not None:
        text += (
            f", hops/req {switches['sync_to_async_per_request']:.1f} s2a"
            f" + {switches['async_to_sync_per_request']:.1f} a2s"
        )
    schedule = record.get("open_loop")
    if schedule:
        text = f"offered {schedule['offered_rps']:g}/s: " + text.replace("p99", "p99 from due", 1)
        if schedule.get("unanswered"):
            text += f", unanswered {schedule['unanswered']} of {schedule['scheduled']}"
        if schedule["dropped"]:
            text += f", dropped {schedule['dropped']}"
        if not schedule["latency_from_due"]:
            text += "  [LATENCY FROM SENDING: requests made outside the schedule]"
        if not schedule["sustainable"]:
            text += "  [UNSUSTAINABLE: " + "; ".join(schedule["unsustainable_reasons"]) + "]"
    if record["error_rate"]:
        text += f", errors {record['error_rate']:.1%}"
    if (record.get("db") or {}).get("connections_peak") is not None:
        text += f", db connections peak {record['db']['connections_peak']}"
    if record["loadgen"]["bound"]:
        text += "  [LOADGEN-BOUND: " + "; ".join(record["loadgen"]["bound_reasons"]) + "]"
    return text


def execute(options: RunOptions) -> Path:
    """Run the whole matrix; return the run directory."""
    chosen, expansion = plan_cells(options)
    by_name = {scenario.name: scenario for scenario in chosen}
    env = base_env(options)
    application = options.application
    bundled = application == servers.BUNDLED  # others bring their own database
    needs_db = any(by_name[cell.scenario].database for cell in expansion.cells)
    needs_upstream = any(by_name[cell.scenario].upstream for cell in expansion.cells)
    db_info: dict[str, Any] = (
        database.describe(env) if bundled else {"engine": f"{application.name}'s own"}
    )
    if bundled and database.is_postgres(env):
        db_info.update(database.check_reachable(env["DATABASE_URL"]))
    used = [by_name[name] for name in dict.fromkeys(cell.scenario for cell in expansion.cells)]
    scenarios.check_importable(used)
    if options.site is not None:
        site.preflight(options.site, application, expansion.cells[0].server, env)
    fd_limit = fdlimit.raise_soft()  # before any server or locust starts: they inherit it
    run_dir = results.create_run_dir(options.results_root, options.label)
    results.point_latest(options.results_root, run_dir)
    for note in expansion.notes:
        console.print(f"note: {note}")
    warnings = site_warnings(options, expansion.cells)
    for warning in warnings:
        console.print(f"warning: {warning}")
    settings = measure.Settings(
        warmup=options.warmup,
        duration=options.duration,
        server_cpus=options.server_cpus,
        loadgen_cpus=options.loadgen_cpus,
        options=servers.ServerOptions(workers=options.workers, threads=options.threads),
        base_env=env,
        topology=options.loadgen,
        ready_timeout=options.ready_timeout,
        schedule=options.schedule,
        late_bound=options.late_bound,
    )
    sweeps = Sweeps.of(expansion.cells, options.slo_ms)
    planned = sum(planned_repeats(cell, options) for cell in expansion.cells if not cell.rate)
    planned += sum(
        search.expected_trials(grid, options.sweep_repeats) for grid in sweeps.grid.values()
    )
    run_doc: dict[str, Any] = {
        "schema_version": results.SCHEMA_VERSION,
        "run_id": run_dir.name,
        "label": options.label,
        "status": "running",
        "started_at": results.utc_now(),
        "finished_at": None,
        "command": options.command,
        "options": {
            "duration_s": options.duration,
            "warmup_s": options.warmup,
            "repeats": options.repeats,
            "sweep_repeats": options.sweep_repeats,
            "quick": options.quick,
            "workers": options.workers,
            "threads": options.threads,
            "server_cpus": format_cpus(options.server_cpus),
            "loadgen_cpus": format_cpus(options.loadgen_cpus),
            "switch_accounting": options.switch_accounting,
            "seed": options.seed,
            "schedule": options.schedule,
            "late_bound_s": options.late_bound,
            "slo_ms": options.slo_ms,
            "full": options.selection.full,
            "loadgen": asdict(options.loadgen),
            "ready_timeout_s": options.ready_timeout,
            "stop_timeout_s": STOP_TIMEOUT,
            "fd_limit": fd_limit,
        },
        "matrix": {
            "cells": [cell.to_dict() for cell in expansion.cells],
            "notes": expansion.notes,
            "scenarios": {s.name: s.definition() for s in used},
            "servers": {
                name: launch.served(name, application).describe(settings.options)
                for name in dict.fromkeys(cell.server for cell in expansion.cells)
            },
            "application": application.describe(),
        },
        "metadata": {**metadata.collect(), "database": db_info},
        "calibration": None,
        "progress": {"planned": planned, "done": 0, "failed": 0, "skipped": 0},
        "hosts": {
            "server": urlsplit(application.url).hostname if application.url else "127.0.0.1",
            "target": application.url,
            "loadgen": [socket.gethostname()],
        },
    }
    if options.site is not None:
        run_doc["site"] = {
            "directory": str(options.site.directory),
            "settings": options.site.settings,
            "paths": [[path, weight] for path, weight in options.site.paths],
            "locustfile": str(options.site.locustfile) if options.site.locustfile else None,
            "git": metadata.git_state(options.site.directory),
            "facts": options.site_facts,
            "warnings": warnings,
        }
    seed = options.seed if options.seed is not None else secrets.randbits(32)
    settings = replace(settings, schedule_seed=seed)
    passes = shuffled_passes(expansion.cells, options, seed)
    run_doc["order"] = {
        "seed": seed,
        "passes": [[cell.id for cell in order] for order in passes],
    }
    run_doc["harness"] = results.harness_identity()
    results.write_json(run_dir / "run.json", run_doc)
    total = planned
    console.print(
        f"run {run_dir.name}: {len(expansion.cells)} cells, "
        f"{repeat_plan(options, expansion.cells)}, "
        f"{options.duration:g} s windows, server CPUs {format_cpus(options.server_cpus)}, "
        f"locust CPUs {format_cpus(options.loadgen_cpus)}; "
        f"expected about {estimate_seconds(options, expansion.cells) / 60:.1f} min"
    )
    own_cpus = os.sched_getaffinity(0)
    if options.loadgen_cpus:
        # The harness's own threads (sampler, locust's stdout) stay off the server's CPUs.
        os.sched_setaffinity(0, options.loadgen_cpus)
    interrupt = measure.Interrupt()
    upstream: launch.RunningServer | launch.ExternalTarget | None = None
    counter: site.ConnectionCounter | None = None
    repeats: dict[str, list[dict[str, Any]]] = {
        cell.id: [] for cell in expansion.cells if not cell.rate
    }
    for note in connection_room_notes(expansion.cells, by_name, settings.options):
        console.print(f"note: {note}")
        run_doc["matrix"]["notes"].append(note)
    try:
        with _Signals(interrupt):
            if needs_db:
                console.print(database.setup(env))
            if options.site is not None and options.site_facts:
                counter = site.connection_counter(options.site, options.site_facts)
                if counter is not None and counter.error:
                    console.print(f"note: database connections not counted: {counter.error}")
                if counter is not None:
                    run_doc["site"]["counted_databases"] = counter.databases
                    if counter.error:
                        counter.close()
                        counter = None
            if needs_upstream:
                upstream = launch.Served(servers.get("uvicorn"), UPSTREAM_APP).start(
                    env=env, log_path=run_dir / "raw" / "upstream.log", cpus=options.loadgen_cpus
                )
                env["BENCH_UPSTREAM_URL"] = upstream.url
                settings = replace(settings, upstream_pid=upstream.pid)
                run_doc["upstream"] = {
                    "url": upstream.url,
                    "cpus": format_cpus(options.loadgen_cpus),
                }
            if options.calibrate:
                found = calibrate.ceilings(
                    run_dir,
                    settings,
                    connection_modes(expansion.cells, options),
                    options.calibration_duration,
                    interrupt,
                )
                top_rate = max((cell.rate for cell in expansion.cells), default=0)
                if top_rate and not interrupt.event.is_set():
                    found.append(
                        calibrate.schedule_check(
                            run_dir, settings, top_rate, options.calibration_duration, interrupt
                        )
                    )
                run_doc["calibration"] = {"ceilings": found}
                for ceiling in found:
                    console.print(calibrate.describe(ceiling))
                settings = replace(settings, ceilings=tuple(found))
                results.write_json(run_dir / "run.json", run_doc)
            with RunProgress(total) as progress:
                done = 0

                def store(cell: matrix.Cell, record: dict[str, Any]) -> None:
                    repeats.setdefault(cell.id, []).append(record)
                    repeats[cell.id].sort(key=lambda r: r.get("repeat", 0))
                    for worker in record.get("locust_workers", []):
                        host = worker.rsplit("_", 1)[0]
                        if host not in run_doc["hosts"]["loadgen"]:
                            run_doc["hosts"]["loadgen"].append(host)
                    results.write_json(
                        results.cell_path(run_dir, cell.id),
                        results.cell_document(
                            cell.to_dict(), repeats[cell.id], planned_repeats(cell, options)
                        ),
                    )
                    run_doc["progress"]["done"] += record["status"] == "ok"
                    run_doc["progress"]["failed"] += record["status"] == "failed"
                    run_doc["progress"]["skipped"] += record["status"] == "skipped"
                    results.write_json(run_dir / "run.json", run_doc)

                for repeat, order in enumerate(passes, start=1):
                    sweeps.begin_pass(order)
                    for cell in sweeps.slots(order):
                        if interrupt.event.is_set():
                            break
                        done += 1
                        label = f"[{done}/{max(done, total)}] {cell.id} r{repeat}"
                        progress.begin(label)
                        began = time.monotonic()
                        plan = _plan(
                            cell, by_name[cell.scenario], repeat, run_dir, settings, options,
                            counter,
                        )  # fmt: skip
                        # The write check counts before the server starts and
                        # after it stopped: no transaction is in flight then.
                        table = by_name[cell.scenario].verify_rows if bundled else None
                        before = rowcheck.count(plan.env, table) if table else 0
                        record = measure.measure(plan, settings, interrupt, progress.throughput)
                        if caught := plan.env.get(exception_files.ENV):
                            record = with_exceptions(record, Path(caught))
                        if table:
                            record = rowcheck.verify(record, plan, table, before)
                        record["repeat"] = repeat
                        record["elapsed_s"] = time.monotonic() - began
                        if cell.rate:
                            sweeps.record(cell, record)
                        store(cell, record)
                        progress.done(f"{label}: {describe_repeat(record)}")
                    if interrupt.event.is_set():
                        break
                    if sweeps.current:
                        run_doc.setdefault("searches", []).append(sweeps.end_pass())
                    for cell, record in sweeps.untried(repeats):
                        store(cell, record)
    except KeyboardInterrupt:
        interrupt.set("interrupted (second signal)")
    finally:
        if upstream is not None:
            upstream.stop()
        if counter is not None:
            counter.close()
        processes.stop_all()
        if interrupt.event.is_set():
            run_doc["status"] = "interrupted"
            run_doc["interrupted_reason"] = interrupt.reason
        elif not run_doc["progress"]["failed"]:
            # every pass ran to its end (open-loop searches choose their own
            # trials, so the planned count is an estimate, not a target)
            run_doc["status"] = "complete"
        else:
            run_doc["status"] = "partial"
        run_doc["finished_at"] = results.utc_now()
        results.write_json(run_dir / "run.json", run_doc)
        os.sched_setaffinity(0, own_cpus)  # the report may use every CPU again
    return run_dir


def repeat_plan(options: RunOptions, cells: list[matrix.Cell]) -> str:
    """'9 repeats each' or '9 repeats (3 for the 18 open-loop cells)'."""
    swept = sum(1 for cell in cells if cell.rate)
    if not swept or options.sweep_repeats == options.repeats:
        return f"{options.repeats} repeat{'s' if options.repeats > 1 else ''} each"
    return f"{options.repeats} repeats ({options.sweep_repeats} for the {swept} open-loop cells)"


def planned_repeats(cell: matrix.Cell, options: RunOptions) -> int:
    """Repeats of a cell: ``--repeats``, or ``--sweep-repeats`` for an open-loop
    cell (a sweep has many cells; its headline needs passes, not long ones)."""
    return options.sweep_repeats if cell.rate else options.repeats


def shuffled_passes(
    cells: list[matrix.Cell], options: RunOptions, seed: int
) -> list[list[matrix.Cell]]:
    """Each pass holds every cell that still has a repeat to run, in its own
    random order.

    Randomized multiple interleaved trials (Abedi and Brecht, ICPE 2017): on a
    shared machine, drift inside a pass would otherwise fall on the same cells
    every time and become a fixed offset between them. The seed is recorded,
    so the order can be replayed with ``--seed``.
    """
    rng = random.Random(seed)
    passes = []
    for index in range(max(options.repeats, options.sweep_repeats)):
        order = [cell for cell in cells if index < planned_repeats(cell, options)]
        rng.shuffle(order)
        passes.append(order)
    return passes


class Sweeps:
    """The open-loop searches of a run: each sweep's grid, the searches of the
    current pass, and the bracket each pass hands to the next as its hint.

    A sweep's grid cells are slots in a pass's shuffled order: at each slot the
    sweep measures the next rate its search asks for, so the sweeps' trials
    stay interleaved with the other cells (and with each other) as the grid
    cells were; trials beyond the slots run at the pass's end, one sweep at a
    time in turn.
    """

    def __init__(self, grid: dict[tuple, list[int]], template: dict[tuple, matrix.Cell],
                 fixed_pool: dict[tuple, bool], slo_ms: float) -> None:  # fmt: skip
        self.grid, self.template, self.fixed_pool = grid, template, fixed_pool
        self.slo_ms = slo_ms
        self.hints: dict[tuple, tuple[int, int | None]] = {}
        self.current: dict[tuple, search.Search] = {}
        self.known: dict[str, matrix.Cell] = {}
        self.passes = 0  # passes that searched: a sweep runs in --sweep-repeats passes only

    @classmethod
    def of(cls, cells: list[matrix.Cell], slo_ms: float) -> "Sweeps":
        template: dict[tuple, matrix.Cell] = {}
        fixed: dict[tuple, bool] = {}
        for cell in cells:
            if cell.rate:
                template.setdefault(cell.sweep_key, cell)
                # --users with --rate fixes the pool; otherwise it follows the rate
                fixed[cell.sweep_key] = fixed.get(cell.sweep_key, False) or (
                    cell.users != schedule.pool_size(cell.rate)
                )
        sweeps = cls(sweep_grids(cells), template, fixed, slo_ms)
        for key, grid in sweeps.grid.items():
            for rate in grid:  # every grid cell gets its document, measured or not
                sweeps.cell_at(key, rate)
        return sweeps

    def begin_pass(self, order: list[matrix.Cell]) -> None:
        """Start the searches of the sweeps that have slots in this pass's order
        (a pass beyond --sweep-repeats has none: it measures closed-loop cells only)."""
        keys = {cell.sweep_key for cell in order if cell.rate}
        self.current = {
            key: search.Search(grid, hint=self.hints.get(key))
            for key, grid in self.grid.items()
            if key in keys
        }
        self.passes += bool(self.current)

    def cell_at(self, key: tuple, rate: int) -> matrix.Cell:
        template = self.template[key]
        users = template.users if self.fixed_pool[key] else schedule.pool_size(rate)
        cell = replace(template, rate=rate, users=users)
        self.known.setdefault(cell.id, cell)
        return cell

    def next_cell(self, key: tuple) -> matrix.Cell | None:
        rate = self.current[key].next_rate()
        return None if rate is None else self.cell_at(key, rate)

    def slots(self, order: list[matrix.Cell]) -> Iterator[matrix.Cell]:
        """The pass's cells to measure, each sweep's next trial at its slots;
        lazy, so each trial is chosen after the one before it was recorded."""
        for cell in order:
            if not cell.rate:
                yield cell
            elif (trial := self.next_cell(cell.sweep_key)) is not None:
                yield trial
        while unfinished := [key for key, found in self.current.items() if not found.done]:
            for key in unfinished:
                if (trial := self.next_cell(key)) is not None:
                    yield trial

    def record(self, cell: matrix.Cell, record: dict[str, Any]) -> None:
        self.current[cell.sweep_key].record(cell.rate, sustained.outcome(record, self.slo_ms))

    def end_pass(self) -> list[dict[str, Any]]:
        """Each search's bracket (kept in run.json); each becomes the next pass's hint."""
        found = []
        for key, result in self.current.items():
            self.hints[key] = (result.lower, result.upper)
            found.append({"sweep": self.template[key].id, **result.result()})
        return found

    def untried(
        self, repeats: dict[str, list[dict[str, Any]]]
    ) -> Iterator[tuple[matrix.Cell, dict[str, Any]]]:
        """A skipped record for every open-loop cell in each pass searched so far
        that did not measure it, so every such cell holds one record per
        searching pass and says which passes measured it."""
        for cell_id, cell in self.known.items():
            done = {r.get("repeat") for r in repeats.get(cell_id, [])}
            for index in range(1, self.passes + 1):
                if index not in done:
                    yield cell, {**skipped_repeat(index), "repeat": index}


def skipped_repeat(index: int) -> dict[str, Any]:
    """A rate the search of pass ``index`` did not need: its bracket was found
    without it."""
    return {
        "status": "skipped",
        "reason": f"not measured in pass {index}: its search bracketed the knee without this rate",
        "started_at": results.utc_now(),
        "raw_dir": None,
    }


def connection_room_notes(
    cells: list[matrix.Cell],
    by_name: dict[str, scenarios.Scenario],
    options: servers.ServerOptions,
) -> list[str]:
    """What the run changed in servers' connection limits for open-loop pools."""
    notes = []
    for key, grid in sweep_grids(cells).items():
        cell = next(c for c in cells if c.rate and c.sweep_key == key)
        if by_name[cell.scenario].threads_per_user:
            continue
        top = replace(cell, rate=grid[-1], users=max(c.users for c in cells if c.sweep_key == key))
        roomier = cell_server_options(top, by_name[cell.scenario], options)
        settings = servers.get(cell.server).settings(roomier) if roomier else {}
        if roomier is not None and "worker_connections" in settings:
            notes.append(
                f"{top.id}: the server's worker_connections raised to "
                f"{roomier.worker_connections} for a pool of up to {top.users} users "
                f"(gunicorn's default {servers.DEFAULT_WORKER_CONNECTIONS} would fill)"
            )
    return notes


def connection_modes(cells: list[matrix.Cell], options: RunOptions) -> list[tuple[int, bool]]:
    """The (users, keep-alive) pairs the cells load with: each needs its own ceiling."""
    modes = set()
    for cell in cells:
        if cell.rate:
            continue  # open loop: checked by calibrate.schedule_check instead
        modes.add((cell.users, launch.served(cell.server, options.application).keep_alive))
    return sorted(modes)


def check_options(options: RunOptions) -> None:
    if options.duration <= 0 or options.warmup < 0:
        raise UsageError("--duration must be > 0 and --warmup >= 0")
    if options.repeats < 1 or options.sweep_repeats < 1:
        raise UsageError(
            f"--repeats and --sweep-repeats must be >= 1, got {options.repeats} and "
            f"{options.sweep_repeats}"
        )
    if options.loadgen.workers < 0 or options.loadgen.remote_workers < 0:
        raise UsageError("--loadgen-workers and --loadgen-remote-workers must be >= 0")
    if options.ready_timeout <= 0:
        raise UsageError("--ready-timeout must be > 0")
    if options.workers < 1 or options.threads < 1:
        raise UsageError("--workers and --threads must be >= 1")
    if options.server_cpus and options.loadgen_cpus and options.server_cpus & options.loadgen_cpus:
        console.print("warning: server and locust share CPUs; figures will interfere")
    available = os.sched_getaffinity(0)
    for name, cpus in (("server", options.server_cpus), ("locust", options.loadgen_cpus)):
        if cpus and not cpus <= available:
            raise UsageError(
                f"--{name}-cpus {format_cpus(cpus)}: this machine offers CPUs "
                f"{format_cpus(frozenset(available))}"
            )
