"""``soak.json``: a long run of one cell, minute by minute (``bench.run.soak``)."""

from dataclasses import dataclass, field
from typing import ClassVar

from bench.results.records.base import Record


@dataclass
class SoakMinute(Record):
    """One minute of the window (the last may be shorter): throughput, p99, errors, RSS."""

    minute: int = 0
    seconds: float = 0.0
    throughput_rps: float | None = None
    p99_ms: float | None = None
    errors: int = 0
    rss_peak_mb: float | None = None


@dataclass
class SoakDocument(Record):
    """The minutes of a soak and what they flag, or why it measured nothing
    (then only the keys of ``FAILED``)."""

    schema_version: int = 1
    cell: str = ""
    status: str = "ok"
    reason: str | None = None
    window_s: float = 0.0
    total_errors: int = 0
    rss_growth_pct: float | None = None
    flags: list[str] = field(default_factory=list)
    minutes: list[SoakMinute] = field(default_factory=list)

    FAILED: ClassVar[tuple[str, ...]] = ("schema_version", "cell", "status", "reason", "minutes")
    MEASURED: ClassVar[tuple[str, ...]] = (
        "schema_version", "cell", "status", "window_s", "total_errors", "rss_growth_pct",
        "flags", "minutes",
    )  # fmt: skip

    @property
    def ok(self) -> bool:
        return self.status == "ok"
