"""Statistics: exact percentiles, summaries of repeats, significance of a change.

Percentiles come from every recorded response time (numpy's linear
interpolation), never from histogram buckets. Repeats are summarised by their
median and spread. Two sets of repeats are compared with Welch's t-test, as
pyperf does, and a difference is called significant only below ALPHA.
"""

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as scipy_stats

PERCENTILES = {"p50": 50.0, "p90": 90.0, "p99": 99.0, "p99_9": 99.9}
ALPHA = 0.05


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


def repeat_summary(values: Sequence[float | None]) -> dict[str, float | int | None]:
    """Median and spread of one metric over repeats (None values are skipped).

    ``spread_pct`` is (max - min) / median; ``rsd_pct`` the relative standard
    deviation. Both say how far a single repeat could be trusted.
    """
    data = np.array([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if data.size == 0:
        return {
            "n": 0,
            "median": None,
            "mean": None,
            "min": None,
            "max": None,
            "stdev": None,
            "spread_pct": None,
            "rsd_pct": None,
        }
    median = float(np.median(data))
    stdev = float(data.std(ddof=1)) if data.size > 1 else 0.0
    mean = float(data.mean())
    return {
        "n": int(data.size),
        "median": median,
        "mean": mean,
        "min": float(data.min()),
        "max": float(data.max()),
        "stdev": stdev,
        "spread_pct": float((data.max() - data.min()) / median * 100) if median else None,
        "rsd_pct": float(stdev / mean * 100) if mean else None,
    }


@dataclass(frozen=True)
class Comparison:
    ratio: float | None  # median(b) / median(a)
    p_value: float | None
    significant: bool
    verdict: str


def compare(a: Sequence[float], b: Sequence[float], alpha: float = ALPHA) -> Comparison:
    """B against A: ratio of medians and Welch's t-test over the repeats."""
    a_values = np.array([v for v in a if v is not None], dtype=float)
    b_values = np.array([v for v in b if v is not None], dtype=float)
    if a_values.size == 0 or b_values.size == 0:
        return Comparison(None, None, False, "no data")
    median_a, median_b = float(np.median(a_values)), float(np.median(b_values))
    ratio = median_b / median_a if median_a else None
    if a_values.size < 2 or b_values.size < 2:
        return Comparison(ratio, None, False, "not significant (one repeat: no test possible)")
    if np.all(a_values == a_values[0]) and np.all(b_values == b_values[0]):
        significant = bool(a_values[0] != b_values[0])
        return Comparison(
            ratio,
            0.0 if significant else 1.0,
            significant,
            "significant" if significant else "not significant",
        )
    with warnings.catch_warnings():
        # Repeats that agree to the last digit make scipy warn about precision;
        # the test is still well defined when the other side varies.
        warnings.simplefilter("ignore", RuntimeWarning)
        result = scipy_stats.ttest_ind(a_values, b_values, equal_var=False)
    p_value = float(result.pvalue)
    if not math.isfinite(p_value):
        return Comparison(ratio, None, False, "not significant (no variance to test)")
    significant = bool(p_value < alpha)
    return Comparison(
        ratio, p_value, significant, "significant" if significant else "not significant"
    )
