"""Which cells a run measures back to back: the pairs its verdicts will compare.

On this machine the same cell moves 20-45% within an hour, but two cells
measured one after the other see much the same host. So the cells a verdict
compares (the migration question, ASGI + async against WSGI + sync, and the
rewrite question, async against sync views on one ASGI server) are planned
as a block: inside every pass the block's cells run adjacently, in a random
order, and the verdict divides repeat i of one by repeat i of the other
(``stats.compare_paired``). Blocks are known before any server starts, from
the cells alone, by the same choice of servers the verdicts make
(``verdicts.preferred``); a verdict whose two cells were not blocked (a
baseline endpoint's comparison, or a preferred server that failed so another
answered) keeps the unpaired interval and says so.

Open-loop cells are not blocked: their sweeps search a rate per pass, and
their headline compares the rates found, not two windows.
"""

from collections import defaultdict
from collections.abc import Iterable

from bench.analyse.verdicts import ASGI_PREFERENCE, PAIRED_BY, WSGI_PREFERENCE, preferred
from bench.plan.matrix import Cell
from bench.plan.scenarios import OWN


def _pick(group: list[Cell], interface: str, style: str, interfaces: dict[str, str],
          preference: tuple[str, ...]) -> Cell | None:  # fmt: skip
    matching = [c for c in group if interfaces.get(c.server) == interface and c.style == style]
    return preferred(matching, lambda c: c.server, preference)


def compared_pairs(cells: Iterable[Cell], interfaces: dict[str, str]) -> list[tuple[Cell, Cell]]:
    """(baseline, candidate) of each question the verdicts ask of these
    closed-loop cells, assuming every cell serves."""
    groups: dict[tuple, list[Cell]] = defaultdict(list)
    for cell in cells:
        if not cell.rate:
            groups[(cell.scenario, *(getattr(cell, name) for name in PAIRED_BY))].append(cell)
    found: list[tuple[Cell, Cell]] = []
    for group in groups.values():
        for style_a, style_b in ((OWN, OWN), ("sync", "async")):
            wsgi = _pick(group, "wsgi", style_a, interfaces, WSGI_PREFERENCE)
            asgi = _pick(group, "asgi", style_b, interfaces, ASGI_PREFERENCE)
            if wsgi and asgi:
                found.append((wsgi, asgi))
        asgi_async = _pick(group, "asgi", "async", interfaces, ASGI_PREFERENCE)
        if asgi_async:
            same = [c for c in group if c.server == asgi_async.server and c.style == "sync"]
            if same:
                found.append((same[0], asgi_async))
    return found


def blocks(cells: list[Cell], pairs: list[tuple[Cell, Cell]]) -> list[list[Cell]]:
    """The cells joined by pairs (directly or through a shared cell) as blocks,
    in the cells' order; a cell no verdict compares is a block of its own.
    A group's three compared cells (WSGI sync, ASGI sync, ASGI async) are one
    block of three: each of its two pairs is at most two windows apart."""
    parent = {cell.id: cell.id for cell in cells}

    def root(cell_id: str) -> str:
        while parent[cell_id] != cell_id:
            parent[cell_id] = parent[parent[cell_id]]
            cell_id = parent[cell_id]
        return cell_id

    for a, b in pairs:
        if a.id in parent and b.id in parent:
            parent[root(a.id)] = root(b.id)
    grouped: dict[str, list[Cell]] = {}
    for cell in cells:
        grouped.setdefault(root(cell.id), []).append(cell)
    return list(grouped.values())


def blocked_ids(recorded: Iterable[Iterable[str]]) -> set[frozenset[str]]:
    """The pairs of cell ids run.json says were measured in one block."""
    found: set[frozenset[str]] = set()
    for block in recorded:
        ids = list(block)
        found.update(frozenset((a, b)) for i, a in enumerate(ids) for b in ids[i + 1 :])
    return found
