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
from pathlib import Path
from typing import Any, TypedDict
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


class CheckArgs(TypedDict):
    paths: list[str]
    wsgi: str | None
    asgi: str | None
    host: str
    probe: bool


class DatabaseFacts(TypedDict):
    engine: str
    name: str
    vendor: str | None
    exists: bool | None  # SQLite only: does the file exist (or is it in memory)
    # seconds a connection is kept; None: forever (Django's own None). 0: closed per request
    conn_max_age: float | None
    error: str | None


class MiddlewareFacts(TypedDict):
    path: str
    sync_capable: bool | None
    async_capable: bool | None
    sync_only: bool | None
    hooks: list[str]
    error: str | None


# "async" is a keyword, hence the functional form.
ViewFacts = TypedDict("ViewFacts", {"view": str | None, "async": bool | None, "error": str | None})


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


def settings_facts(settings: Any, host: str) -> dict[str, Any]:
    """Version, settings module, DEBUG and the Host header check."""
    import django

    return {
        "django_version": django.get_version(),
        "settings_module": settings.SETTINGS_MODULE,
        "debug": bool(settings.DEBUG),
        "allowed_hosts": list(settings.ALLOWED_HOSTS),
        "host_allowed": host_allowed(host),
    }


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


def entry_points(settings: Any, args: CheckArgs) -> dict[str, Any]:
    """The resolved "wsgi" and "asgi" entry points, with a note for each one dropped."""
    defaults = default_entries(settings)
    facts: dict[str, Any] = {"entry_notes": []}
    for kind in ("wsgi", "asgi"):
        given = args[kind]
        entry, source = (given, "the argument") if given else defaults[kind]
        problem = find_entry(entry)
        facts[kind] = None if problem else entry
        if problem:
            facts["entry_notes"].append(f"{kind} {entry!r} (from {source}): {problem}")
    return facts


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
            vendor=None,
            exists=None,
            conn_max_age=settings_dict.get("CONN_MAX_AGE", 0),
            error=None,
        )
        try:
            connection = connections[alias]
            entry["vendor"] = connection.vendor
            if connection.vendor == "sqlite":
                name = connection.settings_dict["NAME"]
                entry["exists"] = connection.is_in_memory_db() or (
                    bool(name) and Path(name).is_file()
                )
        except Exception as exc:
            entry["error"] = one_line(exc)
        facts[alias] = entry
    return facts


def unapplied_migrations(databases: dict[str, DatabaseFacts]) -> dict[str, Any]:
    """The default database's migration plan, read without writing.

    MigrationExecutor builds its loader from MigrationRecorder.applied_migrations,
    which checks for django_migrations with has_table (introspection only) and
    selects from it; nothing here calls ensure_schema or record_applied.
    """
    from django.db import DEFAULT_DB_ALIAS, connections
    from django.db.migrations.executor import MigrationExecutor

    default = databases.get(DEFAULT_DB_ALIAS)
    if default is None or default["error"]:
        problem = default["error"] if default else "no 'default' database"
        return {"unapplied_migrations": None, "migrations_error": problem}
    if default["exists"] is False:
        return {
            "unapplied_migrations": None,
            "migrations_error": f"SQLite database {default['name']} does not exist",
        }
    try:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:
        return {"unapplied_migrations": None, "migrations_error": one_line(exc)}
    finally:
        # The probe runs on an event loop in this thread, where Django refuses a
        # connection left open; SQLite's file is released too.
        connections.close_all()
    pending = [f"{m.app_label}.{m.name}" for m, backwards in plan if not backwards]
    return {"unapplied_migrations": pending, "migrations_error": None}


# --- middleware and views -----------------------------------------------------------


def middleware_facts(paths: list[str]) -> list[MiddlewareFacts]:
    """Each MIDDLEWARE entry's capabilities, read as BaseHandler.load_middleware does."""
    from django.utils.module_loading import import_string

    facts: list[MiddlewareFacts] = []
    for path in paths:
        entry = MiddlewareFacts(
            path=path,
            sync_capable=None,
            async_capable=None,
            sync_only=None,
            hooks=[],
            error=None,
        )
        try:
            middleware = import_string(path)
        except (Exception, SystemExit) as exc:
            entry["error"] = one_line(exc)
        else:
            entry["sync_capable"] = bool(getattr(middleware, "sync_capable", True))
            entry["async_capable"] = bool(getattr(middleware, "async_capable", False))
            entry["sync_only"] = not entry["async_capable"]
            entry["hooks"] = [hook for hook in HOOKS if hasattr(middleware, hook)]
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
        entry = ViewFacts({"view": None, "async": None, "error": None})
        try:
            match = resolve(unquote(path.partition("?")[0].partition("#")[0]))
            entry["view"] = callable_name(view_target(match.func))
            view_class = getattr(match.func, "view_class", None)
            if view_class is not None:
                # Raises ImproperlyConfigured for a class mixing sync and async handlers.
                view_class.view_is_async  # noqa: B018
            # What BaseHandler decides on: the callable itself, decorators included.
            entry["async"] = iscoroutinefunction(match.func)
        except Resolver404:
            entry["error"] = "no URL pattern matches"
        except (Exception, SystemExit) as exc:
            entry["error"] = one_line(exc)
        facts[path] = entry
    return facts


# --- whether to probe --------------------------------------------------------------


def probe_blocker(report: dict[str, Any]) -> str | None:
    """Why the probe must not run against this project as it stands, if it must not."""
    if report["asgi"] is None:
        return "no ASGI entry point"
    databases: dict[str, DatabaseFacts] = report["databases"]
    for alias, facts in databases.items():
        if facts["exists"] is False:
            return f"database {alias!r} does not exist"
        if facts["vendor"] not in READ_ONLY_SQL:
            return f"database {alias!r} ({facts['vendor']}) cannot be made read-only"
    if report["unapplied_migrations"]:
        return "unapplied migrations"
    default = databases.get("default")
    if report["migrations_error"] and not (default and default["vendor"] == "dummy"):
        return "migrations could not be checked"
    return None


# --- the whole check ----------------------------------------------------------------


def check(args: CheckArgs) -> dict[str, Any]:
    """Every fact about the project, as one JSON-ready dict."""
    report: dict[str, Any] = {"settings_error": None}
    try:
        settings = setup_django()
        report.update(settings_facts(settings, args["host"]))
    except (Exception, SystemExit) as exc:
        report["settings_error"] = one_line(exc)
        return report
    make_connections_read_only()
    report.update(entry_points(settings, args))
    report["databases"] = database_facts()
    report.update(unapplied_migrations(report["databases"]))
    report["middleware"] = middleware_facts(list(settings.MIDDLEWARE))
    report["views"] = view_facts(args["paths"])
    report["probe"] = None
    report["probe_skipped"] = None
    if args["probe"]:
        blocker = probe_blocker(report)
        if blocker:
            report["probe_skipped"] = blocker
        else:
            report["probe"] = probe(report["asgi"], args["paths"], args["host"])
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
    json.dump(report, report_out)
    report_out.write("\n")
    report_out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
