"""Instructions beside CPU time: how much of a timed verdict's CPU ratio the
instruction count explains.

A timed run says ASGI + async costs x3.1 the CPU time per request of WSGI +
sync; a cost run says it executes x1.9 the instructions. The rest is time
the CPU spends that valgrind does not count: the kernel's side of every
hop (futex wake-ups, context switches, the scheduler) and the cold caches
after a thread hand-off. On a log scale the two ratios add up:
``log(cpu) = log(instructions) + log(the rest)``, so the share the
instructions explain is ``log(instructions) / log(cpu)``, and the rest is
``cpu / instructions`` per request. System calls per request (strace pass)
and every thread's context switches per request (timed run) are set beside
it as the kernel's side in counts.

Cells are matched by what they measure (scenario, endpoint, server, view
style, stack), not by load: the cost run has one client, the timed run many.
"""

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bench.plan.matrix import Cell

if TYPE_CHECKING:
    from bench.cost.records import CostCell, CostDocument
    from bench.report.contents import Report
    from bench.results.rows import VerdictRow


@dataclass(frozen=True)
class BesideRow:
    """One timed verdict with the cost run's counts for its two cells."""

    question: str
    candidate: str  # the timed run's cell ids
    baseline: str
    cpu_ratio: float
    cpu_low: float | None
    cpu_high: float | None
    instructions_ratio: float
    syscalls_ratio: float | None  # None: a cell without a strace pass
    # every thread's context switches per request, candidate / baseline, from
    # the timed run (None: a run from before they were counted)
    ctx_ratio: float | None = None

    @property
    def explained_share(self) -> float | None:
        """The part of the CPU ratio the instructions account for, on a log
        scale; None when the CPU ratio is 1 (nothing to explain)."""
        if self.cpu_ratio <= 0 or self.instructions_ratio <= 0 or self.cpu_ratio == 1:
            return None
        if self.opposite:
            return None
        return math.log(self.instructions_ratio) / math.log(self.cpu_ratio)

    @property
    def opposite(self) -> bool:
        """The instructions moved the other way from the CPU time (fewer
        instructions, more CPU): no share of it to explain."""
        return (self.instructions_ratio - 1) * (self.cpu_ratio - 1) < 0

    @property
    def rest_ratio(self) -> float:
        """CPU time per instruction, candidate over baseline: what the kernel
        and the caches add on top of the instructions."""
        return self.cpu_ratio / self.instructions_ratio


def _key(cell: Cell) -> tuple[str, str, str, str, str, str]:
    return (cell.scenario, cell.endpoint, cell.server, cell.style, cell.stack, cell.db_mode)


def _cost_cells(document: "CostDocument") -> dict[tuple, "CostCell"]:
    return {
        _key(cost.cell): cost
        for cost in document.cells
        if cost.cell is not None and cost.instructions_per_request
    }


def _ctx_ratio(row: "VerdictRow") -> float | None:
    metric = (row.kernel or {}).get("ctx switches/request")
    return metric.ratio if metric is not None else None


def rows(report: "Report", document: "CostDocument") -> list[BesideRow]:
    """Every closed-loop verdict of the timed run's ``report`` whose two
    cells the cost run measured, with the CPU/request ratio it found."""
    from bench.report import contents

    timed = {cell.id: cell.cell for cell in contents.ordered_cells(report.run)}
    counted = _cost_cells(document)
    found = []
    for verdict_rows in report.verdicts.values():
        for row in verdict_rows:
            metric = row.metrics.get("CPU/request")
            if metric is None or metric.ratio is None or row.failed:
                continue
            candidate, baseline = timed[row.candidate], timed[row.baseline]
            if candidate.rate or baseline.rate:
                continue  # an open-loop cell's CPU is at a rate, not at saturation
            cost_a, cost_b = counted.get(_key(baseline)), counted.get(_key(candidate))
            if cost_a is None or cost_b is None:
                continue
            assert cost_a.instructions_per_request and cost_b.instructions_per_request
            syscalls = None
            if cost_a.syscalls and cost_b.syscalls and cost_a.syscalls.per_request > 0:
                syscalls = cost_b.syscalls.per_request / cost_a.syscalls.per_request
            found.append(
                BesideRow(
                    question=f"{candidate.scenario}: {row.question}",
                    candidate=row.candidate,
                    baseline=row.baseline,
                    cpu_ratio=metric.ratio,
                    cpu_low=metric.ci_low,
                    cpu_high=metric.ci_high,
                    instructions_ratio=cost_b.instructions_per_request
                    / cost_a.instructions_per_request,
                    syscalls_ratio=syscalls,
                    ctx_ratio=_ctx_ratio(row),
                )
            )
    return found
