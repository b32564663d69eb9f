"""Reading the project's switch counters from its files, without a request.

With switch accounting on, every server process keeps its counters in a
memory-mapped file in the cell's accounting directory, described by
``layout.json``. Reading them directly takes microseconds and never waits:
an HTTP request to the server at the window's edges would queue behind the
load (seconds, under 200 users) and delay whatever the harness does next.
"""

import json
import struct
from pathlib import Path

LAYOUT_FILE = "layout.json"


def read_totals(directory: Path) -> dict[str, int] | None:
    """Every process's counters summed, or None when the server has written
    no layout yet (accounting off, or not started)."""
    try:
        layout = json.loads((directory / LAYOUT_FILE).read_text())
        fields = list(layout["fields"])
        suffix = str(layout["suffix"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    size = 8 * len(fields)
    totals = dict.fromkeys(fields, 0)
    for path in sorted(directory.glob(f"*{suffix}")):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if len(data) != size:
            continue
        for name, value in zip(fields, struct.unpack(f"{len(fields)}q", data), strict=True):
            totals[name] += value
    return totals
