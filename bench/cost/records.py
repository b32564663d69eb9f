"""The typed records of a cost run, as they reach ``cost.json``.

A cost run's document is its own kind (``kind: "cost"``), beside the timed
runs' ``run.json``: the figures are counts, not samples, and nothing of the
timed pipeline (verdicts, reports) reads them. Every record is a
``bench.results.records.Record``, so a document read back writes back key
for key.
"""

from dataclasses import dataclass, field
from typing import Any

from bench.plan.matrix import Cell
from bench.results.records.base import Json, Record

COST_SCHEMA_VERSION = 1
COST_FILE = "cost.json"
CELL_STATUSES = ("pending", "ok", "failed")
# Repeats of a cell agree when each is within this fraction of their median.
AGREEMENT = 0.005


@dataclass
class ProcessRecord(Record):
    """One process of a server's tree and the instructions it executed, start to exit."""

    pid: int = 0
    command: str = ""
    instructions: int = 0


@dataclass
class ServerRun(Record):
    """One server started under valgrind, sent ``requests`` after its first, stopped."""

    requests: int = 0
    instructions: int = 0  # summed over the processes
    processes: list[ProcessRecord] = field(default_factory=list)
    seconds: float = 0.0  # wall time of the requests alone (valgrind's speed, for the record)
    raw: str = ""  # its directory, relative to the run's
    # Seconds the run waited idle after its requests, to last as long as the
    # repeat's other run (the clock's work then cancels); None in older runs.
    idle_seconds: float | None = None
    # The last control request had to be sent again on a new connection.
    control_retried: bool = False
    # The garbage collector's collections per generation (0, 1, 2) during the
    # counted requests; None in runs from before the window wrapper.
    collections: list[int] | None = None


@dataclass
class CostRepeat(Record):
    """One measurement of a cell: two server runs differenced."""

    index: int = 0
    low: ServerRun | None = None
    high: ServerRun | None = None
    instructions_per_request: float = 0.0
    # What the server spent apart from the counted requests (start-up, the first
    # request, shutdown): the intercept of the two runs' line.
    fixed_instructions: float = 0.0
    # Why the two runs' difference may hold more than requests (full collections).
    notes: list[str] = field(default_factory=list)


@dataclass
class HopCount(Record):
    """Switches per request, counted by the project's switch accounting in a
    run without valgrind (the accounting's own work would be counted too)."""

    requests: int = 0
    sync_to_async: int = 0
    async_to_sync: int = 0

    @property
    def per_request(self) -> float:
        return (self.sync_to_async + self.async_to_sync) / self.requests if self.requests else 0.0


@dataclass
class SyscallRate(Record):
    """One system call's calls (and failed calls) per request."""

    name: str = ""
    calls: float = 0.0
    errors: float = 0.0


@dataclass
class SyscallCount(Record):
    """System calls per request by kind, from ``strace -c`` over two windows
    of one server run without valgrind, differenced (``bench.cost.syscalls``)."""

    low_requests: int = 0
    high_requests: int = 0
    rates: list[SyscallRate] = field(default_factory=list)  # most calls first

    @property
    def per_request(self) -> float:
        return sum(rate.calls for rate in self.rates)


@dataclass
class CostCell(Record):
    """A cell's cost: its repeats, its hops, and what went wrong if anything did."""

    cell: Cell | None = None
    path: str = ""
    server: Json = field(default_factory=dict)
    status: str = "pending"
    repeats: list[CostRepeat] = field(default_factory=list)
    hops: HopCount | None = None
    error: str | None = None
    syscalls: SyscallCount | None = None
    # The release the cell's server ran ("django 5.2.19, asgiref 3.11.0"), and
    # what its environment had installed; None: the harness's own environment.
    release: str | None = None
    versions: dict[str, str] | None = None

    @property
    def label(self) -> str:
        """The cell by name: its id, and its release when the run has several."""
        cell_id = self.cell.id if self.cell else "?"
        return f"{cell_id} [{self.release}]" if self.release else cell_id

    def values(self) -> list[float]:
        """Instructions per request of every finished repeat."""
        return [repeat.instructions_per_request for repeat in self.repeats]

    @property
    def instructions_per_request(self) -> float | None:
        """The median of the repeats (one repeat out of line does not move it);
        None before the first."""
        values = sorted(self.values())
        if not values:
            return None
        middle = len(values) // 2
        return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2

    def disagreeing(self) -> list[CostRepeat]:
        """The repeats more than ``AGREEMENT`` from the median: each a count that
        held something other than requests (its notes may say what)."""
        median = self.instructions_per_request
        if median is None or len(self.repeats) < 2:
            return []
        return [
            repeat
            for repeat in self.repeats
            if abs(repeat.instructions_per_request - median) > AGREEMENT * abs(median)
        ]

    @property
    def spread_percent(self) -> float | None:
        """(max - min) / mean of the repeats, in percent; None with fewer than two."""
        values = self.values()
        if len(values) < 2:
            return None
        mean = sum(values) / len(values)
        return 100.0 * (max(values) - min(values)) / mean if mean else None


@dataclass
class ValgrindRecord(Record):
    """How the instructions were counted."""

    version: str = ""
    tool: str = ""
    options: list[str] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)


@dataclass
class CostSettingsRecord(Record):
    """The request counts differenced, the repeats, where the server ran."""

    low_requests: int = 0
    high_requests: int = 0
    repeats: int = 0
    hop_requests: int = 0
    # The two strace windows (None: --no-syscalls, or a run from before them).
    syscall_requests: list[int] | None = None
    server_cpus: list[int] | None = None
    workers: int = 1
    threads: int = 4


@dataclass
class CostDocument(Record):
    """``cost.json``: a whole cost run."""

    schema_version: int = COST_SCHEMA_VERSION
    kind: str = "cost"
    created: str = ""
    finished: str | None = None
    status: str = "running"
    command: list[str] = field(default_factory=list)
    settings: CostSettingsRecord | None = None
    valgrind: ValgrindRecord | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    cells: list[CostCell] = field(default_factory=list)
