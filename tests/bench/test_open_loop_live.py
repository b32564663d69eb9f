"""Open-loop load against servers with known behaviour: a stall, and an overload."""

import os
from dataclasses import replace
from pathlib import Path

import pytest
from helpers.harness import ROOT

from bench.measure import repeat as measure
from bench.results.records import RepeatRecord
from bench.run import describe as run_describe
from bench.run import options as run_options
from bench.serve import launch, servers

pytestmark = pytest.mark.live

FIXTURES = ROOT / "tests" / "fixtures"


def _settings(duration: float, base_env: dict[str, str]) -> measure.Settings:
    """One server on CPU 0, locust on CPU 1, 1 s of warm-up."""
    return measure.Settings(
        warmup=1.0,
        duration=duration,
        server_cpus=frozenset({0}),
        loadgen_cpus=frozenset({1}),
        options=servers.ServerOptions(),
        base_env=base_env,
    )


def _measure(tmp_path: Path, name: str, users: int, rate: int) -> RepeatRecord:
    env = {**os.environ, "PYTHONPATH": f"{FIXTURES}:{ROOT}"}
    settings = _settings(8.0, env)
    plan = measure.Plan(
        served=launch.Served(
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
    assert record.ok, record.reason
    return record


def test_the_open_loop_sees_a_stall_the_closed_loop_hides(tmp_path):
    """1 s stalls every 5 s; 50 requests/s either way. Closed loop: one paced user
    has one request caught per stall (0.5% of them), so its p99 is fast. Open
    loop: every request due during a stall waits for it (20% of them)."""
    closed = _measure(tmp_path, "closed", users=1, rate=0)
    opened = _measure(tmp_path, "open", users=100, rate=50)
    assert closed.latency_ms.p99 < 100, closed.latency_ms
    assert closed.latency_ms.max > 500  # the stall happened to it too, once per stall
    assert opened.latency_ms.p99 > 500, opened.latency_ms
    schedule = opened.open_loop
    assert schedule.latency_from_due is True and schedule.dropped == 0
    # A stall that ends after the window does leave up to a second of requests
    # uncompleted inside it: achieved can dip by 1 s / 8 s, never rise above 50.
    assert 50 * (1 - 1.0 / 8.0) - 1 < schedule.achieved_rps < 51
    # from sending, the open loop's requests look almost as fast as the closed loop's
    assert schedule.service_latency_ms.p50 < 20
    assert closed.throughput_rps > 0.75 * 50


def _bundled(tmp_path: Path, rate: int) -> RepeatRecord:
    """One open-loop repeat of io50 on gunicorn-gthread (4 threads), 4 s window."""
    from bench.plan import matrix, scenarios
    from bench.run import execute as run

    options = run_options.RunOptions()
    settings = _settings(4.0, run_options.base_env(options))
    cell = matrix.Cell("io", "io50", "gunicorn-gthread", "sync", "none", 60, rate=rate)
    plan = run._plan(cell, scenarios.discover()["io"], 1, tmp_path, settings, options)
    # 4 s, not the 1,000 requests a p99 needs: this checks the accounting, not a p99
    plan = replace(plan, duration=4.0, accounting=False)
    return measure.measure(plan, settings, measure.Interrupt())


def test_an_overload_is_marked_unsustainable_and_a_light_load_is_not(tmp_path):
    """4 gthread threads on a 50 ms sleep serve at most 80/s: 120/s offered
    builds a queue that grows through the window and leaves requests
    unanswered; 40/s does not. The overload's p99 is beyond every answer."""

    light = _bundled(tmp_path / "light", 40)
    heavy = _bundled(tmp_path / "heavy", 120)
    assert light.status == heavy.status == "ok"
    assert light.open_loop.sustainable is True, light.open_loop
    assert light.open_loop.unanswered == 0
    assert light.open_loop.scheduled == pytest.approx(160, abs=2)
    assert light.open_loop.free_user_slip_count > 100  # users were free
    assert heavy.open_loop.sustainable is False
    reasons = " ".join(heavy.open_loop.unsustainable_reasons)
    assert "latency grew" in reasons and "answered" in reasons
    # every request scheduled in the window counts; more than 1% went unanswered
    assert heavy.latency_ms.count == heavy.open_loop.scheduled
    assert heavy.open_loop.unanswered > 0.01 * heavy.open_loop.scheduled
    assert heavy.latency_ms.p99 is None
    assert "UNSUSTAINABLE" in run_describe.describe_repeat(heavy)
