"""Starting a server, waiting until it is ready, and stopping it.

A cell's server is looked up once, as a ``Served`` (a spec of the registry,
``bench.serve.servers``, plus the application it serves), and started the
same way whatever it is: a child process on a free loopback port, polled
until it answers, or, for ``--target``, a server someone else runs.
"""

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.errors import BenchError
from bench.serve import processes
from bench.serve.ports import free_port
from bench.serve.servers import (
    BUNDLED,
    EXTERNAL,
    Application,
    ServerOptions,
    ServerSpec,
    get,
)

DEFAULTS = ServerOptions()  # frozen: one instance serves every default


class ServerStartError(BenchError):
    """A server that exited or never answered; the message carries its log tail."""


@dataclass
class RunningServer:
    spec: ServerSpec
    child: processes.Child
    host: str
    port: int
    command: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def stop(self) -> None:
        self.child.stop()

    def log_tail(self, lines: int = 15) -> str:
        return self.child.log_tail(lines)

    @property
    def pid(self) -> int | None:
        return self.child.pid

    def alive(self) -> bool:
        return self.child.alive()

    def describe(self, options: ServerOptions) -> dict:
        return {**self.spec.describe(options), "command": self.command}


@dataclass
class ExternalTarget:
    """A server the harness did not start (``--target``): load only, no process to watch."""

    url: str

    def stop(self) -> None:
        """Nothing to stop: someone else runs it."""

    def log_tail(self, lines: int = 15) -> str:
        return "(external target: no log)"

    @property
    def pid(self) -> int | None:
        return None

    def alive(self) -> bool:
        return True

    def describe(self, options: ServerOptions) -> dict:
        return {"name": "external", "url": self.url, "interface": "unknown"}


@dataclass(frozen=True)
class Served:
    """One cell's server: a spec (None for an external target) and its application."""

    spec: ServerSpec | None
    application: Application

    @property
    def keep_alive(self) -> bool:
        # an external target's load is sent with keep-alive: locust's default
        return self.spec.keep_alive if self.spec else True

    @property
    def local(self) -> bool:
        """Started by the harness on this machine, so its processes can be watched."""
        return self.spec is not None

    def describe(self, options: ServerOptions) -> dict:
        if self.spec is None:
            return {"name": EXTERNAL, "url": self.application.url, "interface": "unknown"}
        return {**self.spec.describe(options), "application": self.application.name}

    def start(
        self,
        *,
        env: Mapping[str, str],
        log_path: Path,
        cpus: frozenset[int] | None = None,
        options: ServerOptions = DEFAULTS,
        timeout: float = 30.0,
    ) -> "RunningServer | ExternalTarget":
        if self.spec is None:
            assert self.application.url is not None
            return ExternalTarget(self.application.url)
        app = self.application.entry(self.spec.interface)
        if app is None:
            raise ServerStartError(
                f"{self.application.name} has no {self.spec.interface.upper()} application "
                f"for {self.spec.name}"
            )
        return start(
            self.spec,
            env={**env, **dict(self.application.env)},
            log_path=log_path,
            cpus=cpus,
            options=options,
            app=app,
            ready_path=self.application.ready_path,
            ready=self.application.ready,
            timeout=timeout,
            cwd=self.application.cwd,
        )


def served(name: str, application: Application) -> Served:
    """The server ``name`` serving ``application``; an external application
    has no server of ours whatever the name."""
    if application.external:
        return Served(None, application)
    return Served(get(name), application)


def wait_ready(
    child: processes.Child,
    url: str,
    timeout: float,
    ready: Callable[[int], bool] = lambda status: status == 200,
) -> None:
    """Poll ``url`` until it answers as ``ready`` wants, the process exits, or time runs out."""
    deadline = time.monotonic() + timeout
    last_error = "no answer"
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if not child.alive():
                raise ServerStartError(
                    f"{child.name} exited with code {child.popen.returncode} during start-up"
                    + _tail(child)
                )
            try:
                response = client.get(url)
                if ready(response.status_code):
                    return
                last_error = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                last_error = type(exc).__name__
            time.sleep(0.05)
    raise ServerStartError(
        f"{child.name} did not become ready within {timeout:g} s ({last_error})" + _tail(child)
    )


def _tail(child: processes.Child) -> str:
    tail = child.log_tail()
    return f"; log tail:\n{tail}" if tail else ""


def start(
    spec: ServerSpec,
    *,
    env: Mapping[str, str],
    log_path: Path,
    cpus: frozenset[int] | None = None,
    options: ServerOptions = DEFAULTS,
    app: str | None = None,
    ready_path: str = "/sync/plaintext",
    ready: Callable[[int], bool] = lambda status: status == 200,
    timeout: float = 30.0,
    attempts: int = 3,
    cwd: Path | None = None,
    port: int | None = None,
) -> RunningServer:
    """Start ``spec`` on a free port and wait until ``ready_path`` answers 200.

    A port taken between choosing and binding it makes the server exit; the
    next attempt picks another port. A ``port`` given by the caller is tried once.
    """
    if not spec.available():
        raise ServerStartError(
            f"server {spec.name} needs {', '.join(spec.requires)}: pip install '.[servers]'"
        )
    app = app or BUNDLED.entry(spec.interface)
    assert app is not None
    error: ServerStartError | None = None
    for _ in range(1 if port else attempts):
        port_now = port or free_port(options.host)
        command = spec.command(app, options.host, port_now, options)
        child = processes.spawn(spec.name, command, env=env, cpus=cpus, log_path=log_path, cwd=cwd)
        server = RunningServer(spec, child, options.host, port_now, command)
        try:
            wait_ready(child, server.url + ready_path, timeout, ready)
            return server
        except ServerStartError as exc:
            child.stop()
            error = exc
            if "address already in use" not in child.log_tail(40).lower():
                break
    assert error is not None
    raise error
