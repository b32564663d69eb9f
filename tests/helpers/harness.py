"""Run the real harness as a subprocess and watch every process it starts."""

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--duration", "2", "--warmup", "0.5", "--repeats", "1"]


def harness(*args: str, env: dict | None = None) -> subprocess.Popen:
    """``python -m bench ARGS`` with output captured as text."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "bench", *args],
        cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def descendants_while_running(
    proc: subprocess.Popen,
    until: Callable[[], bool] = lambda: False,
    limit: float = 180,
    commands: list[str] | None = None,
) -> set[int]:
    """PIDs of everything the harness started, watched until ``until()`` or its end;
    their command lines are appended to ``commands`` when one is given."""
    seen: set[int] = set()
    deadline = time.monotonic() + limit
    while proc.poll() is None and time.monotonic() < deadline and not until():
        try:
            children = psutil.Process(proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            break
        for child in children:
            if child.pid not in seen and commands is not None:
                try:
                    commands.append(" ".join(child.cmdline()))
                except psutil.NoSuchProcess:
                    continue
            seen.add(child.pid)
        time.sleep(0.05)
    return seen


def child_matching(proc: subprocess.Popen, text: str) -> psutil.Process | None:
    """A descendant of the harness whose command line contains ``text``."""
    try:
        for child in psutil.Process(proc.pid).children(recursive=True):
            try:
                if text in " ".join(child.cmdline()):
                    return child
            except psutil.NoSuchProcess:
                continue
    except psutil.NoSuchProcess:
        pass
    return None


def assert_all_gone(pids: set[int]) -> None:
    alive = []
    for pid in pids:
        try:
            process = psutil.Process(pid)
            if process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process.cmdline())
        except psutil.NoSuchProcess:
            pass
    assert not alive, f"left behind: {alive}"


def only_run(results: Path) -> Path:
    runs = [path for path in results.iterdir() if not path.is_symlink()]
    assert len(runs) == 1, runs
    return runs[0]
