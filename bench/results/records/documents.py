"""The documents of a run: each cell's file, run.json, and the ceilings inside it."""

import statistics
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from bench.plan.matrix import Cell
from bench.results.records.base import Json, Record
from bench.results.records.repeat import RepeatRecord

# Metrics summarised over repeats: (name in a repeat, path of keys).
SUMMARY_METRICS: dict[str, tuple[str, ...]] = {
    "throughput_rps": ("throughput_rps",),
    "cpu_ms_per_request": ("server", "cpu_ms_per_request"),
    "server_cpu_percent": ("server", "cpu_percent"),
    "p50_ms": ("latency_ms", "p50"),
    "p90_ms": ("latency_ms", "p90"),
    "p99_ms": ("latency_ms", "p99"),
    "p99_9_ms": ("latency_ms", "p99_9"),
    "max_ms": ("latency_ms", "max"),
    "rss_peak_mb": ("server", "rss_peak_mb"),
    "pss_peak_mb": ("server", "pss_peak_mb"),
    "uss_peak_mb": ("server", "uss_peak_mb"),
    "threads_peak": ("server", "threads_peak"),
    "loadgen_cpu_percent": ("loadgen", "cpu_percent"),
    "error_rate": ("error_rate",),
    "sync_to_async_per_request": ("switches", "sync_to_async_per_request"),
    "async_to_sync_per_request": ("switches", "async_to_sync_per_request"),
    "db_connections_peak": ("db", "connections_peak"),
    "db_cpu_ms_per_request": ("db", "cpu_ms_per_request"),
}
# Figures a cell's summary does not keep (they came after the committed runs,
# whose summaries stay as written): their medians are taken from the repeats.
REPEAT_FIGURES: dict[str, tuple[str, ...]] = {
    "ctx_per_request": ("server", "sched", "ctx_per_request"),
    "ctx_voluntary_per_request": ("server", "sched", "voluntary_per_request"),
    "ctx_involuntary_per_request": ("server", "sched", "involuntary_per_request"),
    "migrations_per_request": ("server", "sched", "migrations_per_request"),
    "threads_cpu_share": ("server", "sched", "threads_cpu_share"),
    "system_cpu_share": ("server", "sched", "system_cpu_share"),
}


@dataclass
class Spread(Record):
    """The median and spread of one metric over a cell's successful repeats."""

    n: int = 0
    median: float | None = None
    mean: float | None = None
    min: float | None = None
    max: float | None = None
    stdev: float | None = None
    spread_pct: float | None = None
    rsd_pct: float | None = None


@dataclass
class CellDocument(Record):
    """``cells/<cell id>.json``: a cell's identity, every repeat, their summary."""

    schema_version: int = 1
    cell: Cell | None = None
    status: str = "ok"
    planned_repeats: int = 0
    loadgen_bound: bool = False
    loadgen_bound_repeats: list[int] = field(default_factory=list)
    repeats: list[RepeatRecord] = field(default_factory=list)
    summary: dict[str, Spread] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.cell.id if self.cell is not None else ""

    @property
    def ok_repeats(self) -> list[RepeatRecord]:
        """The repeats that measured (the only ones any figure is taken from)."""
        return [repeat for repeat in self.repeats if repeat.ok]

    def median(self, metric: str) -> float | None:
        """The median over repeats of ``metric`` (a key of ``SUMMARY_METRICS``
        or ``REPEAT_FIGURES``), or None where the cell has no such figure."""
        spread = self.summary.get(metric)
        if spread is not None:
            return spread.median
        if metric not in REPEAT_FIGURES:
            return None
        values = self.values(metric)
        return statistics.median(values) if values else None

    def values(self, metric: str) -> list[float]:
        """``metric`` (a key of ``SUMMARY_METRICS`` or ``REPEAT_FIGURES``) of every
        repeat that measured, where it has one: the values its summary is made of."""
        keys = SUMMARY_METRICS.get(metric) or REPEAT_FIGURES[metric]
        found = [repeat.figure(keys) for repeat in self.ok_repeats]
        return [float(value) for value in found if value is not None]

    def spread(self, metric: str) -> Spread | None:
        """The summary of ``metric`` over repeats, or None where there is none."""
        return self.summary.get(metric)


@dataclass
class Ceiling(Record):
    """locust's ceiling for one user count and connection mode (``bench.run.calibrate``)."""

    users: int = 0
    keep_alive: bool = True
    status: str = "ok"
    reason: str | None = None
    ceiling_rps: float | None = None
    valid: bool = True  # absent (a failed calibration): nothing to doubt
    note: str | None = None
    loadgen_cpu_percent: float | None = None
    loadgen_busiest_process_percent: float | None = None
    loadgen_cores_busy_percent: float | None = None
    server_cpu_percent: float | None = None
    duration_s: float | None = None
    app: str | None = None
    p99_ms: float | None = None

    FAILED: ClassVar[tuple[str, ...]] = ("users", "keep_alive", "status", "reason", "ceiling_rps")
    MEASURED: ClassVar[tuple[str, ...]] = (
        "users", "keep_alive", "status", "ceiling_rps", "valid", "note",
        "loadgen_cpu_percent", "loadgen_busiest_process_percent",
        "loadgen_cores_busy_percent", "server_cpu_percent", "duration_s", "app", "p99_ms",
    )  # fmt: skip
    open_loop: ClassVar[bool] = False  # as ScheduleCheck's field: tells the two apart


@dataclass
class CrossCheck(Record):
    """locust against wrk on one server (``bench calibrate``'s calibration.json)."""

    server: str = ""
    endpoint: str = ""
    connections: int = 0
    duration_s: float = 0.0
    locust_rps: float = 0.0
    locust_cpu_percent: float | None = None
    locust_bound: bool = False
    wrk_rps: float | None = None
    locust_over_wrk: float | None = None
    within_10_percent: bool | None = None


@dataclass
class ScheduleCheck(Record):
    """Could locust keep an open-loop schedule at the run's top rate (bare app)?"""

    rate: int = 0
    open_loop: bool = True
    status: str = "ok"
    reason: str | None = None
    kept: bool = False
    achieved_rps: float | None = None
    dropped: int | None = None
    scheduler_slip_ms_p99: float | None = None
    p99_from_due_ms: float | None = None
    loadgen_busiest_process_percent: float | None = None
    reasons: list[str] = field(default_factory=list)

    FAILED: ClassVar[tuple[str, ...]] = ("rate", "open_loop", "status", "reason", "kept")
    MEASURED: ClassVar[tuple[str, ...]] = (
        "rate", "open_loop", "status", "kept", "achieved_rps", "dropped",
        "scheduler_slip_ms_p99", "p99_from_due_ms", "loadgen_busiest_process_percent", "reasons",
    )  # fmt: skip


def ceiling_from_json(data: Json) -> Ceiling | ScheduleCheck:
    """A closed-loop ceiling or the open-loop schedule check, by its ``open_loop`` key."""
    return ScheduleCheck.from_json(data) if data.get("open_loop") else Ceiling.from_json(data)


@dataclass
class Calibration(Record):
    """run.json's ``calibration``: the ceilings found before the cells ran."""

    ceilings: list[Ceiling | ScheduleCheck] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: Json) -> Self:
        record = super().from_json(data)
        record.ceilings = [ceiling_from_json(item) for item in data.get("ceilings", [])]
        return record


@dataclass
class RunOptionsRecord(Record):
    """run.json's ``options``: what the run was asked for."""

    duration_s: float = 0.0
    warmup_s: float = 0.0
    repeats: int = 0
    sweep_repeats: int = 0
    quick: bool = False
    workers: int = 1
    threads: int = 1
    server_cpus: str | None = None
    loadgen_cpus: str | None = None
    switch_accounting: bool = True
    seed: int | None = None
    schedule: str = "uniform"
    late_bound_s: float = 1.0
    slo_ms: float = 100.0
    full: bool = False
    loadgen: dict[str, Any] = field(default_factory=dict)
    ready_timeout_s: float = 30.0
    stop_timeout_s: float = 0.0
    fd_limit: Any = None
    target_interval_pct: float | None = None
    budget_s: float | None = None


@dataclass
class MachineInfo(Record):
    """run.json's ``metadata.machine``: the host a run measured on."""

    hostname: str | None = None
    cpu_model: str | None = None
    logical_cpus: int | None = None
    physical_cpus: int | None = None
    memory_bytes: int | None = None
    kernel: str | None = None
    platform: str | None = None
    load_average: list[float] | None = None


@dataclass
class GitInfo(Record):
    """run.json's ``metadata.git``: the harness's commit."""

    commit: str | None = None
    branch: str | None = None
    dirty: bool | None = None


@dataclass
class DatabaseInfo(Record):
    """run.json's ``metadata.database``: the engine, and where (its URL redacted)."""

    engine: str | None = None
    path: str | None = None
    url: str | None = None


@dataclass
class Metadata(Record):
    """run.json's ``metadata``: what a run was measured with; the keys a run
    writes depend on the harness's version and the database, so only those
    present are written back (``Record`` keeps the rest as read)."""

    python: str | None = None
    python_implementation: str | None = None
    packages: dict[str, str | None] = field(default_factory=dict)  # distribution -> version
    git: GitInfo = field(default_factory=GitInfo)
    machine: MachineInfo = field(default_factory=MachineInfo)
    environment: dict[str, str] = field(default_factory=dict)
    database: DatabaseInfo = field(default_factory=DatabaseInfo)


@dataclass
class MatrixRecord(Record):
    """run.json's ``matrix``: the cells planned, with notes and definitions."""

    cells: list[Cell] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    scenarios: dict[str, Any] = field(default_factory=dict)
    servers: dict[str, Any] = field(default_factory=dict)
    application: dict[str, Any] = field(default_factory=dict)


@dataclass
class Progress(Record):
    """run.json's ``progress``: repeats planned, done, failed and skipped so far."""

    planned: int = 0
    done: int = 0
    failed: int = 0
    skipped: int = 0


@dataclass
class Hosts(Record):
    """Where the server and the load generator ran."""

    server: str | None = None
    target: str | None = None
    loadgen: list[str] = field(default_factory=list)


@dataclass
class Harness(Record):
    """Who wrote a run: enough to tell later whether it is still alive."""

    pid: int | None = None
    host: str = ""
    boot_id: str | None = None
    create_time: float | None = None


@dataclass
class PassOrder(Record):
    """The seed of the cells' shuffled order and every pass it gave."""

    seed: int = 0
    passes: list[list[str]] = field(default_factory=list)
    # The cells measured back to back in every pass (bench.analyse.pairs),
    # and the verdicts' pairs; absent in runs from before blocks.
    blocks: list[list[str]] | None = None
    pairs: list[list[str]] | None = None


@dataclass
class PairProgress(Record):
    """One blocked verdict when the run stopped: its pairs and half-widths."""

    baseline: str = ""
    candidate: str = ""
    pairs: int = 0
    half_width_pct: dict[str, float | None] = field(default_factory=dict)
    met: bool = False


@dataclass
class StoppingRecord(Record):
    """run.json's ``stopping``: the rule on the intervals' width and how it ended."""

    target_interval_pct: float = 0.0
    budget_s: float | None = None
    minimum_pairs: int = 0
    extra_passes: int = 0
    stopped: str | None = None  # "met", "budget", "interrupted"
    seconds: float | None = None
    verdicts: list[PairProgress] = field(default_factory=list)


@dataclass
class RunDocument(Record):
    """``run.json``: what a run was, how it went, and what it was measured with.

    Written when the run starts (the first thirteen keys, ``STARTED``) and
    again as it goes; ``site``, ``order``, ``harness``, ``upstream``,
    ``searches`` and ``interrupted_reason`` are added as they become known.
    """

    schema_version: int = 1
    run_id: str = ""
    label: str = ""
    status: str = "running"
    started_at: str | None = None
    finished_at: str | None = None
    command: list[str] = field(default_factory=list)
    options: RunOptionsRecord = field(default_factory=RunOptionsRecord)
    matrix: MatrixRecord = field(default_factory=MatrixRecord)
    metadata: Metadata = field(default_factory=Metadata)
    calibration: Calibration | None = None
    progress: Progress = field(default_factory=Progress)
    hosts: Hosts | None = None
    site: dict[str, Any] | None = None
    order: PassOrder | None = None
    harness: Harness | None = None
    upstream: dict[str, Any] | None = None
    searches: list[list[dict[str, Any]]] | None = None
    interrupted_reason: str | None = None
    stopping: StoppingRecord | None = None

    STARTED: ClassVar[tuple[str, ...]] = (
        "schema_version", "run_id", "label", "status", "started_at", "finished_at",
        "command", "options", "matrix", "metadata", "calibration", "progress", "hosts",
    )  # fmt: skip

    @property
    def ceilings(self) -> list[Ceiling | ScheduleCheck]:
        """The calibration's ceilings, or none when the run did not calibrate."""
        return self.calibration.ceilings if self.calibration is not None else []
