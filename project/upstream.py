"""The upstream service the outbound-call workloads talk to: a bare ASGI app.

``GET /?ms=N&call=K`` answers ``{"call":K,"waited_ms":N}`` after N milliseconds.
Run it with ``uvicorn project.upstream:app --port PORT``; the harness and the
tests start it on a free loopback port and pass its address to the server
under test as BENCH_UPSTREAM_URL.
"""

import asyncio
import json
import os
from collections.abc import Callable
from urllib.parse import parse_qs

from project.rawasgi import http_app, send_response

# BENCH_UPSTREAM_MAX_MS caps every wait (tests and fuzzing run it at 0).
MAX_MS = int(os.environ.get("BENCH_UPSTREAM_MAX_MS", "10000"))


def _int(query: dict[str, list[str]], name: str, high: int) -> int:
    try:
        return min(max(int(query[name][0]), 0), high)
    except (KeyError, ValueError):
        return 0


@http_app
async def app(scope: dict, send: Callable) -> None:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    ms = _int(query, "ms", MAX_MS)
    call = _int(query, "call", 1_000_000)
    if ms:
        await asyncio.sleep(ms / 1000)
    body = json.dumps({"call": call, "waited_ms": ms}, separators=(",", ":")).encode()
    await send_response(send, 200, b"application/json", body)
