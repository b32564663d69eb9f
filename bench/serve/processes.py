"""Child processes the harness starts: pinned, logged, and always stopped.

Every child runs in its own session (so its whole tree can be signalled at
once), pinned to its CPU set, and asks the kernel to kill it if the harness
dies (PR_SET_PDEATHSIG), so that not even a SIGKILLed harness leaves a server
or a locust behind. Live children are tracked in one registry that
``stop_all`` empties; the CLI calls it on every way out.
"""

import contextlib
import ctypes
import os
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

_PR_SET_PDEATHSIG = 1


def _child_setup(cpus: frozenset[int] | None) -> None:  # pragma: no cover - runs in the child
    if cpus:
        os.sched_setaffinity(0, cpus)
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass(eq=False)
class Child:
    """A started process and where its output goes."""

    name: str
    popen: subprocess.Popen
    log_path: Path | None

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tree(self) -> list[psutil.Process]:
        """The process and all its descendants that still exist."""
        try:
            root = psutil.Process(self.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def log_tail(self, lines: int = 15) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        text = self.log_path.read_text(errors="replace").rstrip().splitlines()
        return "\n".join(text[-lines:])

    def stop(self, timeout: float = 5.0) -> int | None:
        """SIGTERM the whole tree, then SIGKILL what is left after ``timeout``."""
        tree = self.tree()
        _signal_group(self.pid, signal.SIGTERM)
        for proc in tree:
            _signal(proc, signal.SIGTERM)
        _, alive = psutil.wait_procs(tree, timeout=timeout)
        if alive:
            _signal_group(self.pid, signal.SIGKILL)
            for proc in alive:
                _signal(proc, signal.SIGKILL)
            psutil.wait_procs(alive, timeout=timeout)
        try:
            code = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:  # pragma: no cover - kernel refused SIGKILL
            code = None
        _registry.discard(self)
        return code


def _signal_group(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)


def _signal(proc: psutil.Process, signum: int) -> None:
    with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
        proc.send_signal(signum)


class _Registry:
    def __init__(self) -> None:
        self._children: set[Child] = set()
        self._lock = threading.Lock()

    def add(self, child: Child) -> None:
        with self._lock:
            self._children.add(child)

    def discard(self, child: Child) -> None:
        with self._lock:
            self._children.discard(child)

    def snapshot(self) -> list[Child]:
        with self._lock:
            return list(self._children)


_registry = _Registry()


def spawn(
    name: str,
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cpus: frozenset[int] | None = None,
    log_path: Path | None = None,
    cwd: Path | None = None,
    stdout_pipe: bool = False,
) -> Child:
    """Start ``argv`` pinned to ``cpus``, stdout and stderr to ``log_path``.

    With ``stdout_pipe`` stdout is a pipe the caller reads (locust's window
    markers) and only stderr goes to the log.
    """
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    try:
        popen = subprocess.Popen(
            list(argv),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if stdout_pipe else log,
            stderr=log,
            start_new_session=True,
            preexec_fn=lambda: _child_setup(cpus),
        )
    finally:
        if log_path:
            log.close()  # type: ignore[union-attr]
    child = Child(name=name, popen=popen, log_path=log_path)
    _registry.add(child)
    return child


def live_children() -> list[Child]:
    """Children started and not yet stopped."""
    return _registry.snapshot()


def stop_all(timeout: float = 5.0) -> None:
    """Stop every child still registered (servers, locust, upstream)."""
    for child in _registry.snapshot():
        child.stop(timeout=timeout)


def parse_cpus(text: str) -> frozenset[int]:
    """``"0"``, ``"0,2"`` or ``"0-3"`` as a set of CPU numbers."""
    cpus: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            low, high = part.split("-", 1)
            cpus.update(range(int(low), int(high) + 1))
        else:
            cpus.add(int(part))
    if not cpus:
        raise ValueError(f"no CPUs in {text!r}")
    return frozenset(cpus)


def format_cpus(cpus: frozenset[int] | None) -> str:
    return ",".join(str(cpu) for cpu in sorted(cpus)) if cpus else "any"
