"""bench.results.rows: the typed rows keep the JSON shape they had as dicts."""

from bench.results.rows import ComparisonRow, Metric, VerdictRow

METRIC = {
    "ratio": 1.5,
    "ci_low": 1.2,
    "ci_high": 1.8,
    "n_a": 3,
    "n_b": 3,
    "p_value": 0.01,
    "p_holm": 0.02,
    "significant": True,
    "verdict": "significant",
}


def test_a_metric_round_trips_and_keeps_its_key_order():
    metric = Metric.from_json(METRIC)
    assert list(metric.to_json().items()) == list(METRIC.items())
    assert metric.tested and not Metric.from_json({**METRIC, "p_value": None}).tested


def test_a_verdict_row_writes_only_the_keys_its_kind_had():
    compared = VerdictRow("q", "b", "a", False, {"p99": Metric.from_json(METRIC)}, False)
    assert list(compared.to_json()) == [
        "question",
        "candidate",
        "baseline",
        "loadgen_bound",
        "cpu_includes_database",
        "metrics",
    ]
    failed = VerdictRow("q", "b", "a", False, failed={"b": "failed every repeat"})
    assert failed.to_json() == {
        "question": "q",
        "candidate": "b",
        "baseline": "a",
        "loadgen_bound": False,
        "metrics": {},
        "failed": {"b": "failed every repeat"},
    }


def test_a_comparison_row_keeps_the_repeat_values_before_the_ratio():
    row = ComparisonRow("cell", True, {"p99": Metric.from_json(METRIC)}, {"p99": ([1.0], [2.0])})
    data = row.to_json()
    assert list(data["metrics"]["p99"])[:3] == ["a", "b", "ratio"]
    assert data["metrics"]["p99"]["b"] == [2.0] and data["loadgen_bound"] is True
