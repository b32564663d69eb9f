"""What sync_to_async's two threading modes guarantee, read in asgiref 3.13's sync.py.

thread_sensitive=True: every call inside one ThreadSensitiveContext (Django's
ASGI handler opens one per request) runs on that context's single thread, one
call at a time. thread_sensitive=False: the call goes to the event loop's
default executor (``loop.run_in_executor(None, ...)``), a pool whose threads
are reused. Django's documentation says such a call runs "in a brand new
thread which is then closed once the invocation completes"; the pool's
threads outlive the call. Either way, code bound to the thread-sensitive
thread (a sqlite3 connection, a threading.local, Django's per-thread database
connection) is not there under thread_sensitive=False.
"""

import asyncio
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core.signals import request_finished
from django.db import connections

from project.workloads import data

PREFIX = "loop-default"
WORKERS = 4


def run_with_default_executor(main, workers: int = 4):
    """Run ``main()`` in a fresh loop whose default executor we can recognise."""
    executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=PREFIX)

    async def wrapper():
        asyncio.get_running_loop().set_default_executor(executor)
        return await main()

    try:
        return asyncio.run(wrapper())
    finally:
        executor.shutdown(wait=True)


def test_thread_sensitive_calls_share_one_thread_one_call_at_a_time():
    active, peak, lock = 0, 0, threading.Lock()

    def work():
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        threading.Event().wait(0.02)
        with lock:
            active -= 1
        return threading.get_ident()

    async def main():
        loop_thread = threading.get_ident()
        async with ThreadSensitiveContext():
            first = await sync_to_async(work, thread_sensitive=True)()
            gathered = await asyncio.gather(
                *(sync_to_async(work, thread_sensitive=True)() for _ in range(4))
            )
        return loop_thread, [first, *gathered]

    loop_thread, idents = run_with_default_executor(main)
    assert len(set(idents)) == 1
    assert idents[0] != loop_thread
    assert peak == 1  # gathered, but serialised on the context's one thread


def test_thread_sensitive_false_runs_on_the_loops_reused_executor_threads():
    barrier = threading.Barrier(3, timeout=5)

    def meet():
        barrier.wait()  # returns only if three calls run at the same time
        return threading.current_thread()

    def name():
        return threading.current_thread()

    async def main():
        async with ThreadSensitiveContext():
            sensitive = await sync_to_async(name, thread_sensitive=True)()
            met = await asyncio.gather(
                *(sync_to_async(meet, thread_sensitive=False)() for _ in range(3))
            )
            later = [await sync_to_async(name, thread_sensitive=False)() for _ in range(20)]
            alive = [thread.is_alive() for thread in met + later]
        return sensitive, met, later, alive

    sensitive, met, later, alive = run_with_default_executor(main, workers=WORKERS)
    assert len({thread.ident for thread in met}) == 3  # concurrent, on three threads
    for thread in met + later:
        assert thread.name.startswith(PREFIX) and thread is not sensitive
    # Not "a brand new thread closed once the invocation completes": the pool's
    # threads are alive after their calls, and 23 calls ran on at most the
    # pool's 4 threads (a thread per call would be 23). Not "the later calls
    # run on the three that met": a call can be submitted between a worker
    # setting its result and marking itself idle, and the pool then starts
    # its fourth thread.
    assert all(alive)
    assert len({thread.ident for thread in met + later}) <= WORKERS


def test_a_sqlite3_connection_follows_thread_sensitive_calls_only():
    def query(conn):
        return conn.execute("select 1").fetchone()

    async def main():
        async with ThreadSensitiveContext():
            conn = await sync_to_async(sqlite3.connect, thread_sensitive=True)(":memory:")
            try:
                assert await sync_to_async(query, thread_sensitive=True)(conn) == (1,)
                with pytest.raises(sqlite3.ProgrammingError, match="same thread"):
                    await sync_to_async(query, thread_sensitive=False)(conn)
            finally:
                await sync_to_async(conn.close, thread_sensitive=True)()

    run_with_default_executor(main)


def test_a_threading_local_set_thread_sensitively_is_missing_under_false():
    local = threading.local()

    def set_marker():
        local.marker = "set by an earlier thread-sensitive call"

    def read_marker():
        return getattr(local, "marker", None)

    async def main():
        async with ThreadSensitiveContext():
            await sync_to_async(set_marker, thread_sensitive=True)()
            sensitive = await sync_to_async(read_marker, thread_sensitive=True)()
            insensitive = await sync_to_async(read_marker, thread_sensitive=False)()
        return sensitive, insensitive

    assert run_with_default_executor(main) == ("set by an earlier thread-sensitive call", None)


@pytest.fixture
def query_threads(monkeypatch):
    """Record the thread each bridge's query runs on and the thread Django sends
    request_finished on (where it closes the request's database connection)."""
    seen: dict[str, object] = {}
    original = data.world

    def world(world_id):
        seen["query"] = threading.current_thread()
        seen["connection"] = connections["default"]
        return original(world_id)

    def finished(**kwargs):
        # Connected after Django's close_old_connections, so it runs after it.
        seen["finished"] = threading.current_thread()
        seen["open_after_finish"] = connections["default"].connection is not None

    monkeypatch.setattr(data, "world", world)
    request_finished.connect(finished, dispatch_uid="test-thread-sensitivity")
    try:
        yield seen
    finally:
        request_finished.disconnect(dispatch_uid="test-thread-sensitivity")


def _probe_default_executor():
    """Whether the executor thread still holds an open Django connection."""
    return connections["default"].connection is not None


def _serve(handlers, target):
    from helpers.inprocess import call_asgi_async

    _, asgi = handlers("none")

    async def main():
        reply = await call_asgi_async(asgi, target)
        # One worker: this probe runs on the thread the bridge-nts query used.
        still_open = await asyncio.get_running_loop().run_in_executor(None, _probe_default_executor)
        await sync_to_async(connections.close_all, thread_sensitive=False)()
        return reply, still_open

    return run_with_default_executor(main, workers=1)


def test_django_closes_the_connection_of_a_thread_sensitive_bridge(handlers, query_threads):
    reply, executor_connection_open = _serve(handlers, "/async/bridge-ts?seed=3")
    assert reply.status == 200
    # The query ran on the request's thread-sensitive thread, the one Django
    # sends request_finished on, so CONN_MAX_AGE=0 closed its connection.
    assert query_threads["query"] is query_threads["finished"]
    assert not query_threads["query"].name.startswith(PREFIX)
    assert query_threads["open_after_finish"] is False
    assert executor_connection_open is False


def test_a_thread_sensitive_false_bridge_leaves_its_connection_open(handlers, query_threads):
    reply, executor_connection_open = _serve(handlers, "/async/bridge-nts?seed=3")
    assert reply.status == 200
    # The query ran on the loop's executor, not where request_finished runs:
    # the request's own connection was closed, the query's stays open.
    assert query_threads["query"].name.startswith(PREFIX)
    assert query_threads["query"] is not query_threads["finished"]
    assert query_threads["open_after_finish"] is False
    assert executor_connection_open is True
