"""Measuring one repeat of one cell: start, verify, load, sample, stop, derive.

The server starts on its CPU set with the cell's settings, a primer request
checks that the endpoint answers, locust warms up and then measures exactly
one window while the sampler reads the server's CPU at the window's edges,
and the server is stopped whatever happened. Every failure becomes a repeat
with ``status`` failed or interrupted and a reason: never an exception that
loses the run, never a number that was not measured.

What a repeat is given lives in ``settings``, the primer in ``primer``, what
is made of a finished window in ``derive``; their names are kept here too, as
the one door the run and the command line go through.
"""

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench.errors import BenchError
from bench.load import loadgen
from bench.measure import counter_files, dbcpu
from bench.measure.derive import db_record, derive
from bench.measure.primer import logged_exception, primer
from bench.measure.sampler import Sampler
from bench.measure.settings import Interrupt, Plan, Settings
from bench.results.records import RepeatRecord
from bench.results.store import utc_now
from bench.serve import launch

SWITCH_ENDPOINT = "/__bench__/switches"


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


def _failed(plan: Plan, reason: str, status: str = "failed") -> RepeatRecord:
    return RepeatRecord.failed(
        reason, status=status, started_at=utc_now(), raw_dir=str(plan.out_dir)
    )


def _tail(path: Path, lines: int = 15) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").rstrip().splitlines()[-lines:])


class _Switches:
    """The switch totals read at the window's edges, without blocking the edge.

    The CPU edges are read first, and nothing here may block the thread that
    reads locust's markers, or the next edge would be read late. The totals of
    a server we started come from its counter files (microseconds); an
    external target's come over HTTP, which may wait in the server's queue, so
    on a thread of its own. Each hop count is then divided by the request
    count read with it: no shared interval needed.
    """

    def __init__(self, counter_dir: str | None, url: str) -> None:
        self.counter_dir, self.url = counter_dir, url
        self.totals: dict[str, dict[str, int] | None] = {}
        self.readers: list[threading.Thread] = []

    def read(self, edge: str) -> None:
        if self.counter_dir is not None:
            self.totals[edge] = counter_files.read_totals(Path(self.counter_dir))
            return
        previous = self.readers[-1] if self.readers else None

        def fetch() -> None:
            if previous is not None:
                previous.join()
            self.totals[edge] = _switch_totals(self.url)

        reader = threading.Thread(target=fetch, name=f"switches-{edge}", daemon=True)
        self.readers.append(reader)
        reader.start()

    def join(self) -> None:
        for reader in self.readers:
            reader.join(timeout=15)


class _Repeat:
    """One repeat's processes and connections, each closed whatever happens."""

    def __init__(self, plan: Plan, settings: Settings, interrupt: Interrupt) -> None:
        self.plan, self.settings, self.interrupt = plan, settings, interrupt
        # locust imports while the server starts; it sends nothing until released.
        self.locust = loadgen.Locust(
            plan.load_spec(settings), plan.out_dir, cpus=settings.loadgen_cpus, env=plan.env
        )
        self.server: launch.RunningServer | launch.ExternalTarget | None = None
        self.db_connection: Any = None
        self.db_clock: tuple[dbcpu.BackendClock, Any] | str | None = None
        self.died = threading.Event()

    def start_server(self) -> str | None:
        """Start the server and prime the cell's page; why it is unusable, or None."""
        plan = self.plan
        self.server = server = plan.served.start(
            env=plan.env,
            log_path=plan.out_dir / "server.log",
            cpus=self.settings.server_cpus,
            options=plan.options(self.settings),
            timeout=self.settings.ready_timeout,
        )
        if plan.primer_path is None:
            return None
        problem = primer(server.url + plan.primer_path, plan.served.application)
        if not problem:
            return None
        # The exception's name belongs on the reason's first line, the one the
        # progress line and the report's caveats show.
        logged = logged_exception(server.log_tail(400))
        if logged:
            problem += f" (the server logged {logged})"
        return f"{problem}; server log tail:\n{server.log_tail()}"

    @property
    def clock(self) -> dbcpu.BackendClock | None:
        return self.db_clock[0] if isinstance(self.db_clock, tuple) else None

    def sampler(self, server: launch.RunningServer | launch.ExternalTarget) -> Sampler:
        """The sampler of this repeat's server, database and load generator."""
        plan, settings = self.plan, self.settings
        counter = plan.db_connections
        if plan.db_admin_url and plan.db_application_name:
            self.db_connection, counter = _db_counter(plan.db_admin_url, plan.db_application_name)
            self.db_clock = _db_clock(plan.db_admin_url, plan.db_application_name)
        sampler = Sampler(
            server.pid,
            db_connections=counter,
            on_server_death=self.died.set,
            server_alive=server.alive,
            loadgen_cpus=settings.loadgen_cpus,
        )
        for process in self.locust.processes:
            sampler.add_loadgen(process.pid)
        sampler.add_loadgen(os.getpid(), role="harness")
        if settings.upstream_pid:
            sampler.add_loadgen(settings.upstream_pid, role="upstream")
        return sampler

    def should_abort(self) -> str | None:
        if self.interrupt.event.is_set():
            return self.interrupt.reason or "interrupted"
        if self.died.is_set():
            return "the server exited during the measurement"
        return None

    def window(
        self, on_progress: Callable[[int, float], None] | None, started_at: str
    ) -> RepeatRecord:
        """Release locust, read the window's edges, and make the record of it."""
        plan, server = self.plan, self.server
        assert server is not None
        sampler = self.sampler(server)
        counter_dir = plan.env.get("BENCH_ACCOUNTING_DIR") if plan.served.local else None
        switches = _Switches(counter_dir, server.url)
        clock = self.clock

        def on_start() -> None:
            sampler.mark_start()
            if clock is not None:
                clock.mark_start()
            if plan.accounting:
                switches.read("start")

        def on_end() -> None:
            sampler.mark_end()
            if clock is not None:
                clock.mark_end()
            if plan.accounting:
                switches.read("end")

        sampler.start()
        if clock is not None:
            clock.start()
        self.locust.release(server.url)
        try:
            run = self.locust.follow(
                on_window_start=on_start,
                on_window_end=on_end,
                on_progress=on_progress,
                should_abort=self.should_abort,
            )
        finally:
            sampler.close()
            switches.join()
        abort = self.should_abort()
        if abort:
            interrupted = self.interrupt.event.is_set()
            tail = "" if interrupted else f"; server log tail:\n{server.log_tail()}"
            return _failed(plan, abort + tail, "interrupted" if interrupted else "failed")
        resources = sampler.result()
        if resources is None:
            return _failed(
                plan,
                f"locust exited (code {run.exit_code}) before the measured window ended; "
                f"log tail:\n{_tail(run.log_path)}",
            )
        database_cpu = None
        if self.db_clock is not None:
            database_cpu = (
                clock.result() if clock is not None else dbcpu.DatabaseCpu(None, note=self.db_clock)
            )
        record = derive(
            plan, self.settings, run, resources, switches.totals, server, started_at, database_cpu
        )
        if not record.ok and resources.db_connections_peak is not None and not record.has("db"):
            # a window that mostly failed: how many connections were held may say why
            record.db = db_record(resources, 0, None)
        return record

    def close(self) -> None:
        self.locust.stop()
        if self.server is not None:
            self.server.stop()
        if self.db_connection is not None:
            self.db_connection.close()
        if isinstance(self.db_clock, tuple):
            self.db_clock[0].close()
            self.db_clock[1].close()


def measure(
    plan: Plan,
    settings: Settings,
    interrupt: Interrupt,
    on_progress: Callable[[int, float], None] | None = None,
) -> RepeatRecord:
    """Measure one repeat; always returns a repeat record, never raises for a cell fault.

    ``on_progress(requests, seconds)`` is called about once a second in the window.
    """
    plan.out_dir.mkdir(parents=True, exist_ok=True)
    if interrupt.event.is_set():
        return _failed(plan, interrupt.reason or "interrupted", "interrupted")
    started_at = utc_now()
    repeat = _Repeat(plan, settings, interrupt)
    try:
        problem = repeat.start_server()
        if problem:
            return _failed(plan, problem)
        return repeat.window(on_progress, started_at)
    except BenchError as exc:
        return _failed(plan, str(exc))
    finally:
        repeat.close()
