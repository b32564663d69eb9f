import os
import sys
import time

import pytest

from bench.measure.sampler import Sampler
from bench.serve import processes

BUSY = "import time\nend = time.monotonic() + 30\nwhile time.monotonic() < end: pass\n"


@pytest.mark.live
def test_cpu_of_a_busy_tree_is_measured_over_the_window(tmp_path):
    child = processes.spawn("busy", [sys.executable, "-c", BUSY], env={"PATH": "/usr/bin:/bin"})
    died = []
    sampler = Sampler(child.pid, on_server_death=lambda: died.append(True))
    try:
        sampler.start()
        time.sleep(0.3)
        sampler.mark_start()
        time.sleep(1.0)
        sampler.mark_end()
        result = sampler.result()
    finally:
        sampler.close()
        child.stop()
    assert result is not None and not died
    # A spinning process uses about one CPU; a shared machine may give it less.
    assert 0.2 < result.server_cpu_s / result.wall_s <= 1.1
    assert result.server_rss_peak_bytes > 1_000_000
    assert result.server_threads_peak >= 1 and result.server_processes_peak == 1


def test_no_result_without_a_whole_window():
    sampler = Sampler(1)
    assert sampler.result() is None


@pytest.mark.live
def test_a_dying_server_is_reported():
    child = processes.spawn("short", [sys.executable, "-c", "pass"], env={"PATH": "/usr/bin:/bin"})
    child.popen.wait(timeout=10)
    died = []
    sampler = Sampler(child.pid, on_server_death=lambda: died.append(True))
    sampler.start()
    time.sleep(0.6)
    sampler.close()
    child.stop()
    assert died == [True] and sampler.server_died


# A parent that starts a child spending a known amount of CPU, reaps it, then idles.
PARENT = """
import subprocess, sys, time
delay, burn = float(sys.argv[1]), float(sys.argv[2])
time.sleep(delay)
child = ("import time\\nend = time.thread_time() + %r\\n"
         "while time.thread_time() < end: pass\\n" % burn)
subprocess.run([sys.executable, "-c", child], check=True)
time.sleep(30)
"""


def _spawn_parent(delay: float, burn: float) -> processes.Child:
    return processes.spawn(
        "parent",
        [sys.executable, "-c", PARENT, str(delay), str(burn)],
        env={"PATH": "/usr/bin:/bin"},
    )


def _child_pids(pid: int) -> list[int]:
    import psutil

    return [child.pid for child in psutil.Process(pid).children()]


@pytest.mark.live
def test_a_child_born_and_reaped_between_polls_keeps_its_cpu():
    """Never polled in between (the sampler thread is not started): without the
    parent's children counters, 0.6 s of CPU would vanish from the window."""
    parent = _spawn_parent(delay=0.5, burn=0.6)
    sampler = Sampler(parent.pid)
    try:
        time.sleep(0.2)
        sampler.mark_start()
        deadline = time.monotonic() + 20
        while not _child_pids(parent.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        while _child_pids(parent.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        sampler.mark_end()
        result = sampler.result()
    finally:
        parent.stop()
    assert result is not None
    # 0.6 s burned, plus the child interpreter's start-up and exit
    assert 0.6 <= result.server_cpu_s < 0.85, result.server_cpu_s


@pytest.mark.live
def test_a_child_seen_at_the_start_and_reaped_inside_is_counted_once():
    """Read at the window's start, then reaped: its CPU before the window must not
    count, and what its parent's counters now hold must not count twice."""
    import psutil

    parent = _spawn_parent(delay=0.0, burn=1.0)
    sampler = Sampler(parent.pid)
    try:
        deadline = time.monotonic() + 20
        while not _child_pids(parent.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        (child_pid,) = _child_pids(parent.pid)
        time.sleep(0.4)
        before = sum(psutil.Process(child_pid).cpu_times()[:2])
        sampler.mark_start()
        while _child_pids(parent.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        sampler.mark_end()
        result = sampler.result()
        total = sum(psutil.Process(parent.pid).cpu_times()[2:4])  # the reaped child, whole
    finally:
        parent.stop()
    assert result is not None
    expected = total - before
    assert 0.3 < expected < 1.0
    assert result.server_cpu_s == pytest.approx(expected, abs=0.05), (result.server_cpu_s, expected)


@pytest.mark.live
def test_memory_is_uss_and_pss_per_process_with_the_master_apart(tmp_path):
    script = (
        "import subprocess, sys, time\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'])\n"
        "time.sleep(30)\n"
    )
    parent = processes.spawn("tree", [sys.executable, "-c", script], env={"PATH": "/usr/bin:/bin"})
    sampler = Sampler(parent.pid)
    try:
        deadline = time.monotonic() + 20
        while not _child_pids(parent.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)
        sampler.mark_start()
        sampler.mark_end()
        result = sampler.result()
    finally:
        parent.stop()
    assert result is not None
    roles = sorted(entry["role"] for entry in result.server_memory)
    assert roles == ["master", "worker"]
    for entry in result.server_memory:
        # unique pages are a part of the proportional share, itself a part of RSS
        assert 0 < entry["uss_peak_mb"] <= entry["pss_peak_mb"] <= entry["rss_peak_mb"]
    # Two interpreters share their libraries: PSS adds up to less than RSS does.
    assert result.server_pss_peak_bytes < result.server_rss_peak_bytes


@pytest.mark.live
def test_the_load_generator_cores_are_measured_whole():
    """A spinning process pinned to a CPU makes that CPU busy, whoever it is."""
    cpu = max(os.sched_getaffinity(0))
    child = processes.spawn(
        "busy", [sys.executable, "-c", BUSY], env={"PATH": "/usr/bin:/bin"}, cpus=frozenset({cpu})
    )
    sampler = Sampler(None, loadgen_cpus=frozenset({cpu}))
    try:
        time.sleep(0.3)
        sampler.mark_start()
        time.sleep(1.0)
        sampler.mark_end()
        result = sampler.result()
    finally:
        child.stop()
    assert result is not None and result.loadgen_cores is not None
    assert result.loadgen_cores.busy_percent > 80
    assert 0 <= result.loadgen_cores.steal_percent < 50
