"""Held connections: what each one costs the server, and how many a configuration kept.

In the cells of the held scenario (scenarios/held.py) every user holds one
connection open (an SSE stream, or a long-poll request), and every delivered
event is one sample whose time is its delivery delay. For each configuration
(endpoint, server, view style, stack) across its user counts:

- memory: the server's USS peak (every process of its tree) against held
  connections, a least-squares line over the successful repeats of the user
  counts it held (below): its slope is the memory each connection costs (KB),
  its intercept the server with none;
- threads: the same line for the server's thread count: a thread per
  connection shows as a slope of 1, an event loop as 0;
- kept: the highest user count that this configuration, and every lower
  count, held in most repeats: errors at most 1%, at least 80% of the events
  due delivered each second (users / interval), and delivery p99 within two
  intervals. The first count that did not hold is said with its reason.
"""

import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.analyse.groups import by_identity, documents, figure
from bench.numbers import fmt
from bench.results.records import CellDocument, RepeatRecord
from bench.results.rows import HeldLevel, HeldRow

SCENARIO = "held"
ERROR_LIMIT = 0.01  # more failed requests than this: connections were refused or dropped
DELIVERY_FRACTION = 0.8  # fewer events per second than this share of those due: stalled
P99_INTERVALS = 2.0  # delivery p99 above this many intervals: stalled
DEFAULT_INTERVAL_MS = 1000.0
CONFIGURATION = ("endpoint", "server", "style", "stack")  # what differs only in users
_INTERVAL = re.compile(r"interval=(\d+)")


def interval_ms(repeat: RepeatRecord) -> float:
    """The event interval of a repeat, read from its recorded name
    ("EVENT async/sse?interval=1000")."""
    found = _INTERVAL.search(repeat.primary or "")
    return float(found.group(1)) if found else DEFAULT_INTERVAL_MS


def shortfall(repeat: RepeatRecord, users: int) -> str | None:
    """Why a repeat did not hold its connections; None when it did."""
    if not repeat.ok:
        reason = (repeat.reason or repeat.status or "").strip()
        if reason.startswith("no request succeeded"):
            # a sync stream under ASGI: consumed whole, sent after the run
            return "stalled: no event delivered in the window"
        return f"failed: {reason.splitlines()[0] if reason else repeat.status}"
    interval = interval_ms(repeat)
    due = users * 1000 / interval
    errors = repeat.error_rate or 0.0
    if errors > ERROR_LIMIT:
        return f"refused: {errors:.1%} of requests failed"
    delivered = repeat.throughput_rps or 0.0
    if delivered < DELIVERY_FRACTION * due:
        return f"stalled: {delivered:,.0f} of {due:,.0f} events/s delivered"
    p99 = figure(repeat, ("latency_ms", "p99"))
    if p99 is not None and p99 > P99_INTERVALS * interval:
        return f"stalled: delivery p99 {p99:,.0f} ms > {P99_INTERVALS:g} intervals"
    return None


@dataclass(frozen=True)
class Line:
    """A least-squares line over ``points`` points."""

    slope: float
    intercept: float
    points: int


def fit(points: list[tuple[float, float]]) -> Line | None:
    """Least-squares line y = slope * x + intercept; None with fewer than two distinct x."""
    if len({x for x, _ in points}) < 2:
        return None
    xs = np.array([x for x, _ in points], dtype=float)
    ys = np.array([y for _, y in points], dtype=float)
    design = np.column_stack([xs, np.ones_like(xs)])
    (slope, intercept), *_ = np.linalg.lstsq(design, ys, rcond=None)
    return Line(float(slope), float(intercept), len(points))


def _median(values: list[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


def _level(users: int, cell: CellDocument) -> HeldLevel:
    repeats = [r for r in cell.repeats if r.status != "skipped"]
    reasons = [shortfall(repeat, users) for repeat in repeats]
    kept = sum(reason is None for reason in reasons)
    ok = [repeat for repeat in repeats if repeat.ok]
    held = bool(repeats) and kept > len(repeats) / 2
    return HeldLevel(
        users=users,
        held=held,
        reason=None if held else next((r for r in reasons if r), "not run"),
        repeats=len(repeats),
        repeats_held=kept,
        events_per_s=_median([r.throughput_rps for r in ok]),
        due_per_s=users * 1000 / interval_ms(ok[0]) if ok else None,
        p99_ms=_median([figure(r, ("latency_ms", "p99")) for r in ok]),
        uss_mb=_median([figure(r, ("server", "uss_peak_mb")) for r in ok]),
        threads=_median([figure(r, ("server", "threads_peak")) for r in ok]),
        loadgen_bound=any(figure(r, ("loadgen", "bound")) for r in ok),
    )


def rows(cells: Iterable[CellDocument | dict[str, Any]], scenario: str = SCENARIO) -> list[HeldRow]:
    """One row per configuration of the held scenario: cost per connection and what it kept."""
    closed = [c for c in documents(cells) if c.cell.scenario == scenario and not c.cell.rate]
    configs = {
        key: {cell.cell.users: cell for cell in group}
        for key, group in by_identity(closed, CONFIGURATION).items()
    }
    result = []
    for (endpoint, server, style, stack), by_users in sorted(configs.items()):
        levels = [_level(users, by_users[users]) for users in sorted(by_users)]
        # Only counts that held: where connections were still opening or were
        # refused, the server held fewer than its users.
        memory: list[tuple[float, float]] = []
        threads: list[tuple[float, float]] = []
        for level in levels:
            if not level.held:
                continue
            for repeat in by_users[level.users].ok_repeats:
                found = repeat.server
                if found is not None and found.uss_peak_mb is not None:
                    memory.append((level.users, found.uss_peak_mb * 1024))
                if found is not None and found.threads_peak is not None:
                    threads.append((level.users, found.threads_peak))
        kept, failed = 0, None
        for level in levels:
            if not level.held:
                failed = level
                break
            kept = level.users
        memory_fit, thread_fit = fit(memory), fit(threads)
        result.append(
            HeldRow(
                endpoint=endpoint,
                server=server,
                style=style,
                stack=stack,
                users=[level.users for level in levels],
                kb_per_connection=memory_fit.slope if memory_fit else None,
                base_mb=memory_fit.intercept / 1024 if memory_fit else None,
                threads_per_connection=thread_fit.slope if thread_fit else None,
                base_threads=thread_fit.intercept if thread_fit else None,
                kept=kept,
                failed_at=failed.users if failed else None,
                failure=failed.reason if failed else None,
                failure_loadgen_bound=bool(failed and failed.loadgen_bound),
                levels=levels,
            )
        )
    return result


def describe(row: HeldRow) -> dict[str, str]:
    """A row's figures as the report prints them."""
    one_count = "- (held at fewer than two user counts)"
    memory = (
        f"{fmt(row.kb_per_connection, '{:,.1f}')} KB (+ {fmt(row.base_mb, '{:,.0f}')} MiB)"
        if row.kb_per_connection is not None
        else one_count
    )
    threads = (
        f"{fmt(row.threads_per_connection, '{:.2f}')} (+ {fmt(row.base_threads, '{:.0f}')})"
        if row.threads_per_connection is not None
        else one_count
    )
    if row.failed_at is None:
        kept = f"{row.kept:,} (every count)"
        failure = "-"
    else:
        kept = f"{row.kept:,}" if row.kept else "none"
        failure = f"at {row.failed_at:,}: {row.failure}"
        if row.failure_loadgen_bound:
            failure += " (load generator bound: the stall may be locust's)"
    return {
        "configuration": " ".join(
            part for part in (row.endpoint, row.server, row.style, row.stack) if part != "none"
        ),
        "memory": memory,
        "threads": threads,
        "kept": kept,
        "failure": failure,
    }
