"""Server and load-generator resources, sampled from outside with psutil.

CPU seconds and context switches are read at the exact moments the measured
window opens and closes (the harness calls ``mark_start``/``mark_end`` when
locust announces them), summed over every process of the server's tree. RSS,
threads and (optionally) PostgreSQL connections are polled in between, and
their peaks inside the window are kept. A process that exits during the
window keeps its last seen CPU time, so nothing it used is lost.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psutil

POLL_SECONDS = 0.2


@dataclass
class _ProcTimes:
    cpu: float
    voluntary: int
    involuntary: int


def _read(proc: psutil.Process) -> _ProcTimes | None:
    try:
        with proc.oneshot():
            times = proc.cpu_times()
            switches = proc.num_ctx_switches()
        return _ProcTimes(times.user + times.system, switches.voluntary, switches.involuntary)
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


class _TreeClock:
    """Last seen CPU/context-switch totals of every process ever seen in a tree."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.seen: dict[int, _ProcTimes] = {}
        self._procs: dict[int, psutil.Process] = {}

    def refresh(self) -> dict[int, _ProcTimes]:
        for proc in _tree(self.pid):
            self._procs.setdefault(proc.pid, proc)
        for pid, proc in list(self._procs.items()):
            times = _read(proc)
            if times is None:
                del self._procs[pid]  # gone: its last reading stays in self.seen
            else:
                self.seen[pid] = times
        return dict(self.seen)


def _delta(start: dict[int, _ProcTimes], end: dict[int, _ProcTimes]) -> _ProcTimes:
    total = _ProcTimes(0.0, 0, 0)
    for pid, last in end.items():
        first = start.get(pid, _ProcTimes(0.0, 0, 0))  # born in the window: all of it counts
        total.cpu += max(last.cpu - first.cpu, 0.0)
        total.voluntary += max(last.voluntary - first.voluntary, 0)
        total.involuntary += max(last.involuntary - first.involuntary, 0)
    return total


@dataclass
class WindowResources:
    """What one window used. Server figures are None for a server the harness
    did not start; the load generator's percent is of one CPU, summed over its
    processes, with the busiest process's own percent beside it."""

    wall_s: float
    server_cpu_s: float | None
    server_ctx_voluntary: int | None
    server_ctx_involuntary: int | None
    server_rss_peak_bytes: int | None
    server_threads_peak: int | None
    server_processes_peak: int | None
    loadgen_cpu_s: float | None
    loadgen_cpu_percent: float | None
    loadgen_busiest_process_percent: float | None = None
    db_connections_peak: int | None = None
    db_connections_mean: float | None = None
    rss_timeline: list[tuple[float, int]] = field(default_factory=list)  # (s into window, bytes)

    @property
    def server_cpu_percent(self) -> float | None:
        if self.server_cpu_s is None or not self.wall_s:
            return None
        return self.server_cpu_s / self.wall_s * 100


class Sampler:
    """Watches a server tree (and the load generator) for one measured window."""

    def __init__(
        self,
        server_pid: int | None,
        loadgen_pid: int | None = None,
        db_connections: Callable[[], int] | None = None,
        on_server_death: Callable[[], None] | None = None,
        server_alive: Callable[[], bool] | None = None,
    ) -> None:
        self._server = _TreeClock(server_pid) if server_pid else None
        self._loadgen: list[_TreeClock] = [_TreeClock(loadgen_pid)] if loadgen_pid else []
        self._db_connections = db_connections
        self._on_server_death = on_server_death
        # The parent's own view (Popen.poll) is the reliable one: a killed child
        # stays a zombie, with readable /proc entries, until it is reaped.
        self._server_alive = server_alive
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="sampler", daemon=True)
        self._in_window = False
        self._start: tuple[float, dict, dict] | None = None
        self._end: tuple[float, dict, dict] | None = None
        self._rss_peak = 0
        self._threads_peak = 0
        self._procs_peak = 0
        self._db_samples: list[int] = []
        self._rss_timeline: list[tuple[float, int]] = []
        self._window_started = 0.0
        self.server_died = False

    def add_loadgen(self, pid: int) -> None:
        """Count this process (a locust, a locust worker) as load generator."""
        with self._lock:
            self._loadgen.append(_TreeClock(pid))

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def mark_start(self) -> None:
        with self._lock:
            self._start = self._snapshot()
            self._window_started = self._start[0]
            self._in_window = True
        self._sample_peaks()

    def mark_end(self) -> None:
        self._sample_peaks()
        with self._lock:
            self._end = self._snapshot()
            self._in_window = False

    def _snapshot(self) -> tuple[float, dict, dict]:
        loadgen: dict = {}
        for clock in self._loadgen:
            loadgen.update(clock.refresh())
        server = self._server.refresh() if self._server else {}
        return time.monotonic(), server, loadgen

    def _sample_peaks(self) -> None:
        if self._server is None:
            return
        rss = threads = count = 0
        alive = False
        for proc in _tree(self._server.pid):
            try:
                with proc.oneshot():
                    if proc.status() == psutil.STATUS_ZOMBIE:
                        continue
                    rss += proc.memory_info().rss
                    threads += proc.num_threads()
                count += 1
                alive = alive or proc.pid == self._server.pid
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
        if self._server_alive is not None and not self._server_alive():
            alive = False
        if not alive:
            if not self.server_died:
                self.server_died = True
                if self._on_server_death is not None:
                    self._on_server_death()
            return
        connections = None
        if self._db_connections is not None:
            try:
                connections = self._db_connections()
            except Exception:  # a failed probe must not end the measurement
                connections = None
        with self._lock:
            if not self._in_window:
                return
            self._rss_peak = max(self._rss_peak, rss)
            self._rss_timeline.append((time.monotonic() - self._window_started, rss))
            self._threads_peak = max(self._threads_peak, threads)
            self._procs_peak = max(self._procs_peak, count)
            if connections is not None:
                self._db_samples.append(connections)

    def _poll(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            self._sample_peaks()
            with self._lock:
                if self._server:
                    self._server.refresh()
                for clock in self._loadgen:
                    clock.refresh()

    def result(self) -> WindowResources | None:
        """The window's resources, or None when it never both opened and closed."""
        with self._lock:
            if self._start is None or self._end is None:
                return None
            (t0, server0, load0), (t1, server1, load1) = self._start, self._end
            wall = t1 - t0
            server = _delta(server0, server1) if self._server else None
            loadgen_cpu = _delta(load0, load1).cpu if load1 else None
            busiest = max(
                (
                    _delta({pid: load0[pid]} if pid in load0 else {}, {pid: load1[pid]}).cpu
                    for pid in load1
                ),
                default=None,
            )
            watched = self._server is not None
            return WindowResources(
                wall_s=wall,
                server_cpu_s=server.cpu if server else None,
                server_ctx_voluntary=server.voluntary if server else None,
                server_ctx_involuntary=server.involuntary if server else None,
                server_rss_peak_bytes=self._rss_peak if watched else None,
                server_threads_peak=self._threads_peak if watched else None,
                server_processes_peak=self._procs_peak if watched else None,
                loadgen_cpu_s=loadgen_cpu,
                loadgen_cpu_percent=(loadgen_cpu / wall * 100)
                if loadgen_cpu is not None and wall
                else None,
                loadgen_busiest_process_percent=(busiest / wall * 100)
                if busiest is not None and wall
                else None,
                db_connections_peak=max(self._db_samples) if self._db_samples else None,
                db_connections_mean=(sum(self._db_samples) / len(self._db_samples))
                if self._db_samples
                else None,
                rss_timeline=list(self._rss_timeline),
            )
