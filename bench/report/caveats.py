"""What a reader must know before trusting a figure of a run: its caveats.

A run that did not finish, a cell that failed, was load-generator bound, or
whose repeats disagree; what the load generator's calibration says; and how
to read the verdicts' intervals and the latency table's gaps.
"""

from typing import Any

from bench.analyse import stats
from bench.analyse.verdicts import Tested
from bench.numbers import fmt
from bench.results import store as results

NOISE_LIMIT_PCT = 5.0


def caveats(run: results.Run, cells: list[dict]) -> list[str]:
    """What a reader must know before trusting a number of this run."""
    notes = []
    status = run.data.get("status")
    if status != "complete":
        reason = run.data.get("interrupted_reason") or "some repeats failed"
        notes.append(
            f"This run is {status}: {reason}. Its figures cover only the finished repeats."
        )
    notes += calibration_caveats(run.data.get("calibration"))
    for cell in cells:
        identity, state = cell["cell"]["id"], cell.get("status")
        if state in ("failed", "not run", "interrupted"):
            reasons = [r.get("reason") for r in cell.get("repeats", []) if r.get("reason")]
            first = reasons[0].splitlines()[0] if reasons else "it did not run"
            notes.append(f"{identity}: {state}, no figure shown ({first}).")
        elif state == "skipped":
            notes.append(
                f"{identity}: not measured: no pass's search of its configuration needed this rate."
            )
        elif any(r.get("status") == "skipped" for r in cell.get("repeats", [])):
            measured = [r.get("repeat") for r in cell["repeats"] if r.get("status") == "ok"]
            notes.append(
                f"{identity}: measured in pass(es) {', '.join(map(str, measured)) or 'none'} "
                f"of {len(cell['repeats'])} only: the other passes' searches did not need "
                "this rate, so its figures come from fewer repeats."
            )
        if any(
            r.get("status") == "ok" and (r.get("open_loop") or {}).get("latency_from_due") is False
            for r in cell.get("repeats", [])
        ):
            notes.append(
                f"{identity}: latency from sending, not from the due time, in some repeats: "
                "requests were made outside the open-loop schedule (on_start)."
            )
        if state == "partial":
            failed = [r for r in cell.get("repeats", []) if r.get("status") == "failed"]
            why = ""
            if failed:
                first = (failed[0].get("reason") or "no reason recorded").splitlines()[0]
                why = f" (repeat {failed[0].get('repeat', '?')} failed: {first})"
            notes.append(f"{identity}: only some repeats succeeded; its figures use those{why}.")
        if cell.get("loadgen_bound"):
            repeats = cell.get("loadgen_bound_repeats", [])
            reasons = {
                reason
                for r in cell.get("repeats", [])
                for reason in r.get("loadgen", {}).get("bound_reasons", [])
            }
            notes.append(
                f"{identity}: load-generator bound in repeats {repeats} "
                f"({'; '.join(sorted(reasons))}); its throughput is a lower bound and "
                "its latency includes locust's own delays; its CPU per request is "
                "still a measurement."
            )
        notes += repeat_flags(identity, cell.get("repeats", []))
        for metric in ("throughput_rps", "cpu_ms_per_request"):
            spread = (cell.get("summary", {}).get(metric) or {}).get("spread_pct")
            if spread is not None and spread > NOISE_LIMIT_PCT:
                notes.append(
                    f"{identity}: {metric} varies {spread:.1f}% between repeats "
                    f"(above {NOISE_LIMIT_PCT:.0f}%)."
                )
        errors = (cell.get("summary", {}).get("error_rate") or {}).get("median")
        if errors:
            notes.append(f"{identity}: {errors:.1%} of requests failed.")
    return notes


def calibration_caveats(calibration: dict[str, Any] | None) -> list[str]:
    """What the load generator's ceilings say, one per user count and connection mode."""
    if calibration is None:
        return []
    ceilings = calibration.get("ceilings") or []
    if not ceilings:
        return [
            "The load-generator calibration failed: load-generator bound cells are "
            "flagged by the load generator's CPU only."
        ]
    notes = []
    for ceiling in ceilings:
        if ceiling.get("open_loop"):
            if ceiling.get("status") != "ok":
                notes.append(f"The open-loop calibration failed ({ceiling.get('reason')}).")
            elif ceiling["kept"]:
                notes.append(
                    f"locust kept an open-loop schedule of {ceiling['rate']} requests/s against "
                    "a bare ASGI app: p99 from the due time "
                    f"{stats.ms_or_beyond(ceiling['p99_from_due_ms'])}, "
                    "the load generator's own floor under every open-loop latency here."
                )
            else:
                notes.append(
                    f"locust could not keep {ceiling['rate']} requests/s even against a bare "
                    f"ASGI app ({'; '.join(ceiling['reasons'])}): every open-loop cell of this "
                    "run is flagged as load-generator bound."
                )
            continue
        mode = "keep-alive" if ceiling.get("keep_alive") else "a new connection per request"
        head = f"locust's ceiling with {ceiling.get('users')} users and {mode}"
        if ceiling.get("ceiling_rps") is None:
            notes.append(f"{head}: the calibration failed ({ceiling.get('reason')}).")
        elif ceiling.get("valid"):
            notes.append(
                f"{head} was {ceiling['ceiling_rps']:,.0f} requests/s (bare ASGI app): "
                "cells at 80% of it or more are flagged."
            )
        else:
            notes.append(
                f"{head} could not be measured: the load generator was not the limit "
                f"({ceiling.get('note')}); only its CPU flags those cells."
            )
    return notes


def _change(steady: dict[str, Any]) -> str:
    """'+12%', or, when the first third had no completions (nothing to divide
    by: a stalled start), 'from none to 40/s'."""
    if steady.get("change_pct") is not None:
        return fmt(steady["change_pct"], "{:+.0f}%")
    return f"from none to {steady.get('last_rps') or 0:,.0f}/s"


def repeat_flags(identity: str, repeats: list[dict[str, Any]]) -> list[str]:
    """Repeats whose figures describe a moving target or mismatched seconds."""
    notes = []
    good = [r for r in repeats if r.get("status") == "ok"]
    unsteady = [r for r in good if (r.get("steady") or {}).get("steady") is False]
    if unsteady:
        changes = ", ".join(f"r{r.get('repeat')} {_change(r['steady'])}" for r in unsteady)
        notes.append(
            f"{identity}: not steady: throughput in the window's last third differs "
            f"from its first by more than 10% ({changes})."
        )
    mismatched = [r for r in good if (r.get("intervals") or {}).get("differ")]
    if mismatched:
        gaps = ", ".join(
            f"r{r.get('repeat')} {r['intervals']['mismatch_pct']:.1f}%" for r in mismatched
        )
        notes.append(
            f"{identity}: the CPU interval and locust's window differ by more than 1% "
            f"({gaps}); throughput and CPU share the CPU interval, latency is locust's window."
        )
    stolen = {note for r in good for note in (r.get("loadgen") or {}).get("notes", [])}
    for note in sorted(stolen):
        notes.append(f"{identity}: {note}.")
    return notes


def statistics_caveats(rows: list[Tested], cells: list[dict]) -> list[str]:
    """How to read the verdicts' intervals (``rows``: every verdict of the report,
    the open-loop headlines included) and the latency table's gaps."""
    notes = []
    tested = sum(metric.tested for row in rows for metric in row.metrics.values())
    if tested:
        notes.append(
            "Verdict intervals are unadjusted 95% intervals of the ratio of geometric means "
            "(Welch's t on log values over repeats); significance is decided after Holm's "
            f"correction across all {tested} tested ratios of this report, so an interval that "
            'excludes 1 can still be "not significant after Holm".'
        )
    hidden = [
        name
        for name in stats.PERCENTILES
        if any(
            (cell.get("summary", {}).get(f"{name}_ms") or {}).get("median") is not None
            and not stats.backed(cell, name)
            for cell in cells
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
