"""Instructions per request by cell and release: a cost run's one chart.

Bars grouped by cell (server, view style, stack), one bar per release in
the order the run measured them, so what a release did to a request's cost
reads left to right within each group. The counts are exact to a fraction
of a percent (the repeats' spread is in the table beside the chart), so
the bars carry no error bars; each is labelled with its figure.
"""

from pathlib import Path

# common first: it selects matplotlib's Agg backend before pyplot is imported.
from bench.report.charts import common

# isort: split
import matplotlib.pyplot as plt

Bar = tuple[str, str, float]  # group (the cell), release, instructions per request


def by_release(bars: list[Bar], title: str, stem: Path) -> list[Path]:
    """Draw ``bars``: millions of instructions per request, grouped by cell."""
    groups = list(dict.fromkeys(group for group, _, _ in bars))
    releases = list(dict.fromkeys(release for _, release, _ in bars))
    values = {(group, release): value for group, release, value in bars}
    width = 0.8 / max(len(releases), 1)
    figure, axis = plt.subplots(figsize=(max(6.0, 1.6 * len(groups) + 2), 4.2))
    for index, release in enumerate(releases):
        xs, heights = [], []
        for position, group in enumerate(groups):
            if (group, release) in values:
                xs.append(position - 0.4 + width * (index + 0.5))
                heights.append(values[(group, release)] / 1e6)
        drawn = axis.bar(xs, heights, width=width * 0.95, label=release or "this environment")
        axis.bar_label(drawn, fmt="%.2f", fontsize=7, padding=2)
    axis.set_xticks(range(len(groups)), groups, fontsize=8, rotation=15, ha="right")
    axis.set_ylabel("million instructions per request", fontsize=8)
    axis.grid(axis="y", alpha=0.3)
    if len(releases) > 1 or releases[0]:
        axis.legend(fontsize=8, frameon=False)
    axis.set_title(title, fontsize=10)
    figure.tight_layout()
    return common.save(figure, stem)
