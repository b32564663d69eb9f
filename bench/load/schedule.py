"""When open-loop requests fall due, and how many users it takes to send them.

Pure arithmetic, shared by the harness (which sizes the pool of a cell) and
by the locust side (``open_loop``, which sends the schedule): no locust or
gevent import here, so the harness can use it without monkey-patching itself.
"""

import math
import random
from collections.abc import Iterator

SCHEDULES = ("uniform", "poisson")


def due_times(
    rate: float, start: float, schedule: str, index: int = 0, count: int = 1, seed: int = 0
) -> Iterator[float]:
    """The due times (same clock as ``start``) of one process's share of the schedule."""
    if rate <= 0 or count < 1 or not 0 <= index < count:
        raise ValueError(f"bad schedule: rate {rate}, process {index} of {count}")
    if schedule == "uniform":
        k = index
        while True:
            yield start + k / rate
            k += count
    elif schedule == "poisson":
        # Each process draws its own Poisson stream at rate / count: the
        # superposition of independent Poisson streams is Poisson at rate.
        rng = random.Random(seed * 1_000_003 + index)
        at = start
        while True:
            at += rng.expovariate(rate / count)
            yield at
    else:
        raise ValueError(f"unknown schedule {schedule!r}; valid: {', '.join(SCHEDULES)}")


def pool_size(rate: float, in_flight_s: float = 0.5, minimum: int = 10) -> int:
    """The users that send a schedule: enough for every request in flight for
    up to ``in_flight_s`` (Little's law: in flight = rate x time in the system).

    Each user holds one keep-alive connection, so a larger pool would load the
    server with idle connections it did not ask for (gthread serves at most
    1,000). A server slower than this runs the pool dry: due requests then wait
    for a user, that wait counts in their latency (it is measured from the due
    time), and those that wait past the late bound are dropped and counted.
    """
    return max(minimum, math.ceil(rate * in_flight_s))


P99_SAMPLES = 1000  # bench.analyse.stats.min_samples(0.99): the requests that back a p99
WINDOW_MARGIN = 1.15  # a Poisson count of 1,150 falls below 1,000 4.4 sd from its mean


def window_for(rate: float, duration: float) -> float:
    """The window an open-loop cell at ``rate`` is measured over: at least
    ``duration``, and long enough for its p99 to be backed, so the sustained
    rate is judged by one criterion, a p99, at every rate the search tries."""
    return max(duration, math.ceil(10 * WINDOW_MARGIN * P99_SAMPLES / rate) / 10)
