"""What locust leaves behind: the plugin's exact samples and locust's own totals.

The plugin writes one summary (and its binary sample files) per locust
process; ``read_samples`` merges them, one local process or every worker of a
distributed run. ``read_locust_totals`` reads locust's ``--json-file``, the
count the samples are checked against.
"""

import json
from dataclasses import dataclass, field
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
    open_loop: dict[str, Any] | None = None
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


def read_samples(out_dir: Path) -> Samples:
    """Merge the plugin's files (one local process, or every worker)."""
    directory = out_dir / "samples"
    summaries = sorted(directory.glob("*.json")) if directory.exists() else []
    if not summaries:
        raise LoadgenError(f"locust wrote no samples in {directory}")
    by_name: dict[str, list[np.ndarray]] = {}
    merged: dict[str, Any] = {
        k: {} for k in ("failures", "errors", "warmup", "drained", "drained_failures")
    }
    window: float | None = None
    roles = []
    stats_reset = True
    failure_times: list[np.ndarray] = []
    worker_ids: list[str] = []
    outside: dict[str, list[np.ndarray]] = {}
    due: dict[str, list[np.ndarray]] = {}
    open_loop: dict[str, Any] | None = None
    window_start: float | None = None
    for path in summaries:
        summary = json.loads(path.read_text())
        roles.append(summary["role"])
        stats_reset = stats_reset and summary.get("stats_reset", True)
        worker_ids += summary.get("workers", [])
        if summary.get("failure_file"):
            failure_times.append(np.fromfile(directory / summary["failure_file"], dtype=np.float64))
        for key in merged:
            _add(merged[key], summary.get(key, {}))
        if summary["window_start"] and summary["window_end"]:
            span = summary["window_end"] - summary["window_start"]
            window = span if window is None else max(window, span)
        if summary["window_start"]:
            # Every process's offsets count from the same moment: the master
            # sends its own clock reading to its workers.
            window_start = summary["window_start"]
        for name, filename in summary.get("due_files", {}).items():
            pairs = np.fromfile(directory / filename, dtype=np.float64).reshape(-1, 2)
            due.setdefault(name, []).append(pairs)
        if summary.get("open_loop"):
            open_loop = merge_open_loop(open_loop, summary["open_loop"])
        for name, filename in summary.get("outside_files", {}).items():
            times = np.fromfile(directory / filename, dtype=np.float64)
            outside.setdefault(name, []).append(times)
        for name, filename in summary["sample_files"].items():
            pairs = np.fromfile(directory / filename, dtype=np.float64).reshape(-1, 2)
            by_name.setdefault(name, []).append(pairs)
    arrays = {name: np.concatenate(parts) for name, parts in by_name.items()}
    return Samples(
        arrays,
        roles=roles,
        window_s=window,
        stats_reset=stats_reset,
        failure_times=np.sort(np.concatenate(failure_times)) if failure_times else np.zeros(0),
        worker_ids=worker_ids,
        window_start=window_start,
        outside={name: np.concatenate(parts) for name, parts in outside.items()},
        open_loop=open_loop,
        due={name: np.concatenate(parts) for name, parts in due.items()},
        **merged,
    )


def merge_open_loop(total: dict[str, Any] | None, part: dict[str, Any]) -> dict[str, Any]:
    """One process's schedule totals added to the others' (counts summed, the
    worst slip of any process kept: each p99 is its own process's)."""
    if total is None:
        merged = {**part, "scheduled": dict(part["scheduled"]), "dropped": dict(part["dropped"])}
        merged["window"] = dict(part["window"]) if part.get("window") else None
        return merged
    merged = dict(total)
    for key in ("scheduled", "dropped"):
        merged[key] = dict(total[key])
        for phase, count in part[key].items():
            merged[key][phase] = merged[key].get(phase, 0) + count
    for key in ("slip_ms_p99", "slip_ms_max"):
        values = [v for v in (total.get(key), part.get(key)) if v is not None]
        merged[key] = max(values) if values else None
    if total.get("window") and part.get("window"):
        window = dict(total["window"])
        for key, value in part["window"].items():
            if key == "free_slip_ms_p99":
                values = [v for v in (window.get(key), value) if v is not None]
                window[key] = max(values) if values else None
            elif key == "undue":
                names = {**window[key], **value}
                window[key] = {n: window[key].get(n, 0) + value.get(n, 0) for n in names}
            else:
                window[key] = window.get(key, 0) + value
        merged["window"] = window
    return merged


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
