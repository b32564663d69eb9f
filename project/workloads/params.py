"""Query parameters, clamped so that no input can make a view fail.

TechEmpower's rule: a value that is not an integer means the default, and an
out-of-range value is clamped to the range.
"""

import random
from dataclasses import dataclass

from django.http import HttpRequest


@dataclass(frozen=True)
class Bounds:
    default: int
    low: int
    high: int

    def clamp(self, raw: str | None) -> int:
        """The value of ``raw`` within these bounds (the default when not an integer)."""
        if raw is None:
            return self.default
        try:
            value = int(raw.strip(), 10)
        except ValueError:
            return self.default
        return min(max(value, self.low), self.high)


COUNT = Bounds(default=1, low=1, high=500)
IO_MS = Bounds(default=50, low=0, high=10_000)
UPSTREAM_MS = Bounds(default=10, low=0, high=10_000)
STREAM_MS = Bounds(default=0, low=0, high=10_000)
CHUNKS = Bounds(default=10, low=1, high=1000)
DISCONNECT_MS = Bounds(default=5000, low=0, high=10_000)
BURN_MS = Bounds(default=5, low=0, high=1000)
# Iterations of a fixed pure-Python loop (the cost mode's known answer).
LOOPS = Bounds(default=1000, low=0, high=10_000_000)
# Extra sync<->async hops a view makes (the cost of one hop, counted).
HOPS = Bounds(default=1, low=0, high=1000)
DB_BURN_MS = Bounds(default=5, low=0, high=1000)  # ms of the database backend's CPU
# Held connections: one event every EVENT_MS (sse, longpoll), for STREAM_SECONDS (sse).
EVENT_MS = Bounds(default=1000, low=10, high=60_000)
STREAM_SECONDS = Bounds(default=10, low=0, high=3600)
SEED = Bounds(default=-1, low=0, high=2**32 - 1)

# A plain generator: SystemRandom would make a getrandom() system call per row
# drawn, work in the measured path that the benchmark does not mean to measure.
_shared_rng = random.Random()


def int_param(request: HttpRequest, name: str, bounds: Bounds) -> int:
    """The clamped integer query parameter ``name``."""
    return bounds.clamp(request.GET.get(name))


def rng_for(request: HttpRequest) -> random.Random:
    """A generator seeded by ``?seed=`` (so that both view styles draw the same
    rows), or the shared unseeded one."""
    raw = request.GET.get("seed")
    if raw is None or SEED.clamp(raw) == SEED.default:
        return _shared_rng
    return random.Random(SEED.clamp(raw))
