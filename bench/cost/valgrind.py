"""valgrind's command line around a server, and the counts it leaves behind.

Cachegrind with its cache and branch simulation off counts executed
instructions (``Ir``) and nothing else: the cheapest of valgrind's tools that
counts, about 15-40x slower than native for these servers. Every process of
the server's tree runs under it (``--trace-children=yes`` follows exec;
forked workers are followed anyway) and writes its own
``cachegrind.out.<pid>`` when it exits, so a process killed with SIGKILL
leaves no count: the caller must let the tree exit on SIGTERM.

What else would make two runs of the same requests differ is fixed here:
address-space randomisation off (``setarch -R``, as CodSpeed's runner does),
the string hash seed (``PYTHONHASHSEED``, which orders sets and dicts of
strings) and CPython's small-object allocator replaced by malloc
(``PYTHONMALLOC=malloc``, which valgrind then sees through).
"""

import platform
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.errors import BenchError

TOOL = "cachegrind"
OPTIONS = (
    f"--tool={TOOL}",
    "--cache-sim=no",
    "--branch-sim=no",
    "--trace-children=yes",
)
# What the server's Python runs with under valgrind (recorded with the results).
ENVIRONMENT = {"PYTHONHASHSEED": "0", "PYTHONMALLOC": "malloc"}
OUT_PREFIX = "cachegrind.out."
EVENT = "Ir"  # instructions executed


class ValgrindError(BenchError):
    """valgrind is missing, or left no usable count; the message says which."""


@dataclass(frozen=True)
class Valgrind:
    """The valgrind this machine has, and how a server is run under it."""

    executable: str
    version: str
    setarch: str

    def command(self, argv: Sequence[str], out_dir: Path) -> list[str]:
        """``argv`` under valgrind, its counts and logs written to ``out_dir``
        (one file per process, named by its pid)."""
        return [
            self.setarch,
            platform.machine(),
            "-R",
            self.executable,
            *OPTIONS,
            f"--cachegrind-out-file={out_dir / OUT_PREFIX}%p",
            f"--log-file={out_dir}/valgrind.%p.log",
            *argv,
        ]

    def options(self) -> list[str]:
        """The options every run is given (output paths aside), as recorded."""
        return ["setarch", platform.machine(), "-R", "valgrind", *OPTIONS]


def find() -> Valgrind:
    """The installed valgrind and setarch, or one line saying how to get them."""
    executable = shutil.which("valgrind")
    setarch = shutil.which("setarch")
    if executable is None:
        raise ValgrindError(
            "valgrind is not installed: the cost mode counts instructions with it "
            "(apt-get install valgrind)"
        )
    if setarch is None:
        raise ValgrindError("setarch is not installed (util-linux): needed to turn off ASLR")
    try:
        found = subprocess.run(
            [executable, "--version"], capture_output=True, text=True, timeout=30, check=True
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise ValgrindError(f"valgrind --version failed: {exc}") from None
    return Valgrind(executable=executable, version=found.stdout.strip(), setarch=setarch)


@dataclass(frozen=True)
class ProcessCount:
    """One process's total, read from its output file."""

    pid: int
    command: str
    instructions: int


def parse(text: str, pid: int) -> ProcessCount:
    """A cachegrind.out file's command and its total of ``Ir``.

    The ``events:`` line names the columns and ``summary:`` holds the
    process's totals in that order (a cachegrind with the cache simulation on
    has more columns than Ir).
    """
    command, events, summary = "", None, None
    for line in text.splitlines():
        if line.startswith("cmd:"):
            command = line.removeprefix("cmd:").strip()
        elif line.startswith("events:"):
            events = line.removeprefix("events:").split()
        elif line.startswith("summary:"):
            summary = line.removeprefix("summary:").split()
    if events is None or summary is None or EVENT not in events:
        raise ValgrindError(f"{OUT_PREFIX}{pid} has no summary of {EVENT}")
    return ProcessCount(pid=pid, command=command, instructions=int(summary[events.index(EVENT)]))


def read_counts(out_dir: Path) -> list[ProcessCount]:
    """Every process's count in ``out_dir``, by pid; an error when there is none."""
    counts = []
    for path in sorted(out_dir.glob(f"{OUT_PREFIX}*")):
        pid_text = path.name.removeprefix(OUT_PREFIX)
        if not pid_text.isdigit():
            continue
        counts.append(parse(path.read_text(errors="replace"), int(pid_text)))
    if not counts:
        raise ValgrindError(
            f"valgrind wrote no counts in {out_dir}: was the server killed before it exited?"
        )
    return sorted(counts, key=lambda count: count.pid)
