"""The soak chart: a long run minute by minute, to show drift in throughput,
p99 and server memory."""

from pathlib import Path

# common first: it selects matplotlib's Agg backend before pyplot is imported.
from bench.report.charts import common

# isort: split
import matplotlib.pyplot as plt

from bench.results.records.soak import SoakDocument


def soak_chart(analysis: SoakDocument, label: str, stem: Path) -> list[Path]:
    """Throughput, p99, errors and server RSS minute by minute."""
    minutes = analysis.minutes
    x = [m.minute for m in minutes]
    figure, axes = plt.subplots(1, 3, figsize=(14, 4))
    series = (
        ("throughput_rps", "requests per second", "#1f77b4"),
        ("p99_ms", "p99 response time (ms)", "#d62728"),
        ("rss_peak_mb", "server peak RSS (MiB)", "#2ca02c"),
    )
    for axis, (key, ylabel, colour) in zip(axes, series, strict=True):
        values = [getattr(m, key) for m in minutes]
        values = [value if value is not None else float("nan") for value in values]
        axis.plot(x, values, marker="o", color=colour, label=ylabel)
        axis.set_xlabel("minute of the soak")
        axis.set_ylabel(ylabel)
        axis.set_ylim(bottom=0)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8, loc="lower right")
    errors = sum(m.errors for m in minutes)
    flags = "; ".join(analysis.flags) or "no flags"
    figure.suptitle(f"Soak of {analysis.cell}: {errors} errors, {flags} - {label}", fontsize=10)
    figure.tight_layout()
    return common.save(figure, stem)
