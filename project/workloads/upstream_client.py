"""Pooled HTTP clients for the outbound-call workloads.

The sync views share one ``httpx.Client`` (thread-safe, pooled). The async
views share one ``httpx.AsyncClient`` per event loop, since an async client's
connections belong to the loop that opened them. An async view run under WSGI
gets a loop of its own for each request (asgiref's async_to_sync makes it), so
there it opens and closes a client per request: that is what such a view
really costs, and pooling across dead loops would leak connections.
"""

import asyncio
import threading
import weakref

import httpx
from asgiref.sync import AsyncToSync
from django.conf import settings

# httpx's default cap of 100 connections, all kept alive. A larger pool costs
# the async client more CPU per call, not less: httpcore scans every pooled
# connection on each request (encode/httpcore#1035), and a gathered fan-out
# under load keeps hundreds of calls in flight.
_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=100)
_TIMEOUT = httpx.Timeout(30.0)

_sync_client: httpx.Client | None = None
_sync_lock = threading.Lock()
_async_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient]" = (
    weakref.WeakKeyDictionary()
)


def _params(ms: int, call: int) -> dict[str, int]:
    return {"ms": ms, "call": call}


def sync_client() -> httpx.Client:
    global _sync_client
    if _sync_client is None:
        with _sync_lock:
            if _sync_client is None:
                _sync_client = httpx.Client(
                    base_url=settings.BENCH_UPSTREAM_URL, limits=_LIMITS, timeout=_TIMEOUT
                )
    return _sync_client


def close_sync_client() -> None:
    """Close the shared sync client (at process end; the next call opens another)."""
    global _sync_client
    with _sync_lock:
        if _sync_client is not None:
            _sync_client.close()
            _sync_client = None


def fetch(ms: int, call: int) -> dict:
    """One upstream call that answers after ``ms`` milliseconds."""
    response = sync_client().get("/", params=_params(ms, call))
    response.raise_for_status()
    return response.json()


def _loop_is_per_request(loop: asyncio.AbstractEventLoop) -> bool:
    """True for a loop asgiref made for one async_to_sync call (an async view
    under WSGI): it dies with the request."""
    return loop in AsyncToSync.loop_thread_executors


def _new_async_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=settings.BENCH_UPSTREAM_URL, limits=_LIMITS, timeout=_TIMEOUT)


async def afetch_many(ms: int, calls: int, *, concurrently: bool) -> list[dict]:
    """``calls`` upstream calls, gathered or one after another."""
    loop = asyncio.get_running_loop()
    if _loop_is_per_request(loop):
        async with _new_async_client() as client:
            return await _afetch_many(client, ms, calls, concurrently)
    client = _async_clients.get(loop)
    if client is None:
        client = _async_clients[loop] = _new_async_client()
    return await _afetch_many(client, ms, calls, concurrently)


async def _afetch_many(
    client: httpx.AsyncClient, ms: int, calls: int, concurrently: bool
) -> list[dict]:
    async def one(call: int) -> dict:
        response = await client.get("/", params=_params(ms, call))
        response.raise_for_status()
        return response.json()

    if concurrently:
        return list(await asyncio.gather(*(one(call) for call in range(calls))))
    return [await one(call) for call in range(calls)]


async def aclose_loop_client() -> None:
    """Close the current loop's shared client (tests that end their loop call this)."""
    client = _async_clients.pop(asyncio.get_running_loop(), None)
    if client is not None:
        await client.aclose()
