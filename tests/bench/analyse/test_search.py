"""The sustained-rate search against fake servers whose knee is known."""

import pytest

from bench.analyse import search

GRID = [50, 100, 200, 400, 800]


def run(knee: float, grid=GRID, hint=None, bound_from: float | None = None) -> search.Search:
    """A fake server that meets the objective at every rate up to ``knee``."""
    found = search.Search(grid, hint=hint)
    while (rate := found.next_rate()) is not None:
        if bound_from is not None and rate >= bound_from:
            found.record(rate, search.BOUND)
        else:
            found.record(rate, search.MET if rate <= knee else search.MISSED)
    return found


@pytest.mark.parametrize("knee", [51, 63, 77, 99, 150, 287, 333, 420, 555, 799])
def test_the_search_brackets_any_knee_within_five_percent_in_bounded_steps(knee):
    found = run(knee)
    assert found.lower <= knee < found.upper
    assert found.upper <= found.lower * 1.05 + 1  # a whole rate: at most one above 5%
    # the grid from its middle (at most 3 steps here) and 4 halvings of a factor 2
    assert len(found.trials) <= 3 + 4
    assert len(found.trials) <= search.most_trials(GRID)


def test_a_knee_off_the_grid_is_said_as_such():
    above = run(5000)
    assert (above.lower, above.upper) == (800, None)
    below = run(10)
    assert (below.lower, below.upper) == (0, 50)
    assert [rate for rate, _ in below.trials] == [200, 100, 50]


def test_the_previous_bracket_costs_two_trials_when_the_knee_stayed():
    first = run(287)
    hint = (first.lower, first.upper)
    again = run(287, hint=hint)
    assert len(again.trials) == 2 and (again.lower, again.upper) == hint
    moved = run(120, hint=hint)  # the knee fell far below: found again, as finely
    assert moved.lower <= 120 < moved.upper <= moved.lower * 1.05 + 1
    assert len(moved.trials) <= search.most_trials(GRID)


def test_a_load_generator_bound_trial_ends_the_search_and_is_never_met():
    found = run(5000, bound_from=400)
    assert found.ended == "load generator bound at 400/s"
    assert found.next_rate() is None
    assert (found.lower, found.upper) == (200, 400)
    assert all(outcome != search.MET for rate, outcome in found.trials if rate >= 400)


def test_bisection_steps():
    assert search.bisection_steps(50, 100) == 4  # 2 ** (1 / 16) = 1.044 <= 1.05
    assert search.bisection_steps(100, 104) == 0
