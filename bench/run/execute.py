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

The options live in ``options``, the cells and their order in ``cells``, the
open-loop searches in ``sweeps``, run.json and the cell files in
``document``; their names are kept here too, the one door the command line
goes through.
"""

import os
import random
import secrets
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bench.analyse import pairs as pairing
from bench.analyse import search
from bench.load import schedule
from bench.measure import repeat as measure
from bench.measure import rowcheck
from bench.measure import settings as server_settings
from bench.plan import fdlimit, matrix, scenarios
from bench.results import store as results
from bench.results.records import Calibration, RepeatRecord
from bench.run import calibrate, document, stopping
from bench.run.cells import (
    blocked_order,
    cell_server_options,
    connection_modes,
    connection_room_notes,
    estimate_seconds,
    plan_cells,
    planned_repeats,
    repeat_plan,
    shuffled_passes,
)
from bench.run.describe import describe_repeat
from bench.run.options import (
    DEFAULT_BUDGET_S,
    RunOptions,
    base_env,
    site_warnings,
)
from bench.run.progress import RunProgress, console
from bench.run.sweeps import Sweeps
from bench.serve import database, launch, processes, servers
from bench.serve.processes import format_cpus
from bench.site import project as site
from bench.site.in_server import exception_files

# The slow service the upstream scenario's views call; on the load generator's CPUs.
UPSTREAM_APP = servers.Application("upstream", asgi="project.upstream:app")


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
    """One repeat of one cell: its directory, environment and server options."""
    out_dir = run_dir / "raw" / cell.id / f"r{repeat}"
    primary = (
        scenario.primary.format(style=cell.style, endpoint=cell.endpoint)
        if scenario.primary
        else None
    )
    accounting = options.switch_accounting or scenario.accounting
    postgres = bool(cell.db_mode) and cell.db_mode != "sqlite"
    app_name = f"djbench-{os.getpid()}-{abs(hash(cell.id)) % 10**8}" if postgres else None
    env = server_settings.server_env(
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


def with_exceptions(record: RepeatRecord, directory: Path) -> RepeatRecord:
    """The repeat with the first exception per path its server recorded; a failed
    repeat's reason names the first of them on its first line (the line the
    progress and the report's caveats show), since the server log has none."""
    found = exception_files.read(directory)
    record.server_exceptions = found
    if found and record.status == "failed" and record.reason:
        path, line = next(iter(found.items()))
        first, newline, rest = record.reason.partition("\n")
        record.reason = f"{first} (the server raised {line} at {path}){newline}{rest}"
    return record


@dataclass
class _Run:
    """A run under way: what it measures, with what, and the files it writes."""

    options: RunOptions
    expansion: matrix.Expansion
    by_name: dict[str, scenarios.Scenario]
    env: dict[str, str]
    run_dir: Path
    settings: measure.Settings
    sweeps: Sweeps
    files: document.RunFiles
    passes: list[list[matrix.Cell]]
    blocks: list[list[matrix.Cell]] = field(default_factory=list)
    pairs: list[tuple[matrix.Cell, matrix.Cell]] = field(default_factory=list)
    rule: stopping.Stopping | None = None
    rng: random.Random = field(default_factory=random.Random)
    done: int = 0  # repeats measured so far, for the progress lines
    interrupt: measure.Interrupt = field(default_factory=measure.Interrupt)
    upstream: launch.RunningServer | launch.ExternalTarget | None = None
    counter: site.ConnectionCounter | None = None

    @property
    def bundled(self) -> bool:
        """The bundled project (a user's site or a target brings its own database)."""
        return self.options.application == servers.BUNDLED

    def start_services(self) -> None:
        """The database, the count of a site's connections, the upstream service."""
        doc, options = self.files.document, self.options
        if any(self.by_name[cell.scenario].database for cell in self.expansion.cells):
            console.print(database.setup(self.env))
        if options.site is not None and options.site_facts:
            counter = site.connection_counter(options.site, options.site_facts)
            if counter is not None and counter.error:
                console.print(f"note: database connections not counted: {counter.error}")
            if counter is not None and doc.site is not None:
                doc.site["counted_databases"] = counter.databases
            if counter is not None and counter.error:
                counter.close()
                counter = None
            self.counter = counter
        if any(self.by_name[cell.scenario].upstream for cell in self.expansion.cells):
            self.upstream = upstream = launch.Served(servers.get("uvicorn"), UPSTREAM_APP).start(
                env=self.env,
                log_path=self.run_dir / "raw" / "upstream.log",
                cpus=options.loadgen_cpus,
            )
            self.env["BENCH_UPSTREAM_URL"] = upstream.url
            self.settings = replace(self.settings, upstream_pid=upstream.pid)
            doc.upstream = {"url": upstream.url, "cpus": format_cpus(options.loadgen_cpus)}

    def calibrate(self) -> None:
        """locust's ceilings for the cells' connection modes, and its open-loop check."""
        options, cells = self.options, self.expansion.cells
        found = calibrate.ceilings(
            self.run_dir,
            self.settings,
            connection_modes(cells, options),
            options.calibration_duration,
            self.interrupt,
        )
        top_rate = max((cell.rate for cell in cells), default=0)
        if top_rate and not self.interrupt.event.is_set():
            found.append(
                calibrate.schedule_check(
                    self.run_dir,
                    self.settings,
                    top_rate,
                    options.calibration_duration,
                    self.interrupt,
                )
            )
        self.files.document.calibration = Calibration(ceilings=found)
        for ceiling in found:
            console.print(calibrate.describe_ceiling(ceiling))
        self.settings = replace(self.settings, ceilings=tuple(found))
        self.files.write_run()

    def measure(self, cell: matrix.Cell, repeat: int, on_progress: Any) -> RepeatRecord:
        """One repeat of one cell, with the checks that follow it."""
        began = time.monotonic()
        scenario = self.by_name[cell.scenario]
        plan = _plan(cell, scenario, repeat, self.run_dir, self.settings, self.options,
                     self.counter)  # fmt: skip
        # The write check counts before the server starts and after it
        # stopped: no transaction is in flight then.
        table = scenario.verify_rows if self.bundled else None
        before = rowcheck.count(plan.env, table) if table else 0
        record = measure.measure(plan, self.settings, self.interrupt, on_progress)
        if caught := plan.env.get(exception_files.ENV):
            record = with_exceptions(record, Path(caught))
        if table:
            record = rowcheck.verify(record, plan, table, before)
        record.repeat = repeat
        record.elapsed_s = time.monotonic() - began
        return record

    def measure_passes(self, total: int) -> None:
        """Every pass in its shuffled order, each sweep's trials at its slots;
        then, with a stopping rule, the passes it adds."""
        with RunProgress(total) as progress:
            for repeat, order in enumerate(list(self.passes), start=1):
                self.measure_pass(repeat, order, progress, total)
                if self.interrupt.event.is_set():
                    break
            if self.rule is not None:
                self.stop_on_width(progress)

    def measure_pass(
        self, repeat: int, order: list[matrix.Cell], progress: RunProgress, total: int
    ) -> None:
        """One pass: its cells in order, each sweep's trials at its slots."""
        sweeps, files, interrupt = self.sweeps, self.files, self.interrupt
        sweeps.begin_pass(order)
        for cell in sweeps.slots(order):
            if interrupt.event.is_set():
                break
            self.done += 1
            label = f"[{self.done}/{max(self.done, total)}] {cell.id} r{repeat}"
            progress.begin(label)
            record = self.measure(cell, repeat, progress.throughput)
            if cell.rate:
                sweeps.record(cell, record)
            files.store(cell, record)
            progress.done(f"{label}: {describe_repeat(record)}")
        if interrupt.event.is_set():
            return
        if sweeps.current:
            if files.document.searches is None:
                files.document.searches = []
            files.document.searches.append(sweeps.end_pass())
        for cell, record in sweeps.untried(files.repeats):
            files.store(cell, record)

    def stop_on_width(self, progress: RunProgress) -> None:
        """Passes of the blocks whose paired intervals are still wider than the
        target, in batches that double their pairs between two looks, while
        the next pass fits in the budget (``bench.run.stopping``)."""
        rule, files = self.rule, self.files
        assert rule is not None
        looked_at = self.options.repeats
        while not self.interrupt.event.is_set() and rule.stopped is None:
            unmet = rule.unmet_blocks(self.blocks, stopping.widths(self.pairs, files.repeats))
            if not unmet:
                rule.stopped = "met"
                break
            batch = rule.batch(looked_at)
            looked_at += batch
            for _ in range(batch):
                if self.interrupt.event.is_set() or not self.extra_pass(unmet, progress):
                    break
        if self.interrupt.event.is_set():
            rule.stopped = "interrupted"
        files.document.stopping = stopping.record(
            rule, self.options.repeats, stopping.widths(self.pairs, files.repeats)
        )
        console.print(stopping.describe(files.document.stopping))

    def extra_pass(self, unmet: list[list[matrix.Cell]], progress: RunProgress) -> bool:
        """One more pass of ``unmet``'s cells, or False (and the rule stopped on
        its budget) when it would overrun the budget."""
        rule, files = self.rule, self.files
        assert rule is not None
        cells = [cell for block in unmet for cell in block]
        measured = [r.elapsed_s for rs in files.repeats.values() for r in rs if r.elapsed_s]
        if not rule.affordable(len(cells), sum(measured) / len(measured) if measured else 0.0):
            rule.stopped = "budget"
            return False
        order = blocked_order(cells, unmet, self.rng)
        self.passes.append(order)
        files.document.order.passes.append([cell.id for cell in order])
        files.plan_extra_pass(cells)
        rule.extra_passes += 1
        self.measure_pass(len(self.passes), order, progress, files.document.progress.planned)
        return True

    def stop(self) -> None:
        """Stop what the run started, and write its final status."""
        if self.upstream is not None:
            self.upstream.stop()
        if self.counter is not None:
            self.counter.close()
        processes.stop_all()
        document.finish(self.files.document, self.interrupt)
        self.files.write_run()


def _database_info(options: RunOptions, env: dict[str, str]) -> dict[str, Any]:
    """What run.json says of the database: the bundled project's, or the site's own."""
    if options.application != servers.BUNDLED:
        return {"engine": f"{options.application.name}'s own"}
    info = database.describe(env)
    if database.is_postgres(env):
        info.update(database.check_reachable(env["DATABASE_URL"]))
    return info


def _settings(options: RunOptions, env: dict[str, str]) -> measure.Settings:
    return measure.Settings(
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


def _prepare(options: RunOptions) -> _Run:
    """Everything checked, the run directory made and run.json written: no server yet."""
    chosen, expansion = plan_cells(options)
    by_name = {scenario.name: scenario for scenario in chosen}
    env = base_env(options)
    db_info = _database_info(options, env)
    used = [by_name[name] for name in dict.fromkeys(cell.scenario for cell in expansion.cells)]
    scenarios.check_importable(used)
    if options.site is not None:
        site.preflight(options.site, options.application, expansion.cells[0].server, env)
    fd_limit = fdlimit.raise_soft()  # before any server or locust starts: they inherit it
    run_dir = results.create_run_dir(options.results_root, options.label)
    results.point_latest(options.results_root, run_dir)
    for note in expansion.notes:
        console.print(f"note: {note}")
    warnings = site_warnings(options, expansion.cells)
    for warning in warnings:
        console.print(f"warning: {warning}")
    settings = _settings(options, env)
    sweeps = Sweeps.of(expansion.cells, options.slo_ms)
    planned = sum(planned_repeats(cell, options) for cell in expansion.cells if not cell.rate)
    planned += sum(
        search.expected_trials(grid, options.sweep_repeats) for grid in sweeps.grid.values()
    )
    doc = document.start_document(
        run_dir, options, expansion, used, settings,
        db_info=db_info, fd_limit=fd_limit, planned=planned,
    )  # fmt: skip
    if options.site is not None:
        doc.site = document.site_block(options, warnings)
    seed = options.seed if options.seed is not None else secrets.randbits(32)
    pairs = stopping.planned_pairs(expansion.cells)
    blocks = pairing.blocks(expansion.cells, pairs)
    passes = shuffled_passes(expansion.cells, options, seed, blocks)
    document.set_order(doc, seed, passes, blocks, pairs)
    doc.harness = results.harness_identity()
    files = document.RunFiles(run_dir, doc, expansion.cells, options)
    files.write_run()
    rule = None
    if options.target_interval is not None:
        budget = options.budget_s if options.budget_s is not None else DEFAULT_BUDGET_S
        rule = stopping.Stopping(target=options.target_interval / 100, budget_s=budget)
    return _Run(
        options, expansion, by_name, env, run_dir, replace(settings, schedule_seed=seed),
        sweeps, files, passes, blocks, pairs, rule, random.Random(seed + 1),
    )  # fmt: skip


def execute(options: RunOptions) -> Path:
    """Run the whole matrix; return the run directory."""
    run = _prepare(options)
    cells, total = run.expansion.cells, run.files.document.progress.planned
    console.print(
        f"run {run.run_dir.name}: {len(cells)} cells, {repeat_plan(options, cells)}, "
        f"{options.duration:g} s windows, server CPUs {format_cpus(options.server_cpus)}, "
        f"locust CPUs {format_cpus(options.loadgen_cpus)}; "
        f"expected about {estimate_seconds(options, cells) / 60:.1f} min"
    )
    if run.rule is not None:
        run.rule.started = time.monotonic()
        console.print(stopping.plan_line(run.rule, len(run.pairs), options.repeats))
    own_cpus = os.sched_getaffinity(0)
    if options.loadgen_cpus:
        # The harness's own threads (sampler, locust's stdout) stay off the server's CPUs.
        os.sched_setaffinity(0, options.loadgen_cpus)
    for note in connection_room_notes(cells, run.by_name, run.settings.options):
        console.print(f"note: {note}")
        run.files.document.matrix.notes.append(note)
    try:
        with _Signals(run.interrupt):
            run.start_services()
            if options.calibrate:
                run.calibrate()
            run.measure_passes(total)
    except KeyboardInterrupt:
        run.interrupt.set("interrupted (second signal)")
    finally:
        run.stop()
        os.sched_setaffinity(0, own_cpus)  # the report may use every CPU again
    return run.run_dir
