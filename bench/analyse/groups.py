"""Cells grouped by what they share: the one grouping every verdict, fit and chart uses.

A verdict pairs the cells of a scenario that differ only in server and view
style; a sweep's line is the cells that differ only in their load; a held
connection's configuration is the cells that differ only in users. Each is a
grouping by some fields of the cells' identity (``bench.plan.matrix.Cell``).
"""

from collections.abc import Iterable
from dataclasses import MISSING, fields
from typing import Any

from bench.plan.matrix import Cell

# What an identity written before a field existed means by its absence.
DEFAULTS = {field.name: field.default for field in fields(Cell) if field.default is not MISSING}


def key(cell: dict[str, Any], names: tuple[str, ...]) -> tuple:
    """The values of the fields ``names`` in a cell's identity (a missing db_mode
    or rate is Cell's default: no database, closed loop)."""
    identity = cell["cell"]
    return tuple(
        identity.get(name, DEFAULTS[name]) if name in DEFAULTS else identity[name] for name in names
    )


def by_identity(
    cells: Iterable[dict[str, Any]], names: tuple[str, ...]
) -> dict[tuple, list[dict[str, Any]]]:
    """Cells grouped by the values of the fields ``names`` of their identity,
    groups and cells in the order they first appear."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for cell in cells:
        groups.setdefault(key(cell, names), []).append(cell)
    return groups
