"""What a reader must know before trusting a figure of a run: its caveats.

A run that did not finish, a cell that failed, was load-generator bound, or
whose repeats disagree; what the load generator's calibration says; and how
to read the verdicts' intervals and the latency table's gaps.
"""

from bench.analyse import stats
from bench.analyse.groups import figure
from bench.analyse.verdicts import Tested
from bench.numbers import fmt
from bench.report import noise
from bench.results import store as results
from bench.results.records import (
    Calibration,
    CellDocument,
    RepeatRecord,
    ScheduleCheck,
    Steadiness,
    StoppingRecord,
)

NOISE_LIMIT_PCT = noise.NOISE_LIMIT_PCT


def caveats(run: results.Run, cells: list[CellDocument]) -> list[str]:
    """What a reader must know before trusting a number of this run: the run's
    state, the calibration, each cell's serious notes one by one, and the kinds
    that recur cell after cell (noise, steal, partial sweeps) said once each
    (``bench.report.noise``); every note of a cell stays in ``cell_details``."""
    notes = []
    document = run.document
    if document.status != "complete":
        reason = document.interrupted_reason or "some repeats failed"
        notes.append(
            f"This run is {document.status}: {reason}. Its figures cover only the finished repeats."
        )
    notes += calibration_caveats(document.calibration)
    for cell in cells:
        notes += [text for kind, text in cell_notes(cell) if kind not in noise.GROUPED]
    return notes + noise.grouped(cells, {cell.id: cell_notes(cell) for cell in cells})


def cell_details(cells: list[CellDocument]) -> list[str]:
    """Every note of every cell, one line each: the report's lower sections."""
    return [text for cell in cells for text in cell_caveats(cell)]


def cell_caveats(cell: CellDocument) -> list[str]:
    """What a reader must know about one cell: its state, its repeats, its noise."""
    return [text for _kind, text in cell_notes(cell)]


def cell_notes(cell: CellDocument) -> list[tuple[str, str]]:
    """Each note of one cell with its kind (a key of ``noise.KINDS`` or "serious")."""
    notes: list[tuple[str, str]] = []
    identity, state = cell.id, cell.status
    if state in ("failed", "not run", "interrupted"):
        reasons = [r.reason for r in cell.repeats if r.reason]
        first = reasons[0].splitlines()[0] if reasons else "it did not run"
        notes.append(("serious", f"{identity}: {state}, no figure shown ({first})."))
    elif state == "skipped":
        notes.append(
            (
                "skipped",
                f"{identity}: not measured: no pass's search of its configuration "
                "needed this rate.",
            )
        )
    elif any(r.status == "skipped" for r in cell.repeats):
        measured = [r.repeat for r in cell.ok_repeats]
        notes.append(
            (
                "passes",
                f"{identity}: measured in pass(es) {', '.join(map(str, measured)) or 'none'} "
                f"of {len(cell.repeats)} only: the other passes' searches did not need "
                "this rate, so its figures come from fewer repeats.",
            )
        )
    if any(figure(r, ("open_loop", "latency_from_due")) is False for r in cell.ok_repeats):
        notes.append(
            (
                "serious",
                f"{identity}: latency from sending, not from the due time, in some repeats: "
                "requests were made outside the open-loop schedule (on_start).",
            )
        )
    if state == "partial":
        failed = [r for r in cell.repeats if r.status == "failed"]
        why = ""
        if failed:
            first = (failed[0].reason or "no reason recorded").splitlines()[0]
            number = failed[0].repeat if failed[0].has("repeat") else "?"
            why = f" (repeat {number} failed: {first})"
        notes.append(
            ("serious", f"{identity}: only some repeats succeeded; its figures use those{why}.")
        )
    if cell.loadgen_bound:
        reasons = {
            reason
            for r in cell.repeats
            if r.loadgen is not None
            for reason in r.loadgen.bound_reasons
        }
        notes.append(
            (
                "serious",
                f"{identity}: load-generator bound in repeats {cell.loadgen_bound_repeats} "
                f"({'; '.join(sorted(reasons))}); its throughput is a lower bound and "
                "its latency includes locust's own delays; its CPU per request is "
                "still a measurement.",
            )
        )
    notes += repeat_flags(identity, cell.repeats)
    for metric in ("throughput_rps", "cpu_ms_per_request"):
        spread = cell.spread(metric)
        if (
            spread is not None
            and spread.spread_pct is not None
            and spread.spread_pct > NOISE_LIMIT_PCT
        ):
            notes.append(
                (
                    "noise",
                    f"{identity}: {metric} varies {spread.spread_pct:.1f}% between repeats "
                    f"(above {NOISE_LIMIT_PCT:.0f}%).",
                )
            )
    errors = cell.median("error_rate")
    if errors:
        notes.append(("serious", f"{identity}: {errors:.1%} of requests failed."))
    return notes


def calibration_caveats(calibration: Calibration | None) -> list[str]:
    """What the load generator's ceilings say, one per user count and connection mode."""
    if calibration is None:
        return []
    if not calibration.ceilings:
        return [
            "The load-generator calibration failed: load-generator bound cells are "
            "flagged by the load generator's CPU only."
        ]
    notes = []
    for ceiling in calibration.ceilings:
        if isinstance(ceiling, ScheduleCheck):
            notes.append(schedule_caveat(ceiling))
            continue
        mode = "keep-alive" if ceiling.keep_alive else "a new connection per request"
        head = f"locust's ceiling with {ceiling.users} users and {mode}"
        if ceiling.ceiling_rps is None:
            notes.append(f"{head}: the calibration failed ({ceiling.reason}).")
        elif ceiling.has("valid") and ceiling.valid:
            notes.append(
                f"{head} was {ceiling.ceiling_rps:,.0f} requests/s (bare ASGI app): "
                "cells at 80% of it or more are flagged."
            )
        else:
            notes.append(
                f"{head} could not be measured: the load generator was not the limit "
                f"({ceiling.note}); only its CPU flags those cells."
            )
    return notes


def schedule_caveat(check: ScheduleCheck) -> str:
    """What the open-loop calibration says: the load generator's own latency floor."""
    if check.status != "ok":
        return f"The open-loop calibration failed ({check.reason})."
    if check.kept:
        return (
            f"locust kept an open-loop schedule of {check.rate} requests/s against "
            "a bare ASGI app: p99 from the due time "
            f"{stats.ms_or_beyond(check.p99_from_due_ms)}, "
            "the load generator's own floor under every open-loop latency here."
        )
    return (
        f"locust could not keep {check.rate} requests/s even against a bare "
        f"ASGI app ({'; '.join(check.reasons)}): every open-loop cell of this "
        "run is flagged as load-generator bound."
    )


def _change(steady: Steadiness) -> str:
    """'+12%', or, when the first third had no completions (nothing to divide
    by: a stalled start), 'from none to 40/s'."""
    if steady.change_pct is not None:
        return fmt(steady.change_pct, "{:+.0f}%")
    return f"from none to {steady.last_rps or 0:,.0f}/s"


def repeat_flags(identity: str, repeats: list[RepeatRecord]) -> list[tuple[str, str]]:
    """Repeats whose figures describe a moving target or mismatched seconds, and
    what the load generator's guard noted (steal among it), each with its kind."""
    notes: list[tuple[str, str]] = []
    good = [r for r in repeats if r.ok]
    unsteady = [r for r in good if r.steady is not None and r.steady.steady is False]
    if unsteady:
        changes = ", ".join(f"r{r.repeat} {_change(r.steady)}" for r in unsteady)
        notes.append(
            (
                "unsteady",
                f"{identity}: not steady: throughput in the window's last third differs "
                f"from its first by more than 10% ({changes}).",
            )
        )
    mismatched = [r for r in good if r.intervals is not None and r.intervals.differ]
    if mismatched:
        gaps = ", ".join(f"r{r.repeat} {r.intervals.mismatch_pct:.1f}%" for r in mismatched)
        notes.append(
            (
                "serious",
                f"{identity}: the CPU interval and locust's window differ by more than 1% "
                f"({gaps}); throughput and CPU share the CPU interval, latency is locust's "
                "window.",
            )
        )
    unresolved = [
        r
        for r in good
        if r.server is not None
        and r.server.cpu_s is not None
        and r.server.cpu_ms_per_request is None
        and r.requests_in_cpu_interval
    ]
    if unresolved:
        readings = ", ".join(f"r{r.repeat} {r.server.cpu_s * 1000:.0f} ms" for r in unresolved)
        notes.append(
            (
                "serious",
                f"{identity}: no CPU per request in repeats where the server's CPU in the "
                f"window ({readings}) is too few of /proc's clock ticks to divide (one "
                "tick per process would be over a quarter of it); a longer --duration "
                "resolves it.",
            )
        )
    stolen = {note for r in good if r.loadgen is not None for note in r.loadgen.notes or []}
    for note in sorted(stolen):
        notes.append((noise.note_kind(note), f"{identity}: {note}."))
    return notes


def statistics_caveats(rows: list[Tested], cells: list[CellDocument]) -> list[str]:
    """How to read the verdicts' intervals (``rows``: every verdict of the report,
    the open-loop headlines included) and the latency table's gaps."""
    notes = []
    tested = sum(metric.tested for row in rows for metric in row.metrics.values())
    paired = any(getattr(row, "pairing", None) == "paired" for row in rows)
    if tested:
        how = (
            "the paired t interval on the log ratios of repeats measured back to back for the "
            'verdicts marked "paired", Welch\'s t on log values over repeats for the others'
            if paired
            else "Welch's t on log values over repeats"
        )
        notes.append(
            "Verdict intervals are unadjusted 95% intervals of the ratio of geometric means "
            f"({how}); significance is decided after Holm's "
            f"correction across all {tested} tested ratios of this report, so an interval that "
            'excludes 1 can still be "not significant after Holm".'
        )
    hidden = [
        name
        for name in stats.PERCENTILES
        if any(
            cell.median(f"{name}_ms") is not None and not stats.backed(cell, name) for cell in cells
        )
    ]
    if hidden:
        needs = ", ".join(
            f"{name.replace('_', '.')} needs {stats.min_samples(stats.PERCENTILES[name] / 100):,}"
            for name in hidden
        )
        notes.append(
            f'Latency percentiles show "{stats.TOO_FEW_SAMPLES}" where a repeat had fewer '
            f"than 10 / (1 - q) samples ({needs}) and the charts leave those markers out; "
            "the values stay in the cell JSON."
        )
    return notes


def stopping_caveat(found: StoppingRecord | None) -> list[str]:
    """What the stopping rule decided: per paired verdict, its pairs, its
    widest half-width and whether it met the target."""
    if found is None:
        return []
    why = {"met": "every paired verdict met it", "budget": "the budget would have been overrun",
           "interrupted": "the run was interrupted"}.get(found.stopped or "", "")  # fmt: skip
    parts = []
    for verdict in found.verdicts:
        widths = [w for w in verdict.half_width_pct.values() if w is not None]
        widest = f"widest +-{max(widths):.1f}%" if widths else "nothing tested"
        parts.append(
            f"{verdict.candidate} vs {verdict.baseline}: {verdict.pairs} pairs, {widest}, "
            f"{'met' if verdict.met else 'not met'}"
        )
    budget = f" within {found.budget_s / 60:g} min" if found.budget_s else ""
    return [
        f"Stopping rule: +-{found.target_interval_pct:g}% on every paired verdict{budget}, "
        f"at least {found.minimum_pairs} pairs; it added {found.extra_passes} passes and "
        f"stopped because {why} ({'; '.join(parts)})."
    ]
