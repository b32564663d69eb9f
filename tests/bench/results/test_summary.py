"""The summary a cell's JSON keeps of each metric over its repeats."""

import pytest

from bench.results.summary import repeat_summary


def test_repeat_summary_median_and_spread():
    summary = repeat_summary([100.0, 110.0, 90.0, None])
    assert summary["n"] == 3 and summary["median"] == 100.0
    assert summary["spread_pct"] == pytest.approx(20.0)
    assert summary["rsd_pct"] == pytest.approx(10.0)
    assert repeat_summary([None])["median"] is None
