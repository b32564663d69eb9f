"""Security defaults: loopback only unless allowed, nothing secret in results."""

import json
import os

import pytest
from helpers.harness import TINY, assert_all_gone, descendants_while_running, harness, only_run

from bench.results import metadata


def test_only_allow_listed_environment_is_recorded():
    env = {
        "BENCH_STACK": "django",
        "DJANGO_SECRET_KEY": "s3cret",
        "AWS_SECRET_ACCESS_KEY": "x",
        "DATABASE_URL": "postgres://bob:hunter2@db:5432/bench",
        "HOME": "/root",
        "CI": "true",
    }
    recorded = metadata.recorded_environment(env)
    assert recorded == {
        "BENCH_STACK": "django",
        "DATABASE_URL": "postgres://bob:***@db:5432/bench",
        "CI": "true",
    }
    assert set(recorded) <= set(metadata.ENV_ALLOWLIST)


@pytest.mark.parametrize(
    ("target", "host"),
    [
        ("http://example.com:8000", "example.com"),
        ("http://10.0.0.7", "10.0.0.7"),
        ("http://[::]:80", "::"),
    ],
)
def test_a_remote_target_is_refused_without_the_flag(tmp_path, target, host):
    proc = harness("run", "--target", target, "--results", str(tmp_path), *TINY)
    pids = descendants_while_running(proc)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert output.strip().splitlines() == [
        f"error: refusing to send load to {host}: only loopback "
        "targets are allowed without --allow-remote-host"
    ]
    assert not pids and list(tmp_path.iterdir()) == []


def test_with_the_flag_the_harness_says_where_load_will_go(tmp_path):
    proc = harness(
        "run",
        "--target",
        "http://example.com:8000",
        "--allow-remote-host",
        "--scenario",
        "json",
        "--dry-run",
        "--results",
        str(tmp_path),
    )
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, output
    assert "sending load to example.com, which is not this machine" in output
    assert "json.json.external.async.external.u32" in output


@pytest.mark.live
def test_no_secret_or_stray_environment_reaches_the_results(tmp_path):
    secrets = {"SOME_API_TOKEN": "tok-9f8e7d6c5b4a", "DJANGO_SECRET_KEY": "sekrit-4c3b2a1908"}
    proc = harness(
        "run",
        "--scenario",
        "json",
        "--server",
        "uvicorn",
        "--style",
        "async",
        "--users",
        "32",
        "--results",
        str(tmp_path),
        *TINY,
        env=secrets,
    )
    pids = descendants_while_running(proc)
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, output
    assert_all_gone(pids)
    run_dir = only_run(tmp_path)
    files = [path for path in run_dir.rglob("*") if path.is_file()]
    assert len(files) > 10
    for path in files:
        data = path.read_bytes()
        for value in secrets.values():
            assert value.encode() not in data, path
    recorded = json.loads((run_dir / "run.json").read_text())["metadata"]["environment"]
    assert set(recorded) <= set(metadata.ENV_ALLOWLIST)


@pytest.mark.live
def test_a_target_the_harness_did_not_start(tmp_path, live_server):
    results = tmp_path / "results"
    server = live_server("uvicorn", BENCH_STACK="none", BENCH_SWITCH_ACCOUNTING="1")
    proc = harness(
        "run",
        "--target",
        server.url,
        "--scenario",
        "json",
        "--endpoint",
        "json",
        "--style",
        "async",
        "--users",
        "32",
        "--no-calibrate",
        "--results",
        str(results),
        *TINY,
    )
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, output
    run_dir = only_run(results)
    document = json.loads((run_dir / "run.json").read_text())
    assert document["hosts"]["target"] == server.url
    assert document["hosts"]["server"] == "127.0.0.1"
    cell = json.loads(
        (run_dir / "cells" / "json.json.external.async.external.u32.json").read_text()
    )
    repeat = cell["repeats"][0]
    assert repeat["status"] == "ok" and repeat["requests"] > 0
    assert repeat["server"]["cpu_ms_per_request"] is None  # not ours to watch
    assert repeat["switches"]["sync_to_async_per_request"] == pytest.approx(2.0, rel=0.1)
    assert server.child.alive()  # the harness left the target alone
    assert os.path.exists(run_dir / "report.html")
