"""upstream: outbound HTTP calls to a local service that answers after 20 ms.

One call per request, and a fan-out of five: the sync view makes them one
after another (100 ms), the async view gathers them (20 ms). The upstream
service runs on the load generator's CPUs, like any remote dependency.
"""

from _support import BenchUser


class UpstreamUser(BenchUser):
    endpoint = "upstream?ms=20"


class FanoutUser(BenchUser):
    endpoint = "fanout?n=5&ms=20"


BENCH = {
    "name": "upstream",
    "groups": ["findings"],  # make bench-findings: the documentation's other claims
    "endpoints": {"upstream": "UpstreamUser", "fanout": "FanoutUser"},
    "styles": ["sync", "async"],
    "stacks": ["none"],
    "users": [50],
    "upstream": True,
    "default": {
        "endpoints": ["fanout"],
        "servers": ["gunicorn-gthread", "uvicorn"],
        "exclude": [
            {"server": "gunicorn-gthread", "style": "async"},
            {"server": "uvicorn", "style": "sync"},
        ],
    },
}
