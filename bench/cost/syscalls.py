"""System calls per request, by kind: the kernel's side that valgrind does not count.

Valgrind counts the instructions a server executes in user space; a
``sync_to_async`` hop is mostly a hand-off between threads, which costs in
the kernel (a futex wake, a context switch) and shows only as system calls.
So beside the instruction count, each cell is run once more without valgrind
and ``strace -c`` is attached to every process of its tree (``-f`` on an
attached process follows all its threads and the ones it starts) for two
windows of its requests, ``low`` then ``high`` requests, in one server run.
The difference of the two windows, per system call, divided by
``high - low`` is its calls per request: attaching and detaching, and the
idle calls of the first moment, are in both windows and cancel.

strace slows every system call down by an order of magnitude, which is why
this is a pass of its own: nothing timed, and no instruction count, is taken
while it is attached.
"""

import os
import re
import select
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

import psutil

from bench.cost.client import Client
from bench.cost.measure import CostError, CostSettings, Target, start_plain
from bench.cost.records import SyscallCount, SyscallRate

ATTACH_TIMEOUT = 20.0


def parse_summary(text: str) -> dict[str, tuple[int, int]]:
    """``strace -c -U name,calls,errors``'s table: syscall -> (calls, errors).

    The table is a header, a rule of dashes, one row per system call, and a
    ``total`` row after a second rule; a row's errors column is blank when
    the call never failed.
    """
    found: dict[str, tuple[int, int]] = {}
    rules = 0
    for line in text.splitlines():
        if line.startswith("---"):
            rules += 1
            continue
        if rules != 1:
            continue
        fields = line.split()
        if len(fields) < 2 or not fields[1].isdigit():
            continue
        errors = int(fields[2]) if len(fields) > 2 and fields[2].isdigit() else 0
        found[fields[0]] = (int(fields[1]), errors)
    return found


_ATTACHED = re.compile(r"Process (\d+) attached")


def _wait_attached(tracer: subprocess.Popen, pids: list[int]) -> None:
    """Return once strace says it attached to every process in ``pids``.

    strace writes "Process N attached" (with ``-f``: "... attached with K
    threads", every thread at once) before it counts anything of N;
    requests sent earlier would be counted short. Its stderr is read with
    ``os.read``, not a buffered reader, so ``select`` sees every byte.
    """
    assert tracer.stderr is not None
    fd = tracer.stderr.fileno()
    waiting, deadline, text = set(pids), time.monotonic() + ATTACH_TIMEOUT, ""
    while waiting:
        ready, _, _ = select.select([fd], [], [], max(deadline - time.monotonic(), 0))
        chunk = os.read(fd, 4096).decode(errors="replace") if ready else ""
        if not chunk:
            last = text.strip().splitlines()[-1:] or ["no output"]
            raise CostError(
                f"strace did not attach to {sorted(waiting)} within {ATTACH_TIMEOUT:g} s: {last[0]}"
            )
        text += chunk
        waiting -= {int(pid) for pid in _ATTACHED.findall(text)}


def _window(
    strace: str, pid: int, client: Client, path: str, requests: int, out: Path
) -> dict[str, tuple[int, int]]:
    """Attach to the tree of ``pid``, send ``requests``, detach: the table."""
    pids = [pid, *(child.pid for child in psutil.Process(pid).children(recursive=True))]
    argv = [strace, "-f", "-c", "-U", "name,calls,errors", "-o", str(out)]
    for traced in pids:
        argv += ["-p", str(traced)]
    tracer = subprocess.Popen(argv, stderr=subprocess.PIPE)
    try:
        _wait_attached(tracer, pids)
        client.send(path, requests)
    finally:
        tracer.send_signal(signal.SIGINT)  # detach and write the table
        try:
            tracer.wait(timeout=30)
        except subprocess.TimeoutExpired:
            tracer.kill()
            tracer.wait()
    return parse_summary(out.read_text() if out.exists() else "")


def count(
    target: Target, raw_dir: Path, env: Mapping[str, str], settings: CostSettings
) -> SyscallCount:
    """System calls per request of the cell, by kind."""
    strace = shutil.which("strace")
    if strace is None:
        raise CostError("strace is not installed (apt-get install strace), or pass --no-syscalls")
    out_dir = raw_dir / "syscalls"
    out_dir.mkdir(parents=True, exist_ok=True)
    server, client = start_plain(
        target, {**env, **dict(target.application.env)}, settings, out_dir / "server.log"
    )
    low, high = settings.syscall_requests
    try:
        client.connect_when_listening(server.alive, 30.0)
        client.send(target.path, 20)  # threads and lazy set-up before either window
        pid = server.child.popen.pid
        tables = [
            _window(strace, pid, client, target.path, requests, out_dir / f"strace.{requests}.txt")
            for requests in (low, high)
        ]
    finally:
        client.close()
        server.stop()
    return difference(low, high, *tables)


def difference(
    low: int,
    high: int,
    low_table: dict[str, tuple[int, int]],
    high_table: dict[str, tuple[int, int]],
) -> SyscallCount:
    """The two windows' tables differenced, per system call, per request."""
    rates = []
    for name in sorted(set(low_table) | set(high_table)):
        calls_low, errors_low = low_table.get(name, (0, 0))
        calls_high, errors_high = high_table.get(name, (0, 0))
        rates.append(
            SyscallRate(
                name=name,
                calls=(calls_high - calls_low) / (high - low),
                errors=(errors_high - errors_low) / (high - low),
            )
        )
    rates.sort(key=lambda rate: -rate.calls)
    return SyscallCount(low_requests=low, high_requests=high, rates=rates)
