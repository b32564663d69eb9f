"""What a run is asked for: its options, their checks, and the environment it starts with.

``RunOptions`` holds what the command line decided (or a test); a user's site
is inspected here before anything runs (``with_site``), the options are
checked in one place (``check_options``), and ``base_env`` is the environment
every server and locust of the run inherit.
"""

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from bench import ROOT
from bench.errors import UsageError
from bench.load.loadgen import Topology
from bench.measure.settings import new_secret_key
from bench.plan import matrix
from bench.results import store as results
from bench.results.records.site import SiteFacts
from bench.run.progress import console
from bench.serve import database, servers
from bench.serve.processes import format_cpus
from bench.site import project as site
from bench.site.project import Site

# Many short repeats: on this shared machine 9 x 5 s windows gave verdict
# intervals 2-4x narrower than 3 x 15 s in the same time (README, "How a cell
# is measured"); an open-loop sweep takes 3 passes of each rate.
DEFAULT_DURATION = 5.0
DEFAULT_WARMUP = 1.5
DEFAULT_REPEATS = 9
DEFAULT_SWEEP_REPEATS = 3
DEFAULT_LATE_BOUND_S = 1.0  # open loop: an unsent due request is dropped after this
DEFAULT_SLO_MS = 100.0  # open loop: the p99 objective of the sustained-rate headline
DEFAULT_BUDGET_S = 15 * 60.0  # --target-interval without --budget
# Pairs before the stopping rule's first look below which its intervals
# undercover (tools/pairing_simulation.py, README "Paired blocks").
SAFE_MINIMUM_PAIRS = 10


@dataclass
class RunOptions:
    """What a run measures and how: the command line's choices, or a test's."""

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
    site_facts: SiteFacts | None = None  # what bench.site.in_site.check found in it
    seed: int | None = None  # the order of cells in each pass; None: a fresh one
    schedule: str = "uniform"  # open loop: "uniform" or "poisson"
    late_bound: float = DEFAULT_LATE_BOUND_S
    slo_ms: float = DEFAULT_SLO_MS
    # The stopping rule (bench.run.stopping): a half-width in percent, and the
    # run's time limit in seconds (DEFAULT_BUDGET_S when a target is set).
    target_interval: float | None = None
    budget_s: float | None = None
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


def base_env(options: RunOptions) -> dict[str, str]:
    """The environment of the run's servers and locust: a user's site keeps its
    own secret key and path (its application adds its settings)."""
    env = dict(os.environ)
    env.pop("BENCH_SWITCH_ACCOUNTING", None)
    # A shell that sets it would silence Django's async-safety guard in every
    # server the run starts: a mistake would then be measured as a figure.
    env.pop(servers.ASYNC_UNSAFE, None)
    if options.site is not None:
        env.update(site.locust_environment(options.site))
        return env
    env["DJANGO_SECRET_KEY"] = new_secret_key()  # per run, never written to results
    env.setdefault("BENCH_SQLITE_PATH", str(database.DEFAULT_SQLITE))
    env["PYTHONPATH"] = str(ROOT)
    return env


def check_options(options: RunOptions) -> None:
    """Refuse, in one line each, the options no run could honour."""
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
    if options.target_interval is not None and not 0 < options.target_interval < 100:
        raise UsageError(f"--target-interval must be in (0, 100), got {options.target_interval}")
    if options.budget_s is not None and options.target_interval is None:
        raise UsageError("--budget limits the stopping rule: give --target-interval with it")
    if options.target_interval is not None and options.repeats < 3:
        raise UsageError(
            "--target-interval needs --repeats >= 3: the minimum number of pairs, "
            "fixed before the run, must give a paired interval (2 degrees of freedom)"
        )
    if options.target_interval is not None and options.repeats < SAFE_MINIMUM_PAIRS:
        console.print(
            f"warning: --repeats {options.repeats} pairs before the rule's first look: in "
            "simulation, intervals it stopped on after 5 covered the truth 91.5% of the "
            f"time, after {SAFE_MINIMUM_PAIRS} 93.8% (tools/pairing_simulation.py)"
        )
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
