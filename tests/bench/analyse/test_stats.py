import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from bench.analyse import stats
from bench.results.records import CellDocument, LatencySummary


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


# ---- how many samples a percentile needs ----------------------------------


def test_a_percentile_needs_ten_samples_beyond_it():
    assert [stats.min_samples(q) for q in (0.5, 0.9, 0.99, 0.999)] == [20, 100, 1000, 10000]
    with pytest.raises(ValueError):
        stats.min_samples(1.0)


def test_p99_9_from_600_samples_is_not_supported_from_10000_it_is():
    few = LatencySummary.from_json(stats.latency_summary(np.linspace(1, 100, 600)))
    many = LatencySummary.from_json(stats.latency_summary(np.linspace(1, 100, 10_000)))
    assert not stats.supports(few, "p99_9") and stats.supports(many, "p99_9")
    assert stats.supports(few, "p50") and stats.supports(few, "p90")
    assert not stats.supports(few, "p99")
    assert not stats.supports(LatencySummary(count=9_999), "p99_9")
    assert stats.supports(few, "max")  # exact statistics need no tail of samples
    assert not stats.supports(None, "p99") and not stats.supports(LatencySummary(), "p50")


def test_every_repeat_of_a_cell_must_back_the_percentile():
    def repeat(count: int, status: str = "ok") -> dict:
        return {"status": status, "latency_ms": {"count": count, "p99": 5.0}}

    def cell(*repeats: dict) -> CellDocument:
        return CellDocument.from_json({"repeats": list(repeats)})

    assert stats.backed(cell(repeat(1_000), repeat(1_200)), "p99")
    # 2,100 samples in all, but the p99 of the first repeat came from 900 of them.
    assert not stats.backed(cell(repeat(900), repeat(1_200)), "p99")
    assert stats.backed(cell(repeat(1_000), repeat(10, "failed")), "p99")
    assert not stats.backed(cell(), "p50")


# ---- comparing two sets of repeats -----------------------------------------


def test_the_ratio_is_of_geometric_means():
    # geometric means 2 and 4; the medians' ratio would be 4, the means' 1.2
    result = stats.compare([1.0, 1.0, 8.0], [4.0, 4.0, 4.0])
    assert result.ratio == pytest.approx(2.0)
    assert (result.n_a, result.n_b) == (3, 3)


def test_the_interval_and_p_value_are_welchs_on_logs():
    a, b = [100.0, 104.0, 97.0, 101.0], [130.0, 121.0, 127.0]
    log_a, log_b = np.log(a), np.log(b)
    var_a, var_b = log_a.var(ddof=1) / len(a), log_b.var(ddof=1) / len(b)
    se = math.sqrt(var_a + var_b)
    df = (var_a + var_b) ** 2 / (var_a**2 / (len(a) - 1) + var_b**2 / (len(b) - 1))
    diff = log_b.mean() - log_a.mean()
    half = scipy_stats.t.ppf(0.975, df) * se
    result = stats.compare(a, b)
    assert result.ratio == pytest.approx(math.exp(diff))
    assert result.ci_low == pytest.approx(math.exp(diff - half))
    assert result.ci_high == pytest.approx(math.exp(diff + half))
    assert result.p_value == pytest.approx(2 * scipy_stats.t.sf(abs(diff / se), df))
    assert result.significant and result.verdict == "significant"


def test_the_interval_excludes_one_exactly_when_the_test_is_significant():
    rng = np.random.default_rng(7)
    outcomes = set()
    for shift in np.linspace(0, 0.06, 40):
        a = np.exp(rng.normal(0, 0.02, 4))
        b = np.exp(rng.normal(shift, 0.02, 4))
        result = stats.compare(a, b)
        excludes_one = result.ci_low > 1 or result.ci_high < 1
        assert excludes_one == result.significant
        outcomes.add(result.significant)
    assert outcomes == {True, False}  # both sides of the boundary were exercised


def test_the_interval_holds_the_true_ratio_and_narrows_with_more_repeats():
    rng = np.random.default_rng(11)
    true_ratio = 1.5
    widths = []
    for n in (3, 10, 100):
        a = np.exp(rng.normal(0, 0.05, n)) * 200
        b = np.exp(rng.normal(0, 0.05, n)) * 200 * true_ratio
        result = stats.compare(a, b)
        assert result.ci_low < true_ratio < result.ci_high
        widths.append(result.ci_high / result.ci_low)
    assert widths[0] > widths[1] > widths[2]


def test_the_95_percent_interval_covers_about_95_percent_at_three_repeats():
    rng = np.random.default_rng(3)
    trials = 400
    held = 0
    for _ in range(trials):
        a = np.exp(rng.normal(0, 0.03, 3))
        b = np.exp(rng.normal(math.log(1.2), 0.03, 3))
        result = stats.compare(a, b)
        held += result.ci_low <= 1.2 <= result.ci_high
    assert 0.92 <= held / trials <= 0.98


def test_noise_is_not_significant_and_a_clear_change_is():
    noisy = stats.compare([100, 104, 96], [101, 99, 103])
    assert not noisy.significant and noisy.verdict == "not significant"
    assert noisy.ci_low < 1 < noisy.ci_high
    clear = stats.compare([100, 101, 99], [150, 151, 149])
    assert clear.significant and clear.ratio == pytest.approx(1.5, rel=1e-3)


def test_one_repeat_is_not_tested_never_not_significant():
    single = stats.compare([100], [200, 210, 190])
    assert single.verdict == "not tested (1 repeat)" and not single.tested
    assert single.p_value is None and single.ci_low is None and not single.significant
    assert single.ratio == pytest.approx(2.0, rel=1e-3)
    assert single.n_a == 1 and single.n_b == 3


def test_values_without_a_logarithm_are_not_tested_and_do_not_crash():
    zero_cpu = stats.compare([0.0, 0.1, 0.2], [0.3, 0.3, 0.4])
    assert zero_cpu.verdict == "not tested (a value <= 0)" and zero_cpu.ratio is None
    assert stats.compare([1.0, 2.0], [-1.0, 3.0]).p_value is None
    assert stats.compare([], [1.0]).verdict == "not tested (no data)"


def test_repeats_without_any_spread_are_not_tested():
    flat = stats.compare([40.0, 40.0, 40.0], [52.0, 52.0, 52.0])
    assert flat.verdict == "not tested (no spread between repeats)"
    assert flat.ratio == pytest.approx(1.3) and flat.p_value is None
    one_side_flat = stats.compare([40.0, 40.0, 40.0], [52.0, 53.0, 51.0])
    assert one_side_flat.tested and one_side_flat.significant


def test_why_not_a_permutation_test_three_repeats_cannot_reach_five_percent():
    # The module docstring's claim, kept honest: 20 arrangements, smallest p 0.1.
    result = scipy_stats.permutation_test(
        ([100.0, 101.0, 99.0], [150.0, 151.0, 149.0]),
        lambda x, y, axis: np.mean(x, axis=axis) - np.mean(y, axis=axis),
        permutation_type="independent",
        vectorized=True,
    )
    assert result.pvalue == pytest.approx(0.1) and len(result.null_distribution) == 20
    assert stats.compare([100.0, 101.0, 99.0], [150.0, 151.0, 149.0]).p_value < 0.001


# ---- Holm's correction -----------------------------------------------------


def test_holm_on_a_textbook_example():
    adjusted = stats.holm([0.01, 0.04, 0.03, 0.005])
    assert adjusted == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_holm_is_capped_monotone_and_trivial_for_one_test():
    assert stats.holm([0.5, 0.6, 0.001]) == pytest.approx([1.0, 1.0, 0.003])
    assert stats.holm([0.04]) == [0.04]
    assert stats.holm([]) == []
    adjusted = stats.holm([0.02, 0.011, 0.3, 0.012])
    order = np.argsort([0.02, 0.011, 0.3, 0.012])
    assert list(np.array(adjusted)[order]) == sorted(adjusted)
    assert all(p_holm >= p for p_holm, p in zip(adjusted, [0.02, 0.011, 0.3, 0.012], strict=True))
