"""Open-loop accounting with known answers: unanswered requests, the schedule's
own count, the scheduler's slip, the window and the server's connection room."""

import random

import numpy as np
import pytest

from bench.analyse import stats
from bench.load import output, schedule
from bench.measure.guards import slip_guard
from bench.measure.open_loop import open_loop_figures, open_loop_latency
from bench.results.records import LoadgenGuard, OpenLoopFigures
from bench.serve import servers


def test_an_unanswered_request_counts_as_slower_than_any_answer():
    # 990 answers of 1..990 ms and 10 unanswered: p99 of 1,000 requests lies at
    # position 0.99 * 999 = 989.01, between the 990th answer and the first
    # unanswered one, so it has no finite value; p90 (899.1) is the answers'.
    answered = np.arange(1, 991, dtype=float)
    summary = stats.open_loop_summary(answered, unanswered=10)
    assert summary["count"] == 1000 and summary["unanswered"] == 10
    assert summary["p99"] is None and summary["p99_9"] is None
    assert summary["p90"] == pytest.approx(900.1)  # 0.9 * 999 = 899.1: 900 + 0.1
    assert summary["max"] == 990.0  # the answers' own
    # 991 answers and 9 unanswered: position 989.01 lies between the answers
    # 990 and 991 (indexes 989 and 990), so p99 is 990.01
    assert stats.open_loop_summary(np.arange(1, 992, dtype=float), 9)["p99"] == pytest.approx(
        990.01
    )
    # none unanswered: numpy's percentiles exactly
    plain = stats.open_loop_summary(answered, 0)
    assert plain["p99"] == pytest.approx(float(np.percentile(answered, 99)))


def test_the_old_accounting_capped_an_overload_near_the_late_bound():
    """Answers can wait at most the late bound for a user plus their service:
    counting only them, an overload with 30% dropped showed p99 near 1 s."""
    rng = np.random.default_rng(3)
    answered = 1000 * rng.uniform(0.5, 1.0, 700) + 50  # waited up to the 1 s bound
    assert stats.latency_summary(answered)["p99"] < 1050
    assert stats.open_loop_summary(answered, unanswered=300)["p99"] is None


def samples(due_ms: np.ndarray, window: dict, name: str = "GET /io") -> output.Samples:
    return output.Samples(
        by_name={name: np.column_stack([due_ms[:, 0], due_ms[:, 1]])},
        failures={}, errors={}, warmup={}, drained={}, drained_failures={},
        window_s=5.0, roles=["local"],
        due={name: due_ms},
        open_loop=output.ScheduleTotals.from_json(
            {"scheduled": {}, "dropped": {}, "window": window, "schedule": "poisson"}
        ),
    )  # fmt: skip


def perfect_server(rate: float, seed: int, window: float = 5.0) -> output.Samples:
    """Every request scheduled in the window answered in 5 ms."""
    due = schedule.due_times(rate, 0.0, "poisson", seed=seed)
    times = []
    for at in due:
        if at >= window:
            break
        times.append(at)
    pairs = np.column_stack([times, np.full(len(times), 5.0)])
    counts = {"scheduled": len(times), "answered": len(times), "unanswered": 0, "dropped": 0}
    return samples(pairs, counts)


def test_a_poisson_schedule_is_judged_against_what_it_scheduled():
    # 200 seeds of a perfect server at 50/s for 5 s: the nominal-rate test
    # (achieved within 2% of 250) would fail whenever fewer than 245 fell due,
    # about a third of the time; judged against its own count, never.
    nominal_failures = 0
    for seed in range(200):
        sample = perfect_server(50, seed)
        scheduled = sample.open_loop.window.scheduled
        nominal_failures += scheduled / 5.0 < 0.98 * 50
        figures = open_loop_figures(50, sample, ["GET /io"], scheduled / 5.0, 5.0)
        assert figures.sustainable, figures.unsustainable_reasons
    assert 40 < nominal_failures < 110  # P(Poisson(250) < 245) = 0.36


def test_requests_left_unanswered_fail_the_schedule_and_the_p99():
    pairs = np.column_stack([np.linspace(0, 5, 900), np.full(900, 20.0)])
    counts = {"scheduled": 1000, "answered": 900, "unanswered": 100, "dropped": 60}
    record, latency = open_loop_latency(200, samples(pairs, counts), ["GET /io"], 180, 5.0)
    assert not record.sustainable
    assert "answered 900 of the 1000 requests scheduled" in record.unsustainable_reasons[0]
    assert latency.count == 1000 and latency.p99 is None
    assert record.service_latency_ms.p99 == pytest.approx(20.0)


def test_latency_from_sending_stands_in_only_when_said():
    pairs = np.column_stack([np.linspace(0, 5, 1000), np.full(1000, 20.0)])
    counts = {"scheduled": 1000, "answered": 1000, "unanswered": 0, "undue": {"GET /io": 3}}
    record, latency = open_loop_latency(200, samples(pairs, counts), ["GET /io"], 200, 5.0)
    assert record.latency_from_due is False and record.made_outside_schedule == 3
    assert latency is record.service_latency_ms


def test_a_cell_whose_scheduler_slipped_is_load_generator_bound():
    guard = LoadgenGuard(bound=False, bound_reasons=[], latency_suspect=False)
    assert slip_guard(guard, OpenLoopFigures(free_user_slip_ms_p99=9.9), slo_ms=100) is guard
    flagged = slip_guard(guard, OpenLoopFigures(free_user_slip_ms_p99=10.5), slo_ms=100)
    assert flagged.bound and "10.5 ms late" in flagged.bound_reasons[0]


def test_every_rate_gets_a_window_whose_p99_is_backed():
    for rate in (50, 77, 100, 283, 2000):
        window = schedule.window_for(rate, 5.0)
        assert window >= 5.0 and rate * window >= 1.15 * stats.min_samples(0.99) - 1e-9
    assert schedule.window_for(2000, 5.0) == 5.0
    assert schedule.window_for(50, 5.0) == 23.0
    # a Poisson count at that window stays above 1,000 (4.4 sd below its mean is 1,000)
    rng = random.Random(1)
    draws = np.random.default_rng(rng.randrange(2**32)).poisson(1150, 10_000)
    assert (draws < 1000).mean() < 0.001


def test_an_open_loop_pool_gets_room_in_the_servers_connection_limit():
    options = servers.ServerOptions()
    assert servers.room_for(options, schedule.pool_size(1000)) == options  # 500: room enough
    roomier = servers.room_for(options, schedule.pool_size(2000))  # 1,000 users
    assert roomier.worker_connections == 2000
