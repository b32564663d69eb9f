"""locust as a subprocess: its command line, its markers, and reading its output.

locust runs headless with ``bench/load/in_locust/plugin.py`` loaded beside the
scenario. The plugin announces the measured window on stdout; this module
relays those announcements to callbacks (so the server is sampled over the
same seconds) and afterwards reads the exact samples and locust's own
``--json-file`` totals, keeping its CSV and HTML reports in the cell's
directory.
"""

import contextlib
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench.errors import BenchError
from bench.serve import processes
from bench.serve.ports import free_port

PLUGIN = Path(__file__).resolve().parent / "in_locust" / "plugin.py"
STOP_TIMEOUT = 10.0  # seconds locust waits for requests in flight when the window closes


class LoadgenError(BenchError):
    """locust failed: exited early, or produced no usable output."""


@dataclass(frozen=True)
class Topology:
    """How locust is laid out: one process, or a master and its workers."""

    workers: int = 0  # local workers; 0 with no remote ones: a single process
    remote_workers: int = 0  # workers started by hand on other machines
    master_bind: str = "127.0.0.1"  # where the master listens for workers
    master_port: int | None = None  # None: a free port (remote workers need a fixed one)

    @property
    def distributed(self) -> bool:
        return bool(self.workers or self.remote_workers)


@dataclass(frozen=True)
class OpenLoopSpec:
    """Requests fall due at ``rate`` per second; ``users`` of the LoadSpec is the pool."""

    rate: float
    schedule: str = "uniform"  # or "poisson"
    late_bound: float = 1.0  # seconds after its due time a request is dropped unsent
    seed: int = 0

    def arguments(self) -> list[str]:
        return [
            "--bench-rate", f"{self.rate:g}",
            "--bench-schedule", self.schedule,
            "--bench-late-bound", f"{self.late_bound:g}",
            "--bench-seed", str(self.seed),
        ]  # fmt: skip


@dataclass(frozen=True)
class LoadSpec:
    scenario_path: Path
    user_class: str  # "": every User class of the locustfile (a user's own)
    users: int
    style: str | None  # None: the locustfile takes no --style (calibration)
    host: str | None  # None: given later, through the go file
    warmup: float
    duration: float
    topology: Topology = field(default_factory=Topology)
    open_loop: OpenLoopSpec | None = None  # None: closed loop, users send back to back

    @property
    def time_limit(self) -> float:
        """locust's own -t: a hard bound on the run, well past the window's end."""
        spawn = 2.0  # every user is started within a second (-r equals -u)
        return spawn + self.warmup + self.duration + STOP_TIMEOUT + 20


def _files(spec: LoadSpec) -> str:
    return f"{spec.scenario_path},{PLUGIN}"


def locust_command(
    spec: LoadSpec, out_dir: Path, master_port: int | None = None, go_file: Path | None = None
) -> list[str]:
    """The locust command line for one measured run (headless, bounded); with
    ``master_port``, the command of the master of a distributed run; with
    ``go_file``, locust waits for that file to name the host."""
    distributed = []
    if master_port is not None:
        distributed = [
            "--master",
            "--master-bind-host", spec.topology.master_bind,
            "--master-bind-port", str(master_port),
            "--expect-workers", str(spec.topology.workers + spec.topology.remote_workers),
            "--expect-workers-max-wait", "60",
        ]  # fmt: skip
    return [
        sys.executable,
        "-m",
        "locust",
        "-f",
        _files(spec),
        "--headless",
        "--only-summary",
        "--loglevel",
        "WARNING",
        "-u",
        str(spec.users),
        "-r",
        str(spec.users),
        *(("-H", spec.host) if spec.host else ()),
        "-t",
        f"{int(spec.time_limit)}s",
        "--stop-timeout",
        f"{STOP_TIMEOUT:g}",
        *(("--style", spec.style) if spec.style else ()),
        "--json-file",
        str(out_dir / "locust"),
        "--csv",
        str(out_dir / "locust"),
        "--html",
        str(out_dir / "locust.html"),
        "--bench-warmup",
        f"{spec.warmup:g}",
        "--bench-duration",
        f"{spec.duration:g}",
        "--bench-out",
        str(out_dir / "samples"),
        *(spec.open_loop.arguments() if spec.open_loop else ()),
        *distributed,
        *(("--bench-go-file", str(go_file)) if go_file else ()),
        *((spec.user_class,) if spec.user_class else ()),  # none named: every User class
    ]


def worker_command(spec: LoadSpec, out_dir: Path, master_port: int, index: int = 0) -> list[str]:
    """A local worker of a distributed run; remote ones run the same by hand
    (open loop: each with its own ``--bench-process index/count``)."""
    share = []
    if spec.open_loop:
        count = spec.topology.workers + spec.topology.remote_workers
        share = [*spec.open_loop.arguments(), "--bench-process", f"{index}/{count}"]
    return [
        sys.executable, "-m", "locust",
        "-f", _files(spec),
        "--worker", "--master-host", "127.0.0.1", "--master-port", str(master_port),
        "--loglevel", "WARNING",
        *(("--style", spec.style) if spec.style else ()),
        "--bench-out", str(out_dir / "samples"),
        *share,
        *((spec.user_class,) if spec.user_class else ()),
    ]  # fmt: skip


@dataclass
class LocustRun:
    """One finished locust process and where its output is."""

    out_dir: Path
    exit_code: int | None
    log_path: Path


def parse_marker(line: str) -> tuple[str, list[str]] | None:
    """``BENCH_WINDOW_START 1.5`` -> ("WINDOW_START", ["1.5"]); other lines -> None."""
    if not line.startswith("BENCH_"):
        return None
    words = line.strip().split()
    return words[0].removeprefix("BENCH_"), words[1:]


class Locust:
    """One locust run, started before its server is ready.

    Importing locust takes about a second, so the process starts while the
    server does; the plugin holds it back until ``release`` writes the
    server's address into the go file. ``follow`` then relays the window
    markers as they arrive and returns when locust has ended.
    """

    def __init__(
        self, spec: LoadSpec, out_dir: Path, *, cpus: frozenset[int] | None, env: dict[str, str]
    ) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        self.spec = spec
        self.out_dir = out_dir
        self.log_path = out_dir / "locust.log"
        self.go_file = out_dir / "go"
        self.go_file.unlink(missing_ok=True)
        master_port = None
        topology = spec.topology
        if topology.distributed:
            bind = topology.master_bind
            master_port = topology.master_port or free_port(
                "127.0.0.1" if bind in ("127.0.0.1", "0.0.0.0") else bind
            )
        command = locust_command(spec, out_dir, master_port, self.go_file)
        self.child = processes.spawn(
            "locust", command, env=env, cpus=cpus, log_path=self.log_path, stdout_pipe=True
        )
        self.workers = [
            processes.spawn(
                f"locust-worker-{index}",
                worker_command(spec, out_dir, master_port, index),
                env=env,
                cpus=cpus,
                log_path=out_dir / f"locust-worker-{index}.log",
            )
            for index in range(topology.workers if master_port else 0)
        ]

    @property
    def processes(self) -> list[processes.Child]:
        return [self.child, *self.workers]

    def release(self, host: str) -> None:
        """Let locust start its users against ``host``."""
        tmp = self.go_file.with_suffix(".tmp")
        tmp.write_text(host)
        tmp.replace(self.go_file)

    def follow(
        self,
        *,
        on_window_start: Callable[[], None] | None = None,
        on_window_end: Callable[[], None] | None = None,
        on_progress: Callable[[int, float], None] | None = None,
        should_abort: Callable[[], str | None] | None = None,
    ) -> LocustRun:
        """Wait for locust's end, relaying its markers.

        ``should_abort`` is polled; a reason it returns stops locust early (the
        server died, the user pressed Ctrl-C), and the caller records that reason.
        """
        child = self.child
        stdout_log = self.out_dir / "locust.stdout.log"

        def read() -> None:
            assert child.popen.stdout is not None
            with open(stdout_log, "w") as copy:
                for raw in child.popen.stdout:
                    line = raw.decode(errors="replace")
                    copy.write(line)
                    parsed = parse_marker(line)
                    if parsed is None:
                        continue
                    name, words = parsed
                    if name == "WINDOW_START" and on_window_start:
                        on_window_start()
                    elif name == "WINDOW_END" and on_window_end:
                        on_window_end()
                    elif name == "PROGRESS" and len(words) >= 3 and on_progress:
                        done, elapsed = int(words[0]), float(words[2])
                        if elapsed > 0:
                            on_progress(done, elapsed)

        reader = threading.Thread(target=read, name="locust-stdout", daemon=True)
        reader.start()
        deadline = time.monotonic() + self.spec.time_limit + 30
        try:
            while child.alive():
                reason = should_abort() if should_abort else None
                if reason or time.monotonic() > deadline:
                    child.stop(timeout=STOP_TIMEOUT + 5)
                    break
                time.sleep(0.05)
            code = child.popen.wait()
            for worker in self.workers:
                # Workers quit when the master tells them; give them time to write samples.
                with contextlib.suppress(subprocess.TimeoutExpired):
                    worker.popen.wait(timeout=STOP_TIMEOUT + 10)
        finally:
            self.stop()
            reader.join(timeout=5)
            if not reader.is_alive() and child.popen.stdout is not None:
                child.popen.stdout.close()  # read to its end: locust has exited
        return LocustRun(self.out_dir, code, self.log_path)

    def stop(self) -> None:
        for process in self.processes:
            process.stop()


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
