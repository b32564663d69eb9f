"""burn: the harness's known-cost calibration, 5 and 15 ms of CPU per request.

The burn view spends exactly the requested milliseconds of its own thread's
CPU (counted on time.thread_time, so waiting for the GIL or a core does not
count), then answers a small JSON body. Server CPU per request is measured
from outside with psutil; burn15 minus burn5 must come out at 10 ms, whatever
the server, view style or queueing. If it does not, the harness's CPU
accounting is wrong, not the server. 200 users keep the queue deep.

Why not burn10 minus burn0: measured without the harness (one sequential
client, psutil before and after), the rest of a request costs about 1 ms more
of CPU when it runs between long burns than back to back (caches run cold), so
that difference comes out near 11 ms on this machine; two non-zero burns share
the regime. burn0 stays as the plain reference. Not part of the default run:
name it with ``--scenario burn``.
"""

from _support import BenchUser


class Burn0User(BenchUser):
    endpoint = "burn?ms=0"


class Burn5User(BenchUser):
    endpoint = "burn?ms=5"


class Burn15User(BenchUser):
    endpoint = "burn?ms=15"


BENCH = {
    "name": "burn",
    "groups": ["calibration"],
    "endpoints": {"burn0": "Burn0User", "burn5": "Burn5User", "burn15": "Burn15User"},
    "styles": ["sync", "async"],
    "stacks": ["none"],
    "servers": ["gunicorn-gthread", "uvicorn"],
    "users": [200],
    # By default the pairs the headline verdicts compare: WSGI + sync, ASGI + async.
    "default": {
        "endpoints": ["burn5", "burn15"],
        "exclude": [
            {"server": "gunicorn-gthread", "style": "async"},
            {"server": "uvicorn", "style": "sync"},
        ],
    },
}
