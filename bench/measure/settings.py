"""What one repeat is given: the run's shared settings, its own plan, the interrupt.

``Settings`` is what every repeat of a run shares (windows, pinning, server
options, the load generator's calibrated ceilings); ``Plan`` is one repeat of
one cell (the server and application, the locust user class, its directory
and environment); ``Interrupt`` is how a signal reaches a repeat in progress.
"""

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.load import loadgen
from bench.results.records import Ceiling, ScheduleCheck
from bench.serve import servers


@dataclass(frozen=True)
class Settings:
    """What every repeat of a run shares."""

    warmup: float
    duration: float
    server_cpus: frozenset[int] | None
    loadgen_cpus: frozenset[int] | None
    options: servers.ServerOptions
    base_env: dict[str, str]
    # locust's calibrated ceilings, one per (users, keep-alive) the run uses
    ceilings: tuple[Ceiling | ScheduleCheck, ...] = ()
    topology: loadgen.Topology = field(default_factory=loadgen.Topology)
    ready_timeout: float = 30.0
    upstream_pid: int | None = None  # the upstream service shares the load generator's CPUs
    schedule: str = "uniform"  # open-loop cells: evenly spaced or Poisson due times
    late_bound: float = 1.0  # open-loop cells: seconds before an unsent request is dropped
    schedule_seed: int = 0
    slo_ms: float = 100.0  # open-loop cells: the p99 objective the scheduler's slip is held to

    def ceiling_for(self, users: int, keep_alive: bool) -> Ceiling | None:
        """The calibration that matches a cell's user count and connection mode."""
        for ceiling in self.ceilings:
            if isinstance(ceiling, Ceiling) and (ceiling.users, ceiling.keep_alive) == (
                users,
                keep_alive,
            ):
                return ceiling
        return None

    def schedule_check(self) -> ScheduleCheck | None:
        """The open-loop calibration: could locust keep the run's top rate?"""
        return next((c for c in self.ceilings if isinstance(c, ScheduleCheck)), None)


@dataclass(frozen=True)
class Plan:
    """One repeat to measure."""

    served: servers.Served  # the server and the application it serves
    scenario_path: Path
    user_class: str
    users: int
    style: str | None
    out_dir: Path
    env: dict[str, str]
    primer_path: str | None
    primary: str | None = None
    expected_errors: tuple[str, ...] = ()
    accounting: bool = False
    db_application_name: str | None = None
    db_admin_url: str | None = None
    # counts connections on a user's own database (bench.site.project.ConnectionCounter)
    db_connections: Callable[[], int] | None = None
    rate: int = 0  # open loop: requests per second falling due; 0: closed loop
    # This cell's own server options (a thread per held connection); None: the run's
    server_options: servers.ServerOptions | None = None
    # This cell's own warm-up (held connections take seconds to open); None: the run's
    warmup: float | None = None
    # This cell's own window (an open-loop rate's p99 needs 1,000 requests); None: the run's
    duration: float | None = None

    def options(self, settings: Settings) -> servers.ServerOptions:
        """The options this repeat's server starts with."""
        return self.server_options or settings.options

    def load_spec(self, settings: Settings) -> loadgen.LoadSpec:
        """What locust is asked to do in this repeat."""
        return loadgen.LoadSpec(
            scenario_path=self.scenario_path,
            user_class=self.user_class,
            users=self.users,
            style=self.style,
            host=None,
            warmup=settings.warmup if self.warmup is None else self.warmup,
            duration=settings.duration if self.duration is None else self.duration,
            topology=settings.topology,
            open_loop=loadgen.OpenLoopSpec(
                rate=self.rate,
                schedule=settings.schedule,
                late_bound=settings.late_bound,
                seed=settings.schedule_seed,
            )
            if self.rate
            else None,
        )


@dataclass
class Interrupt:
    """Set by the signal handler: the run should stop as soon as it can."""

    reason: str | None = None
    event: threading.Event = field(default_factory=threading.Event)

    def set(self, reason: str) -> None:
        self.reason = reason
        self.event.set()


def server_env(
    base: dict[str, str],
    *,
    stack: str,
    accounting_dir: Path | None,
    db_mode: str,
    db_application_name: str | None,
) -> dict[str, str]:
    """The environment one server starts with."""
    env = dict(base)
    env["BENCH_STACK"] = stack
    env.pop("BENCH_SWITCH_ACCOUNTING", None)
    if accounting_dir is not None:
        env["BENCH_SWITCH_ACCOUNTING"] = "1"
        env["BENCH_ACCOUNTING_DIR"] = str(accounting_dir)
    for key in ("BENCH_DB_CONN", "BENCH_DB_POOL_SIZE"):
        env.pop(key, None)
    if db_mode in ("none", "persistent"):
        env["BENCH_DB_CONN"] = db_mode
    elif db_mode.startswith("pool"):
        env["BENCH_DB_CONN"] = "pool"
        env["BENCH_DB_POOL_SIZE"] = db_mode.removeprefix("pool")
    if db_application_name:
        env["BENCH_DB_APPLICATION_NAME"] = db_application_name
    return env


def new_secret_key() -> str:
    return secrets.token_urlsafe(50)
