"""Switch accounting: how many sync<->async hops asgiref makes, and what they cost.

Opt-in (``BENCH_SWITCH_ACCOUNTING=1``). When it is off nothing here is
installed and the request path is untouched; only the disconnect-cleanup count,
which an abandoned async request bumps once, is kept in memory.

When it is on:
- ``SyncToAsync.__call__`` and ``AsyncToSync.__call__`` are wrapped at class
  level, so every hop Django or the project makes is counted, with its total
  time and the time spent inside the wrapped function. Their difference is the
  crossing cost of the hop, whatever the work inside.
- the WSGI/ASGI application is wrapped to count requests and to answer
  ``GET /__bench__/switches`` (loopback clients only) with the totals.
- counters live in a small memory-mapped file per process in
  ``BENCH_ACCOUNTING_DIR`` (a fresh temporary directory when unset), so the
  endpoint can sum every worker of a multi-process server, and the harness can
  read the totals without a request (``layout.json`` says what a file holds):
  at the window's edges, an HTTP request would wait in the server's queue.
"""

import asyncio
import json
import mmap
import os
import struct
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from time import perf_counter_ns
from typing import Any

from asgiref.sync import AsyncToSync, SyncToAsync

from project.rawasgi import send_response

ENDPOINT = "/__bench__/switches"
LOOPBACK = frozenset({"127.0.0.1", "::1", "::ffff:127.0.0.1"})

FIELDS = (
    "requests",
    "sync_to_async",
    "sync_to_async_thread_sensitive",
    "sync_to_async_ns",
    "sync_to_async_inner_ns",
    "async_to_sync",
    "async_to_sync_new_loop",
    "async_to_sync_ns",
    "async_to_sync_inner_ns",
    "sync_to_async_cancelled",
    "disconnect_cleanups",
    "disconnect_completed",
)
_INDEX = {name: index for index, name in enumerate(FIELDS)}
_REQUESTS = _INDEX["requests"]
_S2A = _INDEX["sync_to_async"]
_A2S = _INDEX["async_to_sync"]
_S2A_INNER = _INDEX["sync_to_async_inner_ns"]
_A2S_INNER = _INDEX["async_to_sync_inner_ns"]
_S2A_CANCELLED = _INDEX["sync_to_async_cancelled"]
_CLEANUPS = _INDEX["disconnect_cleanups"]
_COMPLETED = _INDEX["disconnect_completed"]
_SIZE = 8 * len(FIELDS)
_SUFFIX = ".counters"


class Counters:
    """int64 counters in a memory map (a file, or anonymous memory)."""

    def __init__(self, path: Path | None = None) -> None:
        if path is None:
            self._map = mmap.mmap(-1, _SIZE)
        else:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                os.ftruncate(fd, _SIZE)
                self._map = mmap.mmap(fd, _SIZE)
            finally:
                os.close(fd)
        self._values = memoryview(self._map).cast("q")
        self._lock = threading.Lock()
        self.pid = os.getpid()

    def add(self, index: int, value: int = 1) -> None:
        lock = self._lock
        lock.acquire()
        self._values[index] += value
        lock.release()

    def add_hop(self, base: int, flag: bool, total_ns: int) -> None:
        """One hop: its count, its flag (thread-sensitive / new loop), its total time."""
        values, lock = self._values, self._lock
        lock.acquire()
        values[base] += 1
        if flag:
            values[base + 1] += 1
        values[base + 2] += total_ns
        lock.release()

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(zip(FIELDS, self._values.tolist(), strict=True))


def read_directory(directory: Path) -> dict[str, Any]:
    """Totals over every process's counter file in ``directory``."""
    totals = dict.fromkeys(FIELDS, 0)
    pids = []
    for path in sorted(directory.glob(f"*{_SUFFIX}")):
        data = path.read_bytes()
        if len(data) != _SIZE:
            continue
        for name, value in zip(FIELDS, struct.unpack(f"{len(FIELDS)}q", data), strict=True):
            totals[name] += value
        pids.append(int(path.name.removesuffix(_SUFFIX)))
    return {"totals": totals, "pids": pids}


LAYOUT_FILE = "layout.json"


def _describe_layout(where: Path) -> None:
    """Write what a counter file holds, so a reader outside this project (the
    harness, which never imports it) can sum the files without a request."""
    layout = {"fields": list(FIELDS), "format": "int64 native", "suffix": _SUFFIX}
    tmp = where / f".{LAYOUT_FILE}.{os.getpid()}"
    tmp.write_text(json.dumps(layout))
    os.replace(tmp, where / LAYOUT_FILE)


_counters: Counters | None = None
_counters_lock = threading.Lock()
_directory: Path | None = None
_installed = False


def enabled() -> bool:
    """Whether this process was started with switch accounting on."""
    return os.environ.get("BENCH_SWITCH_ACCOUNTING", "") == "1"


def directory() -> Path:
    """Where this server's processes keep their counter files."""
    global _directory
    if _directory is None:
        configured = os.environ.get("BENCH_ACCOUNTING_DIR")
        _directory = Path(configured) if configured else Path(tempfile.mkdtemp(prefix="switches-"))
        _directory.mkdir(parents=True, exist_ok=True)
    return _directory


def counters() -> Counters:
    """This process's counters (each worker of a forking server owns a file)."""
    current = _counters
    if current is not None:
        return current
    return _open_counters()


def _open_counters() -> Counters:
    global _counters
    with _counters_lock:
        if _counters is None:
            path = directory() / f"{os.getpid()}{_SUFFIX}" if _installed else None
            _counters = Counters(path)
        return _counters


def _forget_counters_after_fork() -> None:
    # A forked worker must not write into its parent's file (nor hold its lock).
    global _counters, _counters_lock
    _counters = None
    _counters_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_counters_after_fork)


def count_disconnect_cleanup() -> None:
    """Called by the async disconnect view when it is cancelled (its client left)."""
    counters().add(_CLEANUPS)


def count_disconnect_completed() -> None:
    """Called by either disconnect view when its wait ran to the end, client or not."""
    counters().add(_COMPLETED)


def totals() -> dict[str, Any]:
    """Totals of every process of this server (or of this process when off)."""
    if _installed:
        return read_directory(directory())
    return {"totals": counters().snapshot(), "pids": [os.getpid()]}


_original_s2a_call = SyncToAsync.__call__
_original_s2a_thread_handler = SyncToAsync.thread_handler
_original_a2s_call = AsyncToSync.__call__
_original_a2s_main_wrap = AsyncToSync.main_wrap

# The wrappers below are on every hop, so they do as little as possible: two
# clock readings and one locked update each. The time inside the wrapped
# function is added by the wrapper around the code that runs it (the worker
# thread's handler, the event loop's coroutine), so nothing is copied per call.
# Only totals are kept: a hop's crossing cost is sum(total) - sum(inner).


async def _counted_sync_to_async(self: SyncToAsync, *args: Any, **kwargs: Any) -> Any:
    start = perf_counter_ns()
    try:
        return await _original_s2a_call(self, *args, **kwargs)
    except asyncio.CancelledError:
        # The awaiting task was cancelled (a client left); the thread may still
        # be running the function, whose time is added when it finishes.
        counters().add(_S2A_CANCELLED)
        raise
    finally:
        counters().add_hop(_S2A, bool(self._thread_sensitive), perf_counter_ns() - start)


def _timed_thread_handler(self: SyncToAsync, *args: Any, **kwargs: Any) -> Any:
    start = perf_counter_ns()
    try:
        return _original_s2a_thread_handler(self, *args, **kwargs)
    finally:
        counters().add(_S2A_INNER, perf_counter_ns() - start)


def _counted_async_to_sync(self: AsyncToSync, *args: Any, **kwargs: Any) -> Any:
    # asgiref's own test: without a live parent loop recorded for this thread
    # (by a SyncToAsync above it, in this process), the call starts a new loop
    # in a new thread. A loop recorded by an earlier, finished request is closed.
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    new_loop = (
        self.force_new_loop
        or loop is None
        or getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None) != os.getpid()
        or loop.is_closed()
    )
    start = perf_counter_ns()
    try:
        return _original_a2s_call(self, *args, **kwargs)
    finally:
        counters().add_hop(_A2S, new_loop, perf_counter_ns() - start)


async def _timed_main_wrap(self: AsyncToSync, *args: Any, **kwargs: Any) -> None:
    start = perf_counter_ns()
    try:
        await _original_a2s_main_wrap(self, *args, **kwargs)
    finally:
        counters().add(_A2S_INNER, perf_counter_ns() - start)


def install() -> None:
    """Wrap asgiref's adapters (idempotent)."""
    global _installed, _counters
    if _installed:
        return
    with _counters_lock:
        _installed = True
        _counters = None  # the next use opens this process's counter file
    _describe_layout(directory())
    SyncToAsync.__call__ = _counted_sync_to_async  # type: ignore[method-assign]
    SyncToAsync.thread_handler = _timed_thread_handler  # type: ignore[method-assign]
    AsyncToSync.__call__ = _counted_async_to_sync  # type: ignore[method-assign]
    AsyncToSync.main_wrap = _timed_main_wrap  # type: ignore[method-assign]


def _report_body() -> bytes:
    report = totals()
    report["directory"] = str(directory())
    return json.dumps(report).encode()


def _is_loopback(host: str | None) -> bool:
    return host in LOOPBACK


def wrap_asgi(app: Callable) -> Callable:
    """The ASGI application with request counting and the totals endpoint."""
    install()
    add = counters

    async def accounted(scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "http":
            if scope.get("path") == ENDPOINT:
                client = scope.get("client") or (None,)
                status, content_type, body = _endpoint_answer(client[0])
                await send_response(send, status, content_type.encode(), body)
                return
            add().add(_REQUESTS)
        await app(scope, receive, send)

    return accounted


def wrap_wsgi(app: Callable) -> Callable:
    """The WSGI application with request counting and the totals endpoint."""
    install()
    add = counters

    def accounted(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == ENDPOINT:
            status, content_type, body = _endpoint_answer(environ.get("REMOTE_ADDR"))
            start_response(
                f"{status} {'OK' if status == 200 else 'Forbidden'}",
                [("Content-Type", content_type), ("Content-Length", str(len(body)))],
            )
            return [body]
        add().add(_REQUESTS)
        return app(environ, start_response)

    return accounted


def _endpoint_answer(client_host: str | None) -> tuple[int, str, bytes]:
    if not _is_loopback(client_host):
        return 403, "text/plain", b"switch accounting answers loopback clients only\n"
    return 200, "application/json", _report_body()
