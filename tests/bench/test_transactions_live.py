"""The transactions scenario through the real harness: every write landed.

For each repeat the ledger's rows added must equal the successful requests
locust recorded over the whole repeat (warm-up, window and drain) plus the
primer's one; the harness counts them from outside, and the record says so.
"""

import itertools
import json
from pathlib import Path

import pytest
from helpers.harness import TINY, assert_all_gone, descendants_while_running, harness, only_run

pytestmark = pytest.mark.live


def run_transactions(results: Path, *args: str, env: dict | None = None) -> dict[str, dict]:
    proc = harness(
        "run", "--results", str(results), "--scenario", "transactions", "--no-calibrate",
        *TINY, *args, env=env,
    )  # fmt: skip
    pids = descendants_while_running(proc)
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, output
    assert "Traceback" not in output
    assert_all_gone(pids)
    run_dir = only_run(results)
    assert json.loads((run_dir / "run.json").read_text())["status"] == "complete"
    return {path.stem: json.loads(path.read_text()) for path in (run_dir / "cells").glob("*.json")}


def assert_every_write_landed(cell: dict) -> None:
    for repeat in cell["repeats"]:
        assert repeat["status"] == "ok", repeat.get("reason")
        rows = repeat["rows"]
        phases = rows["by_phase"]
        assert rows["table"] == "ledger" and rows["primer"] == 1
        assert rows["after"] - rows["before"] == rows["successful_requests"] + 1
        assert rows["agree"] is True and rows["difference"] == 0
        assert rows["successful_requests"] == phases["warmup"] + phases["window"] + phases["drain"]
        assert phases["window"] == repeat["requests"] > 50
        # locust's own --json-file count covers the window and the drain
        assert rows["locust_window_and_drain"] == phases["window"] + phases["drain"]
        assert repeat["failures"] == 0


def test_every_write_landed_on_sqlite(tmp_path):
    cells = run_transactions(tmp_path)
    assert set(cells) == {
        "transactions.insert-atomic.gunicorn-gthread.sync.none.u32.sqlite",
        "transactions.insert-atomic.uvicorn.sync.none.u32.sqlite",
        "transactions.insert-atomic.uvicorn.async.none.u32.sqlite",
    }
    for cell in cells.values():
        assert_every_write_landed(cell)
    # one repeat's "after" is the next one's "before": nothing else wrote
    repeats = sorted((c["repeats"][0] for c in cells.values()), key=lambda r: r["started_at"])
    for earlier, later in itertools.pairwise(repeats):
        assert earlier["rows"]["after"] == later["rows"]["before"]


@pytest.mark.postgres
def test_every_write_landed_on_postgres(tmp_path, postgres_url):
    cells = run_transactions(
        tmp_path, "--server", "uvicorn", "--style", "async", env={"DATABASE_URL": postgres_url}
    )
    assert set(cells) == {
        "transactions.insert-atomic.uvicorn.async.none.u32.none",
        "transactions.insert-atomic.uvicorn.async.none.u32.pool4",
    }
    for cell in cells.values():
        assert_every_write_landed(cell)
