"""Database CPU per request against a known answer, through the real harness.

The db-burn view makes PostgreSQL count to 20,000 with a recursive query: CPU
in the database, almost none in Django. Its cost is measured here directly,
with no part of the harness: the on-CPU time (/proc/<pid>/schedstat) of a
backend of our own around the same query, on a connection kept open (what a
pooled connection costs per request) and on a fresh connection per query
(what CONN_MAX_AGE=0 costs: the backend's start-up too). The harness's
database CPU per request must recover each within 15%: the backend's own exit
and the harness's lookups are left out of the direct figure, and two
measurements minutes apart on this machine move by several percent.
"""

import json
import statistics

import psycopg
import pytest
from helpers.harness import TINY, assert_all_gone, descendants_while_running, harness, only_run

from bench.dbcpu import oncpu_s

pytestmark = [pytest.mark.live, pytest.mark.postgres]

SQL = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < %s) "
    "SELECT count(*) FROM c"
)
N = 20_000  # scenarios/db.py's DbBurnUser
TOLERANCE = 0.15


def _query_cost(url: str, fresh: bool, times: int = 30) -> float:
    """Median seconds of backend CPU per query; with ``fresh``, per connection."""
    costs = []
    with psycopg.connect(url) as kept:
        kept.execute(SQL, (10,))
        for _ in range(times):
            conn = psycopg.connect(url) if fresh else kept
            (pid,) = conn.execute("SELECT pg_backend_pid()").fetchone()
            before = 0.0 if fresh else oncpu_s(pid)
            conn.execute(SQL, (N,))
            costs.append(oncpu_s(pid) - before)
            if fresh:
                conn.close()
    return statistics.median(costs)


def test_database_cpu_per_request_is_recovered(tmp_path, postgres_url):
    url = postgres_url.replace("postgres://", "postgresql://")
    pooled, fresh = _query_cost(url, fresh=False), _query_cost(url, fresh=True)
    proc = harness(
        "run", "--results", str(tmp_path), "--scenario", "db", "--endpoint", "db-burn",
        "--server", "gunicorn-gthread", "--style", "sync", "--full", "--no-calibrate", *TINY,
        env={"DATABASE_URL": postgres_url},
    )  # fmt: skip
    pids = descendants_while_running(proc)
    output, _ = proc.communicate(timeout=180)
    assert proc.returncode == 0, output
    assert_all_gone(pids)
    cells = {p.stem: json.loads(p.read_text()) for p in (only_run(tmp_path) / "cells").glob("*")}
    expected = {"none": fresh, "persistent": pooled, "pool4": pooled}
    found = {}
    for mode, cost in expected.items():
        (repeat,) = cells[f"db.db-burn.gunicorn-gthread.sync.none.u32.{mode}"]["repeats"]
        assert repeat["status"] == "ok", repeat.get("reason")
        db = repeat["db"]
        assert db["cpu_note"] is None
        measured = db["cpu_ms_per_request"] / 1000
        missed = f"{db['unattributed_backends']} backends, {db['unattributed_cpu_s']:.3f} s"
        print(
            f"{mode}: {measured * 1000:.2f} ms, direct {cost * 1000:.2f} ms; unattributed {missed}"
        )
        found[mode] = (measured, cost)
        assert db["server_and_db_cpu_ms_per_request"] == pytest.approx(
            db["cpu_ms_per_request"] + repeat["server"]["cpu_ms_per_request"]
        )
    for mode, (measured, cost) in found.items():
        assert measured == pytest.approx(cost, rel=TOLERANCE), (mode, measured, cost)
