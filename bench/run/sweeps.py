"""The open-loop searches of a run: which rate each sweep measures next, pass by pass.

Each sweep (a cell with its rate left open) searches its grid of rates for the
knee, the highest rate it sustains within the objective; a pass's search
starts from the bracket the pass before it found.
"""

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from bench.analyse import search, sustained
from bench.load import schedule
from bench.plan import matrix
from bench.results import store as results
from bench.results.records import RepeatRecord
from bench.run.cells import sweep_grids


class Sweeps:
    """The open-loop searches of a run: each sweep's grid, the searches of the
    current pass, and the bracket each pass hands to the next as its hint.

    A sweep's grid cells are slots in a pass's shuffled order: at each slot the
    sweep measures the next rate its search asks for, so the sweeps' trials
    stay interleaved with the other cells (and with each other) as the grid
    cells were; trials beyond the slots run at the pass's end, one sweep at a
    time in turn.
    """

    def __init__(self, grid: dict[tuple, list[int]], template: dict[tuple, matrix.Cell],
                 fixed_pool: dict[tuple, bool], slo_ms: float) -> None:  # fmt: skip
        self.grid, self.template, self.fixed_pool = grid, template, fixed_pool
        self.slo_ms = slo_ms
        self.hints: dict[tuple, tuple[int, int | None]] = {}
        self.current: dict[tuple, search.Search] = {}
        self.known: dict[str, matrix.Cell] = {}
        self.passes = 0  # passes that searched: a sweep runs in --sweep-repeats passes only

    @classmethod
    def of(cls, cells: list[matrix.Cell], slo_ms: float) -> "Sweeps":
        template: dict[tuple, matrix.Cell] = {}
        fixed: dict[tuple, bool] = {}
        for cell in cells:
            if cell.rate:
                template.setdefault(cell.sweep_key, cell)
                # --users with --rate fixes the pool; otherwise it follows the rate
                fixed[cell.sweep_key] = fixed.get(cell.sweep_key, False) or (
                    cell.users != schedule.pool_size(cell.rate)
                )
        sweeps = cls(sweep_grids(cells), template, fixed, slo_ms)
        for key, grid in sweeps.grid.items():
            for rate in grid:  # every grid cell gets its document, measured or not
                sweeps.cell_at(key, rate)
        return sweeps

    def begin_pass(self, order: list[matrix.Cell]) -> None:
        """Start the searches of the sweeps that have slots in this pass's order
        (a pass beyond --sweep-repeats has none: it measures closed-loop cells only)."""
        keys = {cell.sweep_key for cell in order if cell.rate}
        self.current = {
            key: search.Search(grid, hint=self.hints.get(key))
            for key, grid in self.grid.items()
            if key in keys
        }
        self.passes += bool(self.current)

    def cell_at(self, key: tuple, rate: int) -> matrix.Cell:
        template = self.template[key]
        users = template.users if self.fixed_pool[key] else schedule.pool_size(rate)
        cell = replace(template, rate=rate, users=users)
        self.known.setdefault(cell.id, cell)
        return cell

    def next_cell(self, key: tuple) -> matrix.Cell | None:
        rate = self.current[key].next_rate()
        return None if rate is None else self.cell_at(key, rate)

    def slots(self, order: list[matrix.Cell]) -> Iterator[matrix.Cell]:
        """The pass's cells to measure, each sweep's next trial at its slots;
        lazy, so each trial is chosen after the one before it was recorded."""
        for cell in order:
            if not cell.rate:
                yield cell
            elif (trial := self.next_cell(cell.sweep_key)) is not None:
                yield trial
        while unfinished := [key for key, found in self.current.items() if not found.done]:
            for key in unfinished:
                if (trial := self.next_cell(key)) is not None:
                    yield trial

    def record(self, cell: matrix.Cell, record: RepeatRecord) -> None:
        outcome = sustained.outcome(record, self.slo_ms)
        self.current[cell.sweep_key].record(cell.rate, outcome)

    def end_pass(self) -> list[dict[str, Any]]:
        """Each search's bracket (kept in run.json); each becomes the next pass's hint."""
        found = []
        for key, result in self.current.items():
            self.hints[key] = (result.lower, result.upper)
            found.append({"sweep": self.template[key].id, **result.result()})
        return found

    def untried(
        self, repeats: dict[str, list[RepeatRecord]]
    ) -> Iterator[tuple[matrix.Cell, RepeatRecord]]:
        """A skipped record for every open-loop cell in each pass searched so far
        that did not measure it, so every such cell holds one record per
        searching pass and says which passes measured it."""
        for cell_id, cell in self.known.items():
            done = {r.repeat for r in repeats.get(cell_id, [])}
            for index in range(1, self.passes + 1):
                if index not in done:
                    yield cell, skipped_repeat(index)


def skipped_repeat(index: int) -> RepeatRecord:
    """A rate the search of pass ``index`` did not need: its bracket was found
    without it."""
    record = RepeatRecord.failed(
        f"not measured in pass {index}: its search bracketed the knee without this rate",
        status="skipped",
        started_at=results.utc_now(),
        raw_dir=None,
    )
    record.repeat = index
    return record
