"""Inspect a user's Django project before the harness serves it; run in a subprocess.

``python -m bench.site.in_site.check '<json>'`` runs with the project's directory as cwd and on
PYTHONPATH, and DJANGO_SETTINGS_MODULE naming its settings. The argument is
``{"paths": [...], "wsgi": "m:app" | null, "asgi": "m:app" | null, "host": "127.0.0.1",
"probe": true}``. It prints one JSON document on stdout (anything else, the project's own
prints and logging included, goes to stderr) and exits 0 whenever it could report: it
states facts, and the harness decides what to refuse.

Why a subprocess: the harness never imports Django or a user's code, so nothing it does
can bend what it measures, and a project that fails to import, prints or calls
``sys.exit`` cannot take the harness down with it.

Why it never writes: the database is the user's. Migrations are neither run nor
recorded: the plan is computed from ``django_migrations``, which ``MigrationRecorder``
only reads. A SQLite file that does not exist is never connected to, because connecting
would create it. Every connection opened here is made read-only as it opens
(``PRAGMA query_only``, ``default_transaction_read_only``...), so a view the probe drives
that writes fails instead of changing the user's data; the probe is skipped for database
backends this cannot be done for.

The probe itself (serving the paths in-process and counting thread hops) is
``bench.site.in_site.probe``. Django and asgiref are imported inside the functions of both, so
the harness may import them for their record types without importing Django.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from bench.site.in_site.probe import callable_name, one_line, probe

HOOKS = (
    "process_request",
    "process_view",
    "process_response",
    "process_template_response",
    "process_exception",
)
# Run on every new connection before Django uses it. A vendor missing here cannot be
# made read-only, so the probe (which runs the user's views) is skipped for it.
READ_ONLY_SQL: dict[str, str | None] = {
    "sqlite": "PRAGMA query_only = ON",
    "postgresql": "SET default_transaction_read_only = on",
    "mysql": "SET SESSION TRANSACTION READ ONLY",
    "dummy": None,  # DATABASES = {}: nothing to write to
}


@dataclass(frozen=True)
class CheckArgs:
    """The one JSON argument, read once (``parse_args``)."""

    paths: list[str]
    wsgi: str | None
    asgi: str | None
    host: str
    probe: bool


@dataclass
class DatabaseFacts:
    engine: str
    name: str
    vendor: str | None = None
    exists: bool | None = None  # SQLite only: does the file exist (or is it in memory)
    # seconds a connection is kept; None: forever (Django's own None). 0: closed per request
    conn_max_age: float | None = 0
    error: str | None = None


@dataclass
class MiddlewareFacts:
    path: str
    sync_capable: bool | None = None
    async_capable: bool | None = None
    sync_only: bool | None = None
    hooks: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class ViewFacts:
    view: str | None = None
    is_async: bool | None = None  # written as "async", a keyword
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"view": self.view, "async": self.is_async, "error": self.error}


@dataclass
class Report:
    """Every fact about the project; a project whose settings do not load has
    ``settings_error`` alone (``to_json``)."""

    settings_error: str | None = None
    django_version: str = ""
    settings_module: str = ""
    debug: bool = False
    allowed_hosts: list[str] = field(default_factory=list)
    host_allowed: bool = False
    entry_notes: list[str] = field(default_factory=list)
    wsgi: str | None = None
    asgi: str | None = None
    databases: dict[str, DatabaseFacts] = field(default_factory=dict)
    unapplied_migrations: list[str] | None = None
    migrations_error: str | None = None
    middleware: list[MiddlewareFacts] = field(default_factory=list)
    views: dict[str, ViewFacts] = field(default_factory=dict)
    probe: dict[str, Any] | None = None  # bench.site.in_site.probe's own JSON
    probe_skipped: str | None = None

    def to_json(self) -> dict[str, Any]:
        if self.settings_error is not None:
            return {"settings_error": self.settings_error}
        views = {path: view.to_json() for path, view in self.views.items()}
        return {**asdict(self), "views": views}  # "views" keeps its place


# --- settings -----------------------------------------------------------------------


def setup_django() -> Any:
    """django.setup() with the caller's DJANGO_SETTINGS_MODULE; the settings object."""
    import django
    from django.conf import settings

    django.setup()
    return settings


def host_allowed(host: str) -> bool:
    """Would Django accept ``Host: host``? Asked of HttpRequest.get_host itself.

    get_host applies validate_host to ALLOWED_HOSTS, and with DEBUG and an empty
    ALLOWED_HOSTS allows the localhost variants instead; calling it keeps that rule
    exactly as the installed Django has it.
    """
    from django.core.exceptions import DisallowedHost
    from django.http import HttpRequest

    request = HttpRequest()
    request.META = {"HTTP_HOST": host, "SERVER_NAME": host, "SERVER_PORT": "80"}
    try:
        request.get_host()
    except DisallowedHost:
        return False
    return True


def settings_facts(report: Report, settings: Any, host: str) -> None:
    """Version, settings module, DEBUG and the Host header check, into ``report``
    (all of them or, when one raises, none)."""
    import django

    version, module = django.get_version(), settings.SETTINGS_MODULE
    debug, hosts, allowed = bool(settings.DEBUG), list(settings.ALLOWED_HOSTS), host_allowed(host)
    report.django_version, report.settings_module, report.debug = version, module, debug
    report.allowed_hosts, report.host_allowed = hosts, allowed


# --- entry points -------------------------------------------------------------------


def dotted_to_entry(dotted: str) -> str:
    """Django's "a.b.application" as the servers' "a.b:application"."""
    module, _, attribute = dotted.rpartition(".")
    return f"{module}:{attribute}" if module else dotted


def default_entries(settings: Any) -> dict[str, tuple[str, str]]:
    """Each kind's default entry point and where it came from."""
    package = settings.SETTINGS_MODULE.rpartition(".")[0]
    prefix = f"{package}." if package else ""
    wsgi_setting = getattr(settings, "WSGI_APPLICATION", None)
    asgi_setting = getattr(settings, "ASGI_APPLICATION", None)
    return {
        "wsgi": (dotted_to_entry(wsgi_setting), "settings.WSGI_APPLICATION")
        if wsgi_setting
        else (f"{prefix}wsgi:application", "the settings package"),
        "asgi": (dotted_to_entry(asgi_setting), "settings.ASGI_APPLICATION")
        if asgi_setting
        else (f"{prefix}asgi:application", "the settings package"),
    }


def find_entry(entry: str) -> str | None:
    """Why ``module:attribute`` cannot be served, or None if its module is found.

    find_spec imports parent packages only; the entry module itself is not run here.
    """
    module, colon, attribute = entry.partition(":")
    if not colon or not module or not attribute:
        return f"{entry!r} is not of the form module:attribute"
    try:
        spec = importlib.util.find_spec(module)
    except (Exception, SystemExit) as exc:
        return f"module {module!r} cannot be looked up: {one_line(exc)}"
    return None if spec is not None else f"module {module!r} not found"


def entry_points(report: Report, settings: Any, args: CheckArgs) -> None:
    """The resolved wsgi and asgi entry points, with a note for each one dropped."""
    defaults = default_entries(settings)
    given = {"wsgi": args.wsgi, "asgi": args.asgi}
    for kind in ("wsgi", "asgi"):
        entry, source = (given[kind], "the argument") if given[kind] else defaults[kind]
        problem = find_entry(entry)
        setattr(report, kind, None if problem else entry)
        if problem:
            report.entry_notes.append(f"{kind} {entry!r} (from {source}): {problem}")


# --- databases and migrations -------------------------------------------------------


def make_connections_read_only() -> None:
    """Make every database connection read-only as it opens, whoever opens it."""
    from django.db.backends.signals import connection_created

    def read_only(sender: Any, connection: Any, **kwargs: Any) -> None:
        statement = READ_ONLY_SQL.get(connection.vendor)
        if statement:
            with connection.cursor() as cursor:
                cursor.execute(statement)

    connection_created.connect(read_only, weak=False, dispatch_uid="bench.site.in_site.check")


def database_facts() -> dict[str, DatabaseFacts]:
    """Engine and name per alias; for SQLite whether the file is there. Connects to none."""
    from django.db import connections

    facts: dict[str, DatabaseFacts] = {}
    for alias in connections:
        settings_dict = connections.settings[alias]
        entry = DatabaseFacts(
            engine=str(settings_dict.get("ENGINE", "")),
            name=str(settings_dict.get("NAME", "")),
            conn_max_age=settings_dict.get("CONN_MAX_AGE", 0),
        )
        try:
            connection = connections[alias]
            entry.vendor = connection.vendor
            if connection.vendor == "sqlite":
                name = connection.settings_dict["NAME"]
                entry.exists = connection.is_in_memory_db() or (bool(name) and Path(name).is_file())
        except Exception as exc:
            entry.error = one_line(exc)
        facts[alias] = entry
    return facts


def unapplied_migrations(
    databases: dict[str, DatabaseFacts],
) -> tuple[list[str] | None, str | None]:
    """The default database's migration plan (the unapplied, or why it could not
    be read), read without writing.

    MigrationExecutor builds its loader from MigrationRecorder.applied_migrations,
    which checks for django_migrations with has_table (introspection only) and
    selects from it; nothing here calls ensure_schema or record_applied.
    """
    from django.db import DEFAULT_DB_ALIAS, connections
    from django.db.migrations.executor import MigrationExecutor

    default = databases.get(DEFAULT_DB_ALIAS)
    if default is None or default.error:
        return None, default.error if default else "no 'default' database"
    if default.exists is False:
        return None, f"SQLite database {default.name} does not exist"
    try:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:
        return None, one_line(exc)
    finally:
        # The probe runs on an event loop in this thread, where Django refuses a
        # connection left open; SQLite's file is released too.
        connections.close_all()
    pending = [f"{m.app_label}.{m.name}" for m, backwards in plan if not backwards]
    return pending, None


# --- middleware and views -----------------------------------------------------------


def middleware_facts(paths: list[str]) -> list[MiddlewareFacts]:
    """Each MIDDLEWARE entry's capabilities, read as BaseHandler.load_middleware does."""
    from django.utils.module_loading import import_string

    facts: list[MiddlewareFacts] = []
    for path in paths:
        entry = MiddlewareFacts(path=path)
        try:
            middleware = import_string(path)
        except (Exception, SystemExit) as exc:
            entry.error = one_line(exc)
        else:
            entry.sync_capable = bool(getattr(middleware, "sync_capable", True))
            entry.async_capable = bool(getattr(middleware, "async_capable", False))
            entry.sync_only = not entry.async_capable
            entry.hooks = [hook for hook in HOOKS if hasattr(middleware, hook)]
        facts.append(entry)
    return facts


def view_target(func: Callable[..., Any]) -> object:
    """What a URL pattern's callable stands for: the CBV class, or the function
    functools.wraps decorators hide. Bound methods are kept: unwrapping one would lose
    the instance whose class names it."""
    current: object = func
    for _ in range(50):
        view_class = getattr(current, "view_class", None)
        if view_class is not None:
            return view_class
        wrapped = getattr(current, "__wrapped__", None)
        if wrapped is None or inspect.ismethod(current):
            return current
        current = wrapped
    return current


def view_facts(paths: list[str]) -> dict[str, ViewFacts]:
    """The view each path resolves to and whether Django would await it."""
    from asgiref.sync import iscoroutinefunction
    from django.urls import Resolver404, resolve

    facts: dict[str, ViewFacts] = {}
    for path in paths:
        entry = ViewFacts()
        try:
            match = resolve(unquote(path.partition("?")[0].partition("#")[0]))
            entry.view = callable_name(view_target(match.func))
            view_class = getattr(match.func, "view_class", None)
            if view_class is not None:
                # Raises ImproperlyConfigured for a class mixing sync and async handlers.
                view_class.view_is_async  # noqa: B018
            # What BaseHandler decides on: the callable itself, decorators included.
            entry.is_async = iscoroutinefunction(match.func)
        except Resolver404:
            entry.error = "no URL pattern matches"
        except (Exception, SystemExit) as exc:
            entry.error = one_line(exc)
        facts[path] = entry
    return facts


# --- whether to probe --------------------------------------------------------------


def probe_blocker(report: Report) -> str | None:
    """Why the probe must not run against this project as it stands, if it must not."""
    if report.asgi is None:
        return "no ASGI entry point"
    for alias, facts in report.databases.items():
        if facts.exists is False:
            return f"database {alias!r} does not exist"
        if facts.vendor not in READ_ONLY_SQL:
            return f"database {alias!r} ({facts.vendor}) cannot be made read-only"
    if report.unapplied_migrations:
        return "unapplied migrations"
    default = report.databases.get("default")
    if report.migrations_error and not (default and default.vendor == "dummy"):
        return "migrations could not be checked"
    return None


# --- the whole check ----------------------------------------------------------------


def check(args: CheckArgs) -> Report:
    """Every fact about the project (``Report.to_json`` is what is printed)."""
    report = Report()
    try:
        settings = setup_django()
        settings_facts(report, settings, args.host)
    except (Exception, SystemExit) as exc:
        return Report(settings_error=one_line(exc))
    make_connections_read_only()
    entry_points(report, settings, args)
    report.databases = database_facts()
    report.unapplied_migrations, report.migrations_error = unapplied_migrations(report.databases)
    report.middleware = middleware_facts(list(settings.MIDDLEWARE))
    report.views = view_facts(args.paths)
    if args.probe:
        blocker = probe_blocker(report)
        if blocker:
            report.probe_skipped = blocker
        else:
            report.probe = probe(report.asgi, args.paths, args.host)
    return report


def parse_args(argv: list[str]) -> CheckArgs:
    """The one JSON argument, with defaults for what it leaves out."""
    if len(argv) != 1:
        raise ValueError("expected one JSON argument")
    given = json.loads(argv[0])
    if not isinstance(given, dict):
        raise ValueError("the argument must be a JSON object")
    return CheckArgs(
        paths=[str(path) for path in given.get("paths", [])],
        wsgi=given.get("wsgi"),
        asgi=given.get("asgi"),
        host=str(given.get("host", "127.0.0.1")),
        probe=bool(given.get("probe", True)),
    )


def main(argv: list[str]) -> int:
    """Report on stdout alone: the project's prints are sent to stderr at the fd level."""
    try:
        args = parse_args(argv)
    except ValueError as exc:
        print(f"bench.site.in_site.check: {exc}", file=sys.stderr)
        return 2
    sys.stdout.flush()
    report_out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    report = check(args)
    sys.stdout.flush()
    json.dump(report.to_json(), report_out)
    report_out.write("\n")
    report_out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
