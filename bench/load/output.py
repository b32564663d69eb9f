"""What locust leaves behind: the plugin's exact samples and locust's own totals.

The plugin writes one summary (and its binary sample files) per locust
process; ``read_samples`` merges them, one local process or every worker of a
distributed run. ``read_locust_totals`` reads locust's ``--json-file``, the
count the samples are checked against.
"""

import json
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from bench.errors import BenchError


class LoadgenError(BenchError):
    """locust failed: exited early, or produced no usable output."""


@dataclass
class Samples:
    """Exact samples of one run, merged over locust processes."""

    by_name: dict[str, np.ndarray]  # name -> array of (seconds since window start, ms)
    failures: dict[str, int]
    errors: dict[str, int]
    warmup: dict[str, int]
    drained: dict[str, int]
    drained_failures: dict[str, int]
    window_s: float | None
    roles: list[str]
    stats_reset: bool = True  # locust's stats were reset when the window opened
    failure_times: np.ndarray = field(default_factory=lambda: np.zeros(0))
    worker_ids: list[str] = field(default_factory=list)
    window_start: float | None = None  # time.time() when the window opened
    # name -> absolute completion times (time.time()) of successes in the
    # warm-up and the drain, so any interval can be counted, not only the window
    outside: dict[str, np.ndarray] = field(default_factory=dict)
    open_loop: "ScheduleTotals | None" = None
    # Open loop: name -> (seconds from the window's start to the due time, ms
    # from due) of each success due in the window, answered in it or the drain
    due: dict[str, np.ndarray] = field(default_factory=dict)

    def due_of(self, names: list[str]) -> np.ndarray | None:
        """The (due offset, ms from due) pairs of every name in ``names``; None
        when one of them has no due times (made outside the schedule)."""
        parts = [self.due.get(name) for name in names]
        if not parts or any(part is None for part in parts):
            return None
        return np.concatenate(parts)

    def count(self, name: str | None = None) -> int:
        if name is None:
            return sum(len(v) for v in self.by_name.values())
        return len(self.by_name.get(name, ()))

    def completed_between(self, name: str, start: float, end: float) -> int | None:
        """Successes of ``name`` completed in [start, end] (time.time() seconds),
        window, warm-up and drain alike; None when the window's origin is unknown."""
        if self.window_start is None:
            return None
        inside = self.by_name.get(name)
        count = 0
        if inside is not None and inside.size:
            done = inside[:, 0] + self.window_start
            count += int(np.count_nonzero((done >= start) & (done <= end)))
        outside = self.outside.get(name)
        if outside is not None and outside.size:
            count += int(np.count_nonzero((outside >= start) & (outside <= end)))
        return count


def _add(total: dict[str, int], part: dict[str, int]) -> None:
    for key, value in part.items():
        total[key] = total.get(key, 0) + int(value)


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    """The keys of ``data`` that are fields of ``cls``: the plugin's JSON, read once."""
    return {f.name: data[f.name] for f in fields(cls) if f.name in data}


def _plus(total: Any, part: Any) -> Any:
    """A count added as the merged dicts did: an absent part leaves the total."""
    return total if part is None else (total or 0) + part


def _worst(*values: float | None) -> float | None:
    found = [value for value in values if value is not None]
    return max(found) if found else None


@dataclass
class WindowCounts:
    """The schedule in the window, by the plugin of one process (or merged):
    what fell due, was answered, failed, dropped; the free users' slip."""

    scheduled: int | None = None
    answered: int | None = None
    failed: int | None = None
    dropped: int | None = None
    unanswered: int | None = None
    free_slip_count: int | None = None
    free_slip_ms_p99: float | None = None
    undue: dict[str, int] = field(default_factory=dict)  # name -> made outside the schedule

    def merged(self, part: "WindowCounts") -> "WindowCounts":
        """Counts summed; the worst free-user slip of any process kept."""
        names = {**self.undue, **part.undue}
        return WindowCounts(
            scheduled=_plus(self.scheduled, part.scheduled),
            answered=_plus(self.answered, part.answered),
            failed=_plus(self.failed, part.failed),
            dropped=_plus(self.dropped, part.dropped),
            unanswered=_plus(self.unanswered, part.unanswered),
            free_slip_count=_plus(self.free_slip_count, part.free_slip_count),
            free_slip_ms_p99=_worst(self.free_slip_ms_p99, part.free_slip_ms_p99),
            undue={n: self.undue.get(n, 0) + part.undue.get(n, 0) for n in names},
        )


@dataclass
class ScheduleTotals:
    """The open-loop schedule of one process (or merged): due, dropped, slip."""

    window: WindowCounts | None = None
    rate: float | None = None
    schedule: str | None = None
    seed: int | None = None
    late_bound_s: float | None = None
    process: list[int] | None = None
    scheduled: dict[str, int] = field(default_factory=dict)  # phase -> count
    dropped: dict[str, int] = field(default_factory=dict)
    slip_ms_p99: float | None = None
    slip_ms_max: float | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ScheduleTotals":
        totals = cls(**_known(cls, data))
        window = data.get("window")
        totals.window = WindowCounts(**_known(WindowCounts, window)) if window else None
        return totals

    def merged(self, part: "ScheduleTotals") -> "ScheduleTotals":
        """Counts summed, the worst slip of any process kept (each p99 is its own
        process's); the window merged only when both processes had one."""
        scheduled, dropped = dict(self.scheduled), dict(self.dropped)
        _add(scheduled, part.scheduled)
        _add(dropped, part.dropped)
        window = self.window
        if self.window and part.window:
            window = self.window.merged(part.window)
        return replace(
            self,
            window=window,
            scheduled=scheduled,
            dropped=dropped,
            slip_ms_p99=_worst(self.slip_ms_p99, part.slip_ms_p99),
            slip_ms_max=_worst(self.slip_ms_max, part.slip_ms_max),
        )


@dataclass
class ProcessSummary:
    """One locust process's ``<role>.json`` (``bench.load.in_locust.plugin``)."""

    role: str
    window_start: float | None = None
    window_end: float | None = None
    sample_files: dict[str, str] = field(default_factory=dict)
    outside_files: dict[str, str] = field(default_factory=dict)
    due_files: dict[str, str] = field(default_factory=dict)
    failure_file: str | None = None
    stats_reset: bool = True
    workers: list[str] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    warmup: dict[str, int] = field(default_factory=dict)
    drained: dict[str, int] = field(default_factory=dict)
    drained_failures: dict[str, int] = field(default_factory=dict)
    open_loop: ScheduleTotals | None = None

    COUNTS = ("failures", "errors", "warmup", "drained", "drained_failures")

    @classmethod
    def read(cls, path: Path) -> "ProcessSummary":
        data = json.loads(path.read_text())
        summary = cls(**_known(cls, data))
        loop = data.get("open_loop")
        summary.open_loop = ScheduleTotals.from_json(loop) if loop else None
        return summary


def _arrays(directory: Path, files: dict[str, str], into: dict[str, list[np.ndarray]]) -> None:
    for name, filename in files.items():
        pairs = np.fromfile(directory / filename, dtype=np.float64)
        into.setdefault(name, []).append(pairs)


def read_samples(out_dir: Path) -> Samples:
    """Merge the plugin's files (one local process, or every worker)."""
    directory = out_dir / "samples"
    paths = sorted(directory.glob("*.json")) if directory.exists() else []
    if not paths:
        raise LoadgenError(f"locust wrote no samples in {directory}")
    by_name: dict[str, list[np.ndarray]] = {}
    merged: dict[str, dict[str, int]] = {key: {} for key in ProcessSummary.COUNTS}
    window: float | None = None
    stats_reset = True
    failure_times: list[np.ndarray] = []
    worker_ids: list[str] = []
    outside: dict[str, list[np.ndarray]] = {}
    due: dict[str, list[np.ndarray]] = {}
    open_loop: ScheduleTotals | None = None
    window_start: float | None = None
    summaries = [ProcessSummary.read(path) for path in paths]
    for summary in summaries:
        stats_reset = stats_reset and summary.stats_reset
        worker_ids += summary.workers
        if summary.failure_file:
            failure_times.append(np.fromfile(directory / summary.failure_file, dtype=np.float64))
        for key, counts in merged.items():
            _add(counts, getattr(summary, key))
        if summary.window_start and summary.window_end:
            span = summary.window_end - summary.window_start
            window = span if window is None else max(window, span)
        if summary.window_start:
            # Every process's offsets count from the same moment: the master
            # sends its own clock reading to its workers.
            window_start = summary.window_start
        _arrays(directory, summary.due_files, due)
        if summary.open_loop:
            open_loop = (
                summary.open_loop if open_loop is None else open_loop.merged(summary.open_loop)
            )
        _arrays(directory, summary.outside_files, outside)
        _arrays(directory, summary.sample_files, by_name)
    return Samples(
        {name: np.concatenate(parts).reshape(-1, 2) for name, parts in by_name.items()},
        roles=[summary.role for summary in summaries],
        window_s=window,
        stats_reset=stats_reset,
        failure_times=np.sort(np.concatenate(failure_times)) if failure_times else np.zeros(0),
        worker_ids=worker_ids,
        window_start=window_start,
        outside={name: np.concatenate(parts) for name, parts in outside.items()},
        open_loop=open_loop,
        due={name: np.concatenate(parts).reshape(-1, 2) for name, parts in due.items()},
        **merged,
    )


def read_locust_totals(out_dir: Path) -> dict[str, Any]:
    """locust's own totals from its --json-file (stats reset when the window opened)."""
    path = out_dir / "locust.json"
    if not path.exists():
        raise LoadgenError(f"locust wrote no {path.name}")
    entries = json.loads(path.read_text())
    return {
        "requests": sum(int(e["num_requests"]) for e in entries),
        "failures": sum(int(e["num_failures"]) for e in entries),
        "by_name": {f"{e['method']} {e['name']}": int(e["num_requests"]) for e in entries},
    }
