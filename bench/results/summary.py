"""The summary a cell's JSON keeps of each metric over its repeats.

It is part of the cell document's shape (``summary.<metric>``), so it lives
with the records rather than with the statistics that compare cells.
"""

import math
from collections.abc import Sequence

import numpy as np


def repeat_summary(values: Sequence[float | None]) -> dict[str, float | int | None]:
    """Median and spread of one metric over repeats (None values are skipped).

    ``spread_pct`` is (max - min) / median; ``rsd_pct`` the relative standard
    deviation. Both say how far a single repeat could be trusted.
    """
    data = np.array([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if data.size == 0:
        return {
            "n": 0,
            "median": None,
            "mean": None,
            "min": None,
            "max": None,
            "stdev": None,
            "spread_pct": None,
            "rsd_pct": None,
        }
    median = float(np.median(data))
    stdev = float(data.std(ddof=1)) if data.size > 1 else 0.0
    mean = float(data.mean())
    return {
        "n": int(data.size),
        "median": median,
        "mean": mean,
        "min": float(data.min()),
        "max": float(data.max()),
        "stdev": stdev,
        "spread_pct": float((data.max() - data.min()) / median * 100) if median else None,
        "rsd_pct": float(stdev / mean * 100) if mean else None,
    }
