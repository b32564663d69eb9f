"""A real `bench run` of tiny cells: complete, interrupted, and with failing servers."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.live

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--duration", "2", "--warmup", "0.5", "--repeats", "1"]


def harness(results: Path, *args: str, env: dict | None = None) -> subprocess.Popen:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "bench", "run", "--results", str(results), *args],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def descendants_while_running(proc: subprocess.Popen, until) -> set[int]:
    """PIDs of everything the harness started, watched until ``until()`` or its end."""
    seen: set[int] = set()
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline and not until():
        try:
            seen.update(child.pid for child in psutil.Process(proc.pid).children(recursive=True))
        except psutil.NoSuchProcess:
            break
        time.sleep(0.1)
    return seen


def assert_all_gone(pids: set[int]) -> None:
    alive = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(psutil.Process(pid).cmdline())
        except psutil.NoSuchProcess:
            pass
    assert not alive, f"left behind: {alive}"


def only_run(results: Path) -> Path:
    runs = [path for path in results.iterdir() if not path.is_symlink()]
    assert len(runs) == 1
    return runs[0]


def test_two_tiny_cells_end_to_end(tmp_path):
    proc = harness(
        tmp_path,
        "--scenario",
        "json",
        "--server",
        "gunicorn-gthread",
        "uvicorn",
        "--style",
        "sync",
        "--quick",
        *TINY,
    )
    pids = descendants_while_running(proc, lambda: False)
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, output
    assert_all_gone(pids)
    run_dir = only_run(tmp_path)
    assert os.readlink(tmp_path / "latest") == run_dir.name
    run = json.loads((run_dir / "run.json").read_text())
    assert run["status"] == "complete" and run["schema_version"] == 1
    assert run["calibration"]["ceiling_rps"] > 0
    assert run["metadata"]["packages"]["django"] == "6.1.3"
    assert run["options"]["server_cpus"] and run["matrix"]["scenarios"]["json"]["sha256"]
    assert "DJANGO_SECRET_KEY" not in json.dumps(run)
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


def test_sigint_keeps_finished_cells_and_leaves_nothing_behind(tmp_path):
    proc = harness(
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
    )
    first = "json.json.uvicorn.sync.none.u32"

    def first_cell_done() -> bool:
        runs = [p for p in tmp_path.iterdir() if not p.is_symlink()] if tmp_path.exists() else []
        return bool(runs) and (runs[0] / "cells" / f"{first}.json").exists()

    pids = descendants_while_running(proc, first_cell_done)
    time.sleep(1.5)  # well inside the second cell
    pids |= {child.pid for child in psutil.Process(proc.pid).children(recursive=True)}
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, output
    assert_all_gone(pids)
    run_dir = only_run(tmp_path)
    run = json.loads((run_dir / "run.json").read_text())
    assert run["status"] == "interrupted" and "SIGINT" in run["interrupted_reason"]
    finished = json.loads((run_dir / "cells" / f"{first}.json").read_text())
    assert finished["repeats"][0]["status"] == "ok"
    second = json.loads((run_dir / "cells" / "json.json.uvicorn.async.none.u32.json").read_text())
    assert second["status"] == "interrupted"
    assert second["repeats"][0]["status"] == "interrupted"


def test_failing_servers_fail_their_cells_and_the_run_goes_on(tmp_path):
    proc = harness(
        tmp_path,
        "--scenario",
        "json",
        "--server",
        "uvicorn",
        "gunicorn-gthread",
        "--style",
        "sync",
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
