"""locust's own distributed mode: a master and two local workers."""

import json
from pathlib import Path

import pytest
from helpers.harness import TINY, assert_all_gone, descendants_while_running, harness, only_run

from bench.load import schedule

pytestmark = pytest.mark.live


def test_a_master_and_two_workers_add_up(tmp_path):
    proc = harness(
        "run",
        "--scenario",
        "json",
        "--server",
        "uvicorn",
        "--style",
        "async",
        "--loadgen-workers",
        "2",
        "--users",
        "32",
        "--no-calibrate",
        "--results",
        str(tmp_path),
        *TINY,
    )
    pids = descendants_while_running(proc)
    output, _ = proc.communicate(timeout=180)
    assert proc.returncode == 0, output
    assert_all_gone(pids)
    run_dir = only_run(tmp_path)
    cell = json.loads((run_dir / "cells" / "json.json.uvicorn.async.none.u32.json").read_text())
    repeat = cell["repeats"][0]
    assert repeat["status"] == "ok", repeat.get("reason")
    workers = [role for role in repeat["locust_processes"] if role.startswith("worker-")]
    assert sorted(repeat["locust_processes"]) == sorted(["master", *workers])
    assert len(workers) == 2 and len(repeat["locust_workers"]) == 2
    # The master's totals are exactly what the two workers sent, request by request.
    raw = Path(repeat["raw_dir"])
    sent = 0
    for role in workers:
        summary = json.loads((raw / "samples" / f"{role}.json").read_text())
        in_window = sum(
            (raw / "samples" / name).stat().st_size // 16  # (time, ms) float64 pairs
            for name in summary["sample_files"].values()
        )
        assert in_window > 0, f"{role} sent nothing in the window"
        sent += in_window + sum(summary["failures"].values())
        sent += sum(summary["warmup"].values()) + sum(summary["drained"].values())
        sent += sum(summary["drained_failures"].values())
    assert repeat["locust_totals"]["requests"] == sent
    assert repeat["totals_consistent"] is True
    hosts = json.loads((run_dir / "run.json").read_text())["hosts"]["loadgen"]
    assert len(hosts) >= 1


def test_two_workers_share_one_open_loop_schedule(tmp_path):
    """Worker i of 2 takes every second due time: together they send the rate."""
    proc = harness(
        "run", "--scenario", "json", "--server", "uvicorn", "--style", "async",
        "--rate", "200", "--loadgen-workers", "2", "--no-calibrate",
        "--results", str(tmp_path), "--duration", "3", "--warmup", "1", "--sweep-repeats", "1",
    )  # fmt: skip
    pids = descendants_while_running(proc)
    output, _ = proc.communicate(timeout=180)
    assert proc.returncode == 0, output
    assert_all_gone(pids)
    cell = json.loads(
        (only_run(tmp_path) / "cells" / "json.json.uvicorn.async.none.r200.json").read_text()
    )
    repeat = cell["repeats"][0]
    assert repeat["status"] == "ok", repeat.get("reason")
    raw = Path(repeat["raw_dir"])
    shares = []
    for role in (r for r in repeat["locust_processes"] if r.startswith("worker-")):
        summary = json.loads((raw / "samples" / f"{role}.json").read_text())
        shares.append(summary["open_loop"]["process"])
        assert summary["open_loop"]["scheduled"]["window"] > 0
    assert sorted(shares) == [[0, 2], [1, 2]]
    figures = repeat["open_loop"]
    assert figures["latency_from_due"] is True
    assert figures["achieved_rps"] == pytest.approx(200, rel=0.05)
    # both shares, over the window that backs a p99 at 200/s (longer than 3 s)
    window = schedule.window_for(200, 3)
    assert figures["scheduled"] == pytest.approx(200 * window, rel=0.05)
