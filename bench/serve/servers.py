"""The server registry: which servers exist, their command lines, what they serve.

Each entry builds its own command line from the same options (workers,
threads, host, port), so that every server gets the same worker count and
CPU set, and records what shapes its results (worker class, keep-alive,
event loop, HTTP parser). Optional servers (granian, hypercorn, daphne) are
listed but skipped with one line when their package is not installed.

What a cell serves is one idea whatever it is: an ``Application`` (the bundled
project, a user's own Django project, or, for ``--target``, a server someone
else already runs). Starting a server and waiting until it is ready is
``bench.serve.launch``; nothing here starts a process.
"""

import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from bench.errors import UsageError

DEFAULT_WORKER_CONNECTIONS = 1000  # gunicorn 27's --worker-connections default

WSGI_APP = "project.wsgi:application"
ASGI_APP = "project.asgi:application"
EXTERNAL = "external"  # the server name of cells measured against --target
# Never passed on to a server: a shell that sets it would silence Django's
# async-safety guard in the measured site (run.options.base_env, cost.execute).
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"


@dataclass(frozen=True)
class ServerOptions:
    """What every server is given alike."""

    workers: int = 1
    threads: int = 4
    host: str = "127.0.0.1"
    # gunicorn's --worker-connections; None: its default (1000)
    worker_connections: int | None = None
    # The interpreter the server runs under: another release's environment
    # (bench.cost.releases); None: the harness's own, sys.executable.
    python: str | None = None


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
        argv = self.build(app, host, port, options)
        if options.python is not None and argv[0] == sys.executable:
            argv[0] = options.python
        return argv

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
