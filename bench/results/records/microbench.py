"""The microbenchmark's ``summary.json``: pyperf's figures, the per-switch costs, the accounting's.

``bench.run.microbench`` writes it and ``bench.report.switch_report`` reads the
newest beside a run's fit, so it is a record like a run's: read once, by
attribute after.
"""

from dataclasses import dataclass, field

from bench.results.records.base import Record


@dataclass
class ClockFigure(Record):
    """One clock's mean and standard deviation, in microseconds."""

    mean_us: float = 0.0
    stdev_us: float = 0.0


@dataclass
class Timing(Record):
    """A benchmark (or a derived figure) on both clocks."""

    wall: ClockFigure = field(default_factory=ClockFigure)
    cpu: ClockFigure = field(default_factory=ClockFigure)


@dataclass
class HandlerOverhead(Record):
    """A whole request through one handler, without and with the switch accounting."""

    without_us: float = 0.0
    with_us: float = 0.0
    overhead_pct: float = 0.0


@dataclass
class AccountingOverhead(Record):
    """What the switch accounting costs: per hop, and on a request of each handler.

    Only the figures whose benchmarks ran are present (``json_keys``)."""

    per_sync_to_async_us: float | None = None
    per_async_to_sync_us: float | None = None
    asgi: HandlerOverhead | None = None
    wsgi: HandlerOverhead | None = None

    def per_hop_us(self) -> dict[str, float]:
        """The accounting's CPU per hop, by hop kind, for those measured, in order."""
        found = {
            "sync_to_async": self.per_sync_to_async_us,
            "async_to_sync": self.per_async_to_sync_us,
        }
        return {kind: value for kind, value in found.items() if value is not None}

    def handlers(self) -> dict[str, HandlerOverhead]:
        """The per-request overhead of each handler measured, in order."""
        found = {"asgi": self.asgi, "wsgi": self.wsgi}
        return {name: value for name, value in found.items() if value is not None}


@dataclass
class Pinning(Record):
    """A warm sync_to_async (less its floor) with its threads on one CPU and on
    every CPU, and unpinned over pinned, on each clock."""

    pinned: Timing = field(default_factory=Timing)
    unpinned: Timing = field(default_factory=Timing)
    wall_ratio: float | None = None
    cpu_ratio: float | None = None


@dataclass
class MicrobenchSummary(Record):
    """``results/<timestamp>-microbench/summary.json``."""

    schema_version: int = 1
    benchmarks: dict[str, Timing] = field(default_factory=dict)
    per_switch: dict[str, Timing] = field(default_factory=dict)
    accounting_overhead: AccountingOverhead = field(default_factory=AccountingOverhead)
    metadata: dict[str, str] = field(default_factory=dict)
    pinning: Pinning | None = None  # written only when both of its benchmarks ran
