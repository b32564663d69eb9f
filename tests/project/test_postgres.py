"""The database workloads on PostgreSQL, and its connection modes, under live servers."""

import time

import httpx
import psycopg
import pytest

from bench.serve import launch

pytestmark = [pytest.mark.live, pytest.mark.postgres]

TARGETS = [
    "db?seed=11",
    "queries?n=7&seed=11",
    "updates?n=3&seed=12",
    "updates-atomic?n=3&seed=13",
    "insert-atomic?seed=14",
    "fortunes",
]


def _connections(application_name: str) -> int:
    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test") as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
            (application_name,),
        ).fetchone()
    return int(row[0])


@pytest.mark.parametrize(
    ("name", "mode"),
    [
        ("gunicorn-gthread", "none"),
        ("gunicorn-gthread", "persistent"),
        ("uvicorn", "none"),
        ("uvicorn", "pool"),
    ],
)
def test_sync_and_async_answer_the_same_on_postgres(live_server, postgres_url, name, mode):
    server = live_server(name, DATABASE_URL=postgres_url, BENCH_DB_CONN=mode, BENCH_STACK="django")
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for target in TARGETS:
            sync = client.get(f"/sync/{target}")
            asynchronous = client.get(f"/async/{target}")
            assert sync.status_code == asynchronous.status_code == 200, sync.text
            assert sync.content == asynchronous.content


def test_the_pool_holds_its_configured_connections(live_server, postgres_url):
    app_name = f"bench-pool-test-{time.monotonic_ns()}"
    server = live_server(
        "uvicorn",
        DATABASE_URL=postgres_url,
        BENCH_DB_CONN="pool",
        BENCH_DB_POOL_SIZE="3",
        BENCH_DB_APPLICATION_NAME=app_name,
        BENCH_STACK="none",
    )
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for _ in range(20):
            assert client.get("/async/queries?n=3").status_code == 200
    deadline = time.monotonic() + 5
    while _connections(app_name) != 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _connections(app_name) == 3


def test_persistent_connections_are_refused_under_asgi(live_server, postgres_url):
    with pytest.raises(launch.ServerStartError, match="refused under ASGI"):
        live_server("uvicorn", DATABASE_URL=postgres_url, BENCH_DB_CONN="persistent")


def test_django_refuses_a_pool_with_conn_max_age(live_server, postgres_url):
    server = live_server(
        "gunicorn-gthread",
        DATABASE_URL=postgres_url,
        BENCH_DB_CONN="pool",
        BENCH_DB_CONN_MAX_AGE="60",
        BENCH_STACK="none",
    )
    assert httpx.get(f"{server.url}/sync/db", timeout=10).status_code == 500
    assert "Pooling doesn't support persistent connections" in server.child.log_tail(60)
