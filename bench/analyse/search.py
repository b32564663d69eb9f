"""The sustained-rate search of one configuration in one pass: where is its knee?

Pure logic, no measurement: the run asks ``next_rate``, measures one open-loop
repeat at that rate, and tells ``record`` whether it met the objective. The
search first brackets the knee on the scenario's grid of rates (a rate met,
the next one up not), then bisects that bracket in log rate until its upper
end is within ``RESOLUTION`` of its lower end. The headline of the pass is the
bracket's lower end, the highest rate measured to meet the objective, so a
pass scored 400 means "somewhere in [400, 420)", not "in [400, 800)".

A pass may start from the previous pass's bracket (``hint``): it measures
both of its ends, and if the knee moved it walks the grid from there. The
bracket is then re-established by this pass's own measurements; the hint only
saves the trials a fresh start would spend finding it.

A load-generator-bound trial ends the search: the rate could not be offered,
so nothing above the last rate met is known.
"""

import itertools
import math
from dataclasses import dataclass, field

from bench.results.rows import PassResult

RESOLUTION = 0.05  # the bracket's upper end within 5% of its lower end
MET, MISSED, BOUND = "met", "missed", "bound"


def bisection_steps(low: float, high: float, resolution: float = RESOLUTION) -> int:
    """Halvings (in log rate) that shrink [low, high] to within ``resolution``."""
    if high <= low * (1 + resolution):
        return 0
    return math.ceil(math.log2(math.log(high / low) / math.log1p(resolution)))


def most_trials(grid: list[int], resolution: float = RESOLUTION) -> int:
    """An upper bound on the trials of one search: hint ends, the whole grid,
    and the bisection of its widest gap."""
    widest = max((b / a for a, b in itertools.pairwise(grid)), default=1.0)
    return 2 + len(grid) + bisection_steps(1.0, widest, resolution)


@dataclass
class Search:
    """One configuration's search in one pass."""

    grid: list[int]  # the scenario's rates, ascending
    hint: tuple[int, int | None] | None = None  # the previous pass's (lower, upper)
    resolution: float = RESOLUTION
    trials: list[tuple[int, str]] = field(default_factory=list)
    ended: str | None = None  # why the search stopped early (load generator bound)

    def __post_init__(self) -> None:
        self.grid = sorted(set(self.grid))
        if not self.grid:
            raise ValueError("a search needs at least one rate")
        self._limit = most_trials(self.grid, self.resolution)

    @property
    def lower(self) -> int:
        """The highest rate met below every rate missed (0: none met)."""
        ceiling = self.upper
        met = [
            r for r, outcome in self.trials if outcome == MET and (ceiling is None or r < ceiling)
        ]
        return max(met, default=0)

    @property
    def upper(self) -> int | None:
        """The lowest rate missed or bound (None: none yet)."""
        missed = [r for r, outcome in self.trials if outcome != MET]
        return min(missed, default=None)

    @property
    def done(self) -> bool:
        return self.next_rate() is None

    def record(self, rate: int, outcome: str) -> None:
        if outcome not in (MET, MISSED, BOUND):
            raise ValueError(f"unknown outcome {outcome!r}")
        self.trials.append((rate, outcome))
        if outcome == BOUND:
            self.ended = f"load generator bound at {rate}/s"

    def next_rate(self) -> int | None:
        """The next rate to measure, or None when the search is over."""
        if self.ended or len(self.trials) >= self._limit:
            return None
        tried = {rate for rate, _ in self.trials}
        low, high = self.lower, self.upper
        if self.hint is not None and self.hint[0]:
            for end in self.hint:
                # Each end of the previous bracket, unless this pass already
                # knows where it falls.
                if end is None or end in tried:
                    continue
                if (high is None or end < high) and end > low:
                    return end
        if high is None:
            above = [r for r in self.grid if r > low]
            if not above:
                return None  # met at the top of the grid: "at least" that
            # From the grid's middle at first; upwards after a rate met.
            return above[0] if low else self.grid[(len(self.grid) - 1) // 2]
        if not low:
            below = [r for r in self.grid if r < high]
            return below[-1] if below else None  # missed at the bottom: "below" it
        if high <= low * (1 + self.resolution):
            return None
        middle = round(math.sqrt(low * high))
        if middle <= low or middle >= high:
            return None  # neighbouring whole rates: as fine as a rate can be
        return middle

    def bracket(self) -> PassResult:
        """The pass's bracket."""
        low, high = self.lower, self.upper
        return PassResult(
            lower=low,
            upper=high,
            resolution=(high / low - 1) if low and high else None,
            trials=[[rate, outcome] for rate, outcome in self.trials],
            ended=self.ended,
        )

    def result(self) -> dict:
        """The pass's bracket, JSON-ready (run.json's ``searches``)."""
        return self.bracket().to_json()


def expected_trials(grid: list[int], passes: int, resolution: float = RESOLUTION) -> int:
    """About how many trials a sweep's searches take over ``passes`` passes, for
    the run's time estimate: the first pass walks half the grid from its middle
    and bisects one gap; each later pass measures its hint's two ends."""
    grid = sorted(set(grid))
    widest = max((b / a for a, b in itertools.pairwise(grid)), default=1.0)
    first = (len(grid) + 1) // 2 + 1 + bisection_steps(1.0, widest, resolution)
    return min(first, most_trials(grid, resolution)) + 2 * max(passes - 1, 0)
