"""The write check: known answers for agreement and disagreement, and row counts
read straight from SQLite and PostgreSQL."""

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from bench.errors import BenchError
from bench.measure import rowcheck
from bench.plan import scenarios
from bench.results.records import RepeatRecord
from bench.serve import database

NAME = "GET async/insert-atomic"


def write_samples(out_dir: Path, *, window: int, warmup: int, drain: int, failures: int = 0):
    """The plugin's files for one process: ``window`` successes in the window,
    ``warmup`` and ``drain`` successes outside it (plus failures in the window)."""
    directory = out_dir / "samples"
    directory.mkdir(parents=True)
    np.array([[0.1 * i, 2.0] for i in range(window)], dtype=np.float64).tofile(
        directory / "local-0.f64"
    )
    np.arange(warmup + drain, dtype=np.float64).tofile(directory / "local-outside-0.f64")
    np.zeros(failures, dtype=np.float64).tofile(directory / "local-failures.f64")
    summary = {
        "role": "local",
        "window_start": 1000.0,
        "window_end": 1002.0,
        "sample_files": {NAME: "local-0.f64"},
        "outside_files": {NAME: "local-outside-0.f64"},
        "failure_file": "local-failures.f64",
        "failures": {NAME: failures} if failures else {},
        "errors": {},
        # the plugin counts every warm-up request here, failed or not
        "warmup": {NAME: warmup + 3},
        "drained": {NAME: drain},
        "drained_failures": {},
    }
    (directory / "local.json").write_text(json.dumps(summary))


def ok_record() -> RepeatRecord:
    return RepeatRecord.from_json(
        {
            "status": "ok",
            "reason": None,
            "throughput_rps": 123.0,
            "locust_totals": {"requests": 60, "failures": 2, "by_name": {NAME: 60}},
        }
    )


@pytest.fixture
def repeat_dir(tmp_path) -> Path:
    write_samples(tmp_path, window=50, warmup=20, drain=8, failures=2)
    return tmp_path


def test_rows_added_equal_to_successes_plus_the_primer_agree(repeat_dir):
    record = rowcheck.judge(ok_record(), "ledger", 100, 179, repeat_dir, primed=True)
    assert record.status == "ok"
    rows = record.rows
    assert rows.by_phase == {"warmup": 20, "window": 50, "drain": 8}
    assert (rows.successful_requests, rows.expected, rows.added) == (78, 79, 79)
    assert rows.agree is True and rows.difference == 0
    assert rows.locust_window_and_drain == 58  # locust's own count: window + drain


@pytest.mark.parametrize(
    ("after", "message"),
    [
        (
            177,
            "79 expected (78 successful requests + 1 primer): 2 acknowledged writes did not land",
        ),
        (
            180,
            "80 rows added to ledger, 79 expected (78 successful requests + 1 primer): 1 row more",
        ),
    ],
)
def test_a_synthetic_disagreement_fails_the_repeat_and_keeps_its_figures(
    repeat_dir, after, message
):
    record = rowcheck.judge(ok_record(), "ledger", 100, after, repeat_dir, primed=True)
    assert record.status == "failed"
    assert record.reason.startswith("row check: ") and message in record.reason
    assert record.rows.agree is False
    assert record.rows.difference == after - 179
    assert record.throughput_rps == 123.0  # measured, kept, but no longer summarised


def test_without_a_primer_the_successes_alone_are_expected(repeat_dir):
    assert rowcheck.judge(ok_record(), "ledger", 0, 78, repeat_dir, primed=False).rows.agree


def test_a_repeat_that_failed_keeps_its_own_reason(repeat_dir):
    record = RepeatRecord.failed("primer request answered HTTP 500", started_at=None, raw_dir=None)
    judged = rowcheck.judge(record, "ledger", 5, 5, repeat_dir, primed=True)
    assert judged.reason == "primer request answered HTTP 500"
    assert judged.rows.to_json() == {"table": "ledger", "before": 5, "after": 5, "agree": None}


def test_counts_that_cannot_be_read_fail_the_repeat(repeat_dir):
    record = rowcheck.judge(ok_record(), "ledger", "no such table: ledger", 7, repeat_dir, True)
    assert record.status == "failed"
    assert record.reason == "row check: no such table: ledger"


def test_rows_are_counted_straight_from_sqlite(tmp_path):
    path = tmp_path / "db.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE ledger (id integer primary key)")
        conn.executemany("INSERT INTO ledger DEFAULT VALUES", [()] * 3)
    conn.close()
    env = {"BENCH_SQLITE_PATH": str(path)}
    assert database.count_rows(env, "ledger") == 3
    assert rowcheck.count(env, "ledger") == 3
    assert "no such table" in str(rowcheck.count(env, "missing"))
    with pytest.raises(BenchError, match="not a plain table name"):
        database.count_rows(env, 'ledger"; DROP TABLE ledger; --')
    with pytest.raises(BenchError, match="no SQLite database"):
        database.count_rows({"BENCH_SQLITE_PATH": str(tmp_path / "absent.sqlite3")}, "ledger")
    assert not (tmp_path / "absent.sqlite3").exists()


@pytest.mark.postgres
def test_rows_are_counted_straight_from_postgres(postgres_url):
    env = {"DATABASE_URL": postgres_url}
    assert database.count_rows(env, "world") == 10_000
    assert isinstance(database.count_rows(env, "ledger"), int)
    assert "does not exist" in str(rowcheck.count(env, "missing"))


def test_the_transactions_scenario_turns_the_check_on():
    found = scenarios.discover()
    assert found["transactions"].verify_rows == "ledger"
    assert found["transactions"].database
    assert found["db"].verify_rows is None


@pytest.mark.parametrize(
    "declared",
    [
        '{"endpoints": {"a": "A"}, "verify_rows": "ledger"}',  # no database
        '{"endpoints": {"a": "A"}, "database": True, "verify_rows": "led ger"}',
        '{"endpoints": {"a": "A"}, "database": True, "verify_rows": ["ledger"]}',
    ],
)
def test_a_bad_verify_rows_is_refused(tmp_path, declared):
    path = tmp_path / "demo_rows.py"
    path.write_text(f'"""demo."""\nBENCH = {declared}\n')
    with pytest.raises(scenarios.ScenarioError, match="verify_rows"):
        scenarios.load(path)
