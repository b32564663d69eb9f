"""A user's own Django project as the application of a run (``--project``).

The harness measures their site with the same cells, figures and report as
the bundled project, so this module only says what is theirs: where the
project lives, which settings, entry points and pages, and whether it is
fit to measure. The inspection runs in a subprocess (``bench.site.in_site.check``)
because the harness never imports Django; the refusals are here, one line
each, before any server starts. Their database is theirs: nothing here, and
nothing the check does, migrates it or writes to it.
"""

import contextlib
import hashlib
import json
import os
import re
import select
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import ROOT
from bench.errors import BenchError, UsageError
from bench.plan import scenarios
from bench.results.records.site import SiteFacts
from bench.serve import launch, servers

SITE_LOCUSTFILE = Path(__file__).resolve().parent / "in_locust" / "locustfile.py"
SITE_WSGI = "bench.site.in_server.app:wsgi_application"
SITE_ASGI = "bench.site.in_server.app:asgi_application"
HOST = "127.0.0.1"  # where the harness serves their site
_WEIGHT = re.compile(r"^(?P<path>/.*?)(?:@(?P<weight>\d+(?:\.\d+)?))?$")
_MANAGE_SETTINGS = re.compile(
    r"""setdefault\(\s*["']DJANGO_SETTINGS_MODULE["']\s*,\s*["'](?P<module>[\w.]+)["']"""
)


class SiteError(BenchError):
    """A site that is not fit to measure as it is; the message says what to change."""

    def __init__(self, message: str) -> None:
        super().__init__(message, exit_code=2)


@dataclass(frozen=True)
class Site:
    """What the command line says about the user's project."""

    directory: Path
    settings: str
    wsgi: str | None = None  # None: next to the settings (WSGI_APPLICATION, <package>.wsgi)
    asgi: str | None = None  # None: ASGI_APPLICATION, or <package>.asgi
    # the generated scenario's pages; with a locustfile, only pages to check first
    paths: tuple[tuple[str, float], ...] = (("/", 1.0),)
    locustfile: Path | None = None
    allow_debug: bool = False

    @property
    def first_path(self) -> str:
        return self.paths[0][0] if self.paths else "/"


def parse_path(text: str) -> tuple[str, float]:
    """``/page`` or ``/page@3`` (weight 3): a path of the site and its share of requests."""
    match = _WEIGHT.match(text)
    if not match:
        raise UsageError(f"--path {text!r}: a path starts with / (weight: /page@3)")
    weight = float(match.group("weight")) if match.group("weight") else 1.0
    if weight <= 0:
        raise UsageError(f"--path {text!r}: the weight must be > 0")
    return match.group("path"), weight


def settings_from_manage_py(directory: Path) -> str:
    """The settings module the project's manage.py sets, for a missing --settings."""
    manage = directory / "manage.py"
    try:
        match = _MANAGE_SETTINGS.search(manage.read_text())
    except OSError:
        match = None
    if match is None:
        raise UsageError(
            f"--settings is needed: no manage.py in {directory} names DJANGO_SETTINGS_MODULE"
        )
    return match.group("module")


def project_environment(site: Site) -> dict[str, str]:
    """What their code needs to import: their settings, their directory first on
    the path, then the harness (its wrapper application and accounting)."""
    return {
        "DJANGO_SETTINGS_MODULE": site.settings,
        "PYTHONPATH": os.pathsep.join([str(site.directory), str(ROOT)]),
    }


def check_environment(site: Site) -> dict[str, str]:
    """The environment the inspection runs in: none of the bundled project's settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("BENCH_") and key != "DJANGO_SETTINGS_MODULE"
    }
    return {**env, **project_environment(site)}


def inspect(site: Site, probe: bool = True) -> SiteFacts:
    """Run ``bench.site.in_site.check`` in their project; its facts, or one line on why not."""
    if not site.directory.is_dir():
        raise UsageError(f"--project {site.directory}: no such directory")
    if site.locustfile is not None and not site.locustfile.is_file():
        raise UsageError(f"--locustfile {site.locustfile}: no such file")
    argument = {
        "paths": [path for path, _ in site.paths],
        "wsgi": site.wsgi,
        "asgi": site.asgi,
        "host": HOST,
        "probe": probe,
    }
    try:
        result = subprocess.run(
            [sys.executable, "-m", "bench.site.in_site.check", json.dumps(argument)],
            cwd=site.directory,
            env=check_environment(site),
            capture_output=True,
            text=True,
            timeout=180,
        )
    except subprocess.TimeoutExpired:
        raise SiteError(f"inspecting {site.settings} took longer than 180 s") from None
    try:
        facts = SiteFacts.from_json(json.loads(result.stdout))
    except (ValueError, TypeError, AttributeError):
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        raise SiteError(
            f"inspecting {site.settings} failed: {lines[-1] if lines else 'no output'}"
        ) from None
    refuse(site, facts)
    return facts


def refuse(site: Site, facts: SiteFacts) -> None:
    """One line for the first thing that makes the site unfit to measure."""
    if facts.settings_error:
        raise SiteError(
            f"settings {site.settings} do not load from {site.directory}: {facts.settings_error}"
        )
    if facts.debug and not site.allow_debug:
        raise SiteError(
            f"DEBUG is True in {site.settings}: a DEBUG site keeps every query in memory "
            "and is not the site your users get; set DEBUG = False, or pass --allow-debug "
            "to measure it anyway"
        )
    if not facts.host_allowed:
        raise SiteError(
            f"ALLOWED_HOSTS {facts.allowed_hosts} does not allow {HOST}, where the "
            f"harness serves your site: add {HOST!r} to ALLOWED_HOSTS"
        )
    for alias, database in facts.databases.items():
        if database.exists is False:
            raise SiteError(
                f"database {alias!r} ({database.name}) does not exist: create it with "
                "`python manage.py migrate`; the harness never creates or writes to your database"
            )
    default = facts.databases.get("default")
    vendor = default.vendor if default is not None else None
    if facts.migrations_error and vendor != "dummy":  # DATABASES = {}
        raise SiteError(f"cannot read your migrations: {facts.migrations_error}")
    if unapplied := facts.unapplied_migrations or []:
        shown = ", ".join(unapplied[:3]) + (", ..." if len(unapplied) > 3 else "")
        raise SiteError(
            f"{len(unapplied)} unapplied migrations ({shown}): run `python manage.py migrate` "
            "first; the harness never migrates your database"
        )
    if not facts.wsgi and not facts.asgi:
        raise SiteError(
            f"no WSGI or ASGI application found next to {site.settings}: "
            "pass --wsgi module:application or --asgi module:application"
        )


# Django 6.1's documentation, ref/databases, "Persistent connections".
ASGI_CONNECTIONS_RULE = (
    "When using ASGI, persistent connections should be disabled. Instead, use your "
    "database backend's built-in connection pooling if available, or investigate a "
    "third-party connection pooling option if required."
)


def persistent_databases(facts: SiteFacts) -> dict[str, float | None]:
    """alias -> CONN_MAX_AGE of each database that keeps its connections open
    (CONN_MAX_AGE None or > 0); an empty DATABASES ("dummy") has nothing to keep."""
    return facts.persistent_databases()


def connection_warnings(facts: SiteFacts, asgi_servers: list[str]) -> list[str]:
    """One warning per database with persistent connections when an ASGI server is
    in the matrix: under ASGI each request's sync code runs on a thread of its own,
    each thread opens its own connection and keeps it, and the idle connections pile
    up until the database refuses new ones (the requests then fail with HTTP 500)."""
    if not asgi_servers:
        return []
    lines = []
    for alias, age in persistent_databases(facts).items():
        name = facts.databases[alias].name
        lines.append(
            f"database {alias!r} ({name}) has CONN_MAX_AGE={age!r} and "
            f"{', '.join(asgi_servers)} serve{'s' if len(asgi_servers) == 1 else ''} it "
            "under ASGI, where every request's sync code runs on a thread of its own that "
            "keeps its own connection open: they pile up until the database refuses more. "
            f'Django\'s documentation: "{ASGI_CONNECTIONS_RULE}" Set CONN_MAX_AGE = 0 in '
            f"DATABASES[{alias!r}] for the ASGI run (on PostgreSQL, OPTIONS "
            '{"pool": True} then pools the connections)'
        )
    return lines


def application(site: Site, facts: SiteFacts) -> servers.Application:
    """Their site as an application of the server registry: served through the
    wrapper that adds switch accounting, from their directory."""
    env = project_environment(site)
    if facts.wsgi:
        env["BENCH_SITE_WSGI"] = facts.wsgi
    if facts.asgi:
        env["BENCH_SITE_ASGI"] = facts.asgi
    return servers.Application(
        name=f"site:{site.settings}",
        wsgi=SITE_WSGI if facts.wsgi else None,
        asgi=SITE_ASGI if facts.asgi else None,
        ready_path=site.first_path,
        env=tuple(sorted(env.items())),
        cwd=site.directory,
        user_site=True,
    )


def locust_environment(site: Site) -> dict[str, str]:
    """What the generated locustfile reads: the paths and their weights."""
    return {"BENCH_SITE_PATHS": json.dumps([[path, weight] for path, weight in site.paths])}


def scenario(site: Site) -> scenarios.Scenario:
    """The one scenario of a site run: the generated GET scenario over its
    paths, or the user's own locustfile run as it is (all its User classes)."""
    own = (scenarios.OWN,)
    common: dict[str, Any] = {
        "styles": own,
        "stacks": own,
        "users": (32,),
        "servers": None,
        "db_modes": ("none",),
        "database": False,
        "upstream": False,
        "accounting": False,
        "primary": None,
        "expected_errors": (),
        "exclude": (),
        "groups": ("site",),
        # the pair that answers "should we go ASGI?"; --server names others
        "default": {"servers": ["gunicorn-gthread", "uvicorn"]},
    }
    if site.locustfile is None:
        declared = {"paths": [[path, weight] for path, weight in site.paths]}
        source = SITE_LOCUSTFILE.read_bytes() + json.dumps(declared).encode()
        return scenarios.Scenario(
            name="site",
            path=SITE_LOCUSTFILE,
            doc=f"GET {', '.join(path for path, _ in site.paths)} of {site.settings}",
            endpoints={"pages": "SitePagesUser"},
            declared=declared,
            sha256=hashlib.sha256(source).hexdigest(),
            paths={"SitePagesUser": site.first_path},
            **common,
        )
    path = site.locustfile.resolve()
    source = path.read_bytes()
    return scenarios.Scenario(
        name=re.sub(r"[^A-Za-z0-9_-]", "-", path.stem),
        path=path,
        doc=f"your locustfile {path.name}, every User class it defines",
        endpoints={"locustfile": ""},
        declared={"locustfile": str(path)},
        sha256=hashlib.sha256(source).hexdigest(),
        paths={"": site.first_path} if site.paths else {},
        **common,
    )


def preflight(site: Site, app: servers.Application, server: str, env: dict[str, str]) -> None:
    """Start their site once and ask each path: a path that does not answer
    2xx or 3xx is refused before anything is measured."""
    from bench.measure.repeat import primer

    with tempfile.TemporaryDirectory(prefix="djbench-preflight-") as scratch:
        try:
            running = launch.served(server, app).start(
                env=env, log_path=Path(scratch) / "server.log", timeout=60
            )
        except launch.ServerStartError as exc:
            lines = [line for line in str(exc).splitlines() if line.strip()]
            last = f" ({lines[-1].strip()})" if len(lines) > 1 else ""
            raise SiteError(f"your site did not start under {server}: {lines[0]}{last}") from None
        try:
            for path, _ in site.paths:
                if problem := primer(running.url + path, app):
                    raise SiteError(f"--path {path}: {problem}")
        finally:
            running.stop()


COUNTED_VENDORS = ("postgresql", "mysql")  # servers that list their connections
COUNT_TIMEOUT_S = 2.0


class ConnectionCounter:
    """The connections held on the site's databases, counted by ``bench.site.in_site.dbcount``
    in a subprocess of the project's own environment (its credentials stay there).

    Calling the counter asks for one count; the sampler calls it every tick of a
    window and records the peak and mean per repeat. One process serves the run.
    """

    def __init__(self, site: Site) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.site.in_site.dbcount"],
            cwd=site.directory,
            env=check_environment(site),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.lock = threading.Lock()
        try:
            started = json.loads(self._line(60.0))
        except (ValueError, TimeoutError):
            started = {"databases": [], "error": "the counter did not start"}
        self.databases: list[str] = list(started.get("databases") or [])
        self.error: str | None = started.get("error")

    def _line(self, timeout: float) -> str:
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            raise TimeoutError(f"no answer from the connection counter in {timeout:g} s")
        line = self.process.stdout.readline()
        if not line:
            raise TimeoutError("the connection counter exited")
        return line

    def __call__(self) -> int:
        with self.lock:
            assert self.process.stdin is not None
            self.process.stdin.write("\n")
            self.process.stdin.flush()
            answer = self._line(COUNT_TIMEOUT_S).strip()
        if answer.startswith("error:"):
            raise RuntimeError(answer)
        return int(answer)

    def close(self) -> None:
        """Stop the counter (its stdin closes, it returns); killed if it does not."""
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


def connection_counter(site: Site, facts: SiteFacts) -> ConnectionCounter | None:
    """A counter for the site's databases when one of them lists its connections
    (its ``error`` says why it cannot count, if it cannot)."""
    vendors = {db.vendor for db in facts.databases.values()}
    if not vendors & set(COUNTED_VENDORS):
        return None
    return ConnectionCounter(site)
