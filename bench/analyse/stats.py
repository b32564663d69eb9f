"""Statistics: exact percentiles, summaries of repeats, significance of a change.

Percentiles come from every recorded response time (numpy's linear
interpolation), never from histogram buckets, and a percentile is only shown
when enough samples back it: at least 10 / (1 - q), so that about ten samples
lie beyond it (p50 needs 20, p90 100, p99 1,000, p99.9 10,000). Beyond that
the figure is decided by a handful of requests and moves from repeat to repeat.

Repeats are summarised by their median and spread. Two sets of repeats are
compared on log values: the figure is the ratio of geometric means
exp(mean(log b) - mean(log a)), its 95% confidence interval is the exp of
Welch's t interval of that difference, and the p-value is the same Welch test.
Figure, interval and test describe one quantity, so the interval excludes 1
exactly when p < 0.05. Logs because speed-ups are multiplicative and a ratio
of 2 and of 0.5 should be equally far from 1.

Why not a permutation test or a bootstrap, with only 3-5 repeats a side:
- an exact permutation test of 3 against 3 has C(6, 3) = 20 arrangements, so
  its smallest two-sided p-value is 2/20 = 0.1: it can never reach 0.05
  (scipy.stats.permutation_test on [100, 101, 99] against [150, 151, 149]
  gives p = 0.1 from a null distribution of 20; with 5 against 5, 0.008);
- percentile-bootstrap intervals undercover badly at such n: in 400 simulated
  pairs of normal log values (scipy.stats.bootstrap, 999 resamples) the
  nominal 95% interval held the true difference 76% of the time at n = 3 and
  87% at n = 5, where Welch's t interval held it 96% and 95% of the time.

Many verdicts come out of one report, so their p-values are corrected with
Holm's step-down method (``holm``) before anything is called significant; the
intervals printed stay the unadjusted 95% ones.
"""

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import stats as scipy_stats

if TYPE_CHECKING:  # bench.results imports this module for the summary of repeats
    from bench.results.records import CellDocument, LatencySummary

PERCENTILES = {"p50": 50.0, "p90": 90.0, "p99": 99.0, "p99_9": 99.9}
ALPHA = 0.05
TOO_FEW_SAMPLES = "too few samples"


def latency_summary(times_ms: np.ndarray) -> dict[str, float | int | None]:
    """p50, p90, p99, p99.9, max, min and mean of exact response times (ms)."""
    if times_ms.size == 0:
        return {"count": 0, **dict.fromkeys([*PERCENTILES, "max", "min", "mean"], None)}
    values = np.percentile(times_ms, list(PERCENTILES.values()))
    summary: dict[str, float | int | None] = {"count": int(times_ms.size)}
    summary.update({name: float(v) for name, v in zip(PERCENTILES, values, strict=True)})
    summary.update(
        {"max": float(times_ms.max()), "min": float(times_ms.min()), "mean": float(times_ms.mean())}
    )
    return summary


BEYOND_ANSWERS = "beyond every answer (requests left unanswered)"


def open_loop_summary(answered_ms: np.ndarray, unanswered: int) -> dict[str, float | int | None]:
    """Percentiles over every request scheduled in an open-loop window.

    The answered ones count by their latency from the due time; the unanswered
    ones (dropped for want of a free user, failed, or still queued or in flight
    when the window's drain ended) count as slower than any answer: their
    latency is unbounded, not the late bound. A percentile that reaches one of
    them has no finite value and is None (``unanswered`` says why), so an
    overloaded cell's p99 cannot sit capped near the late bound. ``count`` is
    every scheduled request; max, min and mean describe the answers alone.
    """
    answered = np.sort(np.asarray(answered_ms, dtype=float))
    summary = latency_summary(answered)
    total = answered.size + unanswered
    summary.update(count=total, answered=int(answered.size), unanswered=int(unanswered))
    if not unanswered or not total:
        return summary
    for name, q in PERCENTILES.items():
        # numpy's default (linear) percentile of the whole population, the
        # unanswered ones sorted last as infinitely slow
        position = q / 100 * (total - 1)
        low, high = math.floor(position), math.ceil(position)
        if high >= answered.size:
            summary[name] = None
        else:
            summary[name] = float(
                answered[low] + (answered[high] - answered[low]) * (position - low)
            )
    return summary


def ms_or_beyond(value: float | None) -> str:
    """An open-loop percentile in ms; None is one that fell among unanswered requests."""
    return "beyond every answer" if value is None else f"{value:.1f} ms"


def beyond_answers(cell: "CellDocument", name: str) -> bool:
    """Whether some successful repeat of a cell had percentile ``name`` fall
    among its unanswered requests (``open_loop_summary``)."""
    return any(
        repeat.latency_ms is not None
        and repeat.latency_ms.unanswered
        and getattr(repeat.latency_ms, name) is None
        for repeat in cell.ok_repeats
    )


def min_samples(q: float) -> int:
    """Samples needed before quantile ``q`` (0 < q < 1) is worth printing: 10 / (1 - q).

    About ten samples then lie beyond the quantile; with fewer it is one of
    the last few requests, not a property of the server.
    """
    if not 0 < q < 1:
        raise ValueError(f"a quantile lies strictly between 0 and 1, not {q}")
    # Rounded first: 1 - 0.99 is 0.010000000000000009 in floating point.
    return math.ceil(round(10 / (1 - q), 6))


def supports(latency: "LatencySummary | None", name: str) -> bool:
    """Whether a latency summary's ``count`` backs its percentile ``name`` ("p99_9").

    Names that are not percentiles (max, min, mean) are exact statistics of
    the sample and always supported.
    """
    if name not in PERCENTILES:
        return True
    return latency is not None and latency.count >= min_samples(PERCENTILES[name] / 100)


def backed(cell: "CellDocument", name: str) -> bool:
    """Whether every successful repeat of a cell backs percentile ``name``.

    A cell's figure is the median over repeats of each repeat's percentile,
    and each repeat's percentile comes from that repeat's samples alone, so
    every repeat must have enough of them; the sum over repeats does not help.
    """
    latencies = [repeat.latency_ms for repeat in cell.ok_repeats]
    return bool(latencies) and all(supports(latency, name) for latency in latencies)


@dataclass(frozen=True)
class Comparison:
    """B against A over repeats; ``verdict`` says "not tested (why)" when no test ran."""

    ratio: float | None  # geometric mean of b / geometric mean of a
    ci_low: float | None  # 95% interval of that ratio (Welch on logs), unadjusted
    ci_high: float | None
    p_value: float | None  # Welch's t-test on logs, before any correction
    significant: bool  # p_value < alpha, before any correction
    n_a: int
    n_b: int
    verdict: str

    @property
    def tested(self) -> bool:
        return self.p_value is not None


def not_tested(reason: str, n_a: int, n_b: int, ratio: float | None = None) -> Comparison:
    """A comparison for which no test was possible, saying why (never "not significant")."""
    return Comparison(ratio, None, None, None, False, n_a, n_b, f"not tested ({reason})")


def tested(
    ratio: float,
    log_interval: tuple[float, float],
    p_value: float,
    n_a: int,
    n_b: int,
    alpha: float = ALPHA,
) -> Comparison:
    """A comparison whose test ran: the interval of the log ratio turned back
    into a ratio's, significance before any correction."""
    significant = p_value < alpha
    return Comparison(
        ratio=ratio,
        ci_low=float(np.exp(log_interval[0])),
        ci_high=float(np.exp(log_interval[1])),
        p_value=p_value,
        significant=significant,
        n_a=n_a,
        n_b=n_b,
        verdict="significant" if significant else "not significant",
    )


def compare(a: Sequence[float], b: Sequence[float], alpha: float = ALPHA) -> Comparison:
    """B against A: ratio of geometric means, its Welch interval and test on log values."""
    a_values = np.array([v for v in a if v is not None and math.isfinite(v)], dtype=float)
    b_values = np.array([v for v in b if v is not None and math.isfinite(v)], dtype=float)
    n_a, n_b = int(a_values.size), int(b_values.size)
    if n_a == 0 or n_b == 0:
        return not_tested("no data", n_a, n_b)
    if (a_values <= 0).any() or (b_values <= 0).any():
        # A CPU figure of 0 has no logarithm; a ratio of arithmetic means here
        # would be a different quantity from every other row's.
        return not_tested("a value <= 0", n_a, n_b)
    log_a, log_b = np.log(a_values), np.log(b_values)
    ratio = float(np.exp(log_b.mean() - log_a.mean()))
    if n_a < 2 or n_b < 2:
        return not_tested("1 repeat", n_a, n_b, ratio)
    if np.ptp(log_a) == 0 and np.ptp(log_b) == 0:
        # Both sides repeat one value exactly: the repeats cannot estimate the noise.
        return not_tested("no spread between repeats", n_a, n_b, ratio)
    with warnings.catch_warnings():
        # Repeats that agree to the last digit make scipy warn about precision;
        # the test is still well defined when the other side varies.
        warnings.simplefilter("ignore", RuntimeWarning)
        result = scipy_stats.ttest_ind(log_b, log_a, equal_var=False)
        interval = result.confidence_interval(confidence_level=1 - alpha)
    p_value = float(result.pvalue)
    if not math.isfinite(p_value):
        return not_tested("no variance to test", n_a, n_b, ratio)
    return tested(ratio, (interval.low, interval.high), p_value, n_a, n_b, alpha)


def compare_paired(
    pairs: Sequence[tuple[float | None, float | None]], alpha: float = ALPHA
) -> Comparison:
    """B against A over pairs (a_i, b_i) measured back to back: the ratio is the
    geometric mean of the per-pair ratios, its interval the paired t interval
    on log ratios, the test a one-sample t-test of those logs against 0.

    A pair shares the host's state, so drift that moves both cells cancels in
    b_i / a_i; what is left is the noise between two adjacent windows. A pair
    with a missing or non-positive side is dropped (both sides go).
    """
    kept = [
        (float(a), float(b))
        for a, b in pairs
        if a is not None and b is not None and math.isfinite(a) and math.isfinite(b)
    ]
    n = len(kept)
    if n == 0:
        return not_tested("no data", 0, 0)
    if any(a <= 0 or b <= 0 for a, b in kept):
        return not_tested("a value <= 0", n, n)
    logs = np.log([b for _, b in kept]) - np.log([a for a, _ in kept])
    ratio = float(np.exp(logs.mean()))
    if n < 2:
        return not_tested("1 pair", n, n, ratio)
    if np.ptp(logs) == 0:
        return not_tested("no spread between pairs", n, n, ratio)
    result = scipy_stats.ttest_1samp(logs, 0.0)
    interval = result.confidence_interval(confidence_level=1 - alpha)
    p_value = float(result.pvalue)
    return tested(ratio, (interval.low, interval.high), p_value, n, n, alpha)


def half_width(low: float | None, high: float | None) -> float | None:
    """An interval's half-width as a fraction, on the log scale it was built on:
    [0.95, 1.05 * 1.0526...] around 1 is +-5%, exp((log high - log low) / 2) - 1."""
    if low is None or high is None or low <= 0 or high <= 0:
        return None
    return math.exp((math.log(high) - math.log(low)) / 2) - 1


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the order given.

    The k-th smallest of m p-values is multiplied by (m - k + 1), capped at 1
    and never allowed below an earlier adjusted value. It controls the chance
    of any false "significant" among all m at alpha, under any dependence
    between the tests (the verdicts of one report share cells, so they are
    dependent), and is never weaker than Bonferroni.
    """
    m = len(p_values)
    adjusted = [0.0] * m
    running = 0.0
    for rank, index in enumerate(sorted(range(m), key=lambda i: p_values[i])):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted
