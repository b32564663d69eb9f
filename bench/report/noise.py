"""The caveats that recur cell after cell, said once each with their range.

A shared host makes most cells' repeats disagree by a few percent and steals
some of the load generator's CPU in many; an open-loop search measures some
rates in only some passes. Said per cell, these bury the caveats that matter
(a failed or load-generator-bound cell), so the report's caveats say each kind
once, with its range over the cells, and keep every cell's line in its lower
sections (``bench.report.caveats.cell_details``).
"""

from collections import Counter

from bench.results.records import CellDocument

NOISE_LIMIT_PCT = 5.0
# The kinds of a cell's note (bench.report.caveats.cell_notes) said once per run.
GROUPED = frozenset({"noise", "steal", "loadgen", "unsteady", "passes", "skipped"})
SPREADS = (("throughput_rps", "throughput"), ("cpu_ms_per_request", "CPU per request"))


def note_kind(note: str) -> str:
    """The kind of a note of the load generator's guard: its steal figure is
    grouped by range, its other notes by their text."""
    return "steal" if "stolen" in note else "loadgen"


def percent_range(values: list[float]) -> str:
    """'3-41%', or '41%' when the range is one value at this precision."""
    low, high = f"{min(values):.0f}", f"{max(values):.0f}"
    return f"{high}%" if low == high else f"{low}-{high}%"


def spread_line(cells: list[CellDocument]) -> str | None:
    """How much repeats disagree, per metric, over every cell with two repeats
    or more; None when no cell's repeats disagree by more than the limit."""
    parts = []
    for metric, words in SPREADS:
        spreads = [
            spread.spread_pct
            for cell in cells
            if (spread := cell.spread(metric)) is not None
            and spread.n >= 2
            and spread.spread_pct is not None
        ]
        noisy = sum(value > NOISE_LIMIT_PCT for value in spreads)
        if noisy:
            parts.append(
                f"{words} varies {percent_range(spreads)} between repeats across "
                f"{len(spreads)} cells (above {NOISE_LIMIT_PCT:.0f}% in {noisy})"
            )
    if not parts:
        return None
    return "Repeats disagree: " + "; ".join(parts) + "."


def steal_line(cells: list[CellDocument], flagged: set[str]) -> str | None:
    """The load generator's stolen CPU over the cells whose guard noted it."""
    stolen = [
        max(
            repeat.loadgen.cores.steal_percent
            for repeat in cell.ok_repeats
            if repeat.loadgen is not None and repeat.loadgen.cores is not None
        )
        for cell in cells
        if cell.id in flagged
        and any(r.loadgen is not None and r.loadgen.cores is not None for r in cell.ok_repeats)
    ]
    if not stolen:
        return None
    return (
        f"The load generator's CPU had {percent_range(stolen)} of its time stolen by the "
        f"host in {len(stolen)} cells (at most, over their repeats): a shared machine, "
        "whose other tenants also widen the spread between repeats."
    )


def grouped(cells: list[CellDocument], notes: dict[str, list[tuple[str, str]]]) -> list[str]:
    """One line per kind in ``GROUPED`` that some cell has (``notes``: each cell's
    (kind, text) notes by cell id), with the range or count over the cells."""

    def having(kind: str) -> set[str]:
        return {cell_id for cell_id, found in notes.items() if any(k == kind for k, _ in found)}

    steal, unsteady = having("steal"), having("unsteady")
    passes, skipped = having("passes"), having("skipped")
    lines = [spread_line(cells), steal_line(cells, steal)]
    if unsteady:
        lines.append(
            f"Throughput in the window's last third differed from its first by more than "
            f"10% in some repeats of {len(unsteady)} cells: not steady."
        )
    if passes or skipped:
        lines.append(
            f"The open-loop searches measured {len(passes)} cells in only some "
            f"of their passes (figures from fewer repeats) and left {len(skipped)} "
            "unmeasured (rates no pass needed)."
        )
    guard = Counter(
        text.split(": ", 1)[1].rstrip(".")
        for found in notes.values()
        for kind, text in found
        if kind == "loadgen"
    )
    lines += [
        f'The load generator\'s guard noted "{text}" in {count} cells.'
        for text, count in sorted(guard.items())
    ]
    details = [line for line in lines if line]
    if details:
        details.append("Each cell's own notes are listed under Cell notes, below its table.")
    return details
