"""The server registry: how each server is started, made ready and stopped.

Each entry builds its own command line from the same options (workers,
threads, host, port), so that every server gets the same worker count and
CPU set, and records what shapes its results (worker class, keep-alive,
event loop, HTTP parser). Optional servers (granian, hypercorn, daphne) are
listed but skipped with one line when their package is not installed.

What a cell serves is one idea whatever it is: a ``Served`` is a server spec
plus the ``Application`` it serves (the bundled project, a user's own Django
project, or, for ``--target``, a server someone else already runs). A cell's
server is looked up once, as a ``Served``, and started the same way.
"""

import importlib.util
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx

from bench.errors import BenchError, UsageError
from bench.serve import processes
from bench.serve.ports import free_port

DEFAULT_WORKER_CONNECTIONS = 1000  # gunicorn 27's --worker-connections default

WSGI_APP = "project.wsgi:application"
ASGI_APP = "project.asgi:application"
EXTERNAL = "external"  # the server name of cells measured against --target


@dataclass(frozen=True)
class ServerOptions:
    """What every server is given alike."""

    workers: int = 1
    threads: int = 4
    host: str = "127.0.0.1"
    # gunicorn's --worker-connections; None: its default (1000)
    worker_connections: int | None = None


def thread_per_connection(options: ServerOptions, connections: int) -> ServerOptions:
    """``options`` for ``connections`` held open at once: a thread for each.

    gunicorn 27's gthread worker stops accepting once worker_connections
    connections are open, and keeps at most worker_connections - threads alive
    between requests (beyond that a response closes its connection). Room for
    threads + connections lets every connection be in a thread or kept alive;
    never less than gunicorn's default.
    """
    return replace(options, threads=connections, worker_connections=max(2 * connections, 1000))


@dataclass(frozen=True)
class ServerSpec:
    name: str
    interface: str  # "wsgi" or "asgi"
    summary: str
    keep_alive: bool
    build: Callable[[str, str, int, ServerOptions], list[str]]
    settings: Callable[[ServerOptions], dict]
    requires: tuple[str, ...] = ()
    optional: bool = False

    def available(self) -> bool:
        return all(importlib.util.find_spec(module) is not None for module in self.requires)

    def command(self, app: str, host: str, port: int, options: ServerOptions) -> list[str]:
        return self.build(app, host, port, options)

    def describe(self, options: ServerOptions) -> dict:
        """The configuration a run records for this server."""
        return {
            "name": self.name,
            "interface": self.interface,
            "keep_alive": self.keep_alive,
            "workers": options.workers,
            **self.settings(options),
        }


def _python(*args: str) -> list[str]:
    return [sys.executable, "-m", *args]


def _gunicorn(
    worker_class: str, *extra: str
) -> Callable[[str, str, int, ServerOptions], list[str]]:
    def build(app: str, host: str, port: int, options: ServerOptions) -> list[str]:
        bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        return _python(
            "gunicorn",
            app,
            "--worker-class",
            worker_class,
            "--workers",
            str(options.workers),
            "--bind",
            bind,
            "--no-control-socket",
            "--log-level",
            "warning",
            "--graceful-timeout",
            "2",
            "--timeout",
            "120",
            *(
                ("--worker-connections", str(options.worker_connections))
                if options.worker_connections
                else ()
            ),
            *extra,
        )

    return build


def _gthread(app: str, host: str, port: int, options: ServerOptions) -> list[str]:
    return _gunicorn("gthread", "--threads", str(options.threads))(app, host, port, options)


def _uvicorn(app: str, host: str, port: int, options: ServerOptions) -> list[str]:
    argv = _python(
        "uvicorn",
        app,
        "--host",
        host,
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
        "--lifespan",
        "off",
        "--timeout-graceful-shutdown",
        "2",
    )
    if options.workers > 1:
        argv += ["--workers", str(options.workers)]
    return argv


def _granian(interface: str) -> Callable[[str, str, int, ServerOptions], list[str]]:
    def build(app: str, host: str, port: int, options: ServerOptions) -> list[str]:
        return _python(
            "granian",
            "--interface",
            interface,
            "--host",
            host,
            "--port",
            str(port),
            "--workers",
            str(options.workers),
            "--log-level",
            "warning",
            "--no-ws",
            app,
        )

    return build


def _hypercorn(app: str, host: str, port: int, options: ServerOptions) -> list[str]:
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return _python(
        "hypercorn",
        app,
        "--bind",
        bind,
        "--workers",
        str(options.workers),
        "--worker-class",
        "uvloop",
        "--log-level",
        "warning",
    )


def _daphne(app: str, host: str, port: int, options: ServerOptions) -> list[str]:
    if options.workers != 1:
        raise UsageError("daphne runs one process only; use --workers 1 with it")
    return _python("daphne", "-b", host, "-p", str(port), "-v", "0", app)


def _fixed(**settings: object) -> Callable[[ServerOptions], dict]:
    return lambda options: dict(settings)


SERVERS: dict[str, ServerSpec] = {
    spec.name: spec
    for spec in (
        ServerSpec(
            "gunicorn-sync",
            "wsgi",
            "gunicorn, sync workers: one request at a time, connection closed after each",
            keep_alive=False,
            build=_gunicorn("sync"),
            settings=_fixed(worker_class="sync", threads=1),
        ),
        ServerSpec(
            "gunicorn-gthread",
            "wsgi",
            "gunicorn, threaded workers (--threads), keep-alive",
            keep_alive=True,
            build=_gthread,
            settings=lambda options: {
                "worker_class": "gthread",
                "threads": options.threads,
                **(
                    {"worker_connections": options.worker_connections}
                    if options.worker_connections
                    else {}
                ),
            },
        ),
        ServerSpec(
            "uvicorn",
            "asgi",
            "uvicorn with uvloop and httptools",
            keep_alive=True,
            build=_uvicorn,
            settings=_fixed(worker_class="uvicorn", event_loop="uvloop", http_parser="httptools"),
        ),
        ServerSpec(
            "gunicorn-uvicorn",
            "asgi",
            "gunicorn with uvicorn-worker's UvicornWorker",
            keep_alive=True,
            build=_gunicorn("uvicorn_worker.UvicornWorker"),
            settings=_fixed(
                worker_class="uvicorn_worker.UvicornWorker",
                event_loop="uvloop",
                http_parser="httptools",
            ),
            requires=("uvicorn_worker",),
        ),
        ServerSpec(
            "gunicorn-asgi",
            "asgi",
            "gunicorn 27's native asgi worker (beta)",
            keep_alive=True,
            build=_gunicorn("asgi", "--asgi-loop", "uvloop", "--asgi-lifespan", "off"),
            settings=_fixed(worker_class="asgi", event_loop="uvloop"),
        ),
        ServerSpec(
            "granian-asgi",
            "asgi",
            "granian, ASGI interface",
            keep_alive=True,
            build=_granian("asgi"),
            settings=_fixed(worker_class="granian"),
            requires=("granian",),
            optional=True,
        ),
        ServerSpec(
            "granian-wsgi",
            "wsgi",
            "granian, WSGI interface",
            keep_alive=True,
            build=_granian("wsgi"),
            settings=_fixed(worker_class="granian"),
            requires=("granian",),
            optional=True,
        ),
        ServerSpec(
            "hypercorn",
            "asgi",
            "hypercorn with uvloop workers",
            keep_alive=True,
            build=_hypercorn,
            settings=_fixed(worker_class="uvloop"),
            requires=("hypercorn",),
            optional=True,
        ),
        ServerSpec(
            "daphne",
            "asgi",
            "daphne (Django Channels' server), one process",
            keep_alive=True,
            build=_daphne,
            settings=_fixed(worker_class="daphne"),
            requires=("daphne",),
            optional=True,
        ),
    )
}

CORE_SERVERS = tuple(name for name, spec in SERVERS.items() if not spec.optional)


def get(name: str) -> ServerSpec:
    try:
        return SERVERS[name]
    except KeyError:
        raise UsageError(f"unknown server {name!r}; valid servers: {', '.join(SERVERS)}") from None


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
class Application:
    """What a server serves, and how to tell it is ready.

    ``wsgi``/``asgi`` are import strings (None: this application has no entry
    for that interface, so servers of it are skipped); ``env`` is added to the
    server's environment and ``cwd`` is where it starts. ``url`` set means the
    application is already served there by someone else: load only.
    ``user_site``: a user's own pages. A 3xx (a login redirect) is a page
    worth measuring, and any HTTP answer means the server is up (their ``/``
    may well be a 404); the bundled endpoints must answer 200.
    """

    name: str
    wsgi: str | None = None
    asgi: str | None = None
    ready_path: str = "/"
    env: tuple[tuple[str, str], ...] = ()
    cwd: Path | None = None
    url: str | None = None
    user_site: bool = False

    @property
    def external(self) -> bool:
        return self.url is not None

    def entry(self, interface: str) -> str | None:
        return self.wsgi if interface == "wsgi" else self.asgi

    def answers(self, status: int) -> bool:
        """Whether an HTTP status means the page is up and measurable."""
        return status == 200 or (self.user_site and 200 <= status < 400)

    def ready(self, status: int) -> bool:
        """Whether an answer to ``ready_path`` means the server is up."""
        return self.user_site or status == 200

    def describe(self) -> dict:
        return {
            "name": self.name,
            **({"url": self.url} if self.url else {"wsgi": self.wsgi, "asgi": self.asgi}),
            **({"cwd": str(self.cwd)} if self.cwd else {}),
        }


BUNDLED = Application("bundled", wsgi=WSGI_APP, asgi=ASGI_APP, ready_path="/sync/plaintext")


def external_application(url: str) -> Application:
    return Application(EXTERNAL, url=url)


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
        options: ServerOptions = ServerOptions(),
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
    options: ServerOptions = ServerOptions(),
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


def room_for(options: ServerOptions, connections: int) -> ServerOptions:
    """``options`` with gunicorn's connection limit above ``connections``: an
    open-loop pool holds one keep-alive connection per user, and gthread stops
    accepting at worker_connections (1,000 by default), so a pool of 1,000
    would otherwise fill it. Room for twice the pool, as thread_per_connection
    gives; never less than gunicorn's default, and unchanged below it."""
    if 2 * connections <= DEFAULT_WORKER_CONNECTIONS:
        return options
    return replace(
        options, worker_connections=max(options.worker_connections or 0, 2 * connections)
    )
