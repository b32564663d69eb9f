"""middleware: the json view behind each of the five middleware stacks.

Same view, same work per middleware (one header), only the stack's
sync/async mode changes: none, Django's seven defaults, three sync-only,
three async, and async/sync-only/async. Under ASGI every sync middleware hook
is a sync_to_async hop; under WSGI async-only middleware become async_to_sync
hops. CPU ms per request against the stack says what each choice costs.
"""

from _support import BenchUser


class JsonUser(BenchUser):
    endpoint = "json"


BENCH = {
    "name": "middleware",
    "groups": ["findings"],  # make bench-findings: the documentation's other claims
    "endpoints": {"json": "JsonUser"},
    "styles": ["sync", "async"],
    "stacks": ["none", "django", "sync", "async", "mixed"],
    "users": [32],
    "servers": ["gunicorn-gthread", "uvicorn"],
    "default": {
        "stacks": ["django"],
        "servers": ["uvicorn"],
        "styles": ["async"],
    },
}
