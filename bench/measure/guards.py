"""Was the load generator, not the server, the limit of a repeat?

A figure locust could not drive harder is locust's, not the server's: such a
repeat is flagged load-generator bound, and its latency suspect, never
silently averaged with the others.
"""

from bench.measure.sampler import WindowResources
from bench.results.records import Ceiling, LoadgenGuard, OpenLoopFigures, ScheduleCheck

LOADGEN_CPU_LIMIT = 90.0  # % of one core: above this locust is the bottleneck
CEILING_FRACTION = 0.8  # throughput at 80% of locust's calibrated ceiling is suspect
STEAL_LIMIT = 5.0  # % of the load generator's cores stolen by the hypervisor
SLIP_FRACTION = 0.10  # the scheduler's own lateness may use 10% of the latency objective


def loadgen_guard(
    resources: WindowResources,
    throughput: float,
    ceiling: Ceiling | None,
    keep_alive: bool,
    schedule: ScheduleCheck | None = None,
) -> LoadgenGuard:
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
    rate = ceiling.ceiling_rps if ceiling is not None and ceiling.valid else None
    if ceiling is not None and rate and throughput >= CEILING_FRACTION * rate:
        mode = "keep-alive" if keep_alive else "a new connection per request"
        reasons.append(
            f"throughput {throughput:.0f}/s >= {CEILING_FRACTION:.0%} of locust's ceiling "
            f"{rate:.0f}/s ({ceiling.users} users, {mode})"
        )
    if schedule is not None and schedule.status == "ok" and not schedule.kept:
        reasons.append(
            f"locust could not keep {schedule.rate}/s even against a bare app "
            f"({'; '.join(schedule.reasons)})"
        )
    return LoadgenGuard(
        bound=bool(reasons),
        bound_reasons=reasons,
        latency_suspect=bool(reasons),
        notes=_notes(cores, ceiling, schedule),
        ceiling_rps=rate,
    )


def _notes(cores: dict, ceiling: Ceiling | None, schedule: ScheduleCheck | None) -> list[str]:
    """What the guard could not judge, or saw without flagging."""
    notes = []
    steal = cores.get("steal_percent")
    if isinstance(steal, float) and steal > STEAL_LIMIT:
        notes.append(f"{steal:.0f}% of the load generator's CPU time was stolen")
    if ceiling is None and schedule is None:
        notes.append("no calibrated ceiling for this load")
    elif ceiling is not None and not ceiling.valid:
        notes.append(f"the calibration was not load-generator bound: {ceiling.note}")
    return notes


def slip_guard(
    guard: LoadgenGuard, schedule: OpenLoopFigures | None, slo_ms: float
) -> LoadgenGuard:
    """The load generator's own lateness in this cell: from due to send where a
    user was free when the request fell due, so the wait is the scheduler's and
    gevent's, not the server's. Its p99 above 10% of the objective flags the
    cell load-generator bound: the latency would then be partly locust's."""
    slip = schedule.free_user_slip_ms_p99 if schedule is not None else None
    if slip is None or slip <= SLIP_FRACTION * slo_ms:
        return guard
    reason = (
        f"the scheduler sent requests {slip:.1f} ms late (p99, a user free) > "
        f"{SLIP_FRACTION:.0%} of the {slo_ms:g} ms objective"
    )
    return LoadgenGuard(
        bound=True,
        bound_reasons=[*guard.bound_reasons, reason],
        latency_suspect=True,
        notes=guard.notes,
        ceiling_rps=guard.ceiling_rps,
    )
