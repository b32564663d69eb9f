"""Count the connections held on a user's databases; run in a subprocess.

``python -m bench.site.in_site.dbcount`` runs in the project's environment (as
``bench.site.in_site.check`` does), so their own DATABASES settings, credentials
included, are used by their own Django and never pass through the harness.
It prints one JSON line on start, ``{"databases": [...], "error": null}``, then
answers each line read on stdin with one line: the number of connections open
on those databases now, or ``error: ...``.

Only vendors whose server lists its connections are counted: PostgreSQL
(``pg_stat_activity``, asked from the ``postgres`` maintenance database so that
the counter takes no slot of the site's own database, whose CONNECTION LIMIT
may be what the run runs into) and MySQL/MariaDB (the processlist, less this
counter's own connection). Every connection is read-only.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

from bench.site.in_site.check import make_connections_read_only, one_line

ALIAS = "djbench_count"  # the counter's own connections, apart from the site's
POSTGRES_COUNT = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
# when the maintenance database cannot be reached: from theirs, less this counter
POSTGRES_OWN_COUNT = POSTGRES_COUNT + " AND pid <> pg_backend_pid()"
MYSQL_COUNT = (
    "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = %s AND ID <> CONNECTION_ID()"
)


def counter_for(connection: Any) -> Callable[[], int] | None:
    """A function counting the connections to ``connection``'s database, or None
    for a vendor whose server does not list them (SQLite: a file, no server)."""
    settings_dict = dict(connection.settings_dict)
    name = settings_dict["NAME"]
    # one plain connection of its own, never from their pool
    settings_dict["OPTIONS"] = {
        key: value for key, value in settings_dict.get("OPTIONS", {}).items() if key != "pool"
    }
    if connection.vendor == "postgresql":
        # NAME None: Django's PostgreSQL backend then connects to "postgres", as
        # its own _nodb_cursor does for creating test databases.
        maintenance = type(connection)({**settings_dict, "NAME": None}, ALIAS)
        count = _counting(maintenance, POSTGRES_COUNT, name)
        try:
            count()
        except Exception:
            count = _counting(type(connection)(settings_dict, ALIAS), POSTGRES_OWN_COUNT, name)
        return count
    if connection.vendor == "mysql":
        return _counting(type(connection)(settings_dict, ALIAS), MYSQL_COUNT, name)
    return None


def _counting(admin: Any, statement: str, name: str) -> Callable[[], int]:
    def count() -> int:
        # autocommit, as Django's connections are: each count sees the server now
        with admin.cursor() as cursor:
            cursor.execute(statement, [name])
            (value,) = cursor.fetchone()
        return int(value)

    return count


def counters() -> tuple[list[str], list[Callable[[], int]]]:
    """The distinct databases of the project that can be counted, and their counters."""
    import django
    from django.db import connections

    django.setup()
    make_connections_read_only()
    seen: dict[tuple, str] = {}
    found: list[Callable[[], int]] = []
    for alias in connections:
        connection = connections[alias]
        settings_dict = connection.settings_dict
        key = (
            connection.vendor,
            settings_dict.get("HOST"),
            settings_dict.get("PORT"),
            settings_dict.get("NAME"),
        )
        if key in seen:
            continue
        count = counter_for(connection)
        if count is not None:
            seen[key] = f"{alias} ({connection.vendor} {settings_dict.get('NAME')})"
            found.append(count)
    return list(seen.values()), found


def main() -> int:
    """Answer counts until stdin closes; the project's own prints go to stderr."""
    report_out = sys.stdout
    sys.stdout = sys.stderr
    try:
        names, found = counters()
        for count in found:
            count()  # connect now: the first count in the window must not wait for it
    except (Exception, SystemExit) as exc:
        print(json.dumps({"databases": [], "error": one_line(exc)}), file=report_out, flush=True)
        return 0
    print(json.dumps({"databases": names, "error": None}), file=report_out, flush=True)
    for _ in sys.stdin:
        try:
            answer = str(sum(count() for count in found))
        except Exception as exc:
            answer = f"error: {one_line(exc)}"
        print(answer, file=report_out, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
