"""Server and load-generator resources, sampled from outside with psutil.

CPU seconds and context switches are read at the exact moments the measured
window opens and closes (the harness calls ``mark_start``/``mark_end`` when
locust announces them, before it does anything else), summed over every
process of the server's tree. Both edges carry a ``time.time()`` reading, so
the requests divided by that CPU can be counted over the same interval.

A process that exits inside the window loses nothing: each live process is
read as its own CPU plus its reaped children's (``children_user`` and
``children_system``), so when a gunicorn worker dies and its master reaps it,
its CPU moves into the master's reading. Only a process that dies between two
polls and is never reaped by a watched parent can lose up to one poll
(``POLL_SECONDS``) of CPU: its last reading is kept.

Context switches per thread and CPU migrations come from ``bench.measure.sched``
(read at the same edges and polls; it says how threads that start or end in
the window are counted): ``server_ctx_*`` here are the processes' main threads
only, as psutil reads them.

Memory is USS and PSS per process (shared pages counted once), with the
gunicorn master and its workers apart; RSS is kept for comparison with older
runs. The load generator is measured as whole cores: /proc/stat's busy and
steal time of its CPUs (whatever runs there: locust, the harness itself, the
upstream service), with each known process's share beside it.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psutil

from bench.measure import sched
from bench.results.records import LoadgenCores

POLL_SECONDS = 0.2


@dataclass
class _ProcTimes:
    cpu: float
    voluntary: int
    involuntary: int
    system: float = 0.0  # the kernel's part of ``cpu``


def _read(proc: psutil.Process, with_children: bool = True) -> _ProcTimes | None:
    try:
        with proc.oneshot():
            times = proc.cpu_times()
            switches = proc.num_ctx_switches()
        cpu, system = times.user + times.system, times.system
        if with_children:
            cpu += times.children_user + times.children_system
            system += times.children_system
        return _ProcTimes(cpu, switches.voluntary, switches.involuntary, system)
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


class _TreeClock:
    """Last seen CPU/context-switch totals of every process ever seen in a tree.

    A process that vanished keeps its last reading unless its parent, still
    watched, has since reaped it: then its time is in the parent's children
    counters and the old reading is dropped, so it is not counted twice.
    """

    def __init__(self, pid: int, with_children: bool = True, scan_tree: bool = True) -> None:
        self.pid = pid
        self.with_children = with_children
        # Scanning for descendants reads every process on the machine (about
        # 2 ms here): only the server's tree needs it; a locust process's
        # children, if any, are in its children counters once reaped.
        self.scan_tree = scan_tree
        self.seen: dict[int, _ProcTimes] = {}
        self.live: list[psutil.Process] = []  # the tree as last scanned
        self._procs: dict[int, psutil.Process] = {}
        self._parents: dict[int, int] = {}

    def refresh(self) -> dict[int, _ProcTimes]:
        tree = _tree(self.pid) if self.scan_tree else _tree_root(self.pid)
        self.live = tree
        for proc in tree:
            if proc.pid not in self._procs:
                self._procs[proc.pid] = proc
                try:
                    self._parents[proc.pid] = proc.ppid()
                except psutil.Error:
                    self._parents[proc.pid] = 0
        for pid, proc in list(self._procs.items()):
            times = _read(proc, self.with_children)
            if times is not None:
                self.seen[pid] = times
                continue
            del self._procs[pid]
            if self.with_children and self._parents.get(pid) in self._procs:
                # Reaped by a parent we still read: its CPU is in the parent's
                # children counters from now on.
                self.seen.pop(pid, None)
        return dict(self.seen)


def _tree_root(pid: int) -> list[psutil.Process]:
    try:
        return [psutil.Process(pid)]
    except psutil.NoSuchProcess:
        return []


def _delta(start: dict[int, _ProcTimes], end: dict[int, _ProcTimes]) -> _ProcTimes:
    total = _ProcTimes(0.0, 0, 0)
    for pid, last in end.items():
        first = start.get(pid, _ProcTimes(0.0, 0, 0))  # born in the window: all of it counts
        total.cpu += max(last.cpu - first.cpu, 0.0)
        total.system += max(last.system - first.system, 0.0)
        total.voluntary += max(last.voluntary - first.voluntary, 0)
        total.involuntary += max(last.involuntary - first.involuntary, 0)
    # A process read at the start and reaped since: its start reading must be
    # subtracted from its parent's children counters, which now hold all of it.
    for pid, first in start.items():
        if pid not in end:
            total.cpu, total.system = total.cpu - first.cpu, total.system - first.system
    return total


@dataclass
class _Memory:
    """Peak memory of one server process over the window (bytes)."""

    role: str
    rss: int = 0
    uss: int = 0
    pss: int = 0


@dataclass
class CoreTimes:
    """Seconds a set of CPUs spent, from /proc/stat (psutil's per-CPU times)."""

    total: float
    idle: float
    steal: float

    @classmethod
    def read(cls, cpus: frozenset[int]) -> "CoreTimes":
        per_cpu = psutil.cpu_times(percpu=True)
        chosen = [per_cpu[cpu] for cpu in sorted(cpus) if cpu < len(per_cpu)]
        # guest time is already inside user time on Linux: leave it out of the total
        total = sum(
            t.user + t.nice + t.system + t.idle + t.iowait + t.irq + t.softirq + t.steal
            for t in chosen
        )
        idle = sum(t.idle + t.iowait for t in chosen)
        steal = sum(t.steal for t in chosen)
        return cls(total, idle, steal)


@dataclass
class Edge:
    """Everything read at one edge of the window, server first."""

    monotonic: float
    wall: float  # time.time(), the clock locust stamps its samples with
    server: dict[int, _ProcTimes]
    threads: sched.Snapshot | None
    loadgen: dict[str, dict[int, _ProcTimes]]
    cores: CoreTimes | None


@dataclass
class WindowResources:
    """What one window used. Server figures are None for a server the harness
    did not start. Load-generator percentages are of one CPU: ``loadgen_cpu_percent``
    is every locust process together, ``loadgen_busiest_process_percent`` the busiest
    one (one locust process cannot use more than one core), and ``loadgen_cores``
    the load generator's CPUs as a whole, whatever ran there."""

    wall_s: float
    wall_start: float  # time.time() at the edges: the CPU interval
    wall_end: float
    server_cpu_s: float | None
    server_ctx_voluntary: int | None
    server_ctx_involuntary: int | None
    server_rss_peak_bytes: int | None
    server_threads_peak: int | None
    server_processes_peak: int | None
    loadgen_cpu_s: float | None
    loadgen_cpu_percent: float | None
    loadgen_busiest_process_percent: float | None = None
    loadgen_by_role_percent: dict[str, float] = field(default_factory=dict)
    loadgen_cores: LoadgenCores | None = None
    server_pss_peak_bytes: int | None = None
    server_uss_peak_bytes: int | None = None
    server_memory: list[dict[str, float | int | str]] = field(default_factory=list)
    db_connections_peak: int | None = None
    db_connections_mean: float | None = None
    rss_timeline: list[tuple[float, int]] = field(default_factory=list)  # (s into window, bytes)
    server_sched: sched.WindowSched | None = None  # every thread's switches and migrations
    server_system_cpu_s: float | None = None  # the kernel's part of server_cpu_s

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
        loadgen_cpus: frozenset[int] | None = None,
    ) -> None:
        self._server = _TreeClock(server_pid) if server_pid else None
        self._threads = sched.ThreadClock() if server_pid else None
        # role -> clocks; "locust" processes are the load generator proper, the
        # others (the harness, the upstream service) share its cores.
        self._loadgen: dict[str, list[_TreeClock]] = {}
        if loadgen_pid:
            self.add_loadgen(loadgen_pid)
        self._loadgen_cpus = loadgen_cpus
        self._db_connections = db_connections
        self._on_server_death = on_server_death
        # The parent's own view (Popen.poll) is the reliable one: a killed child
        # stays a zombie, with readable /proc entries, until it is reaped.
        self._server_alive = server_alive
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="sampler", daemon=True)
        self._in_window = False
        self._start: Edge | None = None
        self._end: Edge | None = None
        self._rss_peak = 0
        self._pss_peak = 0
        self._uss_peak = 0
        self._memory: dict[int, _Memory] = {}
        self._threads_peak = 0
        self._procs_peak = 0
        self._db_samples: list[int] = []
        self._rss_timeline: list[tuple[float, int]] = []
        self._window_started = 0.0
        self.server_died = False

    def add_loadgen(self, pid: int, role: str = "locust") -> None:
        """Count this process on the load generator's side. The harness itself is
        read without its children (its reaped children are servers)."""
        with self._lock:
            clock = _TreeClock(pid, with_children=role != "harness", scan_tree=False)
            self._loadgen.setdefault(role, []).append(clock)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def mark_start(self) -> None:
        with self._lock:
            self._start = self._snapshot()
            self._window_started = self._start.monotonic
            self._in_window = True
        self._sample_peaks(self._server.live if self._server else [])

    def mark_end(self) -> None:
        with self._lock:
            self._end = self._snapshot()
            self._in_window = False

    def _snapshot(self) -> Edge:
        # The server's CPU and the clocks first: they bound the interval that
        # requests are counted over.
        now, wall = time.monotonic(), time.time()
        server = self._server.refresh() if self._server else {}
        cores = CoreTimes.read(self._loadgen_cpus) if self._loadgen_cpus else None
        loadgen: dict[str, dict[int, _ProcTimes]] = {}
        for role, clocks in self._loadgen.items():
            for clock in clocks:
                loadgen.setdefault(role, {}).update(clock.refresh())
        # Every thread's counts last: a few ms with hundreds of threads, and
        # their figures are not divided by a clock read here.
        threads = self._read_threads()
        return Edge(now, wall, server, threads, loadgen, cores)

    def _read_threads(self) -> sched.Snapshot | None:
        if self._threads is None or self._server is None:
            return None
        return self._threads.refresh(proc.pid for proc in self._server.live)

    def _sample_peaks(self, tree: list[psutil.Process]) -> None:
        if self._server is None:
            return
        rss = uss = pss = threads = count = 0
        seen: dict[int, tuple[int, int, int]] = {}
        alive = False
        root = self._server.pid
        for proc in tree:
            try:
                with proc.oneshot():
                    if proc.status() == psutil.STATUS_ZOMBIE:
                        continue
                    memory = proc.memory_full_info()
                    threads += proc.num_threads()
                seen[proc.pid] = (memory.rss, memory.uss, memory.pss)
                rss, uss, pss = rss + memory.rss, uss + memory.uss, pss + memory.pss
                count += 1
                alive = alive or proc.pid == root
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
            self._pss_peak = max(self._pss_peak, pss)
            self._uss_peak = max(self._uss_peak, uss)
            for pid, (p_rss, p_uss, p_pss) in seen.items():
                role = ("master" if count > 1 else "server") if pid == root else "worker"
                peak = self._memory.setdefault(pid, _Memory(role))
                peak.role = "master" if pid == root and count > 1 else peak.role
                peak.rss, peak.uss = max(peak.rss, p_rss), max(peak.uss, p_uss)
                peak.pss = max(peak.pss, p_pss)
            self._rss_timeline.append((time.monotonic() - self._window_started, rss))
            self._threads_peak = max(self._threads_peak, threads)
            self._procs_peak = max(self._procs_peak, count)
            if connections is not None:
                self._db_samples.append(connections)

    def _poll(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            with self._lock:
                if self._server:
                    self._server.refresh()
                    self._read_threads()
                for clocks in self._loadgen.values():
                    for clock in clocks:
                        clock.refresh()
            self._sample_peaks(self._server.live if self._server else [])

    def result(self) -> WindowResources | None:
        """The window's resources, or None when it never both opened and closed."""
        with self._lock:
            if self._start is None or self._end is None:
                return None
            first, last = self._start, self._end
            wall = last.monotonic - first.monotonic
            server = _delta(first.server, last.server) if self._server else None
            by_role: dict[str, float] = {}
            busiest: float | None = None
            for role, end in last.loadgen.items():
                start = first.loadgen.get(role, {})
                by_role[role] = _delta(start, end).cpu
                if role == "locust":
                    busiest = max(
                        (
                            _delta({pid: start[pid]} if pid in start else {}, {pid: end[pid]}).cpu
                            for pid in end
                        ),
                        default=None,
                    )
            loadgen_cpu = by_role.get("locust")
            watched = self._server is not None

            def percent(seconds: float | None) -> float | None:
                return seconds / wall * 100 if seconds is not None and wall else None

            cores = None
            if first.cores and last.cores:
                total = last.cores.total - first.cores.total
                idle = last.cores.idle - first.cores.idle
                steal = last.cores.steal - first.cores.steal
                cores = LoadgenCores(
                    cpus=",".join(str(cpu) for cpu in sorted(self._loadgen_cpus or ())),
                    busy_percent=(total - idle) / total * 100 if total > 0 else 0.0,
                    steal_percent=steal / total * 100 if total > 0 else 0.0,
                )
            return WindowResources(
                wall_s=wall,
                wall_start=first.wall,
                wall_end=last.wall,
                server_cpu_s=server.cpu if server else None,
                server_ctx_voluntary=server.voluntary if server else None,
                server_ctx_involuntary=server.involuntary if server else None,
                server_rss_peak_bytes=self._rss_peak if watched else None,
                server_threads_peak=self._threads_peak if watched else None,
                server_processes_peak=self._procs_peak if watched else None,
                loadgen_cpu_s=loadgen_cpu,
                loadgen_cpu_percent=percent(loadgen_cpu),
                loadgen_busiest_process_percent=percent(busiest),
                loadgen_by_role_percent={
                    role: value
                    for role, seconds in by_role.items()
                    if (value := percent(seconds)) is not None
                },
                loadgen_cores=cores,
                server_pss_peak_bytes=self._pss_peak if watched else None,
                server_uss_peak_bytes=self._uss_peak if watched else None,
                server_memory=[
                    {
                        "pid": pid,
                        "role": peak.role,
                        "rss_peak_mb": peak.rss / 2**20,
                        "uss_peak_mb": peak.uss / 2**20,
                        "pss_peak_mb": peak.pss / 2**20,
                    }
                    for pid, peak in sorted(self._memory.items())
                ],
                db_connections_peak=max(self._db_samples) if self._db_samples else None,
                db_connections_mean=(sum(self._db_samples) / len(self._db_samples))
                if self._db_samples
                else None,
                rss_timeline=list(self._rss_timeline),
                server_system_cpu_s=server.system if server else None,
                server_sched=sched.window(first.threads, last.threads)
                if first.threads and last.threads
                else None,
            )
