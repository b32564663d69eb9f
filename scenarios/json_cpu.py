"""json: TechEmpower's plaintext and json, the purely CPU-bound case.

Nothing waits: every microsecond is framework, server and adapter overhead,
so this is where WSGI's lower per-request cost and ASGI's switch overhead show
most plainly. Expect a single-core server near the load generator's ceiling:
read CPU ms per request, which does not depend on the load generator.
"""

from _support import BenchUser


class PlaintextUser(BenchUser):
    endpoint = "plaintext"


class JsonUser(BenchUser):
    endpoint = "json"


BENCH = {
    "name": "json",
    "endpoints": {"json": "JsonUser", "plaintext": "PlaintextUser"},
    "styles": ["sync", "async"],
    "stacks": ["none"],
    "users": [32],
    "default": {
        "endpoints": ["json"],
        "servers": ["gunicorn-sync", "gunicorn-gthread", "uvicorn"],
        "exclude": [
            {"server": "gunicorn-sync", "style": "async"},
            {"server": "gunicorn-gthread", "style": "async"},
        ],
    },
}
