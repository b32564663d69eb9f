"""loop: a fixed pure-Python loop per request, the instruction count's known answer.

The loop view runs ``n`` iterations of the same pure-Python loop, then answers
a small JSON body. Its work is a count, not a time: under ``python -m bench
cost`` (instructions per request, counted by valgrind) the loop adds exactly
the same instructions per iteration to every request, so loop30k minus loop0
must be three times loop10k minus loop0, whatever the server or view style. If
it is not, the instruction count is wrong, not the server. Timed by locust it
is a CPU-bound view with a known amount of Python work. Not part of the
default run: name it with ``--scenario loop``.
"""

from _support import BenchUser


class Loop0User(BenchUser):
    endpoint = "loop?n=0"


class Loop10kUser(BenchUser):
    endpoint = "loop?n=10000"


class Loop30kUser(BenchUser):
    endpoint = "loop?n=30000"


BENCH = {
    "name": "loop",
    "groups": ["cost"],
    "endpoints": {"loop0": "Loop0User", "loop10k": "Loop10kUser", "loop30k": "Loop30kUser"},
    "styles": ["sync", "async"],
    "stacks": ["none"],
    "servers": ["gunicorn-gthread", "uvicorn"],
    "users": [32],
    # By default the pairs the headline verdicts compare: WSGI + sync, ASGI + async.
    "default": {
        "exclude": [
            {"server": "gunicorn-gthread", "style": "async"},
            {"server": "uvicorn", "style": "sync"},
        ],
    },
}
