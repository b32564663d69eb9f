"""thread_sensitivity: one sync ORM query through sync_to_async, thread_sensitive True or False.

Django's documentation (topics/async, "sync_to_async()") describes two modes:
``thread_sensitive=True`` (the default) runs the function "in the same thread
as all other thread_sensitive functions", and ``thread_sensitive=False`` runs
it "in a brand new thread which is then closed once the invocation
completes"; the safe default exists because database adapters must be used
on the thread that created the connection. Read in asgiref 3.13's sync.py
(and checked by tests/project/test_thread_sensitivity.py), what happens is:

- True: Django's ASGI handler opens a ThreadSensitiveContext per request, so
  the query runs on that request's own thread, created for the request and
  joined after it, one call at a time. That thread opens a database
  connection and request_finished closes it (CONN_MAX_AGE=0).
- False: the query goes to the event loop's default executor, a pool of
  min(32, CPUs + 4) threads (5 on one pinned core) reused across requests,
  not a new thread per call. Django sends request_finished on the request's
  thread, so it never closes the connections those pool threads open: they
  stay open for the process's life, whatever CONN_MAX_AGE says.

Both views still pay the handler's own thread-sensitive hops (request_started,
response.close), so each request gets its own thread either way. What this
measures is throughput, p99, server CPU and threads (threads_peak) when the
query runs on a per-request thread with a new connection each time, or on a
small shared pool with connections kept open, with many users (256 by
default, 64 as well with ``--full``) so the pool's queue and the per-request
threads both show. The bridges exist only as async views (sync_to_async is
how an async view calls sync code; project/urls.py serves no sync variant),
so the scenario declares the async style only, under uvicorn.

On PostgreSQL (DATABASE_URL), the server's connection count is recorded too,
and ``--full`` adds Django's pool of 4: the pool threads never give their
connections back, so a fifth executor thread waits out the pool's 30 s
timeout. That request outlives a 5 s window; it shows as a drained count one
short of the users, not as an error.
"""

from _support import BenchUser


class ThreadSensitiveUser(BenchUser):
    endpoint = "bridge-ts"


class NotThreadSensitiveUser(BenchUser):
    endpoint = "bridge-nts"


BENCH = {
    "name": "thread_sensitivity",
    "baseline": "bridge-ts",  # the verdicts compare every other endpoint with it
    "groups": ["docs"],  # the async documentation's claims about views
    "endpoints": {
        "bridge-ts": "ThreadSensitiveUser",
        "bridge-nts": "NotThreadSensitiveUser",
    },
    "styles": ["async"],
    "stacks": ["none"],
    "servers": ["uvicorn"],
    "users": [64, 256],
    "database": True,
    # PostgreSQL only (DATABASE_URL): with Django's pool the pool threads keep
    # their connections checked out, so a pool smaller than the executor stalls.
    "db_modes": ["none", "pool4"],
    # By default the many-users end only; --full adds 64 users and the pool.
    "default": {"users": [256], "db_modes": ["none"]},
}
