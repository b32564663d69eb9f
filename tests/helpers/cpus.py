"""Tests that need the CPUs to themselves, when the suite runs in several workers.

A test marked ``alone`` measures with the kernel's own accounting (a child's
CPU in its exit record is sampled at the scheduler's tick, and on saturated
CPUs a burn of 150 ms can read 60 ms). Under pytest-xdist every test holds a
shared lock for its setup, call and teardown; an ``alone`` test holds it
exclusively, so the other workers wait between tests while it runs. A
turnstile in front keeps a stream of shared holders from starving it.
"""

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def held(lock: Path, alone: bool) -> Iterator[None]:
    """Hold ``lock`` shared, or exclusively when ``alone``, while the block runs."""
    with open(lock.with_suffix(".turnstile"), "a") as gate, open(lock, "a") as cpus:
        fcntl.flock(gate, fcntl.LOCK_EX)
        if alone:
            fcntl.flock(cpus, fcntl.LOCK_EX)  # the others finish their current test
            fcntl.flock(gate, fcntl.LOCK_UN)
        else:
            fcntl.flock(gate, fcntl.LOCK_UN)
            fcntl.flock(cpus, fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(cpus, fcntl.LOCK_UN)
