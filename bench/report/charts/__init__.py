"""matplotlib charts, written as PNG and SVG side by side, one module per family.

- common: what every chart shares (saving, cell labels, percentile lookups,
  legends, panel layout); it selects the Agg backend, so each module below
  imports it before pyplot.
- forest: the answer's headline ratios with their intervals on a log axis.
- cells: one row per cell of a run (metric bars, latency percentiles, switches).
- sweeps: throughput and p99 against the number of users (closed loop), and
  latency from the due time against the offered rate (open loop).
- switches: the fit of server CPU per request against switches per request.
- comparison: run B against run A per shared cell, for bench compare.
- soak: a long run minute by minute, for bench soak.

CHARTS names every chart so that a job can ask for one by a string, which
pickles into bench.report.build's forked workers.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.report.charts import cells, comparison, forest, soak, sweeps, switches

CHARTS: dict[str, Callable[..., list[Path]]] = {
    "forest": forest.forest,
    "cell_bars": cells.cell_bars,
    "latency_chart": cells.latency_chart,
    "hops_chart": cells.hops_chart,
    "sweep_chart": sweeps.sweep_chart,
    "rate_sweep_chart": sweeps.rate_sweep_chart,
    "switch_fit": switches.switch_fit,
    "comparison": comparison.comparison,
    "soak_chart": soak.soak_chart,
}


def draw(name: str, *args: Any) -> list[Path]:
    """Draw the chart called ``name`` in CHARTS; the paths it wrote (PNG and SVG)."""
    return CHARTS[name](*args)
