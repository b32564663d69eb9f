"""One cell's instructions per request, by differencing two server runs.

Why differencing, and not callgrind toggling instrumentation at the window's
edges: a server's start-up (importing Django, the first request's lazy
set-up) costs hundreds of millions of instructions, and its shutdown tens of
millions, against about a million per request. Two runs of the same server
that differ only in how many requests they answer (``low`` and ``high``, each
after one first request that waits for readiness) spend the same on
everything else, so ``(I_high - I_low) / (high - low)`` is the cost of a
request, and the intercept is what the rest cost. Callgrind can count a
window alone (client requests, or ``callgrind_control``), but it tracks every
call and return: in one trial here (under load) it executed about 13 M
instructions a second against about 200 M for cachegrind with its
simulations off, which has no toggle in valgrind 3.19 (it gained one in
3.22). Differencing needs nothing but valgrind's exit-time files: no vgdb,
no ptrace permission.

What would not cancel is work whose schedule differs between the two runs.
A full garbage collection of the start-up heap would be the largest
(``in_server/window.py``): one ``gc.collect()`` before the counted requests
empties every generation, and each run records the collections its counted
requests held, so a repeat whose runs held different numbers of full
collections says so. Work that grows with wall time rather than with
requests would not cancel either: uvicorn's main loop wakes ten times a
second (259 k instructions a second under valgrind, idle), gunicorn's
arbiter and worker once a second, and a run's seconds move with the
machine's load. So the high run goes first, and the low run, once its
requests are answered, waits idle until it has lasted as long: both carry
the same seconds of the clock's work, and it cancels (idle: what the
clock costs while requests run, if it differs, does not).

A cell's figure is the median of its repeats, and a repeat more than
``AGREEMENT`` from it is named (``records.CostCell``): once, in a CI run,
one worker run counted about 160 M instructions out of line with its twin,
for a cause not found; the median and the flag keep such a repeat from
becoming the figure unseen.

The hops beside the count come from a separate, short run without valgrind,
with the project's switch accounting on: the accounting executes code of its
own on every hop, which must not be counted as the request's.
"""

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bench.cost import valgrind
from bench.cost.client import Client, ClientError
from bench.cost.records import (
    AGREEMENT,
    CostCell,
    CostRepeat,
    HopCount,
    ProcessRecord,
    ServerRun,
)
from bench.errors import BenchError
from bench.measure import counter_files
from bench.plan.matrix import Cell
from bench.serve import launch, processes
from bench.serve.ports import free_port
from bench.serve.servers import BUNDLED, Application, ServerOptions, ServerSpec

# SIGTERM to exit: a process SIGKILLed under valgrind writes no count.
STOP_TIMEOUT = 120.0
# gunicorn kills its workers graceful-timeout seconds after a SIGTERM; under
# valgrind a worker's exit takes longer than the registry's 2 s.
GUNICORN_GRACE = ("--graceful-timeout", "60")


class CostError(BenchError):
    """A cell that could not be measured; the message says why."""


@dataclass(frozen=True)
class Target:
    """What one cell measures: its identity, the path requested, its server,
    and what that server serves (the bundled project, or a user's site)."""

    cell: Cell
    path: str
    spec: ServerSpec
    application: Application = BUNDLED


@dataclass(frozen=True)
class CostSettings:
    """How a cost run measures each cell."""

    low: int = 200
    high: int = 600
    repeats: int = 3
    hop_requests: int = 200
    # strace's two windows in a run of their own; None: not counted.
    syscall_requests: tuple[int, int] | None = (50, 150)
    ready_timeout: float = 300.0
    cpus: frozenset[int] | None = None
    options: ServerOptions = field(default_factory=ServerOptions)


WINDOW_MODULE = "bench.cost.in_server.window"
WINDOW_PREFIX = "/__djbench__/cost/"  # the wrapper's control paths (begin, end)


def served(spec: ServerSpec, application: Application = BUNDLED) -> tuple[str, dict[str, str]]:
    """The application a cost server serves (``application`` inside the
    window's control paths) and its environment: the application's own and
    the variable that names what the window wraps."""
    app = application.entry(spec.interface)
    if app is None:
        raise CostError(f"{application.name} has no {spec.interface.upper()} application")
    env = dict(application.env)
    if spec.interface == "wsgi":
        return f"{WINDOW_MODULE}:wsgi_application", {**env, "BENCH_COST_WSGI": app}
    return f"{WINDOW_MODULE}:asgi_application", {**env, "BENCH_COST_ASGI": app}


def server_argv(
    spec: ServerSpec, port: int, options: ServerOptions, application: Application = BUNDLED
) -> list[str]:
    """The registry's command line for the wrapped application, with room to exit."""
    app, _ = served(spec, application)
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
    last_seconds: float = 0.0,
) -> ServerRun:
    """Start the server under valgrind, send one request and then ``requests``, stop it,
    and read every process's count. The run lasts at least ``last_seconds`` from
    its first counted request to its last control request: a run with fewer
    requests waits out the rest idle, so that both runs of a repeat carry the
    same seconds of the work that follows the clock (see the module's docstring)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    port = free_port(settings.options.host)
    application = target.application
    argv = tool.command(server_argv(target.spec, port, settings.options, application), out_dir)
    _, wrapped = served(target.spec, application)
    child = processes.spawn(
        target.spec.name,
        argv,
        env={**env, **wrapped, **valgrind.ENVIRONMENT},
        cpus=settings.cpus,
        log_path=out_dir / "server.log",
        cwd=application.cwd,
    )
    client = Client(
        settings.options.host, port, timeout=settings.ready_timeout, accept=application.answers
    )
    try:
        client.connect_when_listening(child.alive, settings.ready_timeout)
        client.get(target.path)  # the first request: readiness and lazy set-up
        retried = False
        before = control_state(client.get(f"{WINDOW_PREFIX}begin"))
        started = time.monotonic()
        client.send(target.path, requests)
        seconds = time.monotonic() - started
        idle = max(0.0, last_seconds - seconds)
        # A new connection for the last control request, in both runs alike:
        # the server closes a keep-alive connection idle longer than 2-5 s.
        client.close()
        time.sleep(idle)
        client.connect_when_listening(child.alive, settings.ready_timeout)
        try:
            after = control_state(client.get(f"{WINDOW_PREFIX}end"))
        except ClientError:
            # Once, in a run sharing the machine with a pip install, every cell's
            # server closed this new connection unanswered; ``end`` reads state
            # only, so it is asked again on another (a connection's cost is in
            # this run alone: a few thousand instructions over the repeat).
            client.close()
            client.connect_when_listening(child.alive, settings.ready_timeout)
            after = control_state(client.get(f"{WINDOW_PREFIX}end"))
            retried = True
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
        idle_seconds=round(idle, 3),
        control_retried=retried,
        collections=[b - a for a, b in zip(before.collections, after.collections, strict=True)],
    )


@dataclass(frozen=True)
class ControlState:
    """A control path's answer: the pid that answered, the collector's counts."""

    pid: int
    collections: list[int]


def control_state(body: bytes) -> ControlState:
    """The state a control answer carries; an error for anything else (a server
    that does not serve the window wrapper answers its own page or a 404)."""
    try:
        data = json.loads(body)
        return ControlState(pid=int(data["pid"]), collections=[int(n) for n in data["collections"]])
    except (ValueError, KeyError, TypeError):
        raise CostError(
            "the server did not answer the cost window's control path "
            f"({WINDOW_PREFIX}begin): is it serving {WINDOW_MODULE}?"
        ) from None


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
    notes = []
    if low.collections and high.collections and low.collections[-1] != high.collections[-1]:
        notes.append(
            f"the low run's requests held {low.collections[-1]} full garbage collections "
            f"and the high run's {high.collections[-1]}: a full collection's cost is in "
            "the difference"
        )
    return CostRepeat(
        index=index,
        low=low,
        high=high,
        instructions_per_request=per_request,
        fixed_instructions=low.instructions - per_request * low.requests,
        notes=notes,
    )


def repeat(
    target: Target,
    index: int,
    raw_dir: Path,
    tool: valgrind.Valgrind,
    env: Mapping[str, str],
    settings: CostSettings,
) -> CostRepeat:
    """One repeat of a cell: the high run, then the low run as long as it was
    (``server_run``'s ``last_seconds``), differenced."""
    runs: dict[int, ServerRun] = {}
    for requests in (settings.high, settings.low):
        out_dir = raw_dir / f"r{index}" / f"n{requests}"
        last = runs[settings.high].seconds if settings.high in runs else 0.0
        run = server_run(target, requests, out_dir, tool, env, settings, last_seconds=last)
        run.raw = str(out_dir.relative_to(raw_dir.parent.parent))
        runs[requests] = run
    return difference(index, runs[settings.low], runs[settings.high])


def start_plain(
    target: Target, env: Mapping[str, str], settings: CostSettings, log_path: Path
) -> tuple[launch.RunningServer, Client]:
    """The cell's server without valgrind, ready, and a client for it: the hop
    count's run and the system calls' run. ``env`` already holds the
    application's environment."""
    application = target.application
    server = launch.start(
        target.spec,
        env=env,
        log_path=log_path,
        cpus=settings.cpus,
        options=settings.options,
        app=application.entry(target.spec.interface),
        ready_path=target.path,
        ready=application.ready,
        cwd=application.cwd,
    )
    client = Client(settings.options.host, server.port, timeout=30.0, accept=application.answers)
    return server, client


def disagreements(document_cells: list[CostCell]) -> list[str]:
    """One line per repeat out of line with its cell's median, and why if known."""
    lines = []
    for cost in document_cells:
        for repeat in cost.disagreeing():
            why = "; ".join(repeat.notes) or "no collection or other cause was recorded"
            lines.append(
                f"{cost.label}: repeat {repeat.index} "
                f"({repeat.instructions_per_request / 1e6:.3f} M) is more than "
                f"{100 * AGREEMENT:g}% from the median: {why}"
            )
    return lines


def hops(target: Target, raw_dir: Path, env: Mapping[str, str], settings: CostSettings) -> HopCount:
    """Switches per request of the cell, from the accounting's counter files
    read after the first request and after ``hop_requests`` more."""
    counter_dir = raw_dir / "accounting"
    counter_dir.mkdir(parents=True, exist_ok=True)
    application = target.application
    server_env = {
        **env,
        **dict(application.env),
        "BENCH_SWITCH_ACCOUNTING": "1",
        "BENCH_ACCOUNTING_DIR": str(counter_dir),
    }
    server, client = start_plain(target, server_env, settings, raw_dir / "accounting.log")
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
