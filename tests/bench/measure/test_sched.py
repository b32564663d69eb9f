"""Every thread's context switches and migrations: the parser, the window's
rules for threads born and ended in it, and known answers from real threads."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.measure import sched
from bench.measure.derive import sched_figures
from bench.measure.sampler import Sampler

FIXTURE = Path(__file__).parent / "fixtures" / "thread.sched"


def test_the_sched_file_is_read_into_its_four_counts():
    reading = sched.parse_sched(FIXTURE.read_text())
    assert reading == sched.ThreadSched(
        voluntary=162, involuntary=38, migrations=13, runtime_ns=89_371_893
    )


def test_a_sched_text_missing_a_count_is_not_read():
    text = "\n".join(
        line for line in FIXTURE.read_text().splitlines() if "nr_migrations" not in line
    )
    assert sched.parse_sched(text) is None
    assert sched.parse_sched("") is None


def test_a_thread_that_is_gone_reads_as_none(tmp_path):
    assert sched.read_thread(1, 999_999_999, proc=str(tmp_path)) is None
    assert sched.read_threads([999_999_999], proc=str(tmp_path)) == {}


def _reading(voluntary: int, migrations: int = 0) -> sched.ThreadSched:
    return sched.ThreadSched(voluntary, 1, migrations, voluntary * 1_000_000)


def _snapshot(seen: dict, alive: set, retired: list | None = None) -> sched.Snapshot:
    return sched.Snapshot(dict(seen), frozenset(alive), list(retired or []))


def test_threads_alive_born_ended_and_gone_before_are_counted_by_the_rules():
    gone, kept, ends, born = (1, 1), (1, 2), (1, 3), (1, 4)
    start = _snapshot({gone: _reading(50), kept: _reading(10), ends: _reading(5)}, {kept, ends})
    end = _snapshot(
        {gone: _reading(50), kept: _reading(30, 2), ends: _reading(8, 1), born: _reading(4)},
        {kept, born},
    )
    window = sched.window(start, end)
    # kept 20, ends 3 (to its last reading), born 4 from zero; gone not at all
    assert window.voluntary == 20 + 3 + 4
    assert window.involuntary == 1  # born's one; the others' stayed at 1
    assert window.migrations == 2 + 1
    assert window.runtime_s == pytest.approx(0.027)
    assert (window.threads_at_start, window.threads_born, window.threads_ended) == (2, 1, 1)


def test_a_reused_thread_id_is_an_ended_thread_and_a_new_one():
    key = (7, 70)
    clock_start = _snapshot({key: _reading(10)}, {key})
    clock = sched.ThreadClock(seen=dict(clock_start.seen), alive=clock_start.alive)
    clock.seen[key] = _reading(25)  # its last poll
    clock.retired.append((key, clock.seen[key]))  # what refresh does on a lower reading
    clock.seen[key] = _reading(3)  # the new thread with the same id
    end = _snapshot(clock.seen, {key}, clock.retired)
    window = sched.window(clock_start, end)
    assert window.voluntary == 15 + 3
    assert (window.threads_born, window.threads_ended) == (1, 1)


def test_per_request_figures_divide_the_windows_counts_by_its_requests():
    window = sched.WindowSched(voluntary=300, involuntary=30, migrations=6, runtime_s=0.5)
    figures = sched_figures(window, 100, 1.0)
    assert figures.voluntary_per_request == pytest.approx(3.0)
    assert figures.involuntary_per_request == pytest.approx(0.3)
    assert figures.ctx_per_request == pytest.approx(3.3)
    assert figures.migrations_per_request == pytest.approx(0.06)
    assert figures.threads_cpu_share == pytest.approx(0.5)
    assert figures.system_cpu_ms_per_request is None  # not read
    kernel = sched_figures(window, 100, 1.0, 0.25)
    assert kernel.system_cpu_ms_per_request == pytest.approx(2.5)
    assert kernel.system_cpu_share == pytest.approx(0.25)
    none = sched_figures(window, 0, None, 0.25)
    assert none.ctx_per_request is None and none.threads_cpu_share is None
    assert none.system_cpu_ms_per_request is None and none.system_cpu_share is None
    assert none.voluntary == 300
    assert sched_figures(None, 100, 1.0) is None


# Two threads hand a token back and forth ROUNDS times when told to, then the
# second ends when told to: each hand-off puts a waiting thread to sleep.
PING_PONG = """
import os, sys, threading
if sys.argv[1] == "pinned":
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
rounds = int(sys.argv[2])
a, b, leave = threading.Event(), threading.Event(), threading.Event()
def other():
    for _ in range(rounds):
        a.wait(); a.clear(); b.set()
    leave.wait()
thread = threading.Thread(target=other)
thread.start()
print("ready", flush=True)
sys.stdin.readline()
for _ in range(rounds):
    a.set(); b.wait(); b.clear()
print("done", flush=True)
sys.stdin.readline()
leave.set(); thread.join()
print("joined", flush=True)
sys.stdin.readline()
"""
ROUNDS = 500


def _ping_pong(mode: str) -> subprocess.Popen:
    child = subprocess.Popen(
        [sys.executable, "-c", PING_PONG, mode, str(ROUNDS)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout.readline().strip() == "ready"
    return child


def _step(child: subprocess.Popen, expect: str) -> None:
    child.stdin.write("go\n")
    child.stdin.flush()
    assert child.stdout.readline().strip() == expect


def _stop(child: subprocess.Popen) -> None:
    child.kill()
    child.wait(timeout=10)
    child.stdin.close()
    child.stdout.close()


@pytest.mark.live
def test_a_ping_pong_of_n_rounds_shows_n_voluntary_switches_and_its_ended_thread():
    child = _ping_pong("free")
    clock = sched.ThreadClock()
    try:
        start = clock.refresh([child.pid])
        _step(child, "done")
        clock.refresh([child.pid])  # a poll while the second thread lives
        _step(child, "joined")
        end = clock.refresh([child.pid])
    finally:
        _stop(child)
    window = sched.window(start, end)
    assert window.voluntary >= ROUNDS
    assert (window.threads_at_start, window.threads_born, window.threads_ended) == (2, 0, 1)


@pytest.mark.live
def test_a_thread_pinned_to_one_cpu_does_not_migrate_in_the_window():
    pinned, free = _ping_pong("pinned"), _ping_pong("free")
    clock = sched.ThreadClock()
    try:
        start = clock.refresh([pinned.pid, free.pid])
        _step(pinned, "done")
        _step(free, "done")
        end = clock.refresh([pinned.pid, free.pid])
    finally:
        _stop(pinned)
        _stop(free)

    def of(pid: int, snapshot: sched.Snapshot) -> sched.Snapshot:
        seen = {key: value for key, value in snapshot.seen.items() if key[0] == pid}
        return sched.Snapshot(seen, frozenset(k for k in snapshot.alive if k[0] == pid), [])

    held = sched.window(of(pinned.pid, start), of(pinned.pid, end))
    moved = sched.window(of(free.pid, start), of(free.pid, end))
    assert held.voluntary >= ROUNDS and moved.voluntary >= ROUNDS
    assert held.migrations == 0  # one CPU allowed: the kernel cannot move it
    assert moved.migrations >= 0


@pytest.mark.live
def test_the_sampler_counts_every_threads_switches_not_only_the_main_threads():
    child = _ping_pong("free")
    sampler = Sampler(child.pid)
    try:
        sampler.start()
        time.sleep(0.3)
        sampler.mark_start()
        _step(child, "done")
        sampler.mark_end()
        result = sampler.result()
    finally:
        sampler.close()
        _stop(child)
    assert result is not None and result.server_sched is not None
    assert result.server_sched.voluntary >= ROUNDS
    # psutil's figure is the main thread's alone: never more than every thread's
    assert result.server_ctx_voluntary <= result.server_sched.voluntary
    assert 0 <= result.server_system_cpu_s <= result.server_cpu_s
    assert os.getpid() not in {pid for pid, _ in sched.read_threads([child.pid])}
