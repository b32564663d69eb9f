"""The served application, wrapped with the control paths around the counted requests.

A cost run differences two server runs under cachegrind that differ only in
how many requests they answer, so whatever else both runs do cancels. What
does not cancel is work whose schedule differs between the two runs, and the
largest such work a request can trigger is the cyclic garbage collector's: a
full collection walks the whole start-up heap (Django, its apps, the URL
resolver), a hundred million instructions or more under
``PYTHONMALLOC=malloc``, and it falls where allocations say, not where
requests do. Start-up leaves many objects pending for it.

So before the counted requests the harness asks, over HTTP:

- ``GET /__djbench__/cost/begin``: ``gc.collect()``, so both runs start their
  counted requests with every generation empty and nothing pending for a
  full collection (which then needs a quarter of the heap to survive, in
  practice never within a run), and the same collection in both runs
  cancels.
- ``GET /__djbench__/cost/end``: nothing but the state.

Each answers a small JSON object: the pid that answered and the collector's
cumulative collections per generation, so the harness records how many
collections of each generation the counted requests held and can say why
two runs disagree. Every other path goes to the application unchanged: the
wrapper adds one string comparison per request, which every cell carries
alike.

The wrapped application is named by ``BENCH_COST_WSGI`` or
``BENCH_COST_ASGI`` ("module:attribute"). Only the standard library is
imported here: this module runs in the measured server's interpreter.
"""

import functools
import gc
import importlib
import json
import os
from collections.abc import Callable, Iterable
from typing import Any

PREFIX = "/__djbench__/cost/"


def _state() -> bytes:
    """What a control answer says: the pid and the collector's counts."""
    return json.dumps(
        {
            "pid": os.getpid(),
            "collections": [generation["collections"] for generation in gc.get_stats()],
        }
    ).encode()


def control(action: str) -> tuple[int, bytes]:
    """Carry out one control request; its HTTP status and body."""
    if action == "begin":
        gc.collect()
        return 200, _state()
    if action == "end":
        return 200, _state()
    return 404, b'{"error": "unknown control action"}'


def _load(variable: str) -> Any:
    module_name, _, attribute = os.environ[variable].partition(":")
    return getattr(importlib.import_module(module_name), attribute)


_REASONS = {200: "200 OK", 404: "404 Not Found"}


@functools.cache
def _wsgi() -> Callable[..., Iterable[bytes]]:
    application = _load("BENCH_COST_WSGI")

    def wrapped(environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(PREFIX):
            return application(environ, start_response)
        status, body = control(path.removeprefix(PREFIX))
        start_response(
            _REASONS[status],
            [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
        )
        return [body]

    return wrapped


@functools.cache
def _asgi() -> Callable[..., Any]:
    application = _load("BENCH_COST_ASGI")

    async def wrapped(scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await application(scope, receive, send)
            return
        status, body = control(scope["path"].removeprefix(PREFIX))
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return wrapped


def __getattr__(name: str) -> Any:
    # Built on first access, so a WSGI server never imports the ASGI application.
    if name == "wsgi_application":
        return _wsgi()
    if name == "asgi_application":
        return _asgi()
    raise AttributeError(name)
