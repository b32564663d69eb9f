"""Open-loop load against servers with known behaviour: a stall, and an overload."""

import json
import os
from pathlib import Path

import pytest
from helpers.harness import ROOT, harness, only_run

from bench import measure, servers

pytestmark = pytest.mark.live

FIXTURES = ROOT / "tests" / "fixtures"


def _measure(tmp_path: Path, name: str, users: int, rate: int) -> dict:
    env = {**os.environ, "PYTHONPATH": f"{FIXTURES}:{ROOT}"}
    settings = measure.Settings(
        warmup=1.0,
        duration=8.0,
        server_cpus=frozenset({0}),
        loadgen_cpus=frozenset({1}),
        options=servers.ServerOptions(),
        base_env=env,
    )
    plan = measure.Plan(
        served=servers.Served(
            servers.get("uvicorn"), servers.Application("stall", asgi="stall_app:app")
        ),
        scenario_path=FIXTURES / "paced_locustfile.py",
        user_class="PacedUser",
        users=users,
        style=None,
        out_dir=tmp_path / name,
        env=env,
        primer_path="/",
        rate=rate,
    )
    record = measure.measure(plan, settings, measure.Interrupt())
    assert record["status"] == "ok", record.get("reason")
    return record


def test_the_open_loop_sees_a_stall_the_closed_loop_hides(tmp_path):
    """1 s stalls every 5 s; 50 requests/s either way. Closed loop: one paced user
    has one request caught per stall (0.5% of them), so its p99 is fast. Open
    loop: every request due during a stall waits for it (20% of them)."""
    closed = _measure(tmp_path, "closed", users=1, rate=0)
    opened = _measure(tmp_path, "open", users=100, rate=50)
    assert closed["latency_ms"]["p99"] < 100, closed["latency_ms"]
    assert closed["latency_ms"]["max"] > 500  # the stall happened to it too, once per stall
    assert opened["latency_ms"]["p99"] > 500, opened["latency_ms"]
    schedule = opened["open_loop"]
    assert schedule["latency_from_due"] is True and schedule["dropped"] == 0
    # A stall that ends after the window does leave up to a second of requests
    # uncompleted inside it: achieved can dip by 1 s / 8 s, never rise above 50.
    assert 50 * (1 - 1.0 / 8.0) - 1 < schedule["achieved_rps"] < 51
    # from sending, the open loop's requests look almost as fast as the closed loop's
    assert schedule["service_latency_ms"]["p50"] < 20
    assert closed["throughput_rps"] > 0.75 * 50


def test_an_overload_is_marked_unsustainable_and_a_light_load_is_not(tmp_path):
    """4 gthread threads on a 50 ms sleep serve at most 80/s: 120/s offered
    builds a queue that grows through the window; 40/s does not."""
    proc = harness(
        "run", "--results", str(tmp_path), "--scenario", "io", "--server", "gunicorn-gthread",
        "--style", "sync", "--rate", "40", "120", "--duration", "4", "--warmup", "1",
        "--repeats", "1", "--no-calibrate", "--no-switches",
    )  # fmt: skip
    output, _ = proc.communicate(timeout=240)
    assert proc.returncode == 0, output
    cells = {
        path.stem: json.loads(path.read_text()) for path in (only_run(tmp_path) / "cells").glob("*")
    }
    light = cells["io.io50.gunicorn-gthread.sync.none.r40"]["repeats"][0]
    heavy = cells["io.io50.gunicorn-gthread.sync.none.r120"]["repeats"][0]
    assert light["open_loop"]["sustainable"] is True, light["open_loop"]
    assert heavy["open_loop"]["sustainable"] is False
    reasons = " ".join(heavy["open_loop"]["unsustainable_reasons"])
    assert "latency grew" in reasons and "achieved" in reasons
    assert heavy["open_loop"]["achieved_rps"] < 90
    assert "UNSUSTAINABLE" in output
