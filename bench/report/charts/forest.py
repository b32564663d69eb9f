"""The forest plot under a report's answer: each headline ratio with its interval.

One row per ratio of the answer's sentences (bench.report.answer), the ratio
candidate / baseline as the verdicts computed it, on a log axis so that x2 and
x0.5 stand equally far from 1. A filled marker is significant after Holm, a
hollow one is not; a ratio with no test (one repeat) is a cross with no
interval. The figure of each row is written at its right.
"""

from pathlib import Path

# common first: it selects matplotlib's Agg backend before pyplot is imported.
from bench.report.charts import common

# isort: split
import matplotlib.pyplot as plt
from matplotlib.lines import Line2D

Point = tuple[str, float, float | None, float | None, str, str]
COLOURS = {"significant": "#1f4e79", "not significant": "#888888", "not tested": "#b36b00"}


def _bounds(points: list[Point]) -> tuple[float, float]:
    """The axis's range: every ratio and interval end, and 1, with a margin."""
    values = [v for _, ratio, low, high, _, _ in points for v in (ratio, low, high) if v]
    low, high = min([*values, 1.0]), max([*values, 1.0])
    return low / 1.4, high * 1.4


def forest(
    points: list[Point], candidate: str, baseline: str, label: str, stem: Path
) -> list[Path]:
    """Draw the ratios ``points`` (bench.report.answer.forest_points) candidate / baseline."""
    height = 0.42 * max(len(points), 1) + 1.3
    figure, axis = plt.subplots(figsize=(10, height))
    positions = list(range(len(points)))[::-1]
    for y, (_, ratio, low, high, judged, text) in zip(positions, points, strict=True):
        colour = COLOURS[judged]
        if low is not None and high is not None:
            axis.hlines(y, low, high, color=colour, linewidth=2)
        marker = "x" if judged == "not tested" else "o"
        face = colour if judged == "significant" else "white"
        axis.plot(
            ratio, y, marker=marker, markersize=8, color=colour, markerfacecolor=face, zorder=3
        )
        axis.annotate(
            text,
            xy=(1.01, y),
            xycoords=("axes fraction", "data"),
            va="center",
            fontsize=8,
            color=colour,
        )
    axis.axvline(1.0, color="black", linewidth=0.8)
    axis.set_xscale("log")
    axis.set_xlim(*_bounds(points))
    common.plain_log_ticks(axis)
    axis.set_yticks(positions, [point[0] for point in points], fontsize=8)
    axis.set_ylim(-0.7, len(points) - 0.3)
    axis.grid(axis="x", alpha=0.3, which="both")
    axis.set_xlabel(
        f"{candidate} / {baseline} (log scale): right of 1, {candidate} has more of it",
        fontsize=8,
    )
    handles = [
        Line2D([], [], marker="o", color=COLOURS["significant"], label="significant (Holm)"),
        Line2D(
            [],
            [],
            marker="o",
            color=COLOURS["not significant"],
            markerfacecolor="white",
            label="no difference shown",
        ),
        Line2D([], [], marker="x", linestyle="", color=COLOURS["not tested"], label="not tested"),
    ]
    # the legend sits right above the axes, the title above the legend
    axis.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncol=3,
        frameon=False,
        fontsize=8,
    )
    axis.set_title(f"Verdict ratios with 95% intervals - {label}", fontsize=10, pad=26)
    figure.tight_layout()
    return common.save(figure, stem)
