"""File descriptors: each open connection costs one in the server and one in locust.

RLIMIT_NOFILE limits each process on its own: the server process that holds a
connection needs a descriptor for it, and so does the locust process at the
other end, each beside what it opens anyway (listening socket, logs, Django's
and gevent's own files: ``MARGIN``). A run raises its soft limit to the hard
limit before it starts anything, and every server and locust it starts
inherits that. A cell that would need more than the hard limit is refused
before the run starts, in one line, instead of failing as "Too many open
files" minutes into the run.
"""

import resource
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bench.errors import UsageError
from bench.plan.matrix import Cell

MARGIN = 256  # descriptors a server or a locust process opens besides its connections


def limits() -> tuple[int, int | None]:
    """(soft, hard) RLIMIT_NOFILE of this process; None for an unlimited hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return soft, None if hard == resource.RLIM_INFINITY else hard


def _kernel_ceiling() -> int | None:
    # An "unlimited" hard limit still stops at fs.nr_open.
    try:
        return int(Path("/proc/sys/fs/nr_open").read_text())
    except (OSError, ValueError):
        return None


def raise_soft() -> dict[str, Any]:
    """Raise the soft limit to the hard one (children inherit it); what a run records."""
    before, hard = limits()
    target = hard if hard is not None else _kernel_ceiling()
    soft = before
    if target is not None and before < target:
        try:
            raw_hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, raw_hard))
            soft = target
        except (ValueError, OSError):
            pass  # kept as it was: check() judges cells by the hard limit anyway
    return {"soft": soft, "hard": hard, "soft_before": before, "margin": MARGIN}


def needed(users: int) -> int:
    """Descriptors the server, and separately locust, need to hold ``users`` connections."""
    return users + MARGIN


def check(cells: Iterable[Cell], hard: int | None = None) -> None:
    """Refuse, in one line, cells that need more descriptors than the hard limit."""
    if hard is None:
        hard = limits()[1]
    if hard is None:
        return
    cells = list(cells)
    if not cells:
        return
    largest = max(cells, key=lambda cell: cell.users)
    if needed(largest.users) > hard:
        raise UsageError(
            f"{largest.id} holds {largest.users} connections: the server and locust each need "
            f"about {needed(largest.users)} file descriptors, above this machine's hard limit "
            f"of {hard} (ulimit -Hn); raise the hard limit or give fewer --users"
        )
