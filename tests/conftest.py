"""Test set-up shared by every test.

The environment is set before Django is imported: a SQLite database of this
session's own, a loopback port for the upstream service, the ``none`` stack
as the in-process default. Tests that need other stacks build fresh handlers
under ``override_settings``. Every process a test starts is stopped, and the
session fails if any is left behind.
"""

import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
from helpers.cpus import held
from helpers.postgres import postgres_available

# Imported a second time under another name (``from tests.conftest import``),
# this module would draw a new upstream port and point the whole session at it.
if __name__ != "conftest" and "conftest" in sys.modules:
    raise ImportError(f"{__file__} is pytest's to import: move what you need into tests/helpers/")

ROOT = Path(__file__).resolve().parent.parent
# Each process of the session (pytest-xdist's workers too) has its own state:
# database, upstream port, switch counters.
_STATE = Path(tempfile.mkdtemp(prefix="bench-tests-"))
# The one lock every worker shares, in the state of the process that imported
# this first (the controller under xdist, whose environment workers inherit).
# PYTEST_*: server_env() keeps it from the servers.
_CPUS_LOCK = Path(os.environ.setdefault("PYTEST_BENCH_CPUS_LOCK", str(_STATE / "cpus.lock")))

from bench.serve.ports import free_port  # noqa: E402

UPSTREAM_PORT = free_port()
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DJANGO_SECRET_KEY": "tests-only-secret-key-not-used-anywhere-else-0123456789",
        "BENCH_SQLITE_PATH": str(_STATE / "bench.sqlite3"),
        "BENCH_UPSTREAM_URL": f"http://127.0.0.1:{UPSTREAM_PORT}",
        "BENCH_STACK": "none",
        "BENCH_ACCOUNTING_DIR": str(_STATE / "switches"),
    }
)
for _name in ("DATABASE_URL", "BENCH_SWITCH_ACCOUNTING", "BENCH_DB_CONN"):
    os.environ.pop(_name, None)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from bench.serve import launch, processes, servers  # noqa: E402

POSTGRES_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/test"


def pytest_sessionstart(session: pytest.Session) -> None:
    call_command("setupdb", verbosity=0)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    """Setup, call and teardown of each test under the CPUs lock (helpers.cpus)."""
    with held(_CPUS_LOCK, alone=item.get_closest_marker("alone") is not None):
        return (yield)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    from project.workloads import upstream_client

    upstream_client.close_sync_client()
    processes.stop_all()
    shutil.rmtree(_STATE, ignore_errors=True)


@pytest.fixture(scope="session")
def state_dir() -> Path:
    return _STATE


@pytest.fixture(autouse=True, scope="session")
def _no_process_left_behind() -> Iterator[None]:
    yield
    leftovers = processes.live_children()
    processes.stop_all()
    children = psutil.Process().children(recursive=True)
    assert not leftovers, f"processes left running: {[c.name for c in leftovers]}"
    assert not children, f"child processes left running: {children}"


def server_env(**extra: str) -> dict[str, str]:
    """The environment a live server of the tests runs with."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def upstream() -> Iterator[str]:
    """The upstream service on the port the project's settings point at."""
    spec = servers.get("uvicorn")
    server = launch.start(
        spec,
        # No waits: the tests check bodies and fuzz parameters, not upstream latency.
        env=server_env(BENCH_UPSTREAM_MAX_MS="0"),
        log_path=_STATE / "upstream.log",
        app="project.upstream:app",
        ready_path="/",
        port=UPSTREAM_PORT,
        cwd=ROOT,
    )
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[Callable[..., launch.RunningServer]]:
    """Start servers by name with extra environment; all are stopped afterwards."""
    started: list[launch.RunningServer] = []

    def start(name: str, app: str | None = None, **env: str) -> launch.RunningServer:
        # Each server counts switches in a directory of its own, as under the harness.
        env.setdefault("BENCH_ACCOUNTING_DIR", str(tmp_path / f"switches-{len(started)}"))
        server = launch.start(
            servers.get(name),
            env=server_env(**env),
            log_path=tmp_path / f"{name}-{len(started)}.log",
            app=app,
            cwd=ROOT,
        )
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A freshly created, seeded PostgreSQL database; skipped off CI when none runs."""
    if not postgres_available():
        message = "PostgreSQL is not reachable at 127.0.0.1:5432"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message} (CI=true: the PostgreSQL tests must run)")
        pytest.skip(message)
    import psycopg

    name = f"djbench_test_{os.getpid()}"
    with psycopg.connect(
        "host=127.0.0.1 port=5432 user=postgres dbname=test", autocommit=True
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"postgres://postgres@127.0.0.1:5432/{name}"
    import subprocess

    subprocess.run(
        [sys.executable, "-m", "project", "setupdb"],
        env=server_env(DATABASE_URL=url),
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    try:
        yield url
    finally:
        with psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=test", autocommit=True
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def handlers() -> Callable[[str], tuple]:
    """(WSGI handler, ASGI handler) built with a stack's MIDDLEWARE, cached per stack."""
    from django.core.handlers.asgi import ASGIHandler
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import override_settings

    from project.stacks import middleware_for

    built: dict[str, tuple] = {}

    def get(stack: str) -> tuple:
        if stack not in built:
            with override_settings(MIDDLEWARE=middleware_for(stack)):
                built[stack] = (WSGIHandler(), ASGIHandler())
        return built[stack]

    return get


@pytest.fixture(scope="session")
def request_via() -> Callable:
    """request_via(handler_kind, app, target, **kwargs) -> Reply, for 'wsgi' or 'asgi'."""
    from helpers.inprocess import call_asgi, call_wsgi

    from project.workloads import upstream_client

    def call(kind: str, app, target: str, **kwargs):
        if kind == "wsgi":
            return call_wsgi(app, target, **kwargs)
        return call_asgi(app, target, teardown=upstream_client.aclose_loop_client, **kwargs)

    return call


@pytest.fixture
def rf():
    from django.test import RequestFactory

    return RequestFactory()
