"""bench.load.output: the plugin's per-process summaries, read once and merged."""

from bench import ROOT
from bench.load import output


def _loop(scheduled: int, answered: int, p99: float | None, undue: dict) -> dict:
    return {
        "window": {
            "scheduled": scheduled, "answered": answered, "failed": 0, "dropped": 1,
            "unanswered": scheduled - answered, "free_slip_count": 3,
            "free_slip_ms_p99": p99, "undue": undue,
        },
        "rate": 50, "schedule": "poisson", "seed": 7, "late_bound_s": 1.0, "process": [0, 2],
        "scheduled": {"warmup": 10, "window": scheduled}, "dropped": {"window": 1},
        "slip_ms_p99": p99, "slip_ms_max": None,
    }  # fmt: skip


def test_two_processes_schedules_are_summed_and_the_worst_slip_kept():
    first = output.ScheduleTotals.from_json(_loop(100, 98, 2.0, {"GET a": 1}))
    second = output.ScheduleTotals.from_json(_loop(120, 119, None, {"GET a": 2, "GET b": 1}))
    merged = first.merged(second)
    assert merged.scheduled == {"warmup": 20, "window": 220} and merged.dropped == {"window": 2}
    assert merged.slip_ms_p99 == 2.0 and merged.slip_ms_max is None
    window = merged.window
    assert (window.scheduled, window.answered, window.unanswered) == (220, 217, 3)
    assert window.free_slip_ms_p99 == 2.0 and window.free_slip_count == 6
    assert window.undue == {"GET a": 3, "GET b": 1}
    assert (merged.schedule, merged.seed, merged.process) == ("poisson", 7, [0, 2])
    assert first.scheduled == {"warmup": 10, "window": 100}  # the parts are left as they were


def test_a_process_without_window_counts_leaves_the_window_as_it_was():
    first = output.ScheduleTotals.from_json({**_loop(100, 98, 2.0, {}), "window": None})
    second = output.ScheduleTotals.from_json(_loop(120, 119, None, {}))
    assert first.window is None and first.merged(second).window is None
    assert second.merged(first).window == second.window


def test_the_committed_locust_run_reads_into_samples():
    samples = output.read_samples(ROOT / "tests" / "fixtures" / "locust_run")
    assert samples.roles == ["local"] and samples.open_loop is None
    assert samples.count() == sum(len(pairs) for pairs in samples.by_name.values()) > 0
    assert all(pairs.shape[1] == 2 for pairs in samples.by_name.values())
