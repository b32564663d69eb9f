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
    # Open loop (--rate, or the default sweep): requests per second falling due.
    "rates": [250, 500, 1000, 2000, 3000],
    "default": {
        "endpoints": ["json"],
        # gunicorn-sync closes every connection: locust-bound here (--full runs it)
        "servers": ["gunicorn-gthread", "uvicorn"],
        "rates": [250, 500, 1000, 2000],
        "exclude": [
            {"server": "gunicorn-sync", "style": "async"},
            {"server": "gunicorn-gthread", "style": "async"},
            # the sweep compares ASGI + async with WSGI + sync only
            {"server": "uvicorn", "style": "sync", "rate": 250},
            {"server": "uvicorn", "style": "sync", "rate": 500},
            {"server": "uvicorn", "style": "sync", "rate": 1000},
            {"server": "uvicorn", "style": "sync", "rate": 2000},
        ],
    },
}
