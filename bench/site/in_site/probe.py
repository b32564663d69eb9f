"""Serve paths in-process through a project's ASGI application and count its thread hops.

Used by ``bench.site.in_site.check`` inside the subprocess that inspects a user's project, never
by the harness itself. Under ASGI every sync piece of a Django project (a MiddlewareMixin
hook, process_view, a sync view, a template render, a signal's sync receivers) runs
through asgiref's ``sync_to_async``, and a sync-only middleware adds an
``async_to_sync`` back out: each is a hop between the event loop and a thread. A plain
asyncio loop calling ``app(scope, receive, send)`` gets the very handler a server would,
so the hops counted here are the ones the server will make, each named by what it runs:
that says which middleware or view to change.

The adapters are patched at class level, because Django builds its wrappers once when
the handler loads and then calls them; the originals are restored afterwards.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import inspect
import sys
import threading
import types
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypedDict
from urllib.parse import unquote

from bench.site.in_site.asgi_client import OneRequest

REQUESTS_PER_PATH = 3
REQUEST_TIMEOUT_S = 30.0
ONE_LINE_LIMIT = 400


class SignalHop(TypedDict):
    signal: str  # "django.core.signals.request_started"
    receivers: list[str]  # the sync receivers the one hop runs, in order


class PathProbe(TypedDict):
    status: int | None
    exception: str | None  # what Django's got_request_exception saw, if anything
    sync_to_async: dict[str, float]
    async_to_sync: dict[str, float]


class ProbeReport(TypedDict):
    requests_per_path: int
    paths: dict[str, PathProbe]
    signals: dict[str, SignalHop]  # hop name -> what it runs, for a signal's sync receivers
    error: str | None


def one_line(exc: BaseException) -> str:
    """``Type: message`` on one line: the harness prints it as it is."""
    text = " ".join(str(exc).split())
    line = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return line[:ONE_LINE_LIMIT]


def callable_name(obj: object) -> str:
    """The dotted name of what a wrapper runs, as a person would look it up.

    Partials and asgiref adapters are unwrapped. A bound method is named by its
    instance's class, so a middleware's inherited hook is still attributed to that
    middleware. A function is named as functools.wraps left it, except that wraps around
    an instance (which has no ``__qualname__``) copies only ``__module__``: the function's
    own code then names its true module.
    """
    from asgiref.sync import AsyncToSync, SyncToAsync

    for _ in range(20):
        if isinstance(obj, functools.partial | SyncToAsync):
            obj = obj.func
        elif isinstance(obj, AsyncToSync):
            obj = obj.awaitable
        else:
            break
    if inspect.ismethod(obj):
        owner = obj.__self__ if isinstance(obj.__self__, type) else type(obj.__self__)
        return f"{owner.__module__}.{owner.__qualname__}.{obj.__func__.__name__}"
    if isinstance(obj, types.FunctionType):
        module = obj.__module__
        if obj.__qualname__ == obj.__code__.co_qualname:
            module = obj.__globals__.get("__name__", module)
        return f"{module}.{obj.__qualname__}"
    qualname = getattr(obj, "__qualname__", None)
    if isinstance(qualname, str):  # classes and builtins
        return f"{getattr(obj, '__module__', None) or 'builtins'}.{qualname}"
    cls = type(obj)  # a callable instance
    return f"{cls.__module__}.{cls.__qualname__}"


_SYNC_SEND = ("Signal.asend.<locals>.sync_send", "Signal.asend_robust.<locals>.sync_send")


def signal_names() -> dict[int, str]:
    """id -> dotted name of every module-level Signal loaded (request_started is
    django.core.signals.request_started), so a hop can say which signal it sends."""
    from django.dispatch import Signal

    names: dict[int, str] = {}
    for module_name, module in list(sys.modules.items()):
        for attribute, value in list(getattr(module, "__dict__", {}).items()):
            if isinstance(value, Signal) and id(value) not in names:
                names[id(value)] = f"{module_name}.{attribute}"
    return names


def signal_hop(target: object, names: dict[int, str]) -> SignalHop | None:
    """What a hop into Signal.asend's ``sync_send`` runs, or None for any other hop.

    Since Django 5.0 ``asend`` wraps all the sync receivers of a signal in one
    ``sync_to_async`` (``sync_send``, a closure over ``sync_receivers`` and the
    signal as ``self``): the hop is theirs, and naming the closure names nobody.
    """
    if not isinstance(target, types.FunctionType):
        return None
    if not target.__qualname__.endswith(_SYNC_SEND) or not target.__closure__:
        return None
    free = dict(zip(target.__code__.co_freevars, target.__closure__, strict=True))
    try:
        receivers = free["sync_receivers"].cell_contents
        signal = free["self"].cell_contents
    except (KeyError, ValueError):  # an empty cell
        return None
    return SignalHop(
        signal=names.get(id(signal), "a signal"),
        receivers=[callable_name(receiver) for receiver in receivers],
    )


def signal_hop_name(hop: SignalHop) -> str:
    """'django.core.signals.request_started receivers django.db.reset_queries, ...'"""
    return f"{hop['signal']} receivers {', '.join(hop['receivers'])}"


class HopCounter:
    """Thread adaptations per kind and wrapped callable, for the path being counted."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.path: str | None = None  # None while warming up: nothing is recorded
        self.counts: dict[str, dict[str, Counter[str]]] = {}
        self.exceptions: dict[str, str] = {}
        self.signals: dict[str, SignalHop] = {}
        self._signal_names: dict[int, str] | None = None

    def name(self, target: object) -> str:
        """The hop's name: a signal's sync receivers for asend's hop, else the callable."""
        if isinstance(target, types.FunctionType) and target.__qualname__.endswith(_SYNC_SEND):
            if self._signal_names is None:
                self._signal_names = signal_names()
            hop = signal_hop(target, self._signal_names)
            if hop is not None:
                name = signal_hop_name(hop)
                self.signals.setdefault(name, hop)
                return name
        return callable_name(target)

    def record(self, kind: str, target: object) -> None:
        """One hop into ``target``; called from the loop and from worker threads."""
        path = self.path
        if path is None:
            return
        name = self.name(target)
        with self.lock:
            self.counts.setdefault(path, {}).setdefault(kind, Counter())[name] += 1

    def per_request(self, path: str, kind: str) -> dict[str, float]:
        """Hops per counted request, by callable name."""
        counted = self.counts.get(path, {}).get(kind, Counter())
        return {name: round(n / REQUESTS_PER_PATH, 4) for name, n in sorted(counted.items())}


@contextmanager
def counting_hops(counter: HopCounter) -> Iterator[None]:
    """Patch asgiref's adapters at class level so every call is recorded; restore after."""
    from asgiref.sync import AsyncToSync, SyncToAsync

    sync_to_async_call = SyncToAsync.__call__
    async_to_sync_call = AsyncToSync.__call__

    async def counted_sync_to_async(self: Any, *args: Any, **kwargs: Any) -> Any:
        counter.record("sync_to_async", self.func)
        return await sync_to_async_call(self, *args, **kwargs)

    def counted_async_to_sync(self: Any, *args: Any, **kwargs: Any) -> Any:
        counter.record("async_to_sync", self.awaitable)
        return async_to_sync_call(self, *args, **kwargs)

    SyncToAsync.__call__ = counted_sync_to_async  # type: ignore[method-assign]
    AsyncToSync.__call__ = counted_async_to_sync  # type: ignore[method-assign]
    try:
        yield
    finally:
        SyncToAsync.__call__ = sync_to_async_call  # type: ignore[method-assign]
        AsyncToSync.__call__ = async_to_sync_call  # type: ignore[method-assign]


def http_scope(path: str, host: str) -> dict[str, Any]:
    """The scope an ASGI server would give a plain GET of ``path``."""
    raw_path, _, query = path.partition("?")
    raw_path = raw_path.partition("#")[0]
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": unquote(raw_path),
        "raw_path": raw_path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", host.encode()), (b"user-agent", b"bench-site-check")],
        "server": (host, 80),
        "client": ("127.0.0.1", 50000),
    }


async def asgi_get(app: Callable[..., Any], path: str, host: str) -> int | None:
    """GET ``path`` through ``app``; the response status (None if it sent none)."""
    request = OneRequest()  # the client is gone once the response is complete
    status: int | None = None

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        request.sent(message)

    await asyncio.wait_for(app(http_scope(path, host), request.receive, send), REQUEST_TIMEOUT_S)
    return status


async def drive(
    app: Callable[..., Any],
    paths: list[str],
    host: str,
    counter: HopCounter,
    statuses: dict[str, int | None],
) -> None:
    """Per path one warm-up request, then the counted ones; each path's last status goes
    into ``statuses`` as it comes, so a failure keeps what was served before it."""
    for path in paths:
        counter.path = None
        await asgi_get(app, path, host)
        counter.path = path
        for _ in range(REQUESTS_PER_PATH):
            statuses[path] = await asgi_get(app, path, host)
    counter.path = None


def load_entry(entry: str) -> Any:
    """The object ``module:attribute`` names (importing the module runs the project)."""
    module, _, attribute = entry.partition(":")
    return getattr(importlib.import_module(module), attribute)


def probe(asgi_entry: str, paths: list[str], host: str) -> ProbeReport:
    """Serve each path in-process through the project's ASGI application and count the
    thread hops (sync_to_async, async_to_sync) per request, by what each hop runs."""
    from django.core.signals import got_request_exception

    counter = HopCounter()

    def on_exception(sender: Any, request: Any = None, **kwargs: Any) -> None:
        exc = sys.exc_info()[1]
        if counter.path is not None and exc is not None:
            counter.exceptions.setdefault(counter.path, one_line(exc))

    got_request_exception.connect(on_exception, weak=False, dispatch_uid="bench.site.in_site.probe")
    statuses: dict[str, int | None] = {}
    error = None
    try:
        app = load_entry(asgi_entry)
        with counting_hops(counter):
            asyncio.run(drive(app, paths, host, counter, statuses))
    except TimeoutError:
        error = f"a request took longer than {REQUEST_TIMEOUT_S:g} s"
    except (Exception, SystemExit) as exc:
        error = one_line(exc)
    finally:
        got_request_exception.disconnect(dispatch_uid="bench.site.in_site.probe")
    return ProbeReport(
        requests_per_path=REQUESTS_PER_PATH,
        paths={
            path: PathProbe(
                status=status,
                exception=counter.exceptions.get(path),
                sync_to_async=counter.per_request(path, "sync_to_async"),
                async_to_sync=counter.per_request(path, "async_to_sync"),
            )
            for path, status in statuses.items()
        },
        signals=counter.signals,
        error=error,
    )
