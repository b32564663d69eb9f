"""Measuring one repeat of one cell: start, verify, load, sample, stop, derive.

The server starts on its CPU set with the cell's settings, a primer request
checks that the endpoint answers, locust warms up and then measures exactly
one window while the sampler reads the server's CPU at the window's edges,
and the server is stopped whatever happened. Every failure becomes a repeat
with ``status`` failed or interrupted and a reason: never an exception that
loses the run, never a number that was not measured.
"""

import os
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from bench.errors import BenchError
from bench.load import loadgen, output
from bench.measure import counter_files, dbcpu
from bench.measure.sampler import Sampler, WindowResources
from bench.results.store import utc_now
from bench.serve import launch, servers
from bench.serve.processes import format_cpus

LOADGEN_CPU_LIMIT = 90.0  # % of one core: above this locust is the bottleneck
CEILING_FRACTION = 0.8  # throughput at 80% of locust's calibrated ceiling is suspect
STEAL_LIMIT = 5.0  # % of the load generator's cores stolen by the hypervisor
INTERVAL_TOLERANCE = 0.01  # the CPU interval and locust's window may differ by 1%
STEADY_TOLERANCE = 0.10  # first and last thirds of the window within 10%
MOSTLY_FAILED = 0.5  # a window where most requests failed measured the failure, not the server
SWITCH_ENDPOINT = "/__bench__/switches"


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
    ceilings: tuple[dict[str, Any], ...] = ()
    topology: loadgen.Topology = field(default_factory=loadgen.Topology)
    ready_timeout: float = 30.0
    upstream_pid: int | None = None  # the upstream service shares the load generator's CPUs
    schedule: str = "uniform"  # open-loop cells: evenly spaced or Poisson due times
    late_bound: float = 1.0  # open-loop cells: seconds before an unsent request is dropped
    schedule_seed: int = 0
    slo_ms: float = 100.0  # open-loop cells: the p99 objective the scheduler's slip is held to

    def ceiling_for(self, users: int, keep_alive: bool) -> dict[str, Any] | None:
        """The calibration that matches a cell's user count and connection mode."""
        for ceiling in self.ceilings:
            if ceiling.get("open_loop"):
                continue
            if ceiling.get("users") == users and ceiling.get("keep_alive") == keep_alive:
                return ceiling
        return None

    def schedule_check(self) -> dict[str, Any] | None:
        """The open-loop calibration: could locust keep the run's top rate?"""
        return next((c for c in self.ceilings if c.get("open_loop")), None)


@dataclass(frozen=True)
class Plan:
    """One repeat to measure."""

    served: launch.Served  # the server and the application it serves
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

    def options(self, settings: "Settings") -> servers.ServerOptions:
        """The options this repeat's server starts with."""
        return self.server_options or settings.options


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


def primer(url: str, application: servers.Application, timeout: float = 30) -> str | None:
    """One request to a cell's page; the reason it is unusable, or None.

    Redirects are not followed: a 3xx is the page's own answer, accepted only
    where the application allows it (a user's login redirect), and a 3xx has
    no body to check.
    """
    try:
        response = httpx.get(url, timeout=timeout)
    except httpx.HTTPError as exc:
        return f"primer request to {url} failed: {type(exc).__name__}"
    expected = "2xx or 3xx" if application.user_site else "200"
    if not application.answers(response.status_code):
        return f"primer request to {url} answered HTTP {response.status_code}, not {expected}"
    if response.status_code < 300 and not response.content:
        return f"primer request to {url} answered an empty body"
    return None


_EXCEPTION_LINE = re.compile(r"[A-Za-z_][\w.]*(?:: .*)?")


def logged_exception(log: str, limit: int = 200) -> str | None:
    """The exception line (``module.Name: message``) ending the last traceback
    of a server log, shortened to ``limit`` characters; None without one."""
    lines = log.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent call")]
    if not starts:
        return None
    for line in lines[starts[-1] + 1 :]:
        if line and not line[0].isspace() and _EXCEPTION_LINE.fullmatch(line.rstrip()):
            text = line.rstrip()
            return text if len(text) <= limit else text[: limit - 3] + "..."
    return None


def _switch_totals(url: str) -> dict[str, int] | None:
    try:
        response = httpx.get(url + SWITCH_ENDPOINT, timeout=10)
        response.raise_for_status()
        return response.json()["totals"]
    except (httpx.HTTPError, KeyError, ValueError):
        return None


def _db_counter(admin_url: str, application_name: str):
    import psycopg

    connection = psycopg.connect(admin_url, autocommit=True, connect_timeout=5)

    def count() -> int:
        row = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
            (application_name,),
        ).fetchone()
        return int(row[0]) if row else 0

    return connection, count


def _db_clock(admin_url: str, application_name: str) -> tuple[dbcpu.BackendClock, Any] | str:
    """The clock of this cell's PostgreSQL backends, or why there is none."""
    try:
        return dbcpu.open_clock(admin_url, application_name)
    except dbcpu.Unavailable as exc:
        return f"database CPU not measured: {exc}"


def db_record(
    resources: WindowResources,
    counted: int,
    server_cpu_ms: float | None,
    database_cpu: dbcpu.DatabaseCpu | None,
) -> dict[str, Any] | None:
    """The repeat's ``db`` block: connections, and the CPU of this cell's backends
    over the server's CPU interval, alone and added to the server's per request.

    Unattributed CPU (backends that exited before they could be identified) is
    kept apart, never added: it may be another client's.
    """
    if resources.db_connections_peak is None and database_cpu is None:
        return None
    record: dict[str, Any] = {
        "connections_peak": resources.db_connections_peak,
        "connections_mean": resources.db_connections_mean,
    }
    if database_cpu is None:
        return record
    cpu_ms = (
        database_cpu.cpu_s * 1000 / counted if database_cpu.cpu_s is not None and counted else None
    )
    record.update(
        cpu_s=database_cpu.cpu_s,
        cpu_ms_per_request=cpu_ms,
        server_and_db_cpu_ms_per_request=server_cpu_ms + cpu_ms
        if server_cpu_ms is not None and cpu_ms is not None
        else None,
        backends=database_cpu.backends,
        unattributed_cpu_s=database_cpu.unattributed_cpu_s,
        unattributed_backends=database_cpu.unattributed_backends,
        cpu_note=database_cpu.note,
    )
    return record


def _failed(plan: Plan, reason: str, status: str = "failed", **extra: Any) -> dict[str, Any]:
    return {
        "status": status,
        "reason": reason,
        "started_at": utc_now(),
        "raw_dir": str(plan.out_dir),
        **extra,
    }


def measure(
    plan: Plan,
    settings: Settings,
    interrupt: Interrupt,
    on_progress: Callable[[int, float], None] | None = None,
) -> dict[str, Any]:
    """Measure one repeat; always returns a repeat record, never raises for a cell fault.

    ``on_progress(requests, seconds)`` is called about once a second in the window.
    """
    plan.out_dir.mkdir(parents=True, exist_ok=True)
    if interrupt.event.is_set():
        return _failed(plan, interrupt.reason or "interrupted", "interrupted")
    started_at = utc_now()
    spec = loadgen.LoadSpec(
        scenario_path=plan.scenario_path,
        user_class=plan.user_class,
        users=plan.users,
        style=plan.style,
        host=None,
        warmup=settings.warmup if plan.warmup is None else plan.warmup,
        duration=settings.duration if plan.duration is None else plan.duration,
        topology=settings.topology,
        open_loop=loadgen.OpenLoopSpec(
            rate=plan.rate,
            schedule=settings.schedule,
            late_bound=settings.late_bound,
            seed=settings.schedule_seed,
        )
        if plan.rate
        else None,
    )
    # locust imports while the server starts; it sends nothing until released.
    locust = loadgen.Locust(spec, plan.out_dir, cpus=settings.loadgen_cpus, env=plan.env)
    server: launch.RunningServer | launch.ExternalTarget | None = None
    db_connection = None
    db_clock: tuple[dbcpu.BackendClock, Any] | str | None = None
    try:
        server = plan.served.start(
            env=plan.env,
            log_path=plan.out_dir / "server.log",
            cpus=settings.server_cpus,
            options=plan.options(settings),
            timeout=settings.ready_timeout,
        )
        if plan.primer_path is not None:
            problem = primer(server.url + plan.primer_path, plan.served.application)
            if problem:
                # The exception's name belongs on the reason's first line, the
                # one the progress line and the report's caveats show.
                logged = logged_exception(server.log_tail(400))
                if logged:
                    problem += f" (the server logged {logged})"
                return _failed(plan, f"{problem}; server log tail:\n{server.log_tail()}")
        counter = plan.db_connections
        if plan.db_admin_url and plan.db_application_name:
            db_connection, counter = _db_counter(plan.db_admin_url, plan.db_application_name)
            db_clock = _db_clock(plan.db_admin_url, plan.db_application_name)
        died = threading.Event()
        sampler = Sampler(
            server.pid,
            db_connections=counter,
            on_server_death=died.set,
            server_alive=server.alive,
            loadgen_cpus=settings.loadgen_cpus,
        )
        for process in locust.processes:
            sampler.add_loadgen(process.pid)
        sampler.add_loadgen(os.getpid(), role="harness")
        if settings.upstream_pid:
            sampler.add_loadgen(settings.upstream_pid, role="upstream")
        switches: dict[str, dict[str, int] | None] = {}
        watched = server

        readers: list[threading.Thread] = []
        counter_dir = plan.env.get("BENCH_ACCOUNTING_DIR") if plan.served.local else None

        # The CPU edges are read first, and nothing here may block the thread
        # that reads locust's markers, or the next edge would be read late.
        # The switch totals of a server we started come from its counter files
        # (microseconds); an external target's come over HTTP, which may wait in
        # the server's queue, so on a thread of its own. Each hop count is then
        # divided by the request count read with it: no shared interval needed.
        def read_switches(edge: str) -> None:
            if counter_dir is not None:
                switches[edge] = counter_files.read_totals(Path(counter_dir))
                return
            previous = readers[-1] if readers else None

            def fetch() -> None:
                if previous is not None:
                    previous.join()
                switches[edge] = _switch_totals(watched.url)

            reader = threading.Thread(target=fetch, name=f"switches-{edge}", daemon=True)
            readers.append(reader)
            reader.start()

        clock = db_clock[0] if isinstance(db_clock, tuple) else None

        def on_start() -> None:
            sampler.mark_start()
            if clock is not None:
                clock.mark_start()
            if plan.accounting:
                read_switches("start")

        def on_end() -> None:
            sampler.mark_end()
            if clock is not None:
                clock.mark_end()
            if plan.accounting:
                read_switches("end")

        def should_abort() -> str | None:
            if interrupt.event.is_set():
                return interrupt.reason or "interrupted"
            if died.is_set():
                return "the server exited during the measurement"
            return None

        sampler.start()
        if clock is not None:
            clock.start()
        locust.release(server.url)
        try:
            run = locust.follow(
                on_window_start=on_start,
                on_window_end=on_end,
                on_progress=on_progress,
                should_abort=should_abort,
            )
        finally:
            sampler.close()
            for reader in readers:
                reader.join(timeout=15)
        abort = should_abort()
        if abort:
            status = "interrupted" if interrupt.event.is_set() else "failed"
            tail = "" if interrupt.event.is_set() else f"; server log tail:\n{server.log_tail()}"
            return _failed(plan, abort + tail, status)
        resources = sampler.result()
        if resources is None:
            return _failed(
                plan,
                f"locust exited (code {run.exit_code}) before the measured window ended; "
                f"log tail:\n{_tail(run.log_path)}",
            )
        database_cpu = None
        if db_clock is not None:
            database_cpu = (
                clock.result() if clock is not None else dbcpu.DatabaseCpu(None, note=db_clock)
            )
        record = derive(plan, settings, run, resources, switches, server, started_at, database_cpu)
        if record["status"] != "ok" and resources.db_connections_peak is not None:
            # a window that mostly failed: how many connections were held may say why
            record.setdefault("db", db_record(resources, 0, None, None))
        return record
    except BenchError as exc:
        return _failed(plan, str(exc))
    finally:
        locust.stop()
        if server is not None:
            server.stop()
        if db_connection is not None:
            db_connection.close()
        if isinstance(db_clock, tuple):
            db_clock[0].close()
            db_clock[1].close()


def _tail(path: Path, lines: int = 15) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").rstrip().splitlines()[-lines:])


def _per_request(delta: dict[str, int], requests: int) -> dict[str, float | int | None]:
    def per(name: str) -> float | None:
        return delta[name] / requests if requests else None

    def outside_us(kind: str) -> float | None:
        # Wall time of a hop outside the wrapped function. Under load this is
        # mostly queueing (waiting for a thread or for the loop), not the cost
        # of the switch: the CPU fit of `bench switches` measures that.
        calls = delta[kind]
        if not calls:
            return None
        return (delta[f"{kind}_ns"] - delta[f"{kind}_inner_ns"]) / calls / 1000

    return {
        "requests": requests,
        "sync_to_async": delta["sync_to_async"],
        "async_to_sync": delta["async_to_sync"],
        "sync_to_async_per_request": per("sync_to_async"),
        "sync_to_async_thread_sensitive_per_request": per("sync_to_async_thread_sensitive"),
        "async_to_sync_per_request": per("async_to_sync"),
        "async_to_sync_new_loop_per_request": per("async_to_sync_new_loop"),
        "sync_to_async_wall_outside_us": outside_us("sync_to_async"),
        "async_to_sync_wall_outside_us": outside_us("async_to_sync"),
        "sync_to_async_cancelled": delta.get("sync_to_async_cancelled", 0),
        "disconnect_cleanups": delta.get("disconnect_cleanups", 0),
        "disconnect_completed": delta.get("disconnect_completed", 0),
    }


def derive(
    plan: Plan,
    settings: Settings,
    run: loadgen.LocustRun,
    resources: WindowResources,
    switches: dict,
    server: launch.RunningServer,
    started_at: str,
    database_cpu: dbcpu.DatabaseCpu | None = None,
) -> dict[str, Any]:
    """Turn one finished window into the repeat record written to the cell's JSON."""
    from bench.analyse.stats import latency_summary

    samples = output.read_samples(run.out_dir)
    totals = output.read_locust_totals(run.out_dir)
    window = samples.window_s or resources.wall_s
    names = counted_names(plan.primary, samples)
    if not names:
        return _failed(
            plan,
            "no request succeeded in the measured window",
            started_at=started_at,
            errors=samples.errors,
        )
    requests = sum(samples.count(name) for name in names)
    failures = sum(samples.failures.values())
    successes = samples.count()
    unexpected = {
        kind: count
        for kind, count in samples.errors.items()
        if not any(expected in kind for expected in plan.expected_errors)
    }
    if sum(unexpected.values()) > MOSTLY_FAILED * (successes + failures):
        worst = max(unexpected, key=unexpected.get)
        share = sum(unexpected.values()) / (successes + failures)
        return _failed(
            plan,
            f"{share:.0%} of requests failed, e.g. {unexpected[worst]} x {worst}",
            started_at=started_at,
            errors=samples.errors,
        )
    interval = window_intervals(samples, resources)
    in_interval = [
        samples.completed_between(name, resources.wall_start, resources.wall_end) for name in names
    ]
    counted = None if None in in_interval else sum(c for c in in_interval if c is not None)
    if settings.topology.remote_workers:
        # Another machine's clock stamped some completions: they cannot be
        # placed in this machine's CPU interval, so locust's window stands in
        # (its edges are still recorded beside the CPU interval's).
        counted = None
    if counted is None:  # no origin for the samples' clock: the window stands in
        counted, cpu_window = requests, window
    else:
        cpu_window = resources.wall_s
    throughput = counted / cpu_window if cpu_window else 0.0
    drained = sum(samples.drained.values()) + sum(samples.drained_failures.values())
    window_samples = np.concatenate([samples.by_name[name] for name in names])
    latency = latency_summary(window_samples[:, 1])
    schedule = None
    if plan.rate:
        schedule, latency = open_loop_latency(plan.rate, samples, names, throughput, window)
    cpu_ms = (
        resources.server_cpu_s * 1000 / counted
        if counted and resources.server_cpu_s is not None
        else None
    )
    keep_alive = plan.served.keep_alive
    if plan.rate:
        guard = loadgen_guard(resources, throughput, None, keep_alive, settings.schedule_check())
        guard = slip_guard(guard, schedule, settings.slo_ms)
    else:
        guard = loadgen_guard(
            resources, throughput, settings.ceiling_for(plan.users, keep_alive), keep_alive
        )
    switch_record = None
    if switches.get("start") and switches.get("end"):
        delta = {k: switches["end"][k] - switches["start"].get(k, 0) for k in switches["end"]}
        switch_record = _per_request(delta, delta["requests"])
    db = db_record(resources, counted, cpu_ms, database_cpu)
    return {
        "status": "ok",
        "reason": None,
        "started_at": started_at,
        "window_s": window,
        "primary": plan.primary if plan.primary in names else None,
        "counted_names": names,
        "requests": requests,
        "requests_in_cpu_interval": counted,
        "intervals": interval,
        "steady": steadiness(window_samples[:, 0], window),
        "open_loop": schedule,
        "failures": failures,
        "error_rate": failures / (successes + failures) if successes + failures else 0.0,
        "throughput_rps": throughput,
        "latency_ms": latency,
        "latency_by_name": {
            name: latency_summary(values[:, 1]) for name, values in samples.by_name.items()
        },
        "errors": samples.errors,
        "failures_by_name": dict(samples.failures),
        "warmup_requests": sum(samples.warmup.values()),
        "drained_requests": drained,
        "locust_totals": totals,
        "totals_consistent": _locust_total_matches(samples, totals),
        "locust_processes": samples.roles,
        "locust_workers": samples.worker_ids,
        "server": {
            "cpu_s": resources.server_cpu_s,
            "cpu_ms_per_request": cpu_ms,
            "cpu_percent": resources.server_cpu_percent,
            "rss_peak_mb": _mb(resources.server_rss_peak_bytes),
            "pss_peak_mb": _mb(resources.server_pss_peak_bytes),
            "uss_peak_mb": _mb(resources.server_uss_peak_bytes),
            "memory_by_process": resources.server_memory,
            "threads_peak": resources.server_threads_peak,
            "processes_peak": resources.server_processes_peak,
            "ctx_voluntary": resources.server_ctx_voluntary,
            "ctx_involuntary": resources.server_ctx_involuntary,
            "sampled_wall_s": resources.wall_s,
            "rss_timeline_mb": [
                [round(at, 2), round(rss / 2**20, 2)] for at, rss in resources.rss_timeline
            ],
        },
        "loadgen": {
            "cpu_percent": resources.loadgen_cpu_percent,
            "busiest_process_percent": resources.loadgen_busiest_process_percent,
            "by_role_percent": resources.loadgen_by_role_percent,
            "cores": resources.loadgen_cores,
            "cpus": format_cpus(settings.loadgen_cpus),
            **guard,
        },
        "switches": switch_record,
        "db": db,
        "server_config": {
            **server.describe(plan.options(settings)),
            "cpus": format_cpus(settings.server_cpus) if plan.served.local else "external",
        },
        "raw_dir": str(plan.out_dir),
    }


def counted_names(primary: str | None, samples: output.Samples) -> list[str]:
    """The request names whose requests a cell counts: every name, unless the
    scenario declares a primary one.

    A scenario declares a primary name when it records one request under several
    names (a stream's headers, first byte and whole body; a held connection's
    open and its events): counting them all would count one request three times.
    Everything else (a user's pages, the tasks of a locustfile) names distinct
    requests, and a cell's throughput, errors and CPU per request are over all of
    them. A declared primary that recorded nothing falls back to the most
    frequent name, as the scenario's other names still describe its requests.
    """
    present = [name for name, values in samples.by_name.items() if len(values)]
    if primary is None:
        return sorted(present)
    if primary in present:
        return [primary]
    ranked = sorted(present, key=lambda name: (-samples.count(name), name))
    return ranked[:1]


def _mb(value: int | None) -> float | None:
    return value / 2**20 if value is not None else None


def window_intervals(samples: output.Samples, resources: WindowResources) -> dict[str, Any]:
    """locust's window and the CPU interval, and how far apart their edges are.

    Throughput and CPU per request are both taken over the CPU interval (the
    requests are counted there from their completion times), so they agree
    whatever the gap; latency percentiles come from locust's window. A gap above
    1% of the window is flagged: the two halves of the record then describe
    slightly different seconds.
    """
    cpu_s = resources.wall_end - resources.wall_start
    record: dict[str, Any] = {"cpu_s": cpu_s, "loadgen_window_s": samples.window_s}
    if samples.window_start is None or not samples.window_s:
        record.update(start_gap_ms=None, end_gap_ms=None, mismatch_pct=None, differ=False)
        return record
    window_end = samples.window_start + samples.window_s
    start_gap = resources.wall_start - samples.window_start
    end_gap = resources.wall_end - window_end
    mismatch = (abs(start_gap) + abs(end_gap)) / samples.window_s
    record.update(
        start_gap_ms=start_gap * 1000,
        end_gap_ms=end_gap * 1000,
        mismatch_pct=mismatch * 100,
        differ=bool(mismatch > INTERVAL_TOLERANCE),
    )
    return record


def steadiness(completions: np.ndarray, window: float | None) -> dict[str, Any]:
    """Throughput in the window's first and last thirds, from completion times.

    A server still warming up, a queue still filling, or a leak shows as a
    trend: such a repeat is flagged "not steady" rather than averaged away.
    """
    if not window or completions.size == 0:
        return {"first_rps": None, "last_rps": None, "change_pct": None, "steady": None}
    third = window / 3
    first = np.count_nonzero(completions < third) / third
    last = np.count_nonzero(completions >= 2 * third) / third
    change = (last - first) / first if first else None
    return {
        "first_rps": float(first),
        "last_rps": float(last),
        "change_pct": change * 100 if change is not None else None,
        "steady": bool(change is not None and abs(change) <= STEADY_TOLERANCE),
    }


OPEN_LOOP_RATE_TOLERANCE = 0.02  # achieved within 2% of the offered rate
LATENCY_GROWTH_LIMIT = 0.05  # s of added latency per s of window: a queue that keeps growing


def open_loop_figures(
    rate: float, samples: output.Samples, names: list[str], achieved: float, window: float | None
) -> dict[str, Any]:
    """Did the server keep up with the schedule? The requests scheduled in the
    window against those answered, requests dropped unsent, and whether latency
    kept growing through the window.

    The schedule is judged against what it made due in the window, not the
    nominal rate: a Poisson schedule's count varies by its square root (at
    50/s for 5 s, 250 +- 16), so against the nominal rate a perfect server
    would miss 98% about a third of the time. A cell that fails any test is
    "unsustainable": its percentiles describe a queue still filling when the
    window closed, so they depend on the window's length.
    """
    loop = samples.open_loop or {}
    counts = loop.get("window") or {}
    dropped = int(counts.get("dropped", (loop.get("dropped") or {}).get("window", 0)))
    scheduled = int(counts.get("scheduled", (loop.get("scheduled") or {}).get("window", 0)))
    answered = counts.get("answered")
    due = samples.due_of(names)
    outside = sum(int((counts.get("undue") or {}).get(name, 0)) for name in names)
    from_due = due is not None and due.size > 0 and outside == 0
    growth = None
    if from_due and window and len(due) >= 6:
        first = due[due[:, 0] < window / 3, 1]
        last = due[due[:, 0] >= 2 * window / 3, 1]
        if first.size and last.size:
            # medians of the thirds (by due time), whose centres lie 2/3 of the window apart
            growth = (float(np.median(last)) - float(np.median(first))) / 1000 / (2 * window / 3)
    reasons = []
    if answered is not None and scheduled and answered < (1 - OPEN_LOOP_RATE_TOLERANCE) * scheduled:
        reasons.append(f"answered {answered} of the {scheduled} requests scheduled in the window")
    if dropped:
        reasons.append(f"{dropped} requests dropped: no free user within the late bound")
    if growth is not None and growth > LATENCY_GROWTH_LIMIT:
        reasons.append(f"latency grew {growth * 1000:.0f} ms per second of the window")
    return {
        "offered_rps": rate,
        "achieved_rps": achieved,
        "achieved_fraction": achieved / rate if rate else None,
        "scheduled": scheduled,
        "answered": answered,
        "answered_fraction": answered / scheduled if answered is not None and scheduled else None,
        "unanswered": counts.get("unanswered"),
        "dropped": dropped,
        "dropped_all_phases": int(sum((loop.get("dropped") or {}).values())),
        "latency_growth_s_per_s": growth,
        "latency_from_due": bool(from_due),
        "made_outside_schedule": outside,
        "scheduler_slip_ms_p99": loop.get("slip_ms_p99"),
        "scheduler_slip_ms_max": loop.get("slip_ms_max"),
        "free_user_slip_ms_p99": counts.get("free_slip_ms_p99"),
        "free_user_slip_count": counts.get("free_slip_count"),
        "schedule": loop.get("schedule"),
        "seed": loop.get("seed"),
        "late_bound_s": loop.get("late_bound_s"),
        "sustainable": not reasons,
        "unsustainable_reasons": reasons,
    }


def open_loop_latency(
    rate: float, samples: output.Samples, names: list[str], achieved: float, window: float | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The schedule's figures and the headline latency of an open-loop repeat.

    The latency counts from each request's due time, over every request
    scheduled in the window (``stats.open_loop_summary``); the time from
    sending it (locust's own figure) is kept beside. Where some window request
    of a counted name was made outside the schedule (``on_start``), there is no
    due time to count from: the latency from sending stands in, and the record
    says so (``latency_from_due`` false), never silently.
    """
    from bench.analyse.stats import latency_summary, open_loop_summary

    schedule = open_loop_figures(rate, samples, names, achieved, window)
    service = latency_summary(np.concatenate([samples.by_name[name] for name in names])[:, 1])
    schedule["service_latency_ms"] = service
    due = samples.due_of(names)
    if not schedule["latency_from_due"] or due is None:
        return schedule, service
    # An arrival has no name until it is sent: every unanswered one counts here.
    unanswered = int(schedule["unanswered"] or 0)
    return schedule, open_loop_summary(due[:, 1], unanswered)


SLIP_FRACTION = 0.10  # the scheduler's own lateness may use 10% of the latency objective


def slip_guard(
    guard: dict[str, Any], schedule: dict[str, Any] | None, slo_ms: float
) -> dict[str, Any]:
    """The load generator's own lateness in this cell: from due to send where a
    user was free when the request fell due, so the wait is the scheduler's and
    gevent's, not the server's. Its p99 above 10% of the objective flags the
    cell load-generator bound: the latency would then be partly locust's."""
    slip = (schedule or {}).get("free_user_slip_ms_p99")
    if slip is None or slip <= SLIP_FRACTION * slo_ms:
        return guard
    reason = (
        f"the scheduler sent requests {slip:.1f} ms late (p99, a user free) > "
        f"{SLIP_FRACTION:.0%} of the {slo_ms:g} ms objective"
    )
    return {
        **guard,
        "bound": True,
        "bound_reasons": [*guard["bound_reasons"], reason],
        "latency_suspect": True,
    }


def loadgen_guard(
    resources: WindowResources,
    throughput: float,
    ceiling: dict[str, Any] | None,
    keep_alive: bool,
    schedule: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Was the load generator, not the server, the limit? And is latency then suspect?

    Three independent signs, any one enough: one locust process near a whole
    core (it cannot use more), the load generator's cores as a whole near busy
    (every process there counts: workers, the harness, the upstream service),
    and throughput near locust's ceiling calibrated for this cell's user count
    and connection mode. When any fires, locust was queueing its own work, so
    the cell's latency includes the load generator's delays as well.
    """
    reasons = []
    busiest = resources.loadgen_busiest_process_percent
    if busiest is not None and busiest > LOADGEN_CPU_LIMIT:
        reasons.append(f"a locust process at {busiest:.0f}% of a core > {LOADGEN_CPU_LIMIT:.0f}%")
    cores = resources.loadgen_cores or {}
    busy = cores.get("busy_percent")
    if isinstance(busy, float) and busy > LOADGEN_CPU_LIMIT:
        reasons.append(f"load generator CPUs {cores['cpus']} {busy:.0f}% busy")
    # A calibration the load generator did not limit measured the bare app
    # instead: its rate says nothing about locust, so it flags nothing.
    rate = ceiling.get("ceiling_rps") if ceiling and ceiling.get("valid", True) else None
    if rate and throughput >= CEILING_FRACTION * rate:
        mode = "keep-alive" if keep_alive else "a new connection per request"
        reasons.append(
            f"throughput {throughput:.0f}/s >= {CEILING_FRACTION:.0%} of locust's ceiling "
            f"{rate:.0f}/s ({ceiling['users']} users, {mode})"
        )
    notes = []
    if schedule is not None and schedule.get("status") == "ok" and not schedule["kept"]:
        reasons.append(
            f"locust could not keep {schedule['rate']}/s even against a bare app "
            f"({'; '.join(schedule['reasons'])})"
        )
    steal = cores.get("steal_percent")
    if isinstance(steal, float) and steal > STEAL_LIMIT:
        notes.append(f"{steal:.0f}% of the load generator's CPU time was stolen")
    if ceiling is None and schedule is None:
        notes.append("no calibrated ceiling for this load")
    elif ceiling is not None and not ceiling.get("valid", True):
        notes.append(f"the calibration was not load-generator bound: {ceiling.get('note')}")
    return {
        "bound": bool(reasons),
        "bound_reasons": reasons,
        "latency_suspect": bool(reasons),
        "notes": notes,
        "ceiling_rps": rate,
    }


def _locust_total_matches(samples: output.Samples, totals: dict) -> bool:
    """locust's own count equals ours: every request of the window plus those
    drained after it, and the warm-up too when locust's stats were not reset
    (a distributed master adds up whole-run reports from its workers)."""
    ours = 0
    for name in totals["by_name"]:
        ours += samples.count(name) + samples.failures.get(name, 0)
        ours += samples.drained.get(name, 0) + samples.drained_failures.get(name, 0)
        if not samples.stats_reset:
            ours += samples.warmup.get(name, 0)
    return ours == totals["requests"]
