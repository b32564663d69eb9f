"""Figures as text: a value that rounds to zero never carries a minus sign."""

import pytest

from bench.numbers import fmt


@pytest.mark.parametrize(
    ("value", "spec", "expected"),
    [
        (-1e-17, "{:.2f}", "0.00"),
        (-0.0, "{:.1f}", "0.0"),
        (-0.004, "{:+.1f}%", "+0.0%"),
        (-0.4, "{:+.0f}%", "+0%"),
        (-0.06, "{:.1f}", "-0.1"),
        (-1234.5, "{:,.0f}", "-1,234"),
        (-1e-5, "{:.1e}", "-1.0e-05"),
        (2.5, "{:.2f}", "2.50"),
        (None, "{:.2f}", "-"),
        (float("-inf"), "{:.1f}", "-inf"),
    ],
)
def test_a_value_that_rounds_to_zero_has_no_sign(value, spec, expected):
    assert fmt(value, spec) == expected


def test_none_prints_as_asked():
    assert fmt(None, "{:.1f}", none="unknown") == "unknown"
