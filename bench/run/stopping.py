"""When a run has measured enough: each verdict's paired interval narrow enough.

``--target-interval 5`` asks that every tested metric of every blocked
verdict (throughput, p99, CPU per request) have a 95% interval within +-5%
of its ratio. After the planned passes (``--repeats``, the minimum number of
pairs, fixed before the run starts) the run adds passes of the blocks whose
verdicts are still wider, and looks again each time their pairs have doubled,
until each meets the target or the time budget (``--budget``) would be
overrun by the next pass.

The rule looks at the interval's width only, never at its p-value or its
ratio: how wide an interval is does not depend on where the ratio falls, so
stopping on it does not pick the runs whose ratio looks the most decisive.
The coverage of the intervals it stops on is simulated in
``tools/pairing_simulation.py`` (README, "Paired blocks").
"""

import time
from dataclasses import dataclass, field

from bench.analyse import pairs as pairing
from bench.analyse import verdicts
from bench.analyse.stats import half_width
from bench.plan.matrix import Cell
from bench.results.records import CellDocument, PairProgress, RepeatRecord, StoppingRecord
from bench.serve import servers


def planned_pairs(cells: list[Cell]) -> list[tuple[Cell, Cell]]:
    """The pairs the verdicts will compare, from the servers' registry; a
    target the harness did not start (``--target``) has no interface and
    pairs with nothing."""
    interfaces = {
        name: servers.get(name).interface
        for name in {c.server for c in cells}
        if name in servers.SERVERS
    }
    return pairing.compared_pairs(cells, interfaces)


@dataclass
class PairWidth:
    """A blocked verdict's widest tested metric after the passes so far."""

    baseline: str
    candidate: str
    pairs: int
    widths: dict[str, float | None]  # metric -> half-width (fraction), None: not tested

    @property
    def widest(self) -> float | None:
        tested = [w for w in self.widths.values() if w is not None]
        return max(tested) if tested else None

    def met(self, target: float) -> bool:
        """Every tested metric within ``target``; a verdict with nothing tested
        (a failed configuration, too few samples) cannot get narrower by more
        pairs of the same kind, and counts as met so it does not spend the budget."""
        widest = self.widest
        return widest is None or widest <= target


def _document(cell: Cell, records: list[RepeatRecord]) -> CellDocument:
    ok = any(record.ok for record in records)
    return CellDocument(cell=cell, status="ok" if ok else "failed", repeats=list(records))


def widths(
    pairs: list[tuple[Cell, Cell]], repeats: dict[str, list[RepeatRecord]]
) -> list[PairWidth]:
    """Each pair's paired interval half-widths over the repeats recorded so far,
    computed by the verdicts themselves (``verdicts.pair``)."""
    found = []
    for baseline, candidate in pairs:
        a = _document(baseline, repeats.get(baseline.id, []))
        b = _document(candidate, repeats.get(candidate.id, []))
        row = verdicts.pair(b, a, "", {frozenset((a.id, b.id))})
        metrics = row.metrics or {}
        found.append(
            PairWidth(
                baseline=baseline.id,
                candidate=candidate.id,
                pairs=max((m.n_a for m in metrics.values()), default=0),
                widths={
                    name: half_width(m.ci_low, m.ci_high) if m.tested else None
                    for name, m in metrics.items()
                },
            )
        )
    return found


@dataclass
class Stopping:
    """The rule and the budget of one run, and what it decided as it went."""

    target: float  # half-width, as a fraction (0.05)
    budget_s: float | None
    started: float = field(default_factory=time.monotonic)
    extra_passes: int = 0
    stopped: str | None = None  # "met", "budget", "interrupted"

    def unmet_blocks(self, blocks: list[list[Cell]], found: list[PairWidth]) -> list[list[Cell]]:
        """The blocks holding a verdict still wider than the target."""
        wide = {p.baseline for p in found if not p.met(self.target)}
        wide |= {p.candidate for p in found if not p.met(self.target)}
        return [block for block in blocks if any(cell.id in wide for cell in block)]

    def batch(self, pairs: int) -> int:
        """Passes to add before the next look: as many as there are pairs, so
        each look doubles them (5, 10, 20, 40). Looking after every pass
        stops on the first run of lucky-narrow pairs; in simulation
        (tools/pairing_simulation.py) that covered the truth 92-94% of the
        time, looks at doubling counts 95%."""
        return max(pairs, 1)

    def affordable(self, cells: int, seconds_per_repeat: float) -> bool:
        """Whether a pass of ``cells`` repeats fits in what is left of the budget."""
        if self.budget_s is None:
            return True
        spent = time.monotonic() - self.started
        return spent + cells * seconds_per_repeat <= self.budget_s


def _pct(width: float | None) -> float | None:
    return None if width is None else round(width * 100, 3)


def record(rule: Stopping, minimum: int, found: list[PairWidth]) -> StoppingRecord:
    """run.json's ``stopping``: the rule, how it ended, each verdict's pairs."""
    return StoppingRecord(
        target_interval_pct=rule.target * 100,
        budget_s=rule.budget_s,
        minimum_pairs=minimum,
        extra_passes=rule.extra_passes,
        stopped=rule.stopped,
        seconds=round(time.monotonic() - rule.started, 1),
        verdicts=[
            PairProgress(
                baseline=p.baseline,
                candidate=p.candidate,
                pairs=p.pairs,
                half_width_pct={name: _pct(w) for name, w in p.widths.items()},
                met=p.met(rule.target),
            )
            for p in found
        ],
    )


def plan_line(rule: Stopping, pairs: int, minimum: int) -> str:
    """What the rule will do, printed with the run's plan."""
    budget = f"{rule.budget_s / 60:g} min" if rule.budget_s is not None else "no limit"
    return (
        f"stopping rule: {pairs} paired verdicts, at least {minimum} pairs each; then passes "
        f"of those wider than +-{rule.target * 100:g}% until each meets it, within a budget "
        f"of {budget} for the whole run"
    )


def describe(found: StoppingRecord) -> str:
    """'stopping rule: 3 of 4 verdicts within +-5% after 4 more passes (budget spent)'."""
    met = sum(v.met for v in found.verdicts)
    why = {"met": "every verdict met it", "budget": "the budget would be overrun",
           "interrupted": "interrupted"}.get(found.stopped or "", found.stopped or "")  # fmt: skip
    return (
        f"stopping rule: {met} of {len(found.verdicts)} paired verdicts within "
        f"+-{found.target_interval_pct:g}% after {found.extra_passes} more passes ({why})"
    )
