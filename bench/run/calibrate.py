"""``bench calibrate``: is locust measuring the server, or itself?

Two checks on the run's pinning. First, locust's ceiling: the rate locust
reaches against a bare ASGI app (no Django), the upper bound of any figure it
reports, measured for each user count and connection mode (keep-alive, or a
new connection per request as gunicorn's sync worker forces) that a run uses,
and checked to have been limited by locust itself. Second, when wrk is
installed, locust against wrk on the same server configuration
(gunicorn-gthread + the sync json view by default): on a cell that is not
load-generator bound they should agree within 10%.
"""

import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.analyse import stats
from bench.errors import BenchError
from bench.load import schedule
from bench.measure import repeat as measure
from bench.measure import settings as server_settings
from bench.plan import scenarios
from bench.results import store as results
from bench.results.records import Ceiling, CrossCheck, ScheduleCheck, ceiling_from_json
from bench.serve import launch, processes, servers

WRK_RATE = re.compile(r"Requests/sec:\s+([\d.]+)")
CEILING_USERS = 32
CEILING_LOCUSTFILE = (
    Path(__file__).resolve().parents[1] / "load" / "in_locust" / "calibration_locustfile.py"
)
# Answers cost next to nothing, so whatever limits the rate is locust.
BARE_APP = servers.Application("bare", asgi="project.bare:app")


def _bare_app_plan(
    run_dir: Path,
    settings: measure.Settings,
    user_class: str,
    users: int,
    name: str,
    rate: int = 0,
) -> measure.Plan:
    """A calibration repeat: locust against the bare ASGI app under uvicorn, whose
    answers cost next to nothing, so whatever limits the rate is locust."""
    return measure.Plan(
        served=launch.Served(servers.get("uvicorn"), BARE_APP),
        scenario_path=CEILING_LOCUSTFILE,
        user_class=user_class,
        users=users,
        style=None,
        out_dir=run_dir / "raw" / "calibration" / name,
        env=settings.base_env,
        primer_path="/",
        rate=rate,
    )


def measure_ceiling(
    run_dir: Path,
    settings: measure.Settings,
    duration: float,
    interrupt: measure.Interrupt,
    users: int = CEILING_USERS,
    keep_alive: bool = True,
) -> Ceiling:
    """locust's highest rate on the run's pinning against the bare ASGI app, for
    one user count and connection mode, and whether locust really was the limit.

    The figure is only a ceiling when the load generator was saturated while
    measuring it; otherwise the bare app (or the machine) stopped it first and
    the rate is a lower bound of what locust can do: it is kept, marked invalid,
    and flags nothing.
    """
    mode = "keepalive" if keep_alive else "close"
    user_class = "CeilingUser" if keep_alive else "CloseCeilingUser"
    plan = _bare_app_plan(run_dir, settings, user_class, users, f"u{users}-{mode}")
    record = measure.measure(plan, replace(settings, duration=duration, warmup=1.0), interrupt)
    loadgen, server, latency = record.loadgen, record.server, record.latency_ms
    if not record.ok or loadgen is None or server is None or latency is None:
        return Ceiling(
            users=users,
            keep_alive=keep_alive,
            status=record.status,
            reason=record.reason,
            json_keys=Ceiling.FAILED,
        )
    busy = loadgen.cores.busy_percent if loadgen.cores is not None else None
    saturated = [
        reason for reason in loadgen.bound_reasons if "ceiling" not in reason
    ]  # the CPU signs only: there is no ceiling yet to compare with
    return Ceiling(
        users=users,
        keep_alive=keep_alive,
        status="ok",
        ceiling_rps=record.throughput_rps,
        valid=bool(saturated),
        note="; ".join(saturated)
        if saturated
        else (
            f"locust at {loadgen.busiest_process_percent or 0:.0f}% of a core, its CPUs "
            f"{busy or 0:.0f}% busy: the bare app or the machine set this rate"
        ),
        loadgen_cpu_percent=loadgen.cpu_percent,
        loadgen_busiest_process_percent=loadgen.busiest_process_percent,
        loadgen_cores_busy_percent=busy,
        server_cpu_percent=server.cpu_percent,
        duration_s=record.window_s,
        app="project.bare:app under uvicorn",
        p99_ms=latency.p99,
        json_keys=Ceiling.MEASURED,
    )


def ceiling(
    run_dir: Path,
    settings: measure.Settings,
    duration: float,
    interrupt: measure.Interrupt,
    users: int = CEILING_USERS,
    keep_alive: bool = True,
) -> dict[str, Any]:
    """``measure_ceiling`` as the JSON ``bench calibrate`` writes and prints."""
    return measure_ceiling(run_dir, settings, duration, interrupt, users, keep_alive).to_json()


def schedule_check(
    run_dir: Path,
    settings: measure.Settings,
    rate: int,
    duration: float,
    interrupt: measure.Interrupt,
) -> ScheduleCheck:
    """Can locust keep an open-loop schedule of ``rate`` per second at all?

    Against the bare app, whose answers take microseconds, every bit of
    lateness is the load generator's own: how late its scheduler woke, and the
    latency from each request's due time. A run's open-loop cells at or below a
    rate that passed here can blame the server for what they measure.
    """
    plan = _bare_app_plan(
        run_dir, settings, "CeilingUser", schedule.pool_size(rate), f"r{rate}-open-loop", rate
    )
    record = measure.measure(plan, replace(settings, duration=duration, warmup=1.0), interrupt)
    figures, latency, loadgen = record.open_loop, record.latency_ms, record.loadgen
    if not record.ok or figures is None or latency is None or loadgen is None:
        return ScheduleCheck(
            rate=rate,
            status=record.status,
            reason=record.reason,
            kept=False,
            json_keys=ScheduleCheck.FAILED,
        )
    return ScheduleCheck(
        rate=rate,
        status="ok",
        kept=bool(figures.sustainable),
        achieved_rps=figures.achieved_rps,
        dropped=figures.dropped,
        scheduler_slip_ms_p99=figures.scheduler_slip_ms_p99,
        p99_from_due_ms=latency.p99,
        loadgen_busiest_process_percent=loadgen.busiest_process_percent,
        reasons=figures.unsustainable_reasons,
        json_keys=ScheduleCheck.MEASURED,
    )


def ceilings(
    run_dir: Path,
    settings: measure.Settings,
    modes: list[tuple[int, bool]],
    duration: float,
    interrupt: measure.Interrupt,
) -> list[Ceiling | ScheduleCheck]:
    """One ceiling per (users, keep-alive) pair the run's cells use: 500 users
    without keep-alive is a different load generator from 32 with it."""
    found: list[Ceiling | ScheduleCheck] = []
    for users, keep_alive in modes:
        if interrupt.event.is_set():
            break
        found.append(measure_ceiling(run_dir, settings, duration, interrupt, users, keep_alive))
    return found


def describe_ceiling(ceiling: Ceiling | ScheduleCheck) -> str:
    """One line for the console: the ceiling, and whether it is one."""
    if isinstance(ceiling, ScheduleCheck):
        head = f"locust's open-loop schedule at {ceiling.rate} req/s (bare ASGI app): "
        if ceiling.status != "ok":
            return head + f"failed: {ceiling.reason}"
        verdict = "kept" if ceiling.kept else "NOT kept: " + "; ".join(ceiling.reasons)
        return head + (
            f"{verdict}; p99 from due {stats.ms_or_beyond(ceiling.p99_from_due_ms)}, "
            f"scheduler slip p99 {ceiling.scheduler_slip_ms_p99 or 0:.1f} ms"
        )
    mode = "keep-alive" if ceiling.keep_alive else "new connection per request"
    head = f"locust ceiling ({ceiling.users} users, {mode}, bare ASGI app): "
    if ceiling.ceiling_rps is None:
        return head + f"failed: {ceiling.reason}"
    verdict = "locust-bound" if ceiling.valid else f"NOT a ceiling: {ceiling.note}"
    return head + f"{ceiling.ceiling_rps:,.0f} req/s ({verdict})"


def describe(ceiling: dict[str, Any]) -> str:
    """``describe_ceiling`` of the JSON ``ceiling`` returns (``bench calibrate``)."""
    return describe_ceiling(ceiling_from_json(ceiling))


def wrk_rate(
    url: str, *, connections: int, duration: float, cpus: frozenset[int] | None, log_path: Path
) -> float:
    """Requests per second wrk reaches against ``url`` (one thread, pinned)."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise BenchError("wrk is not installed (apt-get install wrk)")
    command = [wrk, "-t1", f"-c{connections}", f"-d{max(int(duration), 1)}s", "--latency", url]
    if cpus:
        command = ["taskset", "-c", processes.format_cpus(cpus), *command]
    result = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
    log_path.write_text(result.stdout + result.stderr)
    match = WRK_RATE.search(result.stdout)
    if result.returncode != 0 or match is None:
        raise BenchError(f"wrk failed: {(result.stderr or result.stdout).strip()[:200]}")
    return float(match.group(1))


def cross_check(
    run_dir: Path,
    settings: measure.Settings,
    *,
    server: str,
    users: int,
    duration: float,
) -> CrossCheck:
    """locust and wrk against the same server configuration, one after the other."""
    bundled = launch.served(server, servers.BUNDLED)
    scenario = scenarios.discover()["json"]
    out = run_dir / "raw" / f"crosscheck-{server}"
    env = server_settings.server_env(
        settings.base_env, stack="none", accounting_dir=None, db_mode="", db_application_name=None
    )
    plan = measure.Plan(
        served=bundled,
        scenario_path=scenario.path,
        user_class="JsonUser",
        users=users,
        style="sync",
        out_dir=out / "locust",
        env=env,
        primer_path="/sync/json",
    )
    record = measure.measure(plan, replace(settings, duration=duration), measure.Interrupt())
    if not record.ok or record.loadgen is None:
        raise BenchError(f"locust run failed: {record.reason}")
    running = bundled.start(
        env=env,
        log_path=out / "wrk-server.log",
        cpus=settings.server_cpus,
        options=settings.options,
    )
    try:
        (out / "wrk").mkdir(parents=True, exist_ok=True)
        wrk = wrk_rate(
            running.url + "/sync/json",
            connections=users,
            duration=duration,
            cpus=settings.loadgen_cpus,
            log_path=out / "wrk" / "wrk.log",
        )
    finally:
        running.stop()
    locust = record.throughput_rps
    return CrossCheck(
        server=server,
        endpoint="/sync/json",
        connections=users,
        duration_s=duration,
        locust_rps=locust,
        locust_cpu_percent=record.loadgen.cpu_percent,
        locust_bound=record.loadgen.bound,
        wrk_rps=wrk,
        locust_over_wrk=locust / wrk if wrk else None,
        within_10_percent=abs(locust / wrk - 1) <= 0.10 if wrk else None,
    )


def write(run_dir: Path, document: dict[str, Any]) -> None:
    results.write_json(run_dir / "calibration.json", document)
