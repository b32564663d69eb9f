"""The comparison of two runs: B against A per shared cell, with the ratio and
whether it is significant, for bench compare."""

from pathlib import Path

# common first: it selects matplotlib's Agg backend before pyplot is imported.
from bench.report.charts import common

# isort: split
import matplotlib.pyplot as plt

from bench.analyse import stats
from bench.results.rows import ComparisonRow


def comparison(a, b, rows: list[ComparisonRow], stem: Path) -> list[Path]:
    """Side by side, A and B, per shared cell: throughput, p99 and CPU per request."""
    import numpy as np

    metrics = (
        ("throughput", "requests per second"),
        ("p99", "p99 response time (ms)"),
        ("CPU/request", "server CPU ms per request"),
    )
    height = max(len(rows) * 0.45 + 1.5, 3)
    figure, axes = plt.subplots(1, 3, figsize=(15, height), sharey=True)
    positions = np.arange(len(rows))[::-1]
    for axis, (name, xlabel) in zip(axes, metrics, strict=True):
        for offset, side, colour in ((0.2, "a", "#9e9e9e"), (-0.2, "b", "#1f77b4")):
            # No bar for a percentile its repeats had too few samples for.
            index = 0 if side == "a" else 1
            values = [
                float(np.median(r.values[name][index]))
                if r.values[name][index] and stats.TOO_FEW_SAMPLES not in r.metrics[name].verdict
                else 0.0
                for r in rows
            ]
            axis.barh(
                positions + offset,
                values,
                height=0.38,
                color=colour,
                label=f"{'A' if side == 'a' else 'B'}: {(a if side == 'a' else b).path.name}",
            )
        for y, row in zip(positions, rows, strict=True):
            metric = row.metrics[name]
            if stats.TOO_FEW_SAMPLES in metric.verdict:
                axis.annotate(
                    stats.TOO_FEW_SAMPLES,
                    (0, y),
                    xytext=(3, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize=7,
                    color="#666666",
                )
            elif metric.ratio is not None:
                # One repeat is no evidence either way: never marked "not significant".
                mark = "" if metric.significant else (" ns" if metric.tested else " not tested")
                axis.annotate(
                    f"x{metric.ratio:.2f}{mark}",
                    (0, y),
                    xytext=(3, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize=7,
                )
        axis.set_xlabel(xlabel)
        axis.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(
        positions,
        [r.cell + (" (bound)" if r.loadgen_bound else "") for r in rows],
        fontsize=7,
    )
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="upper center", ncol=2, frameon=False, fontsize=8)
    figure.suptitle(
        "B against A per shared cell (bars: medians; x: B/A of geometric means; "
        "ns: not significant after Holm)",
        y=1.02,
    )
    figure.tight_layout(rect=(0, 0, 1, 0.95))
    return common.save(figure, stem)
