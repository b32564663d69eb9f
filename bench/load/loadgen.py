"""locust as a subprocess: its command line, its start, and its markers.

locust runs headless with ``bench/load/in_locust/plugin.py`` loaded beside the
scenario. The plugin announces the measured window on stdout; this module
relays those announcements to callbacks (so the server is sampled over the
same seconds). What locust leaves behind (the exact samples, its own
``--json-file`` totals, its CSV and HTML reports in the cell's directory) is
read by ``bench.load.output``.
"""

import contextlib
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.serve import processes
from bench.serve.ports import free_port

PLUGIN = Path(__file__).resolve().parent / "in_locust" / "plugin.py"
STOP_TIMEOUT = 10.0  # seconds locust waits for requests in flight when the window closes


@dataclass(frozen=True)
class Topology:
    """How locust is laid out: one process, or a master and its workers."""

    workers: int = 0  # local workers; 0 with no remote ones: a single process
    remote_workers: int = 0  # workers started by hand on other machines
    master_bind: str = "127.0.0.1"  # where the master listens for workers
    master_port: int | None = None  # None: a free port (remote workers need a fixed one)

    @property
    def distributed(self) -> bool:
        return bool(self.workers or self.remote_workers)


@dataclass(frozen=True)
class OpenLoopSpec:
    """Requests fall due at ``rate`` per second; ``users`` of the LoadSpec is the pool."""

    rate: float
    schedule: str = "uniform"  # or "poisson"
    late_bound: float = 1.0  # seconds after its due time a request is dropped unsent
    seed: int = 0

    def arguments(self) -> list[str]:
        return [
            "--bench-rate", f"{self.rate:g}",
            "--bench-schedule", self.schedule,
            "--bench-late-bound", f"{self.late_bound:g}",
            "--bench-seed", str(self.seed),
        ]  # fmt: skip


@dataclass(frozen=True)
class LoadSpec:
    scenario_path: Path
    user_class: str  # "": every User class of the locustfile (a user's own)
    users: int
    style: str | None  # None: the locustfile takes no --style (calibration)
    host: str | None  # None: given later, through the go file
    warmup: float
    duration: float
    topology: Topology = field(default_factory=Topology)
    open_loop: OpenLoopSpec | None = None  # None: closed loop, users send back to back

    @property
    def time_limit(self) -> float:
        """locust's own -t: a hard bound on the run, well past the window's end."""
        spawn = 2.0  # every user is started within a second (-r equals -u)
        return spawn + self.warmup + self.duration + STOP_TIMEOUT + 20


def _files(spec: LoadSpec) -> str:
    return f"{spec.scenario_path},{PLUGIN}"


def locust_command(
    spec: LoadSpec, out_dir: Path, master_port: int | None = None, go_file: Path | None = None
) -> list[str]:
    """The locust command line for one measured run (headless, bounded); with
    ``master_port``, the command of the master of a distributed run; with
    ``go_file``, locust waits for that file to name the host."""
    distributed = []
    if master_port is not None:
        distributed = [
            "--master",
            "--master-bind-host", spec.topology.master_bind,
            "--master-bind-port", str(master_port),
            "--expect-workers", str(spec.topology.workers + spec.topology.remote_workers),
            "--expect-workers-max-wait", "60",
        ]  # fmt: skip
    return [
        sys.executable,
        "-m",
        "locust",
        "-f",
        _files(spec),
        "--headless",
        "--only-summary",
        "--loglevel",
        "WARNING",
        "-u",
        str(spec.users),
        "-r",
        str(spec.users),
        *(("-H", spec.host) if spec.host else ()),
        "-t",
        f"{int(spec.time_limit)}s",
        "--stop-timeout",
        f"{STOP_TIMEOUT:g}",
        *(("--style", spec.style) if spec.style else ()),
        "--json-file",
        str(out_dir / "locust"),
        "--csv",
        str(out_dir / "locust"),
        "--html",
        str(out_dir / "locust.html"),
        "--bench-warmup",
        f"{spec.warmup:g}",
        "--bench-duration",
        f"{spec.duration:g}",
        "--bench-out",
        str(out_dir / "samples"),
        *(spec.open_loop.arguments() if spec.open_loop else ()),
        *distributed,
        *(("--bench-go-file", str(go_file)) if go_file else ()),
        *((spec.user_class,) if spec.user_class else ()),  # none named: every User class
    ]


def worker_command(spec: LoadSpec, out_dir: Path, master_port: int, index: int = 0) -> list[str]:
    """A local worker of a distributed run; remote ones run the same by hand
    (open loop: each with its own ``--bench-process index/count``)."""
    share = []
    if spec.open_loop:
        count = spec.topology.workers + spec.topology.remote_workers
        share = [*spec.open_loop.arguments(), "--bench-process", f"{index}/{count}"]
    return [
        sys.executable, "-m", "locust",
        "-f", _files(spec),
        "--worker", "--master-host", "127.0.0.1", "--master-port", str(master_port),
        "--loglevel", "WARNING",
        *(("--style", spec.style) if spec.style else ()),
        "--bench-out", str(out_dir / "samples"),
        *share,
        *((spec.user_class,) if spec.user_class else ()),
    ]  # fmt: skip


@dataclass
class LocustRun:
    """One finished locust process and where its output is."""

    out_dir: Path
    exit_code: int | None
    log_path: Path


def parse_marker(line: str) -> tuple[str, list[str]] | None:
    """``BENCH_WINDOW_START 1.5`` -> ("WINDOW_START", ["1.5"]); other lines -> None."""
    if not line.startswith("BENCH_"):
        return None
    words = line.strip().split()
    return words[0].removeprefix("BENCH_"), words[1:]


class Locust:
    """One locust run, started before its server is ready.

    Importing locust takes about a second, so the process starts while the
    server does; the plugin holds it back until ``release`` writes the
    server's address into the go file. ``follow`` then relays the window
    markers as they arrive and returns when locust has ended.
    """

    def __init__(
        self, spec: LoadSpec, out_dir: Path, *, cpus: frozenset[int] | None, env: dict[str, str]
    ) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        self.spec = spec
        self.out_dir = out_dir
        self.log_path = out_dir / "locust.log"
        self.go_file = out_dir / "go"
        self.go_file.unlink(missing_ok=True)
        master_port = None
        topology = spec.topology
        if topology.distributed:
            bind = topology.master_bind
            master_port = topology.master_port or free_port(
                "127.0.0.1" if bind in ("127.0.0.1", "0.0.0.0") else bind
            )
        command = locust_command(spec, out_dir, master_port, self.go_file)
        self.child = processes.spawn(
            "locust", command, env=env, cpus=cpus, log_path=self.log_path, stdout_pipe=True
        )
        self.workers = [
            processes.spawn(
                f"locust-worker-{index}",
                worker_command(spec, out_dir, master_port, index),
                env=env,
                cpus=cpus,
                log_path=out_dir / f"locust-worker-{index}.log",
            )
            for index in range(topology.workers if master_port else 0)
        ]

    @property
    def processes(self) -> list[processes.Child]:
        return [self.child, *self.workers]

    def release(self, host: str) -> None:
        """Let locust start its users against ``host``."""
        tmp = self.go_file.with_suffix(".tmp")
        tmp.write_text(host)
        tmp.replace(self.go_file)

    def follow(
        self,
        *,
        on_window_start: Callable[[], None] | None = None,
        on_window_end: Callable[[], None] | None = None,
        on_progress: Callable[[int, float], None] | None = None,
        should_abort: Callable[[], str | None] | None = None,
    ) -> LocustRun:
        """Wait for locust's end, relaying its markers.

        ``should_abort`` is polled; a reason it returns stops locust early (the
        server died, the user pressed Ctrl-C), and the caller records that reason.
        """
        child = self.child
        stdout_log = self.out_dir / "locust.stdout.log"

        def read() -> None:
            assert child.popen.stdout is not None
            with open(stdout_log, "w") as copy:
                for raw in child.popen.stdout:
                    line = raw.decode(errors="replace")
                    copy.write(line)
                    parsed = parse_marker(line)
                    if parsed is None:
                        continue
                    name, words = parsed
                    if name == "WINDOW_START" and on_window_start:
                        on_window_start()
                    elif name == "WINDOW_END" and on_window_end:
                        on_window_end()
                    elif name == "PROGRESS" and len(words) >= 3 and on_progress:
                        done, elapsed = int(words[0]), float(words[2])
                        if elapsed > 0:
                            on_progress(done, elapsed)

        reader = threading.Thread(target=read, name="locust-stdout", daemon=True)
        reader.start()
        deadline = time.monotonic() + self.spec.time_limit + 30
        try:
            while child.alive():
                reason = should_abort() if should_abort else None
                if reason or time.monotonic() > deadline:
                    child.stop(timeout=STOP_TIMEOUT + 5)
                    break
                time.sleep(0.05)
            code = child.popen.wait()
            for worker in self.workers:
                # Workers quit when the master tells them; give them time to write samples.
                with contextlib.suppress(subprocess.TimeoutExpired):
                    worker.popen.wait(timeout=STOP_TIMEOUT + 10)
        finally:
            self.stop()
            reader.join(timeout=5)
            if not reader.is_alive() and child.popen.stdout is not None:
                child.popen.stdout.close()  # read to its end: locust has exited
        return LocustRun(self.out_dir, code, self.log_path)

    def stop(self) -> None:
        for process in self.processes:
            process.stop()
