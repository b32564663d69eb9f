"""The open-loop schedule (no locust run): due times, shares, the pool."""

import itertools

import pytest

from bench.load import schedule


def take(iterator, n):
    return list(itertools.islice(iterator, n))


def test_uniform_due_times_are_evenly_spaced_from_the_start():
    times = take(schedule.due_times(50.0, 100.0, "uniform"), 5)
    assert times == pytest.approx([100.0, 100.02, 100.04, 100.06, 100.08])


def test_processes_share_the_schedule_without_overlap():
    whole = take(schedule.due_times(30.0, 0.0, "uniform"), 30)
    parts = [take(schedule.due_times(30.0, 0.0, "uniform", index=i, count=3), 10) for i in range(3)]
    assert sorted(t for part in parts for t in part) == pytest.approx(whole)


def test_poisson_arrivals_have_the_rate_and_replay_from_their_seed():
    times = take(schedule.due_times(200.0, 0.0, "poisson", seed=5), 20_000)
    assert len(times) / times[-1] == pytest.approx(200.0, rel=0.03)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # exponential gaps: standard deviation equal to the mean
    mean = sum(gaps) / len(gaps)
    sd = (sum((g - mean) ** 2 for g in gaps) / len(gaps)) ** 0.5
    assert sd / mean == pytest.approx(1.0, rel=0.05)
    assert take(schedule.due_times(200.0, 0.0, "poisson", seed=5), 50) == times[:50]
    assert take(schedule.due_times(200.0, 0.0, "poisson", seed=6), 50) != times[:50]


def test_a_bad_schedule_is_refused():
    with pytest.raises(ValueError):
        next(schedule.due_times(0.0, 0.0, "uniform"))
    with pytest.raises(ValueError):
        next(schedule.due_times(10.0, 0.0, "bursty"))


def test_the_pool_covers_half_a_second_in_flight_and_at_least_ten_users():
    assert schedule.pool_size(100) == 50 and schedule.pool_size(2) == 10
    assert schedule.pool_size(100, 2.0) == 200
