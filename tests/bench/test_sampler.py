import sys
import time

import pytest

from bench import processes
from bench.sampler import Sampler

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
