"""A real `bench run` of tiny cells: complete, interrupted, and with failing servers."""

import contextlib
import json
import os
import signal
import time
from pathlib import Path

import psutil
import pytest
from helpers.harness import TINY, assert_all_gone, descendants_while_running, harness, only_run

pytestmark = pytest.mark.live


def run(results: Path, *args: str, env: dict | None = None):
    return harness("run", "--results", str(results), *args, env=env)


def test_two_tiny_cells_end_to_end(tmp_path):
    proc = run(
        tmp_path,
        "--scenario",
        "json",
        "--server",
        "gunicorn-gthread",
        "uvicorn",
        "--style",
        "sync",
        "--users",
        "32",
        "--quick",
        *TINY,
    )
    pids = descendants_while_running(proc, lambda: False)
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, output
    assert_all_gone(pids)
    run_dir = only_run(tmp_path)
    assert os.readlink(tmp_path / "latest") == run_dir.name
    document = json.loads((run_dir / "run.json").read_text())
    assert document["status"] == "complete" and document["schema_version"] == 1
    (ceiling,) = document["calibration"]["ceilings"]  # 32 users, keep-alive, for both servers
    assert ceiling["ceiling_rps"] > 0 and (ceiling["users"], ceiling["keep_alive"]) == (32, True)
    assert document["order"]["seed"] is not None and len(document["order"]["passes"]) == 1
    assert document["harness"]["pid"] > 0
    assert document["metadata"]["packages"]["django"] == "6.1.3"
    assert document["options"]["server_cpus"]
    assert document["matrix"]["scenarios"]["json"]["sha256"]
    assert "DJANGO_SECRET_KEY" not in json.dumps(document)
    cells = {path.stem: json.loads(path.read_text()) for path in (run_dir / "cells").glob("*.json")}
    assert set(cells) == {
        "json.json.gunicorn-gthread.sync.none.u32",
        "json.json.uvicorn.sync.none.u32",
    }
    for cell in cells.values():
        assert cell["status"] == "ok", cell["repeats"][0].get("reason")
        repeat = cell["repeats"][0]
        assert repeat["requests"] > 100 and repeat["throughput_rps"] > 0
        assert repeat["totals_consistent"] is True
        latency = repeat["latency_ms"]
        assert 0 < latency["p50"] <= latency["p90"] <= latency["p99"] <= latency["max"]
        assert repeat["server"]["cpu_ms_per_request"] > 0
        assert repeat["server"]["rss_peak_mb"] > 10
        raw = Path(repeat["raw_dir"])
        for name in ("server.log", "locust.html", "locust_stats.csv", "locust.json"):
            assert (raw / name).exists(), name
    uvicorn = cells["json.json.uvicorn.sync.none.u32"]["repeats"][0]["switches"]
    assert uvicorn["sync_to_async_per_request"] == pytest.approx(3.0, rel=0.1)
    gthread = cells["json.json.gunicorn-gthread.sync.none.u32"]["repeats"][0]["switches"]
    assert gthread["sync_to_async"] == gthread["async_to_sync"] == 0


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_keeps_finished_cells_and_leaves_nothing_behind(tmp_path, signum):
    proc = run(
        tmp_path,
        "--scenario",
        "json",
        "--server",
        "uvicorn",
        "--style",
        "sync",
        "async",
        "--no-calibrate",
        "--duration",
        "3",
        "--warmup",
        "0.5",
        "--repeats",
        "2",
        "--users",
        "32",
    )
    passes: list[list[str]] = []

    def first_cell_done() -> bool:
        # Each pass runs in its own shuffled order: read it from run.json.
        runs = [p for p in tmp_path.iterdir() if not p.is_symlink()] if tmp_path.exists() else []
        if not runs or not (runs[0] / "run.json").exists():
            return False
        if not passes:
            with contextlib.suppress(ValueError):
                passes.extend(json.loads((runs[0] / "run.json").read_text())["order"]["passes"])
        return bool(passes) and (runs[0] / "cells" / f"{passes[0][0]}.json").exists()

    pids = descendants_while_running(proc, first_cell_done)
    time.sleep(1.5)  # well inside the second cell
    pids |= {child.pid for child in psutil.Process(proc.pid).children(recursive=True)}
    proc.send_signal(signum)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, output
    assert_all_gone(pids)
    run_dir = only_run(tmp_path)
    document = json.loads((run_dir / "run.json").read_text())
    assert document["status"] == "interrupted"
    assert signal.Signals(signum).name in document["interrupted_reason"]
    first, following = passes[0]
    assert {first, following} == {
        "json.json.uvicorn.sync.none.u32",
        "json.json.uvicorn.async.none.u32",
    }
    finished = json.loads((run_dir / "cells" / f"{first}.json").read_text())
    assert finished["repeats"][0]["status"] == "ok"
    second = json.loads((run_dir / "cells" / f"{following}.json").read_text())
    assert second["status"] == "interrupted"
    assert second["repeats"][0]["status"] == "interrupted"


def test_failing_servers_fail_their_cells_and_the_run_goes_on(tmp_path):
    proc = run(
        tmp_path,
        "--scenario",
        "json",
        "--server",
        "uvicorn",
        "gunicorn-gthread",
        "--style",
        "sync",
        "--users",
        "32",
        "--no-calibrate",
        *TINY,
        env={"DJANGO_SETTINGS_MODULE": "project.no_such_settings"},
    )
    pids = descendants_while_running(proc, lambda: False)
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 1, output
    assert_all_gone(pids)
    run_dir = only_run(tmp_path)
    assert json.loads((run_dir / "run.json").read_text())["status"] == "partial"
    cells = list((run_dir / "cells").glob("*.json"))
    assert len(cells) == 2
    for path in cells:
        repeat = json.loads(path.read_text())["repeats"][0]
        assert repeat["status"] == "failed"
        assert "exited with code" in repeat["reason"] and "no_such_settings" in repeat["reason"]
    assert output.count("FAILED: ") == 2


def test_the_cells_a_verdict_compares_run_back_to_back_and_the_rule_is_recorded(tmp_path):
    """Four cells, one block of three (WSGI sync, ASGI sync, ASGI async): in
    every pass the block's cells are adjacent, and the report's verdicts are
    the paired ones; with a target of +-50% after 3 passes the rule records
    each verdict's pairs and whether it met the target."""
    proc = run(
        tmp_path, "--scenario", "json", "--server", "gunicorn-gthread", "uvicorn",
        "--style", "sync", "async", "--users", "8", "--no-calibrate", "--duration", "1.5",
        "--warmup", "0.5", "--repeats", "3", "--target-interval", "50", "--budget", "4m",
    )  # fmt: skip
    output, _ = proc.communicate(timeout=240)
    assert proc.returncode == 0, output
    run_dir = only_run(tmp_path)
    document = json.loads((run_dir / "run.json").read_text())
    (block,) = document["order"]["blocks"]
    assert sorted(block) == [
        "json.json.gunicorn-gthread.sync.none.u8",
        "json.json.uvicorn.async.none.u8",
        "json.json.uvicorn.sync.none.u8",
    ]
    assert len(document["order"]["passes"]) >= 3
    for order in document["order"]["passes"]:
        at = sorted(order.index(cell) for cell in block if cell in order)
        assert at == list(range(at[0], at[0] + len(at)))
    stopping = document["stopping"]
    assert stopping["target_interval_pct"] == 50 and stopping["minimum_pairs"] == 3
    assert stopping["stopped"] in ("met", "budget")
    assert len(stopping["verdicts"]) == 2
    for verdict in stopping["verdicts"]:
        assert verdict["pairs"] >= 3
        tested = [w for w in verdict["half_width_pct"].values() if w is not None]
        assert verdict["met"] == all(w <= 50 for w in tested)
        assert verdict["half_width_pct"]["throughput"] is not None
    assert "stopping rule:" in output
    report = (run_dir / "report.md").read_text()
    assert "paired over" in report
