"""ASGI entry point: ``project.asgi:application``.

Persistent database connections are refused here, at start-up, as Django's
documentation advises for ASGI: every request's sync work runs on a fresh
thread, and each thread would keep a connection open that nothing reuses.
Use the pool (BENCH_DB_CONN=pool) instead.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

from django.conf import settings
from django.core.asgi import get_asgi_application
from django.core.exceptions import ImproperlyConfigured

from project import accounting

application = get_asgi_application()

for _alias, _database in settings.DATABASES.items():
    # CONN_MAX_AGE=None means "forever". With the pool, Django refuses any
    # CONN_MAX_AGE itself, so that case is left to its own message.
    if _database.get("CONN_MAX_AGE", 0) != 0 and not _database.get("OPTIONS", {}).get("pool"):
        raise ImproperlyConfigured(
            f"database {_alias!r}: persistent connections (CONN_MAX_AGE="
            f"{_database['CONN_MAX_AGE']}) are refused under ASGI; use BENCH_DB_CONN=pool"
        )

if accounting.enabled():
    application = accounting.wrap_asgi(application)
