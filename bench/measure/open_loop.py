"""An open-loop repeat's figures: did the server keep up with the schedule?

Requests fall due on a schedule whatever the server does; these figures say
whether it answered them, dropped none, and kept latency from growing, and
take the headline latency from each request's due time rather than its send.
"""

import numpy as np

from bench.analyse.stats import latency_summary, open_loop_summary
from bench.load import output
from bench.results.records import LatencySummary, OpenLoopFigures

OPEN_LOOP_RATE_TOLERANCE = 0.02  # achieved within 2% of the offered rate
LATENCY_GROWTH_LIMIT = 0.05  # s of added latency per s of window: a queue that keeps growing


def _growth(due: np.ndarray | None, window: float | None, from_due: bool) -> float | None:
    """Seconds of latency added per second of window: the medians of the first
    and last thirds (by due time), whose centres lie 2/3 of the window apart."""
    if due is None or not from_due or not window or len(due) < 6:
        return None
    first = due[due[:, 0] < window / 3, 1]
    last = due[due[:, 0] >= 2 * window / 3, 1]
    if not (first.size and last.size):
        return None
    return (float(np.median(last)) - float(np.median(first))) / 1000 / (2 * window / 3)


def open_loop_figures(
    rate: float, samples: output.Samples, names: list[str], achieved: float, window: float | None
) -> OpenLoopFigures:
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
    loop = samples.open_loop or output.ScheduleTotals()
    counts = loop.window or output.WindowCounts()
    # A process without window counts: the phase totals stand in.
    dropped = int(counts.dropped if counts.dropped is not None else loop.dropped.get("window", 0))
    scheduled = int(
        counts.scheduled if counts.scheduled is not None else loop.scheduled.get("window", 0)
    )
    answered = counts.answered
    due = samples.due_of(names)
    outside = sum(int(counts.undue.get(name, 0)) for name in names)
    from_due = due is not None and due.size > 0 and outside == 0
    growth = _growth(due, window, from_due)
    reasons = []
    if answered is not None and scheduled and answered < (1 - OPEN_LOOP_RATE_TOLERANCE) * scheduled:
        reasons.append(f"answered {answered} of the {scheduled} requests scheduled in the window")
    if dropped:
        reasons.append(f"{dropped} requests dropped: no free user within the late bound")
    if growth is not None and growth > LATENCY_GROWTH_LIMIT:
        reasons.append(f"latency grew {growth * 1000:.0f} ms per second of the window")
    return OpenLoopFigures(
        offered_rps=rate,
        achieved_rps=achieved,
        achieved_fraction=achieved / rate if rate else None,
        scheduled=scheduled,
        answered=answered,
        answered_fraction=answered / scheduled if answered is not None and scheduled else None,
        unanswered=counts.unanswered,
        dropped=dropped,
        dropped_all_phases=int(sum(loop.dropped.values())),
        latency_growth_s_per_s=growth,
        latency_from_due=bool(from_due),
        made_outside_schedule=outside,
        scheduler_slip_ms_p99=loop.slip_ms_p99,
        scheduler_slip_ms_max=loop.slip_ms_max,
        free_user_slip_ms_p99=counts.free_slip_ms_p99,
        free_user_slip_count=counts.free_slip_count,
        schedule=loop.schedule,
        seed=loop.seed,
        late_bound_s=loop.late_bound_s,
        sustainable=not reasons,
        unsustainable_reasons=reasons,
    )


def open_loop_latency(
    rate: float, samples: output.Samples, names: list[str], achieved: float, window: float | None
) -> tuple[OpenLoopFigures, LatencySummary]:
    """The schedule's figures and the headline latency of an open-loop repeat.

    The latency counts from each request's due time, over every request
    scheduled in the window (``stats.open_loop_summary``); the time from
    sending it (locust's own figure) is kept beside. Where some window request
    of a counted name was made outside the schedule (``on_start``), there is no
    due time to count from: the latency from sending stands in, and the record
    says so (``latency_from_due`` false), never silently.
    """
    schedule = open_loop_figures(rate, samples, names, achieved, window)
    sent = np.concatenate([samples.by_name[name] for name in names])[:, 1]
    service = LatencySummary.from_json(latency_summary(sent))
    schedule.service_latency_ms = service
    due = samples.due_of(names)
    if not schedule.latency_from_due or due is None:
        return schedule, service
    # An arrival has no name until it is sent: every unanswered one counts here.
    unanswered = int(schedule.unanswered or 0)
    return schedule, LatencySummary.from_json(open_loop_summary(due[:, 1], unanswered))
