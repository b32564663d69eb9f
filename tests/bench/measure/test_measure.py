"""The derived figures of one repeat, against known answers (no server)."""

import dataclasses

import numpy as np
import pytest

from bench.load import loadgen, output
from bench.measure import derive, guards
from bench.measure.primer import logged_exception
from bench.measure.sampler import WindowResources
from bench.measure.settings import Settings
from bench.results.records import Ceiling, LoadgenCores, RepeatRecord
from bench.serve import servers


def resources(**overrides) -> WindowResources:
    values = dict(
        wall_s=10.0,
        wall_start=1000.0,
        wall_end=1010.0,
        server_cpu_s=5.0,
        server_ctx_voluntary=0,
        server_ctx_involuntary=0,
        server_rss_peak_bytes=0,
        server_threads_peak=1,
        server_processes_peak=1,
        loadgen_cpu_s=2.0,
        loadgen_cpu_percent=20.0,
        loadgen_busiest_process_percent=20.0,
        loadgen_cores=LoadgenCores(cpus="1", busy_percent=30.0, steal_percent=0.0),
    )
    values.update(overrides)
    return WindowResources(**values)


def samples(offsets: list[float], window_start: float, window_s: float, outside=()):
    pairs = np.array([[offset, 1.0] for offset in offsets], dtype=float).reshape(-1, 2)
    return output.Samples(
        by_name={"GET x": pairs},
        failures={},
        errors={},
        warmup={},
        drained={},
        drained_failures={},
        window_s=window_s,
        roles=["local"],
        window_start=window_start,
        outside={"GET x": np.array(outside, dtype=float)},
    )


def test_requests_are_counted_inside_the_cpu_interval_from_their_completion_times():
    # locust's window is [1000, 1010]; the CPU interval [1002, 1012] starts and
    # ends 2 s late (a harness that read something slow first).
    found = samples(
        offsets=[0.5, 1.5, 2.5, 5.0, 9.9],  # completions 1000.5 ... 1009.9
        window_start=1000.0,
        window_s=10.0,
        outside=[999.0, 1011.0, 1013.0],  # a warm-up and two drained completions
    )
    assert found.completed_between("GET x", 1002.0, 1012.0) == 4  # 2.5, 5.0, 9.9, 1011
    assert found.completed_between("GET x", 990.0, 1020.0) == 8
    intervals = derive.window_intervals(
        found, resources(wall_start=1002.0, wall_end=1012.0, wall_s=10.0)
    )
    assert intervals.start_gap_ms == pytest.approx(2000.0)
    assert intervals.mismatch_pct == pytest.approx(40.0) and intervals.differ is True
    close = derive.window_intervals(
        found, resources(wall_start=1000.003, wall_end=1010.004, wall_s=10.001)
    )
    assert close.mismatch_pct == pytest.approx(0.07, abs=1e-6) and close.differ is False


def test_a_window_whose_rate_moves_more_than_ten_percent_is_not_steady():
    steady = derive.steadiness(np.linspace(0, 9, 91), 9.0)
    assert steady.steady is True and abs(steady.change_pct) < 5
    # 100 completions in the first third, 150 in the last: +50%
    ramp = np.concatenate(
        [np.linspace(0, 2.9, 100), np.linspace(3, 5.9, 120), np.linspace(6, 9, 150)]
    )
    unsteady = derive.steadiness(ramp, 9.0)
    assert unsteady.steady is False and unsteady.change_pct == pytest.approx(50.0)
    assert derive.steadiness(np.zeros(0), 9.0).steady is None


CEILING = Ceiling(users=32, keep_alive=True, ceiling_rps=5000.0, valid=True)


def test_the_guard_fires_on_any_one_sign_and_marks_latency_suspect():
    quiet = guards.loadgen_guard(resources(), 1000.0, CEILING, True)
    assert quiet.bound is False and quiet.latency_suspect is False

    one_process = guards.loadgen_guard(
        resources(loadgen_busiest_process_percent=95.0), 1000.0, CEILING, True
    )
    assert one_process.bound and "95%" in one_process.bound_reasons[0]

    # Two locust workers on one core, each at 48%: no process is busy, the core is.
    whole_core = guards.loadgen_guard(
        resources(
            loadgen_busiest_process_percent=48.0,
            loadgen_cores=LoadgenCores(cpus="1", busy_percent=97.0, steal_percent=0.0),
        ),
        1000.0,
        CEILING,
        True,
    )
    assert whole_core.bound and whole_core.latency_suspect
    assert "CPUs 1 97% busy" in whole_core.bound_reasons[0]

    near_ceiling = guards.loadgen_guard(resources(), 4100.0, CEILING, True)
    assert near_ceiling.bound and "ceiling" in near_ceiling.bound_reasons[0]


def test_a_ceiling_locust_did_not_saturate_flags_nothing_and_says_so():
    invalid = dataclasses.replace(CEILING, valid=False, note="the bare app set this rate")
    result = guards.loadgen_guard(resources(), 4900.0, invalid, True)
    assert result.bound is False
    assert any("not load-generator bound" in note for note in result.notes)
    missing = guards.loadgen_guard(resources(), 4900.0, None, False)
    assert any("no calibrated ceiling" in note for note in missing.notes)


def test_steal_time_is_noted():
    stolen = resources(loadgen_cores=LoadgenCores(cpus="1", busy_percent=50.0, steal_percent=12.0))
    result = guards.loadgen_guard(stolen, 100.0, CEILING, True)
    assert any("12% of the load generator's CPU time was stolen" in n for n in result.notes)


def test_each_cell_takes_the_ceiling_of_its_own_users_and_connection_mode():
    settings = Settings(
        warmup=1,
        duration=1,
        server_cpus=None,
        loadgen_cpus=None,
        options=servers.ServerOptions(),
        base_env={},
        ceilings=(
            Ceiling(users=32, keep_alive=True, ceiling_rps=5000.0),
            Ceiling(users=32, keep_alive=False, ceiling_rps=2000.0),
        ),
    )
    assert settings.ceiling_for(32, False).ceiling_rps == 2000.0
    assert settings.ceiling_for(32, True).ceiling_rps == 5000.0
    assert settings.ceiling_for(200, True) is None


UNSAFE = (
    "django.core.exceptions.SynchronousOnlyOperation: You cannot call this from an "
    "async context - use a thread or sync_to_async."
)
UNSAFE_LOG = f"""\
INFO:     Started server process [4242]
Internal Server Error: /async/orm-unsafe
Traceback (most recent call last):
  File "/venv/django/core/handlers/exception.py", line 55, in inner
    response = get_response(request)
ValueError: an earlier one
Internal Server Error: /async/orm-unsafe
Traceback (most recent call last):
  File "/venv/django/utils/asyncio.py", line 24, in inner
    raise SynchronousOnlyOperation(message)
{UNSAFE}
INFO:     127.0.0.1:5555 - "GET /async/orm-unsafe HTTP/1.1" 500 Internal Server Error
"""


def test_the_primer_reason_names_the_last_exception_the_server_logged():
    assert logged_exception(UNSAFE_LOG) == UNSAFE
    assert logged_exception(UNSAFE_LOG, limit=40).endswith("...")
    assert len(logged_exception(UNSAFE_LOG, limit=40)) == 40
    assert logged_exception("INFO: nothing went wrong\n") is None
    assert logged_exception("(external target: no log)") is None


def two_names(window_start: float = 1000.0) -> output.Samples:
    """Two pages of a site: 300 requests of /a at 1 ms, 100 of /b at 9 ms, 5 /b failures."""
    a = np.column_stack([np.linspace(0.01, 9.99, 300), np.full(300, 1.0)])
    b = np.column_stack([np.linspace(0.02, 9.98, 100), np.full(100, 9.0)])
    return output.Samples(
        by_name={"GET /a": a, "GET /b": b},
        failures={"GET /b": 5},
        errors={"GET /b: HTTPError 500": 5},
        warmup={},
        drained={},
        drained_failures={},
        window_s=10.0,
        roles=["local"],
        window_start=window_start,
        outside={},
    )


def derived(
    found: output.Samples, monkeypatch, primary: str | None = None, cpu_s: float = 5.0
) -> RepeatRecord:
    from types import SimpleNamespace

    monkeypatch.setattr(output, "read_samples", lambda out_dir: found)
    monkeypatch.setattr(
        output,
        "read_locust_totals",
        lambda out_dir: {"requests": 405, "failures": 5, "by_name": {"GET /a": 300, "GET /b": 105}},
    )
    served = SimpleNamespace(keep_alive=True, local=True)
    plan = SimpleNamespace(
        primary=primary, expected_errors=(), rate=0, users=8, served=served,
        out_dir=None, options=lambda settings: None,
    )  # fmt: skip
    settings = SimpleNamespace(
        topology=loadgen.Topology(), ceiling_for=lambda users, keep_alive: None,
        server_cpus=None, loadgen_cpus=None, schedule_check=lambda: None,
    )  # fmt: skip
    server = SimpleNamespace(describe=lambda options: {})
    run = SimpleNamespace(out_dir=None)
    window = resources(server_cpu_s=cpu_s)
    return derive.derive(plan, settings, run, window, {}, server, "now")


def test_every_request_name_of_a_cell_is_counted(monkeypatch):
    """A site over two paths: throughput, CPU per request and latency cover both,
    and the requests counted equal locust's own total (less its failures)."""
    record = derived(two_names(), monkeypatch)
    assert record.counted_names == ["GET /a", "GET /b"]
    assert record.requests == 400 == record.locust_totals.requests - 5
    assert record.requests_in_cpu_interval == 400
    assert record.throughput_rps == pytest.approx(40.0)
    assert record.server.cpu_ms_per_request == pytest.approx(5000 / 400)
    # a quarter of the requests took 9 ms: the median is /a's, the p90 /b's
    assert record.latency_ms.p50 == pytest.approx(1.0)
    assert record.latency_ms.p90 == pytest.approx(9.0)
    assert record.latency_by_name["GET /b"].p50 == pytest.approx(9.0)
    assert record.failures_by_name == {"GET /b": 5}
    assert record.error_rate == pytest.approx(5 / 405)


def test_a_declared_primary_counts_its_one_name(monkeypatch):
    """A stream recorded as headers, first byte and whole body is one request."""
    record = derived(two_names(), monkeypatch, primary="GET /a")
    assert record.counted_names == ["GET /a"] and record.primary == "GET /a"
    assert record.requests == 300
    assert record.server.cpu_ms_per_request == pytest.approx(5000 / 300)


def test_cpu_within_a_tick_per_process_of_zero_gives_no_cpu_per_request(monkeypatch):
    """A 12 ms window reads 0, 10 or 20 ticks' worth: it gives no figure, rather
    than 0.00 ms per request; 40 ms on one process (a quarter is one tick) does."""
    tick = 0.01
    assert not derive.cpu_resolved(0.0, 1, tick)
    assert not derive.cpu_resolved(0.03, 1, tick)
    assert derive.cpu_resolved(0.04, 1, tick)
    assert not derive.cpu_resolved(0.04, 3, tick)  # a master and two workers
    assert derive.cpu_resolved(0.12, 3, tick)
    monkeypatch.setattr(derive, "TICK_S", tick)
    record = derived(two_names(), monkeypatch, cpu_s=0.0)
    assert record.server.cpu_s == 0.0 and record.server.cpu_ms_per_request is None
    assert derived(two_names(), monkeypatch, cpu_s=0.04).server.cpu_ms_per_request == (
        pytest.approx(40 / 400)
    )


def test_a_primary_that_recorded_nothing_falls_back_to_the_most_frequent_name():
    assert derive.counted_names("GET /missing", two_names()) == ["GET /a"]
    assert derive.counted_names(None, two_names()) == ["GET /a", "GET /b"]


def _shape(value):
    """The key tree of a JSON value: dicts' keys in order, lists by their first item."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return [_shape(value[0])]
    return None


def test_a_derived_record_has_the_shape_of_the_committed_runs(monkeypatch):
    """Key for key, in order, as the committed runs' measured repeats (whose
    archive dropped the sampled series): the JSON a run writes keeps its shape."""
    import json

    from bench import ROOT

    cell = ROOT / "docs" / "runs" / "20261202T072517Z-bench" / "cells"
    stored = json.loads(
        next(iter(sorted(cell.glob("json.json.uvicorn.async.none.u*.json")))).read_text()
    )
    committed = next(r for r in stored["repeats"] if r["status"] == "ok")
    made = derived(two_names(), monkeypatch).to_json()
    assert list(made) == [*RepeatRecord.MEASURED]
    assert list(made) == [k for k in committed if k not in ("repeat", "elapsed_s")]
    for part in ("intervals", "steady", "latency_ms", "loadgen", "locust_totals"):
        assert list(_shape(made[part])) == list(_shape(committed[part])), part
    # every thread's switches (``sched``) came after the committed runs: at the end
    new = ("rss_timeline_mb", "memory_by_process", "sched")
    server = [k for k in made["server"] if k not in new]
    assert server == list(committed["server"])
    assert list(made["server"])[-1] == "sched"


def test_a_server_waiting_on_its_database_still_gets_server_plus_database_cpu(monkeypatch):
    """10 ms of server CPU (one tick: too few to divide alone) and 2 s of the
    backends' over 400 requests: server + database is (0.01 + 2.0) / 400."""
    from bench.measure import dbcpu

    monkeypatch.setattr(derive, "TICK_S", 0.01)
    window = resources(server_cpu_s=0.01, db_connections_peak=4)
    db = derive.db_record(window, 400, dbcpu.DatabaseCpu(cpu_s=2.0, backends=4))
    assert db.cpu_ms_per_request == pytest.approx(5.0)
    assert db.server_and_db_cpu_ms_per_request == pytest.approx(2010 / 400)
    assert derive.cpu_ms_per_request(window, 400) is None  # the server's alone
