"""From one finished window to its repeat record: counts, rates, latency, CPU, checks.

Throughput and CPU per request are both taken over the CPU interval the
sampler read (requests counted there from their completion times), latency
percentiles over locust's window; the record keeps both intervals and how far
apart they were, the steadiness of the window, the load generator's guard,
and the hops and database figures when they were counted.
"""

import os

import numpy as np

from bench.analyse.stats import latency_summary
from bench.load import loadgen, output
from bench.measure import dbcpu, sched
from bench.measure.guards import loadgen_guard, slip_guard
from bench.measure.open_loop import open_loop_latency
from bench.measure.sampler import WindowResources
from bench.measure.settings import Plan, Settings
from bench.results.records import (
    DbFigures,
    LatencySummary,
    LoadgenFigures,
    LoadgenGuard,
    LocustTotals,
    OpenLoopFigures,
    RepeatRecord,
    SchedFigures,
    ServerFigures,
    Steadiness,
    SwitchFigures,
    WindowIntervals,
)
from bench.serve import launch
from bench.serve.processes import format_cpus

INTERVAL_TOLERANCE = 0.01  # the CPU interval and locust's window may differ by 1%
STEADY_TOLERANCE = 0.10  # first and last thirds of the window within 10%
MOSTLY_FAILED = 0.5  # a window where most requests failed measured the failure, not the server
# /proc counts a process's CPU in clock ticks (10 ms here): a difference of two
# readings is off by under one tick per process. CPU per request is given only
# where that bound is at most a quarter of the reading; below it a 12 ms window
# reads 0 or 10 ms, and "0.00 ms per request" would be a wrong number.
TICK_S = 1 / os.sysconf("SC_CLK_TCK")
TICK_SHARE = 0.25


def cpu_resolved(cpu_s: float, processes: int | None, tick_s: float = TICK_S) -> bool:
    """Whether a window's server CPU reading is within TICK_SHARE of itself."""
    return cpu_s > 0 and max(processes or 1, 1) * tick_s <= TICK_SHARE * cpu_s


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


def window_intervals(samples: output.Samples, resources: WindowResources) -> WindowIntervals:
    """locust's window and the CPU interval, and how far apart their edges are.

    Throughput and CPU per request are both taken over the CPU interval (the
    requests are counted there from their completion times), so they agree
    whatever the gap; latency percentiles come from locust's window. A gap above
    1% of the window is flagged: the two halves of the record then describe
    slightly different seconds.
    """
    cpu_s = resources.wall_end - resources.wall_start
    if samples.window_start is None or not samples.window_s:
        return WindowIntervals(cpu_s=cpu_s, loadgen_window_s=samples.window_s)
    window_end = samples.window_start + samples.window_s
    start_gap = resources.wall_start - samples.window_start
    end_gap = resources.wall_end - window_end
    mismatch = (abs(start_gap) + abs(end_gap)) / samples.window_s
    return WindowIntervals(
        cpu_s=cpu_s,
        loadgen_window_s=samples.window_s,
        start_gap_ms=start_gap * 1000,
        end_gap_ms=end_gap * 1000,
        mismatch_pct=mismatch * 100,
        differ=bool(mismatch > INTERVAL_TOLERANCE),
    )


def steadiness(completions: np.ndarray, window: float | None) -> Steadiness:
    """Throughput in the window's first and last thirds, from completion times.

    A server still warming up, a queue still filling, or a leak shows as a
    trend: such a repeat is flagged "not steady" rather than averaged away.
    """
    if not window or completions.size == 0:
        return Steadiness()
    third = window / 3
    first = np.count_nonzero(completions < third) / third
    last = np.count_nonzero(completions >= 2 * third) / third
    change = (last - first) / first if first else None
    return Steadiness(
        first_rps=float(first),
        last_rps=float(last),
        change_pct=change * 100 if change is not None else None,
        steady=bool(change is not None and abs(change) <= STEADY_TOLERANCE),
    )


def switch_figures(switches: dict[str, dict[str, int] | None]) -> SwitchFigures | None:
    """The hops between the window's two counter readings, per request counted
    by the same counters; None unless both edges were read."""
    start, end = switches.get("start"), switches.get("end")
    if not start or not end:
        return None
    delta = {k: end[k] - start.get(k, 0) for k in end}
    requests = delta["requests"]

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

    return SwitchFigures(
        requests=requests,
        sync_to_async=delta["sync_to_async"],
        async_to_sync=delta["async_to_sync"],
        sync_to_async_per_request=per("sync_to_async"),
        sync_to_async_thread_sensitive_per_request=per("sync_to_async_thread_sensitive"),
        async_to_sync_per_request=per("async_to_sync"),
        async_to_sync_new_loop_per_request=per("async_to_sync_new_loop"),
        sync_to_async_wall_outside_us=outside_us("sync_to_async"),
        async_to_sync_wall_outside_us=outside_us("async_to_sync"),
        sync_to_async_cancelled=delta.get("sync_to_async_cancelled", 0),
        disconnect_cleanups=delta.get("disconnect_cleanups", 0),
        disconnect_completed=delta.get("disconnect_completed", 0),
    )


def db_record(
    resources: WindowResources,
    counted: int,
    database_cpu: dbcpu.DatabaseCpu | None,
) -> DbFigures | None:
    """The repeat's ``db`` block: connections, and the CPU of this cell's backends
    over the server's CPU interval, alone and added to the server's per request.

    Unattributed CPU (backends that exited before they could be identified) is
    kept apart, never added: it may be another client's.
    """
    if resources.db_connections_peak is None and database_cpu is None:
        return None
    if database_cpu is None:
        return DbFigures(
            connections_peak=resources.db_connections_peak,
            connections_mean=resources.db_connections_mean,
            json_keys=DbFigures.CONNECTIONS,
        )
    cpu_ms = (
        database_cpu.cpu_s * 1000 / counted if database_cpu.cpu_s is not None and counted else None
    )
    # The sum is divided as one reading: the server's ticks against the whole
    # (the backends' schedstat is in nanoseconds), so a server that mostly
    # waits on its database still gets a server + database figure.
    both = (
        resources.server_cpu_s + database_cpu.cpu_s
        if resources.server_cpu_s is not None and database_cpu.cpu_s is not None
        else None
    )
    return DbFigures(
        connections_peak=resources.db_connections_peak,
        connections_mean=resources.db_connections_mean,
        cpu_s=database_cpu.cpu_s,
        cpu_ms_per_request=cpu_ms,
        server_and_db_cpu_ms_per_request=both * 1000 / counted
        if both is not None and counted and cpu_resolved(both, resources.server_processes_peak)
        else None,
        backends=database_cpu.backends,
        unattributed_cpu_s=database_cpu.unattributed_cpu_s,
        unattributed_backends=database_cpu.unattributed_backends,
        cpu_note=database_cpu.note,
    )


def locust_total_matches(samples: output.Samples, totals: LocustTotals) -> bool:
    """locust's own count equals ours: every request of the window plus those
    drained after it, and the warm-up too when locust's stats were not reset
    (a distributed master adds up whole-run reports from its workers)."""
    ours = 0
    for name in totals.by_name:
        ours += samples.count(name) + samples.failures.get(name, 0)
        ours += samples.drained.get(name, 0) + samples.drained_failures.get(name, 0)
        if not samples.stats_reset:
            ours += samples.warmup.get(name, 0)
    return ours == totals.requests


def _mostly_failed(plan: Plan, samples: output.Samples) -> str | None:
    """Why a window measured its failures rather than the server, or None."""
    successes, failures = samples.count(), sum(samples.failures.values())
    unexpected = {
        kind: count
        for kind, count in samples.errors.items()
        if not any(expected in kind for expected in plan.expected_errors)
    }
    if sum(unexpected.values()) <= MOSTLY_FAILED * (successes + failures):
        return None
    worst = max(unexpected, key=unexpected.__getitem__)
    share = sum(unexpected.values()) / (successes + failures)
    return f"{share:.0%} of requests failed, e.g. {unexpected[worst]} x {worst}"


def _counted_in_interval(
    settings: Settings, samples: output.Samples, names: list[str], resources: WindowResources
) -> int | None:
    """The requests completed inside the CPU interval, or None where they
    cannot be placed in it (the window then stands in)."""
    if settings.topology.remote_workers:
        # Another machine's clock stamped some completions: they cannot be
        # placed in this machine's CPU interval, so locust's window stands in
        # (its edges are still recorded beside the CPU interval's).
        return None
    in_interval = [
        samples.completed_between(name, resources.wall_start, resources.wall_end) for name in names
    ]
    return None if None in in_interval else sum(c for c in in_interval if c is not None)


def _guard(
    plan: Plan,
    settings: Settings,
    resources: WindowResources,
    throughput: float,
    schedule: OpenLoopFigures | None,
) -> LoadgenGuard:
    keep_alive = plan.served.keep_alive
    if plan.rate:
        guard = loadgen_guard(resources, throughput, None, keep_alive, settings.schedule_check())
        return slip_guard(guard, schedule, settings.slo_ms)
    ceiling = settings.ceiling_for(plan.users, keep_alive)
    return loadgen_guard(resources, throughput, ceiling, keep_alive)


def cpu_ms_per_request(resources: WindowResources, counted: int) -> float | None:
    """The server's CPU per request over the CPU interval, or None where no
    request was counted or the reading is too few ticks to divide."""
    cpu_s = resources.server_cpu_s
    if not counted or cpu_s is None or not cpu_resolved(cpu_s, resources.server_processes_peak):
        return None
    return cpu_s * 1000 / counted


def sched_figures(
    window: sched.WindowSched | None,
    counted: int,
    server_cpu_s: float | None,
    system_cpu_s: float | None = None,
) -> SchedFigures | None:
    """Every thread's switches and migrations, per request counted over the
    same CPU interval, the share of the tree's CPU the threads read cover, and
    the tree's kernel-mode CPU; None when the threads were not read."""
    if window is None:
        return None
    system_ms = system_cpu_s * 1000 / counted if system_cpu_s is not None and counted else None

    def per(value: int) -> float | None:
        return value / counted if counted else None

    return SchedFigures(
        voluntary=window.voluntary,
        involuntary=window.involuntary,
        migrations=window.migrations,
        voluntary_per_request=per(window.voluntary),
        involuntary_per_request=per(window.involuntary),
        ctx_per_request=per(window.voluntary + window.involuntary),
        migrations_per_request=per(window.migrations),
        threads_at_start=window.threads_at_start,
        threads_born=window.threads_born,
        threads_ended=window.threads_ended,
        threads_cpu_s=window.runtime_s,
        threads_cpu_share=window.runtime_s / server_cpu_s if server_cpu_s else None,
        system_cpu_ms_per_request=system_ms,
        system_cpu_share=system_cpu_s / server_cpu_s
        if system_cpu_s is not None and server_cpu_s
        else None,
    )


def server_figures(
    resources: WindowResources, cpu_ms: float | None, counted: int = 0
) -> ServerFigures:
    """The server's part of the record, from what the sampler read."""
    return ServerFigures(
        cpu_s=resources.server_cpu_s,
        cpu_ms_per_request=cpu_ms,
        cpu_percent=resources.server_cpu_percent,
        rss_peak_mb=_mb(resources.server_rss_peak_bytes),
        pss_peak_mb=_mb(resources.server_pss_peak_bytes),
        uss_peak_mb=_mb(resources.server_uss_peak_bytes),
        memory_by_process=resources.server_memory,
        threads_peak=resources.server_threads_peak,
        processes_peak=resources.server_processes_peak,
        ctx_voluntary=resources.server_ctx_voluntary,
        ctx_involuntary=resources.server_ctx_involuntary,
        sampled_wall_s=resources.wall_s,
        rss_timeline_mb=[
            [round(at, 2), round(rss / 2**20, 2)] for at, rss in resources.rss_timeline
        ],
        sched=sched_figures(
            resources.server_sched,
            counted,
            resources.server_cpu_s,
            resources.server_system_cpu_s,
        ),
    )


def loadgen_figures(
    resources: WindowResources, settings: Settings, guard: LoadgenGuard
) -> LoadgenFigures:
    """The load generator's part of the record: its CPU and its guard's verdict."""
    return LoadgenFigures(
        cpu_percent=resources.loadgen_cpu_percent,
        busiest_process_percent=resources.loadgen_busiest_process_percent,
        by_role_percent=resources.loadgen_by_role_percent,
        cores=resources.loadgen_cores,
        cpus=format_cpus(settings.loadgen_cpus),
        bound=guard.bound,
        bound_reasons=guard.bound_reasons,
        latency_suspect=guard.latency_suspect,
        notes=guard.notes,
        ceiling_rps=guard.ceiling_rps,
    )


def derive(
    plan: Plan,
    settings: Settings,
    run: loadgen.LocustRun,
    resources: WindowResources,
    switches: dict[str, dict[str, int] | None],
    server: launch.RunningServer | launch.ExternalTarget,
    started_at: str,
    database_cpu: dbcpu.DatabaseCpu | None = None,
) -> RepeatRecord:
    """Turn one finished window into the repeat record written to the cell's JSON."""
    samples = output.read_samples(run.out_dir)
    totals = LocustTotals.from_json(output.read_locust_totals(run.out_dir))
    window = samples.window_s or resources.wall_s
    names = counted_names(plan.primary, samples)
    failed = "no request succeeded in the measured window" if not names else None
    failed = failed or _mostly_failed(plan, samples)
    if failed:
        return RepeatRecord.failed(
            failed, started_at=started_at, raw_dir=str(plan.out_dir), errors=samples.errors
        )
    requests = sum(samples.count(name) for name in names)
    failures, successes = sum(samples.failures.values()), samples.count()
    counted = _counted_in_interval(settings, samples, names, resources)
    if counted is None:  # no origin for the samples' clock: the window stands in
        counted, cpu_window = requests, window
    else:
        cpu_window = resources.wall_s
    throughput = counted / cpu_window if cpu_window else 0.0
    window_samples = np.concatenate([samples.by_name[name] for name in names])
    latency = LatencySummary.from_json(latency_summary(window_samples[:, 1]))
    schedule = None
    if plan.rate:
        schedule, latency = open_loop_latency(plan.rate, samples, names, throughput, window)
    cpu_ms = cpu_ms_per_request(resources, counted)
    guard = _guard(plan, settings, resources, throughput, schedule)
    return RepeatRecord(
        status="ok",
        reason=None,
        started_at=started_at,
        window_s=window,
        primary=plan.primary if plan.primary in names else None,
        counted_names=names,
        requests=requests,
        requests_in_cpu_interval=counted,
        intervals=window_intervals(samples, resources),
        steady=steadiness(window_samples[:, 0], window),
        open_loop=schedule,
        failures=failures,
        error_rate=failures / (successes + failures) if successes + failures else 0.0,
        throughput_rps=throughput,
        latency_ms=latency,
        latency_by_name={
            name: LatencySummary.from_json(latency_summary(values[:, 1]))
            for name, values in samples.by_name.items()
        },
        errors=samples.errors,
        failures_by_name=dict(samples.failures),
        warmup_requests=sum(samples.warmup.values()),
        drained_requests=sum(samples.drained.values()) + sum(samples.drained_failures.values()),
        locust_totals=totals,
        totals_consistent=locust_total_matches(samples, totals),
        locust_processes=samples.roles,
        locust_workers=samples.worker_ids,
        server=server_figures(resources, cpu_ms, counted),
        loadgen=loadgen_figures(resources, settings, guard),
        switches=switch_figures(switches),
        db=db_record(resources, counted, database_cpu),
        server_config={
            **server.describe(plan.options(settings)),
            "cpus": format_cpus(settings.server_cpus) if plan.served.local else "external",
        },
        raw_dir=str(plan.out_dir),
        json_keys=RepeatRecord.MEASURED,
    )
