"""io: 50 ms of simulated slow I/O per request, swept over 10 to 500 users.

The case ASGI exists for. A sync view holds a worker thread while it sleeps,
so gthread serves at most threads / 50 ms per worker; an async view yields the
event loop, so uvicorn serves until the CPU runs out. The sweep shows where
each one stops scaling and what its latency does after that.
"""

from _support import BenchUser


class SlowIoUser(BenchUser):
    endpoint = "io?ms=50"


BENCH = {
    "name": "io",
    "endpoints": {"io50": "SlowIoUser"},
    "styles": ["sync", "async"],
    "stacks": ["none"],
    "users": [10, 50, 200, 500],
    # Open loop (--rate, or the default sweep): requests per second falling due.
    "rates": [50, 100, 200, 400, 800, 1600],
    "default": {
        "users": [200],
        # to 1,600: uvicorn + async met 800/s in two of three passes of a make bench
        # (December 2), so a grid that stopped there only bounded its knee
        "rates": [50, 100, 200, 400, 800, 1600],
        "servers": ["gunicorn-gthread", "uvicorn"],
        "exclude": [
            {"server": "gunicorn-gthread", "style": "async"},
            {"server": "uvicorn", "style": "sync"},
        ],
    },
}
