"""The asgiref adapters and the request path, timed in-process with pyperf.

Run by ``python -m bench microbench`` (it starts this module as pyperf's
manager, and pyperf starts one worker process per benchmark), never imported by
the harness. Each adapter benchmark comes twice: wall time (what a request
waits) and process CPU time over all threads (what the machine pays, the
figure comparable with the end-to-end fit). The request-path benchmarks send
one request through the real ASGI/WSGI handlers with Django's default stack,
with switch accounting off and on, which measures the accounting's own cost.

A warm sync_to_async is also timed with the hop's two threads pinned to one
CPU and free on every CPU (``sync_to_async_pinned``/``_unpinned``): a hand-off
to a thread that wakes on the other core costs the sleeping CPU's wake-up and
the cache lines' trip, which a server pinned to one core never pays.
"""

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import Callable

import pyperf
from asgiref.sync import ThreadSensitiveContext, async_to_sync, sync_to_async

Clock = Callable[[], float]
CLOCKS: dict[str, Clock] = {"wall": time.perf_counter, "cpu": time.process_time}


def _noop() -> None:
    return None


async def _anoop() -> None:
    return None


def plain_call(loops: int, clock: Clock) -> float:
    """The floor: a Python function call."""
    start = clock()
    for _ in range(loops):
        _noop()
    return clock() - start


def plain_await(loops: int, clock: Clock) -> float:
    """The floor on the async side: awaiting a coroutine that returns at once."""

    async def main() -> float:
        start = clock()
        for _ in range(loops):
            await _anoop()
        return clock() - start

    return asyncio.run(main())


def s2a_warm(loops: int, clock: Clock, thread_sensitive: bool) -> float:
    """One sync_to_async call once its thread exists (inside one request's context)."""

    async def main() -> float:
        async with ThreadSensitiveContext():
            call = sync_to_async(_noop, thread_sensitive=thread_sensitive)
            await call()  # the thread now exists
            start = clock()
            for _ in range(loops):
                await call()
            return clock() - start

    return asyncio.run(main())


@contextlib.contextmanager
def _affinity(pinned: bool):
    """The calling thread on one CPU (the first it may use now: pyperf's
    ``--affinity``), or on every CPU; threads it starts inherit it. Restored on exit."""
    saved = os.sched_getaffinity(0)
    wanted = {min(saved)} if pinned else set(range(os.cpu_count() or 1))
    os.sched_setaffinity(0, wanted)
    try:
        yield
    finally:
        os.sched_setaffinity(0, saved)


def s2a_affinity(loops: int, clock: Clock, pinned: bool) -> float:
    """A warm thread-sensitive sync_to_async whose loop thread and executor
    thread share one CPU (pinned) or may run on any (unpinned). The executor's
    thread is started inside the affinity, so it inherits it."""
    with _affinity(pinned):
        return s2a_warm(loops, clock, True)


def s2a_new_context(loops: int, clock: Clock) -> float:
    """A fresh thread-sensitive context plus one call: what each ASGI request pays."""

    async def main() -> float:
        start = clock()
        for _ in range(loops):
            async with ThreadSensitiveContext():
                await sync_to_async(_noop)()
        return clock() - start

    return asyncio.run(main())


def a2s_warm(loops: int, clock: Clock) -> float:
    """async_to_sync from a sync thread that runs under an outer async_to_sync:
    the call goes back to the outer event loop (no new loop)."""
    elapsed: list[float] = []

    def sync_body() -> None:
        call = async_to_sync(_anoop)
        call()
        start = clock()
        for _ in range(loops):
            call()
        elapsed.append(clock() - start)

    async def outer() -> None:
        await sync_to_async(sync_body)()

    async_to_sync(outer)()
    return elapsed[0]


def a2s_cold(loops: int, clock: Clock) -> float:
    """async_to_sync with no loop above it: a new loop in a new thread per call,
    what an async view under WSGI pays."""
    call = async_to_sync(_anoop)
    start = clock()
    for _ in range(loops):
        call()
    return clock() - start


class _NoHop:
    """Stands in for a SyncToAsync / AsyncToSync instance whose hop costs nothing."""

    _thread_sensitive = True
    force_new_loop = False


@contextlib.contextmanager
def _accounting_without_hops():
    """The accounting module with asgiref's adapters replaced by no-ops, so that
    timing its wrappers measures the instrumentation alone; restored on exit."""
    from project import accounting

    async def nothing_async(self, *args, **kwargs) -> None:
        return None

    def nothing(self, *args, **kwargs) -> None:
        return None

    accounting.install()
    names = (
        "_original_s2a_call",
        "_original_s2a_thread_handler",
        "_original_a2s_call",
        "_original_a2s_main_wrap",
    )
    saved = {name: getattr(accounting, name) for name in names}
    for name, replacement in zip(
        names, (nothing_async, nothing, nothing, nothing_async), strict=True
    ):
        setattr(accounting, name, replacement)
    try:
        yield accounting
    finally:
        for name, original in saved.items():
            setattr(accounting, name, original)


def accounting_per_sync_to_async(loops: int, clock: Clock) -> float:
    """What switch accounting adds to one sync_to_async hop (both of its wrappers)."""
    hop = _NoHop()

    async def main() -> float:
        with _accounting_without_hops() as accounting:
            start = clock()
            for _ in range(loops):
                await accounting._counted_sync_to_async(hop)
                accounting._timed_thread_handler(hop)
            return clock() - start

    return asyncio.run(main())


def accounting_per_async_to_sync(loops: int, clock: Clock) -> float:
    """What switch accounting adds to one async_to_sync hop (both of its wrappers)."""
    hop = _NoHop()

    async def main() -> float:
        with _accounting_without_hops() as accounting:
            start = clock()
            for _ in range(loops):
                accounting._counted_async_to_sync(hop)
                await accounting._timed_main_wrap(hop)
            return clock() - start

    return asyncio.run(main())


_APPS: dict[str, Callable] = {}


def _application(handler: str, accounting: bool) -> Callable:
    """The project's real handler with Django's default stack, built once per worker."""
    key = f"{handler}-{accounting}"
    if key not in _APPS:
        import django
        from django.core.handlers.asgi import ASGIHandler
        from django.core.handlers.wsgi import WSGIHandler

        from project import accounting as switch_accounting

        django.setup()
        app = ASGIHandler() if handler == "asgi" else WSGIHandler()
        if accounting:
            switch_accounting.install()
            wrap = switch_accounting.wrap_asgi if handler == "asgi" else switch_accounting.wrap_wsgi
            app = wrap(app)
        _APPS[key] = app
    return _APPS[key]


def asgi_request(loops: int, clock: Clock, accounting: bool, path: str) -> float:
    """Whole ASGI requests through the handler (one event loop for all of them)."""
    app = _application("asgi", accounting)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }

    async def one() -> None:
        done = asyncio.Event()
        sent = False

        # The one fake receive() apart from bench.site.in_site.asgi_client's: the
        # measured project never imports the harness.
        async def receive() -> dict:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            if message["type"] == "http.response.body" and not message.get("more_body"):
                done.set()

        await app(dict(scope), receive, send)

    async def main() -> float:
        await one()
        start = clock()
        for _ in range(loops):
            await one()
        return clock() - start

    return asyncio.run(main())


def wsgi_request(loops: int, clock: Clock, accounting: bool, path: str) -> float:
    """Whole WSGI requests through the handler."""
    import io

    app = _application("wsgi", accounting)
    base = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }

    def one() -> None:
        environ = dict(base, **{"wsgi.input": io.BytesIO(b"")})
        result = app(environ, lambda status, headers, exc_info=None: None)
        for _chunk in result:
            pass
        result.close()

    one()
    start = clock()
    for _ in range(loops):
        one()
    return clock() - start


# name -> (function, extra arguments); every one is run with each clock.
BENCHMARKS: dict[str, tuple[Callable, tuple]] = {
    "plain_call": (plain_call, ()),
    "plain_await": (plain_await, ()),
    "s2a_warm_thread_sensitive": (s2a_warm, (True,)),
    "s2a_warm_not_thread_sensitive": (s2a_warm, (False,)),
    "s2a_new_context": (s2a_new_context, ()),
    "sync_to_async_pinned": (s2a_affinity, (True,)),
    "sync_to_async_unpinned": (s2a_affinity, (False,)),
    "a2s_warm": (a2s_warm, ()),
    "a2s_cold_new_loop": (a2s_cold, ()),
    "accounting_per_sync_to_async": (accounting_per_sync_to_async, ()),
    "accounting_per_async_to_sync": (accounting_per_async_to_sync, ()),
    "asgi_request_django_stack": (asgi_request, (False, "/sync/json")),
    "asgi_request_django_stack_accounting": (asgi_request, (True, "/sync/json")),
    "wsgi_request_django_stack": (wsgi_request, (False, "/sync/json")),
    "wsgi_request_django_stack_accounting": (wsgi_request, (True, "/sync/json")),
}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    os.environ["BENCH_STACK"] = "django"
    os.environ.pop("BENCH_SWITCH_ACCOUNTING", None)

    def forward(command: list[str], args) -> None:
        # pyperf starts each worker with its own command line: pass --only on.
        if args.only:
            command.extend(["--only", args.only])

    runner = pyperf.Runner(add_cmdline_args=forward)
    runner.argparser.add_argument("--only", default="", help="comma-separated benchmark names")
    runner.metadata["description"] = "asgiref adapters and the Django request path"
    only = [name for name in runner.parse_args().only.split(",") if name]
    unknown = [name for name in only if name not in BENCHMARKS]
    if unknown:
        sys.exit(f"unknown benchmark {unknown[0]!r}; valid: {', '.join(BENCHMARKS)}")
    for name, (function, args) in BENCHMARKS.items():
        if only and name not in only:
            continue
        for clock_name, clock in CLOCKS.items():
            runner.bench_time_func(f"{name}:{clock_name}", function, clock, *args)


if __name__ == "__main__":
    main()
