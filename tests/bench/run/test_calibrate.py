"""locust's ceiling and its open-loop check, judged from a repeat (no server)."""

from pathlib import Path

import pytest

from bench.measure.settings import Interrupt, Settings
from bench.results.records import (
    Ceiling,
    LatencySummary,
    LoadgenCores,
    LoadgenFigures,
    OpenLoopFigures,
    RepeatRecord,
    ScheduleCheck,
    ServerFigures,
)
from bench.run import calibrate
from bench.serve import servers

SETTINGS = Settings(
    warmup=1,
    duration=1,
    server_cpus=None,
    loadgen_cpus=None,
    options=servers.ServerOptions(),
    base_env={},
)


def measured(bound_reasons: list[str], busiest: float = 99.0) -> RepeatRecord:
    return RepeatRecord(
        throughput_rps=4000.0,
        window_s=5.0,
        latency_ms=LatencySummary(count=20000, p99=3.5),
        server=ServerFigures(cpu_percent=40.0),
        loadgen=LoadgenFigures(
            cpu_percent=busiest,
            busiest_process_percent=busiest,
            cores=LoadgenCores(cpus="1", busy_percent=busiest),
            bound=bool(bound_reasons),
            bound_reasons=bound_reasons,
        ),
        open_loop=OpenLoopFigures(
            achieved_rps=990.0, dropped=0, scheduler_slip_ms_p99=0.4, sustainable=True
        ),
        json_keys=RepeatRecord.MEASURED,
    )


@pytest.fixture
def repeat(monkeypatch):
    """Make calibrate's repeat return the record set on the fixture."""
    found: dict[str, RepeatRecord] = {}

    def fake(plan, settings, interrupt, on_progress=None):
        found["plan"] = plan
        return found["record"]

    monkeypatch.setattr(calibrate.measure, "measure", fake)
    return found


def test_a_ceiling_locust_limited_is_valid(repeat, tmp_path: Path):
    repeat["record"] = measured(["a locust process at 99% of a core > 90%"])
    ceiling = calibrate.measure_ceiling(tmp_path, SETTINGS, 5.0, Interrupt(), 32, keep_alive=False)
    assert repeat["plan"].user_class == "CloseCeilingUser"
    assert (ceiling.ceiling_rps, ceiling.valid, ceiling.p99_ms) == (4000.0, True, 3.5)
    assert list(ceiling.to_json()) == list(Ceiling.MEASURED)
    line = calibrate.describe_ceiling(ceiling)
    assert "32 users, new connection per request" in line and "locust-bound" in line


def test_a_rate_the_bare_app_set_is_no_ceiling_and_says_why(repeat, tmp_path: Path):
    # the ceiling sign is left out: there is no ceiling yet to compare with
    repeat["record"] = measured(["throughput near locust's ceiling"], busiest=40.0)
    ceiling = calibrate.measure_ceiling(tmp_path, SETTINGS, 5.0, Interrupt())
    assert ceiling.valid is False
    assert ceiling.note.startswith("locust at 40% of a core, its CPUs 40% busy")
    assert "NOT a ceiling" in calibrate.describe_ceiling(ceiling)


def test_a_failed_calibration_keeps_its_reason_in_five_keys(repeat, tmp_path: Path):
    repeat["record"] = RepeatRecord.failed("the server exited", started_at=None, raw_dir=None)
    found = calibrate.ceiling(tmp_path, SETTINGS, 5.0, Interrupt())  # the command's JSON
    assert found == {
        "users": 32,
        "keep_alive": True,
        "status": "failed",
        "reason": "the server exited",
        "ceiling_rps": None,
    }
    assert calibrate.describe(found).endswith("failed: the server exited")


def test_the_schedule_check_says_whether_locust_kept_the_rate(repeat, tmp_path: Path):
    repeat["record"] = measured([])
    check = calibrate.schedule_check(tmp_path, SETTINGS, 1000, 5.0, Interrupt())
    assert repeat["plan"].rate == 1000
    assert isinstance(check, ScheduleCheck) and check.kept and check.p99_from_due_ms == 3.5
    assert list(check.to_json()) == list(ScheduleCheck.MEASURED)
    assert "1000 req/s (bare ASGI app): kept" in calibrate.describe_ceiling(check)
    repeat["record"] = RepeatRecord.failed("interrupted", status="interrupted", started_at=None,
                                           raw_dir=None)  # fmt: skip
    failed = calibrate.schedule_check(tmp_path, SETTINGS, 1000, 5.0, Interrupt())
    assert list(failed.to_json()) == list(ScheduleCheck.FAILED) and failed.kept is False


def test_each_mode_gets_its_ceiling_until_interrupted(repeat, tmp_path: Path):
    repeat["record"] = measured(["a locust process at 99% of a core > 90%"])
    modes = [(32, True), (32, False)]
    assert len(calibrate.ceilings(tmp_path, SETTINGS, modes, 5.0, Interrupt())) == 2
    stopped = Interrupt()
    stopped.set("interrupted by SIGINT")
    assert calibrate.ceilings(tmp_path, SETTINGS, modes, 5.0, stopped) == []
