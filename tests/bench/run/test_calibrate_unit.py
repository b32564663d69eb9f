"""bench.run.calibrate without a server: what it decides from a repeat, and wrk's output.

The live ceiling (locust against the bare app) is ``test_run_live``'s; here a
fake repeat stands in for the measurement, so each decision has a known answer:
a ceiling is only one when locust was saturated, an open-loop check is kept
only when the schedule was, and wrk's rate is read from its own report.
"""

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from bench.errors import BenchError
from bench.measure import repeat as measure
from bench.results.records import RepeatRecord
from bench.run import calibrate
from bench.serve import servers


def settings() -> measure.Settings:
    return measure.Settings(
        warmup=5.0,
        duration=20.0,
        server_cpus=None,
        loadgen_cpus=None,
        options=servers.ServerOptions(),
        base_env={"BENCH_X": "1"},
    )


def as_repeat(record: dict[str, Any]) -> RepeatRecord:
    """The repeat ``measure.measure`` returns, typed from its JSON."""
    return RepeatRecord.from_json(record)


MEASURED = {
    "status": "ok",
    "reason": None,
    "window_s": 10.0,
    "throughput_rps": 4321.5,
    "latency_ms": {"count": 43215, "p50": 3.0, "p90": 5.0, "p99": 9.5},
    "server": {"cpu_percent": 41.0},
    "loadgen": {
        "cpu_percent": 97.0,
        "busiest_process_percent": 97.0,
        "cores": {"busy_percent": 60.0},
        "bound": True,
        "bound_reasons": ["locust at 97% of a core", "above 90% of the ceiling"],
    },
}


@pytest.fixture
def measured(monkeypatch):
    """Replace the measurement of one repeat; returns the (plan, settings) it was given."""
    calls: list[tuple[measure.Plan, measure.Settings]] = []
    answer: dict[str, Any] = {"record": MEASURED}

    def fake(plan, run_settings, interrupt):
        calls.append((plan, run_settings))
        return as_repeat(answer["record"])

    monkeypatch.setattr(measure, "measure", fake)
    return calls, answer


def test_a_saturated_locust_makes_a_valid_ceiling(tmp_path, measured):
    calls, _ = measured
    found = calibrate.ceiling(tmp_path, settings(), 7.0, measure.Interrupt(), 64, keep_alive=False)
    ((plan, used),) = calls
    # locust against the bare app under uvicorn, a new connection per request
    assert plan.user_class == "CloseCeilingUser" and plan.users == 64
    assert plan.scenario_path == calibrate.CEILING_LOCUSTFILE and plan.scenario_path.exists()
    assert plan.out_dir == tmp_path / "raw" / "calibration" / "u64-close"
    assert plan.primer_path == "/" and plan.rate == 0 and plan.env == {"BENCH_X": "1"}
    assert (used.duration, used.warmup) == (7.0, 1.0)  # the run's own warm-up is not used
    assert found["users"] == 64 and found["keep_alive"] is False
    assert found["status"] == "ok" and found["valid"] is True
    assert found["ceiling_rps"] == 4321.5 and found["p99_ms"] == 9.5
    # the CPU signs only: a reason about a ceiling cannot justify the ceiling itself
    assert found["note"] == "locust at 97% of a core"
    assert found["server_cpu_percent"] == 41.0 and found["duration_s"] == 10.0
    assert calibrate.describe(found) == (
        "locust ceiling (64 users, new connection per request, bare ASGI app): "
        "4,322 req/s (locust-bound)"
    )


def test_an_idle_locust_keeps_the_rate_but_says_it_is_no_ceiling(tmp_path, measured):
    _, answer = measured
    answer["record"] = {
        **MEASURED,
        "loadgen": {**MEASURED["loadgen"], "busiest_process_percent": 35.0, "bound_reasons": []},
    }
    found = calibrate.ceiling(tmp_path, settings(), 5.0, measure.Interrupt())
    assert found["valid"] is False and found["ceiling_rps"] == 4321.5
    assert found["users"] == calibrate.CEILING_USERS and found["keep_alive"] is True
    assert found["note"] == (
        "locust at 35% of a core, its CPUs 60% busy: the bare app or the machine set this rate"
    )
    assert calibrate.describe(found).endswith(f"4,322 req/s (NOT a ceiling: {found['note']})")
    assert "32 users, keep-alive" in calibrate.describe(found)


def test_a_failed_repeat_is_a_ceiling_of_none_with_its_reason(tmp_path, measured):
    _, answer = measured
    answer["record"] = {"status": "failed", "reason": "server did not start", "raw_dir": None}
    found = calibrate.ceiling(tmp_path, settings(), 5.0, measure.Interrupt())
    assert found["status"] == "failed" and found["ceiling_rps"] is None
    assert found["reason"] == "server did not start"
    assert calibrate.describe(found).endswith("bare ASGI app): failed: server did not start")


OPEN_LOOP = {
    **MEASURED,
    "open_loop": {
        "achieved_rps": 199.0,
        "dropped": 0,
        "scheduler_slip_ms_p99": 1.25,
        "sustainable": True,
        "unsustainable_reasons": [],
    },
}


def test_an_open_loop_check_sizes_its_pool_and_keeps_the_schedule(tmp_path, measured):
    calls, answer = measured
    answer["record"] = OPEN_LOOP
    found = calibrate.schedule_check(tmp_path, settings(), 800, 6.0, measure.Interrupt()).to_json()
    ((plan, used),) = calls
    assert plan.rate == 800 and plan.users == 400  # 800/s x 0.5 s in flight
    assert plan.out_dir == tmp_path / "raw" / "calibration" / "r800-open-loop"
    assert (used.duration, used.warmup) == (6.0, 1.0)
    assert found["kept"] is True and found["achieved_rps"] == 199.0
    assert found["p99_from_due_ms"] == 9.5 and found["reasons"] == []
    assert calibrate.describe(found) == (
        "locust's open-loop schedule at 800 req/s (bare ASGI app): kept; "
        "p99 from due 9.5 ms, scheduler slip p99 1.2 ms"
    )


def test_an_unkept_schedule_says_why(tmp_path, measured):
    _, answer = measured
    answer["record"] = {
        **OPEN_LOOP,
        "open_loop": {
            **OPEN_LOOP["open_loop"],
            "sustainable": False,
            "dropped": 31,
            "unsustainable_reasons": ["31 dropped", "slip p99 40 ms"],
        },
    }
    found = calibrate.schedule_check(tmp_path, settings(), 100, 6.0, measure.Interrupt()).to_json()
    assert found["kept"] is False and found["dropped"] == 31
    assert "NOT kept: 31 dropped; slip p99 40 ms;" in calibrate.describe(found)


def test_ceilings_measure_each_mode_until_interrupted(tmp_path, measured):
    calls, _ = measured
    modes = [(32, True), (500, False)]
    found = calibrate.ceilings(tmp_path, settings(), modes, 5.0, measure.Interrupt())
    found = [ceiling.to_json() for ceiling in found]
    assert [(c["users"], c["keep_alive"]) for c in found] == modes
    assert [plan.user_class for plan, _ in calls] == ["CeilingUser", "CloseCeilingUser"]
    stopped = measure.Interrupt()
    stopped.set("SIGINT")
    assert calibrate.ceilings(tmp_path, settings(), modes, 5.0, stopped) == []
    assert len(calls) == 2


WRK_OUTPUT = """Running 3s test @ http://127.0.0.1:8000/sync/json
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.10ms  512.00us  10.00ms   80.00%
  Latency Distribution
     50%    2.00ms
  30123 requests in 3.00s, 4.10MB read
Requests/sec:  10041.27
Transfer/sec:      1.37MB
"""


def fake_tools(directory: Path, wrk_exit: int = 0) -> Path:
    """A ``wrk`` and a ``taskset`` that log their arguments; wrk prints ``WRK_OUTPUT``."""
    directory.mkdir()
    log = directory / "argv.log"
    scripts = {
        "wrk": f'echo "wrk $*" >> {log}\ncat <<"EOF"\n{WRK_OUTPUT}EOF\n'
        + ("echo 'unable to connect' >&2\n" if wrk_exit else "")
        + f"exit {wrk_exit}\n",
        "taskset": f'echo "taskset $*" >> {log}\nshift 2\nexec "$@"\n',
    }
    for name, body in scripts.items():
        path = directory / name
        path.write_text("#!/bin/sh\n" + body)
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return log


def test_wrk_rate_reads_requests_per_second_pinned_to_the_loadgen_cpus(tmp_path, monkeypatch):
    log = fake_tools(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    rate = calibrate.wrk_rate(
        "http://127.0.0.1:8000/sync/json",
        connections=32,
        duration=2.6,
        cpus=frozenset({1, 0}),
        log_path=tmp_path / "wrk.log",
    )
    assert rate == 10041.27
    arguments = "-t1 -c32 -d2s --latency http://127.0.0.1:8000/sync/json"
    assert log.read_text().splitlines() == [
        f"taskset -c 0,1 {tmp_path / 'bin' / 'wrk'} {arguments}",
        f"wrk {arguments}",
    ]
    assert (tmp_path / "wrk.log").read_text() == WRK_OUTPUT


def test_wrk_that_fails_is_one_error_with_its_message(tmp_path, monkeypatch):
    fake_tools(tmp_path / "bin", wrk_exit=1)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(BenchError, match=r"^wrk failed: unable to connect$"):
        calibrate.wrk_rate(
            "http://127.0.0.1:9/", connections=1, duration=0.2, cpus=None, log_path=tmp_path / "l"
        )


def test_no_wrk_is_one_error_saying_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BenchError, match=r"wrk is not installed \(apt-get install wrk\)"):
        calibrate.wrk_rate("http://x/", connections=1, duration=1, cpus=None, log_path=tmp_path)
