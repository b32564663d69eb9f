"""The write check: every successful request of a write workload left one row.

A scenario that declares ``BENCH["verify_rows"] = "<table>"`` (its view inserts
exactly one row of that table per successful request, inside a transaction)
has each repeat bracketed by two counts of the table, read by the harness
straight from the servers' database (``database.count_rows``): one before the
server starts and one after it has stopped, so no transaction is in flight at
either count. The rows added must equal the requests that succeeded over the
whole repeat, warm-up and drain included, plus the primer's one.

The successes come from the plugin's exact per-phase counts. locust's own
``--json-file`` totals cannot stand alone: its stats are reset when the window
opens, so they cover the window and the drain only; they are recorded beside
as a cross-check.

A repeat whose counts disagree is failed, its figures kept in the record: its
throughput would count writes that did not land (or miss writes that did), so
it is not a measurement of the work the scenario claims, and a failed repeat
is left out of every summary and verdict and named with its reason in the
report's caveats. The check assumes nothing else writes to the table during
the repeat (a second run against the same database would).
"""

from pathlib import Path
from typing import Any

from bench.errors import BenchError
from bench.load import loadgen
from bench.measure.settings import Plan
from bench.results.records import RepeatRecord
from bench.serve import database


def count(env: dict[str, str], table: str) -> int | str:
    """The table's rows, or why they could not be counted."""
    try:
        return database.count_rows(env, table)
    except BenchError as exc:
        return str(exc)


def successes(out_dir: Path) -> dict[str, int]:
    """Successful requests of one repeat by phase, every request name together:
    the window's samples, and the completion times kept for the warm-up's and
    the drain's successes."""
    samples = loadgen.read_samples(out_dir)
    outside = sum(int(times.size) for times in samples.outside.values())
    drain = sum(samples.drained.values())
    return {"warmup": outside - drain, "window": samples.count(), "drain": drain}


def compare(
    table: str, before: int, after: int, by_phase: dict[str, int], primer: int
) -> dict[str, Any]:
    """The rows added against the writes acknowledged (the known-answer core)."""
    successful = sum(by_phase.values())
    expected = successful + primer
    added = after - before
    return {
        "table": table,
        "before": before,
        "after": after,
        "added": added,
        "successful_requests": successful,
        "by_phase": by_phase,
        "primer": primer,
        "expected": expected,
        "difference": added - expected,
        "agree": added == expected,
    }


def describe(check: dict[str, Any]) -> str:
    """One line for a disagreement, naming its direction."""
    difference = check["difference"]
    head = (
        f"row check: {check['added']} rows added to {check['table']}, "
        f"{check['expected']} expected ({check['successful_requests']} successful requests"
        f" + {check['primer']} primer)"
    )
    if difference < 0:
        lost = -difference
        return f"{head}: {lost} acknowledged write{'s' * (lost != 1)} did not land"
    return f"{head}: {difference} row{'s' * (difference != 1)} more than acknowledged writes"


def verify(record: RepeatRecord, plan: Plan, table: str, before: int | str) -> RepeatRecord:
    """After ``measure.measure`` returned (its server stopped): count again and judge."""
    after = count(plan.env, table)
    return judge(record, table, before, after, plan.out_dir, plan.primer_path is not None)


def judge(
    record: RepeatRecord,
    table: str,
    before: int | str,
    after: int | str,
    out_dir: Path,
    primed: bool,
) -> RepeatRecord:
    """Add the check to a repeat's record (as ``rows``) and fail it when the
    counts disagree or cannot be read. Repeats that already failed keep their
    own reason: their counts are recorded, not judged."""
    if isinstance(before, str) or isinstance(after, str):
        problem = before if isinstance(before, str) else after
        record.rows = {"table": table, "agree": None, "error": problem}
        if record.ok:
            record.status, record.reason = "failed", f"row check: {problem}"
        return record
    if not record.ok:
        record.rows = {"table": table, "before": before, "after": after, "agree": None}
        return record
    try:
        by_phase = successes(out_dir)
    except loadgen.LoadgenError as exc:
        record.rows = {"table": table, "before": before, "after": after, "agree": None}
        record.status, record.reason = "failed", f"row check: {exc}"
        return record
    check = compare(table, before, after, by_phase, 1 if primed else 0)
    totals = record.locust_totals
    if totals is not None and totals.has("requests"):
        # locust's own count, window and drain only (its stats reset at the window)
        check["locust_window_and_drain"] = totals.requests - totals.failures
    record.rows = check
    if not check["agree"]:
        record.status, record.reason = "failed", describe(check)
    return record
