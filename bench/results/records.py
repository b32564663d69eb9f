"""The typed records that reach disk: a repeat, a cell document, a run document, a ceiling.

Each record is a dataclass that reads its JSON (``from_json``) and writes it
back (``to_json``) key for key, in the order it was read: a document written by
an older harness (fewer keys, another order) comes back byte-identical, and a
key this harness does not know is kept beside the fields (``json_extra``)
rather than dropped. A record built in code writes its fields in declaration
order unless its builder names the keys it has (``json_keys``: a failed
repeat has four); a field assigned later that was not among them is added at
the end, as a key added to a dict would be.

The nested parts (a repeat's server, load generator, latency, switches,
database and open-loop figures) are records of their own; what has no fixed
shape (metadata, a server's description, the per-name latencies' names) stays
a dict.
"""

import dataclasses
import functools
import types
import typing
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self, Union

from bench.plan.matrix import Cell

Json = dict[str, Any]


def _meta_field(default: Any) -> Any:
    return field(default=default, kw_only=True, repr=False, compare=False)


@dataclass
class Record:
    """A dataclass whose JSON keeps the keys it was read or built with, in order."""

    # The keys present, in order; None: every field, in declaration order.
    json_keys: tuple[str, ...] | None = _meta_field(None)
    # Keys read that are not fields (an older or newer harness's), written back as read.
    json_extra: Json = field(default_factory=dict, kw_only=True, repr=False, compare=False)
    # The key order of each Cell read (older runs have no "rate"), by field name.
    json_shapes: dict[str, Any] = field(
        default_factory=dict, kw_only=True, repr=False, compare=False
    )

    META: ClassVar[frozenset[str]] = frozenset({"json_keys", "json_extra", "json_shapes"})

    def __post_init__(self) -> None:
        object.__setattr__(self, "_built", True)

    def __setattr__(self, name: str, value: Any) -> None:
        # A field assigned after the record was built, and after its keys were
        # fixed, becomes a key at the end (as a key added to a dict would).
        keys = self.__dict__.get("json_keys")
        if (
            keys is not None
            and self.__dict__.get("_built")
            and name not in keys
            and name in _field_names(type(self))
        ):
            object.__setattr__(self, "json_keys", (*keys, name))
        object.__setattr__(self, name, value)

    @classmethod
    def from_json(cls, data: Json) -> Self:
        """The record of ``data``; nested records decoded, unknown keys kept."""
        names = _field_names(cls)
        decoders = _decoders(cls)
        values: dict[str, Any] = {}
        extra: Json = {}
        shapes: dict[str, Any] = {}
        for key, value in data.items():
            if key not in names:
                extra[key] = value
                continue
            decode = decoders.get(key)
            if decode is None:
                values[key] = value
            else:
                values[key], shape = decode(value)
                if shape is not None:
                    shapes[key] = shape
        return cls(**values, json_keys=tuple(data), json_extra=extra, json_shapes=shapes)

    def keys(self) -> tuple[str, ...]:
        """The keys this record writes, in order."""
        if self.json_keys is not None:
            return self.json_keys
        return (*_field_order(type(self)), *self.json_extra)

    def has(self, key: str) -> bool:
        """Whether ``key`` is present (a field can be None and present, or absent)."""
        return key in self.keys()

    def without(self, *drop: str) -> Self:
        """A copy that lacks the keys ``drop`` (an archive drops sampled series)."""
        copy = dataclasses.replace(self)
        object.__setattr__(copy, "json_keys", tuple(k for k in self.keys() if k not in drop))
        copy.json_extra = {k: v for k, v in self.json_extra.items() if k not in drop}
        copy.json_shapes = dict(self.json_shapes)
        return copy

    def to_json(self) -> Json:
        """The JSON of this record: its keys in order, nested records written out."""
        names = _field_names(type(self))
        out: Json = {}
        for key in self.keys():
            if key in names:
                out[key] = _encode(getattr(self, key), self.json_shapes.get(key))
            else:
                out[key] = self.json_extra[key]
        return out


@functools.cache
def _field_names(cls: type) -> frozenset[str]:
    return frozenset(f.name for f in dataclasses.fields(cls)) - Record.META


@functools.cache
def _field_order(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls) if f.name not in Record.META)


def _encode(value: Any, shape: Any = None) -> Any:
    if isinstance(value, Record):
        return value.to_json()
    if isinstance(value, Cell):
        return value.to_json(shape)
    if isinstance(value, list) and value and isinstance(value[0], Record | Cell):
        shapes = shape or [None] * len(value)
        return [_encode(item, item_shape) for item, item_shape in zip(value, shapes, strict=True)]
    if isinstance(value, dict) and value and isinstance(next(iter(value.values())), Record):
        return {key: item.to_json() for key, item in value.items()}
    return value


def _decode_cell(value: Any) -> tuple[Any, Any]:
    return (Cell.from_json(value), tuple(value)) if isinstance(value, dict) else (value, None)


def _decoder(hint: Any) -> Any:
    """How one field's JSON becomes its value (and the shape to keep), or None: as is."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (Union, types.UnionType):
        inner = [arg for arg in args if arg is not type(None)]
        return _decoder(inner[0]) if len(inner) == 1 else None
    if hint is Cell:
        return _decode_cell
    if isinstance(hint, type) and issubclass(hint, Record):
        return lambda value: (hint.from_json(value) if isinstance(value, dict) else value, None)
    if origin is list and args and args[0] is Cell:

        def cells(value: Any) -> tuple[Any, Any]:
            decoded = [_decode_cell(item) for item in value]
            return [cell for cell, _ in decoded], [shape for _, shape in decoded]

        return cells
    if origin is list and args and isinstance(args[0], type) and issubclass(args[0], Record):
        item = args[0]
        return lambda value: ([item.from_json(v) for v in value], None)
    if origin is dict and len(args) == 2 and isinstance(args[1], type):
        if issubclass(args[1], Record):
            item = args[1]
            return lambda value: ({k: item.from_json(v) for k, v in value.items()}, None)
    return None


@functools.cache
def _decoders(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    found = {name: _decoder(hints[name]) for name in _field_order(cls)}
    return {name: decode for name, decode in found.items() if decode is not None}


# --- one repeat ------------------------------------------------------------


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
class ServerFigures(Record):
    """The server's CPU over the interval and its memory, threads and switches."""

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
class LoadgenFigures(Record):
    """The load generator's CPU in the window, and its guard's verdict beside it."""

    cpu_percent: float | None = None
    busiest_process_percent: float | None = None
    by_role_percent: dict[str, float] | None = None
    cores: dict[str, Any] | None = None
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
    rows: dict[str, Any] | None = None
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

    @property
    def first_reason_line(self) -> str:
        """The reason's first line: the one a progress line or a caveat shows."""
        return self.reason.splitlines()[0] if self.reason else ""


# --- one cell --------------------------------------------------------------


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
        """The median over repeats of ``metric`` (a key of ``SUMMARY_METRICS``),
        or None where the cell has no such figure."""
        spread = self.summary.get(metric)
        return spread.median if spread is not None else None

    def spread(self, metric: str) -> Spread | None:
        """The summary of ``metric`` over repeats, or None where there is none."""
        return self.summary.get(metric)


# --- one run ---------------------------------------------------------------


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
    open_loop: ClassVar[bool] = False  # as ScheduleCheck's field: tells the two apart


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
class PassOrder(Record):
    """The seed of the cells' shuffled order and every pass it gave."""

    seed: int = 0
    passes: list[list[str]] = field(default_factory=list)


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
    metadata: dict[str, Any] = field(default_factory=dict)
    calibration: Calibration | None = None
    progress: Progress = field(default_factory=Progress)
    hosts: Hosts | None = None
    site: dict[str, Any] | None = None
    order: PassOrder | None = None
    harness: dict[str, Any] | None = None
    upstream: dict[str, Any] | None = None
    searches: list[list[dict[str, Any]]] | None = None
    interrupted_reason: str | None = None

    STARTED: ClassVar[tuple[str, ...]] = (
        "schema_version", "run_id", "label", "status", "started_at", "finished_at",
        "command", "options", "matrix", "metadata", "calibration", "progress", "hosts",
    )  # fmt: skip

    @property
    def ceilings(self) -> list[Ceiling | ScheduleCheck]:
        """The calibration's ceilings, or none when the run did not calibrate."""
        return self.calibration.ceilings if self.calibration is not None else []
