"""Faults: every one ends in a clear message, keeps what finished, marks what it
hit, and leaves no server, locust or upstream process behind."""

import json
import shutil
import signal
import socket
import time
from pathlib import Path

import psutil
import pytest
from helpers.harness import (
    TINY,
    assert_all_gone,
    child_matching,
    descendants_while_running,
    harness,
    only_run,
)

from bench.serve import launch, ports, servers

pytestmark = pytest.mark.live
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "runs"
ONE_CELL = [
    "--scenario", "json", "--server", "uvicorn", "--style", "sync", "--users", "32",
    "--no-calibrate",
]  # fmt: skip


def run(results: Path, *args: str, env: dict | None = None):
    return harness("run", "--results", str(results), *args, env=env)


def cell_of(run_dir: Path) -> dict:
    (path,) = (run_dir / "cells").glob("*.json")
    return json.loads(path.read_text())


def kill_during_window(tmp_path: Path, text: str) -> tuple[str, set[int], Path]:
    """Run one 6 s cell and SIGKILL the descendant whose command contains ``text``."""
    proc = run(tmp_path, *ONE_CELL, "--duration", "6", "--warmup", "0.5", "--repeats", "1")
    pids = descendants_while_running(proc, lambda: child_matching(proc, "-m locust") is not None)
    time.sleep(2.5)  # locust is up; the window opens after spawning and warm-up
    victim = child_matching(proc, text)
    assert victim is not None, text
    pids |= {child.pid for child in psutil.Process(proc.pid).children(recursive=True)}
    victim.send_signal(signal.SIGKILL)
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 1, output
    assert_all_gone(pids)
    return output, pids, only_run(tmp_path)


def test_a_server_killed_mid_cell_fails_that_cell(tmp_path):
    output, _, run_dir = kill_during_window(tmp_path, "project.asgi:application")
    repeat = cell_of(run_dir)["repeats"][0]
    assert repeat["status"] == "failed"
    assert "the server exited during the measurement" in repeat["reason"]
    assert json.loads((run_dir / "run.json").read_text())["status"] == "partial"
    assert "FAILED: the server exited during the measurement" in output


def test_locust_killed_mid_cell_fails_that_cell(tmp_path):
    _, _, run_dir = kill_during_window(tmp_path, "-m locust")
    repeat = cell_of(run_dir)["repeats"][0]
    assert repeat["status"] == "failed"
    assert "locust exited (code -9) before the measured window ended" in repeat["reason"]


def test_a_server_that_never_becomes_ready_fails_its_cell(tmp_path):
    proc = run(tmp_path, *ONE_CELL, *TINY, "--ready-timeout", "0.2")
    pids = descendants_while_running(proc)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 1, output
    assert_all_gone(pids)
    repeat = cell_of(only_run(tmp_path))["repeats"][0]
    assert repeat["status"] == "failed" and "did not become ready within 0.2 s" in repeat["reason"]


def test_a_port_in_use_is_skipped_for_another(tmp_path, monkeypatch):
    from conftest import server_env

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        offered = iter([busy])
        real = ports.free_port
        monkeypatch.setattr(launch, "free_port", lambda host: next(offered, None) or real(host))
        server = launch.start(servers.get("uvicorn"), env=server_env(),
                               log_path=tmp_path / "server.log")  # fmt: skip
        try:
            assert server.port != busy
            assert "address already in use" in (tmp_path / "server.log").read_text().lower()
        finally:
            server.stop()


def one_line_error(proc, output: str, expected: str) -> None:
    assert proc.returncode == 1, output
    lines = [line for line in output.strip().splitlines() if line]
    assert lines[-1].startswith("error: ") and expected in lines[-1], output


def test_postgres_unreachable_is_one_line_before_any_cell(tmp_path):
    proc = run(tmp_path, "--scenario", "db", "--no-calibrate", *TINY,
               env={"DATABASE_URL": "postgres://postgres@127.0.0.1:1/test"})  # fmt: skip
    pids = descendants_while_running(proc)
    output, _ = proc.communicate(timeout=60)
    one_line_error(proc, output, "PostgreSQL at 127.0.0.1:1 is unreachable")
    assert not pids  # nothing was started
    assert list(tmp_path.iterdir()) == []  # and no run directory was made


def test_an_unwritable_results_path_is_named_before_any_cell(tmp_path):
    blocker = tmp_path / "results"
    blocker.write_text("a file where the run directory must go")
    proc = run(blocker, *ONE_CELL, *TINY)
    commands: list[str] = []
    descendants_while_running(proc, commands=commands)
    output, _ = proc.communicate(timeout=60)
    one_line_error(proc, output, f"{blocker} exists and is not a directory")
    # Only the scenario import check may have run: no server, no locust.
    assert commands, "the watcher saw nothing: it would not see a server either"
    assert not [command for command in commands if "project." in command or "-m locust" in command]


@pytest.mark.parametrize("command", ["report", "compare"])
def test_corrupt_results_are_one_line_for_report_and_compare(tmp_path, command):
    for name in ("run_a", "run_b"):
        shutil.copytree(FIXTURES / name, tmp_path / name)
    corrupt = tmp_path / "run_a" / "cells" / "json.json.uvicorn.async.none.u32.json"
    corrupt.write_text('{"schema_version": 1, "cell": ')
    args = (
        [str(tmp_path / "run_a")]
        if command == "report"
        else [str(tmp_path / "run_a"), str(tmp_path / "run_b"), "--results", str(tmp_path / "out")]
    )
    proc = harness(command, *args)
    output, _ = proc.communicate(timeout=60)
    one_line_error(proc, output, f"corrupt results file {corrupt}")
    run_json = tmp_path / "run_b" / "run.json"
    data = json.loads(run_json.read_text())
    data["schema_version"] = 7
    run_json.write_text(json.dumps(data))
    proc = harness("report", str(tmp_path / "run_b"))
    output, _ = proc.communicate(timeout=60)
    one_line_error(proc, output, "has schema version 7; this harness reads version 1")
