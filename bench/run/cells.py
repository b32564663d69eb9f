"""Which cells a run measures, how many repeats each, in what order, for how long.

Decided before any process starts: the scenarios and cells of the options
(``plan_cells``, also what ``--dry-run`` prints), the repeats of each cell,
each pass's shuffled order, the connection modes the load generator is
calibrated for, and the run's expected length.
"""

import math
import random
from dataclasses import replace

from bench.analyse import search
from bench.errors import UsageError
from bench.load import schedule
from bench.plan import fdlimit, matrix, scenarios
from bench.run.options import RunOptions
from bench.serve import launch, servers
from bench.site import project as site

OVERHEAD_ESTIMATE_S = 2.0  # server and locust start, drain, stop: measured about 1.5 s here


def plan_cells(options: RunOptions) -> tuple[list[scenarios.Scenario], matrix.Expansion]:
    """The scenarios and cells a run would measure (also used by --dry-run and tests)."""
    if options.site is not None:
        chosen = [site.scenario(options.site)]
    else:
        chosen = scenarios.select(scenarios.discover(), options.scenario_names)
    expansion = matrix.expand(chosen, options.selection, options.application)
    if options.application.external:
        expansion.cells = matrix.external(expansion.cells)
    if not expansion.cells:
        detail = "; ".join(expansion.notes) or "the selection matches nothing"
        raise UsageError(f"no cells to run: {detail}")
    fdlimit.check(expansion.cells)
    return chosen, expansion


def estimate_seconds(options: RunOptions, cells: list[matrix.Cell]) -> float:
    """The run's expected length: closed-loop repeats as planned, and for each
    open-loop sweep the trials its searches are expected to take, each with a
    window long enough to back its p99 (at the grid's geometric middle rate)."""
    per_repeat = options.warmup + options.duration + OVERHEAD_ESTIMATE_S
    open_loop = any(cell.rate for cell in cells)
    calibrations = len(connection_modes(cells, options)) + open_loop if options.calibrate else 0
    calibration = calibrations * (options.calibration_duration + 1 + OVERHEAD_ESTIMATE_S)
    # Scenarios that hold connections open warm up longer at high user counts.
    declared = scenarios.discover() if options.site is None else {}
    longer = sum(
        planned_repeats(cell, options)
        * (declared[cell.scenario].warmup_for(cell.users, options.warmup) - options.warmup)
        for cell in cells
        if cell.scenario in declared and not cell.rate
    )
    closed = sum(planned_repeats(cell, options) for cell in cells if not cell.rate) * per_repeat
    return closed + sweep_seconds(options, cells) + calibration + longer


def sweep_seconds(options: RunOptions, cells: list[matrix.Cell]) -> float:
    """The expected seconds of the open-loop searches (see ``estimate_seconds``)."""
    total = 0.0
    for grid in sweep_grids(cells).values():
        middle = math.exp(sum(math.log(rate) for rate in grid) / len(grid))
        window = schedule.window_for(middle, options.duration)
        trials = search.expected_trials(grid, options.sweep_repeats)
        total += trials * (options.warmup + window + OVERHEAD_ESTIMATE_S)
    return total


def sweep_grids(cells: list[matrix.Cell]) -> dict[tuple, list[int]]:
    """Each open-loop sweep's grid of rates, ascending."""
    grids: dict[tuple, list[int]] = {}
    for cell in cells:
        if cell.rate:
            grids.setdefault(cell.sweep_key, []).append(cell.rate)
    return {key: sorted(rates) for key, rates in grids.items()}


def cell_server_options(
    cell: matrix.Cell, scenario: scenarios.Scenario, options: servers.ServerOptions
) -> servers.ServerOptions | None:
    """A cell's own server options, None for the run's: a thread per held
    connection, or room in the server's connection limit for an open-loop pool."""
    if scenario.threads_per_user:
        return servers.thread_per_connection(options, cell.users)
    if cell.rate:
        roomier = servers.room_for(options, cell.users)
        return roomier if roomier != options else None
    return None


def repeat_plan(options: RunOptions, cells: list[matrix.Cell]) -> str:
    """'9 repeats each' or '9 repeats (3 for the 18 open-loop cells)'."""
    swept = sum(1 for cell in cells if cell.rate)
    if not swept or options.sweep_repeats == options.repeats:
        return f"{options.repeats} repeat{'s' if options.repeats > 1 else ''} each"
    return f"{options.repeats} repeats ({options.sweep_repeats} for the {swept} open-loop cells)"


def planned_repeats(cell: matrix.Cell, options: RunOptions) -> int:
    """Repeats of a cell: ``--repeats``, or ``--sweep-repeats`` for an open-loop
    cell (a sweep has many cells; its headline needs passes, not long ones)."""
    return options.sweep_repeats if cell.rate else options.repeats


def shuffled_passes(
    cells: list[matrix.Cell],
    options: RunOptions,
    seed: int,
    blocks: list[list[matrix.Cell]] | None = None,
) -> list[list[matrix.Cell]]:
    """Each pass holds every cell that still has a repeat to run, in its own
    random order; the cells of a block (``bench.analyse.pairs``) adjacent.

    Randomized multiple interleaved trials (Abedi and Brecht, ICPE 2017): on a
    shared machine, drift inside a pass would otherwise fall on the same cells
    every time and become a fixed offset between them. The cells a verdict
    compares run back to back, in a fresh random order each pass (AB or BA),
    so that the pair shares the host's state (Laaber et al., 2019). The seed
    is recorded, so the order can be replayed with ``--seed``.
    """
    rng = random.Random(seed)
    passes = []
    for index in range(max(options.repeats, options.sweep_repeats)):
        due = [cell for cell in cells if index < planned_repeats(cell, options)]
        passes.append(blocked_order(due, blocks or [[cell] for cell in cells], rng))
    return passes


def blocked_order(
    due: list[matrix.Cell], blocks: list[list[matrix.Cell]], rng: random.Random
) -> list[matrix.Cell]:
    """``due`` in a random order of blocks, each block's due cells shuffled
    within it and kept together; a due cell in no block stands alone."""
    wanted = {cell.id for cell in due}
    units = [[cell for cell in block if cell.id in wanted] for block in blocks]
    placed = {cell.id for unit in units for cell in unit}
    units = [unit for unit in units if unit] + [[c] for c in due if c.id not in placed]
    rng.shuffle(units)
    for unit in units:
        rng.shuffle(unit)
    return [cell for unit in units for cell in unit]


def connection_room_notes(
    cells: list[matrix.Cell],
    by_name: dict[str, scenarios.Scenario],
    options: servers.ServerOptions,
) -> list[str]:
    """What the run changed in servers' connection limits for open-loop pools."""
    notes = []
    for key, grid in sweep_grids(cells).items():
        cell = next(c for c in cells if c.rate and c.sweep_key == key)
        if by_name[cell.scenario].threads_per_user:
            continue
        top = replace(cell, rate=grid[-1], users=max(c.users for c in cells if c.sweep_key == key))
        roomier = cell_server_options(top, by_name[cell.scenario], options)
        settings = servers.get(cell.server).settings(roomier) if roomier else {}
        if roomier is not None and "worker_connections" in settings:
            notes.append(
                f"{top.id}: the server's worker_connections raised to "
                f"{roomier.worker_connections} for a pool of up to {top.users} users "
                f"(gunicorn's default {servers.DEFAULT_WORKER_CONNECTIONS} would fill)"
            )
    return notes


def connection_modes(cells: list[matrix.Cell], options: RunOptions) -> list[tuple[int, bool]]:
    """The (users, keep-alive) pairs the cells load with: each needs its own ceiling."""
    modes = set()
    for cell in cells:
        if cell.rate:
            continue  # open loop: checked by calibrate.schedule_check instead
        modes.add((cell.users, launch.served(cell.server, options.application).keep_alive))
    return sorted(modes)
