"""PostgreSQL's CPU for one window: the backends that served this run's connections.

On a PostgreSQL cell the database does part of each request's work (parsing,
planning, executing, and with a connection per request the backend's fork and
start-up), in processes the server's tree does not contain. This clock counts
the CPU of exactly the backends whose ``application_name`` is the one the
harness gave the cell's server (and their parallel workers), over the same
window as the server's CPU.

Backends come and go inside the window (CONN_MAX_AGE=0 opens one per request,
often living a few milliseconds), and polling their /proc entries cannot count
them: one that exits between two polls takes its CPU with it, and /proc's
utime/stime are whole 10 ms ticks, truncated per process. So each figure comes
from an exact source:

- a backend alive at an edge: ``/proc/<pid>/schedstat``'s on-CPU nanoseconds
  (every child of the postmaster is read at both edges, whoever it serves);
- a backend that exits: the kernel's own exit record (taskstats over generic
  netlink, its utime + stime in microseconds, the same on-CPU time), caught
  whenever it exits, however short its life;
- whose it is: ``pg_stat_activity``, which maps pids to application names,
  read whenever the postmaster has a child not yet identified (its children
  are listed every ``POLL_SECONDS``). A backend born and gone before it was
  listed there is never identified: its CPU is reported apart as
  unattributed, with the number of such backends, and never added to the
  cell's figure.

Exit records are read under the same lock as the edges and drained at each
edge: the kernel queues a process's record before its parent can reap it, so
an exit that happened before an edge's reading is in the queue when the edge
drains it, and each exit is placed on the right side of each edge.
"""

import errno
import os
import select
import socket
import struct
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The postmaster's children are listed this often (a file read of microseconds);
# pg_stat_activity is read only when a child appears that is not yet identified.
POLL_SECONDS = 0.001

_NETLINK_GENERIC = 16
_GENL_ID_CTRL = 0x10
_CTRL_CMD_GETFAMILY = 3
_CTRL_ATTR_FAMILY_ID = 1
_CTRL_ATTR_FAMILY_NAME = 2
_TASKSTATS_CMD_GET = 1
_TASKSTATS_CMD_NEW = 2
_TASKSTATS_CMD_ATTR_REGISTER_CPUMASK = 3
_TASKSTATS_TYPE_PID = 1
_TASKSTATS_TYPE_STATS = 3
_TASKSTATS_TYPE_AGGR_PID = 4
_NLMSG_ERROR = 2
_SO_RCVBUFFORCE = 33
# struct taskstats (linux/taskstats.h), x86-64 and arm64 alike: the offsets of
# ac_pid, ac_ppid and ac_utime, ac_stime (microseconds).
_PID_AT, _PPID_AT, _UTIME_AT = 128, 132, 152
_STATS_MIN = 168


class Unavailable(Exception):
    """Database CPU cannot be measured here; the message says why, in one line."""


@dataclass(frozen=True)
class Exit:
    """One process's exit record: its pid, parent and whole-life on-CPU seconds."""

    pid: int
    ppid: int
    cpu_s: float


def _attr(kind: int, payload: bytes) -> bytes:
    raw = struct.pack("HH", 4 + len(payload), kind) + payload
    return raw + b"\0" * (-len(raw) % 4)


def _attrs(data: bytes) -> list[tuple[int, bytes]]:
    found = []
    offset = 0
    while offset + 4 <= len(data):
        length, kind = struct.unpack_from("HH", data, offset)
        if length < 4:
            break
        found.append((kind & 0x3FFF, data[offset + 4 : offset + length]))
        offset += (length + 3) & ~3
    return found


def parse_exits(datagram: bytes, family: int) -> list[Exit]:
    """The exit records of one netlink datagram (others are skipped)."""
    exits = []
    offset = 0
    while offset + 20 <= len(datagram):
        length, kind = struct.unpack_from("IH", datagram, offset)
        if length < 20:
            break
        cmd = datagram[offset + 16]
        if kind == family and cmd == _TASKSTATS_CMD_NEW:
            for attr_kind, payload in _attrs(datagram[offset + 20 : offset + length]):
                if attr_kind != _TASKSTATS_TYPE_AGGR_PID:
                    continue
                stats = dict(_attrs(payload)).get(_TASKSTATS_TYPE_STATS)
                if stats is None or len(stats) < _STATS_MIN:
                    continue
                pid, ppid = struct.unpack_from("II", stats, _PID_AT)
                utime, stime = struct.unpack_from("QQ", stats, _UTIME_AT)
                exits.append(Exit(pid, ppid, (utime + stime) / 1e6))
        offset += (length + 3) & ~3
    return exits


class ExitListener:
    """The kernel's exit record of every process that exits on this machine's CPUs.

    Needs CAP_NET_ADMIN (the harness runs as root) and a kernel with taskstats;
    otherwise ``Unavailable``. A receive buffer that overflowed lost records:
    ``lost`` then says so, and the window's figure is not used.
    """

    def __init__(self) -> None:
        try:
            self._sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, _NETLINK_GENERIC)
        except OSError as exc:
            raise Unavailable(f"no netlink socket ({exc.strerror})") from None
        try:
            self._sock.bind((0, 0))
            try:
                self._sock.setsockopt(socket.SOL_SOCKET, _SO_RCVBUFFORCE, 32 * 2**20)
            except OSError:
                self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 2**20)
            self.family = self._family()
            cpus = f"0-{(os.cpu_count() or 1) - 1}".encode() + b"\0"
            self._send(
                self.family,
                _TASKSTATS_CMD_GET,
                _attr(_TASKSTATS_CMD_ATTR_REGISTER_CPUMASK, cpus),
            )
            self._ack()
        except BaseException:
            self._sock.close()
            raise
        self._sock.setblocking(False)
        self.lost = False

    def _send(self, kind: int, cmd: int, attrs: bytes) -> None:
        payload = struct.pack("BBH", cmd, 1, 0) + attrs
        self._sock.send(struct.pack("IHHII", 16 + len(payload), kind, 0x1 | 0x4, 1, 0) + payload)

    def _reply(self) -> bytes:
        self._sock.settimeout(5)
        data = self._sock.recv(65536)
        kind = struct.unpack_from("H", data, 4)[0]
        if kind == _NLMSG_ERROR:
            code = struct.unpack_from("i", data, 16)[0]
            if code:
                raise Unavailable(f"taskstats refused: {os.strerror(-code)}")
        return data

    def _family(self) -> int:
        self._send(
            _GENL_ID_CTRL, _CTRL_CMD_GETFAMILY, _attr(_CTRL_ATTR_FAMILY_NAME, b"TASKSTATS\0")
        )
        try:
            data = self._reply()
        except OSError as exc:
            raise Unavailable(f"no taskstats in this kernel ({exc})") from None
        for kind, payload in _attrs(data[20:]):
            if kind == _CTRL_ATTR_FAMILY_ID:
                return struct.unpack_from("H", payload)[0]
        raise Unavailable("no taskstats in this kernel")

    def _ack(self) -> None:
        try:
            self._reply()
        except OSError as exc:
            raise Unavailable(f"taskstats registration failed ({exc})") from None

    def wait(self, timeout: float) -> bool:
        """True when records are waiting."""
        readable, _, _ = select.select([self._sock], [], [], timeout)
        return bool(readable)

    def drain(self) -> list[Exit]:
        """Every record queued now, without blocking."""
        exits: list[Exit] = []
        while True:
            try:
                datagram = self._sock.recv(65536)
            except BlockingIOError:
                return exits
            except OSError as exc:
                if exc.errno == errno.ENOBUFS:
                    self.lost = True
                    continue
                raise
            exits += parse_exits(datagram, self.family)

    def close(self) -> None:
        self._sock.close()


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (all its threads' children), from /proc."""
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def oncpu_s(pid: int) -> float | None:
    """A live process's on-CPU seconds (the scheduler's nanoseconds), or None when gone."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


@dataclass
class DatabaseCpu:
    """What this run's backends used over the window, and what could not be placed."""

    cpu_s: float | None  # None: not measured (note says why)
    backends: int = 0
    unattributed_cpu_s: float = 0.0
    unattributed_backends: int = 0
    note: str | None = None


@dataclass
class _Edge:
    readings: dict[int, float] = field(default_factory=dict)


class BackendClock:
    """Counts one application_name's PostgreSQL backends over one window.

    ``identify`` returns {pid: is ours} for the backends PostgreSQL lists now
    (a callable, so that the tests can drive the clock without a database).
    """

    def __init__(self, postmaster: int, identify: Any, listener: ExitListener) -> None:
        self.postmaster = postmaster
        self._identify = identify
        self._listener = listener
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._phase = 0  # 0 before the start edge, 1 in the window, 2 after the end edge
        self._exits: list[tuple[int, Exit]] = []
        self._start = _Edge()
        self._end = _Edge()
        self._ours: set[int] = set()
        self._others: set[int] = set()
        self._marked = 0
        self.failure: str | None = None
        self._threads = [
            threading.Thread(target=self._listen, name="db-exits", daemon=True),
            threading.Thread(target=self._poll, name="db-backends", daemon=True),
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout=5)
        self._listener.close()

    def _take(self) -> None:
        # caller holds the lock
        for record in self._listener.drain():
            if record.ppid == self.postmaster:
                self._exits.append((self._phase, record))

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                if self._listener.wait(0.05):
                    with self._lock:
                        self._take()
            except OSError as exc:
                self.failure = f"exit records stopped: {exc}"
                return

    def classify(self) -> None:
        """One look at pg_stat_activity: remember whose each listed pid is."""
        try:
            listed = self._identify()
        except Exception as exc:  # a failed probe ends identification, not the run
            self.failure = f"pg_stat_activity could not be read: {type(exc).__name__}"
            return
        with self._lock:
            for pid, ours in listed.items():
                (self._ours if ours else self._others).add(pid)

    def _poll(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            if self.failure is not None:
                return
            known = self._ours | self._others
            if any(pid not in known for pid in children(self.postmaster)):
                self.classify()

    def _edge(self) -> _Edge:
        edge = _Edge()
        for pid in children(self.postmaster):
            cpu = oncpu_s(pid)
            if cpu is not None:
                edge.readings[pid] = cpu
        return edge

    def _mark(self, phase: int) -> _Edge:
        """Read an edge, then drain the exits queued before it, under the lock:
        each exit lands on its side of the window."""
        with self._lock:
            edge = self._edge()
            self._take()
            self._phase = phase
            self._marked += 1
            return edge

    def mark_start(self) -> None:
        self._start = self._mark(1)

    def mark_end(self) -> None:
        self._end = self._mark(2)

    def result(self) -> DatabaseCpu:
        """The window's figure; call after mark_end (it identifies once more first)."""
        self.classify()
        with self._lock:
            self._take()
            if self._marked < 2:
                return DatabaseCpu(None, note="the window never both opened and closed")
            if self._listener.lost:
                return DatabaseCpu(None, note="exit records were lost (receive buffer overflow)")
            if self.failure:
                return DatabaseCpu(None, note=self.failure)
            return window_cpu(self._start.readings, self._end.readings, self._exits, self._ours,
                              self._others)  # fmt: skip


def window_cpu(
    start: dict[int, float],
    end: dict[int, float],
    exits: list[tuple[int, Exit]],
    ours: set[int],
    others: set[int],
) -> DatabaseCpu:
    """CPU of our backends between two edge readings, with the exits between.

    An exit tagged 0 (drained at or before the start edge) counts only for a
    pid read at the start edge (it exited after that reading); one tagged 1
    counts unless its pid was read at the end edge (then the reading stands);
    one tagged 2 came after the window. A backend read at both edges counts
    its difference; one born in the window counts from zero.
    """
    per_pid: dict[int, float] = {}
    for phase, record in exits:
        pid = record.pid
        if pid in end or phase == 2 or (phase == 0 and pid not in start):
            continue
        per_pid[pid] = max(record.cpu_s - start.get(pid, 0.0), 0.0)
    for pid, cpu in end.items():
        per_pid[pid] = max(cpu - start.get(pid, 0.0), 0.0)
    exited = {record.pid for phase, record in exits}
    result = DatabaseCpu(0.0)
    for pid, cpu in per_pid.items():
        if pid in ours:
            result.cpu_s = (result.cpu_s or 0.0) + cpu
            result.backends += 1
        elif pid not in others and pid in exited and pid not in end:
            result.unattributed_cpu_s += cpu
            result.unattributed_backends += 1
    return result


def open_clock(admin_url: str, application_name: str) -> tuple[BackendClock, Any]:
    """A clock for ``application_name``'s backends and the admin connection it reads
    pg_stat_activity over (the caller closes both); ``Unavailable`` when the
    database is not a PostgreSQL whose processes this machine can read."""
    import psycopg

    try:
        connection = psycopg.connect(
            admin_url, autocommit=True, connect_timeout=5, application_name="djbench-admin"
        )
    except psycopg.Error as exc:
        raise Unavailable(f"cannot connect: {str(exc).strip().splitlines()[:1]}") from None
    try:
        postmaster = _local_postmaster(connection)
        listener = ExitListener()
    except BaseException:
        connection.close()
        raise

    def identify() -> dict[int, bool]:
        rows = connection.execute(
            "SELECT a.pid, a.application_name = %s OR coalesce(l.application_name = %s, false)"
            " FROM pg_stat_activity a LEFT JOIN pg_stat_activity l ON l.pid = a.leader_pid",
            (application_name, application_name),
        ).fetchall()
        return {int(pid): bool(ours) for pid, ours in rows}

    return BackendClock(postmaster, identify, listener), connection


def _local_postmaster(connection: Any) -> int:
    """The postmaster of this connection's backend, when the backend runs here.

    A remote server's pid could name any local process: the backend is
    accepted only when its process title shows this connection's own client
    port (or a Unix socket), and it runs under a postmaster.
    """
    import psutil

    (backend,) = connection.execute("SELECT pg_backend_pid()").fetchone()
    try:
        sock = socket.socket(fileno=os.dup(connection.pgconn.socket))
        try:
            local = sock.getsockname()
        finally:
            sock.close()
        title = " ".join(psutil.Process(backend).cmdline())
        parent = psutil.Process(backend).ppid()
    except (psutil.Error, OSError):
        raise Unavailable("PostgreSQL's processes are not on this machine") from None
    client = f"({local[1]})" if isinstance(local, tuple) else "[local]"
    if client not in title:
        raise Unavailable("PostgreSQL's processes are not on this machine") from None
    return parent
