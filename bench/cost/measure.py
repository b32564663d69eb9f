"""One cell's instructions per request, by differencing two server runs.

Why differencing, and not callgrind_control toggling instrumentation at the
window's edges: a server's start-up (importing Django, the first request's
lazy set-up) costs hundreds of millions of instructions, and its shutdown
tens of millions, against about a million per request. Two runs of the same
server that differ only in how many requests they answer (``low`` and
``high``, each after one first request that waits for readiness) spend the
same on everything else, so ``(I_high - I_low) / (high - low)`` is the cost
of a request, and the intercept is what the rest cost. It needs nothing but
valgrind's exit-time files: no vgdb, no ptrace permission (often refused in
containers), and cachegrind, the fastest of valgrind's counting tools, has no
toggle at all. Its price is a second start-up per cell (5-10 s here). What it
cannot remove is work that grows with wall time rather than with requests
(an event loop's periodic tick, gunicorn's heartbeat): slower runs carry a
little more of it, which the spread of repeats shows.

The hops beside the count come from a separate, short run without valgrind,
with the project's switch accounting on: the accounting executes code of its
own on every hop, which must not be counted as the request's.
"""

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bench.cost import valgrind
from bench.cost.client import Client
from bench.cost.records import CostRepeat, HopCount, ProcessRecord, ServerRun
from bench.errors import BenchError
from bench.measure import counter_files
from bench.plan.matrix import Cell
from bench.serve import launch, processes
from bench.serve.ports import free_port
from bench.serve.servers import BUNDLED, ServerOptions, ServerSpec

# SIGTERM to exit: a process SIGKILLed under valgrind writes no count.
STOP_TIMEOUT = 120.0
# gunicorn kills its workers graceful-timeout seconds after a SIGTERM; under
# valgrind a worker's exit takes longer than the registry's 2 s.
GUNICORN_GRACE = ("--graceful-timeout", "60")


class CostError(BenchError):
    """A cell that could not be measured; the message says why."""


@dataclass(frozen=True)
class Target:
    """What one cell measures: its identity, the path requested, its server."""

    cell: Cell
    path: str
    spec: ServerSpec


@dataclass(frozen=True)
class CostSettings:
    """How a cost run measures each cell."""

    low: int = 200
    high: int = 600
    repeats: int = 3
    hop_requests: int = 200
    ready_timeout: float = 300.0
    cpus: frozenset[int] | None = None
    options: ServerOptions = field(default_factory=ServerOptions)


def server_argv(spec: ServerSpec, port: int, options: ServerOptions) -> list[str]:
    """The registry's command line for the bundled project, with room to exit."""
    app = BUNDLED.entry(spec.interface)
    assert app is not None
    argv = spec.command(app, options.host, port, options)
    if spec.name.startswith("gunicorn"):
        argv += GUNICORN_GRACE
    return argv


def server_run(
    target: Target,
    requests: int,
    out_dir: Path,
    tool: valgrind.Valgrind,
    env: Mapping[str, str],
    settings: CostSettings,
) -> ServerRun:
    """Start the server under valgrind, send one request and then ``requests``, stop it,
    and read every process's count."""
    out_dir.mkdir(parents=True, exist_ok=True)
    port = free_port(settings.options.host)
    argv = tool.command(server_argv(target.spec, port, settings.options), out_dir)
    child = processes.spawn(
        target.spec.name,
        argv,
        env={**env, **valgrind.ENVIRONMENT},
        cpus=settings.cpus,
        log_path=out_dir / "server.log",
    )
    client = Client(settings.options.host, port, timeout=settings.ready_timeout)
    try:
        client.connect_when_listening(child.alive, settings.ready_timeout)
        client.get(target.path)  # the first request: readiness and lazy set-up
        started = time.monotonic()
        client.send(target.path, requests)
        seconds = time.monotonic() - started
    except BenchError as exc:
        raise CostError(f"{target.cell.id}: {exc}" + _tail(child)) from None
    finally:
        client.close()
        child.stop(timeout=STOP_TIMEOUT)
    counts = valgrind.read_counts(out_dir)
    return ServerRun(
        requests=requests,
        instructions=sum(count.instructions for count in counts),
        processes=[ProcessRecord(c.pid, c.command, c.instructions) for c in counts],
        seconds=round(seconds, 3),
    )


def _tail(child: processes.Child) -> str:
    tail = child.log_tail(5).replace("\n", " | ")
    return f" (server log: {tail})" if tail else ""


def difference(index: int, low: ServerRun, high: ServerRun) -> CostRepeat:
    """The repeat of two server runs: the slope and intercept of their line."""
    if len(low.processes) != len(high.processes):
        raise CostError(
            f"the two runs had {len(low.processes)} and {len(high.processes)} processes: "
            "their trees differ, so their counts cannot be differenced"
        )
    if high.requests <= low.requests:
        raise CostError("the high run must send more requests than the low one")
    per_request = (high.instructions - low.instructions) / (high.requests - low.requests)
    return CostRepeat(
        index=index,
        low=low,
        high=high,
        instructions_per_request=per_request,
        fixed_instructions=low.instructions - per_request * low.requests,
    )


def repeat(
    target: Target,
    index: int,
    raw_dir: Path,
    tool: valgrind.Valgrind,
    env: Mapping[str, str],
    settings: CostSettings,
) -> CostRepeat:
    """One repeat of a cell: the low and the high run, differenced."""
    runs = []
    for requests in (settings.low, settings.high):
        out_dir = raw_dir / f"r{index}" / f"n{requests}"
        run = server_run(target, requests, out_dir, tool, env, settings)
        run.raw = str(out_dir.relative_to(raw_dir.parent.parent))
        runs.append(run)
    return difference(index, *runs)


def hops(target: Target, raw_dir: Path, env: Mapping[str, str], settings: CostSettings) -> HopCount:
    """Switches per request of the cell, from the accounting's counter files
    read after the first request and after ``hop_requests`` more."""
    counter_dir = raw_dir / "accounting"
    counter_dir.mkdir(parents=True, exist_ok=True)
    server_env = {
        **env,
        "BENCH_SWITCH_ACCOUNTING": "1",
        "BENCH_ACCOUNTING_DIR": str(counter_dir),
    }
    server = launch.start(
        target.spec,
        env=server_env,
        log_path=raw_dir / "accounting.log",
        cpus=settings.cpus,
        options=settings.options,
        ready_path=target.path,
    )
    client = Client(settings.options.host, server.port, timeout=30.0)
    try:
        client.connect_when_listening(server.alive, 30.0)
        client.get(target.path)
        before = counter_files.read_totals(counter_dir)
        client.send(target.path, settings.hop_requests)
        after = counter_files.read_totals(counter_dir)
    finally:
        client.close()
        server.stop()
    if before is None or after is None:
        raise CostError(f"{target.cell.id}: the server wrote no switch counters")
    return HopCount(
        requests=after["requests"] - before["requests"],
        sync_to_async=after["sync_to_async"] - before["sync_to_async"],
        async_to_sync=after["async_to_sync"] - before["async_to_sync"],
    )
