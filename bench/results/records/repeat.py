"""One repeat's record and its parts: latency, server, load generator, switches, database."""

from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from bench.results.records.base import Record


@dataclass
class LatencySummary(Record):
    """Exact percentiles of a window's response times (ms); open loop adds the
    requests answered and left unanswered (counted from their due times)."""

    count: int = 0
    p50: float | None = None
    p90: float | None = None
    p99: float | None = None
    p99_9: float | None = None
    max: float | None = None
    min: float | None = None
    mean: float | None = None
    answered: int | None = None
    unanswered: int | None = None


@dataclass
class WindowIntervals(Record):
    """locust's window against the CPU interval, and how far apart their edges are."""

    cpu_s: float | None = None
    loadgen_window_s: float | None = None
    start_gap_ms: float | None = None
    end_gap_ms: float | None = None
    mismatch_pct: float | None = None
    differ: bool = False


@dataclass
class Steadiness(Record):
    """Throughput in the window's first and last thirds."""

    first_rps: float | None = None
    last_rps: float | None = None
    change_pct: float | None = None
    steady: bool | None = None


@dataclass
class OpenLoopFigures(Record):
    """Did the server keep up with the schedule (``measure.derive`` says how it is judged)."""

    offered_rps: float = 0.0
    achieved_rps: float = 0.0
    achieved_fraction: float | None = None
    scheduled: int = 0
    answered: int | None = None
    answered_fraction: float | None = None
    unanswered: int | None = None
    dropped: int = 0
    dropped_all_phases: int = 0
    latency_growth_s_per_s: float | None = None
    latency_from_due: bool = False
    made_outside_schedule: int = 0
    scheduler_slip_ms_p99: float | None = None
    scheduler_slip_ms_max: float | None = None
    free_user_slip_ms_p99: float | None = None
    free_user_slip_count: int | None = None
    schedule: str | None = None
    seed: int | None = None
    late_bound_s: float | None = None
    sustainable: bool = True
    unsustainable_reasons: list[str] = field(default_factory=list)
    service_latency_ms: LatencySummary | None = None


@dataclass
class LocustTotals(Record):
    """locust's own count of the run, to check ours against."""

    requests: int = 0
    failures: int = 0
    by_name: dict[str, int] = field(default_factory=dict)


@dataclass
class SchedFigures(Record):
    """The kernel's side of the window, over every thread of the server's tree:
    context switches and CPU migrations, in total and per request counted in
    the CPU interval. ``bench.measure.sched`` says how threads born or ended
    in the window are counted; ``threads_cpu_share`` is the CPU time of the
    threads read over the tree's CPU, the share of the work whose switches
    were seen (threads born and ended between two polls are not)."""

    voluntary: int = 0
    involuntary: int = 0
    migrations: int = 0
    voluntary_per_request: float | None = None
    involuntary_per_request: float | None = None
    ctx_per_request: float | None = None  # voluntary + involuntary
    migrations_per_request: float | None = None
    threads_at_start: int = 0
    threads_born: int = 0
    threads_ended: int = 0
    threads_cpu_s: float | None = None
    threads_cpu_share: float | None = None
    # The tree's CPU in kernel mode (psutil's system time, dead threads'
    # included), per request: switches, thread starts, sockets, all of it.
    system_cpu_ms_per_request: float | None = None
    system_cpu_share: float | None = None


@dataclass
class ServerFigures(Record):
    """The server's CPU over the interval and its memory, threads and switches.

    ``ctx_voluntary``/``ctx_involuntary`` are psutil's reading of each
    process's main thread only; ``sched`` has every thread's."""

    cpu_s: float | None = None
    cpu_ms_per_request: float | None = None
    cpu_percent: float | None = None
    rss_peak_mb: float | None = None
    pss_peak_mb: float | None = None
    uss_peak_mb: float | None = None
    memory_by_process: Any = None  # sampled; an archive drops it
    threads_peak: int | None = None
    processes_peak: int | None = None
    ctx_voluntary: int | None = None
    ctx_involuntary: int | None = None
    sampled_wall_s: float | None = None
    rss_timeline_mb: list[list[float]] | None = None  # sampled; an archive drops it
    sched: SchedFigures | None = None  # absent in runs from before it

    # What ``bench.results.archive`` leaves out: the raw samples rebuild it.
    SAMPLED: ClassVar[tuple[str, ...]] = ("rss_timeline_mb", "memory_by_process")


@dataclass
class LoadgenGuard(Record):
    """Was the load generator, not the server, the limit (``measure`` says how)?"""

    bound: bool = False
    bound_reasons: list[str] = field(default_factory=list)
    latency_suspect: bool = False
    notes: list[str] = field(default_factory=list)
    ceiling_rps: float | None = None


@dataclass
class LoadgenCores(Record):
    """The load generator's CPUs as a whole over the window: busy, and stolen."""

    cpus: str = ""
    busy_percent: float = 0.0
    steal_percent: float = 0.0


@dataclass
class LoadgenFigures(Record):
    """The load generator's CPU in the window, and its guard's verdict beside it."""

    cpu_percent: float | None = None
    busiest_process_percent: float | None = None
    by_role_percent: dict[str, float] | None = None
    cores: LoadgenCores | None = None
    cpus: str | None = None
    bound: bool = False
    bound_reasons: list[str] = field(default_factory=list)
    latency_suspect: bool = False
    notes: list[str] = field(default_factory=list)
    ceiling_rps: float | None = None


@dataclass
class SwitchFigures(Record):
    """The thread hops the project's counters saw in the window, per request."""

    requests: int = 0
    sync_to_async: int = 0
    async_to_sync: int = 0
    sync_to_async_per_request: float | None = None
    sync_to_async_thread_sensitive_per_request: float | None = None
    async_to_sync_per_request: float | None = None
    async_to_sync_new_loop_per_request: float | None = None
    sync_to_async_wall_outside_us: float | None = None
    async_to_sync_wall_outside_us: float | None = None
    sync_to_async_cancelled: int = 0
    disconnect_cleanups: int = 0
    disconnect_completed: int = 0


@dataclass
class DbFigures(Record):
    """Connections held, and the CPU of this cell's database backends when measured."""

    connections_peak: int | None = None
    connections_mean: float | None = None
    cpu_s: float | None = None
    cpu_ms_per_request: float | None = None
    server_and_db_cpu_ms_per_request: float | None = None
    backends: int | None = None
    unattributed_cpu_s: float | None = None
    unattributed_backends: int | None = None
    cpu_note: str | None = None

    CONNECTIONS: ClassVar[tuple[str, ...]] = ("connections_peak", "connections_mean")


@dataclass
class RowCheck(Record):
    """The write check of a repeat (``bench.measure.rowcheck``): the rows its
    table gained against the writes acknowledged. A check that could not count
    has ``error``; one of a repeat that had already failed, its counts only."""

    table: str = ""
    before: int | None = None
    after: int | None = None
    added: int | None = None
    successful_requests: int | None = None
    by_phase: dict[str, int] | None = None
    primer: int | None = None
    expected: int | None = None
    difference: int | None = None
    agree: bool | None = None
    locust_window_and_drain: int | None = None
    error: str | None = None

    COUNTS: ClassVar[tuple[str, ...]] = ("table", "before", "after", "agree")
    UNREAD: ClassVar[tuple[str, ...]] = ("table", "agree", "error")
    COMPARED: ClassVar[tuple[str, ...]] = (
        "table", "before", "after", "added", "successful_requests", "by_phase", "primer",
        "expected", "difference", "agree",
    )  # fmt: skip


@dataclass
class RepeatRecord(Record):
    """One repeat of one cell as written to its cell's JSON.

    A measured repeat (``status`` ok, or failed afterwards by a check) has
    every figure; a failed, interrupted or skipped one has the four keys of
    ``FAILED`` and whatever was known (``errors``, ``db``); ``repeat`` and
    ``elapsed_s`` are added by the run.
    """

    status: str = "ok"
    reason: str | None = None
    started_at: str | None = None
    window_s: float | None = None
    primary: str | None = None
    counted_names: list[str] = field(default_factory=list)
    requests: int = 0
    requests_in_cpu_interval: int | None = None
    intervals: WindowIntervals | None = None
    steady: Steadiness | None = None
    open_loop: OpenLoopFigures | None = None
    failures: int = 0
    error_rate: float = 0.0
    throughput_rps: float = 0.0
    latency_ms: LatencySummary | None = None
    latency_by_name: dict[str, LatencySummary] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    failures_by_name: dict[str, int] = field(default_factory=dict)
    warmup_requests: int = 0
    drained_requests: int = 0
    locust_totals: LocustTotals | None = None
    totals_consistent: bool = True
    locust_processes: list[str] = field(default_factory=list)
    locust_workers: list[str] = field(default_factory=list)
    server: ServerFigures | None = None
    loadgen: LoadgenFigures | None = None
    switches: SwitchFigures | None = None
    db: DbFigures | None = None
    server_config: dict[str, Any] = field(default_factory=dict)
    raw_dir: str | None = None
    server_exceptions: dict[str, str] | None = None
    rows: RowCheck | None = None
    repeat: int | None = None
    elapsed_s: float | None = None

    FAILED: ClassVar[tuple[str, ...]] = ("status", "reason", "started_at", "raw_dir")
    # The keys of a measured repeat, as ``measure.derive`` writes them.
    MEASURED: ClassVar[tuple[str, ...]] = (
        "status", "reason", "started_at", "window_s", "primary", "counted_names",
        "requests", "requests_in_cpu_interval", "intervals", "steady", "open_loop",
        "failures", "error_rate", "throughput_rps", "latency_ms", "latency_by_name",
        "errors", "failures_by_name", "warmup_requests", "drained_requests",
        "locust_totals", "totals_consistent", "locust_processes", "locust_workers",
        "server", "loadgen", "switches", "db", "server_config", "raw_dir",
    )  # fmt: skip

    @classmethod
    def failed(
        cls,
        reason: str,
        *,
        status: str = "failed",
        started_at: str | None,
        raw_dir: str | None,
        **known: Any,
    ) -> Self:
        """A repeat that measured nothing, with why, and what was known (``errors``, ``db``)."""
        record = cls(
            status=status,
            reason=reason,
            started_at=started_at,
            raw_dir=raw_dir,
            json_keys=cls.FAILED,
        )
        for key, value in known.items():
            setattr(record, key, value)
        return record

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def figure(self, keys: tuple[str, ...]) -> Any:
        """One figure by its path of fields (``SUMMARY_METRICS``: ("server",
        "cpu_ms_per_request")), or None where a level is absent."""
        value: Any = self
        for key in keys:
            value = getattr(value, key, None) if value is not None else None
        return value

    @property
    def first_reason_line(self) -> str:
        """The reason's first line: the one a progress line or a caveat shows."""
        return self.reason.splitlines()[0] if self.reason else ""
