import sys
import time

import psutil
import pytest

from bench.serve import processes

SPAWN_GRANDCHILD = (
    "import subprocess, sys, time;"
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']);"
    "print('ready', flush=True); time.sleep(60)"
)


def test_stop_ends_the_whole_tree(tmp_path):
    child = processes.spawn(
        "tree",
        [sys.executable, "-c", SPAWN_GRANDCHILD],
        env={"PATH": "/usr/bin:/bin"},
        log_path=tmp_path / "tree.log",
    )
    deadline = time.monotonic() + 10
    while len(child.tree()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    tree = child.tree()
    assert len(tree) == 2
    assert child in processes.live_children()
    child.stop(timeout=2)
    assert not any(proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE for proc in tree)
    assert child not in processes.live_children()


def test_children_are_pinned_and_logged(tmp_path):
    cpu = sorted(psutil.Process().cpu_affinity())[0]
    child = processes.spawn(
        "pinned",
        [sys.executable, "-c", "import os; print(sorted(os.sched_getaffinity(0)))"],
        env={"PATH": "/usr/bin:/bin"},
        cpus=frozenset({cpu}),
        log_path=tmp_path / "p.log",
    )
    child.popen.wait(timeout=10)
    child.stop()
    assert child.log_tail() == f"[{cpu}]"


@pytest.mark.parametrize(("text", "cpus"), [("0", {0}), ("0,2", {0, 2}), ("1-3", {1, 2, 3})])
def test_cpu_lists(text, cpus):
    assert processes.parse_cpus(text) == cpus
    assert processes.format_cpus(frozenset(cpus)) == ",".join(map(str, sorted(cpus)))


def test_bad_cpu_lists():
    for text in ("", "a", "1-x"):
        with pytest.raises(ValueError):
            processes.parse_cpus(text)
