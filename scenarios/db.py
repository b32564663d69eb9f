"""db: TechEmpower's database tests through the Django ORM.

One row, 20 rows, the fortunes page and 5 updates, with the sync ORM in def
views and the async ORM (aget, async for, asave) in async views. Django 6.1's
async ORM still runs the sync ORM through sync_to_async, one hop per query,
so the async variant pays a switch per row. With DATABASE_URL pointing at
PostgreSQL the connection modes are measured too: a connection per request,
persistent connections (WSGI only: refused under ASGI) and Django's pool at
two sizes, with the server's connection count recorded during each cell.
"""

from _support import BenchUser


class DbUser(BenchUser):
    endpoint = "db"


class QueriesUser(BenchUser):
    endpoint = "queries?n=20"


class DbBurnUser(BenchUser):
    # 80 ms of the database backend's own CPU per request, little Django work:
    # the known answer of database CPU per request (tests/bench/measure/test_dbcpu_live.py)
    endpoint = "db-burn?ms=80"


class FortunesUser(BenchUser):
    endpoint = "fortunes"


class UpdatesUser(BenchUser):
    endpoint = "updates?n=5"


BENCH = {
    "name": "db",
    "groups": ["findings"],  # make bench-findings: the documentation's other claims
    "endpoints": {
        "db": "DbUser",
        "queries": "QueriesUser",
        "fortunes": "FortunesUser",
        "updates": "UpdatesUser",
        "db-burn": "DbBurnUser",
    },
    "styles": ["sync", "async"],
    "stacks": ["none"],
    "users": [32],
    "database": True,
    "db_modes": ["none", "persistent", "pool4", "pool16"],
    "default": {
        "endpoints": ["queries"],
        "servers": ["gunicorn-gthread", "uvicorn"],
        "db_modes": ["none", "pool4"],
        "exclude": [
            {"server": "gunicorn-gthread", "style": "async"},
            {"server": "uvicorn", "style": "sync"},
        ],
    },
}
