"""Cells grouped by what they share: the one grouping every verdict, fit and chart uses.

A verdict pairs the cells of a scenario that differ only in server and view
style; a sweep's line is the cells that differ only in their load; a held
connection's configuration is the cells that differ only in users. Each is a
grouping by some fields of the cells' identity (``bench.plan.matrix.Cell``).
"""

from collections.abc import Iterable
from typing import Any

from bench.results.records import CellDocument, RepeatRecord


def documents(cells: Iterable[CellDocument | dict[str, Any]]) -> list[CellDocument]:
    """Cells as typed documents, a cell still held as its JSON read into one."""
    return [
        cell if isinstance(cell, CellDocument) else CellDocument.from_json(cell) for cell in cells
    ]


def repeat_values(cell: CellDocument, keys: tuple[str, ...]) -> list[float]:
    """One figure (``keys``: its path in a repeat's JSON, ("latency_ms", "p99"))
    of every successful repeat of a cell, missing values skipped."""
    values = [figure(repeat, keys) for repeat in cell.ok_repeats]
    return [float(value) for value in values if value is not None]


def figure(repeat: RepeatRecord, keys: tuple[str, ...]) -> Any:
    """The figure at ``keys`` in a repeat, or None where a level is missing."""
    value: Any = repeat
    for key in keys:
        value = getattr(value, key, None)
    return value


def paired_values(
    a: CellDocument, b: CellDocument, keys: tuple[str, ...]
) -> list[tuple[float, float]]:
    """(a's figure, b's figure) of every repeat number both cells measured
    successfully: in a blocked run, repeat i of each ran back to back."""
    of_b = {r.repeat: figure(r, keys) for r in b.ok_repeats if r.repeat is not None}
    found = []
    for repeat in a.ok_repeats:
        value_a, value_b = figure(repeat, keys), of_b.get(repeat.repeat)
        if value_a is not None and value_b is not None:
            found.append((float(value_a), float(value_b)))
    return found


def key(cell: CellDocument, names: tuple[str, ...]) -> tuple:
    """The values of the fields ``names`` of a cell's identity."""
    return tuple(getattr(cell.cell, name) for name in names)


def by_identity(
    cells: Iterable[CellDocument], names: tuple[str, ...]
) -> dict[tuple, list[CellDocument]]:
    """Cells grouped by the values of the fields ``names`` of their identity,
    groups and cells in the order they first appear."""
    groups: dict[tuple, list[CellDocument]] = {}
    for cell in cells:
        groups.setdefault(key(cell, names), []).append(cell)
    return groups
