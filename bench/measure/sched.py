"""The kernel's side of a window: context switches and CPU migrations of every thread.

Why per thread: psutil's ``num_ctx_switches`` reads ``/proc/<pid>/status``,
which holds the thread group leader's own counts only. Under ASGI the sync
half of each request runs on other threads (a fresh one per request's
thread-sensitive context), so the leader's counts miss most hand-offs; the
sampler's ``ctx_voluntary``/``ctx_involuntary`` are that leader-only figure.
Here every thread of every process of the server's tree is read from
``/proc/<pid>/task/<tid>/sched``: ``nr_voluntary_switches``,
``nr_involuntary_switches``, ``se.nr_migrations`` (moves to another CPU) and
``se.sum_exec_runtime`` (its CPU time, in ms with ns digits).

Threads that start or end inside the window, and how each is counted:

- alive at both edges: end minus start;
- born inside the window: all of its counts (the kernel starts a new
  thread's counters at zero), up to its last reading;
- ended inside the window: counted up to its last reading (the window's
  edges and the sampler's polls, every ``sampler.POLL_SECONDS``), so it loses
  what it did after that poll;
- born and ended between two polls: never seen, lost entirely. No
  unprivileged interface sums a dead thread's switches or migrations for
  another process (the kernel folds switches into the process's
  ``getrusage`` only, and migrations nowhere), so the loss is measured
  instead: the CPU time of the threads read (``runtime_s``) against the
  tree's CPU over the same interval gives the share of the work whose
  switches were seen (``ServerSched.threads_cpu_share``).

What it costs: reading one thread's file takes about 35 µs here (most of it
the kernel writing the text), so a server with 80 threads costs the harness
about 3 ms of CPU per poll, 1.4% of the load generator's core.

A thread id reused within the window (a reading lower than the last one)
is a new thread: the old one's last reading is kept apart as an ended
thread, and the new one counts from zero.
"""

import os
from collections.abc import Iterable
from dataclasses import dataclass, field

PROC = "/proc"
Key = tuple[int, int]  # (pid, tid)


@dataclass(frozen=True)
class ThreadSched:
    """One thread's cumulative scheduler counts, as the kernel keeps them."""

    voluntary: int = 0
    involuntary: int = 0
    migrations: int = 0
    runtime_ns: int = 0

    def minus(self, other: "ThreadSched") -> "ThreadSched":
        return ThreadSched(
            self.voluntary - other.voluntary,
            self.involuntary - other.involuntary,
            self.migrations - other.migrations,
            self.runtime_ns - other.runtime_ns,
        )

    def older_than(self, other: "ThreadSched") -> bool:
        """Whether ``other`` cannot be a later reading of this same thread."""
        return (
            other.voluntary < self.voluntary
            or other.involuntary < self.involuntary
            or other.migrations < self.migrations
            or other.runtime_ns < self.runtime_ns
        )


ZERO = ThreadSched()
_FIELDS = {
    "nr_voluntary_switches": "voluntary",
    "nr_involuntary_switches": "involuntary",
    "se.nr_migrations": "migrations",
    "se.sum_exec_runtime": "runtime_ns",
}


def _ns(text: str) -> int:
    """'89.371893' (ms, printed as whole.fraction by the kernel) as nanoseconds."""
    whole, _, fraction = text.partition(".")
    return int(whole) * 1_000_000 + int((fraction + "000000")[:6])


def parse_sched(text: str) -> ThreadSched | None:
    """The counts of one ``/proc/<pid>/task/<tid>/sched`` text, or None when
    one of them is missing (a kernel without them, or a torn read).

    Each name is looked up where a line starts (four searches, not a parse of
    every line): the sampler reads every thread at every poll."""
    found: dict[str, int] = {}
    for name, field_name in _FIELDS.items():
        at = text.find("\n" + name + " ")
        colon = text.find(":", at) if at >= 0 else -1
        if colon < 0:
            return None
        end = text.find("\n", colon)
        value = text[colon + 1 : end if end >= 0 else len(text)].strip()
        try:
            found[field_name] = _ns(value) if field_name == "runtime_ns" else int(value)
        except ValueError:
            return None
    return ThreadSched(**found)


def read_thread(pid: int, tid: int, proc: str = PROC) -> ThreadSched | None:
    """One thread's counts now, or None when it is gone (or unreadable)."""
    try:
        with open(f"{proc}/{pid}/task/{tid}/sched") as handle:
            return parse_sched(handle.read())
    except OSError:
        return None


def read_threads(pids: Iterable[int], proc: str = PROC) -> dict[Key, ThreadSched]:
    """Every thread of these processes, read now; those that vanish meanwhile left out."""
    found: dict[Key, ThreadSched] = {}
    for pid in pids:
        try:
            tids = os.listdir(f"{proc}/{pid}/task")
        except OSError:
            continue
        for name in tids:
            if not name.isdigit():
                continue
            reading = read_thread(pid, int(name), proc)
            if reading is not None:
                found[(pid, int(name))] = reading
    return found


@dataclass
class Snapshot:
    """The last reading of every thread seen so far, and which were alive now."""

    seen: dict[Key, ThreadSched]
    alive: frozenset[Key]
    retired: list[tuple[Key, ThreadSched]]  # earlier threads whose id was reused, in order


@dataclass
class ThreadClock:
    """Last seen counts of every thread ever seen in a tree (see the module's rules)."""

    proc: str = PROC
    seen: dict[Key, ThreadSched] = field(default_factory=dict)
    retired: list[tuple[Key, ThreadSched]] = field(default_factory=list)
    alive: frozenset[Key] = frozenset()

    def refresh(self, pids: Iterable[int]) -> Snapshot:
        now = read_threads(pids, self.proc)
        for key, reading in now.items():
            last = self.seen.get(key)
            if last is not None and last.older_than(reading):
                self.retired.append((key, last))  # the id was reused: a new thread
            self.seen[key] = reading
        self.alive = frozenset(now)
        return Snapshot(dict(self.seen), self.alive, list(self.retired))


@dataclass
class WindowSched:
    """What the threads of a tree did between two snapshots."""

    voluntary: int = 0
    involuntary: int = 0
    migrations: int = 0
    runtime_s: float = 0.0
    threads_at_start: int = 0
    threads_born: int = 0  # first seen after the start
    threads_ended: int = 0  # seen in the window, gone at its end (counted to their last reading)


def window(start: Snapshot, end: Snapshot) -> WindowSched:
    """The counts between ``start`` and ``end`` by the module's rules."""
    total = ZERO
    born = ended = 0
    # A thread whose id was reused in the window ends with its last reading
    # from before the reuse, and the id's current thread counts from zero.
    reused: set[Key] = set()
    for key, old in end.retired[len(start.retired) :]:
        first = start.seen.get(key) if key in start.alive and key not in reused else None
        born += first is None
        ended += 1
        total = _add(total, old.minus(first or ZERO))
        reused.add(key)
    for key, last in end.seen.items():
        first = None if key in reused else start.seen.get(key)
        if first is None:
            born += 1
            first = ZERO
        elif key not in start.alive:
            continue  # ended before the window opened
        total = _add(total, last.minus(first))
        if key not in end.alive:
            ended += 1
    return WindowSched(
        voluntary=total.voluntary,
        involuntary=total.involuntary,
        migrations=total.migrations,
        runtime_s=total.runtime_ns / 1e9,
        threads_at_start=len(start.alive),
        threads_born=born,
        threads_ended=ended,
    )


def _add(a: ThreadSched, b: ThreadSched) -> ThreadSched:
    return ThreadSched(
        a.voluntary + b.voluntary,
        a.involuntary + b.involuntary,
        a.migrations + b.migrations,
        a.runtime_ns + b.runtime_ns,
    )
