import numpy as np
import pytest

from bench import stats


def test_latency_percentiles_are_exact_not_bucketed():
    times = np.arange(1, 1001, dtype=float) / 1000  # 0.001 .. 1.000 ms
    summary = stats.latency_summary(times)
    assert summary["count"] == 1000
    assert summary["p50"] == pytest.approx(0.5005)
    assert summary["p99"] == pytest.approx(0.99001)
    assert summary["p99_9"] == pytest.approx(0.999001)
    assert summary["max"] == 1.0 and summary["min"] == 0.001


def test_empty_latencies_have_no_numbers():
    summary = stats.latency_summary(np.array([]))
    assert summary["count"] == 0 and summary["p99"] is None


def test_repeat_summary_median_and_spread():
    summary = stats.repeat_summary([100.0, 110.0, 90.0, None])
    assert summary["n"] == 3 and summary["median"] == 100.0
    assert summary["spread_pct"] == pytest.approx(20.0)
    assert summary["rsd_pct"] == pytest.approx(10.0)
    assert stats.repeat_summary([None])["median"] is None


def test_compare_says_not_significant_plainly():
    noisy = stats.compare([100, 104, 96], [101, 99, 103])
    assert not noisy.significant and noisy.verdict == "not significant"
    clear = stats.compare([100, 101, 99], [150, 151, 149])
    assert clear.significant and clear.ratio == pytest.approx(1.5)
    single = stats.compare([100], [200])
    assert not single.significant and "one repeat" in single.verdict
    assert stats.compare([], [1]).verdict == "no data"
