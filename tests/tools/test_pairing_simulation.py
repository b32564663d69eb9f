"""tools/pairing_simulation.py: the paired interval on a drifting host, known ratio.

Seeded PCG64 and elementwise arithmetic: the same figures on every machine.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import pairing_simulation as sim  # noqa: E402


def test_paired_intervals_cover_the_true_ratio_and_are_narrower_than_unpaired():
    unpaired = sim.summarise(200, seed=3, paired=False, minimum=9, target=None, most=9)
    paired = sim.summarise(200, seed=3, paired=True, minimum=9, target=None, most=9)
    assert paired.coverage >= 0.93 and unpaired.coverage >= 0.93
    assert paired.median_width < unpaired.median_width / 2


def test_the_stopping_rule_keeps_coverage_and_stops_near_the_target():
    found = sim.summarise(300, seed=4, paired=True, minimum=5, target=0.05, most=40)
    assert found.coverage >= 0.93
    assert found.median_width <= 0.05
    assert 5 <= found.median_passes < 40  # it stopped on the width, not on the cap


def test_the_host_drifts_as_this_machine_does():
    """Over an hour (450 windows of 8 s) one cell moves tens of percent."""
    import numpy as np

    host = sim.Host(np.random.default_rng(5))
    values = [host.window(0.0) for _ in range(450)]
    assert 1.2 < max(values) / min(values) < 3.0
