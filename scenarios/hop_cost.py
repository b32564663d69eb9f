"""hops: views that make n extra sync<->async hops, for the cost of one hop.

The hops view calls an empty function through sync_to_async (async view) or
an empty coroutine through async_to_sync (sync view) n times, then answers a
small JSON body: the only difference between hops0 and hops10 is ten hops.
Under ``python -m bench cost`` the difference of their instructions per
request over the difference of their hops per request (as the switch
accounting counts them) is the instructions of one hop, whatever the rest of
Django costs. Under locust the same pair gives the time of one hop inside
real requests. Not part of the default run: name it with ``--scenario hops``.
"""

from _support import BenchUser


class Hops0User(BenchUser):
    endpoint = "hops?n=0"


class Hops10User(BenchUser):
    endpoint = "hops?n=10"


BENCH = {
    "name": "hops",
    "groups": ["cost"],
    "endpoints": {"hops0": "Hops0User", "hops10": "Hops10User"},
    "styles": ["sync", "async"],
    "stacks": ["none"],
    "servers": ["gunicorn-gthread", "uvicorn"],
    "users": [32],
    # By default the async view under ASGI (sync_to_async hops) and the sync
    # view under WSGI (async_to_sync, a new event loop each).
    "default": {
        "exclude": [
            {"server": "gunicorn-gthread", "style": "async"},
            {"server": "uvicorn", "style": "sync"},
        ],
    },
}
