"""Paired blocks and the stopping rule on a simulated noisy host, with known ratios.

``python tools/pairing_simulation.py [--runs N] [--seed S]`` prints, for a
host that drifts like this one, how often the 95% intervals of the harness's
own statistics (``bench.analyse.stats``) cover the true ratio, and how wide
they are: unpaired (Welch over repeats, cells at random places in a pass) and
paired (the two cells back to back, the paired t interval), at the planned
passes and after the stopping rule (``bench.run.stopping``) has added passes
until the interval is within the target.

The host. A cell's log figure in a window is its true value, plus the host's
state at that moment, plus the window's own noise:
- a slow walk: the same cell moves 20-45% within an hour here (FACTS.md);
  a random walk of 0.014 per 8 s window has a standard deviation of 30% over
  an hour;
- tenants that come and go: with chance 1/40 per window a shift of sd 20%
  starts and lasts 20 windows on average (about 160 s); that gives repeats of
  one run up to 60-70% apart, as measured;
- window noise of 10%, independent between windows: adjacent windows of two
  cells in ``make bench`` (docs/runs/20261202T154021Z-bench) correlated
  0.5-0.85 and their log ratio still had a standard deviation of 0.16.
A pass measures ``CELLS`` windows; a pair's two cells are either adjacent or
anywhere in it. Numbers come from numpy's seeded PCG64 and elementwise
arithmetic only, so a seed gives the same figures on every machine.
"""

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.analyse.stats import compare, compare_paired, half_width

CELLS = 30  # windows per planned pass: make bench's closed-loop cells
EXTRA_CELLS = 5  # windows per added pass: make bench's two unmet blocks (3 and 2 cells)
WALK = 0.014
SHIFT_CHANCE, SHIFT_SD, SHIFT_MEAN_WINDOWS = 1 / 40, 0.20, 20
NOISE = 0.10
TRUE_LOG_RATIO = math.log(1.5)


@dataclass
class Host:
    """The host's state (a log offset) window after window."""

    rng: np.random.Generator
    walk: float = 0.0
    shift: float = 0.0
    left: int = 0

    def next(self) -> float:
        """The offset of the next window."""
        self.walk += self.rng.normal(0.0, WALK)
        if self.left > 0:
            self.left -= 1
            if self.left == 0:
                self.shift = 0.0
        elif self.rng.random() < SHIFT_CHANCE:
            self.shift = self.rng.normal(0.0, SHIFT_SD)
            self.left = int(self.rng.geometric(1 / SHIFT_MEAN_WINDOWS))
        return self.walk + self.shift

    def window(self, true_log: float) -> float:
        return math.exp(true_log + self.next() + self.rng.normal(0.0, NOISE))


def one_pass(host: Host, paired: bool, cells: int) -> tuple[float, float]:
    """(A, B) of one pass of ``cells`` windows; the others measure other cells."""
    order = list(range(cells))
    if paired:
        start = int(host.rng.integers(0, cells - 1))
        first, second = (start, start + 1) if host.rng.random() < 0.5 else (start + 1, start)
    else:
        first, second = (int(i) for i in host.rng.choice(order, size=2, replace=False))
    a = b = 0.0
    for slot in order:
        if slot == first:
            a = host.window(0.0)
        elif slot == second:
            b = host.window(TRUE_LOG_RATIO)
        else:
            host.next()
    return a, b


@dataclass
class Outcome:
    covered: bool
    width: float
    passes: int


def interval(pairs: list[tuple[float, float]], paired: bool) -> tuple[float, float]:
    """The harness's own 95% interval of B / A over these passes."""
    if paired:
        found = compare_paired(pairs)
    else:
        found = compare([a for a, _ in pairs], [b for _, b in pairs])
    return found.ci_low, found.ci_high


def simulate(rng: np.random.Generator, paired: bool, minimum: int, target: float | None,
             most: int) -> Outcome:  # fmt: skip
    """One run: ``minimum`` planned passes, then (with a target) the rule of
    ``bench.run.stopping``: while the half-width is above ``target``, add as
    many passes as there are pairs (an added pass measures only the blocks
    still too wide) and look again, until ``most`` passes are spent."""
    host = Host(rng)
    pairs = [one_pass(host, paired, CELLS) for _ in range(minimum)]
    low, high = interval(pairs, paired)
    while target is not None and half_width(low, high) > target and len(pairs) < most:
        for _ in range(min(len(pairs), most - len(pairs))):
            pairs.append(one_pass(host, paired, EXTRA_CELLS if paired else CELLS))
        low, high = interval(pairs, paired)
    truth = math.exp(TRUE_LOG_RATIO)
    return Outcome(low <= truth <= high, half_width(low, high), len(pairs))


@dataclass
class Summary:
    coverage: float
    median_width: float
    median_passes: float


def summarise(runs: int, seed: int, paired: bool, minimum: int, target: float | None,
              most: int) -> Summary:  # fmt: skip
    rng = np.random.default_rng(seed)
    outcomes = [simulate(rng, paired, minimum, target, most) for _ in range(runs)]
    return Summary(
        coverage=sum(o.covered for o in outcomes) / runs,
        median_width=float(np.median([o.width for o in outcomes])),
        median_passes=float(np.median([o.passes for o in outcomes])),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--minimum", type=int, default=10)
    parser.add_argument("--target", type=float, default=0.05)
    parser.add_argument("--most", type=int, default=80)
    args = parser.parse_args()
    print(f"{args.runs} simulated runs each, true ratio x1.5, seed {args.seed}")
    print("| design | passes | coverage of the 95% interval | median half-width |")
    print("|---|---|---:|---:|")
    for paired in (False, True):
        name = "paired, back to back" if paired else "unpaired, anywhere in the pass"
        for minimum, target in ((9, None), (args.minimum, args.target)):
            found = summarise(args.runs, args.seed, paired, minimum, target, args.most)
            passes = (
                f"{minimum} planned"
                if target is None
                else f"{minimum} + rule (+-{target:.0%}, at most {args.most}); "
                f"median {found.median_passes:g}"
            )
            print(f"| {name} | {passes} | {found.coverage:.1%} | {found.median_width:.1%} |")


if __name__ == "__main__":
    main()
