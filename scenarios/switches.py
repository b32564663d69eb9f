"""switches: what a sync<->async switch costs as the whole stack pays it.

The json and db views, sync and async, under a WSGI server (gthread) and an
ASGI server (uvicorn), behind each of the five middleware stacks: forty cells
whose switches per request run from 0 to 17. Server CPU per request against
switches per request, fitted by least squares (``python -m bench switches``),
gives microseconds per switch; one user keeps queueing out of the
accounting's own per-hop timings. Not part of the default run: name it with
``--scenario switches``.
"""

from _support import BenchUser


class JsonUser(BenchUser):
    endpoint = "json"


class DbUser(BenchUser):
    endpoint = "db"


BENCH = {
    "name": "switches",
    "groups": ["switches"],
    "endpoints": {"json": "JsonUser", "db": "DbUser"},
    "styles": ["sync", "async"],
    "stacks": ["none", "django", "sync", "async", "mixed"],
    "servers": ["gunicorn-gthread", "uvicorn"],
    "users": [1, 32],
    "database": True,
    "accounting": True,
    "default": {"users": [1]},
}
