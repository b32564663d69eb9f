"""transactions: a write in transaction.atomic from a def view and from an async view.

Django has no async transactions: its documentation says to put the atomic
block in one sync function and call that through sync_to_async. Each request
inserts one ledger row and updates one World row in one transaction: the def
view with ``with transaction.atomic():``, the async view with the same block
called once through sync_to_async (one extra hop per request, on a fresh
per-request thread under ASGI). Every write is accounted for: the harness
counts the ledger's rows before and after each repeat, and a repeat whose rows
added differ from its successful requests (warm-up, window and drain, plus the
primer) fails with the two counts in its reason. SQLite always; with
DATABASE_URL, PostgreSQL with a connection per request and Django's pool of 4.
"""

from _support import BenchUser


class InsertUser(BenchUser):
    endpoint = "insert-atomic"


BENCH = {
    "name": "transactions",
    "groups": ["docs"],  # the documentation's claims, checked one by one
    "endpoints": {"insert-atomic": "InsertUser"},
    "styles": ["sync", "async"],
    "stacks": ["none"],
    "servers": ["gunicorn-gthread", "uvicorn"],
    "users": [32],
    "database": True,
    "db_modes": ["none", "pool4"],
    "verify_rows": "ledger",
    # The async view under WSGI pays a new event loop per request: another question.
    "exclude": [{"server": "gunicorn-gthread", "style": "async"}],
}
